// ctest: RUN_SERIAL
/*
 * Concurrency soak through the C ABI: 8 threads x 1000 pseudo-random operations (fixed seed per
 * thread) mixing attach/check/detach of 32 CRI pods (two conflists) and 8 native containers with
 * create/rm of the native networks soak0..soak3 (subnets 10.251.X.0/24), network_module_update,
 * conf_list, inspect, exist and ready. Each pod belongs to one thread, so every error a call gives
 * must be one a serial run could give too: only "has been used", "Cannot find network", "has
 * connected containers", "Cannot found net" (and inspect's "No such network") are accepted, on the
 * operations that can give them.
 *
 * The recording plugin plays loopback, bridge, portmap and firewall, with a made-up netns path, so
 * native create and attach work without touching the host's network. At the end every pod is
 * detached and every network removed; then no cache file and no isulacni-* file may be left, and
 * the recorder's call logs must show every ADD followed by a DEL per (plugin, container, interface).
 * A watchdog turns a deadlock into a failure. Under valgrind (detected through LD_PRELOAD) each
 * thread runs fewer operations.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "isulad_host.h"
#include "network_api.h"
#include "testlib.h"

#define CRI NETWOKR_API_TYPE_CRI
#define NATIVE NETWOKR_API_TYPE_NATIVE
#define THREADS 8
#define PODS_PER_THREAD 4
#define NETWORKS 4
#define OPS_PLAIN 1000
#define OPS_VALGRIND 200
#define LIMIT_PLAIN_S 120
#define LIMIT_VALGRIND_S 850
#define FAKE_NETNS "/var/run/netns/clibcni-soak-fake"
#define PORTS "[{\"hostPort\":18080,\"containerPort\":80,\"protocol\":\"tcp\"}]"

struct env {
    char *root;
    char *conf;
    char *cache;
    char *bin;
};
static struct env g_env;

static bool under_valgrind(void)
{
    const char *preload = getenv("LD_PRELOAD");
    return preload != NULL && strstr(preload, "vgpreload") != NULL;
}

/* --- per-thread state ----------------------------------------------------------------------- */

enum op {
    OP_CRI_POD,
    OP_NATIVE_CONTAINER,
    OP_CREATE,
    OP_RM,
    OP_UPDATE,
    OP_LIST,
    OP_INSPECT,
    OP_EXIST,
    OP_READY,
    OP_KINDS,
};

/* Relative weights of the operations, in enum order. */
static const unsigned g_weights[OP_KINDS] = { 30, 12, 10, 10, 8, 8, 8, 7, 7 };
static const char *const g_op_names[OP_KINDS] = { "cri pod", "native container", "create", "rm", "update",
                                                  "conf_list", "inspect", "exist", "ready" };

struct worker {
    int index;
    uint32_t rng;
    unsigned ops;
    bool pod_attached[PODS_PER_THREAD];
    int native_net; /* the network the native container is attached to, or -1 */
    unsigned counts[OP_KINDS];
};

static uint32_t next_random(struct worker *w)
{
    uint32_t x = w->rng; /* xorshift32 */
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    w->rng = x;
    return x;
}

static enum op pick_op(struct worker *w)
{
    unsigned total = 0;
    for (int i = 0; i < OP_KINDS; i++) {
        total += g_weights[i];
    }
    unsigned r = next_random(w) % total;
    for (int i = 0; i < OP_KINDS; i++) {
        if (r < g_weights[i]) {
            return (enum op)i;
        }
        r -= g_weights[i];
    }
    return OP_READY;
}

static char *pod_id(int thread, int pod)
{
    return tl_asprintf("soakpod-%d-%d", thread, pod);
}

static char *container_id(int thread)
{
    return tl_asprintf("soaknat-%d", thread);
}

static char *network_name(int n)
{
    return tl_asprintf("soak%d", n);
}

/* --- checking a call's outcome -------------------------------------------------------------- */

/* A failed call is fine only with one of the accepted messages (NULL-terminated list). */
static void outcome(int rc, const char *what, const char *const *accepted)
{
    if (rc == 0) {
        CHECKF(network_module_last_error() == NULL, "%s: succeeded with an error message: %s", what,
               network_module_last_error());
        return;
    }
    const char *msg = tl_errmsg();
    bool ok = false;
    for (size_t i = 0; msg != NULL && accepted != NULL && accepted[i] != NULL; i++) {
        ok = ok || strstr(msg, accepted[i]) != NULL;
    }
    CHECKF(ok, "%s: rc %d, unexpected error: %s", what, rc, msg != NULL ? msg : "(no message)");
}

static const char *const NONE[] = { NULL };
static const char *const ATTACH_NATIVE_ERRORS[] = { "Cannot found net", NULL };
static const char *const CREATE_ERRORS[] = { "has been used", NULL };
static const char *const RM_ERRORS[] = { "Cannot find network", "has connected containers", NULL };
static const char *const INSPECT_ERRORS[] = { "No such network", NULL };

/* --- the operations ------------------------------------------------------------------------- */

static network_api_conf *cri_conf(const char *id)
{
    network_api_conf *conf = tl_conf_new(id, FAKE_NETNS, "eth0");
    conf->name = strdup("soak");
    conf->ns = strdup("default");
    tl_conf_add_extra(conf, "soakb", "eth1");
    tl_conf_add_arg(conf, "IgnoreUnknown", "1");
    tl_conf_add_arg(conf, "K8S_POD_INFRA_CONTAINER_ID", id);
    if (network_module_insert_portmapping(PORTS, conf) != 0) {
        abort();
    }
    return conf;
}

static network_api_conf *native_conf(const char *id, int net)
{
    network_api_conf *conf = tl_conf_new(id, FAKE_NETNS, "eth0");
    conf->name = strdup(id);
    if (net >= 0) {
        char *name = network_name(net);
        tl_conf_add_extra(conf, name, "eth0");
        free(name);
    }
    return conf;
}

/* Attach and check hand back one result per network. */
static void check_result(int rc, network_api_result_list *result, size_t expected, const char *what)
{
    if (rc == 0) {
        CHECKF(result != NULL && result->len == expected, "%s: %zu results, expected %zu", what,
               result != NULL ? result->len : 0, expected);
    }
    free_network_api_result_list(result);
}

static void cri_pod_op(struct worker *w)
{
    int pod = (int)(next_random(w) % PODS_PER_THREAD);
    char *id = pod_id(w->index, pod);
    network_api_conf *conf = cri_conf(id);
    network_api_result_list *result = NULL;
    char *what = NULL;
    tl_clear_errmsg();
    if (!w->pod_attached[pod]) {
        what = tl_asprintf("attach %s", id);
        int rc = network_module_attach(conf, CRI, &result);
        outcome(rc, what, NONE);
        check_result(rc, result, 2, what);
        w->pod_attached[pod] = rc == 0;
    } else if (next_random(w) % 2 == 0) {
        what = tl_asprintf("check %s", id);
        int rc = network_module_check(conf, CRI, &result);
        outcome(rc, what, NONE);
        check_result(rc, result, 2, what);
    } else {
        what = tl_asprintf("detach %s", id);
        int rc = network_module_detach(conf, CRI);
        outcome(rc, what, NONE);
        w->pod_attached[pod] = rc != 0;
    }
    free(what);
    free_network_api_conf(conf);
    free(id);
}

static void native_container_op(struct worker *w)
{
    char *id = container_id(w->index);
    network_api_result_list *result = NULL;
    char *what = NULL;
    tl_clear_errmsg();
    if (w->native_net < 0) {
        int net = (int)(next_random(w) % NETWORKS);
        network_api_conf *conf = native_conf(id, net);
        what = tl_asprintf("attach %s to soak%d", id, net);
        int rc = network_module_attach(conf, NATIVE, &result);
        outcome(rc, what, ATTACH_NATIVE_ERRORS);
        check_result(rc, result, 1, what);
        w->native_net = rc == 0 ? net : -1;
        free_network_api_conf(conf);
    } else {
        network_api_conf *conf = native_conf(id, w->native_net);
        if (next_random(w) % 2 == 0) {
            what = tl_asprintf("check %s on soak%d", id, w->native_net);
            int rc = network_module_check(conf, NATIVE, &result);
            outcome(rc, what, NONE);
            check_result(rc, result, 1, what);
        } else {
            what = tl_asprintf("detach %s from soak%d", id, w->native_net);
            int rc = network_module_detach(conf, NATIVE);
            outcome(rc, what, NONE);
            if (rc == 0) {
                w->native_net = -1;
            }
        }
        free_network_api_conf(conf);
    }
    free(what);
    free(id);
}

static void create_op(int net)
{
    char *name = network_name(net);
    char *subnet = tl_asprintf("10.251.%d.0/24", net);
    network_create_request request = { .name = name, .driver = "bridge", .subnet = subnet };
    char *created = NULL;
    uint32_t cc = 0;
    char *what = tl_asprintf("create %s", name);
    tl_clear_errmsg();
    int rc = network_module_conf_create(NATIVE, &request, &created, &cc);
    outcome(rc, what, CREATE_ERRORS);
    if (rc == 0) {
        CHECKF(created != NULL && strcmp(created, name) == 0, "%s: created \"%s\"", what, created ? created : "NULL");
    }
    free(created);
    free(what);
    free(subnet);
    free(name);
}

static void rm_op(int net)
{
    char *name = network_name(net);
    char *removed = NULL;
    char *what = tl_asprintf("rm %s", name);
    tl_clear_errmsg();
    int rc = network_module_conf_rm(NATIVE, name, &removed);
    outcome(rc, what, RM_ERRORS);
    if (rc == 0) {
        CHECKF(removed != NULL && strcmp(removed, name) == 0, "%s: removed \"%s\"", what, removed ? removed : "NULL");
    }
    free(removed);
    free(what);
    free(name);
}

static void list_op(void)
{
    network_network_info **nets = NULL;
    size_t len = 0;
    tl_clear_errmsg();
    int rc = network_module_conf_list(NATIVE, NULL, &nets, &len);
    outcome(rc, "conf_list", NONE);
    CHECKF(len <= NETWORKS, "conf_list: %zu networks", len);
    for (size_t i = 0; i < len; i++) {
        CHECKF(strncmp(nets[i]->name, "soak", 4) == 0, "conf_list: network %s", nets[i]->name);
        free(nets[i]->name);
        free(nets[i]->version);
        for (size_t j = 0; j < nets[i]->plugins_len; j++) {
            free(nets[i]->plugins[j]);
        }
        free(nets[i]->plugins);
        free(nets[i]);
    }
    free(nets);
}

static void inspect_op(int net)
{
    char *name = network_name(net);
    char *text = NULL;
    char *what = tl_asprintf("inspect %s", name);
    tl_clear_errmsg();
    int rc = network_module_conf_inspect(NATIVE, name, &text);
    outcome(rc, what, INSPECT_ERRORS);
    if (rc == 0) {
        char *expected = tl_asprintf("\"name\": \"%s\"", name);
        CHECKF(text != NULL && strstr(text, expected) != NULL, "%s: text without %s", what, expected);
        free(expected);
    }
    free(text);
    free(what);
    free(name);
}

static void exist_op(int net)
{
    char *name = network_name(net);
    tl_clear_errmsg();
    int rc = network_module_exist(NATIVE, name);
    CHECKF(rc == 0 || rc == 1, "exist %s: %d (%s)", name, rc, tl_errmsg() ? tl_errmsg() : "");
    free(name);
}

static void ready_op(void)
{
    tl_clear_errmsg();
    CHECKF(network_module_ready(CRI), "ready cri: false (%s)", tl_errmsg() ? tl_errmsg() : "");
    /* True or false, as the races go; false says why, in the last error only. */
    bool ready = network_module_ready(NATIVE);
    const char *why = network_module_last_error();
    CHECKF(ready ? why == NULL : why != NULL && strcmp(why, "no native network exists") == 0, "ready native: %d, %s",
           ready, why ? why : "(null)");
    CHECKF(tl_errmsg() == NULL, "ready native set the daemon's message: %s", tl_errmsg());
}

static void run_one(struct worker *w, enum op op)
{
    int net = (int)(next_random(w) % NETWORKS);
    w->counts[op]++;
    switch (op) {
    case OP_CRI_POD: cri_pod_op(w); break;
    case OP_NATIVE_CONTAINER: native_container_op(w); break;
    case OP_CREATE: create_op(net); break;
    case OP_RM: rm_op(net); break;
    case OP_UPDATE:
        tl_clear_errmsg();
        outcome(network_module_update(CRI), "update cri", NONE);
        break;
    case OP_LIST: list_op(); break;
    case OP_INSPECT: inspect_op(net); break;
    case OP_EXIST: exist_op(net); break;
    case OP_READY: ready_op(); break;
    case OP_KINDS: break;
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (unsigned i = 0; i < w->ops; i++) {
        run_one(w, pick_op(w));
    }
    tl_clear_errmsg();
    return NULL;
}

/* --- the serial answers the soak relies on -------------------------------------------------- */

/* One container, one network, no concurrency: a network with an attached container cannot be
 * removed, before or after a CHECK of that container. */
static void serial_baseline(void)
{
    network_api_result_list *result = NULL;
    create_op(0);
    network_api_conf *conf = native_conf("serialnat", 0);
    tl_clear_errmsg();
    int rc = network_module_attach(conf, NATIVE, &result);
    outcome(rc, "serial: attach serialnat to soak0", NONE);
    check_result(rc, result, 1, "serial: attach serialnat to soak0");
    char *removed = NULL;
    tl_clear_errmsg();
    CHECKF(network_module_conf_rm(NATIVE, "soak0", &removed) == -1 && tl_errmsg() != NULL &&
               strstr(tl_errmsg(), "has connected containers") != NULL,
           "serial: rm soak0 while serialnat is attached: %s", tl_errmsg() ? tl_errmsg() : "succeeded");
    free(removed);
    removed = NULL;
    result = NULL;
    tl_clear_errmsg();
    rc = network_module_check(conf, NATIVE, &result);
    outcome(rc, "serial: check serialnat on soak0", NONE);
    check_result(rc, result, 1, "serial: check serialnat on soak0");
    tl_clear_errmsg();
    CHECKF(network_module_conf_rm(NATIVE, "soak0", &removed) == -1 && tl_errmsg() != NULL &&
               strstr(tl_errmsg(), "has connected containers") != NULL,
           "serial: rm soak0 after a CHECK of the attached serialnat: %s", tl_errmsg() ? tl_errmsg() : "succeeded");
    free(removed);
    tl_clear_errmsg();
    CHECKF(network_module_detach(conf, NATIVE) == 0, "serial: detach serialnat: %s", tl_errmsg() ? tl_errmsg() : "");
    free_network_api_conf(conf);
    rm_op(0);
}

/* --- the watchdog: a deadlock fails the test instead of hanging it -------------------------- */

static pthread_mutex_t g_done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_done_cond = PTHREAD_COND_INITIALIZER;
static bool g_done;
static int g_limit_s;

static void *watchdog_main(void *arg)
{
    (void)arg;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += g_limit_s;
    pthread_mutex_lock(&g_done_lock);
    int rc = 0;
    while (!g_done && rc != ETIMEDOUT) {
        rc = pthread_cond_timedwait(&g_done_cond, &g_done_lock, &deadline);
    }
    bool done = g_done;
    pthread_mutex_unlock(&g_done_lock);
    if (!done) {
        fprintf(stderr, "FAIL test_soak: not finished after %d s: deadlock?\n", g_limit_s);
        fflush(stderr);
        _exit(1);
    }
    return NULL;
}

/* --- the end state -------------------------------------------------------------------------- */

/* The value of "KEY":"..." in a recorder line (plain values only), malloc'd, or NULL. */
static char *json_field(const char *line, const char *key)
{
    char *needle = tl_asprintf("\"%s\":\"", key);
    const char *start = strstr(line, needle);
    char *value = NULL;
    if (start != NULL) {
        start += strlen(needle);
        const char *end = strchr(start, '"');
        value = end != NULL ? strndup(start, (size_t)(end - start)) : NULL;
    }
    free(needle);
    return value;
}

struct attachment_log {
    char *key; /* container/ifname */
    bool attached;
    unsigned adds;
};

/* Every ADD of a (container, interface) is followed by a DEL before the next ADD and at the end. */
static unsigned check_plugin_log(const char *plugin)
{
    char *path = tl_asprintf("%s/%s.calls.jsonl", g_env.bin, plugin);
    char *text = tl_read_file(path);
    unsigned adds = 0;
    if (!CHECKF(text != NULL, "no call log %s", path)) {
        free(path);
        return 0;
    }
    struct attachment_log *keys = NULL;
    size_t len = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
        char *command = json_field(line, "command");
        bool add = command != NULL && strcmp(command, "ADD") == 0;
        bool del = command != NULL && strcmp(command, "DEL") == 0;
        free(command);
        if (!add && !del) {
            continue;
        }
        char *id = json_field(line, "CNI_CONTAINERID");
        char *ifname = json_field(line, "CNI_IFNAME");
        char *key = tl_asprintf("%s/%s", id ? id : "?", ifname ? ifname : "?");
        free(id);
        free(ifname);
        size_t i = 0;
        while (i < len && strcmp(keys[i].key, key) != 0) {
            i++;
        }
        if (i == len) {
            keys = realloc(keys, (len + 1) * sizeof(*keys));
            keys[len++] = (struct attachment_log){ .key = key };
        } else {
            free(key);
        }
        if (add) {
            adds++;
            CHECKF(!keys[i].attached, "%s: ADD %s twice without a DEL", plugin, keys[i].key);
            keys[i].attached = true;
            keys[i].adds++;
        } else {
            keys[i].attached = false;
        }
    }
    for (size_t i = 0; i < len; i++) {
        CHECKF(!keys[i].attached, "%s: %s added (%u times) and never deleted at the end", plugin, keys[i].key,
               keys[i].adds);
        free(keys[i].key);
    }
    free(keys);
    free(text);
    free(path);
    return adds;
}

static void clean_up_and_check(struct worker *workers)
{
    for (int t = 0; t < THREADS; t++) {
        for (int p = 0; p < PODS_PER_THREAD; p++) {
            char *id = pod_id(t, p);
            network_api_conf *conf = cri_conf(id);
            tl_clear_errmsg();
            CHECKF(network_module_detach(conf, CRI) == 0, "final detach %s: %s", id, tl_errmsg() ? tl_errmsg() : "");
            free_network_api_conf(conf);
            free(id);
        }
        char *id = container_id(t);
        network_api_conf *conf = native_conf(id, workers[t].native_net);
        tl_clear_errmsg();
        CHECKF(network_module_detach(conf, NATIVE) == 0, "final detach %s: %s", id, tl_errmsg() ? tl_errmsg() : "");
        free_network_api_conf(conf);
        free(id);
    }
    for (int n = 0; n < NETWORKS; n++) {
        rm_op(n);
        char *name = network_name(n);
        CHECKF(network_module_exist(NATIVE, name) == 0, "%s still exists", name);
        free(name);
    }
    char *out = NULL;
    tl_run(&out, "find '%s/results' -type f 2>/dev/null", g_env.cache);
    CHECKF(out != NULL && out[0] == '\0', "cache files left:\n%s", out ? out : "");
    free(out);
    out = NULL;
    tl_run(&out, "ls -a '%s' | grep isulacni", g_env.conf);
    CHECKF(out != NULL && out[0] == '\0', "native network files left:\n%s", out ? out : "");
    free(out);
    const char *plugins[] = { "loopback", "bridge", "portmap", "firewall" };
    unsigned adds = 0;
    for (size_t i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++) {
        adds += check_plugin_log(plugins[i]);
    }
    CHECKF(adds > 0, "no plugin ADD recorded");
    printf("test_soak: %u plugin ADDs, each matched by a DEL\n", adds);
}

/* --- setup ---------------------------------------------------------------------------------- */

static bool write_conf(const char *file, const char *json)
{
    char *path = tl_asprintf("%s/%s", g_env.conf, file);
    bool ok = CHECK_EQ_INT(tl_write_file(path, json), 0);
    free(path);
    return ok;
}

static bool setup(void)
{
    g_env.root = tl_tmpdir("soak");
    if (g_env.root == NULL) {
        return false;
    }
    g_env.conf = tl_asprintf("%s/conf", g_env.root);
    g_env.cache = tl_asprintf("%s/cache", g_env.root);
    g_env.bin = tl_asprintf("%s/bin", g_env.root);
    bool ok = CHECK_EQ_INT(tl_run(NULL, "mkdir -p '%s' '%s' '%s'", g_env.conf, g_env.cache, g_env.bin), 0);
    const char *plugins[] = { "loopback", "bridge", "portmap", "firewall" };
    for (size_t i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++) {
        ok = CHECK_EQ_INT(tl_install_recorder(g_env.bin, plugins[i]), 0) && ok;
    }
    ok = write_conf("10-soaka.conflist",
                    "{\"cniVersion\":\"1.0.0\",\"name\":\"soaka\",\"plugins\":["
                    "{\"type\":\"bridge\",\"bridge\":\"soakbr-a\",\"ipam\":{\"type\":\"host-local\","
                    "\"subnet\":\"10.251.100.0/24\"}},"
                    "{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true}}]}") && ok;
    ok = write_conf("20-soakb.conflist",
                    "{\"cniVersion\":\"0.4.0\",\"name\":\"soakb\",\"plugins\":["
                    "{\"type\":\"bridge\",\"bridge\":\"soakbr-b\",\"ipam\":{\"type\":\"host-local\","
                    "\"subnet\":\"10.251.101.0/24\"}},{\"type\":\"firewall\"}]}") && ok;
    return ok;
}

static void teardown(void)
{
    free(g_env.conf);
    free(g_env.cache);
    free(g_env.bin);
    tl_rmtree(g_env.root);
    free(g_env.root);
}

int main(void)
{
    bool valgrind = under_valgrind();
    unsigned ops = valgrind ? OPS_VALGRIND : OPS_PLAIN;
    g_limit_s = valgrind ? LIMIT_VALGRIND_S : LIMIT_PLAIN_S;
    if (!setup() || !CHECK(network_module_init("cni", g_env.cache, g_env.conf, g_env.bin))) {
        teardown();
        return test_summary("test_soak");
    }
    network_module_set_plugin_timeout(60);
    pthread_t watchdog;
    CHECK(pthread_create(&watchdog, NULL, watchdog_main, NULL) == 0);
    serial_baseline();

    double start = tl_now();
    struct worker workers[THREADS];
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (struct worker){ .index = t, .rng = 0x9E3779B9u ^ (uint32_t)(t + 1) * 2654435761u, .ops = ops,
                                      .native_net = -1 };
        CHECK(pthread_create(&threads[t], NULL, worker_main, &workers[t]) == 0);
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
    }
    double elapsed = tl_now() - start;
    clean_up_and_check(workers);

    pthread_mutex_lock(&g_done_lock);
    g_done = true;
    pthread_cond_signal(&g_done_cond);
    pthread_mutex_unlock(&g_done_lock);
    pthread_join(watchdog, NULL);

    unsigned counts[OP_KINDS] = { 0 };
    for (int t = 0; t < THREADS; t++) {
        for (int k = 0; k < OP_KINDS; k++) {
            counts[k] += workers[t].counts[k];
        }
    }
    printf("test_soak: %u operations (%d threads x %u) in %.1f s%s:", THREADS * ops, THREADS, ops, elapsed,
           valgrind ? " under valgrind" : "");
    for (int k = 0; k < OP_KINDS; k++) {
        printf(" %s %u%s", g_op_names[k], counts[k], k + 1 < OP_KINDS ? "," : "\n");
    }
    CHECKF(elapsed < g_limit_s, "the operations took %.1f s (limit %d s)", elapsed, g_limit_s);
    network_module_exit();
    tl_clear_errmsg();
    teardown();
    return test_summary("test_soak");
}
