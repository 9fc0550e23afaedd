/*
 * isulad_host — the parts of the iSulad daemon that libclibcni resolves at run time (dlsym with
 * RTLD_DEFAULT), re-implemented for the C test programs, which play the daemon.
 *
 * Names, prototypes and behaviour are iSulad's (src/utils/cutils/map/{map,rb_tree}.h,
 * src/utils/cutils/filters.h, src/daemon/common/err_msg.{h,c}); see
 * docs/isulad-network-abi.md §0.3, §2.1, §2.2. Only the storage differs: the map is a sorted
 * array instead of a red-black tree, which is invisible through this API.
 *
 * Test executables must link the OBJECT library `isulad_host` and be built with ENABLE_EXPORTS ON,
 * so that every function here is in their dynamic symbol table.
 */
#ifndef CLIBCNI_ISULAD_HOST_H
#define CLIBCNI_ISULAD_HOST_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* --- map (map.h / rb_tree.h) ---------------------------------------------------------------- */

/* rb_tree.h callback types, which map.h re-exports under the map_* names. */
typedef int (*key_comparator)(const void *, const void *);
typedef void (*key_value_freer)(void *, void *);

typedef key_comparator map_cmp_func;
typedef key_value_freer map_kvfree_func;

#define MAP_DEFAULT_CMP_FUNC NULL
#define MAP_DEFAULT_FREE_FUNC NULL

typedef enum {
    MAP_INT_INT = 0,
    MAP_INT_BOOL,
    MAP_INT_STR,
    MAP_INT_PTR,
    MAP_STR_BOOL,
    MAP_STR_INT,
    MAP_STR_PTR,
    MAP_STR_STR,
    MAP_PTR_INT,
    MAP_PTR_STR,
    MAP_PTR_PTR
} map_type_t;

/* Opaque here (iSulad exposes its members; nothing in the network module reads them). */
typedef struct _map_t map_t;
typedef struct rb_iterator map_itor;

/*
 * Ownership, as in iSulad: int/string keys and int/bool/string values are copied on insert
 * (map_search on MAP_STR_INT returns an int *); PTR keys and values are stored as given and
 * released by the kvfree callback (default: free(key) and free(value)).
 * Only MAP_DEFAULT_CMP_FUNC is accepted: iSulad's map_new fails on any other comparator.
 */
map_t *map_new(map_type_t kvtype, map_cmp_func comparator, map_kvfree_func kvfree);
void map_free(map_t *map);
void map_clear(map_t *map);
bool map_remove(map_t *map, void *key);
void *map_search(const map_t *map, void *key);
size_t map_size(const map_t *map);
/* Inserts, or replaces the value of an existing key (the old value is released, the key kept). */
bool map_replace(const map_t *map, void *key, void *value);
/* Fails when the key exists. */
bool map_insert(map_t *map, void *key, void *value);

/* A new iterator starts on the first entry; it is invalid once it steps off either end. */
map_itor *map_itor_new(const map_t *map);
void map_itor_free(map_itor *itor);
bool map_itor_first(map_itor *itor);
bool map_itor_last(map_itor *itor);
bool map_itor_next(map_itor *itor);
bool map_itor_prev(map_itor *itor);
bool map_itor_valid(const map_itor *itor);
void *map_itor_key(map_itor *itor);
void *map_itor_value(map_itor *itor);

/* --- filters (filters.h) -------------------------------------------------------------------- */

struct filters_args {
    // map[string] (MAP_STR_PTR) -> map_t * (MAP_STR_BOOL) of the field's values
    map_t *fields;
};

struct filters_args *filters_args_new(void);
void filters_args_free(struct filters_args *filters);
bool filters_args_add(struct filters_args *filters, const char *name, const char *value);
/* True when filters is NULL, the field is absent or empty, or source is one of its values. */
bool filters_args_exact_match(const struct filters_args *filters, const char *field, const char *source);
/* As filters_args_exact_match, or a value (POSIX ERE, unanchored) matches source. */
bool filters_args_match(const struct filters_args *filters, const char *field, const char *source);

/* --- error channel (err_msg.h) -------------------------------------------------------------- */

/* This thread's daemon error message (malloc'd), read by callers after a failure. */
extern __thread char *g_isulad_errmsg;

/* Replaces the message. A formatted text of BUFSIZ chars or more leaves no message at all. */
void isulad_set_error_message(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* Puts the formatted text in FRONT of the current message (iSulad's util_string_append(old, new)
 * yields new + old); no separator is added. Too long a text leaves the message unchanged. */
void isulad_append_error_message(const char *format, ...) __attribute__((format(printf, 1, 2)));
/* Test convenience (iSulad's DAEMON_CLEAR_ERRMSG): frees and clears the message. */
void isulad_clear_error_message(void);

#ifdef __cplusplus
}
#endif

#endif /* CLIBCNI_ISULAD_HOST_H */
