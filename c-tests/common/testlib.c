/* testlib — see testlib.h. */
#define _GNU_SOURCE

#include "testlib.h"

#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "isulad_host.h"

/* --- allocation: a test cannot do anything sensible without memory ----------------------- */

static void *xnonnull(void *p)
{
    if (p == NULL) {
        fprintf(stderr, "testlib: out of memory\n");
        abort();
    }
    return p;
}

static char *xstrdup(const char *s)
{
    return s == NULL ? NULL : xnonnull(strdup(s));
}

static char *xvasprintf(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0) {
        s = NULL;
    }
    return xnonnull(s);
}

static char *xasprintf(const char *fmt, ...) TL_PRINTF(1, 2);
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    return s;
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

static void remove_dir(const char *path);
static void remove_netns(const char *path);

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
            remove_dir(list->what);
        } else {
            remove_netns(list->what);
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
    struct cleanup *c = xnonnull(calloc(1, sizeof(*c)));
    c->kind = kind;
    c->what = xstrdup(what);
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
    char *copy = xstrdup(path);
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
    char *path = xasprintf("%s/%s-XXXXXX", base, tag);
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

static void remove_dir(const char *path)
{
    (void)remove_tree(path);
}

int tl_rmtree(const char *path)
{
    cleanup_forget(CLEANUP_DIR, path);
    return remove_tree(path);
}

/* --- commands ------------------------------------------------------------------------------ */

static int run_command(char **out, const char *cmd)
{
    /* A group, so every command of a list has its stderr captured too. */
    char *shell = xasprintf("{ %s\n} 2>&1", cmd);
    FILE *pipe = popen(shell, "r");
    free(shell);
    if (pipe == NULL) {
        if (out != NULL) {
            *out = NULL;
        }
        return -1;
    }
    size_t len = 0;
    size_t cap = 256;
    char *buf = xnonnull(malloc(cap));
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, pipe)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            cap *= 2;
            buf = xnonnull(realloc(buf, cap));
        }
    }
    buf[len] = '\0';
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

/* --- network namespaces -------------------------------------------------------------------- */

#define NETNS_DIR "/run/netns/"

static const char *netns_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash == NULL ? path : slash + 1;
}

char *tl_netns_create(const char *tag)
{
    char *path = xasprintf(NETNS_DIR "clibcni-%s-%ld", tag, (long)getpid());
    char *out = NULL;
    int rc = tl_run(&out, "ip netns add '%s'", netns_name(path));
    if (rc != 0) {
        fprintf(stderr, "testlib: ip netns add %s failed (%d): %s\n", netns_name(path), rc, out ? out : "");
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
    int rc = tl_run(&out, "ip netns delete '%s'", netns_name(path));
    if (rc != 0) {
        fprintf(stderr, "testlib: ip netns delete %s failed (%d): %s\n", netns_name(path), rc, out ? out : "");
    }
    free(out);
    return rc == 0 ? 0 : -1;
}

static void remove_netns(const char *path)
{
    (void)delete_netns(path);
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
    size_t len = 0;
    size_t cap = 1024;
    char *buf = xnonnull(malloc(cap));
    size_t n;
    while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len - 1 == 0) {
            cap *= 2;
            buf = xnonnull(realloc(buf, cap));
        }
    }
    bool failed = ferror(f) != 0;
    fclose(f);
    if (failed) {
        free(buf);
        return NULL;
    }
    buf[len] = '\0';
    return buf;
}

static int link_plugin(const char *target, const char *bindir, const char *name)
{
    if (access(target, X_OK) != 0) {
        fprintf(stderr, "testlib: plugin %s is not executable: %s\n", target, strerror(errno));
        return -1;
    }
    char *link = xasprintf("%s/%s", bindir, name);
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
    char *target = xasprintf("%s/%s", (dir == NULL || dir[0] == '\0') ? "/usr/lib/cni" : dir, name);
    int rc = link_plugin(target, bindir, name);
    free(target);
    return rc;
}

/* --- iSulad inputs ------------------------------------------------------------------------- */

network_api_conf *tl_conf_new(const char *pod_id, const char *netns, const char *default_if)
{
    network_api_conf *conf = xnonnull(calloc(1, sizeof(*conf)));
    conf->pod_id = xstrdup(pod_id);
    conf->netns_path = xstrdup(netns);
    conf->default_interface = xstrdup(default_if);
    return conf;
}

void tl_conf_add_extra(network_api_conf *conf, const char *name, const char *ifname)
{
    struct attach_net_conf *net = xnonnull(calloc(1, sizeof(*net)));
    net->name = xstrdup(name);
    net->interface = xstrdup(ifname);
    size_t n = conf->extral_nets_len + 1;
    conf->extral_nets = xnonnull(realloc(conf->extral_nets, n * sizeof(*conf->extral_nets)));
    conf->extral_nets[n - 1] = net;
    conf->extral_nets_len = n;
}

void tl_conf_add_arg(network_api_conf *conf, const char *key, const char *value)
{
    if (conf->args == NULL) {
        conf->args = xnonnull(calloc(1, sizeof(*conf->args)));
    }
    json_map_string_string *args = conf->args;
    size_t n = args->len + 1;
    args->keys = xnonnull(realloc(args->keys, n * sizeof(*args->keys)));
    args->values = xnonnull(realloc(args->values, n * sizeof(*args->values)));
    args->keys[n - 1] = xstrdup(key);
    args->values[n - 1] = xstrdup(value);
    args->len = n;
}

const char *tl_errmsg(void)
{
    return g_isulad_errmsg;
}

void tl_clear_errmsg(void)
{
    isulad_clear_error_message();
}
