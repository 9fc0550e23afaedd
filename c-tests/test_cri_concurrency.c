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

struct env {
    struct tl_env dirs;
    char *spare; /* a conf file the updater rewrites, so reloads really happen */
};

static struct env g_env;
static atomic_int g_workers_left = THREADS;
static atomic_uint g_updates;

static bool setup(struct env *e)
{
    static const char *const plugins[] = { "loopback", "concA", "concB", NULL };
    if (!tl_env_init(&e->dirs, "cri-concurrency", plugins, true, TL_HERE)) {
        return false;
    }
    e->spare = tl_asprintf("%s/30-spare.conflist", e->dirs.conf);
    return tl_write_conf(TL_HERE, e->dirs.conf, "10-conc.conflist",
                         "{\"cniVersion\":\"1.0.0\",\"name\":\"" NET_CONC "\",\"plugins\":["
                         "{\"type\":\"concA\"},{\"type\":\"concB\"}]}");
}

static void teardown(struct env *e)
{
    free(e->spare);
    tl_env_free(&e->dirs);
}

static network_api_conf *pod_conf(int thread, int pod)
{
    char id[64], netns[96], name[32];
    snprintf(id, sizeof(id), "ccriconc-%ld-%d-%d", (long)getpid(), thread, pod);
    snprintf(netns, sizeof(netns), "/var/run/netns/ccri-conc-%ld-%d-%d", (long)getpid(), thread, pod);
    snprintf(name, sizeof(name), "pod-%d-%d", thread, pod);
    return tl_pod_conf(id, netns, name, "default", false);
}

static void *worker(void *arg)
{
    int thread = (int)(long)arg;
    network_api_conf *confs[PODS];
    for (int i = 0; i < PODS; i++) {
        confs[i] = pod_conf(thread, i);
        network_api_result_list *result = NULL;
        int rc = network_module_attach(confs[i], CRI, &result);
        CHECKF(rc == 0, "thread %d: attach %s: %s", thread, confs[i]->pod_id, tl_errmsg_text());
        CHECKF(tl_errmsg() == NULL, "thread %d: message after a successful attach: %s", thread, tl_errmsg_text());
        if (rc == 0 && CHECK(result != NULL) && CHECK_EQ_INT(result->len, 1)) {
            CHECK_EQ_STR(result->items[0]->name, NET_CONC);
            CHECK_EQ_STR(result->items[0]->interface, "eth0");
        }
        free_network_api_result_list(result);
    }
    for (int i = 0; i < PODS; i++) {
        int rc = network_module_detach(confs[i], CRI);
        CHECKF(rc == 0, "thread %d: detach %s: %s", thread, confs[i]->pod_id, tl_errmsg_text());
        CHECKF(tl_errmsg() == NULL, "thread %d: message after a successful detach: %s", thread, tl_errmsg_text());
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
            char *json = tl_asprintf("{\"cniVersion\":\"1.0.0\",\"name\":\"" NET_SPARE "\",\"round\":%u,"
                                   "\"plugins\":[{\"type\":\"concA\"}]}",
                                   round);
            tl_write_file(g_env.spare, json);
            free(json);
        }
        int rc = network_module_update(CRI);
        CHECKF(rc == 0, "update: %s", tl_errmsg_text());
        CHECKF(network_module_ready(CRI), "not ready during round %u: %s", round, tl_errmsg_text());
        CHECK(tl_errmsg() == NULL);
        atomic_fetch_add(&g_updates, 1);
        nanosleep(&tick, NULL);
    }
    return NULL;
}

static void calls_balanced(const char *plugin)
{
    CHECK_EQ_INT(tl_count_calls(g_env.dirs.bin, plugin, "ADD", NULL), THREADS * PODS);
    CHECK_EQ_INT(tl_count_calls(g_env.dirs.bin, plugin, "DEL", NULL), THREADS * PODS);
}

int main(void)
{
    require_root();
    if (!setup(&g_env)) {
        teardown(&g_env);
        return test_summary("test_cri_concurrency");
    }
    if (CHECK(network_module_init("cni", g_env.dirs.cache, g_env.dirs.conf, g_env.dirs.bin))) {
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
        tl_check_no_results(g_env.dirs.cache, TL_HERE);
        network_module_exit();
    }
    teardown(&g_env);
    return test_summary("test_cri_concurrency");
}
