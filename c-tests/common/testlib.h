/*
 * testlib — the small toolkit every C test of the clibcni harness uses.
 *
 * - Checks: CHECK / CHECKF / CHECK_EQ_INT / CHECK_EQ_STR record a failure (file:line and a message,
 *   printed to stderr) and let the test continue; each evaluates to true when it passed, so a test
 *   can stop early with `if (!CHECK(p != NULL)) return;`. test_summary() prints the tally and gives
 *   main()'s exit code. Helpers below that record checks take the caller's place (TL_HERE), so a
 *   failure points at the test line, not at testlib.
 * - Scratch state: temp dirs under $CLIBCNI_TEST_TMP and network namespaces are registered for
 *   removal at exit, so a failing test leaves nothing behind.
 * - Inputs as iSulad builds them: network_api_conf and its members allocated with calloc/strdup,
 *   to be freed by the library's free_network_api_conf.
 * - The recording plugin (examples/cni_recorder.rs): its behaviour files and call logs.
 *
 * Everything returned is allocated with malloc/calloc/strdup; allocation failure aborts the test.
 * The error channel is the host's (c-tests/host) thread-local g_isulad_errmsg.
 */
#ifndef CLIBCNI_TESTLIB_H
#define CLIBCNI_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>

#include "network_api.h"

#define TL_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))

/* The caller's file and line, for the helpers that take `const char *file, int line`. */
#define TL_HERE __FILE__, __LINE__

/* --- checks --------------------------------------------------------------------------------- */

/* Counts a check; when !ok prints "FAIL file:line: <message>" to stderr. Returns ok. */
bool tl_check(bool ok, const char *file, int line, const char *fmt, ...) TL_PRINTF(4, 5);
bool tl_check_int(long long actual, long long expected, const char *file, int line, const char *expr);
/* Two NULLs are equal; NULL and a string are not. */
bool tl_check_str(const char *actual, const char *expected, const char *file, int line, const char *expr);

#define CHECK(cond) tl_check((cond) ? true : false, __FILE__, __LINE__, "%s", #cond)
#define CHECKF(cond, ...) tl_check((cond) ? true : false, __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_EQ_INT(actual, expected) \
    tl_check_int((long long)(actual), (long long)(expected), __FILE__, __LINE__, #actual " == " #expected)
#define CHECK_EQ_STR(actual, expected) tl_check_str((actual), (expected), __FILE__, __LINE__, #actual " == " #expected)

/* Prints exactly "<name>: N passed, M failed" and returns the exit code (0 when M == 0, else 1). */
int test_summary(const char *name);

/* Exits with status 1 and a message unless running as root. */
void require_root(void);

/* Seconds on the monotonic clock. */
double tl_now(void);

/* Room for a test's container or pod id. */
#define TL_ID_LEN 64
/* Fills ids[0..n) with "<prefix><i>-<pid>": ids no other run of the test uses at the same time. */
void tl_make_ids(char (*ids)[TL_ID_LEN], size_t n, const char *prefix);

/* --- allocation and strings ------------------------------------------------------------------ */

/* p itself; aborts the test when it is NULL (an allocation failed). */
void *tl_nonnull(void *p);
/* strdup that aborts when out of memory; NULL stays NULL. */
char *tl_strdup(const char *s);
/* The formatted string (malloc'd); aborts when out of memory. */
char *tl_asprintf(const char *fmt, ...) TL_PRINTF(1, 2);
/* Whether text (may be NULL) contains part. */
bool tl_contains(const char *text, const char *part);

/* --- scratch files and namespaces ----------------------------------------------------------- */

/* A new directory $CLIBCNI_TEST_TMP/<tag>-XXXXXX (base created if missing; /tmp/clibcni-c-tests
 * when unset), removed at exit unless tl_rmtree removes it first. NULL on failure. */
char *tl_tmpdir(const char *tag);
/* Removes path recursively (no error when absent) and drops it from the exit cleanup. 0 or -1. */
int tl_rmtree(const char *path);

/* A test's scratch tree: root (a tl_tmpdir) holding conf/, cache/, bin/ and ipam/ (a dataDir for
 * host-local). */
struct tl_env {
    char *root;
    char *conf;
    char *cache;
    char *bin;
    char *ipam;
};
/* Creates the tree and puts each of plugins (NULL-terminated, may be NULL) into bin: the recorder
 * under that name when recorder, else a link to the real plugin. Checks every step. */
bool tl_env_init(struct tl_env *env, const char *tag, const char *const *plugins, bool recorder, const char *file,
                 int line);
/* Removes the tree (if it was made) and frees the paths. */
void tl_env_free(struct tl_env *env);

/* Runs `ip netns add clibcni-<tag>-<pid>`; returns "/run/netns/<name>" (deleted at exit), or NULL. */
char *tl_netns_create(const char *tag);
/* Deletes a namespace made by tl_netns_create (given its path) and drops it from the cleanup. 0 or -1. */
int tl_netns_delete(const char *path);
/* The namespace's name: the last component of its path (points into path). */
const char *tl_netns_name(const char *path);

/* Runs the formatted command with `sh -c`; stdout and stderr together go to *out (malloc'd, may be
 * NULL when out is NULL). Returns the exit status, 128+signal when killed, -1 if it cannot run. */
int tl_run(char **out, const char *fmt, ...) TL_PRINTF(2, 3);
/* The formatted command's output (stdout and stderr) when it exits 0, else NULL. */
char *tl_output_of(const char *fmt, ...) TL_PRINTF(1, 2);
/* Deletes the link name (if any) and checks that it is gone. */
bool tl_remove_link(const char *name, const char *file, int line);
/* A TCP port nobody listens on right now, or -1. */
int tl_free_port(void);

/* Writes (creates/truncates, mode 0644) a whole file. 0 or -1. */
int tl_write_file(const char *path, const char *content);
/* Writes the formatted text to dir/name (tl_write_file) and checks that it worked. The caller's
 * place comes first here, before the format's arguments. */
bool tl_write_conf(const char *file, int line, const char *dir, const char *name, const char *fmt, ...)
    TL_PRINTF(5, 6);
/* The whole file as a NUL-terminated string, or NULL. */
char *tl_read_file(const char *path);
/* Copies the file's content to a new file (tl_write_file). 0 or -1. */
int tl_copy_file(const char *from, const char *to);
/* The path of name in the directory of file (pass __FILE__, absolute under CMake), malloc'd. */
char *tl_path_beside(const char *file, const char *name);

/* Symlinks $CLIBCNI_RECORDER as <bindir>/<name>. 0 or -1. */
int tl_install_recorder(const char *bindir, const char *name);
/* Symlinks the real plugin $CNI_REAL_PLUGINS/<name> (default /usr/lib/cni) as <bindir>/<name>. 0 or -1. */
int tl_link_real_plugin(const char *bindir, const char *name);

/* --- the recording plugin ------------------------------------------------------------------- */

/* Makes the recorder installed as <bin>/<plugin> answer as json says (<plugin>.behavior.json). */
bool tl_write_behavior(const char *bin, const char *plugin, const char *json, const char *file, int line);
/* Back to the recorder's default answers. */
void tl_remove_behavior(const char *bin, const char *plugin);
/* How many calls with CNI_COMMAND command the recorder <bin>/<plugin> logged for container (NULL:
 * any container). */
size_t tl_count_calls(const char *bin, const char *plugin, const char *command, const char *container);

/* --- iSulad inputs -------------------------------------------------------------------------- */

/* A calloc'd conf with strdup'd pod_id, netns_path and default_interface (NULL stays NULL). */
network_api_conf *tl_conf_new(const char *pod_id, const char *netns, const char *default_if);
/* Appends an extral_nets entry {name, ifname} (strdup'd; NULL stays NULL). */
void tl_conf_add_extra(network_api_conf *conf, const char *name, const char *ifname);
/* Appends key=value to conf->args (created if NULL). */
void tl_conf_add_arg(network_api_conf *conf, const char *key, const char *value);
/* Appends a pod's CNI_ARGS in iSulad's order: IgnoreUnknown=1, K8S_POD_NAMESPACE=ns and
 * K8S_POD_NAME=name (each only when not NULL), K8S_POD_INFRA_CONTAINER_ID=id. */
void tl_conf_add_pod_args(network_api_conf *conf, const char *ns, const char *name, const char *id);
/* A pod as iSulad's CRI builds it: on eth0, with name, ns and the pod's CNI_ARGS (K8S_POD_NAMESPACE
 * and K8S_POD_NAME only when k8s_names). */
network_api_conf *tl_pod_conf(const char *id, const char *netns, const char *name, const char *ns, bool k8s_names);
/* The address part of "address/prefix" (malloc'd). */
char *tl_address_of(const char *cidr);

/* A result item as the library hands it out: one address ip (with its gateway), strdup'd (NULL
 * stays NULL). */
struct network_api_result *tl_api_result(const char *name, const char *ifname, const char *ip, const char *gateway,
                                         const char *mac);

/* Empty settings for cni_update_container_networks_info, as iSulad allocates them. */
container_network_settings *tl_settings_new(void);
/* Frees settings and everything the library put into them. */
void tl_settings_free(container_network_settings *settings);

/* --- a test of the "cri" type ----------------------------------------------------------------- */

/* What a CRI test runs in: its scratch tree with plugins, the names of the bridges its conf files
 * use, the pod's network namespace, and the module, initialised as iSulad's CRI plugin does. */
struct tl_cri {
    struct tl_env dirs;
    char bridge[2][16]; /* "<prefix><pid%1000>a" and "…b", or "" without a prefix */
    char *netns;        /* a namespace of the test's own, or a made-up path for the recorder */
    bool own_netns;
    bool inited;
};
/* Makes the tree (tl_env_init with plugins and recorder), names the bridges (bridge_prefix may be
 * NULL) and gives the pod a netns: with the recorder the made-up path
 * /var/run/netns/clibcni-<tag>-fake-<pid>, else tl_netns_create(tag). Checks every step; call
 * tl_cri_end whatever it returns. */
bool tl_cri_begin(struct tl_cri *cri, const char *tag, const char *const *plugins, bool recorder,
                  const char *bridge_prefix, const char *file, int line);
/* Once the conf files are written: network_module_init("cni", cache, conf, bin), checked. */
bool tl_cri_init(struct tl_cri *cri, const char *file, int line);
/* Writes conf_file: network net on bridge cri->bridge[bridge] (a gateway) with host-local
 * addresses from subnet (its first three octets and the dot) ".0/24", gateway ".1", kept in
 * cri->dirs.ipam; more_plugins ("" or ",{…}…") follow the bridge in the list. */
bool tl_cri_write_bridge_conflist(const struct tl_cri *cri, const char *conf_file, const char *net, int bridge,
                                  const char *subnet, const char *more_plugins, const char *file, int line);
/* After the test: when initialised, checks that no attachment is left in the cache and exits the
 * module; then removes the bridges, the netns and the tree. */
void tl_cri_end(struct tl_cri *cri, const char *file, int line);

/* --- the library's answers and state -------------------------------------------------------- */

/* The host's g_isulad_errmsg of this thread (NULL when none). */
const char *tl_errmsg(void);
/* tl_errmsg() for a failure message: "(no message)" when there is none. */
const char *tl_errmsg_text(void);
/* Frees and clears this thread's g_isulad_errmsg, like iSulad's DAEMON_CLEAR_ERRMSG. */
void tl_clear_errmsg(void);

/* network_module_detach must succeed; when quiet, it must also leave no message. */
bool tl_detach_ok(const network_api_conf *conf, const char *type, bool quiet, const char *file, int line);

/* <cache>/results/<net>-<id>-<ifname>: where the library caches an attachment's result (malloc'd). */
char *tl_cache_path(const char *cache, const char *net, const char *id, const char *ifname);
bool tl_cache_exists(const char *cache, const char *net, const char *id, const char *ifname);
/* No attachment is left in the cache dir's results/. */
bool tl_check_no_results(const char *cache, const char *file, int line);

#endif /* CLIBCNI_TESTLIB_H */
