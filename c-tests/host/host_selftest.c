/*
 * host_selftest — checks that the test host behaves like iSulad's map_t, filters and error channel
 * (docs/isulad-network-abi.md §2.1, §2.2, §0.3), and that its functions are visible to dlsym the
 * way libclibcni looks them up. Meant to be run under valgrind as well (no leaks).
 */
#define _GNU_SOURCE

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isulad_host.h"

static int g_passed;
static int g_failed;

static void check(bool ok, int line, const char *expr)
{
    if (ok) {
        g_passed++;
    } else {
        g_failed++;
        fprintf(stderr, "FAIL host_selftest.c:%d: %s\n", line, expr);
    }
}

/* Two NULLs are equal; NULL and a string are not. */
static bool str_eq(const char *a, const char *b)
{
    return (a == NULL || b == NULL) ? a == b : strcmp(a, b) == 0;
}

#define CHECK(cond) check((cond) ? true : false, __LINE__, #cond)
#define CHECK_STR(actual, expected) check(str_eq((actual), (expected)), __LINE__, #actual " == " #expected)

/* Keys of the map in iteration order, joined with ','. */
static void iter_keys(const map_t *map, char *out, size_t size)
{
    map_itor *itor = map_itor_new(map);

    out[0] = '\0';
    for (; map_itor_valid(itor); map_itor_next(itor)) {
        if (out[0] != '\0') {
            strncat(out, ",", size - strlen(out) - 1);
        }
        strncat(out, map_itor_key(itor), size - strlen(out) - 1);
    }
    map_itor_free(itor);
}

static int dummy_cmp(const void *a, const void *b)
{
    return a != b;
}

static void test_map_new(void)
{
    map_t *map = map_new(MAP_STR_STR, MAP_DEFAULT_CMP_FUNC, MAP_DEFAULT_FREE_FUNC);

    CHECK(map != NULL);
    CHECK(map_size(map) == 0);
    map_free(map);
    /* iSulad's map_new only accepts the default comparator, and known types. */
    CHECK(map_new(MAP_STR_STR, dummy_cmp, MAP_DEFAULT_FREE_FUNC) == NULL);
    CHECK(map_new((map_type_t)(MAP_PTR_PTR + 1), MAP_DEFAULT_CMP_FUNC, MAP_DEFAULT_FREE_FUNC) == NULL);
    /* NULL-safe functions. */
    map_free(NULL);
    map_clear(NULL);
    CHECK(map_size(NULL) == 0);
    CHECK(map_search(NULL, "k") == NULL);
    CHECK(!map_insert(NULL, "k", "v"));
    CHECK(!map_replace(NULL, "k", "v"));
    CHECK(!map_remove(NULL, "k"));
    CHECK(map_itor_new(NULL) == NULL);
    map_itor_free(NULL);
    CHECK(!map_itor_valid(NULL));
    CHECK(!map_itor_first(NULL));
    CHECK(!map_itor_last(NULL));
    CHECK(!map_itor_next(NULL));
    CHECK(!map_itor_prev(NULL));
    CHECK(map_itor_key(NULL) == NULL);
    CHECK(map_itor_value(NULL) == NULL);
}

static void test_map_str_str(void)
{
    map_t *map = map_new(MAP_STR_STR, MAP_DEFAULT_CMP_FUNC, MAP_DEFAULT_FREE_FUNC);
    char key[] = "portMappings";
    char value[] = "[1]";
    char keys[128];
    char *found = NULL;

    CHECK(map_insert(map, key, value));
    found = map_search(map, "portMappings");
    CHECK_STR(found, "[1]");
    CHECK(found != value); /* key and value are copies */
    key[0] = 'X';
    value[1] = '9';
    CHECK_STR(map_search(map, "portMappings"), "[1]");
    CHECK(map_search(map, key) == NULL);

    CHECK(!map_insert(map, "portMappings", "[2]")); /* insert never overwrites */
    CHECK_STR(map_search(map, "portMappings"), "[1]");
    CHECK(map_replace(map, "portMappings", "[2]")); /* replace does, freeing the old value */
    CHECK_STR(map_search(map, "portMappings"), "[2]");
    CHECK(map_replace(map, "bandwidth", "{}")); /* and inserts a new key */
    CHECK(map_size(map) == 2);

    CHECK(!map_insert(map, NULL, "v"));
    CHECK(!map_insert(map, "k", NULL));
    CHECK(!map_replace(map, NULL, "v"));
    CHECK(!map_replace(map, "k", NULL));
    CHECK(map_search(map, NULL) == NULL);
    CHECK(map_search(map, "absent") == NULL);
    CHECK(map_size(map) == 2);

    iter_keys(map, keys, sizeof(keys));
    CHECK_STR(keys, "bandwidth,portMappings");
    CHECK(map_remove(map, "bandwidth"));
    CHECK(!map_remove(map, "bandwidth"));
    CHECK(!map_remove(map, NULL));
    CHECK(map_size(map) == 1);
    map_clear(map);
    CHECK(map_size(map) == 0);
    CHECK(map_insert(map, "ipRanges", "[]")); /* usable after clear */
    CHECK_STR(map_search(map, "ipRanges"), "[]");
    map_free(map);
}

static void test_map_order_and_iteration(void)
{
    static const char *const inserted[] = { "b", "a", "c", "aa", "B", "ab", "" };
    map_t *map = map_new(MAP_STR_STR, MAP_DEFAULT_CMP_FUNC, MAP_DEFAULT_FREE_FUNC);
    map_itor *itor = NULL;
    char keys[128];
    size_t i;

    for (i = 0; i < sizeof(inserted) / sizeof(inserted[0]); i++) {
        CHECK(map_insert(map, (void *)inserted[i], (void *)"v"));
    }
    iter_keys(map, keys, sizeof(keys));
    CHECK_STR(keys, "B,a,aa,ab,b,c"); /* the empty key comes first and prints as nothing */
    CHECK_STR(map_search(map, ""), "v");

    itor = map_itor_new(map);
    CHECK(map_itor_valid(itor)); /* a new iterator is on the first entry */
    CHECK_STR(map_itor_key(itor), "");
    CHECK(map_itor_last(itor));
    CHECK_STR(map_itor_key(itor), "c");
    CHECK_STR(map_itor_value(itor), "v");
    CHECK(!map_itor_next(itor)); /* past the end: invalid, and it stays so */
    CHECK(!map_itor_valid(itor));
    CHECK(map_itor_key(itor) == NULL);
    CHECK(map_itor_value(itor) == NULL);
    CHECK(!map_itor_next(itor));
    CHECK(!map_itor_prev(itor));
    CHECK(map_itor_last(itor));
    CHECK(map_itor_prev(itor));
    CHECK_STR(map_itor_key(itor), "b");
    CHECK(map_itor_first(itor));
    CHECK(map_itor_next(itor));
    CHECK_STR(map_itor_key(itor), "B");
    CHECK(map_itor_prev(itor));
    CHECK(!map_itor_prev(itor)); /* before the first */
    CHECK(!map_itor_valid(itor));
    map_itor_free(itor);
    map_free(map);

    map = map_new(MAP_STR_STR, MAP_DEFAULT_CMP_FUNC, MAP_DEFAULT_FREE_FUNC);
    itor = map_itor_new(map);
    CHECK(itor != NULL);
    CHECK(!map_itor_valid(itor)); /* empty map */
    CHECK(!map_itor_first(itor));
    CHECK(!map_itor_last(itor));
    CHECK(map_insert(map, "late", "v"));
    CHECK(!map_itor_valid(itor)); /* the nil position stays invalid */
    CHECK(map_itor_first(itor));
    CHECK_STR(map_itor_key(itor), "late");
    map_itor_free(itor);
    map_free(map);
}

static void test_map_str_bool_int(void)
{
    map_t *bools = map_new(MAP_STR_BOOL, MAP_DEFAULT_CMP_FUNC, MAP_DEFAULT_FREE_FUNC);
    map_t *ints = map_new(MAP_STR_INT, MAP_DEFAULT_CMP_FUNC, MAP_DEFAULT_FREE_FUNC);
    bool yes = true;
    bool no = false;
    int n = 42;
    bool *b = NULL;
    int *i = NULL;

    CHECK(map_insert(bools, "on", &yes));
    CHECK(map_insert(bools, "off", &no));
    b = map_search(bools, "on");
    CHECK(b != NULL && b != &yes && *b);
    b = map_search(bools, "off");
    CHECK(b != NULL && !*b);
    CHECK(map_replace(bools, "off", &yes));
    b = map_search(bools, "off");
    CHECK(b != NULL && *b);

    CHECK(map_insert(ints, "n", &n));
    n = 7; /* the map holds its own copy */
    i = map_search(ints, "n");
    CHECK(i != NULL && i != &n && *i == 42);
    CHECK(map_replace(ints, "n", &n));
    i = map_search(ints, "n");
    CHECK(i != NULL && *i == 7);
    map_free(bools);
    map_free(ints);
}

static void test_map_int_keys(void)
{
    map_t *map = map_new(MAP_INT_STR, MAP_DEFAULT_CMP_FUNC, MAP_DEFAULT_FREE_FUNC);
    int keys[] = { 10, -5, 3, 0 };
    int expected[] = { -5, 0, 3, 10 };
    int probe = 3;
    map_itor *itor = NULL;
    size_t k = 0;

    for (k = 0; k < 4; k++) {
        CHECK(map_insert(map, &keys[k], "v"));
    }
    keys[2] = 99; /* keys are copied */
    CHECK_STR(map_search(map, &probe), "v");
    itor = map_itor_new(map);
    for (k = 0; map_itor_valid(itor); map_itor_next(itor), k++) {
        int *key = map_itor_key(itor);
        CHECK(k < 4 && key != NULL && *key == expected[k]); /* numeric, signed order */
    }
    CHECK(k == 4);
    map_itor_free(itor);
    map_free(map);
}

static int g_freed_calls;
static void *g_freed_keys[8];
static void *g_freed_values[8];

/* A kvfree that records its arguments and frees only the value. */
static void record_value_free(void *key, void *value)
{
    if (g_freed_calls < 8) {
        g_freed_keys[g_freed_calls] = key;
        g_freed_values[g_freed_calls] = value;
    }
    g_freed_calls++;
    free(value);
}

static void test_map_str_ptr(void)
{
    map_t *map = map_new(MAP_STR_PTR, MAP_DEFAULT_CMP_FUNC, MAP_DEFAULT_FREE_FUNC);
    char *v1 = strdup("one");
    char *v2 = strdup("two");
    char *v3 = strdup("three");
    map_itor *itor = NULL;

    /* Default kvfree: values are stored as-is and freed by the map (valgrind checks). */
    CHECK(map_insert(map, "a", v1));
    CHECK(map_search(map, "a") == v1);
    CHECK(!map_insert(map, "a", v2)); /* on failure the caller still owns the value */
    CHECK(map_replace(map, "a", v2)); /* frees v1 */
    CHECK(map_search(map, "a") == v2);
    CHECK(map_insert(map, "b", v3));
    CHECK(map_remove(map, "b")); /* frees v3 */
    map_free(map);                /* frees v2 */

    /* Custom kvfree: replace hands it the new key copy and the old value, then map_free the rest. */
    map = map_new(MAP_STR_PTR, MAP_DEFAULT_CMP_FUNC, record_value_free);
    v1 = strdup("one");
    v2 = strdup("two");
    g_freed_calls = 0;
    CHECK(map_insert(map, "k", v1));
    CHECK(map_replace(map, "k", v2));
    CHECK(g_freed_calls == 1);
    CHECK(g_freed_values[0] == v1);
    CHECK_STR(g_freed_keys[0], "k");
    itor = map_itor_new(map);
    CHECK(map_itor_key(itor) != g_freed_keys[0]); /* the stored key is kept */
    map_itor_free(itor);
    CHECK(map_search(map, "k") == v2);
    map_free(map);
    CHECK(g_freed_calls == 2);
    CHECK(g_freed_values[1] == v2);
    /* record_value_free leaves keys to us: free the two key copies it saw. */
    free(g_freed_keys[0]);
    free(g_freed_keys[1]);
}

static void test_map_ptr_keys(void)
{
    map_t *map = map_new(MAP_PTR_INT, MAP_DEFAULT_CMP_FUNC, record_value_free);
    char slots[3];
    int n = 5;
    map_itor *itor = NULL;
    int *v = NULL;
    int k;

    g_freed_calls = 0;
    CHECK(map_insert(map, &slots[2], &n));
    CHECK(map_insert(map, &slots[0], &n));
    CHECK(map_insert(map, &slots[1], &n));
    v = map_search(map, &slots[1]);
    CHECK(v != NULL && v != &n && *v == 5);
    itor = map_itor_new(map); /* pointer order */
    CHECK(map_itor_key(itor) == &slots[0]);
    CHECK(map_itor_next(itor) && map_itor_key(itor) == &slots[1]);
    CHECK(map_itor_next(itor) && map_itor_key(itor) == &slots[2]);
    map_itor_free(itor);
    map_free(map);
    CHECK(g_freed_calls == 3);
    /* PTR keys are stored as given: kvfree gets the caller's pointers back. */
    CHECK(g_freed_keys[0] != g_freed_keys[1] && g_freed_keys[1] != g_freed_keys[2] && g_freed_keys[0] != g_freed_keys[2]);
    for (k = 0; k < 3; k++) {
        CHECK((char *)g_freed_keys[k] >= &slots[0] && (char *)g_freed_keys[k] <= &slots[2]);
    }
}

static void test_filters(void)
{
    struct filters_args *filters = filters_args_new();
    map_t *empty = NULL;

    /* No filter: everything matches. */
    CHECK(filters_args_match(NULL, "name", "x"));
    CHECK(filters_args_exact_match(NULL, "name", "x"));
    CHECK(filters != NULL && filters->fields != NULL);
    CHECK(filters_args_match(filters, "name", "x")); /* absent field */
    CHECK(filters_args_exact_match(filters, "name", "x"));

    CHECK(!filters_args_add(NULL, "name", "x"));
    CHECK(!filters_args_add(filters, "name", NULL));
    CHECK(filters_args_add(filters, "name", "net1"));
    CHECK(filters_args_add(filters, "name", "net1")); /* duplicates are fine */
    CHECK(filters_args_add(filters, "name", "^web"));
    CHECK(filters_args_add(filters, "name", "(")); /* does not compile: skipped */
    CHECK(map_size(filters->fields) == 1);
    CHECK(map_size(map_search(filters->fields, "name")) == 3);

    CHECK(filters_args_exact_match(filters, "name", "net1"));
    CHECK(!filters_args_exact_match(filters, "name", "web1"));
    CHECK(filters_args_match(filters, "name", "net1"));
    CHECK(filters_args_match(filters, "name", "web1"));     /* regex */
    CHECK(filters_args_match(filters, "name", "mynet1x"));  /* unanchored */
    CHECK(!filters_args_match(filters, "name", "xweb"));    /* ^ anchors only where asked */
    CHECK(!filters_args_match(filters, "name", "other"));
    CHECK(filters_args_match(filters, "name", "("));        /* exact still works */
    CHECK(!filters_args_match(filters, "name", NULL));
    CHECK(!filters_args_exact_match(filters, "name", NULL));
    CHECK(filters_args_match(filters, "label", "x"));       /* other field absent */

    CHECK(filters_args_add(filters, "plugin", "bri+dge|macvlan"));
    CHECK(filters_args_match(filters, "plugin", "briiidge")); /* extended syntax */
    CHECK(filters_args_match(filters, "plugin", "macvlan"));
    CHECK(!filters_args_match(filters, "plugin", "brdge"));

    /* A field present with no values does not filter. */
    empty = map_new(MAP_STR_BOOL, MAP_DEFAULT_CMP_FUNC, MAP_DEFAULT_FREE_FUNC);
    CHECK(map_replace(filters->fields, "driver", empty));
    CHECK(filters_args_match(filters, "driver", "anything"));
    CHECK(filters_args_exact_match(filters, "driver", "anything"));

    filters_args_free(filters);
    filters_args_free(NULL);
}

static void *errmsg_in_thread(void *arg)
{
    (void)arg;
    if (g_isulad_errmsg != NULL) {
        return (void *)"inherited";
    }
    isulad_set_error_message("thread");
    isulad_clear_error_message();
    return NULL;
}

static void test_errmsg(void)
{
    char *huge = malloc(BUFSIZ + 1);
    pthread_t thread;
    void *thread_ret = NULL;

    memset(huge, 'x', BUFSIZ);
    huge[BUFSIZ] = '\0';

    CHECK(g_isulad_errmsg == NULL);
    isulad_append_error_message("first %d. ", 1); /* append to nothing */
    CHECK_STR(g_isulad_errmsg, "first 1. ");
    isulad_set_error_message("No such network %s", "n1"); /* set replaces */
    CHECK_STR(g_isulad_errmsg, "No such network n1");
    isulad_append_error_message("raw exec failed: %s. ", "boom"); /* goes in front, no separator */
    CHECK_STR(g_isulad_errmsg, "raw exec failed: boom. No such network n1");
    isulad_append_error_message("%s", huge); /* too long: unchanged */
    CHECK_STR(g_isulad_errmsg, "raw exec failed: boom. No such network n1");
    isulad_set_error_message("%s", huge); /* too long: cleared */
    CHECK(g_isulad_errmsg == NULL);
    huge[BUFSIZ - 1] = '\0'; /* BUFSIZ - 1 chars fit */
    isulad_set_error_message("%s", huge);
    CHECK(g_isulad_errmsg != NULL && strlen(g_isulad_errmsg) == BUFSIZ - 1);
    isulad_set_error_message("%s", "");
    CHECK_STR(g_isulad_errmsg, "");

    /* Thread-local: another thread neither sees nor changes this thread's message. */
    isulad_set_error_message("main");
    CHECK(pthread_create(&thread, NULL, errmsg_in_thread, NULL) == 0);
    CHECK(pthread_join(thread, &thread_ret) == 0);
    CHECK(thread_ret == NULL);
    CHECK_STR(g_isulad_errmsg, "main");

    isulad_clear_error_message();
    CHECK(g_isulad_errmsg == NULL);
    isulad_clear_error_message();
    free(huge);
}

/* libclibcni finds these with dlsym(RTLD_DEFAULT, ...): they must be exported by the executable. */
static void test_exported(void)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } symbols[] = {
        { "map_new", (void (*)(void))map_new },
        { "map_free", (void (*)(void))map_free },
        { "map_search", (void (*)(void))map_search },
        { "map_replace", (void (*)(void))map_replace },
        { "map_insert", (void (*)(void))map_insert },
        { "map_size", (void (*)(void))map_size },
        { "map_itor_new", (void (*)(void))map_itor_new },
        { "map_itor_free", (void (*)(void))map_itor_free },
        { "map_itor_first", (void (*)(void))map_itor_first },
        { "map_itor_next", (void (*)(void))map_itor_next },
        { "map_itor_valid", (void (*)(void))map_itor_valid },
        { "map_itor_key", (void (*)(void))map_itor_key },
        { "map_itor_value", (void (*)(void))map_itor_value },
        { "filters_args_match", (void (*)(void))filters_args_match },
        { "isulad_set_error_message", (void (*)(void))isulad_set_error_message },
        { "isulad_append_error_message", (void (*)(void))isulad_append_error_message },
    };
    size_t i;

    for (i = 0; i < sizeof(symbols) / sizeof(symbols[0]); i++) {
        void *sym = dlsym(RTLD_DEFAULT, symbols[i].name);
        check(sym != NULL, __LINE__, symbols[i].name);
        check(sym == (void *)symbols[i].fn, __LINE__, symbols[i].name);
    }
    CHECK(dlsym(RTLD_DEFAULT, "g_isulad_errmsg") != NULL);
}

int main(void)
{
    test_map_new();
    test_map_str_str();
    test_map_order_and_iteration();
    test_map_str_bool_int();
    test_map_int_keys();
    test_map_str_ptr();
    test_map_ptr_keys();
    test_filters();
    test_errmsg();
    test_exported();
    printf("host_selftest: %d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
