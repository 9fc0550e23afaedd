// ctest: RUN_SERIAL
/*
 * The CRI type under concurrent use, as the daemon drives it: 16 threads each attach 3 pods and
 * detach them again, while another thread reloads the conf dir (network_module_update) every
 * 10 ms and asks network_module_ready. Every plugin is the recording plugin
 * (examples/cni_recorder.rs), the netns paths are made up, so this is fast and needs no links.
 * Every call must succeed, leave no error message on its thread, and nothing stays in the cache.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "isulad_host.h"
#include "network_api.h"
#include "testlib.h"

#define CRI NETWOKR_API_TYPE_CRI
#define NET_CONC "ccri-conc"
#define NET_SPARE "ccri-conc-spare"
#define THREADS 16
#define PODS 3

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

struct env {
    char *root, *conf, *cache, *bin;
    char *spare; /* a conf file the updater rewrites, so reloads really happen */
};

static struct env g_env;
static atomic_int g_workers_left = THREADS;
static atomic_uint g_updates;

static const char *errmsg(void)
{
    return tl_errmsg() == NULL ? "(no message)" : tl_errmsg();
}

static bool setup(struct env *e)
{
    e->root = tl_tmpdir("cri-concurrency");
    if (e->root == NULL) {
        return false;
    }
    e->conf = xasprintf("%s/conf", e->root);
    e->cache = xasprintf("%s/cache", e->root);
    e->bin = xasprintf("%s/bin", e->root);
    e->spare = xasprintf("%s/30-spare.conflist", e->conf);
    bool ok = CHECK_EQ_INT(tl_run(NULL, "mkdir -p '%s' '%s' '%s'", e->conf, e->cache, e->bin), 0);
    const char *plugins[] = { "loopback", "concA", "concB" };
    for (size_t i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++) {
        ok = CHECK_EQ_INT(tl_install_recorder(e->bin, plugins[i]), 0) && ok;
    }
    char *path = xasprintf("%s/10-conc.conflist", e->conf);
    ok = CHECK_EQ_INT(tl_write_file(path, "{\"cniVersion\":\"1.0.0\",\"name\":\"" NET_CONC "\",\"plugins\":["
                                          "{\"type\":\"concA\"},{\"type\":\"concB\"}]}"),
                      0) &&
         ok;
    free(path);
    return ok;
}

static void teardown(struct env *e)
{
    free(e->conf);
    free(e->cache);
    free(e->bin);
    free(e->spare);
    tl_rmtree(e->root);
    free(e->root);
}

static network_api_conf *pod_conf(int thread, int pod)
{
    char id[64], netns[96];
    snprintf(id, sizeof(id), "ccriconc-%ld-%d-%d", (long)getpid(), thread, pod);
    snprintf(netns, sizeof(netns), "/var/run/netns/ccri-conc-%ld-%d-%d", (long)getpid(), thread, pod);
    network_api_conf *conf = tl_conf_new(id, netns, "eth0");
    conf->name = xasprintf("pod-%d-%d", thread, pod);
    conf->ns = strdup("default");
    tl_conf_add_arg(conf, "IgnoreUnknown", "1");
    tl_conf_add_arg(conf, "K8S_POD_INFRA_CONTAINER_ID", id);
    return conf;
}

static void *worker(void *arg)
{
    int thread = (int)(long)arg;
    network_api_conf *confs[PODS];
    for (int i = 0; i < PODS; i++) {
        confs[i] = pod_conf(thread, i);
        network_api_result_list *result = NULL;
        int rc = network_module_attach(confs[i], CRI, &result);
        CHECKF(rc == 0, "thread %d: attach %s: %s", thread, confs[i]->pod_id, errmsg());
        CHECKF(tl_errmsg() == NULL, "thread %d: message after a successful attach: %s", thread, errmsg());
        if (rc == 0 && CHECK(result != NULL) && CHECK_EQ_INT(result->len, 1)) {
            CHECK_EQ_STR(result->items[0]->name, NET_CONC);
            CHECK_EQ_STR(result->items[0]->interface, "eth0");
        }
        free_network_api_result_list(result);
    }
    for (int i = 0; i < PODS; i++) {
        int rc = network_module_detach(confs[i], CRI);
        CHECKF(rc == 0, "thread %d: detach %s: %s", thread, confs[i]->pod_id, errmsg());
        CHECKF(tl_errmsg() == NULL, "thread %d: message after a successful detach: %s", thread, errmsg());
        free_network_api_conf(confs[i]);
    }
    atomic_fetch_sub(&g_workers_left, 1);
    return NULL;
}

/* Reloads every 10 ms until the workers are done; every other round changes the spare file. */
static void *updater(void *arg)
{
    (void)arg;
    struct timespec tick = { .tv_sec = 0, .tv_nsec = 10 * 1000 * 1000 };
    for (unsigned round = 0; atomic_load(&g_workers_left) > 0; round++) {
        if (round % 2 == 0) {
            char *json = xasprintf("{\"cniVersion\":\"1.0.0\",\"name\":\"" NET_SPARE "\",\"round\":%u,"
                                   "\"plugins\":[{\"type\":\"concA\"}]}",
                                   round);
            tl_write_file(g_env.spare, json);
            free(json);
        }
        int rc = network_module_update(CRI);
        CHECKF(rc == 0, "update: %s", errmsg());
        CHECKF(network_module_ready(CRI), "not ready during round %u: %s", round, errmsg());
        CHECK(tl_errmsg() == NULL);
        atomic_fetch_add(&g_updates, 1);
        nanosleep(&tick, NULL);
    }
    return NULL;
}

static size_t count_lines(const char *path, const char *part)
{
    char *text = tl_read_file(path);
    size_t n = 0;
    for (const char *p = text == NULL ? NULL : strstr(text, part); p != NULL; p = strstr(p + 1, part)) {
        n++;
    }
    free(text);
    return n;
}

static void calls_balanced(const char *plugin)
{
    char *path = xasprintf("%s/%s.calls.jsonl", g_env.bin, plugin);
    CHECK_EQ_INT(count_lines(path, "{\"command\":\"ADD\""), THREADS * PODS);
    CHECK_EQ_INT(count_lines(path, "{\"command\":\"DEL\""), THREADS * PODS);
    free(path);
}

int main(void)
{
    require_root();
    if (!setup(&g_env)) {
        teardown(&g_env);
        return test_summary("test_cri_concurrency");
    }
    if (CHECK(network_module_init("cni", g_env.cache, g_env.conf, g_env.bin))) {
        pthread_t update_thread;
        pthread_t workers[THREADS];
        CHECK_EQ_INT(pthread_create(&update_thread, NULL, updater, NULL), 0);
        for (long t = 0; t < THREADS; t++) {
            CHECK_EQ_INT(pthread_create(&workers[t], NULL, worker, (void *)t), 0);
        }
        for (int t = 0; t < THREADS; t++) {
            pthread_join(workers[t], NULL);
        }
        pthread_join(update_thread, NULL);
        CHECKF(atomic_load(&g_updates) > 0, "the updater never ran");

        calls_balanced("loopback");
        calls_balanced("concA");
        calls_balanced("concB");
        char *left = NULL;
        tl_run(&left, "ls -A '%s/results' 2>/dev/null", g_env.cache);
        CHECKF(left == NULL || left[0] == '\0', "cache files left: %s", left ? left : "");
        free(left);
        network_module_exit();
    }
    teardown(&g_env);
    return test_summary("test_cri_concurrency");
}
