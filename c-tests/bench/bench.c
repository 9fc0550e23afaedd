/*
 * clibcni_bench — workloads #1–#6 of the benchmark (scripts/bench.sh runs it inside a fresh
 * network namespace; see README "Benchmarks"). Plays the iSulad daemon: links libclibcni and the
 * test host's map/filters/error functions, and calls network_api.h like the daemon does.
 *
 *   #1 floor: posix_spawn of the trivial plugin with the library's stdin and environment,
 *      stdout read, child reaped (µs per spawn)
 *   #2 "cri" attach + check + detach of pods on a 2-plugin conflist of the trivial plugin (the
 *      loopback plugin is the trivial plugin too), serial (µs per plugin call), interleaved with
 *      #1 in every repetition so that both see the same machine; #2a/#2b the same with 200 and
 *      1000 extra open fds in the caller (medians of the per-round ratios; 48 short rounds)
 *   #3 the same with 2 and 8 threads on distinct pods (throughput vs serial)
 *   #4 network_module_update on 1024 conflists: cold (every file new), then unchanged
 *   #5 native conf_create with 1000 native networks in the conf dir; conf_list of 1000
 *   #6 RSS after 10 000 attach/detach cycles vs after 100
 *
 * Usage: clibcni_bench --plugin <trivial_plugin> --work <empty dir> [--quick] [--only <digits>]
 * (--quick: fewer repetitions; --only 45: only workloads #4 and #5, for profiling.)
 * Prints one markdown table row per figure on stdout; progress goes to stderr.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <ifaddrs.h>
#include <pthread.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "isulad_host.h"
#include "network_api.h"

extern char **environ;

#define CRI NETWOKR_API_TYPE_CRI
#define NATIVE NETWOKR_API_TYPE_NATIVE
/* Plugin calls of one attach (loopback + 2) + check (2) + detach (loopback + 2). */
#define CALLS_PER_CYCLE 8
/* … and of one attach + detach. */
#define CALLS_PER_ATTACH_DETACH 6
#define CRI_CONFLISTS 1024
#define NATIVE_NETWORKS 1000
#define REAL_PLUGIN_DIR "/usr/lib/cni"

static struct {
    const char *plugin;
    const char *work;
    bool quick;
    const char *only; /* e.g. "25": run #2 and #5 only (#1 always goes with #2) */
} g_opt;

static bool selected(char workload)
{
    return g_opt.only == NULL || strchr(g_opt.only, workload) != NULL;
}

/* --- small utilities -------------------------------------------------------------------------- */

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "clibcni_bench: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        die("out of memory");
    }
    return s;
}

static char *xstrdup(const char *s)
{
    char *copy = strdup(s);
    if (copy == NULL) {
        die("out of memory");
    }
    return copy;
}

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* CPU time (user + system) this process has used, in µs (plugins not included). */
static double cpu_us(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL || fputs(text, f) < 0 || fclose(f) != 0) {
        die("cannot write %s: %s", path, strerror(errno));
    }
}

static void copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_CLOEXEC);
    int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
    if (in < 0 || out < 0) {
        die("cannot copy %s to %s: %s", from, to, strerror(errno));
    }
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof(buf))) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            die("cannot write %s: %s", to, strerror(errno));
        }
    }
    close(in);
    close(out);
}

static char *make_dir(const char *fmt, const char *name)
{
    char *path = xasprintf(fmt, g_opt.work, name);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        die("cannot create %s: %s", path, strerror(errno));
    }
    return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path) == 0 || errno == ENOENT ? 0 : -1;
}

static void remove_tree(const char *path)
{
    nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS);
}

/* VmRSS of this process in KiB. */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "VmRSS: %ld kB", &kib) == 1) {
            break;
        }
    }
    if (f != NULL) {
        fclose(f);
    }
    return kib;
}

static int host_address_count(void)
{
    struct ifaddrs *all = NULL;
    int n = 0;
    if (getifaddrs(&all) != 0) {
        return -1;
    }
    for (struct ifaddrs *ifa = all; ifa != NULL; ifa = ifa->ifa_next) {
        if (ifa->ifa_addr != NULL && (ifa->ifa_addr->sa_family == AF_INET || ifa->ifa_addr->sa_family == AF_INET6)) {
            n++;
        }
    }
    freeifaddrs(all);
    return n;
}

/* --- statistics -------------------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct stats {
    double median, min, max;
};

static struct stats stats_of(const double *values, size_t n)
{
    double *sorted = malloc(n * sizeof(double));
    if (sorted == NULL || n == 0) {
        die("no samples");
    }
    memcpy(sorted, values, n * sizeof(double));
    qsort(sorted, n, sizeof(double), cmp_double);
    struct stats s = { n % 2 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2, sorted[0], sorted[n - 1] };
    free(sorted);
    return s;
}

/* "median (min–max)" with the given number of decimals. */
static char *fmt_stats(struct stats s, int decimals, const char *unit)
{
    return xasprintf("%.*f%s (%.*f–%.*f)", decimals, s.median, unit, decimals, s.min, decimals, s.max);
}

static void row(const char *id, const char *workload, const char *measured, const char *target, bool met)
{
    printf("| %s | %s | %s | %s | %s |\n", id, workload, measured, target, met ? "yes" : "**no**");
    fflush(stdout);
}

/* --- the plugin directory and conf dirs ---------------------------------------------------------- */

struct setup {
    char *bin;      /* the trivial plugin as loopback, bench-a and bench-b */
    char *conf;     /* one conflist: bench-a, bench-b */
    char *cache;
    char *plugin_a; /* bin/bench-a, spawned directly by the floor */
};

static const char BENCH_CONFLIST[] =
    "{\"cniVersion\":\"1.0.0\",\"name\":\"bench-net\",\"plugins\":[{\"type\":\"bench-a\"},{\"type\":\"bench-b\"}]}\n";

static struct setup make_setup(void)
{
    struct setup s;
    s.bin = make_dir("%s/%s", "bin");
    s.conf = make_dir("%s/%s", "net.d");
    s.cache = make_dir("%s/%s", "cache");
    static const char *const names[] = { "loopback", "bench-a", "bench-b" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *to = xasprintf("%s/%s", s.bin, names[i]);
        copy_file(g_opt.plugin, to);
        free(to);
    }
    s.plugin_a = xasprintf("%s/bench-a", s.bin);
    char *list = xasprintf("%s/10-bench.conflist", s.conf);
    write_file(list, BENCH_CONFLIST);
    free(list);
    return s;
}

static const char *last_error(void)
{
    const char *e = network_module_last_error();
    return e == NULL ? "?" : e;
}

static void init_module(const char *plugin, const char *cache, const char *conf, const char *bin)
{
    if (!network_module_init(plugin, cache, conf, bin)) {
        die("network_module_init failed: %s", last_error());
    }
}

/* --- #1: the floor ------------------------------------------------------------------------------- */

/* What the library sends the second plugin of the chain on ADD (the longest of its requests). */
static const char FLOOR_STDIN[] =
    "{\"type\":\"bench-b\",\"name\":\"bench-net\",\"cniVersion\":\"1.0.0\",\"prevResult\":{\"cniVersion\":\"1.0.0\","
    "\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"0a:58:0a:58:00:02\",\"sandbox\":\"/run/netns/bench-floor\"}],"
    "\"ips\":[{\"address\":\"10.88.0.2/16\",\"gateway\":\"10.88.0.1\",\"interface\":0}]}}";

/* The six CNI variables, then the process environment: what the library passes. */
static char **floor_env(void)
{
    static const char *const cni[] = { "CNI_COMMAND=ADD",    "CNI_CONTAINERID=bench-floor",
                                       "CNI_NETNS=/run/netns/bench-floor", "CNI_ARGS=",
                                       "CNI_IFNAME=eth0",    "CNI_PATH=/nonexistent" };
    size_t n = 0;
    while (environ[n] != NULL) {
        n++;
    }
    const size_t ncni = sizeof(cni) / sizeof(cni[0]);
    char **env = calloc(ncni + n + 1, sizeof(char *));
    if (env == NULL) {
        die("out of memory");
    }
    for (size_t i = 0; i < ncni; i++) {
        env[i] = (char *)cni[i];
    }
    for (size_t i = 0; i < n; i++) {
        env[ncni + i] = environ[i];
    }
    return env;
}

/* One bare spawn: stdin and stdout pipes (stderr to /dev/null), write, read to EOF, reap. */
static void floor_spawn(const char *path, char **env, int devnull)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
        die("pipe: %s", strerror(errno));
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in[0], 0);
    posix_spawn_file_actions_adddup2(&fa, out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, devnull, 2);
    char *argv[] = { (char *)path, NULL };
    pid_t pid;
    int rc = posix_spawn(&pid, path, &fa, NULL, argv, env);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) {
        die("posix_spawn %s: %s", path, strerror(rc));
    }
    close(in[0]);
    close(out[1]);
    if (write(in[1], FLOOR_STDIN, sizeof(FLOOR_STDIN) - 1) != (ssize_t)(sizeof(FLOOR_STDIN) - 1)) {
        die("write: %s", strerror(errno));
    }
    close(in[1]);
    char buf[4096];
    size_t got = 0;
    ssize_t n;
    while ((n = read(out[0], buf, sizeof(buf))) > 0) {
        got += (size_t)n;
    }
    close(out[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (got == 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        die("the trivial plugin failed");
    }
}

/* µs per spawn over `count` spawns. */
static double floor_batch(const char *path, char **env, int devnull, int count)
{
    double start = now_us();
    for (int i = 0; i < count; i++) {
        floor_spawn(path, env, devnull);
    }
    return (now_us() - start) / count;
}

/* --- #2/#3/#6: pods ------------------------------------------------------------------------------ */

static network_api_conf *pod_conf(const char *pod_id)
{
    network_api_conf *conf = calloc(1, sizeof(*conf));
    if (conf == NULL) {
        die("out of memory");
    }
    conf->name = xasprintf("%s-name", pod_id);
    conf->ns = xstrdup("bench");
    conf->pod_id = xstrdup(pod_id);
    conf->netns_path = xasprintf("/run/netns/%s", pod_id);
    conf->default_interface = xstrdup("eth0");
    return conf;
}

static void must(int rc, const char *what, const char *pod)
{
    if (rc != 0) {
        die("%s of %s failed: %s", what, pod, last_error());
    }
}

/* attach (+ check) + detach of one pod. */
static void pod_cycle(const char *pod_id, bool with_check)
{
    network_api_conf *conf = pod_conf(pod_id);
    network_api_result_list *result = NULL;
    must(network_module_attach(conf, CRI, &result), "attach", pod_id);
    free_network_api_result_list(result);
    if (with_check) {
        result = NULL;
        must(network_module_check(conf, CRI, &result), "check", pod_id);
        free_network_api_result_list(result);
    }
    must(network_module_detach(conf, CRI), "detach", pod_id);
    free_network_api_conf(conf);
}

/* µs per plugin call over `count` attach+check+detach cycles of pods <tag>-<i>. */
static double pod_batch(const char *tag, int count)
{
    double start = now_us();
    for (int i = 0; i < count; i++) {
        char pod[64];
        snprintf(pod, sizeof(pod), "%s-%d", tag, i);
        pod_cycle(pod, true);
    }
    return (now_us() - start) / (count * CALLS_PER_CYCLE);
}

/* Extra fds a daemon holds (sockets, fifos, logs): /dev/null opened without O_CLOEXEC, the kind the library must
 * close in the child itself. */
#define EXTRA_FD_COUNTS 3
static const int EXTRA_FDS[EXTRA_FD_COUNTS] = { 0, 200, 1000 };

static void open_extra_fds(int *fds, int from, int to)
{
    for (int i = from; i < to; i++) {
        fds[i] = open("/dev/null", O_RDONLY);
        if (fds[i] < 0) {
            die("open /dev/null: %s", strerror(errno));
        }
    }
}

static void close_extra_fds(const int *fds, int count)
{
    for (int i = 0; i < count; i++) {
        close(fds[i]);
    }
}

/* Room for 1000 extra fds besides the library's own. */
static void raise_fd_limit(void)
{
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) != 0) {
        die("getrlimit: %s", strerror(errno));
    }
    if (lim.rlim_cur < 4096 && lim.rlim_max > lim.rlim_cur) {
        lim.rlim_cur = lim.rlim_max < 4096 ? lim.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
}

/* Short rounds, many of them: on a shared machine the load changes from one second to the next, and the figures
 * of one round (the floor and the library at 0, 200 and 1000 extra fds, back to back) see the same load. */
#define MAX_ROUNDS 64

static void bench_spawn_vs_library(const struct setup *s)
{
    const int rounds = g_opt.quick ? 8 : 48;
    const int cycles = 10; /* pod cycles per figure and round: 80 plugin calls */
    const int spawns = cycles * CALLS_PER_CYCLE;
    char **env = floor_env();
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    static int extra[1000];
    double floor[MAX_ROUNDS], lib[EXTRA_FD_COUNTS][MAX_ROUNDS], ratio[EXTRA_FD_COUNTS][MAX_ROUNDS], flat[MAX_ROUNDS];
    double floor_cpu[MAX_ROUNDS], cpu_ratio[EXTRA_FD_COUNTS][MAX_ROUNDS];
    raise_fd_limit();
    init_module("cni", s->cache, s->conf, s->bin);
    floor_batch(s->plugin_a, env, devnull, spawns); /* warm-up */
    pod_batch("warm", cycles);
    for (int r = 0; r < rounds; r++) {
        double cpu0 = cpu_us();
        floor[r] = floor_batch(s->plugin_a, env, devnull, spawns);
        floor_cpu[r] = (cpu_us() - cpu0) / spawns;
        for (int k = 0, open_now = 0; k < EXTRA_FD_COUNTS; k++) {
            open_extra_fds(extra, open_now, EXTRA_FDS[k]);
            open_now = EXTRA_FDS[k];
            char tag[32];
            snprintf(tag, sizeof(tag), "serial%d-fds%d", r, EXTRA_FDS[k]);
            double cpu1 = cpu_us();
            lib[k][r] = pod_batch(tag, cycles);
            cpu_ratio[k][r] = (cpu_us() - cpu1) / (cycles * CALLS_PER_CYCLE) / floor_cpu[r];
            ratio[k][r] = lib[k][r] / floor[r];
        }
        close_extra_fds(extra, EXTRA_FDS[EXTRA_FD_COUNTS - 1]);
        flat[r] = lib[EXTRA_FD_COUNTS - 1][r] / lib[0][r];
        fprintf(stderr,
                "  round %d: floor %.1f µs/spawn (cpu %.1f); library µs/call: 0 fds %.1f = %.3f×, 200 fds %.1f = "
                "%.3f×, 1000 fds %.1f = %.3f×; 1000/0 fds %.3f; caller cpu vs floor %.2f× %.2f× %.2f×\n",
                r, floor[r], floor_cpu[r], lib[0][r], ratio[0][r], lib[1][r], ratio[1][r], lib[2][r], ratio[2][r],
                flat[r], cpu_ratio[0][r], cpu_ratio[1][r], cpu_ratio[2][r]);
    }
    close(devnull);
    free(env);
    struct stats f = stats_of(floor, rounds), fc = stats_of(floor_cpu, rounds);
    char *fs = fmt_stats(f, 0, " µs"), *fcs = fmt_stats(fc, 0, " µs");
    char *what = xasprintf("%s per spawn (caller CPU %s), %d rounds × %d spawns", fs, fcs, rounds, spawns);
    row("1", "floor: posix_spawn of the static trivial plugin, same stdin + env, stdout read, reaped", what,
        "baseline", true);
    free(what);
    free(fs);
    free(fcs);
    static const char *const ids[EXTRA_FD_COUNTS] = { "2", "2a", "2b" };
    for (int k = 0; k < EXTRA_FD_COUNTS; k++) {
        struct stats l = stats_of(lib[k], rounds), q = stats_of(ratio[k], rounds), c = stats_of(cpu_ratio[k], rounds);
        char *ls = fmt_stats(l, 0, " µs"), *qs = fmt_stats(q, 3, "×"), *cs = fmt_stats(c, 2, "×");
        char *workload = k == 0 ? xasprintf("C ABI \"cri\": attach + check + detach, 2-plugin conflist + loopback, serial")
                                : xasprintf("same as #2 with %d extra open fds in the caller", EXTRA_FDS[k]);
        char *flat_text = NULL;
        struct stats d = stats_of(flat, rounds);
        if (k + 1 == EXTRA_FD_COUNTS) {
            char *ds = fmt_stats(d, 3, "×");
            flat_text = xasprintf("; **%s** of #2", ds);
            free(ds);
        }
        what = xasprintf("%s per call = **%s** of #1%s (caller CPU %s of #1's; %d rounds × %d pods × %d calls)", ls,
                         qs, flat_text != NULL ? flat_text : "", cs, rounds, cycles, CALLS_PER_CYCLE);
        bool met = q.median <= 1.10 && (flat_text == NULL || d.median <= 1.05);
        row(ids[k], workload, what, flat_text == NULL ? "≤ 1.10 × #1" : "≤ 1.10 × #1; ≤ 1.05 × #2", met);
        free(flat_text);
        free(what);
        free(workload);
        free(ls);
        free(qs);
        free(cs);
    }
}

/* The floor's spawns, shared read-only by every thread of #3's floor runs. */
struct floor_ctx {
    const char *path;
    char **env;
};

struct worker {
    int id;
    int count;             /* pod cycles, or spawns when floor is set */
    const char *tag;
    const struct floor_ctx *floor;
    pthread_barrier_t *start;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
    pthread_barrier_wait(w->start);
    for (int i = 0; i < w->count; i++) {
        if (w->floor != NULL) {
            floor_spawn(w->floor->path, w->floor->env, devnull);
            continue;
        }
        char pod[64];
        snprintf(pod, sizeof(pod), "%s-t%d-%d", w->tag, w->id, i);
        pod_cycle(pod, true);
    }
    close(devnull);
    return NULL;
}

/* Plugin calls (or bare spawns, with floor) per second with `threads` threads doing `total` cycles (spawns) between
 * them, each on its own pods. */
static double throughput(int threads, int total, const char *tag, const struct floor_ctx *floor)
{
    pthread_t tids[16];
    struct worker workers[16];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    for (int t = 0; t < threads; t++) {
        workers[t] = (struct worker) { t, total / threads, tag, floor, &start };
        if (pthread_create(&tids[t], NULL, worker_main, &workers[t]) != 0) {
            die("pthread_create failed");
        }
    }
    pthread_barrier_wait(&start);
    double begin = now_us();
    for (int t = 0; t < threads; t++) {
        pthread_join(tids[t], NULL);
    }
    double elapsed = now_us() - begin;
    pthread_barrier_destroy(&start);
    double calls = (double)(total / threads) * threads * (floor != NULL ? 1 : CALLS_PER_CYCLE);
    return calls / (elapsed / 1e6);
}

static void bench_threads(const struct setup *s)
{
    const int reps = g_opt.quick ? 3 : 7;
    const int total = g_opt.quick ? 16 : 96; /* pod cycles per measurement */
    struct floor_ctx floor = { s->plugin_a, floor_env() };
    double serial[16], two[16], eight[16], r2[16], r8[16], f2[16], f8[16];
    init_module("cni", s->cache, s->conf, s->bin);
    for (int r = 0; r < reps; r++) {
        char tag[32];
        snprintf(tag, sizeof(tag), "thr%d-a", r);
        serial[r] = throughput(1, total, tag, NULL);
        snprintf(tag, sizeof(tag), "thr%d-b", r);
        two[r] = throughput(2, total, tag, NULL);
        snprintf(tag, sizeof(tag), "thr%d-c", r);
        eight[r] = throughput(8, total, tag, NULL);
        double floor1 = throughput(1, total * CALLS_PER_CYCLE, NULL, &floor);
        double floor2 = throughput(2, total * CALLS_PER_CYCLE, NULL, &floor);
        double floor8 = throughput(8, total * CALLS_PER_CYCLE, NULL, &floor);
        r2[r] = two[r] / serial[r];
        r8[r] = eight[r] / two[r];
        f2[r] = floor2 / floor1;
        f8[r] = floor8 / floor2;
        fprintf(stderr,
                "  rep %d: 1 thread %.0f calls/s, 2 threads %.0f (%.2f×), 8 threads %.0f (%.2f× of 2); floor 1 thread "
                "%.0f spawns/s, 2 threads %.0f (%.2f×), 8 threads %.0f (%.2f× of 2)\n",
                r, serial[r], two[r], r2[r], eight[r], r8[r], floor1, floor2, f2[r], floor8, f8[r]);
    }
    free(floor.env);
    struct stats s1 = stats_of(serial, reps), s2 = stats_of(r2, reps), s8 = stats_of(r8, reps);
    struct stats sf2 = stats_of(f2, reps), sf = stats_of(f8, reps);
    char *a = fmt_stats(s1, 0, ""), *b = fmt_stats(s2, 2, "×"), *c = fmt_stats(s8, 2, "×"), *d = fmt_stats(sf, 2, "×");
    char *e = fmt_stats(sf2, 2, "×");
    char *what = xasprintf("serial %s calls/s; 2 threads **%s** serial; 8 threads **%s** of 2 threads; bare spawns "
                           "(#1) in the same reps: 2 threads %s, 8 threads %s of 2 (%d reps × %d pods)",
                           a, b, c, e, d, reps, total);
    /* On 2 CPUs, 8 threads only add switching; the library must not lose more than process creation itself does. */
    row("3", "same as #2 with 2 and 8 threads on distinct pods", what,
        "2 threads ≥ 1.7 × serial; 8 threads no loss beyond #1's own", s2.median >= 1.7 && s8.median >= sf.median - 0.03);
    free(what);
    free(a);
    free(b);
    free(c);
    free(d);
    free(e);
}

static void bench_rss(const struct setup *s)
{
    const int total = g_opt.quick ? 1000 : 10000;
    const int first = 100;
    init_module("cni", s->cache, s->conf, s->bin);
    long at_first = 0;
    double start = now_us();
    for (int i = 0; i < total; i++) {
        char pod[64];
        snprintf(pod, sizeof(pod), "rss-%d", i);
        pod_cycle(pod, false);
        if (i + 1 == first) {
            at_first = rss_kib();
        }
        if ((i + 1) % 2500 == 0) {
            fprintf(stderr, "  after %d cycles: RSS %ld KiB\n", i + 1, rss_kib());
        }
    }
    long at_end = rss_kib();
    double us_per_call = (now_us() - start) / ((double)total * CALLS_PER_ATTACH_DETACH);
    long growth = at_end - at_first;
    char *what = xasprintf("RSS %ld KiB after %d, %ld KiB after %d: growth **%ld KiB** (%.0f µs per plugin call)",
                           at_first, first, at_end, total, growth, us_per_call);
    row("6", "RSS after 10 000 attach/detach cycles (distinct pods) vs after 100", what, "growth ≤ 1024 KiB",
        growth <= 1024);
    free(what);
}

/* --- #4: conf dir reload ----------------------------------------------------------------------- */

static void write_cri_conflists(const char *dir)
{
    for (int i = 0; i < CRI_CONFLISTS; i++) {
        char *path = xasprintf("%s/%04d-bench.conflist", dir, i);
        char *text = xasprintf(
            "{\n  \"cniVersion\": \"1.0.0\",\n  \"name\": \"bench-cri-%04d\",\n  \"plugins\": [\n    {\n"
            "      \"type\": \"bridge\",\n      \"bridge\": \"cni%d\",\n      \"isGateway\": true,\n"
            "      \"ipMasq\": true,\n      \"hairpinMode\": true,\n      \"ipam\": {\n"
            "        \"type\": \"host-local\",\n        \"ranges\": [[{\"subnet\": \"10.%d.%d.0/24\"}]],\n"
            "        \"routes\": [{\"dst\": \"0.0.0.0/0\"}]\n      }\n    },\n"
            "    {\"type\": \"portmap\", \"capabilities\": {\"portMappings\": true}, \"snat\": true}\n  ]\n}\n",
            i, i, 100 + i / 256, i % 256);
        write_file(path, text);
        free(path);
        free(text);
    }
}

static double timed_update(void)
{
    double start = now_us();
    if (network_module_update(CRI) != 0) {
        die("network_module_update failed: %s", last_error());
    }
    return now_us() - start;
}

static void bench_update(const struct setup *s)
{
    const int reps = g_opt.quick ? 3 : 7;
    const int unchanged_calls = 20;
    char *prepared = make_dir("%s/%s", "cri-prepared");
    char *live = xasprintf("%s/cri-live", g_opt.work);
    write_cri_conflists(prepared);
    double cold[16], unchanged[16 * 20];
    int n_unchanged = 0;
    for (int r = 0; r < reps; r++) {
        /* The module starts on a missing dir, which then appears with every file new to it. */
        init_module("cni", s->cache, live, s->bin);
        if (rename(prepared, live) != 0) {
            die("rename: %s", strerror(errno));
        }
        cold[r] = timed_update() / 1000.0;
        if (!network_module_ready(CRI)) {
            die("no cri network after the update");
        }
        for (int i = 0; i < unchanged_calls; i++) {
            unchanged[n_unchanged++] = timed_update() / 1000.0;
        }
        if (rename(live, prepared) != 0) {
            die("rename: %s", strerror(errno));
        }
        fprintf(stderr, "  rep %d: cold %.2f ms, unchanged %.3f ms\n", r, cold[r], unchanged[n_unchanged - 1]);
    }
    init_module("cni", s->cache, s->conf, s->bin);
    remove_tree(prepared);
    struct stats c = stats_of(cold, reps), u = stats_of(unchanged, (size_t)n_unchanged);
    char *cs = fmt_stats(c, 1, " ms"), *us = fmt_stats(u, 2, " ms");
    char *what = xasprintf("cold **%s** (%d reps); unchanged **%s** (%d calls)", cs, reps, us, n_unchanged);
    row("4", "network_module_update(\"cri\") on a conf dir of 1024 conflists", what, "cold ≤ 50 ms; unchanged ≤ 2 ms",
        c.median <= 50 && u.median <= 2);
    free(what);
    free(cs);
    free(us);
    free(prepared);
    free(live);
}

/* --- #5: native networks ------------------------------------------------------------------------- */

/* 192.168.0.0/16 first, then 172.16.0.0/12: the allocator has to skip all of them. */
static void native_subnet(int i, char *subnet, char *gateway, size_t len)
{
    if (i < 256) {
        snprintf(subnet, len, "192.168.%d.0/24", i);
        snprintf(gateway, len, "192.168.%d.1", i);
    } else {
        int j = i - 256;
        snprintf(subnet, len, "172.%d.%d.0/24", 16 + j / 256, j % 256);
        snprintf(gateway, len, "172.%d.%d.1", 16 + j / 256, j % 256);
    }
}

/* Files as iSulad (and this library) write them. */
static void write_native_networks(const char *dir)
{
    for (int i = 0; i < NATIVE_NETWORKS; i++) {
        char subnet[32], gateway[32];
        native_subnet(i, subnet, gateway, sizeof(subnet));
        char *path = xasprintf("%s/isulacni-bench%04d.conflist", dir, i);
        char *text = xasprintf(
            "{\n    \"cniVersion\": \"1.0.0\",\n    \"name\": \"bench%04d\",\n    \"plugins\": [\n        {\n"
            "            \"type\": \"bridge\",\n            \"bridge\": \"isula-br%d\",\n"
            "            \"isGateway\": true,\n            \"ipMasq\": true,\n            \"hairpinMode\": true,\n"
            "            \"ipam\": {\n                \"type\": \"host-local\",\n                \"routes\": [\n"
            "                    {\n                        \"dst\": \"0.0.0.0/0\"\n                    }\n"
            "                ],\n                \"ranges\": [\n                    [\n                        {\n"
            "                            \"subnet\": \"%s\",\n                            \"gateway\": \"%s\"\n"
            "                        }\n                    ]\n                ]\n            }\n        },\n"
            "        {\n            \"type\": \"portmap\",\n            \"capabilities\": {\n"
            "                \"portMappings\": true\n            }\n        },\n        {\n"
            "            \"type\": \"firewall\"\n        }\n    ]\n}\n",
            i, i, subnet, gateway);
        write_file(path, text);
        free(path);
        free(text);
    }
}

/* ms of one conf_create of a network named `name`. */
static double timed_create(const char *name)
{
    network_create_request req = { .name = (char *)name, .driver = (char *)"bridge" };
    char *created = NULL;
    uint32_t cc = 0;
    double start = now_us();
    int rc = network_module_conf_create(NATIVE, &req, &created, &cc);
    double ms = (now_us() - start) / 1000.0;
    if (rc != 0) {
        die("conf_create failed: %s", last_error());
    }
    free(created);
    return ms;
}

static void remove_network(const char *name)
{
    char *removed = NULL;
    if (network_module_conf_rm(NATIVE, name, &removed) != 0) {
        die("conf_rm failed: %s", last_error());
    }
    free(removed);
}

static void free_infos(network_network_info **items, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        free(items[i]->name);
        free(items[i]->version);
        for (size_t j = 0; j < items[i]->plugins_len; j++) {
            free(items[i]->plugins[j]);
        }
        free(items[i]->plugins);
        free(items[i]);
    }
    free(items);
}

static void bench_native(const struct setup *s)
{
    const int reps = g_opt.quick ? 5 : 21;
    char *conf = make_dir("%s/%s", "native.d");
    write_native_networks(conf);
    /* The real plugins: create asks bridge, portmap and firewall for their versions. */
    init_module(NULL, s->cache, conf, REAL_PLUGIN_DIR);
    double first = timed_create("benchfirst");
    remove_network("benchfirst");
    double create[32], list[32];
    size_t listed = 0;
    for (int r = 0; r < reps; r++) {
        create[r] = timed_create("benchnew");
        remove_network("benchnew");
        network_network_info **items = NULL;
        size_t len = 0;
        double start = now_us();
        if (network_module_conf_list(NATIVE, NULL, &items, &len) != 0) {
            die("conf_list failed: %s", last_error());
        }
        list[r] = (now_us() - start) / 1000.0;
        free_infos(items, len);
        listed = len;
    }
    fprintf(stderr, "  first create %.2f ms\n", first);
    init_module("cni", s->cache, s->conf, s->bin);
    remove_tree(conf);
    free(conf);
    struct stats c = stats_of(create, reps), l = stats_of(list, reps);
    char *cs = fmt_stats(c, 2, " ms"), *ls = fmt_stats(l, 2, " ms");
    char *what = xasprintf("create **%s**, conf_list of %zu **%s** (%d reps; %d host addresses; the first create "
                           "after init, which also runs VERSION of 3 real plugins: %.1f ms)",
                           cs, listed, ls, reps, host_address_count(), first);
    row("5", "native conf_create with 1000 native networks + 100 host addresses; conf_list", what,
        "≤ 10 ms; ≤ 20 ms", c.median <= 10 && l.median <= 20);
    free(what);
    free(cs);
    free(ls);
}

/* --- main ---------------------------------------------------------------------------------------- */

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--plugin") == 0 && i + 1 < argc) {
            g_opt.plugin = argv[++i];
        } else if (strcmp(argv[i], "--work") == 0 && i + 1 < argc) {
            g_opt.work = argv[++i];
        } else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
            g_opt.only = argv[++i];
        } else if (strcmp(argv[i], "--quick") == 0) {
            g_opt.quick = true;
        } else {
            die("usage: clibcni_bench --plugin <trivial_plugin> --work <dir> [--quick] [--only <digits>]");
        }
    }
    if (g_opt.plugin == NULL || g_opt.work == NULL) {
        die("usage: clibcni_bench --plugin <trivial_plugin> --work <dir> [--quick] [--only <digits>]");
    }
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    if (mkdir(g_opt.work, 0755) != 0 && errno != EEXIST) {
        die("cannot create %s: %s", g_opt.work, strerror(errno));
    }
    struct setup s = make_setup();
    static const struct {
        char id;
        const char *title;
        void (*run)(const struct setup *);
    } workloads[] = {
        { '2', "#1/#2 spawn floor vs library", bench_spawn_vs_library },
        { '3', "#3 threads", bench_threads },
        { '4', "#4 conf dir reload", bench_update },
        { '5', "#5 native create/list", bench_native },
        { '6', "#6 RSS", bench_rss },
    };
    for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++) {
        if (selected(workloads[i].id)) {
            fprintf(stderr, "%s\n", workloads[i].title);
            workloads[i].run(&s);
        }
    }
    network_module_exit();
    return 0;
}
