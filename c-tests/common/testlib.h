/*
 * testlib — the small toolkit every C test of the clibcni harness uses.
 *
 * - Checks: CHECK / CHECKF / CHECK_EQ_INT / CHECK_EQ_STR record a failure (file:line and a message,
 *   printed to stderr) and let the test continue; each evaluates to true when it passed, so a test
 *   can stop early with `if (!CHECK(p != NULL)) return;`. test_summary() prints the tally and gives
 *   main()'s exit code.
 * - Scratch state: temp dirs under $CLIBCNI_TEST_TMP and network namespaces are registered for
 *   removal at exit, so a failing test leaves nothing behind.
 * - Inputs as iSulad builds them: network_api_conf and its members allocated with calloc/strdup,
 *   to be freed by the library's free_network_api_conf.
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

/* --- scratch files and namespaces ----------------------------------------------------------- */

/* A new directory $CLIBCNI_TEST_TMP/<tag>-XXXXXX (base created if missing; /tmp/clibcni-c-tests
 * when unset), removed at exit unless tl_rmtree removes it first. NULL on failure. */
char *tl_tmpdir(const char *tag);
/* Removes path recursively (no error when absent) and drops it from the exit cleanup. 0 or -1. */
int tl_rmtree(const char *path);

/* Runs `ip netns add clibcni-<tag>-<pid>`; returns "/run/netns/<name>" (deleted at exit), or NULL. */
char *tl_netns_create(const char *tag);
/* Deletes a namespace made by tl_netns_create (given its path) and drops it from the cleanup. 0 or -1. */
int tl_netns_delete(const char *path);

/* Runs the formatted command with `sh -c`; stdout and stderr together go to *out (malloc'd, may be
 * NULL when out is NULL). Returns the exit status, 128+signal when killed, -1 if it cannot run. */
int tl_run(char **out, const char *fmt, ...) TL_PRINTF(2, 3);

/* Writes (creates/truncates, mode 0644) a whole file. 0 or -1. */
int tl_write_file(const char *path, const char *content);
/* The whole file as a NUL-terminated string, or NULL. */
char *tl_read_file(const char *path);

/* Symlinks $CLIBCNI_RECORDER as <bindir>/<name>. 0 or -1. */
int tl_install_recorder(const char *bindir, const char *name);
/* Symlinks the real plugin $CNI_REAL_PLUGINS/<name> (default /usr/lib/cni) as <bindir>/<name>. 0 or -1. */
int tl_link_real_plugin(const char *bindir, const char *name);

/* --- iSulad inputs -------------------------------------------------------------------------- */

/* A calloc'd conf with strdup'd pod_id, netns_path and default_interface (NULL stays NULL). */
network_api_conf *tl_conf_new(const char *pod_id, const char *netns, const char *default_if);
/* Appends an extral_nets entry {name, ifname} (strdup'd; NULL stays NULL). */
void tl_conf_add_extra(network_api_conf *conf, const char *name, const char *ifname);
/* Appends key=value to conf->args (created if NULL). */
void tl_conf_add_arg(network_api_conf *conf, const char *key, const char *value);

/* The host's g_isulad_errmsg of this thread (NULL when none). */
const char *tl_errmsg(void);
/* Frees and clears this thread's g_isulad_errmsg, like iSulad's DAEMON_CLEAR_ERRMSG. */
void tl_clear_errmsg(void);

#endif /* CLIBCNI_TESTLIB_H */
