/*
 * The library's log as the daemon receives it: network_module_set_log_sink's callback gets a WARN
 * for a skipped conf file and for a corrupt cache entry met by DEL, one DEBUG record per plugin run
 * (as many as the recording plugin saw, with network, container, plugin and command), an ERROR
 * whose text is network_module_last_error(), nothing above its maximum level; a callback may call
 * the library; 16 threads attach and detach while another swaps the callback, and no record is
 * lost or torn. The legacy logger (cni_log_init) writes the same records as lines to a fifo and to
 * stdout, filtered by priority and prefixed per thread.
 *
 * Every plugin is the recording plugin (examples/cni_recorder.rs); netns paths are made up.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clibcni/api.h"
#include "isulad_host.h"
#include "network_api.h"
#include "testlib.h"

#define CRI NETWOKR_API_TYPE_CRI
#define NET "clog-net"
#define THREADS 16
#define PODS 3
#define SWAPS 200

static struct tl_env g_dirs;
static const char *const g_plugins[] = { "loopback", "logA", "logB", NULL };

/* --- a callback that keeps copies of what it receives ------------------------------------------ */

struct rec {
    int level;
    char *message, *network, *container_id, *plugin, *command;
};

struct store {
    pthread_mutex_t lock;
    struct rec *items;
    size_t len, cap;
};

static struct store g_store = { .lock = PTHREAD_MUTEX_INITIALIZER };

static char *dup_or_null(const char *s)
{
    return s == NULL ? NULL : tl_strdup(s);
}

static void keep(const struct network_module_log_record *r, void *user_data)
{
    struct store *s = user_data;
    pthread_mutex_lock(&s->lock);
    if (s->len == s->cap) {
        s->cap = s->cap == 0 ? 64 : s->cap * 2;
        s->items = tl_nonnull(realloc(s->items, s->cap * sizeof(*s->items)));
    }
    s->items[s->len++] = (struct rec){ r->level, tl_strdup(r->message), dup_or_null(r->network),
                                       dup_or_null(r->container_id), dup_or_null(r->plugin),
                                       dup_or_null(r->command) };
    pthread_mutex_unlock(&s->lock);
}

static void store_clear(struct store *s)
{
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->len; i++) {
        free(s->items[i].message);
        free(s->items[i].network);
        free(s->items[i].container_id);
        free(s->items[i].plugin);
        free(s->items[i].command);
    }
    free(s->items);
    s->items = NULL;
    s->len = s->cap = 0;
    pthread_mutex_unlock(&s->lock);
}

static bool eq(const char *a, const char *b)
{
    return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* The records of a level whose message holds `part` (NULL: any). */
static size_t count_records(int level, const char *part)
{
    size_t n = 0;
    for (size_t i = 0; i < g_store.len; i++) {
        n += g_store.items[i].level == level && (part == NULL || strstr(g_store.items[i].message, part) != NULL);
    }
    return n;
}

static const struct rec *find_record(int level, const char *part)
{
    for (size_t i = 0; i < g_store.len; i++) {
        if (g_store.items[i].level == level && strstr(g_store.items[i].message, part) != NULL) {
            return &g_store.items[i];
        }
    }
    return NULL;
}

/* DEBUG records of plugin runs of one command for one container. */
static size_t count_runs(const char *plugin, const char *command, const char *container)
{
    size_t n = 0;
    for (size_t i = 0; i < g_store.len; i++) {
        const struct rec *r = &g_store.items[i];
        n += r->level == NETWORK_LOG_DEBUG && eq(r->plugin, plugin) && eq(r->command, command) &&
             (container == NULL || eq(r->container_id, container));
    }
    return n;
}

static size_t recorded_calls(const char *command, const char *container)
{
    size_t n = 0;
    for (const char *const *p = g_plugins; *p != NULL; p++) {
        n += tl_count_calls(g_dirs.bin, *p, command, container);
    }
    return n;
}

static size_t logged_runs(const char *command, const char *container)
{
    size_t n = 0;
    for (const char *const *p = g_plugins; *p != NULL; p++) {
        n += count_runs(*p, command, container);
    }
    return n;
}

static network_api_conf *pod(const char *id)
{
    char netns[96];
    snprintf(netns, sizeof(netns), "/var/run/netns/clog-%s", id);
    return tl_pod_conf(id, netns, "name", "ns", false);
}

/* A pod attached (checked); the caller detaches and frees it. */
static network_api_conf *attach_pod(const char *id)
{
    network_api_conf *conf = pod(id);
    network_api_result_list *result = NULL;
    CHECKF(network_module_attach(conf, CRI, &result) == 0, "attach %s: %s", id, tl_errmsg_text());
    free_network_api_result_list(result);
    return conf;
}

/* --- the cases ---------------------------------------------------------------------------------- */

static void skipped_conf_file_warns(void)
{
    char *broken = tl_asprintf("%s/05-broken.conf", g_dirs.conf);
    const struct rec *r = find_record(NETWORK_LOG_WARN, broken);
    CHECKF(r != NULL, "no WARN about %s among %zu records", broken, g_store.len);
    if (r != NULL) {
        CHECKF(tl_contains(r->message, "skipping CNI configuration"), "%s", r->message);
    }
    /* A reload that changed something is INFO; the skipped file, still there, is not logged again. */
    CHECK(tl_write_conf(TL_HERE, g_dirs.conf, "30-extra.conflist",
                        "{\"cniVersion\":\"1.0.0\",\"name\":\"clog-extra\",\"plugins\":[{\"type\":\"logA\"}]}"));
    CHECK_EQ_INT(network_module_update(CRI), 0);
    CHECK_EQ_INT(count_records(NETWORK_LOG_INFO, "reloaded: added clog-extra"), 1);
    char *extra = tl_asprintf("%s/30-extra.conflist", g_dirs.conf);
    CHECK_EQ_INT(unlink(extra), 0);
    CHECK_EQ_INT(network_module_update(CRI), 0);
    CHECK_EQ_INT(count_records(NETWORK_LOG_INFO, "reloaded: removed clog-extra"), 1);
    CHECK_EQ_INT(count_records(NETWORK_LOG_WARN, broken), 1);
    free(extra);
    free(broken);
}

static void plugin_runs_are_debug_records(const char *id)
{
    network_api_conf *conf = attach_pod(id);
    CHECK(tl_detach_ok(conf, CRI, false, TL_HERE));
    size_t adds = recorded_calls("ADD", id), dels = recorded_calls("DEL", id);
    CHECK_EQ_INT(adds, 3); /* loopback, logA, logB */
    CHECK_EQ_INT(dels, 3);
    CHECK_EQ_INT(logged_runs("ADD", id), adds);
    CHECK_EQ_INT(logged_runs("DEL", id), dels);
    for (size_t i = 0; i < g_store.len; i++) {
        const struct rec *r = &g_store.items[i];
        if (r->level != NETWORK_LOG_DEBUG || !eq(r->plugin, "logA") || !eq(r->command, "ADD")) {
            continue;
        }
        CHECK_EQ_STR(r->network, NET);
        CHECK_EQ_STR(r->container_id, id);
        char *head = tl_asprintf("ADD logA network=" NET " container=%s ifname=eth0: ok in ", id);
        CHECKF(strncmp(r->message, head, strlen(head)) == 0, "%s", r->message);
        CHECKF(tl_contains(r->message, " ms"), "%s", r->message);
        free(head);
    }
    free_network_api_conf(conf);
}

static void corrupt_cache_on_del_warns(const char *id)
{
    network_api_conf *conf = attach_pod(id);
    char *cache = tl_cache_path(g_dirs.cache, NET, id, "eth0");
    CHECK_EQ_INT(tl_write_file(cache, "{not json"), 0);
    CHECK(tl_detach_ok(conf, CRI, false, TL_HERE));
    const struct rec *r = find_record(NETWORK_LOG_WARN, "ignoring unreadable cache of network \"" NET "\"");
    if (CHECKF(r != NULL, "no WARN for the corrupt cache entry")) {
        CHECK_EQ_STR(r->network, NET);
        CHECK_EQ_STR(r->container_id, id);
    }
    free(cache);
    free_network_api_conf(conf);
}

static void errors_are_logged_verbatim(const char *id)
{
    network_api_conf *conf = pod(id);
    tl_conf_add_extra(conf, "clog-missing", "eth1");
    network_api_result_list *result = NULL;
    CHECK_EQ_INT(network_module_attach(conf, CRI, &result), -1);
    const char *last = network_module_last_error();
    if (CHECK(last != NULL) && CHECK(g_store.len > 0)) {
        const struct rec *r = &g_store.items[g_store.len - 1];
        CHECK_EQ_INT(r->level, NETWORK_LOG_ERROR);
        CHECK_EQ_STR(r->message, last);
    }
    free_network_api_result_list(result);
    free_network_api_conf(conf);
}

static void levels_above_the_maximum_are_not_delivered(const char *id)
{
    store_clear(&g_store);
    CHECK_EQ_INT(network_module_set_log_sink(keep, &g_store, NETWORK_LOG_WARN), 0);
    network_api_conf *conf = attach_pod(id);
    CHECK(tl_detach_ok(conf, CRI, false, TL_HERE));
    CHECK_EQ_INT(g_store.len, 0);
    CHECK_EQ_INT(network_module_set_log_sink(keep, &g_store, 5), -1);
    CHECK(tl_contains(network_module_last_error(), "invalid log level 5"));
    CHECK_EQ_INT(network_module_set_log_sink(keep, &g_store, -1), -1);
    CHECK_EQ_INT(network_module_set_log_sink(keep, &g_store, NETWORK_LOG_DEBUG), 0);
    free_network_api_conf(conf);
}

/* A callback that calls the library, even for the very container whose plugin run it is told
 * about (whose lock the library held while the plugin ran), and replaces itself: no deadlock. */
static atomic_int g_reentrant_calls;
static atomic_int g_reentrant_checks;
static atomic_int g_reentrant_check_rc = 1;
static network_api_conf *g_reentrant_conf;

static void reentrant(const struct network_module_log_record *r, void *user_data)
{
    (void)user_data;
    atomic_fetch_add(&g_reentrant_calls, 1);
    if (eq(r->command, "ADD") && eq(r->plugin, "logB") && atomic_fetch_add(&g_reentrant_checks, 1) == 0) {
        network_api_result_list *result = NULL;
        atomic_store(&g_reentrant_check_rc, network_module_check(g_reentrant_conf, CRI, &result));
        free_network_api_result_list(result);
    }
    (void)network_module_ready(CRI);
    (void)network_module_set_log_sink(reentrant, NULL, NETWORK_LOG_DEBUG);
}

static void callback_may_call_the_library(const char *id)
{
    CHECK_EQ_INT(network_module_set_log_sink(reentrant, NULL, NETWORK_LOG_DEBUG), 0);
    /* Set before the attach: the callback uses it when the attach returns. */
    g_reentrant_conf = pod(id);
    network_api_result_list *result = NULL;
    CHECKF(network_module_attach(g_reentrant_conf, CRI, &result) == 0, "attach: %s", tl_errmsg_text());
    free_network_api_result_list(result);
    CHECK(tl_detach_ok(g_reentrant_conf, CRI, false, TL_HERE));
    CHECK_EQ_INT(atomic_load(&g_reentrant_checks), 1);
    CHECK_EQ_INT(atomic_load(&g_reentrant_check_rc), 0);
    /* The CHECK made from inside the callback ran its plugins, but its own records were dropped. */
    CHECK_EQ_INT(recorded_calls("CHECK", id), 2); /* logA, logB: loopback is not checked */
    CHECK_EQ_INT(atomic_load(&g_reentrant_calls), (long long)recorded_calls("ADD", id) + recorded_calls("DEL", id));
    free_network_api_conf(g_reentrant_conf);
}

/* --- 16 threads while the callback is swapped ----------------------------------------------- */

static atomic_long g_delivered[2];
static atomic_long g_torn;
static atomic_int g_workers_left;

/* Each delivery must be one whole record: the message names the record's own command, plugin and
 * container. */
static void counting(const struct network_module_log_record *r, void *user_data)
{
    atomic_long *counter = user_data;
    if (r->level != NETWORK_LOG_DEBUG || r->plugin == NULL) {
        return;
    }
    char *head = tl_asprintf("%s %s network=%s container=%s ifname=", r->command, r->plugin,
                             r->network ? r->network : "(null)", r->container_id ? r->container_id : "(null)");
    if (r->network == NULL || r->container_id == NULL || strncmp(r->message, head, strlen(head)) != 0) {
        atomic_fetch_add(&g_torn, 1);
    }
    free(head);
    atomic_fetch_add(counter, 1);
}

static void *worker(void *arg)
{
    int thread = (int)(long)arg;
    for (int i = 0; i < PODS; i++) {
        char id[64];
        snprintf(id, sizeof(id), "clogconc-%ld-%d-%d", (long)getpid(), thread, i);
        network_api_conf *conf = attach_pod(id);
        CHECK(tl_detach_ok(conf, CRI, false, TL_HERE));
        free_network_api_conf(conf);
    }
    atomic_fetch_sub(&g_workers_left, 1);
    return NULL;
}

static void *swapper(void *arg)
{
    (void)arg;
    for (long n = 0; atomic_load(&g_workers_left) > 0 || n < SWAPS; n++) {
        CHECK_EQ_INT(network_module_set_log_sink(counting, &g_delivered[n % 2], NETWORK_LOG_DEBUG), 0);
        sched_yield();
    }
    return NULL;
}

static void concurrent_logging_while_swapping(void)
{
    atomic_store(&g_workers_left, THREADS);
    CHECK_EQ_INT(network_module_set_log_sink(counting, &g_delivered[0], NETWORK_LOG_DEBUG), 0);
    pthread_t threads[THREADS], swap;
    for (long i = 0; i < THREADS; i++) {
        CHECK_EQ_INT(pthread_create(&threads[i], NULL, worker, (void *)i), 0);
    }
    CHECK_EQ_INT(pthread_create(&swap, NULL, swapper, NULL), 0);
    for (int i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
    }
    pthread_join(swap, NULL);
    size_t runs = 0;
    for (int t = 0; t < THREADS; t++) {
        for (int i = 0; i < PODS; i++) {
            char id[64];
            snprintf(id, sizeof(id), "clogconc-%ld-%d-%d", (long)getpid(), t, i);
            runs += recorded_calls("ADD", id) + recorded_calls("DEL", id);
        }
    }
    CHECK_EQ_INT(runs, THREADS * PODS * 6);
    /* Every run reached exactly one of the two callbacks, whole. */
    CHECK_EQ_INT(atomic_load(&g_delivered[0]) + atomic_load(&g_delivered[1]), (long long)runs);
    CHECK(atomic_load(&g_delivered[0]) > 0 && atomic_load(&g_delivered[1]) > 0);
    CHECK_EQ_INT(atomic_load(&g_torn), 0);
    network_module_set_log_sink(NULL, NULL, 0);
}

/* --- the legacy logger ---------------------------------------------------------------------- */

/* Attaches and detaches one pod; returns the plugin runs. */
static size_t one_cycle(const char *id)
{
    network_api_conf *conf = attach_pod(id);
    CHECK(tl_detach_ok(conf, CRI, false, TL_HERE));
    free_network_api_conf(conf);
    return recorded_calls("ADD", id) + recorded_calls("DEL", id);
}

static size_t count_lines(const char *text, const char *part)
{
    size_t n = 0;
    for (const char *p = text; p != NULL && (p = strstr(p, part)) != NULL; p += strlen(part)) {
        n++;
    }
    return n;
}

static char *read_all(int fd)
{
    size_t len = 0, cap = 4096;
    char *buf = tl_nonnull(malloc(cap));
    for (;;) {
        if (len + 1024 > cap) {
            cap *= 2;
            buf = tl_nonnull(realloc(buf, cap));
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n <= 0) {
            break;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

static void legacy_fifo_delivers_lines(const char *id, const char *id2)
{
    char *fifo = tl_asprintf("%s/log/clibcni.fifo", g_dirs.root);
    CHECK_EQ_INT(cni_log_init("fifo", fifo, "debug"), 0);
    int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (!CHECKF(fd >= 0, "open %s: %s", fifo, strerror(errno))) {
        free(fifo);
        return;
    }
    cni_set_log_prefix("isulad-worker-thread");
    size_t runs = one_cycle(id);
    cni_free_log_prefix();
    char *text = read_all(fd);
    /* The prefix shows its last 15 bytes, right-aligned; then time, level, name, location, text. */
    char *marker = tl_asprintf(" DEBUG    clibcni - src/cni/runtime.rs:clibcni::cni::runtime:");
    CHECK_EQ_INT(count_lines(text, marker), runs);
    CHECK_EQ_INT(count_lines(text, "d-worker-thread "), runs);
    CHECK_EQ_INT(count_lines(text, "\n"), runs);
    CHECKF(strncmp(text, "d-worker-thread 20", 18) == 0, "first line: %.120s", text);
    free(text);

    /* "warn" lets no DEBUG line through. */
    CHECK_EQ_INT(cni_log_init("fifo", fifo, "warn"), 0);
    close(fd);
    fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    one_cycle(id2);
    text = read_all(fd);
    CHECK_EQ_INT(count_lines(text, " DEBUG "), 0);
    free(text);
    free(marker);
    close(fd);
    CHECK_EQ_INT(cni_log_init(NULL, NULL, "debug"), 0);
    free(fifo);
}

static void legacy_stdout_driver(const char *id)
{
    char *path = tl_asprintf("%s/stdout.txt", g_dirs.root);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (!CHECK(saved >= 0 && out >= 0)) {
        free(path);
        return;
    }
    dup2(out, STDOUT_FILENO);
    close(out);
    CHECK_EQ_INT(cni_log_init("stdout", NULL, "DEBUG"), 0);
    size_t runs = one_cycle(id);
    CHECK_EQ_INT(cni_log_init(NULL, NULL, "debug"), 0); /* no driver: nothing is logged */
    one_cycle(id);
    dup2(saved, STDOUT_FILENO);
    close(saved);
    char *text = tl_read_file(path);
    CHECK_EQ_INT(count_lines(text, "        clibcni 20"), runs);
    CHECK_EQ_INT(count_lines(text, " DEBUG    clibcni - "), runs);
    free(text);
    free(path);
}

int main(void)
{
    if (!tl_env_init(&g_dirs, "log-sink", g_plugins, true, TL_HERE) ||
        !tl_write_conf(TL_HERE, g_dirs.conf, "10-log.conflist",
                       "{\"cniVersion\":\"1.0.0\",\"name\":\"" NET "\",\"plugins\":[{\"type\":\"logA\"},{\"type\":\"logB\"}]}") ||
        !tl_write_conf(TL_HERE, g_dirs.conf, "05-broken.conf", "{")) {
        tl_env_free(&g_dirs);
        return test_summary("test_log_sink");
    }
    char ids[8][TL_ID_LEN];
    tl_make_ids(ids, 8, "clog");
    /* Registered before init, so the first reload's warnings arrive. */
    CHECK_EQ_INT(network_module_set_log_sink(keep, &g_store, NETWORK_LOG_DEBUG), 0);
    if (CHECK(network_module_init("cni", g_dirs.cache, g_dirs.conf, g_dirs.bin))) {
        skipped_conf_file_warns();
        plugin_runs_are_debug_records(ids[0]);
        corrupt_cache_on_del_warns(ids[1]);
        errors_are_logged_verbatim(ids[2]);
        levels_above_the_maximum_are_not_delivered(ids[3]);
        callback_may_call_the_library(ids[4]);
        concurrent_logging_while_swapping();
        legacy_fifo_delivers_lines(ids[5], ids[6]);
        legacy_stdout_driver(ids[7]);
        tl_check_no_results(g_dirs.cache, TL_HERE);
        network_module_exit();
    }
    network_module_set_log_sink(NULL, NULL, 0);
    store_clear(&g_store);
    tl_env_free(&g_dirs);
    return test_summary("test_log_sink");
}
