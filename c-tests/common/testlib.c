/* testlib — see testlib.h. */
#define _GNU_SOURCE

#include "testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "isulad_host.h"

/* --- allocation and strings: a test cannot do anything sensible without memory ---------- */

void *tl_nonnull(void *p)
{
    if (p == NULL) {
        fprintf(stderr, "testlib: out of memory\n");
        abort();
    }
    return p;
}

char *tl_strdup(const char *s)
{
    return s == NULL ? NULL : tl_nonnull(strdup(s));
}

static char *xvasprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) {
        s = NULL;
    }
    return tl_nonnull(s);
}

char *tl_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    return s;
}

bool tl_contains(const char *text, const char *part)
{
    return text != NULL && strstr(text, part) != NULL;
}

/* --- checks ------------------------------------------------------------------------------- */

/* Tests may check from several threads. */
static atomic_uint g_passed;
static atomic_uint g_failed;

static void record(bool ok, const char *file, int line, const char *message)
{
    if (ok) {
        atomic_fetch_add(&g_passed, 1);
        return;
    }
    atomic_fetch_add(&g_failed, 1);
    fprintf(stderr, "FAIL %s:%d: %s\n", file, line, message);
}

bool tl_check(bool ok, const char *file, int line, const char *fmt, ...)
{
    if (ok) {
        record(true, file, line, NULL);
        return true;
    }
    va_list ap;
    va_start(ap, fmt);
    char *message = xvasprintf(fmt, ap);
    va_end(ap);
    record(false, file, line, message);
    free(message);
    return false;
}

bool tl_check_int(long long actual, long long expected, const char *file, int line, const char *expr)
{
    return tl_check(actual == expected, file, line, "%s: got %lld, expected %lld", expr, actual, expected);
}

bool tl_check_str(const char *actual, const char *expected, const char *file, int line, const char *expr)
{
    bool same = (actual == NULL || expected == NULL) ? actual == expected : strcmp(actual, expected) == 0;
    return tl_check(same, file, line, "%s: got %s%s%s, expected %s%s%s", expr, actual ? "\"" : "",
                    actual ? actual : "NULL", actual ? "\"" : "", expected ? "\"" : "",
                    expected ? expected : "NULL", expected ? "\"" : "");
}

int test_summary(const char *name)
{
    unsigned failed = atomic_load(&g_failed);
    printf("%s: %u passed, %u failed\n", name, atomic_load(&g_passed), failed);
    fflush(stdout);
    return failed == 0 ? 0 : 1;
}

double tl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tl_make_ids(char (*ids)[TL_ID_LEN], size_t n, const char *prefix)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], TL_ID_LEN, "%s%zu-%ld", prefix, i, (long)getpid());
    }
}

void require_root(void)
{
    if (geteuid() != 0) {
        fprintf(stderr, "this test must run as root (network namespaces, links, iptables)\n");
        exit(1);
    }
}

/* --- exit cleanup: what a test created and has not removed yet ----------------------------- */

enum cleanup_kind { CLEANUP_DIR, CLEANUP_NETNS };

struct cleanup {
    enum cleanup_kind kind;
    char *what; /* a directory path or a netns path */
    struct cleanup *next;
};

static pthread_mutex_t g_cleanup_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cleanup *g_cleanups; /* newest first, so removal runs in reverse creation order */
static pthread_once_t g_atexit_once = PTHREAD_ONCE_INIT;
static pid_t g_owner; /* a forked child that exits must not remove its parent's state */

static int remove_tree(const char *path);
static int delete_netns(const char *path);

static void run_cleanups(void)
{
    if (getpid() != g_owner) {
        return;
    }
    pthread_mutex_lock(&g_cleanup_lock);
    struct cleanup *list = g_cleanups;
    g_cleanups = NULL;
    pthread_mutex_unlock(&g_cleanup_lock);
    while (list != NULL) {
        struct cleanup *next = list->next;
        if (list->kind == CLEANUP_DIR) {
            (void)remove_tree(list->what);
        } else {
            (void)delete_netns(list->what);
        }
        free(list->what);
        free(list);
        list = next;
    }
}

static void install_atexit(void)
{
    g_owner = getpid();
    atexit(run_cleanups);
}

static void cleanup_register(enum cleanup_kind kind, const char *what)
{
    pthread_once(&g_atexit_once, install_atexit);
    struct cleanup *c = tl_nonnull(calloc(1, sizeof(*c)));
    c->kind = kind;
    c->what = tl_strdup(what);
    pthread_mutex_lock(&g_cleanup_lock);
    c->next = g_cleanups;
    g_cleanups = c;
    pthread_mutex_unlock(&g_cleanup_lock);
}

static void cleanup_forget(enum cleanup_kind kind, const char *what)
{
    pthread_mutex_lock(&g_cleanup_lock);
    for (struct cleanup **p = &g_cleanups; *p != NULL; p = &(*p)->next) {
        if ((*p)->kind == kind && strcmp((*p)->what, what) == 0) {
            struct cleanup *found = *p;
            *p = found->next;
            free(found->what);
            free(found);
            break;
        }
    }
    pthread_mutex_unlock(&g_cleanup_lock);
}

/* --- temp dirs ----------------------------------------------------------------------------- */

static int mkdir_p(const char *path)
{
    char *copy = tl_strdup(path);
    int rc = 0;
    for (char *p = copy + 1;; p++) {
        if (*p != '/' && *p != '\0') {
            continue;
        }
        char saved = *p;
        *p = '\0';
        if (mkdir(copy, 0755) != 0 && errno != EEXIST) {
            rc = -1;
            break;
        }
        if (saved == '\0') {
            break;
        }
        *p = '/';
    }
    free(copy);
    return rc;
}

char *tl_tmpdir(const char *tag)
{
    const char *base = getenv("CLIBCNI_TEST_TMP");
    if (base == NULL || base[0] == '\0') {
        base = "/tmp/clibcni-c-tests";
    }
    if (mkdir_p(base) != 0) {
        fprintf(stderr, "testlib: cannot create %s: %s\n", base, strerror(errno));
        return NULL;
    }
    char *path = tl_asprintf("%s/%s-XXXXXX", base, tag);
    if (mkdtemp(path) == NULL) {
        fprintf(stderr, "testlib: mkdtemp %s: %s\n", path, strerror(errno));
        free(path);
        return NULL;
    }
    cleanup_register(CLEANUP_DIR, path);
    return path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    if (remove(path) != 0 && errno != ENOENT) {
        fprintf(stderr, "testlib: cannot remove %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0 && errno == ENOENT) {
        return 0;
    }
    return nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

int tl_rmtree(const char *path)
{
    cleanup_forget(CLEANUP_DIR, path);
    return remove_tree(path);
}

bool tl_env_init(struct tl_env *env, const char *tag, const char *const *plugins, bool recorder, const char *file,
                 int line)
{
    memset(env, 0, sizeof(*env));
    env->root = tl_tmpdir(tag);
    if (!tl_check(env->root != NULL, file, line, "no temp dir for %s", tag)) {
        return false;
    }
    env->conf = tl_asprintf("%s/conf", env->root);
    env->cache = tl_asprintf("%s/cache", env->root);
    env->bin = tl_asprintf("%s/bin", env->root);
    env->ipam = tl_asprintf("%s/ipam", env->root);
    int rc = tl_run(NULL, "mkdir -p '%s' '%s' '%s' '%s'", env->conf, env->cache, env->bin, env->ipam);
    bool ok = tl_check(rc == 0, file, line, "cannot create the dirs in %s", env->root);
    for (size_t i = 0; plugins != NULL && plugins[i] != NULL; i++) {
        rc = recorder ? tl_install_recorder(env->bin, plugins[i]) : tl_link_real_plugin(env->bin, plugins[i]);
        ok = tl_check(rc == 0, file, line, "cannot install plugin %s", plugins[i]) && ok;
    }
    return ok;
}

void tl_env_free(struct tl_env *env)
{
    if (env->root != NULL) {
        tl_rmtree(env->root);
    }
    free(env->root);
    free(env->conf);
    free(env->cache);
    free(env->bin);
    free(env->ipam);
    memset(env, 0, sizeof(*env));
}

/* --- commands ------------------------------------------------------------------------------ */

/* Everything left in the stream, NUL-terminated (the caller checks ferror). */
static char *read_all(FILE *f)
{
    size_t len = 0;
    size_t cap = 1024;
    char *buf = tl_nonnull(malloc(cap));
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            cap *= 2;
            buf = tl_nonnull(realloc(buf, cap));
        }
    }
    buf[len] = '\0';
    return buf;
}

static int run_command(char **out, const char *cmd)
{
    /* A group, so every command of a list has its stderr captured too. */
    char *shell = tl_asprintf("{ %s\n} 2>&1", cmd);
    FILE *pipe = popen(shell, "r");
    free(shell);
    if (pipe == NULL) {
        if (out != NULL) {
            *out = NULL;
        }
        return -1;
    }
    char *buf = read_all(pipe);
    int status = pclose(pipe);
    if (out != NULL) {
        *out = buf;
    } else {
        free(buf);
    }
    if (status == -1) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int tl_run(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = xvasprintf(fmt, ap);
    va_end(ap);
    int rc = run_command(out, cmd);
    free(cmd);
    return rc;
}

char *tl_output_of(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *cmd = xvasprintf(fmt, ap);
    va_end(ap);
    char *out = NULL;
    int rc = run_command(&out, cmd);
    free(cmd);
    if (rc != 0) {
        free(out);
        return NULL;
    }
    return out;
}

bool tl_remove_link(const char *name, const char *file, int line)
{
    tl_run(NULL, "ip link del '%s'", name);
    return tl_check(tl_run(NULL, "ip link show '%s'", name) != 0, file, line, "link %s left behind", name);
}

int tl_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY), .sin_port = 0 };
    socklen_t len = sizeof(addr);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 && getsockname(fd, (struct sockaddr *)&addr, &len) == 0) {
        port = ntohs(addr.sin_port);
    }
    close(fd);
    return port;
}

/* --- network namespaces -------------------------------------------------------------------- */

#define NETNS_DIR "/run/netns/"

const char *tl_netns_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash == NULL ? path : slash + 1;
}

char *tl_netns_create(const char *tag)
{
    char *path = tl_asprintf(NETNS_DIR "clibcni-%s-%ld", tag, (long)getpid());
    char *out = NULL;
    int rc = tl_run(&out, "ip netns add '%s'", tl_netns_name(path));
    if (rc != 0) {
        fprintf(stderr, "testlib: ip netns add %s failed (%d): %s\n", tl_netns_name(path), rc, out ? out : "");
        free(out);
        free(path);
        return NULL;
    }
    free(out);
    cleanup_register(CLEANUP_NETNS, path);
    return path;
}

static int delete_netns(const char *path)
{
    char *out = NULL;
    int rc = tl_run(&out, "ip netns delete '%s'", tl_netns_name(path));
    if (rc != 0) {
        fprintf(stderr, "testlib: ip netns delete %s failed (%d): %s\n", tl_netns_name(path), rc, out ? out : "");
    }
    free(out);
    return rc == 0 ? 0 : -1;
}

int tl_netns_delete(const char *path)
{
    cleanup_forget(CLEANUP_NETNS, path);
    return delete_netns(path);
}

/* --- files and plugins --------------------------------------------------------------------- */

int tl_write_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        fprintf(stderr, "testlib: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t len = strlen(content);
    bool ok = fwrite(content, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    return ok ? 0 : -1;
}

char *tl_read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        return NULL;
    }
    char *buf = read_all(f);
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed) {
        free(buf);
        return NULL;
    }
    return buf;
}

bool tl_write_conf(const char *file, int line, const char *dir, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *content = xvasprintf(fmt, ap);
    va_end(ap);
    char *path = tl_asprintf("%s/%s", dir, name);
    bool ok = tl_check(tl_write_file(path, content) == 0, file, line, "cannot write %s", path);
    free(path);
    free(content);
    return ok;
}

int tl_copy_file(const char *from, const char *to)
{
    char *text = tl_read_file(from);
    if (text == NULL) {
        fprintf(stderr, "testlib: cannot read %s: %s\n", from, strerror(errno));
        return -1;
    }
    int rc = tl_write_file(to, text);
    free(text);
    return rc;
}

char *tl_path_beside(const char *file, const char *name)
{
    const char *slash = strrchr(file, '/');
    if (slash == NULL) {
        return tl_asprintf("./%s", name);
    }
    return tl_asprintf("%.*s/%s", (int)(slash - file), file, name);
}

static int link_plugin(const char *target, const char *bindir, const char *name)
{
    if (access(target, X_OK) != 0) {
        fprintf(stderr, "testlib: plugin %s is not executable: %s\n", target, strerror(errno));
        return -1;
    }
    char *link = tl_asprintf("%s/%s", bindir, name);
    int rc = symlink(target, link);
    if (rc != 0) {
        fprintf(stderr, "testlib: symlink %s -> %s: %s\n", link, target, strerror(errno));
    }
    free(link);
    return rc == 0 ? 0 : -1;
}

int tl_install_recorder(const char *bindir, const char *name)
{
    const char *recorder = getenv("CLIBCNI_RECORDER");
    if (recorder == NULL || recorder[0] == '\0') {
        fprintf(stderr, "testlib: CLIBCNI_RECORDER is not set\n");
        return -1;
    }
    return link_plugin(recorder, bindir, name);
}

int tl_link_real_plugin(const char *bindir, const char *name)
{
    const char *dir = getenv("CNI_REAL_PLUGINS");
    char *target = tl_asprintf("%s/%s", (dir == NULL || dir[0] == '\0') ? "/usr/lib/cni" : dir, name);
    int rc = link_plugin(target, bindir, name);
    free(target);
    return rc;
}

/* --- the recording plugin ----------------------------------------------------------------- */

static char *behavior_path(const char *bin, const char *plugin)
{
    return tl_asprintf("%s/%s.behavior.json", bin, plugin);
}

bool tl_write_behavior(const char *bin, const char *plugin, const char *json, const char *file, int line)
{
    char *path = behavior_path(bin, plugin);
    bool ok = tl_check(tl_write_file(path, json) == 0, file, line, "cannot write %s", path);
    free(path);
    return ok;
}

void tl_remove_behavior(const char *bin, const char *plugin)
{
    char *path = behavior_path(bin, plugin);
    unlink(path);
    free(path);
}

/* The recorder logs one compact JSON object a line, so the fields can be matched as text. */
size_t tl_count_calls(const char *bin, const char *plugin, const char *command, const char *container)
{
    char *path = tl_asprintf("%s/%s.calls.jsonl", bin, plugin);
    char *text = tl_read_file(path);
    char *cmd = tl_asprintf("\"command\":\"%s\"", command);
    char *cid = container == NULL ? NULL : tl_asprintf("\"CNI_CONTAINERID\":\"%s\"", container);
    size_t n = 0;
    for (char *save = NULL, *line = text == NULL ? NULL : strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        n += strstr(line, cmd) != NULL && (cid == NULL || strstr(line, cid) != NULL);
    }
    free(cid);
    free(cmd);
    free(text);
    free(path);
    return n;
}

/* --- iSulad inputs ------------------------------------------------------------------------- */

network_api_conf *tl_conf_new(const char *pod_id, const char *netns, const char *default_if)
{
    network_api_conf *conf = tl_nonnull(calloc(1, sizeof(*conf)));
    conf->pod_id = tl_strdup(pod_id);
    conf->netns_path = tl_strdup(netns);
    conf->default_interface = tl_strdup(default_if);
    return conf;
}

void tl_conf_add_extra(network_api_conf *conf, const char *name, const char *ifname)
{
    struct attach_net_conf *net = tl_nonnull(calloc(1, sizeof(*net)));
    net->name = tl_strdup(name);
    net->interface = tl_strdup(ifname);
    size_t n = conf->extral_nets_len + 1;
    conf->extral_nets = tl_nonnull(realloc(conf->extral_nets, n * sizeof(*conf->extral_nets)));
    conf->extral_nets[n - 1] = net;
    conf->extral_nets_len = n;
}

void tl_conf_add_arg(network_api_conf *conf, const char *key, const char *value)
{
    if (conf->args == NULL) {
        conf->args = tl_nonnull(calloc(1, sizeof(*conf->args)));
    }
    json_map_string_string *args = conf->args;
    size_t n = args->len + 1;
    args->keys = tl_nonnull(realloc(args->keys, n * sizeof(*args->keys)));
    args->values = tl_nonnull(realloc(args->values, n * sizeof(*args->values)));
    args->keys[n - 1] = tl_strdup(key);
    args->values[n - 1] = tl_strdup(value);
    args->len = n;
}

void tl_conf_add_pod_args(network_api_conf *conf, const char *ns, const char *name, const char *id)
{
    tl_conf_add_arg(conf, "IgnoreUnknown", "1");
    if (ns != NULL) {
        tl_conf_add_arg(conf, "K8S_POD_NAMESPACE", ns);
    }
    if (name != NULL) {
        tl_conf_add_arg(conf, "K8S_POD_NAME", name);
    }
    tl_conf_add_arg(conf, "K8S_POD_INFRA_CONTAINER_ID", id);
}

network_api_conf *tl_pod_conf(const char *id, const char *netns, const char *name, const char *ns, bool k8s_names)
{
    network_api_conf *conf = tl_conf_new(id, netns, "eth0");
    conf->name = tl_strdup(name);
    conf->ns = tl_strdup(ns);
    tl_conf_add_pod_args(conf, k8s_names ? ns : NULL, k8s_names ? name : NULL, id);
    return conf;
}

char *tl_address_of(const char *cidr)
{
    char *ip = tl_strdup(cidr);
    char *slash = strchr(ip, '/');
    if (slash != NULL) {
        *slash = '\0';
    }
    return ip;
}

struct network_api_result *tl_api_result(const char *name, const char *ifname, const char *ip, const char *gateway,
                                         const char *mac)
{
    struct network_api_result *r = tl_nonnull(calloc(1, sizeof(*r)));
    r->name = tl_strdup(name);
    r->interface = tl_strdup(ifname);
    r->mac = tl_strdup(mac);
    r->ips = tl_nonnull(calloc(1, sizeof(*r->ips)));
    r->gateway = tl_nonnull(calloc(1, sizeof(*r->gateway)));
    r->ips[0] = tl_strdup(ip);
    r->gateway[0] = tl_strdup(gateway);
    r->ips_len = 1;
    return r;
}

container_network_settings *tl_settings_new(void)
{
    container_network_settings *settings = tl_nonnull(calloc(1, sizeof(*settings)));
    settings->networks = tl_nonnull(calloc(1, sizeof(*settings->networks)));
    return settings;
}

static void free_network_element(defs_map_string_object_networks_element *el)
{
    if (el == NULL) {
        return;
    }
    free(el->if_name);
    free(el->mac_address);
    free(el->ip_address);
    free(el->gateway);
    free(el->global_i_pv6address);
    free(el->i_pv6gateway);
    free(el->network_id);
    free(el->endpoint_id);
    free(el);
}

void tl_settings_free(container_network_settings *settings)
{
    defs_map_string_object_networks *networks = settings->networks;
    if (networks != NULL) {
        for (size_t i = 0; i < networks->len; i++) {
            free(networks->keys[i]);
            free_network_element(networks->values[i]);
        }
        free(networks->keys);
        free(networks->values);
        free(networks);
    }
    free(settings->sandbox_key);
    free(settings);
}

/* --- the library's answers and state ------------------------------------------------------- */

const char *tl_errmsg(void)
{
    return g_isulad_errmsg;
}

const char *tl_errmsg_text(void)
{
    return g_isulad_errmsg == NULL ? "(no message)" : g_isulad_errmsg;
}

void tl_clear_errmsg(void)
{
    isulad_clear_error_message();
}

bool tl_detach_ok(const network_api_conf *conf, const char *type, bool quiet, const char *file, int line)
{
    tl_clear_errmsg();
    int rc = network_module_detach(conf, type);
    bool ok = tl_check(rc == 0, file, line, "detach %s: rc %d: %s", conf->pod_id, rc, tl_errmsg_text());
    if (quiet) {
        ok = tl_check(tl_errmsg() == NULL, file, line, "detach %s left a message: %s", conf->pod_id, tl_errmsg()) &&
             ok;
    }
    return ok;
}

char *tl_cache_path(const char *cache, const char *net, const char *id, const char *ifname)
{
    return tl_asprintf("%s/results/%s-%s-%s", cache, net, id, ifname);
}

bool tl_cache_exists(const char *cache, const char *net, const char *id, const char *ifname)
{
    char *path = tl_cache_path(cache, net, id, ifname);
    bool exists = access(path, F_OK) == 0;
    free(path);
    return exists;
}

bool tl_check_no_results(const char *cache, const char *file, int line)
{
    char *left = NULL;
    tl_run(&left, "ls -A '%s/results' 2>/dev/null", cache);
    bool ok = tl_check(left == NULL || left[0] == '\0', file, line, "cache files left: %s", left ? left : "");
    free(left);
    return ok;
}

/* --- a test of the "cri" type ---------------------------------------------------------------- */

bool tl_cri_begin(struct tl_cri *cri, const char *tag, const char *const *plugins, bool recorder,
                  const char *bridge_prefix, const char *file, int line)
{
    memset(cri, 0, sizeof(*cri));
    for (int i = 0; bridge_prefix != NULL && i < 2; i++) {
        snprintf(cri->bridge[i], sizeof(cri->bridge[i]), "%s%ld%c", bridge_prefix, (long)getpid() % 1000, 'a' + i);
    }
    if (!tl_env_init(&cri->dirs, tag, plugins, recorder, file, line)) {
        return false;
    }
    if (recorder) {
        cri->netns = tl_asprintf("/var/run/netns/clibcni-%s-fake-%ld", tag, (long)getpid());
        return true;
    }
    cri->netns = tl_netns_create(tag);
    cri->own_netns = cri->netns != NULL;
    return tl_check(cri->own_netns, file, line, "no network namespace for %s", tag);
}

bool tl_cri_init(struct tl_cri *cri, const char *file, int line)
{
    cri->inited = network_module_init("cni", cri->dirs.cache, cri->dirs.conf, cri->dirs.bin);
    const char *why = network_module_last_error();
    return tl_check(cri->inited, file, line, "network_module_init: %s", why == NULL ? "(no message)" : why);
}

bool tl_cri_write_bridge_conflist(const struct tl_cri *cri, const char *conf_file, const char *net, int bridge,
                                  const char *subnet, const char *more_plugins, const char *file, int line)
{
    return tl_write_conf(file, line, cri->dirs.conf, conf_file,
                         "{\"cniVersion\":\"1.0.0\",\"name\":\"%s\",\"plugins\":["
                         "{\"type\":\"bridge\",\"bridge\":\"%s\",\"isGateway\":true,"
                         "\"ipam\":{\"type\":\"host-local\",\"dataDir\":\"%s\","
                         "\"ranges\":[[{\"subnet\":\"%s0/24\",\"gateway\":\"%s1\"}]]}}%s]}",
                         net, cri->bridge[bridge], cri->dirs.ipam, subnet, subnet, more_plugins);
}

void tl_cri_end(struct tl_cri *cri, const char *file, int line)
{
    if (cri->inited) {
        tl_check_no_results(cri->dirs.cache, file, line);
        network_module_exit();
    }
    for (int i = 0; i < 2; i++) {
        if (cri->bridge[i][0] != '\0') {
            tl_remove_link(cri->bridge[i], file, line);
        }
    }
    if (cri->own_netns) {
        tl_netns_delete(cri->netns);
    }
    free(cri->netns);
    tl_env_free(&cri->dirs);
    memset(cri, 0, sizeof(*cri));
}
