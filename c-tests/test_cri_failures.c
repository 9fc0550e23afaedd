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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        abort();
    }
    return s;
}

static const char *errmsg(void)
{
    return tl_errmsg() == NULL ? "(no message)" : tl_errmsg();
}

static bool contains(const char *text, const char *part)
{
    return text != NULL && strstr(text, part) != NULL;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct env {
    char *root, *conf, *cache, *bin, *netns;
};

static void write_behavior(const struct env *e, const char *plugin, const char *json)
{
    char *path = xasprintf("%s/%s.behavior.json", e->bin, plugin);
    CHECK_EQ_INT(tl_write_file(path, json), 0);
    free(path);
}

static void remove_behavior(const struct env *e, const char *plugin)
{
    char *path = xasprintf("%s/%s.behavior.json", e->bin, plugin);
    unlink(path);
    free(path);
}

/* The recorded calls of plugin for command and container (JSON lines, compact as the recorder writes them). */
static size_t count_calls(const struct env *e, const char *plugin, const char *command, const char *id)
{
    char *path = xasprintf("%s/%s.calls.jsonl", e->bin, plugin);
    char *text = tl_read_file(path);
    char *cmd = xasprintf("\"command\":\"%s\"", command);
    char *cid = xasprintf("\"CNI_CONTAINERID\":\"%s\"", id);
    size_t n = 0;
    for (char *save = NULL, *line = text == NULL ? NULL : strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        n += strstr(line, cmd) != NULL && strstr(line, cid) != NULL;
    }
    free(cid);
    free(cmd);
    free(text);
    free(path);
    return n;
}

/* The pid the recorder logged for its last ADD call of plugin, or -1. */
static long last_add_pid(const struct env *e, const char *plugin)
{
    char *path = xasprintf("%s/%s.calls.jsonl", e->bin, plugin);
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

static bool write_conf(const struct env *e, const char *file, const char *name, const char *plugins)
{
    char *path = xasprintf("%s/%s", e->conf, file);
    char *json = xasprintf("{\"cniVersion\":\"1.0.0\",\"name\":\"%s\",\"plugins\":[%s]}", name, plugins);
    bool ok = CHECK_EQ_INT(tl_write_file(path, json), 0);
    free(json);
    free(path);
    return ok;
}

static bool setup(struct env *e)
{
    e->root = tl_tmpdir("cri-failures");
    if (e->root == NULL) {
        return false;
    }
    e->conf = xasprintf("%s/conf", e->root);
    e->cache = xasprintf("%s/cache", e->root);
    e->bin = xasprintf("%s/bin", e->root);
    e->netns = xasprintf("/var/run/netns/ccri-fake-%ld", (long)getpid());
    bool ok = CHECK_EQ_INT(tl_run(NULL, "mkdir -p '%s' '%s' '%s'", e->conf, e->cache, e->bin), 0);
    const char *plugins[] = { "loopback", "okplug", "boomplug", "slowplug" };
    for (size_t i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++) {
        ok = CHECK_EQ_INT(tl_install_recorder(e->bin, plugins[i]), 0) && ok;
    }
    ok = write_conf(e, "10-ok.conflist", NET_OK, "{\"type\":\"okplug\"}") && ok;
    ok = write_conf(e, "20-boom.conflist", NET_BOOM, "{\"type\":\"okplug\"},{\"type\":\"boomplug\"}") && ok;
    ok = write_conf(e, "30-slow.conflist", NET_SLOW, "{\"type\":\"slowplug\"}") && ok;
    ok = write_conf(e, "40-missing.conflist", NET_MISSING, "{\"type\":\"okplug\"},{\"type\":\"" MISSING_PLUGIN "\"}") &&
         ok;
    write_behavior(e, "boomplug", "{\"ADD\":{\"error\":{\"cniVersion\":\"1.0.0\",\"code\":7,\"msg\":\"boom\",\"details\":\"d\"}}}");
    write_behavior(e, "slowplug", "{\"ADD\":{\"sleep\":10}}");
    return ok;
}

static void teardown(struct env *e)
{
    free(e->conf);
    free(e->cache);
    free(e->bin);
    free(e->netns);
    tl_rmtree(e->root);
    free(e->root);
}

/* A pod whose only network is net (an extra network on eth0 replaces the default one). */
static network_api_conf *pod_conf(const struct env *e, const char *id, const char *net)
{
    network_api_conf *conf = tl_conf_new(id, e->netns, "eth0");
    conf->name = strdup("name");
    conf->ns = strdup("ns");
    tl_conf_add_arg(conf, "IgnoreUnknown", "1");
    tl_conf_add_arg(conf, "K8S_POD_INFRA_CONTAINER_ID", id);
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

static void detach_ok(const network_api_conf *conf)
{
    tl_clear_errmsg();
    int rc = network_module_detach(conf, CRI);
    CHECKF(rc == 0, "detach %s: %s", conf->pod_id, errmsg());
    CHECK(tl_errmsg() == NULL);
}

static bool cache_exists(const struct env *e, const char *net, const char *id)
{
    char *path = xasprintf("%s/results/%s-%s-eth0", e->cache, net, id);
    bool exists = access(path, F_OK) == 0;
    free(path);
    return exists;
}

/* The error of the second plugin reaches both error channels; detach undoes the first plugin. */
static void plugin_error(const struct env *e, const char *id)
{
    network_api_conf *conf = pod_conf(e, id, NET_BOOM);
    attach_fails(conf);
    CHECKF(contains(tl_errmsg(), "boom"), "g_isulad_errmsg: %s", errmsg());
    CHECKF(contains(network_module_last_error(), "boom"), "last error: %s",
           network_module_last_error() ? network_module_last_error() : "(none)");
    CHECK_EQ_INT(count_calls(e, "okplug", "ADD", id), 1);
    CHECK(!cache_exists(e, NET_BOOM, id));
    detach_ok(conf);
    CHECK_EQ_INT(count_calls(e, "boomplug", "DEL", id), 1);
    CHECK_EQ_INT(count_calls(e, "okplug", "DEL", id), 1);
    CHECK_EQ_INT(count_calls(e, "loopback", "DEL", id), 1);
    free_network_api_conf(conf);
}

/* A plugin sleeping 10 s is stopped by a 1 s timeout; the attach fails quickly and says why. */
static void plugin_timeout(const struct env *e, const char *id)
{
    network_module_set_plugin_timeout(1);
    network_api_conf *conf = pod_conf(e, id, NET_SLOW);
    double start = now();
    attach_fails(conf);
    double took = now() - start;
    CHECKF(took < 3.0, "attach with a 1 s timeout took %.1f s", took);
    CHECKF(contains(tl_errmsg(), "timed out") || contains(tl_errmsg(), "timeout"), "no timeout message: %s", errmsg());
    CHECKF(contains(tl_errmsg(), "slowplug"), "timeout message does not name the plugin: %s", errmsg());
    long pid = last_add_pid(e, "slowplug");
    if (CHECK(pid > 0)) {
        CHECKF(kill((pid_t)pid, 0) != 0 && errno == ESRCH, "timed-out plugin %ld still running", pid);
    }
    network_module_set_plugin_timeout(CLIBCNI_DEFAULT_PLUGIN_TIMEOUT);
    detach_ok(conf);
    CHECK_EQ_INT(count_calls(e, "slowplug", "DEL", id), 1);
    free_network_api_conf(conf);
}

/*
 * A plugin binary that does not exist: the message names it. The list's first plugin ran, so the
 * pod is partially attached. DEL runs a list's plugins in reverse and, as in libcni, stops at a
 * plugin it cannot run: detach reports the missing binary (loopback's DEL still runs). Once the
 * binary is back, a second detach cleans up the first plugin's part.
 */
static void missing_plugin(const struct env *e, const char *id)
{
    network_api_conf *conf = pod_conf(e, id, NET_MISSING);
    attach_fails(conf);
    CHECKF(contains(tl_errmsg(), "failed to find plugin \"" MISSING_PLUGIN "\""),
           "message does not name the missing plugin: %s", errmsg());
    CHECK_EQ_INT(count_calls(e, "okplug", "ADD", id), 1);
    CHECK(!cache_exists(e, NET_MISSING, id));

    tl_clear_errmsg();
    CHECK_EQ_INT(network_module_detach(conf, CRI), -1);
    CHECKF(contains(tl_errmsg(), "failed to find plugin \"" MISSING_PLUGIN "\""), "detach: %s", errmsg());
    CHECK_EQ_INT(count_calls(e, "loopback", "DEL", id), 1);

    CHECK_EQ_INT(tl_install_recorder(e->bin, MISSING_PLUGIN), 0);
    detach_ok(conf);
    CHECK_EQ_INT(count_calls(e, MISSING_PLUGIN, "DEL", id), 1);
    CHECK_EQ_INT(count_calls(e, "okplug", "DEL", id), 1);
    CHECK_EQ_INT(count_calls(e, "loopback", "DEL", id), 2);
    free_network_api_conf(conf);
}

/* Loopback's DEL fails: the real network is still deleted, and loopback's error is reported. */
static void loopback_del_failure(const struct env *e, const char *id)
{
    network_api_conf *conf = pod_conf(e, id, NULL);
    network_api_result_list *result = NULL;
    tl_clear_errmsg();
    int rc = network_module_attach(conf, CRI, &result);
    CHECKF(rc == 0, "attach: %s", errmsg());
    free_network_api_result_list(result);
    CHECK(cache_exists(e, NET_OK, id));

    write_behavior(e, "loopback", "{\"DEL\":{\"error\":{\"cniVersion\":\"0.3.1\",\"code\":11,\"msg\":\"lo-del-failed\"}}}");
    tl_clear_errmsg();
    CHECK_EQ_INT(network_module_detach(conf, CRI), -1);
    CHECKF(contains(tl_errmsg(), "lo-del-failed"), "loopback's error not reported: %s", errmsg());
    CHECKF(contains(network_module_last_error(), "lo-del-failed"), "last error: %s",
           network_module_last_error() ? network_module_last_error() : "(none)");
    CHECK_EQ_INT(count_calls(e, "loopback", "DEL", id), 1);
    CHECK_EQ_INT(count_calls(e, "okplug", "DEL", id), 1);
    CHECK(!cache_exists(e, NET_OK, id));

    remove_behavior(e, "loopback");
    detach_ok(conf);
    free_network_api_conf(conf);
}

int main(void)
{
    require_root();
    struct env e = { 0 };
    if (!setup(&e)) {
        teardown(&e);
        return test_summary("test_cri_failures");
    }
    char ids[4][64];
    for (int i = 0; i < 4; i++) {
        snprintf(ids[i], sizeof(ids[i]), "ccrifail%d-%ld", i, (long)getpid());
    }
    if (CHECK(network_module_init("cni", e.cache, e.conf, e.bin))) {
        plugin_error(&e, ids[0]);
        plugin_timeout(&e, ids[1]);
        missing_plugin(&e, ids[2]);
        loopback_del_failure(&e, ids[3]);
        char *left = NULL;
        tl_run(&left, "ls -A '%s/results' 2>/dev/null", e.cache);
        CHECKF(left == NULL || left[0] == '\0', "cache files left: %s", left ? left : "");
        free(left);
        network_module_exit();
    }
    teardown(&e);
    return test_summary("test_cri_failures");
}
