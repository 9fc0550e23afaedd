/*
 * CRI attach/detach when plugins fail, with the recording plugin (examples/cni_recorder.rs) as
 * every plugin, loopback included (made-up netns path): a plugin error, a plugin that outlives the
 * timeout, a missing plugin binary, and a loopback DEL failure that must not stop the DEL of the
 * real networks. Each failing network is joined as an extra network on eth0 (it replaces the
 * default network), so one conf dir serves every case.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isulad_host.h"
#include "network_api.h"
#include "testlib.h"

#define CRI NETWOKR_API_TYPE_CRI
#define NET_OK "ccri-fail-ok"
#define NET_BOOM "ccri-fail-boom"
#define NET_SLOW "ccri-fail-slow"
#define NET_MISSING "ccri-fail-missing"
#define MISSING_PLUGIN "ccri-nosuch-plugin"

/* The pid the recorder logged for its last ADD call of plugin, or -1. */
static long last_add_pid(const struct tl_cri *e, const char *plugin)
{
    char *path = tl_asprintf("%s/%s.calls.jsonl", e->dirs.bin, plugin);
    char *text = tl_read_file(path);
    long pid = -1;
    for (char *save = NULL, *line = text == NULL ? NULL : strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        const char *p = strstr(line, "\"pid\":");
        if (strstr(line, "\"command\":\"ADD\"") != NULL && p != NULL) {
            pid = strtol(p + 6, NULL, 10);
        }
    }
    free(text);
    free(path);
    return pid;
}

static bool write_conf(const struct tl_cri *e, const char *file, const char *name, const char *plugins)
{
    return tl_write_conf(TL_HERE, e->dirs.conf, file, "{\"cniVersion\":\"1.0.0\",\"name\":\"%s\",\"plugins\":[%s]}",
                         name, plugins);
}

/* The networks, and how the failing plugins fail. */
static bool write_confs(const struct tl_cri *e)
{
    bool ok = write_conf(e, "10-ok.conflist", NET_OK, "{\"type\":\"okplug\"}");
    ok = write_conf(e, "20-boom.conflist", NET_BOOM, "{\"type\":\"okplug\"},{\"type\":\"boomplug\"}") && ok;
    ok = write_conf(e, "30-slow.conflist", NET_SLOW, "{\"type\":\"slowplug\"}") && ok;
    ok = write_conf(e, "40-missing.conflist", NET_MISSING, "{\"type\":\"okplug\"},{\"type\":\"" MISSING_PLUGIN "\"}") &&
         ok;
    tl_write_behavior(e->dirs.bin, "boomplug",
                      "{\"ADD\":{\"error\":{\"cniVersion\":\"1.0.0\",\"code\":7,\"msg\":\"boom\",\"details\":\"d\"}}}",
                      TL_HERE);
    tl_write_behavior(e->dirs.bin, "slowplug", "{\"ADD\":{\"sleep\":10}}", TL_HERE);
    return ok;
}

/* A pod whose only network is net (an extra network on eth0 replaces the default one). */
static network_api_conf *pod_conf(const struct tl_cri *e, const char *id, const char *net)
{
    network_api_conf *conf = tl_pod_conf(id, e->netns, "name", "ns", false);
    if (net != NULL) {
        tl_conf_add_extra(conf, net, "eth0");
    }
    return conf;
}

static int attach_fails(network_api_conf *conf)
{
    network_api_result_list *result = (network_api_result_list *)conf; /* any non-NULL value */
    tl_clear_errmsg();
    int rc = network_module_attach(conf, CRI, &result);
    CHECK_EQ_INT(rc, -1);
    CHECK(result == NULL);
    if (rc == 0) {
        free_network_api_result_list(result);
    }
    CHECK(tl_errmsg() != NULL);
    CHECK_EQ_STR(network_module_last_error(), tl_errmsg());
    return rc;
}

/* The error of the second plugin reaches both error channels; detach undoes the first plugin. */
static void plugin_error(const struct tl_cri *e, const char *id)
{
    network_api_conf *conf = pod_conf(e, id, NET_BOOM);
    attach_fails(conf);
    CHECKF(tl_contains(tl_errmsg(), "boom"), "g_isulad_errmsg: %s", tl_errmsg_text());
    CHECKF(tl_contains(network_module_last_error(), "boom"), "last error: %s",
           network_module_last_error() ? network_module_last_error() : "(none)");
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "okplug", "ADD", id), 1);
    CHECK(!tl_cache_exists(e->dirs.cache, NET_BOOM, id, "eth0"));
    tl_detach_ok(conf, CRI, true, TL_HERE);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "boomplug", "DEL", id), 1);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "okplug", "DEL", id), 1);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "loopback", "DEL", id), 1);
    free_network_api_conf(conf);
}

/* A plugin sleeping 10 s is stopped by a 1 s timeout; the attach fails quickly and says why. */
static void plugin_timeout(const struct tl_cri *e, const char *id)
{
    network_module_set_plugin_timeout(1);
    network_api_conf *conf = pod_conf(e, id, NET_SLOW);
    double start = tl_now();
    attach_fails(conf);
    double took = tl_now() - start;
    CHECKF(took < 3.0, "attach with a 1 s timeout took %.1f s", took);
    CHECKF(tl_contains(tl_errmsg(), "timed out") || tl_contains(tl_errmsg(), "timeout"), "no timeout message: %s",
           tl_errmsg_text());
    CHECKF(tl_contains(tl_errmsg(), "slowplug"), "timeout message does not name the plugin: %s", tl_errmsg_text());
    long pid = last_add_pid(e, "slowplug");
    if (CHECK(pid > 0)) {
        CHECKF(kill((pid_t)pid, 0) != 0 && errno == ESRCH, "timed-out plugin %ld still running", pid);
    }
    network_module_set_plugin_timeout(CLIBCNI_DEFAULT_PLUGIN_TIMEOUT);
    tl_detach_ok(conf, CRI, true, TL_HERE);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "slowplug", "DEL", id), 1);
    free_network_api_conf(conf);
}

/*
 * A plugin binary that does not exist: the message names it. The list's first plugin ran, so the
 * pod is partially attached. DEL runs a list's plugins in reverse and, as in libcni, stops at a
 * plugin it cannot run: detach reports the missing binary (loopback's DEL still runs). Once the
 * binary is back, a second detach cleans up the first plugin's part.
 */
static void missing_plugin(const struct tl_cri *e, const char *id)
{
    network_api_conf *conf = pod_conf(e, id, NET_MISSING);
    attach_fails(conf);
    CHECKF(tl_contains(tl_errmsg(), "failed to find plugin \"" MISSING_PLUGIN "\""),
           "message does not name the missing plugin: %s", tl_errmsg_text());
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "okplug", "ADD", id), 1);
    CHECK(!tl_cache_exists(e->dirs.cache, NET_MISSING, id, "eth0"));

    tl_clear_errmsg();
    CHECK_EQ_INT(network_module_detach(conf, CRI), -1);
    CHECKF(tl_contains(tl_errmsg(), "failed to find plugin \"" MISSING_PLUGIN "\""), "detach: %s", tl_errmsg_text());
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "loopback", "DEL", id), 1);

    CHECK_EQ_INT(tl_install_recorder(e->dirs.bin, MISSING_PLUGIN), 0);
    tl_detach_ok(conf, CRI, true, TL_HERE);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, MISSING_PLUGIN, "DEL", id), 1);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "okplug", "DEL", id), 1);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "loopback", "DEL", id), 2);
    free_network_api_conf(conf);
}

/* Loopback's DEL fails: the real network is still deleted, and loopback's error is reported. */
static void loopback_del_failure(const struct tl_cri *e, const char *id)
{
    network_api_conf *conf = pod_conf(e, id, NULL);
    network_api_result_list *result = NULL;
    tl_clear_errmsg();
    int rc = network_module_attach(conf, CRI, &result);
    CHECKF(rc == 0, "attach: %s", tl_errmsg_text());
    free_network_api_result_list(result);
    CHECK(tl_cache_exists(e->dirs.cache, NET_OK, id, "eth0"));

    tl_write_behavior(e->dirs.bin, "loopback",
                      "{\"DEL\":{\"error\":{\"cniVersion\":\"0.3.1\",\"code\":11,\"msg\":\"lo-del-failed\"}}}",
                      TL_HERE);
    tl_clear_errmsg();
    CHECK_EQ_INT(network_module_detach(conf, CRI), -1);
    CHECKF(tl_contains(tl_errmsg(), "lo-del-failed"), "loopback's error not reported: %s", tl_errmsg_text());
    CHECKF(tl_contains(network_module_last_error(), "lo-del-failed"), "last error: %s",
           network_module_last_error() ? network_module_last_error() : "(none)");
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "loopback", "DEL", id), 1);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "okplug", "DEL", id), 1);
    CHECK(!tl_cache_exists(e->dirs.cache, NET_OK, id, "eth0"));

    tl_remove_behavior(e->dirs.bin, "loopback");
    tl_detach_ok(conf, CRI, true, TL_HERE);
    free_network_api_conf(conf);
}

int main(void)
{
    require_root();
    static const char *const plugins[] = { "loopback", "okplug", "boomplug", "slowplug", NULL };
    struct tl_cri e;
    if (tl_cri_begin(&e, "cri-failures", plugins, true, NULL, TL_HERE) && write_confs(&e) && tl_cri_init(&e, TL_HERE)) {
        char ids[4][TL_ID_LEN];
        tl_make_ids(ids, 4, "ccrifail");
        plugin_error(&e, ids[0]);
        plugin_timeout(&e, ids[1]);
        missing_plugin(&e, ids[2]);
        loopback_del_failure(&e, ids[3]);
    }
    tl_cri_end(&e, TL_HERE);
    return test_summary("test_cri_failures");
}
