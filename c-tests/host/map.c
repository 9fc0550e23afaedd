/*
 * iSulad's map_t (src/utils/cutils/map/map.c) for the test host: same API and ownership rules,
 * stored as an array kept sorted by the key comparator (binary search) instead of a red-black tree.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "isulad_host.h"

/* How a key or value of a map type is held. */
enum slot_kind { SLOT_INT, SLOT_BOOL, SLOT_STR, SLOT_PTR };

struct map_entry {
    void *key;
    void *value;
};

struct _map_t {
    map_type_t type;
    key_comparator cmp;
    key_value_freer kvfree;
    struct map_entry *entries; /* sorted by cmp, no duplicate keys */
    size_t len;
    size_t cap;
};

/* Iterator position; NO_POS plays the rb-tree's nil node (invalid, and it stays so). */
#define NO_POS SIZE_MAX

struct rb_iterator {
    const map_t *map;
    size_t pos;
};

static const struct {
    enum slot_kind key;
    enum slot_kind value;
} g_kinds[] = {
    [MAP_INT_INT] = { SLOT_INT, SLOT_INT },  [MAP_INT_BOOL] = { SLOT_INT, SLOT_BOOL },
    [MAP_INT_STR] = { SLOT_INT, SLOT_STR },  [MAP_INT_PTR] = { SLOT_INT, SLOT_PTR },
    [MAP_STR_BOOL] = { SLOT_STR, SLOT_BOOL }, [MAP_STR_INT] = { SLOT_STR, SLOT_INT },
    [MAP_STR_PTR] = { SLOT_STR, SLOT_PTR },  [MAP_STR_STR] = { SLOT_STR, SLOT_STR },
    [MAP_PTR_INT] = { SLOT_PTR, SLOT_INT },  [MAP_PTR_STR] = { SLOT_PTR, SLOT_STR },
    [MAP_PTR_PTR] = { SLOT_PTR, SLOT_PTR },
};

static int ptr_cmp(const void *a, const void *b)
{
    return (a > b) - (a < b);
}

static int int_cmp(const void *a, const void *b)
{
    int x = *(const int *)a;
    int y = *(const int *)b;
    return (x > y) - (x < y);
}

/* iSulad compares the bytes as plain `char` (signed on x86_64), unlike strcmp's unsigned char;
 * the order only differs for bytes >= 0x80. */
static int str_cmp(const void *a, const void *b)
{
    const char *x = a;
    const char *y = b;
    while (*x != '\0' && *x == *y) {
        x++;
        y++;
    }
    return (*x > *y) - (*x < *y);
}

static void default_kvfree(void *key, void *value)
{
    free(key);
    free(value);
}

/* The map's own copy of a key or value, or NULL when out of memory. PTR slots are not copied. */
static void *slot_copy(enum slot_kind kind, const void *src)
{
    void *copy = NULL;

    switch (kind) {
        case SLOT_INT:
            copy = malloc(sizeof(int));
            if (copy != NULL) {
                memcpy(copy, src, sizeof(int));
            }
            return copy;
        case SLOT_BOOL:
            copy = malloc(sizeof(bool));
            if (copy != NULL) {
                memcpy(copy, src, sizeof(bool));
            }
            return copy;
        case SLOT_STR:
            return strdup(src);
        case SLOT_PTR:
        default:
            return (void *)src;
    }
}

/* Undoes slot_copy when the pair is not stored: the caller still owns PTR slots. */
static void slot_drop(enum slot_kind kind, void *copy)
{
    if (kind != SLOT_PTR) {
        free(copy);
    }
}

/* Binary search: true when key is present; *pos is its index, or where it would be inserted. */
static bool map_find(const map_t *map, const void *key, size_t *pos)
{
    size_t lo = 0;
    size_t hi = map->len;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = map->cmp(key, map->entries[mid].key);
        if (c == 0) {
            *pos = mid;
            return true;
        }
        if (c < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    *pos = lo;
    return false;
}

static bool map_reserve_one(map_t *map)
{
    size_t cap = 0;
    struct map_entry *grown = NULL;

    if (map->len < map->cap) {
        return true;
    }
    cap = map->cap == 0 ? 8 : map->cap * 2;
    grown = realloc(map->entries, cap * sizeof(*grown));
    if (grown == NULL) {
        return false;
    }
    map->entries = grown;
    map->cap = cap;
    return true;
}

/*
 * Shared body of map_insert and map_replace. Like iSulad, key and value are copied first; when
 * replacing an existing key, kvfree receives the NEW key copy and the OLD value, and the stored
 * key is kept (so with MAP_PTR_* keys and the default kvfree, the caller's key pointer is freed).
 */
static bool map_store(map_t *map, void *key, void *value, bool replace)
{
    enum slot_kind kk;
    enum slot_kind vk;
    void *k = NULL;
    void *v = NULL;
    size_t pos = 0;

    if (map == NULL || key == NULL || value == NULL) {
        return false;
    }
    kk = g_kinds[map->type].key;
    vk = g_kinds[map->type].value;
    k = slot_copy(kk, key);
    if (k == NULL) {
        return false;
    }
    v = slot_copy(vk, value);
    if (v == NULL) {
        slot_drop(kk, k);
        return false;
    }

    if (map_find(map, k, &pos)) {
        if (!replace) {
            slot_drop(kk, k);
            slot_drop(vk, v);
            return false;
        }
        map->kvfree(k, map->entries[pos].value);
        map->entries[pos].value = v;
        return true;
    }
    if (!map_reserve_one(map)) {
        slot_drop(kk, k);
        slot_drop(vk, v);
        return false;
    }
    memmove(&map->entries[pos + 1], &map->entries[pos], (map->len - pos) * sizeof(*map->entries));
    map->entries[pos].key = k;
    map->entries[pos].value = v;
    map->len++;
    return true;
}

map_t *map_new(map_type_t kvtype, map_cmp_func comparator, map_kvfree_func kvfree)
{
    map_t *map = NULL;

    /* iSulad rejects unknown types and any comparator but the default one. */
    if ((unsigned int)kvtype > (unsigned int)MAP_PTR_PTR || comparator != MAP_DEFAULT_CMP_FUNC) {
        return NULL;
    }
    map = calloc(1, sizeof(*map));
    if (map == NULL) {
        return NULL;
    }
    map->type = kvtype;
    switch (g_kinds[kvtype].key) {
        case SLOT_INT:
            map->cmp = int_cmp;
            break;
        case SLOT_STR:
            map->cmp = str_cmp;
            break;
        default:
            map->cmp = ptr_cmp;
            break;
    }
    map->kvfree = kvfree != MAP_DEFAULT_FREE_FUNC ? kvfree : default_kvfree;
    return map;
}

void map_clear(map_t *map)
{
    size_t i;

    if (map == NULL) {
        return;
    }
    for (i = 0; i < map->len; i++) {
        map->kvfree(map->entries[i].key, map->entries[i].value);
    }
    map->len = 0;
}

void map_free(map_t *map)
{
    if (map == NULL) {
        return;
    }
    map_clear(map);
    free(map->entries);
    free(map);
}

bool map_remove(map_t *map, void *key)
{
    size_t pos = 0;

    if (map == NULL || key == NULL || !map_find(map, key, &pos)) {
        return false;
    }
    map->kvfree(map->entries[pos].key, map->entries[pos].value);
    map->len--;
    memmove(&map->entries[pos], &map->entries[pos + 1], (map->len - pos) * sizeof(*map->entries));
    return true;
}

void *map_search(const map_t *map, void *key)
{
    size_t pos = 0;

    if (map == NULL || key == NULL || !map_find(map, key, &pos)) {
        return NULL;
    }
    return map->entries[pos].value;
}

size_t map_size(const map_t *map)
{
    return map == NULL ? 0 : map->len;
}

/* iSulad takes a const map here yet modifies it; the map itself is never a const object. */
bool map_replace(const map_t *map, void *key, void *value)
{
    return map_store((map_t *)map, key, value, true);
}

bool map_insert(map_t *map, void *key, void *value)
{
    return map_store(map, key, value, false);
}

map_itor *map_itor_new(const map_t *map)
{
    map_itor *itor = NULL;

    if (map == NULL) {
        return NULL;
    }
    itor = calloc(1, sizeof(*itor));
    if (itor == NULL) {
        return NULL;
    }
    itor->map = map;
    (void)map_itor_first(itor);
    return itor;
}

void map_itor_free(map_itor *itor)
{
    free(itor);
}

bool map_itor_valid(const map_itor *itor)
{
    /* NO_POS is never below len; a map shrunk under the iterator also ends it. */
    return itor != NULL && itor->pos < itor->map->len;
}

bool map_itor_first(map_itor *itor)
{
    if (itor == NULL) {
        return false;
    }
    itor->pos = itor->map->len > 0 ? 0 : NO_POS;
    return map_itor_valid(itor);
}

bool map_itor_last(map_itor *itor)
{
    if (itor == NULL) {
        return false;
    }
    itor->pos = itor->map->len > 0 ? itor->map->len - 1 : NO_POS;
    return map_itor_valid(itor);
}

bool map_itor_next(map_itor *itor)
{
    if (!map_itor_valid(itor)) {
        return false;
    }
    itor->pos = itor->pos + 1 < itor->map->len ? itor->pos + 1 : NO_POS;
    return map_itor_valid(itor);
}

bool map_itor_prev(map_itor *itor)
{
    if (!map_itor_valid(itor)) {
        return false;
    }
    itor->pos = itor->pos > 0 ? itor->pos - 1 : NO_POS;
    return map_itor_valid(itor);
}

void *map_itor_key(map_itor *itor)
{
    return map_itor_valid(itor) ? itor->map->entries[itor->pos].key : NULL;
}

void *map_itor_value(map_itor *itor)
{
    return map_itor_valid(itor) ? itor->map->entries[itor->pos].value : NULL;
}
