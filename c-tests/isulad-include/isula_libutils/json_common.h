/* Stand-in for lcr's generated isula_libutils/json_common.h (the parts network_api.h uses). */
#ifndef ISULA_LIBUTILS_JSON_COMMON_H
#define ISULA_LIBUTILS_JSON_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <yajl/yajl_tree.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OPT_PARSE_STRICT 0x01
#define OPT_GEN_KEY_VALUE 0x02
#define OPT_GEN_SIMPLIFY 0x04
#define OPT_PARSE_FULLKEY 0x08
#define OPT_GEN_NO_VALIDATE_UTF8 0x10

typedef char *parser_error;

struct parser_context {
    unsigned int options;
    FILE *errfile;
};

typedef struct {
    char **keys;
    char **values;
    size_t len;
} json_map_string_string;

typedef struct {
    char **keys;
    bool *values;
    size_t len;
} json_map_string_bool;

void free_json_map_string_string(json_map_string_string *map);

int append_json_map_string_string(json_map_string_string *map, const char *key, const char *val);

#ifdef __cplusplus
}
#endif

#endif
