/*
 * Helpers of the legacy clibcni API tests (test_legacy_*.c): fixture paths, a directory of fake
 * plugins, and runtime_conf values built as a caller of clibcni 2.1.0 builds them (calloc/strdup,
 * freed by the library's free_runtime_conf). Header-only; everything is static inline.
 */
#ifndef CLIBCNI_LEGACY_HELPERS_H
#define CLIBCNI_LEGACY_HELPERS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <clibcni/api.h>

#include "testlib.h"

/* The path of c-tests/legacy/<name>, found from this header's own path. */
static inline char *lg_fixture(const char *name)
{
    return tl_path_beside(__FILE__, name);
}

/* The fixture's whole text (malloc'd), or NULL. */
static inline char *lg_read_fixture(const char *name)
{
    char *path = lg_fixture(name);
    char *text = tl_read_file(path);
    free(path);
    return text;
}

/* A fresh temp directory holding copies (mode 0755) of the fake plugins of legacy/plugins, so
 * the test does not depend on the checkout keeping their executable bit. NULL on failure. */
static inline char *lg_fake_plugins(void)
{
    static const char *const files[] = { "bridge", "bridge-bad", "host-local", "loopback", "portmap", "common.sh" };
    char *dir = tl_tmpdir("legacy-bin");
    char *source = lg_fixture("plugins");
    bool ok = dir != NULL;
    for (size_t i = 0; ok && i < sizeof(files) / sizeof(files[0]); i++) {
        char *from = tl_asprintf("%s/%s", source, files[i]);
        char *to = tl_asprintf("%s/%s", dir, files[i]);
        ok = tl_copy_file(from, to) == 0 && chmod(to, 0755) == 0;
        free(from);
        free(to);
    }
    free(source);
    if (!ok) {
        free(dir);
        return NULL;
    }
    return dir;
}

/* A runtime_conf as a legacy caller allocates it. */
static inline struct runtime_conf *lg_rc_new(const char *container_id, const char *netns, const char *ifname)
{
    struct runtime_conf *rc = tl_nonnull(calloc(1, sizeof(*rc)));
    rc->container_id = tl_strdup(container_id);
    rc->netns = tl_strdup(netns);
    rc->ifname = tl_strdup(ifname);
    return rc;
}

/* Appends a CNI_ARGS pair {key, value}. */
static inline void lg_rc_add_arg(struct runtime_conf *rc, const char *key, const char *value)
{
    rc->args = tl_nonnull(realloc(rc->args, (rc->args_len + 1) * sizeof(*rc->args)));
    rc->args[rc->args_len][0] = tl_strdup(key);
    rc->args[rc->args_len][1] = tl_strdup(value);
    rc->args_len++;
}

/* Appends a port mapping (protocol and host_ip may be NULL). */
static inline void lg_rc_add_port(struct runtime_conf *rc, int32_t host_port, int32_t container_port,
                                  const char *protocol, const char *host_ip)
{
    struct cni_port_mapping *m = tl_nonnull(calloc(1, sizeof(*m)));
    m->host_port = host_port;
    m->container_port = container_port;
    m->protocol = tl_strdup(protocol);
    m->host_ip = tl_strdup(host_ip);
    rc->p_mapping = tl_nonnull(realloc(rc->p_mapping, (rc->p_mapping_len + 1) * sizeof(*rc->p_mapping)));
    rc->p_mapping[rc->p_mapping_len++] = m;
}

#endif /* CLIBCNI_LEGACY_HELPERS_H */
