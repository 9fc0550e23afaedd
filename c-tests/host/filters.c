/*
 * iSulad's struct filters_args (src/utils/cutils/filters.c) for the test host: a MAP_STR_PTR of
 * field name -> MAP_STR_BOOL set of accepted values.
 */
#define _POSIX_C_SOURCE 200809L

#include <regex.h>
#include <stdlib.h>

#include "isulad_host.h"

/* kvfree of the fields map: a field owns its name copy and its value set. */
static void field_free(void *name, void *values)
{
    free(name);
    map_free(values);
}

struct filters_args *filters_args_new(void)
{
    struct filters_args *filters = calloc(1, sizeof(*filters));

    if (filters == NULL) {
        return NULL;
    }
    filters->fields = map_new(MAP_STR_PTR, MAP_DEFAULT_CMP_FUNC, field_free);
    if (filters->fields == NULL) {
        free(filters);
        return NULL;
    }
    return filters;
}

void filters_args_free(struct filters_args *filters)
{
    if (filters == NULL) {
        return;
    }
    map_free(filters->fields);
    free(filters);
}

bool filters_args_add(struct filters_args *filters, const char *name, const char *value)
{
    bool accepted = true;
    map_t *values = NULL;

    if (filters == NULL || filters->fields == NULL) {
        return false;
    }
    values = map_search(filters->fields, (void *)name);
    if (values == NULL) {
        values = map_new(MAP_STR_BOOL, MAP_DEFAULT_CMP_FUNC, MAP_DEFAULT_FREE_FUNC);
        if (values == NULL) {
            return false;
        }
        if (!map_replace(filters->fields, (void *)name, values)) {
            map_free(values);
            return false;
        }
    }
    return map_replace(values, (void *)value, &accepted);
}

/* The field's value set when it constrains anything; NULL means "do not filter". */
static map_t *field_values(const struct filters_args *filters, const char *field)
{
    map_t *values = NULL;

    if (filters == NULL || filters->fields == NULL) {
        return NULL;
    }
    values = map_search(filters->fields, (void *)field);
    return map_size(values) > 0 ? values : NULL;
}

bool filters_args_exact_match(const struct filters_args *filters, const char *field, const char *source)
{
    map_t *values = field_values(filters, field);

    return values == NULL || map_search(values, (void *)source) != NULL;
}

/* util_reg_match: a pattern that does not compile, or a NULL source, matches nothing. */
static bool regex_matches(const char *pattern, const char *source)
{
    regex_t re;
    bool found = false;

    if (pattern == NULL || source == NULL || regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0) {
        return false;
    }
    found = regexec(&re, source, 0, NULL, 0) == 0;
    regfree(&re);
    return found;
}

bool filters_args_match(const struct filters_args *filters, const char *field, const char *source)
{
    map_t *values = NULL;
    map_itor *itor = NULL;
    bool found = false;

    if (filters_args_exact_match(filters, field, source)) {
        return true;
    }
    values = field_values(filters, field);
    itor = map_itor_new(values);
    if (itor == NULL) {
        return false;
    }
    for (; !found && map_itor_valid(itor); map_itor_next(itor)) {
        found = regex_matches(map_itor_key(itor), source);
    }
    map_itor_free(itor);
    return found;
}
