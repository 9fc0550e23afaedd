/*
 * Plugins inherit the environment as it was at network_module_init: a variable the daemon sets
 * (or unsets) afterwards, from any thread, is not seen until the next network_module_init. The
 * recording plugin (examples/cni_recorder.rs) is every plugin, loopback included, and logs the
 * environment of each call; the netns path is a made-up string.
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isulad_host.h"
#include "network_api.h"
#include "testlib.h"

#define CRI NETWOKR_API_TYPE_CRI

static struct tl_env g_env;
static char *g_netns;

/* The recorder's log of plugin snap-plug, then removed: the next round starts empty. */
static char *take_log(void)
{
    char *path = tl_asprintf("%s/snap-plug.calls.jsonl", g_env.bin);
    char *text = tl_read_file(path);
    unlink(path);
    free(path);
    return text != NULL ? text : tl_strdup("");
}

/* Attach + detach of one pod; the plugin's log of both. */
static char *round_trip(const char *pod)
{
    network_api_conf *conf = tl_pod_conf(pod, g_netns, "name", "ns", false);
    network_api_result_list *result = NULL;
    CHECKF(network_module_attach(conf, CRI, &result) == 0, "attach %s: %s", pod, tl_errmsg_text());
    free_network_api_result_list(result);
    tl_detach_ok(conf, CRI, true, TL_HERE);
    free_network_api_conf(conf);
    return take_log();
}

/* Every one of the calls in log (ADD and DEL) has `entry` in its environment, or none has. */
static void check_env(const char *log, const char *entry, bool present, int line)
{
    size_t calls = 0, with = 0;
    for (const char *p = log; (p = strstr(p, "\"command\":")) != NULL; p++) {
        calls++;
    }
    for (const char *p = log; (p = strstr(p, entry)) != NULL; p++) {
        with++;
    }
    tl_check(calls == 2, __FILE__, line, "%zu plugin calls logged, expected ADD and DEL", calls);
    tl_check(with == (present ? calls : 0), __FILE__, line, "%s in %zu of %zu calls, expected %s", entry, with, calls,
             present ? "all" : "none");
}

int main(void)
{
    static const char *const plugins[] = { "loopback", "snap-plug", NULL };
    g_netns = tl_asprintf("/var/run/netns/env-snapshot-%ld", (long)getpid());
    bool ok = tl_env_init(&g_env, "env-snapshot", plugins, true, TL_HERE) &&
              tl_write_conf(TL_HERE, g_env.conf, "10-snap.conflist",
                            "{\"cniVersion\":\"1.0.0\",\"name\":\"snap-net\",\"plugins\":[{\"type\":\"snap-plug\"}]}");
    if (ok) {
        setenv("CLIBCNI_SNAP_BEFORE", "set-before-init", 1);
        ok = CHECK(network_module_init("cni", g_env.cache, g_env.conf, g_env.bin));
    }
    if (ok) {
        setenv("CLIBCNI_SNAP_AFTER", "set-after-init", 1);
        unsetenv("CLIBCNI_SNAP_BEFORE");
        char *log = round_trip("snap-pod-1");
        check_env(log, "\"CLIBCNI_SNAP_BEFORE\":\"set-before-init\"", true, __LINE__);
        check_env(log, "CLIBCNI_SNAP_AFTER", false, __LINE__);
        free(log);

        /* A new module takes a new snapshot. */
        network_module_exit();
        CHECK(network_module_init("cni", g_env.cache, g_env.conf, g_env.bin));
        log = round_trip("snap-pod-2");
        check_env(log, "\"CLIBCNI_SNAP_AFTER\":\"set-after-init\"", true, __LINE__);
        check_env(log, "CLIBCNI_SNAP_BEFORE", false, __LINE__);
        free(log);
        network_module_exit();
    }
    unsetenv("CLIBCNI_SNAP_AFTER");
    tl_clear_errmsg();
    tl_env_free(&g_env);
    free(g_netns);
    return test_summary("test_env_snapshot");
}
