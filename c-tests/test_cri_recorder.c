/*
 * What the CRI type sends to plugins, observed with the recording plugin (examples/cni_recorder.rs)
 * installed as every plugin, loopback included, so no real namespace is needed (the netns path is
 * a made-up string): order of calls, CNI_* environment, CNI_ARGS, runtimeConfig per declared
 * capability, prevResult chaining, name/cniVersion injection, DEL in reverse order, CHECK with the
 * cached result, DEL and CHECK replaying ADD's CNI_ARGS where the caller leaves a key empty or out,
 * and network_module_update reloading the conf dir.
 *
 * The recorder writes <bin>/<plugin>.calls.jsonl (one JSON object per call: command, stdin, env)
 * and answers as <bin>/<plugin>.behavior.json says. Addresses 10.234.1.0/24 and 10.234.2.0/24
 * are only strings in recorded results; no link is created.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isulad_host.h"
#include "network_api.h"
#include "testlib.h"

#define CRI NETWOKR_API_TYPE_CRI
#define NET_REC "ccri-rec"
#define NET_REC04 "ccri-rec04"
#define NET_FIRST "ccri-first"

#define PORTS "[{\"hostPort\":8080,\"containerPort\":80,\"protocol\":\"tcp\"}]"
#define BANDWIDTH "{\"ingressRate\":1000,\"ingressBurst\":2000,\"egressRate\":3000,\"egressBurst\":4000}"
#define RANGES "[[{\"subnet\":\"10.234.9.0/24\"}]]"

#define RESULT_A                                                                                   \
    "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"0a:58:0a:ea:01:05\"," \
    "\"sandbox\":\"%s\"}],\"ips\":[{\"interface\":0,\"address\":\"10.234.1.5/24\",\"gateway\":\"10.234.1.1\"}]}"
#define RESULT_B                                                                                   \
    "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"0a:58:0a:ea:01:06\"," \
    "\"sandbox\":\"%s\"}],\"ips\":[{\"interface\":0,\"address\":\"10.234.1.6/24\",\"gateway\":\"10.234.1.1\"}]}"
#define RESULT_C                                                                                   \
    "{\"cniVersion\":\"0.4.0\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"0a:58:0a:ea:02:07\"," \
    "\"sandbox\":\"%s\"}],\"ips\":[{\"version\":\"4\",\"interface\":0,\"address\":\"10.234.2.7/24\","   \
    "\"gateway\":\"10.234.2.1\"}]}"

/* --- a small JSON reader for the recorder's files ------------------------------------------- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

/* A parsed value: text of strings, numbers and booleans; keys (objects) and items (both). */
typedef struct jv {
    enum jtype type;
    char *text;
    size_t len;
    char **keys;
    struct jv **items;
} jv;

static void jv_free(jv *v)
{
    if (v == NULL) {
        return;
    }
    for (size_t i = 0; i < v->len; i++) {
        if (v->keys != NULL) {
            free(v->keys[i]);
        }
        jv_free(v->items[i]);
    }
    free(v->keys);
    free(v->items);
    free(v->text);
    free(v);
}

static void skip_ws(const char **p)
{
    while (**p == ' ' || **p == '\n' || **p == '\r' || **p == '\t') {
        (*p)++;
    }
}

static size_t utf8_encode(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static bool hex4(const char *p, unsigned *cp)
{
    *cp = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d = (c >= '0' && c <= '9') ? (unsigned)(c - '0')
                     : (c >= 'a' && c <= 'f') ? (unsigned)(c - 'a' + 10)
                     : (c >= 'A' && c <= 'F') ? (unsigned)(c - 'A' + 10)
                                              : 16;
        if (d == 16) {
            return false;
        }
        *cp = *cp * 16 + d;
    }
    return true;
}

/* A string starting at the opening quote; NULL when malformed. */
static char *parse_string(const char **p)
{
    (*p)++;
    size_t cap = 32, len = 0;
    char *out = malloc(cap);
    for (;;) {
        char c = **p;
        if (c == '\0' || out == NULL) {
            free(out);
            return NULL;
        }
        (*p)++;
        if (c == '"') {
            break;
        }
        char buf[4] = { c };
        size_t n = 1;
        if (c == '\\') {
            char esc = **p;
            (*p)++;
            unsigned cp = 0;
            switch (esc) {
            case '"': case '\\': case '/': buf[0] = esc; break;
            case 'b': buf[0] = '\b'; break;
            case 'f': buf[0] = '\f'; break;
            case 'n': buf[0] = '\n'; break;
            case 'r': buf[0] = '\r'; break;
            case 't': buf[0] = '\t'; break;
            case 'u':
                if (!hex4(*p, &cp)) {
                    free(out);
                    return NULL;
                }
                *p += 4;
                if (cp >= 0xD800 && cp < 0xDC00 && (*p)[0] == '\\' && (*p)[1] == 'u') {
                    unsigned low = 0;
                    if (hex4(*p + 2, &low)) {
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                        *p += 6;
                    }
                }
                n = utf8_encode(cp, buf);
                break;
            default:
                free(out);
                return NULL;
            }
        }
        if (len + n + 1 > cap) {
            cap *= 2;
            char *grown = realloc(out, cap);
            if (grown == NULL) {
                free(out);
                return NULL;
            }
            out = grown;
        }
        memcpy(out + len, buf, n);
        len += n;
    }
    out[len] = '\0';
    return out;
}

static jv *parse_value(const char **p, int depth);

/* Appends an item (and key, for objects) to a container. */
static void jv_push(jv *v, char *key, jv *item)
{
    v->items = realloc(v->items, (v->len + 1) * sizeof(*v->items));
    if (v->type == J_OBJ) {
        v->keys = realloc(v->keys, (v->len + 1) * sizeof(*v->keys));
        v->keys[v->len] = key;
    }
    v->items[v->len++] = item;
}

static jv *parse_container(const char **p, int depth, enum jtype type)
{
    jv *v = calloc(1, sizeof(*v));
    v->type = type;
    char close = type == J_OBJ ? '}' : ']';
    (*p)++;
    skip_ws(p);
    if (**p == close) {
        (*p)++;
        return v;
    }
    for (;;) {
        char *key = NULL;
        if (type == J_OBJ) {
            skip_ws(p);
            if (**p != '"' || (key = parse_string(p)) == NULL) {
                break;
            }
            skip_ws(p);
            if (**p != ':') {
                free(key);
                break;
            }
            (*p)++;
        }
        jv *item = parse_value(p, depth + 1);
        if (item == NULL) {
            free(key);
            break;
        }
        jv_push(v, key, item);
        skip_ws(p);
        if (**p == ',') {
            (*p)++;
            continue;
        }
        if (**p == close) {
            (*p)++;
            return v;
        }
        break;
    }
    jv_free(v);
    return NULL;
}

static jv *parse_value(const char **p, int depth)
{
    if (depth > 64) {
        return NULL;
    }
    skip_ws(p);
    char c = **p;
    if (c == '{') {
        return parse_container(p, depth, J_OBJ);
    }
    if (c == '[') {
        return parse_container(p, depth, J_ARR);
    }
    jv *v = calloc(1, sizeof(*v));
    if (c == '"') {
        v->type = J_STR;
        v->text = parse_string(p);
    } else if (strncmp(*p, "true", 4) == 0 || strncmp(*p, "false", 5) == 0) {
        v->type = J_BOOL;
        v->text = strdup(c == 't' ? "true" : "false");
        *p += c == 't' ? 4 : 5;
    } else if (strncmp(*p, "null", 4) == 0) {
        v->type = J_NULL;
        v->text = strdup("null");
        *p += 4;
    } else {
        size_t n = strspn(*p, "-+.eE0123456789");
        v->type = J_NUM;
        v->text = n == 0 ? NULL : strndup(*p, n);
        *p += n;
    }
    if (v->text == NULL) {
        jv_free(v);
        return NULL;
    }
    return v;
}

/* The whole text as one JSON value, or NULL. */
static jv *jv_parse(const char *text)
{
    if (text == NULL) {
        return NULL;
    }
    const char *p = text;
    jv *v = parse_value(&p, 0);
    skip_ws(&p);
    if (v != NULL && *p != '\0') {
        jv_free(v);
        return NULL;
    }
    return v;
}

static const jv *jv_get(const jv *obj, const char *key)
{
    if (obj == NULL || obj->type != J_OBJ) {
        return NULL;
    }
    for (size_t i = 0; i < obj->len; i++) {
        if (strcmp(obj->keys[i], key) == 0) {
            return obj->items[i];
        }
    }
    return NULL;
}

/* The string value of obj[key], or NULL. */
static const char *jv_str(const jv *obj, const char *key)
{
    const jv *v = jv_get(obj, key);
    return v != NULL && v->type == J_STR ? v->text : NULL;
}

/* Structural equality; object key order does not matter. */
static bool jv_equal(const jv *a, const jv *b)
{
    if (a == NULL || b == NULL || a->type != b->type || a->len != b->len) {
        return false;
    }
    switch (a->type) {
    case J_ARR:
        for (size_t i = 0; i < a->len; i++) {
            if (!jv_equal(a->items[i], b->items[i])) {
                return false;
            }
        }
        return true;
    case J_OBJ:
        for (size_t i = 0; i < a->len; i++) {
            if (!jv_equal(a->items[i], jv_get(b, a->keys[i]))) {
                return false;
            }
        }
        return true;
    default:
        return strcmp(a->text, b->text) == 0;
    }
}

/* --- the recorder's files ------------------------------------------------------------------- */

struct env {
    struct tl_env dirs;
    char *netns; /* a made-up path: the recorder never enters it */
};

/* The recorded calls of plugin for that command and container, oldest first (a J_ARR). */
static jv *calls_of(const struct env *e, const char *plugin, const char *command, const char *container)
{
    jv *out = calloc(1, sizeof(*out));
    out->type = J_ARR;
    char *path = tl_asprintf("%s/%s.calls.jsonl", e->dirs.bin, plugin);
    char *text = tl_read_file(path);
    free(path);
    for (char *save = NULL, *line = text == NULL ? NULL : strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        jv *call = jv_parse(line);
        const jv *env = jv_get(call, "env");
        bool match = call != NULL && strcmp(jv_str(call, "command") ? jv_str(call, "command") : "", command) == 0 &&
                     jv_str(env, "CNI_CONTAINERID") != NULL && strcmp(jv_str(env, "CNI_CONTAINERID"), container) == 0;
        if (match) {
            jv_push(out, NULL, call);
        } else {
            jv_free(call);
        }
    }
    free(text);
    return out;
}

static const char *call_env(const jv *call, const char *key)
{
    return jv_str(jv_get(call, "env"), key);
}

/* The request the plugin read on stdin. */
static jv *call_request(const jv *call)
{
    return jv_parse(jv_str(call, "stdin"));
}

/* The ADD behaviour answering with result (a format with one %s for the sandbox). */
static void behave_add(const struct env *e, const char *plugin, const char *result_fmt, const char *extra)
{
    char *result = tl_asprintf(result_fmt, e->netns);
    char *json = tl_asprintf("{\"ADD\":{\"result\":%s}%s}", result, extra);
    tl_write_behavior(e->dirs.bin, plugin, json, TL_HERE);
    free(json);
    free(result);
}

static jv *parsed_result(const struct env *e, const char *result_fmt)
{
    char *text = tl_asprintf(result_fmt, e->netns);
    jv *v = jv_parse(text);
    free(text);
    return v;
}

static bool setup(struct env *e)
{
    static const char *const plugins[] = { "loopback", "recA", "recB", "recC", "recE", NULL };
    e->netns = tl_asprintf("/var/run/netns/ccri-fake-%ld", (long)getpid());
    if (!tl_env_init(&e->dirs, "cri-recorder", plugins, true, TL_HERE)) {
        return false;
    }
    bool ok = tl_write_conf(TL_HERE, e->dirs.conf, "10-rec.conflist",
                            "{\"cniVersion\":\"1.0.0\",\"name\":\"" NET_REC "\",\"plugins\":["
                            "{\"type\":\"recA\",\"capabilities\":{\"portMappings\":true}},"
                            "{\"type\":\"recB\",\"capabilities\":{\"bandwidth\":true}}]}");
    ok = tl_write_conf(TL_HERE, e->dirs.conf, "20-rec04.conflist",
                       "{\"cniVersion\":\"0.4.0\",\"name\":\"" NET_REC04 "\",\"plugins\":[{\"type\":\"recC\"}]}") &&
         ok;
    behave_add(e, "recA", RESULT_A, "");
    behave_add(e, "recB", RESULT_B, "");
    behave_add(e, "recC", RESULT_C, "");
    return ok;
}

static void teardown(struct env *e)
{
    free(e->netns);
    tl_env_free(&e->dirs);
}

static char *expected_args(const char *id)
{
    return tl_asprintf("IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=name;K8S_POD_INFRA_CONTAINER_ID=%s", id);
}

/* A pod as the CRI plugin builds it, with all three annotations. */
static network_api_conf *pod_conf(const struct env *e, const char *id)
{
    network_api_conf *conf = tl_pod_conf(id, e->netns, "name", "ns", true);
    CHECK_EQ_INT(network_module_insert_portmapping(PORTS, conf), 0);
    CHECK_EQ_INT(network_module_insert_bandwidth(BANDWIDTH, conf), 0);
    CHECK_EQ_INT(network_module_insert_iprange(RANGES, conf), 0);
    return conf;
}

static int attach(network_api_conf *conf, network_api_result_list **result)
{
    *result = NULL;
    tl_clear_errmsg();
    return network_module_attach(conf, CRI, result);
}

/* The common part of every call to a network plugin of the pod. */
static void check_plugin_call(const jv *call, const char *command, const char *id, const char *ifname,
                              const char *plugin)
{
    char *args = expected_args(id);
    CHECKF(call_env(call, "CNI_ARGS") != NULL && strcmp(call_env(call, "CNI_ARGS"), args) == 0,
           "%s %s: CNI_ARGS \"%s\", expected \"%s\"", plugin, command, call_env(call, "CNI_ARGS"), args);
    free(args);
    CHECK_EQ_STR(call_env(call, "CNI_COMMAND"), command);
    CHECK_EQ_STR(call_env(call, "CNI_CONTAINERID"), id);
    CHECK_EQ_STR(call_env(call, "CNI_IFNAME"), ifname);
}

/* runtimeConfig holds exactly one key, with the annotation's value. */
static void check_runtime_config(const jv *request, const char *key, const char *json, const char *plugin)
{
    const jv *rc = jv_get(request, "runtimeConfig");
    jv *expected = jv_parse(json);
    CHECKF(rc != NULL && rc->type == J_OBJ && rc->len == 1, "%s: runtimeConfig should hold only %s", plugin, key);
    CHECKF(jv_equal(jv_get(rc, key), expected), "%s: runtimeConfig.%s differs from the annotation", plugin, key);
    jv_free(expected);
}

/* Loopback comes first, on lo, with the pod id; then recA and recB with their capabilities and
 * the chained prevResult. */
static void attach_records(const struct env *e, const char *id)
{
    network_api_conf *conf = pod_conf(e, id);
    network_api_result_list *result = NULL;
    int rc = attach(conf, &result);
    CHECKF(rc == 0, "attach: %s", tl_errmsg_text());
    CHECK(tl_errmsg() == NULL);
    if (rc == 0 && CHECK(result != NULL) && CHECK_EQ_INT(result->len, 1)) {
        network_api_result *r = result->items[0];
        CHECK_EQ_STR(r->name, NET_REC);
        CHECK_EQ_STR(r->interface, "eth0");
        if (CHECK_EQ_INT(r->ips_len, 1)) {
            CHECK_EQ_STR(r->ips[0], "10.234.1.6/24");
            CHECK_EQ_STR(r->gateway[0], "10.234.1.1");
        }
        CHECK_EQ_STR(r->mac, "0a:58:0a:ea:01:06");
    }
    free_network_api_result_list(result);

    jv *lo = calls_of(e, "loopback", "ADD", id);
    if (CHECK_EQ_INT(lo->len, 1)) {
        CHECK_EQ_STR(call_env(lo->items[0], "CNI_IFNAME"), "lo");
        CHECK_EQ_STR(call_env(lo->items[0], "CNI_CONTAINERID"), id);
        CHECK_EQ_STR(call_env(lo->items[0], "CNI_NETNS"), e->netns);
        jv *req = call_request(lo->items[0]);
        CHECK_EQ_STR(jv_str(req, "name"), "cni-loopback");
        CHECK_EQ_STR(jv_str(req, "cniVersion"), "0.3.1");
        CHECK_EQ_STR(jv_str(req, "type"), "loopback");
        jv_free(req);
    }
    jv_free(lo);

    jv *a = calls_of(e, "recA", "ADD", id);
    jv *b = calls_of(e, "recB", "ADD", id);
    if (CHECK_EQ_INT(a->len, 1)) {
        check_plugin_call(a->items[0], "ADD", id, "eth0", "recA");
        CHECK_EQ_STR(call_env(a->items[0], "CNI_NETNS"), e->netns);
        jv *req = call_request(a->items[0]);
        CHECK_EQ_STR(jv_str(req, "name"), NET_REC);
        CHECK_EQ_STR(jv_str(req, "cniVersion"), "1.0.0");
        CHECK_EQ_STR(jv_str(req, "type"), "recA");
        CHECK(jv_get(req, "prevResult") == NULL);
        CHECK(jv_get(req, "capabilities") == NULL); /* a config-only key since spec 1.0.0 */
        check_runtime_config(req, "portMappings", PORTS, "recA ADD");
        jv_free(req);
    }
    if (CHECK_EQ_INT(b->len, 1)) {
        check_plugin_call(b->items[0], "ADD", id, "eth0", "recB");
        jv *req = call_request(b->items[0]);
        CHECK_EQ_STR(jv_str(req, "name"), NET_REC);
        CHECK_EQ_STR(jv_str(req, "cniVersion"), "1.0.0");
        check_runtime_config(req, "bandwidth", BANDWIDTH, "recB ADD");
        jv *prev = parsed_result(e, RESULT_A);
        CHECKF(jv_equal(jv_get(req, "prevResult"), prev), "recB ADD: prevResult is not recA's result");
        jv_free(prev);
        jv_free(req);
    }
    jv_free(a);
    jv_free(b);
    CHECK(tl_cache_exists(e->dirs.cache, NET_REC, id, "eth0"));

    /* Detach: loopback DEL on lo, recB then recA with the cached result and the cached args. */
    tl_detach_ok(conf, CRI, true, TL_HERE);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "loopback", "DEL", id), 1);
    jv *lo_del = calls_of(e, "loopback", "DEL", id);
    if (lo_del->len == 1) {
        CHECK_EQ_STR(call_env(lo_del->items[0], "CNI_IFNAME"), "lo");
    }
    jv_free(lo_del);
    const char *plugins[] = { "recB", "recA" };
    const char *caps[][2] = { { "bandwidth", BANDWIDTH }, { "portMappings", PORTS } };
    jv *cached = parsed_result(e, RESULT_B);
    for (int i = 0; i < 2; i++) {
        jv *del = calls_of(e, plugins[i], "DEL", id);
        if (CHECKF(del->len == 1, "%s DEL calls: %zu", plugins[i], del->len)) {
            check_plugin_call(del->items[0], "DEL", id, "eth0", plugins[i]);
            jv *req = call_request(del->items[0]);
            CHECKF(jv_equal(jv_get(req, "prevResult"), cached), "%s DEL: prevResult is not the cached result",
                   plugins[i]);
            check_runtime_config(req, caps[i][0], caps[i][1], plugins[i]);
            jv_free(req);
        }
        jv_free(del);
    }
    jv_free(cached);
    CHECK(!tl_cache_exists(e->dirs.cache, NET_REC, id, "eth0"));
    free_network_api_conf(conf);
}

/* Loopback runs before any network: when its ADD fails, no network plugin is called. */
static void loopback_first(const struct env *e, const char *id)
{
    tl_write_behavior(e->dirs.bin, "loopback",
                      "{\"ADD\":{\"error\":{\"cniVersion\":\"0.3.1\",\"code\":11,\"msg\":\"lo-add-refused\"}}}",
                      TL_HERE);
    network_api_conf *conf = pod_conf(e, id);
    network_api_result_list *result = NULL;
    CHECK_EQ_INT(attach(conf, &result), -1);
    CHECK(result == NULL);
    CHECKF(tl_contains(tl_errmsg(), "lo-add-refused"), "attach: %s", tl_errmsg_text());
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "loopback", "ADD", id), 1);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "recA", "ADD", id), 0);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "recB", "ADD", id), 0);
    tl_remove_behavior(e->dirs.bin, "loopback");
    tl_detach_ok(conf, CRI, true, TL_HERE);
    free_network_api_conf(conf);
}

/* DEL runs the plugins in reverse: when recB's DEL fails, recA's DEL is not run (yet). */
static void del_in_reverse(const struct env *e, const char *id)
{
    network_api_conf *conf = pod_conf(e, id);
    network_api_result_list *result = NULL;
    int rc = attach(conf, &result);
    CHECKF(rc == 0, "attach: %s", tl_errmsg_text());
    free_network_api_result_list(result);
    behave_add(e, "recB", RESULT_B, ",\"DEL\":{\"error\":{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"recB-del-refused\"}}");
    tl_clear_errmsg();
    CHECK_EQ_INT(network_module_detach(conf, CRI), -1);
    CHECKF(tl_contains(tl_errmsg(), "recB-del-refused"), "detach: %s", tl_errmsg_text());
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "recB", "DEL", id), 1);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "recA", "DEL", id), 0);
    CHECK(tl_cache_exists(e->dirs.cache, NET_REC, id, "eth0")); /* a failed DEL keeps the cache for the retry */
    behave_add(e, "recB", RESULT_B, "");
    tl_detach_ok(conf, CRI, true, TL_HERE);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "recB", "DEL", id), 2);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "recA", "DEL", id), 1);
    CHECK(!tl_cache_exists(e->dirs.cache, NET_REC, id, "eth0"));
    free_network_api_conf(conf);
}

/* CHECK on a 0.4.0 list sends the cached result as prevResult; the check result comes from it. */
static void check_sends_cached_result(const struct env *e, const char *id)
{
    network_api_conf *conf = pod_conf(e, id);
    tl_conf_add_extra(conf, NET_REC04, "eth0");
    network_api_result_list *result = NULL;
    int rc = attach(conf, &result);
    CHECKF(rc == 0, "attach 0.4.0: %s", tl_errmsg_text());
    free_network_api_result_list(result);

    result = NULL;
    tl_clear_errmsg();
    rc = network_module_check(conf, CRI, &result);
    CHECKF(rc == 0, "check: %s", tl_errmsg_text());
    if (rc == 0 && CHECK(result != NULL) && CHECK_EQ_INT(result->len, 1)) {
        CHECK_EQ_STR(result->items[0]->name, NET_REC04);
        if (CHECK_EQ_INT(result->items[0]->ips_len, 1)) {
            CHECK_EQ_STR(result->items[0]->ips[0], "10.234.2.7/24");
        }
        CHECK_EQ_STR(result->items[0]->mac, "0a:58:0a:ea:02:07");
    }
    free_network_api_result_list(result);

    char *path = tl_cache_path(e->dirs.cache, NET_REC04, id, "eth0");
    char *text = tl_read_file(path);
    jv *cache = jv_parse(text);
    free(text);
    free(path);
    const jv *cached = jv_get(cache, "result");
    CHECKF(cached != NULL, "no result in the cache file");
    jv *c = calls_of(e, "recC", "CHECK", id);
    if (CHECK_EQ_INT(c->len, 1)) {
        check_plugin_call(c->items[0], "CHECK", id, "eth0", "recC");
        jv *req = call_request(c->items[0]);
        CHECK_EQ_STR(jv_str(req, "cniVersion"), "0.4.0");
        CHECK_EQ_STR(jv_str(req, "name"), NET_REC04);
        CHECKF(jv_equal(jv_get(req, "prevResult"), cached), "CHECK prevResult is not the cached result");
        jv *own = parsed_result(e, RESULT_C);
        CHECKF(jv_equal(jv_get(req, "prevResult"), own), "CHECK prevResult is not recC's ADD result");
        jv_free(own);
        jv_free(req);
    }
    jv_free(c);
    jv_free(cache);
    tl_detach_ok(conf, CRI, true, TL_HERE);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "recC", "DEL", id), 1);
    free_network_api_conf(conf);
}

/* A pod's conf with iSulad's teardown args (std::map order); uid NULL leaves K8S_POD_UID out and
 * extra NULL leaves the annotation's extension arg out. */
static network_api_conf *uid_conf(const struct env *e, const char *id, const char *uid, const char *extra)
{
    network_api_conf *conf = tl_conf_new(id, e->netns, "eth0");
    conf->name = tl_strdup("name");
    conf->ns = tl_strdup("ns");
    tl_conf_add_extra(conf, NET_REC04, "eth1");
    tl_conf_add_arg(conf, "IgnoreUnknown", "1");
    tl_conf_add_arg(conf, "K8S_POD_INFRA_CONTAINER_ID", id);
    tl_conf_add_arg(conf, "K8S_POD_NAME", "name");
    tl_conf_add_arg(conf, "K8S_POD_NAMESPACE", "ns");
    if (uid != NULL) {
        tl_conf_add_arg(conf, "K8S_POD_UID", uid);
    }
    if (extra != NULL) {
        tl_conf_add_arg(conf, "X_EXTENSION", extra);
    }
    return conf;
}

/* Every call of command the recorder plugin logged for id carries exactly CNI_ARGS want. */
static void check_args_of(const struct env *e, const char *plugin, const char *command, const char *id,
                          size_t calls, const char *want)
{
    jv *c = calls_of(e, plugin, command, id);
    CHECKF(c->len == calls, "%s %s: %zu calls, expected %zu", plugin, command, c->len, calls);
    for (size_t i = 0; i < c->len; i++) {
        const char *got = call_env(c->items[i], "CNI_ARGS");
        CHECKF(got != NULL && strcmp(got, want) == 0, "%s %s: CNI_ARGS \"%s\", expected \"%s\"", plugin, command,
               got, want);
    }
    jv_free(c);
}

/* iSulad tears a pod down with K8S_POD_UID= empty (and without the annotation's extension args):
 * DEL and CHECK must still hand every plugin the CNI_ARGS of the ADD they undo or check. */
static void teardown_replays_add_args(const struct env *e, const char *id)
{
    char *add_args = tl_asprintf("IgnoreUnknown=1;K8S_POD_INFRA_CONTAINER_ID=%s;K8S_POD_NAME=name;"
                                 "K8S_POD_NAMESPACE=ns;K8S_POD_UID=uid-%s;X_EXTENSION=on",
                                 id, id);
    char *uid = tl_asprintf("uid-%s", id);
    network_api_conf *conf = uid_conf(e, id, uid, "on");
    network_api_result_list *result = NULL;
    int rc = attach(conf, &result);
    CHECKF(rc == 0, "attach: %s", tl_errmsg_text());
    free_network_api_result_list(result);
    free_network_api_conf(conf);
    check_args_of(e, "recA", "ADD", id, 1, add_args);
    check_args_of(e, "recC", "ADD", id, 1, add_args);

    conf = uid_conf(e, id, "", NULL); /* the empty UID and the missing key both come from the cache */
    result = NULL;
    tl_clear_errmsg();
    rc = network_module_check(conf, CRI, &result);
    CHECKF(rc == 0, "check: %s", tl_errmsg_text());
    free_network_api_result_list(result);
    check_args_of(e, "recA", "CHECK", id, 1, add_args);
    check_args_of(e, "recB", "CHECK", id, 1, add_args);
    check_args_of(e, "recC", "CHECK", id, 1, add_args);

    tl_detach_ok(conf, CRI, true, TL_HERE);
    free_network_api_conf(conf);
    check_args_of(e, "recA", "DEL", id, 1, add_args);
    check_args_of(e, "recB", "DEL", id, 1, add_args);
    check_args_of(e, "recC", "DEL", id, 1, add_args);
    free(uid);
    free(add_args);
}

/* network_module_update: a new first file becomes the default; an emptied dir is not ready and
 * refuses attach, but a pod attached before is still detached through the cache. */
static void update_reloads(const struct env *e, const char *early, const char *first, const char *late)
{
    network_api_conf *early_conf = pod_conf(e, early);
    network_api_result_list *result = NULL;
    int rc = attach(early_conf, &result);
    CHECKF(rc == 0, "attach before the reload: %s", tl_errmsg_text());
    free_network_api_result_list(result);

    tl_write_conf(TL_HERE, e->dirs.conf, "05-first.conflist",
                  "{\"cniVersion\":\"1.0.0\",\"name\":\"" NET_FIRST "\",\"plugins\":[{\"type\":\"recE\"}]}");
    CHECK_EQ_INT(network_module_update(CRI), 0);
    CHECK(network_module_ready(CRI));
    network_api_conf *conf = pod_conf(e, first);
    rc = attach(conf, &result);
    CHECKF(rc == 0, "attach after adding 05-first: %s", tl_errmsg_text());
    if (rc == 0 && CHECK(result != NULL) && CHECK_EQ_INT(result->len, 1)) {
        CHECK_EQ_STR(result->items[0]->name, NET_FIRST);
    }
    free_network_api_result_list(result);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "recE", "ADD", first), 1);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "recA", "ADD", first), 0);
    tl_detach_ok(conf, CRI, true, TL_HERE);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "recE", "DEL", first), 1);
    free_network_api_conf(conf);

    CHECK_EQ_INT(tl_run(NULL, "rm -f '%s'/*", e->dirs.conf), 0);
    CHECK_EQ_INT(network_module_update(CRI), 0);
    CHECK(!network_module_ready(CRI));
    conf = pod_conf(e, late);
    result = (network_api_result_list *)conf; /* any non-NULL value */
    CHECK_EQ_INT(attach(conf, &result), -1);
    CHECK(result == NULL);
    CHECK_EQ_STR(tl_errmsg(), "Not found cni networks");
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "loopback", "ADD", late), 0);
    free_network_api_conf(conf);

    CHECK(tl_cache_exists(e->dirs.cache, NET_REC, early, "eth0"));
    tl_detach_ok(early_conf, CRI, true, TL_HERE);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "recB", "DEL", early), 1);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "recA", "DEL", early), 1);
    CHECK(!tl_cache_exists(e->dirs.cache, NET_REC, early, "eth0"));
    free_network_api_conf(early_conf);
}

/* --- GC after a restart, and STATUS behind readiness (a 1.1.0 list) -------------------------- */

#define NET_GC "ccri-gc"

/* network_module_gc after a "restart" (a second init, as a daemon coming back): the dead pod is
 * released with DEL of its cached args, then the plugin gets GC with exactly the live pod as valid;
 * the live pod's entry stays. */
static void gc_releases_the_dead(struct env *e, const char *live, const char *dead)
{
    network_api_conf *live_conf = tl_pod_conf(live, e->netns, "name", "ns", true);
    network_api_conf *dead_conf = tl_pod_conf(dead, e->netns, "name", "ns", true);
    network_api_result_list *result = NULL;
    CHECKF(attach(live_conf, &result) == 0, "attach: %s", tl_errmsg_text());
    free_network_api_result_list(result);
    CHECKF(attach(dead_conf, &result) == 0, "attach: %s", tl_errmsg_text());
    free_network_api_result_list(result);

    /* Attached through this module instance: never released, whatever the live list says. */
    CHECK_EQ_INT(network_module_gc(CRI, NULL, 0), 0);
    CHECK(tl_cache_exists(e->dirs.cache, NET_GC, dead, "eth0"));

    CHECK(network_module_init("cni", e->dirs.cache, e->dirs.conf, e->dirs.bin));
    const char *ids[] = { live };
    CHECK_EQ_INT(network_module_gc(CRI, ids, 1), 1);
    CHECK(tl_cache_exists(e->dirs.cache, NET_GC, live, "eth0"));
    CHECK(!tl_cache_exists(e->dirs.cache, NET_GC, dead, "eth0"));
    CHECK(!tl_cache_exists(e->dirs.cache, "cni-loopback", dead, "lo"));
    CHECK(tl_cache_exists(e->dirs.cache, "cni-loopback", live, "lo"));

    jv *dels = calls_of(e, "gcA", "DEL", dead);
    if (CHECK_EQ_INT(dels->len, 1)) {
        check_plugin_call(dels->items[0], "DEL", dead, "eth0", "gcA");
    }
    jv_free(dels);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "loopback", "DEL", dead), 1);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "loopback", "DEL", live), 0);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "gcA", "DEL", live), 0);
    jv *gcs = calls_of(e, "gcA", "GC", "");
    if (CHECK_EQ_INT(gcs->len, 1)) {
        char *expected = tl_asprintf("{\"type\":\"gcA\",\"name\":\"" NET_GC "\",\"cniVersion\":\"1.1.0\","
                                     "\"cni.dev/valid-attachments\":[{\"containerID\":\"%s\",\"ifname\":\"eth0\"}],"
                                     "\"cni.dev/attachments\":[{\"containerID\":\"%s\",\"ifname\":\"eth0\"}]}",
                                     live, live);
        jv *want = jv_parse(expected);
        jv *got = call_request(gcs->items[0]);
        CHECKF(jv_equal(got, want), "GC stdin %s, expected %s", jv_str(gcs->items[0], "stdin"), expected);
        jv_free(got);
        jv_free(want);
        free(expected);
    }
    jv_free(gcs);
    /* Nothing left to release: 0, and no second DEL. */
    CHECK_EQ_INT(network_module_gc(CRI, ids, 1), 0);
    CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "gcA", "DEL", dead), 1);
    CHECK_EQ_INT(network_module_gc("bogus", ids, 1), -1);
    CHECK_EQ_INT(network_module_gc(CRI, NULL, 1), -1);
    CHECK_EQ_STR(network_module_last_error(), "live_container_ids is NULL but len is not 0");
    CHECK(tl_detach_ok(live_conf, CRI, false, TL_HERE));
    free_network_api_conf(live_conf);
    free_network_api_conf(dead_conf);
}

/* ready("cri") needs the default 1.1.0 network's plugins to answer STATUS; a failing plugin makes
 * it false with the plugin's message, and true again once it recovers and update runs. */
static void status_gates_readiness(struct env *e)
{
    CHECK(network_module_ready(CRI));
    tl_write_behavior(e->dirs.bin, "gcA", "{\"STATUS\":{\"error\":{\"code\":50,\"msg\":\"plugin not available\","
                      "\"details\":\"no uplink\"}}}", TL_HERE);
    CHECK_EQ_INT(network_module_update(CRI), 0);
    CHECK(!network_module_ready(CRI));
    const char *why = network_module_last_error();
    CHECKF(why != NULL && tl_contains(why, "default network \"" NET_GC "\" is not ready") &&
               tl_contains(why, "plugin not available") && tl_contains(why, "no uplink"),
           "reason: %s", why ? why : "(null)");
    /* The reason is for the library's caller; the daemon's own message is not touched. */
    CHECK(tl_errmsg() == NULL);
    tl_remove_behavior(e->dirs.bin, "gcA");
    CHECK(!network_module_ready(CRI)); /* until update asks again */
    CHECK_EQ_INT(network_module_update(CRI), 0);
    CHECK(network_module_ready(CRI));
    CHECK(tl_count_calls(e->dirs.bin, "gcA", "STATUS", "") >= 3);
}

/* GC while another thread attaches pods that are not in the live list: an attachment made
 * meanwhile is never released (the pods were attached through this module instance). */
#define GC_PODS 8

struct gc_race {
    struct env *e;
    atomic_int attached;
};

static void gc_pod_id(char *id, size_t len, int i)
{
    snprintf(id, len, "ccrigcrace-%ld-%d", (long)getpid(), i);
}

static void *attach_pods(void *arg)
{
    struct gc_race *race = arg;
    for (int i = 0; i < GC_PODS; i++) {
        char id[64];
        gc_pod_id(id, sizeof(id), i);
        network_api_conf *conf = tl_pod_conf(id, race->e->netns, "name", "ns", true);
        network_api_result_list *result = NULL;
        CHECKF(network_module_attach(conf, CRI, &result) == 0, "attach %s: %s", id, network_module_last_error());
        free_network_api_result_list(result);
        free_network_api_conf(conf);
        atomic_fetch_add(&race->attached, 1);
    }
    return NULL;
}

static void gc_spares_attachments_made_meanwhile(struct env *e)
{
    struct gc_race race = { .e = e };
    pthread_t thread;
    if (!CHECK_EQ_INT(pthread_create(&thread, NULL, attach_pods, &race), 0)) {
        return;
    }
    int rounds = 0;
    while (atomic_load(&race.attached) < GC_PODS) {
        int released = network_module_gc(CRI, NULL, 0);
        CHECKF(released == 0, "gc released %d: %s", released, network_module_last_error());
        rounds++;
    }
    pthread_join(thread, NULL);
    CHECK(rounds > 0);
    for (int i = 0; i < GC_PODS; i++) {
        char id[64];
        gc_pod_id(id, sizeof(id), i);
        CHECKF(tl_cache_exists(e->dirs.cache, NET_GC, id, "eth0"), "%s was released", id);
        CHECK_EQ_INT(tl_count_calls(e->dirs.bin, "gcA", "DEL", id), 0);
        network_api_conf *conf = tl_pod_conf(id, e->netns, "name", "ns", true);
        CHECK(tl_detach_ok(conf, CRI, false, TL_HERE));
        free_network_api_conf(conf);
    }
}

static void gc_and_status(void)
{
    static const char *const plugins[] = { "loopback", "gcA", NULL };
    struct env e = { 0 };
    e.netns = tl_asprintf("/var/run/netns/ccri-gc-%ld", (long)getpid());
    if (tl_env_init(&e.dirs, "cri-gc", plugins, true, TL_HERE) &&
        tl_write_conf(TL_HERE, e.dirs.conf, "10-gc.conflist",
                      "{\"cniVersion\":\"1.1.0\",\"name\":\"" NET_GC "\",\"plugins\":[{\"type\":\"gcA\"}]}") &&
        CHECK(network_module_init("cni", e.dirs.cache, e.dirs.conf, e.dirs.bin))) {
        char ids[2][TL_ID_LEN];
        tl_make_ids(ids, 2, "ccrigc");
        gc_releases_the_dead(&e, ids[0], ids[1]);
        gc_spares_attachments_made_meanwhile(&e);
        status_gates_readiness(&e);
        tl_check_no_results(e.dirs.cache, TL_HERE);
        network_module_exit();
    }
    teardown(&e);
}

int main(void)
{
    require_root();
    struct env e = { 0 };
    if (!setup(&e)) {
        teardown(&e);
        return test_summary("test_cri_recorder");
    }
    char ids[8][TL_ID_LEN];
    tl_make_ids(ids, 8, "ccrirec");
    if (CHECK(network_module_init("cni", e.dirs.cache, e.dirs.conf, e.dirs.bin))) {
        CHECK(network_module_ready(CRI));
        attach_records(&e, ids[0]);
        loopback_first(&e, ids[1]);
        del_in_reverse(&e, ids[2]);
        check_sends_cached_result(&e, ids[3]);
        teardown_replays_add_args(&e, ids[7]);
        update_reloads(&e, ids[4], ids[5], ids[6]);
        tl_check_no_results(e.dirs.cache, TL_HERE);
        network_module_exit();
    }
    teardown(&e);
    gc_and_status();
    return test_summary("test_cri_recorder");
}
