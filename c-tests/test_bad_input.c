/*
 * Hostile input through the C ABI: several hundred malformed arguments and fields (empty, invalid
 * UTF-8, 1 MiB long, path-like names, newlines, CNI_ARGS separators, interface names over 15
 * characters, absurd lengths, malformed annotations of every key, plugin types that point outside
 * the plugin directory). Every case must fail cleanly: -1/false/NULL, a message in both error
 * channels (g_isulad_errmsg and network_module_last_error()), out-pointers left NULL, no crash.
 *
 * The recording plugin (examples/cni_recorder.rs) plays every plugin, loopback included, and the
 * netns path is made up, so no root is needed. At the end nothing may have been created outside the
 * test's conf and cache dirs: a recursive listing of the test's temp root, /etc/cni and /var/lib/cni
 * taken before the cases must equal the one taken after.
 *
 * "// ctest: RUN_SERIAL": the snapshot covers /etc/cni and /var/lib/cni, which other tests change.
 *
 * Cases the library accepts on purpose are not counted (and are said so where they are run): the
 * conf's name and ns (only the caller's CNI_ARGS carry them), an empty default_interface ("eth0"),
 * and an unknown network on detach or native check (nothing to do).
 */
// ctest: RUN_SERIAL
#define _GNU_SOURCE

#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "isulad_host.h"
#include "network_api.h"
#include "testlib.h"

#define CRI NETWOKR_API_TYPE_CRI
#define NATIVE NETWOKR_API_TYPE_NATIVE
#define INVALID_UTF8 "bad-\xff\xfe-\xc3"
#define POD "badpod"
#define FAKE_NETNS "/var/run/netns/clibcni-bad-input-fake"
#define MIB (1024 * 1024)
#define SENTINEL ((void *)&g_sentinel)

static int g_sentinel;
static unsigned g_cases; /* bad inputs that had to be refused */
static char *g_big;      /* 1 MiB of 'a' */

struct env {
    char *root;
    char *conf;
    char *cache;
    char *bin;
};
static struct env g_env;

/* A malloc'd string: prefix, then filler up to `len` bytes in all, then suffix. */
static char *padded(const char *prefix, char filler, size_t len, const char *suffix)
{
    size_t pre = strlen(prefix), post = strlen(suffix);
    char *s = malloc(len + pre + post + 1);
    if (s == NULL) {
        abort();
    }
    memcpy(s, prefix, pre);
    memset(s + pre, filler, len);
    memcpy(s + pre + len, suffix, post + 1);
    return s;
}

/* --- the case check ------------------------------------------------------------------------- */

/* Counts one bad-input case: it must have failed and left a message in both error channels. */
static bool refused(bool failed, const char *what, int line)
{
    g_cases++;
    const char *last = network_module_last_error();
    const char *errmsg = tl_errmsg();
    bool ok = tl_check(failed, __FILE__, line, "%s: accepted, should be refused", what);
    ok = tl_check(last != NULL && last[0] != '\0', __FILE__, line, "%s: no network_module_last_error()", what) && ok;
    ok = tl_check(errmsg != NULL && errmsg[0] != '\0', __FILE__, line, "%s: no g_isulad_errmsg (last error: %.200s)",
                  what, last != NULL ? last : "NULL") &&
         ok;
    return ok;
}

#define REFUSED(call, what) refused((tl_clear_errmsg(), (call) == -1), (what), __LINE__)
#define REFUSED_FALSE(call, what) refused((tl_clear_errmsg(), !(call)), (what), __LINE__)

/* --- annotations ---------------------------------------------------------------------------- */

/* Stores an annotation the way the daemon's map holds it (any bytes, no validation). */
static void put_annotation(network_api_conf *conf, const char *key, const char *value)
{
    if (conf->annotations == NULL) {
        conf->annotations = map_new(MAP_STR_STR, MAP_DEFAULT_CMP_FUNC, MAP_DEFAULT_FREE_FUNC);
    }
    if (!map_replace(conf->annotations, (void *)key, (void *)value)) {
        abort();
    }
}

/* --- conf cases: one field of an otherwise valid conf is bad -------------------------------- */

enum field {
    F_NAME,
    F_NS,
    F_POD_ID,
    F_NETNS,
    F_DEFAULT_IF,
    F_EXTRA_NAME,
    F_EXTRA_IF,
    F_ARG_KEY,
    F_ARG_VALUE,
    F_PORT_MAPPINGS,
    F_BANDWIDTH,
    F_IP_RANGES,
    F_ALIASES,
};

static const char *const g_field_names[] = { "name", "ns", "pod_id", "netns_path", "default_interface",
                                             "extral_nets[0].name", "extral_nets[0].interface", "args key",
                                             "args value", "portMappings", "bandwidth", "ipRanges", "aliases" };

/* Which calls and types a case runs on. */
enum {
    OP_ATTACH = 1,
    OP_CHECK = 2,
    OP_DETACH = 4,
    ON_CRI = 8,
    ON_NATIVE = 16,
    ALL_OPS = OP_ATTACH | OP_CHECK | OP_DETACH,
    EVERYWHERE = ALL_OPS | ON_CRI | ON_NATIVE,
};

/* The pod as each type attaches it: CRI on the default network, native on "natgood". */
static network_api_conf *valid_conf(const char *type)
{
    network_api_conf *conf = tl_conf_new(POD, FAKE_NETNS, "eth0");
    conf->name = strdup("pod");
    conf->ns = strdup("default");
    tl_conf_add_arg(conf, "IgnoreUnknown", "1");
    if (strcmp(type, NATIVE) == 0) {
        tl_conf_add_extra(conf, "natgood", "eth0");
    }
    return conf;
}

static void replace(char **slot, const char *value)
{
    free(*slot);
    *slot = strdup(value);
}

static void set_field(network_api_conf *conf, bool native, enum field field, const char *value)
{
    if ((field == F_EXTRA_NAME || field == F_EXTRA_IF) && !native) {
        tl_conf_add_extra(conf, "good2", "eth1"); /* CRI pods have no extra network by default */
    }
    switch (field) {
    case F_NAME: replace(&conf->name, value); break;
    case F_NS: replace(&conf->ns, value); break;
    case F_POD_ID: replace(&conf->pod_id, value); break;
    case F_NETNS: replace(&conf->netns_path, value); break;
    case F_DEFAULT_IF: replace(&conf->default_interface, value); break;
    case F_EXTRA_NAME: replace(&conf->extral_nets[0]->name, value); break;
    case F_EXTRA_IF: replace(&conf->extral_nets[0]->interface, value); break;
    case F_ARG_KEY: tl_conf_add_arg(conf, value, "v"); break;
    case F_ARG_VALUE: tl_conf_add_arg(conf, "K", value); break;
    case F_PORT_MAPPINGS: put_annotation(conf, "portMappings", value); break;
    case F_BANDWIDTH: put_annotation(conf, "bandwidth", value); break;
    case F_IP_RANGES: put_annotation(conf, "ipRanges", value); break;
    case F_ALIASES: put_annotation(conf, "aliases", value); break;
    }
}

/* Runs the call `op` of `type` on `conf`; attach and check must leave *result NULL when they fail. */
static bool run_op(unsigned op, network_api_conf *conf, const char *type, const char *what, int line)
{
    if (op == OP_DETACH) {
        return refused((tl_clear_errmsg(), network_module_detach(conf, type) == -1), what, line);
    }
    network_api_result_list *result = SENTINEL;
    tl_clear_errmsg();
    int rc = op == OP_ATTACH ? network_module_attach(conf, type, &result) : network_module_check(conf, type, &result);
    bool ok = refused(rc == -1, what, line);
    ok = tl_check(result == NULL, __FILE__, line, "%s: *result not NULL", what) && ok;
    if (result != NULL && result != SENTINEL) {
        free_network_api_result_list(result); /* only then: any call clears the last error */
    }
    return ok;
}

typedef void (*conf_edit)(network_api_conf *conf, bool native, const void *arg);

/* Runs one bad conf on every selected call and type; `edit` makes the valid conf bad. */
static void conf_case_with(unsigned where, conf_edit edit, const void *arg, const char *label, int line)
{
    static const unsigned ops[] = { OP_ATTACH, OP_CHECK, OP_DETACH };
    static const char *const op_names[] = { "attach", "check", "detach" };
    for (int t = 0; t < 2; t++) {
        const char *type = t == 0 ? CRI : NATIVE;
        if (!(where & (t == 0 ? ON_CRI : ON_NATIVE))) {
            continue;
        }
        for (size_t i = 0; i < 3; i++) {
            if (!(where & ops[i])) {
                continue;
            }
            network_api_conf *conf = valid_conf(type);
            edit(conf, t == 1, arg);
            char *what = tl_asprintf("%s %s: %s", op_names[i], type, label);
            run_op(ops[i], conf, type, what, line);
            free(what);
            free_network_api_conf(conf);
        }
    }
}

struct field_value {
    enum field field;
    const char *value;
};

static void edit_field(network_api_conf *conf, bool native, const void *arg)
{
    const struct field_value *fv = arg;
    set_field(conf, native, fv->field, fv->value);
}

static void field_case(unsigned where, enum field field, const char *value, const char *label, int line)
{
    struct field_value fv = { field, value };
    char *what = tl_asprintf("%s %s", g_field_names[field], label);
    conf_case_with(where, edit_field, &fv, what, line);
    free(what);
}

#define FIELD_CASE(where, field, value, label) field_case((where), (field), (value), (label), __LINE__)

/* --- the groups of cases -------------------------------------------------------------------- */

static void invalid_utf8_everywhere(void)
{
    for (enum field f = F_NAME; f <= F_ALIASES; f++) {
        FIELD_CASE(EVERYWHERE, f, INVALID_UTF8, "invalid UTF-8");
    }
}

/* A pod id that is empty, path-like, multi-line, a CNI_ARGS separator, or 1 MiB. */
static void bad_pod_ids(void)
{
    const char *ids[] = { "", "../x", "a/b", "..", ".", "a\nb", "a;b", "-lead", "a b", "/etc/passwd" };
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        char *label = tl_asprintf("\"%s\"", ids[i]);
        FIELD_CASE(EVERYWHERE, F_POD_ID, ids[i], label);
        free(label);
    }
    FIELD_CASE(EVERYWHERE, F_POD_ID, g_big, "1 MiB");
}

/* 1 MiB strings: refused by validation, or by the plugin's environment being too big (E2BIG). */
static void long_strings(void)
{
    FIELD_CASE(EVERYWHERE, F_NETNS, g_big, "1 MiB");
    FIELD_CASE(ON_CRI | ALL_OPS, F_DEFAULT_IF, g_big, "1 MiB");
    FIELD_CASE(ON_NATIVE | ALL_OPS, F_EXTRA_IF, g_big, "1 MiB");
    FIELD_CASE(ON_CRI | OP_ATTACH | OP_CHECK, F_EXTRA_NAME, g_big, "1 MiB");
    FIELD_CASE(ON_NATIVE | OP_ATTACH, F_EXTRA_NAME, g_big, "1 MiB");
    FIELD_CASE(EVERYWHERE, F_ARG_VALUE, g_big, "1 MiB");

    /* Accepted on purpose (not counted): name and ns are not used by the library. */
    for (int t = 0; t < 2; t++) {
        const char *type = t == 0 ? CRI : NATIVE;
        network_api_conf *conf = valid_conf(type);
        replace(&conf->name, g_big);
        replace(&conf->ns, g_big);
        network_api_result_list *result = NULL;
        tl_clear_errmsg();
        int rc = network_module_attach(conf, type, &result);
        CHECKF(rc == 0, "attach %s with a 1 MiB name and ns: %s", type, tl_errmsg() ? tl_errmsg() : "(no message)");
        free_network_api_result_list(result);
        CHECKF(network_module_detach(conf, type) == 0, "detach %s with a 1 MiB name and ns", type);
        free_network_api_conf(conf);
    }
}

static void bad_interface_names(void)
{
    const char *names[] = { "eth0123456789012", "a/b", "..", ".", "a b", "a\nb", "a:b", "../../x" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *label = tl_asprintf("\"%s\"", names[i]);
        FIELD_CASE(ON_CRI | ALL_OPS, F_DEFAULT_IF, names[i], label);
        FIELD_CASE(ON_NATIVE | ALL_OPS, F_EXTRA_IF, names[i], label);
        free(label);
    }
    FIELD_CASE(EVERYWHERE, F_EXTRA_IF, "", "empty");
}

/* CNI_ARGS is K=V;K=V: a separator inside a key or value would forge or break pairs. */
static void bad_cni_args(void)
{
    FIELD_CASE(EVERYWHERE, F_ARG_KEY, "", "empty");
    FIELD_CASE(EVERYWHERE, F_ARG_KEY, "A;EVIL", "with ';'");
    FIELD_CASE(EVERYWHERE, F_ARG_KEY, "A=EVIL", "with '='");
    FIELD_CASE(EVERYWHERE, F_ARG_VALUE, "v;EVIL=1", "with ';'");
    FIELD_CASE(EVERYWHERE, F_ARG_VALUE, "v=EVIL", "with '='");
}

static void unknown_networks(void)
{
    const char *names[] = { "nope", "../good", "good/..", "", "a\nb", "/etc/passwd" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *label = tl_asprintf("\"%s\"", names[i]);
        /* detach (and a native check) of an unknown network has nothing to do: accepted */
        FIELD_CASE(ON_CRI | OP_ATTACH | OP_CHECK, F_EXTRA_NAME, names[i], label);
        FIELD_CASE(ON_NATIVE | OP_ATTACH, F_EXTRA_NAME, names[i], label);
        free(label);
    }
    network_api_conf *conf = valid_conf(CRI); /* native attach without any network */
    network_api_result_list *result = NULL;
    REFUSED(network_module_attach(conf, NATIVE, &result), "attach native: no network");
    free_network_api_conf(conf);

    conf = valid_conf(CRI);
    tl_conf_add_extra(conf, "good2", "eth1"); /* two networks on one interface */
    tl_conf_add_extra(conf, "evilrel", "eth1");
    REFUSED(network_module_attach(conf, CRI, &result), "attach cri: two networks on eth1");
    REFUSED(network_module_check(conf, CRI, &result), "check cri: two networks on eth1");
    free_network_api_conf(conf);
    conf = valid_conf(NATIVE);
    tl_conf_add_extra(conf, "natgood", "eth0");
    REFUSED(network_module_attach(conf, NATIVE, &result), "attach native: natgood twice on eth0");
    free_network_api_conf(conf);
}

/* extral_nets_len far beyond the array (one entry, or none at all): refused before the array is read.
 * The real length is put back before the conf is freed, since free_network_api_conf walks the array. */
static void absurd_lengths(void)
{
    static const unsigned ops[] = { OP_ATTACH, OP_CHECK, OP_DETACH };
    for (int t = 0; t < 2; t++) {
        const char *type = t == 0 ? CRI : NATIVE;
        for (size_t o = 0; o < 3; o++) {
            network_api_conf *conf = valid_conf(type);
            tl_conf_add_extra(conf, "natgood", "eth5");
            size_t real = conf->extral_nets_len;
            conf->extral_nets_len = (size_t)1 << 62;
            char *what = tl_asprintf("%s: extral_nets_len 2^62, %zu entries", type, real);
            run_op(ops[o], conf, type, what, __LINE__);
            free(what);
            conf->extral_nets_len = real;
            free_network_api_conf(conf);

            conf = valid_conf(type);
            real = conf->extral_nets_len;
            struct attach_net_conf **nets = conf->extral_nets;
            conf->extral_nets = NULL;
            conf->extral_nets_len = (size_t)1 << 62;
            what = tl_asprintf("%s: extral_nets_len 2^62, no array", type);
            run_op(ops[o], conf, type, what, __LINE__);
            free(what);
            conf->extral_nets = nets;
            conf->extral_nets_len = real;
            free_network_api_conf(conf);
        }
    }
    /* 1025 networks: one over iSulad's limit */
    for (int t = 0; t < 2; t++) {
        const char *type = t == 0 ? CRI : NATIVE;
        network_api_conf *conf = valid_conf(type);
        for (int i = 0; i < 1025; i++) {
            tl_conf_add_extra(conf, "natgood", "eth9");
        }
        network_api_result_list *result = NULL;
        char *what = tl_asprintf("attach %s: 1025 networks", type);
        REFUSED(network_module_attach(conf, type, &result), what);
        free(what);
        free_network_api_conf(conf);
    }
}

static void malformed_annotations(void)
{
    char *big_garbage = padded("[", 'x', MIB, "");
    char *big_protocol = padded("[{\"hostPort\":80,\"containerPort\":80,\"protocol\":\"", 't', MIB, "\"}]");
    char *big_subnet = padded("[[{\"subnet\":\"", '1', MIB, "\"}]]");
    char *big_alias = padded("{\"net\":", '[', MIB, "");
    const struct {
        enum field field;
        const char *text;
    } cases[] = {
        { F_PORT_MAPPINGS, "{" },
        { F_PORT_MAPPINGS, "" },
        { F_PORT_MAPPINGS, "[1]" },
        { F_PORT_MAPPINGS, "{\"hostPort\":1}" },
        { F_PORT_MAPPINGS, "[{\"hostPort\":70000,\"containerPort\":80}]" },
        { F_PORT_MAPPINGS, "[{\"hostPort\":80,\"containerPort\":0}]" },
        { F_PORT_MAPPINGS, "[{\"hostPort\":80}]" },
        { F_PORT_MAPPINGS, "[{\"hostPort\":80,\"containerPort\":80,\"protocol\":\"icmp\"}]" },
        { F_PORT_MAPPINGS, "[{\"hostPort\":80,\"containerPort\":80,\"hostIP\":\"nope\"}]" },
        { F_PORT_MAPPINGS, "[{\"hostPort\":80,\"containerPort\":80,\"protocol\":7}]" },
        { F_PORT_MAPPINGS, big_garbage },
        { F_PORT_MAPPINGS, big_protocol },
        { F_BANDWIDTH, "{" },
        { F_BANDWIDTH, "" },
        { F_BANDWIDTH, "[]" },
        { F_BANDWIDTH, "null" },
        { F_BANDWIDTH, "{\"ingressRate\":-1}" },
        { F_BANDWIDTH, "{\"ingressRate\":\"1k\"}" },
        { F_BANDWIDTH, "{\"egressBurst\":1.5}" },
        { F_BANDWIDTH, "{\"egressRate\":1e999}" },
        { F_BANDWIDTH, big_garbage },
        { F_IP_RANGES, "{" },
        { F_IP_RANGES, "" },
        { F_IP_RANGES, "{}" },
        { F_IP_RANGES, "[{\"subnet\":\"10.0.0.0/8\"}]" },
        { F_IP_RANGES, "[[{\"subnet\":\"10.0.0.0/33\"}]]" },
        { F_IP_RANGES, "[[{\"subnet\":\"10.0.0.0/8\",\"gateway\":\"x\"}]]" },
        { F_IP_RANGES, "[[{}]]" },
        { F_IP_RANGES, big_subnet },
        { F_ALIASES, "3" },
        { F_ALIASES, "\"x\"" },
        { F_ALIASES, "{" },
        { F_ALIASES, "" },
        { F_ALIASES, "null" },
        { F_ALIASES, "true" },
        { F_ALIASES, big_alias },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *label = strlen(cases[i].text) > 100 ? tl_asprintf("malformed #%zu (1 MiB)", i)
                                                  : tl_asprintf("malformed \"%s\"", cases[i].text);
        /* detach ignores malformed annotations on purpose (cleanup must not be blocked) */
        FIELD_CASE(ON_CRI | ON_NATIVE | OP_ATTACH | OP_CHECK, cases[i].field, cases[i].text, label);
        free(label);
    }
    free(big_garbage);
    free(big_protocol);
    free(big_subnet);
    free(big_alias);
}

/* Plugin types that point outside the plugin directory must be refused before anything runs:
 * <root>/evil is a recorder, so any run of it would leave <root>/evil.calls.jsonl behind. */
static void evil_plugin_types(void)
{
    static const unsigned ops[] = { OP_ATTACH, OP_CHECK, OP_DETACH };
    static const char *const op_names[] = { "attach", "check", "detach" };
    const char *nets[] = { "evilsh", "evilrel", "evilabs", "evildot", "natevil" };
    for (size_t i = 0; i < sizeof(nets) / sizeof(nets[0]); i++) {
        bool native = strcmp(nets[i], "natevil") == 0;
        for (size_t o = 0; o < 3; o++) {
            network_api_conf *conf = valid_conf(CRI);
            tl_conf_add_extra(conf, nets[i], native ? "eth0" : "eth1");
            char *what = tl_asprintf("%s network %s", op_names[o], nets[i]);
            if (run_op(ops[o], conf, native ? NATIVE : CRI, what, __LINE__)) {
                const char *msg = network_module_last_error();
                CHECKF(msg != NULL && strstr(msg, "invalid plugin name") != NULL, "%s: message \"%s\"", what,
                       msg ? msg : "NULL");
            }
            free(what);
            free_network_api_conf(conf);
        }
    }
    char *evil_log = tl_asprintf("%s/evil.calls.jsonl", g_env.root);
    CHECKF(access(evil_log, F_OK) != 0, "a plugin outside the plugin dir ran: %s exists", evil_log);
    free(evil_log);
}

/* --- the other exports ---------------------------------------------------------------------- */

static void create_refused(const char *type, const char *name, const char *driver, const char *subnet,
                           const char *gateway, const char *label, int line)
{
    network_create_request request = { .name = (char *)name, .driver = (char *)driver,
                                       .subnet = (char *)subnet, .gateway = (char *)gateway };
    char *out = NULL;
    uint32_t cc = 0;
    char *what = tl_asprintf("create: %s", label);
    refused((tl_clear_errmsg(), network_module_conf_create(type, &request, &out, &cc) == -1), what, line);
    tl_check(cc != 0, __FILE__, line, "%s: cc not set", what);
    tl_check(out == NULL, __FILE__, line, "%s: *name set to \"%s\"", what, out ? out : "");
    free(out);
    free(what);
}

#define CREATE_REFUSED(type, name, driver, subnet, gateway, label) \
    create_refused((type), (name), (driver), (subnet), (gateway), (label), __LINE__)

static void native_create(void)
{
    char *long_name = padded("n", 'a', 200, ""); /* 201 characters */
    const char *names[] = { "../x", "a/b", "a\nb", "..", ".", "-x", "a b", "a;b", INVALID_UTF8, long_name, g_big,
                            "natgood" /* has been used */ };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *label = strlen(names[i]) > 100 ? tl_asprintf("name of %zu chars", strlen(names[i]))
                                             : tl_asprintf("name \"%s\"", names[i]);
        CREATE_REFUSED(NATIVE, names[i], NULL, "10.252.1.0/24", NULL, label);
        free(label);
    }
    free(long_name);
    CREATE_REFUSED(NATIVE, "okname", "", "10.252.1.0/24", NULL, "driver \"\"");
    CREATE_REFUSED(NATIVE, "okname", "macvlan", "10.252.1.0/24", NULL, "driver macvlan");
    CREATE_REFUSED(NATIVE, "okname", "bridge\n", "10.252.1.0/24", NULL, "driver \"bridge\\n\"");
    CREATE_REFUSED(NATIVE, "okname", INVALID_UTF8, "10.252.1.0/24", NULL, "driver invalid UTF-8");
    CREATE_REFUSED(NATIVE, "okname", NULL, "10.252.1.0/33", NULL, "subnet /33");
    CREATE_REFUSED(NATIVE, "okname", NULL, "abc", NULL, "subnet abc");
    CREATE_REFUSED(NATIVE, "okname", NULL, INVALID_UTF8, NULL, "subnet invalid UTF-8");
    CREATE_REFUSED(NATIVE, "okname", NULL, g_big, NULL, "subnet 1 MiB");
    CREATE_REFUSED(NATIVE, "okname", NULL, "10.252.1.7/32", NULL, "subnet /32: no gateway");
    CREATE_REFUSED(NATIVE, "okname", NULL, "10.250.77.0/25", NULL, "subnet in a CRI conflist");
    CREATE_REFUSED(NATIVE, "okname", NULL, NULL, "10.252.1.1", "gateway without subnet");
    CREATE_REFUSED(NATIVE, "okname", NULL, "10.252.1.0/24", "10.253.0.1", "gateway outside the subnet");
    CREATE_REFUSED(NATIVE, "okname", NULL, "10.252.1.0/24", "10.252.1.0", "gateway = network address");
    CREATE_REFUSED(NATIVE, "okname", NULL, "10.252.1.0/24", "x", "gateway x");
    CREATE_REFUSED(NATIVE, "okname", NULL, "10.252.1.0/24", INVALID_UTF8, "gateway invalid UTF-8");
    CREATE_REFUSED(CRI, "okname", NULL, "10.252.1.0/24", NULL, "type cri");
}

/* inspect, rm and container_list_add of names that are paths, empty, multi-line or huge. */
static void path_like_names(void)
{
    const char *names[] = { "../etc/passwd", "/etc/passwd", "a/b", "..", "", "a\nb", INVALID_UTF8,
                            "isulacni-natgood", "natgood.conflist" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) + 1; i++) {
        const char *name = i < sizeof(names) / sizeof(names[0]) ? names[i] : g_big;
        char *label = name == g_big ? strdup("1 MiB") : tl_asprintf("\"%s\"", name);
        char *out = NULL;
        char *what = tl_asprintf("inspect %s", label);
        REFUSED(network_module_conf_inspect(NATIVE, name, &out), what);
        CHECKF(out == NULL, "%s: *network_json set", what);
        free(out);
        free(what);
        out = NULL;
        what = tl_asprintf("rm %s", label);
        REFUSED(network_module_conf_rm(NATIVE, name, &out), what);
        CHECKF(out == NULL, "%s: *res_name set", what);
        free(out);
        free(what);
        what = tl_asprintf("container_list_add %s", label);
        REFUSED(network_module_container_list_add(NATIVE, name, POD), what);
        free(what);
        what = tl_asprintf("container_list_add natgood, container %s", label);
        if (name[0] == '\0' || strcmp(name, INVALID_UTF8) == 0) {
            /* an empty or undecodable container id */
            REFUSED(network_module_container_list_add(NATIVE, "natgood", name), what);
        }
        free(what);
        /* exist answers "no" (0), or refuses (-1) what it cannot decode; never "yes" */
        what = tl_asprintf("exist %s", label);
        if (strcmp(name, INVALID_UTF8) == 0) {
            REFUSED(network_module_exist(NATIVE, name), what);
        } else {
            CHECKF(network_module_exist(NATIVE, name) == 0, "%s: not 0", what);
        }
        free(what);
        free(label);
    }
    CHECK_EQ_INT(network_module_exist(NATIVE, "natgood"), 1);
}

/* Every export that takes a network type, with types that are not one. */
static void bad_types(void)
{
    const char *types[] = { "", "Native", "cri ", "native\n", INVALID_UTF8, g_big };
    for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
        const char *type = types[i];
        char *label = type == g_big ? strdup("1 MiB") : tl_asprintf("\"%s\"", type);
        char *what = NULL;
        network_api_conf *conf = valid_conf(NATIVE);
        what = tl_asprintf("attach type %s", label);
        run_op(OP_ATTACH, conf, type, what, __LINE__);
        free(what);
        what = tl_asprintf("check type %s", label);
        run_op(OP_CHECK, conf, type, what, __LINE__);
        free(what);
        what = tl_asprintf("detach type %s", label);
        run_op(OP_DETACH, conf, type, what, __LINE__);
        free(what);
        free_network_api_conf(conf);

        what = tl_asprintf("type %s", label);
        create_refused(type, "okname", NULL, "10.252.1.0/24", NULL, what, __LINE__);
        char *out = NULL;
        REFUSED(network_module_conf_inspect(type, "natgood", &out), what);
        free(out);
        out = NULL;
        REFUSED(network_module_conf_rm(type, "natgood", &out), what);
        free(out);
        network_network_info **nets = NULL;
        size_t len = 0;
        REFUSED(network_module_conf_list(type, NULL, &nets, &len), what);
        CHECKF(nets == NULL && len == 0, "%s: conf_list outputs set", what);
        REFUSED_FALSE(network_module_ready(type), what);
        REFUSED(network_module_update(type), what);
        REFUSED(network_module_exist(type, "natgood"), what);
        REFUSED(network_module_container_list_add(type, "natgood", POD), what);
        free(what);
        free(label);
    }
    /* management of the cri type does not exist */
    char *out = NULL;
    REFUSED(network_module_conf_inspect(CRI, "good", &out), "inspect type cri");
    REFUSED(network_module_conf_rm(CRI, "good", &out), "rm type cri");
    CHECK(out == NULL);
}

static void null_outputs(void)
{
    network_network_info **nets = NULL;
    size_t len = 0;
    REFUSED(network_module_conf_list(NATIVE, NULL, NULL, &len), "conf_list: networks NULL");
    REFUSED(network_module_conf_list(NATIVE, NULL, &nets, NULL), "conf_list: networks_len NULL");
    REFUSED(network_module_conf_list(NATIVE, NULL, NULL, NULL), "conf_list: both outputs NULL");
    CHECK(nets == NULL && len == 0);
    network_create_request request = { .name = "okname", .subnet = "10.252.1.0/24" };
    uint32_t cc = 0;
    REFUSED(network_module_conf_create(NATIVE, &request, NULL, &cc), "create: name output NULL");
    REFUSED(network_module_conf_inspect(NATIVE, "natgood", NULL), "inspect: output NULL");
    REFUSED(network_module_conf_rm(NATIVE, "natgood", NULL), "rm: output NULL");
    CHECK_EQ_INT(network_module_exist(NATIVE, "natgood"), 1); /* the failed rm removed nothing */
}

static void annotation_inserts(void)
{
    int (*const inserts[])(const char *, network_api_conf *) = {
        network_module_insert_portmapping, network_module_insert_bandwidth, network_module_insert_iprange
    };
    for (size_t i = 0; i < 3; i++) {
        network_api_conf *conf = valid_conf(CRI);
        REFUSED(inserts[i](INVALID_UTF8, conf), "insert: invalid UTF-8");
        CHECK(conf->annotations == NULL);
        free_network_api_conf(conf);
    }
}

static void networks_info(void)
{
    const struct {
        const char *name, *ifname, *ip, *mac, *id, *netns, *label;
    } cases[] = {
        { "net", "eth0", "10.0.0.1/99", "m", "id", "/ns", "ip prefix 99" },
        { "net", "eth0", "abc", "m", "id", "/ns", "ip abc" },
        { "net", "eth0", "", "m", "id", "/ns", "ip empty" },
        { "net", "eth0", g_big, "m", "id", "/ns", "ip 1 MiB" },
        { "net", "eth0", "10.0.0.2/24\n", "m", "id", "/ns", "ip with newline" },
        { INVALID_UTF8, "eth0", "10.0.0.2/24", "m", "id", "/ns", "name invalid UTF-8" },
        { "net", INVALID_UTF8, "10.0.0.2/24", "m", "id", "/ns", "interface invalid UTF-8" },
        { "net", "eth0", "10.0.0.2/24", INVALID_UTF8, "id", "/ns", "mac invalid UTF-8" },
        { "net", "eth0", INVALID_UTF8, "m", "id", "/ns", "ip invalid UTF-8" },
        { "net", "eth0", "10.0.0.2/24", "m", INVALID_UTF8, "/ns", "id invalid UTF-8" },
        { "net", "eth0", "10.0.0.2/24", "m", "id", INVALID_UTF8, "netns invalid UTF-8" },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        network_api_result_list list = { 0 };
        struct network_api_result *item =
            tl_api_result(cases[i].name, cases[i].ifname, cases[i].ip, "10.1.0.1", cases[i].mac);
        list.items = &item;
        list.len = list.cap = 1;
        container_network_settings *settings = calloc(1, sizeof(*settings));
        settings->networks = calloc(1, sizeof(*settings->networks));
        char *what = tl_asprintf("cni_update_container_networks_info: %s", cases[i].label);
        REFUSED(cni_update_container_networks_info(&list, cases[i].id, cases[i].netns, settings), what);
        CHECKF(settings->networks->len == 0 && settings->sandbox_key == NULL, "%s: settings changed", what);
        free(what);
        free(settings->networks->keys);
        free(settings->networks->values);
        free(settings->networks);
        free(settings->sandbox_key);
        free(settings);
        free_network_api_result(item);
    }
}

static void init_args(void)
{
    REFUSED_FALSE(network_module_init("cni", INVALID_UTF8, g_env.conf, g_env.bin), "init: cache dir invalid UTF-8");
    REFUSED_FALSE(network_module_init("cni", g_env.cache, INVALID_UTF8, g_env.bin), "init: conf dir invalid UTF-8");
    REFUSED_FALSE(network_module_init("cni", g_env.cache, g_env.conf, INVALID_UTF8), "init: bin path invalid UTF-8");
    REFUSED_FALSE(network_module_init(INVALID_UTF8, g_env.cache, g_env.conf, g_env.bin), "init: plugin invalid UTF-8");
    char *long_dir = tl_asprintf("%s/%s", g_env.root, g_big);
    REFUSED_FALSE(network_module_init("cni", g_env.cache, long_dir, g_env.bin), "init: conf dir 1 MiB");
    free(long_dir);
    char *file_dir = tl_asprintf("%s/conf/10-good.conflist", g_env.root);
    REFUSED_FALSE(network_module_init("cni", g_env.cache, file_dir, g_env.bin), "init: conf dir is a file");
    free(file_dir);
    /* the module set up before is still the one in use */
    CHECK(network_module_ready(CRI));
    CHECK_EQ_INT(network_module_exist(NATIVE, "natgood"), 1);
}

/* --- what the plugin sees of C strings that end early --------------------------------------- */

/* CNI_ARGS of the last ADD the recorder installed as `plugin` got, or NULL. */
static char *last_add_cni_args(const char *plugin)
{
    char *path = tl_asprintf("%s/%s.calls.jsonl", g_env.bin, plugin);
    char *text = tl_read_file(path);
    free(path);
    if (text == NULL) {
        return NULL;
    }
    char *found = NULL;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        const char *args = strstr(line, "\"CNI_ARGS\":\"");
        if (strstr(line, "\"command\":\"ADD\"") == NULL || args == NULL) {
            continue;
        }
        args += strlen("\"CNI_ARGS\":\"");
        const char *end = strchr(args, '"');
        free(found);
        found = end != NULL ? strndup(args, (size_t)(end - args)) : NULL;
    }
    free(text);
    return found;
}

/* Replaces a string of the args map by a buffer whose C string ends early. */
static void embed_nul(char **slot, const char *before, const char *after)
{
    size_t a = strlen(before), b = strlen(after);
    char *buf = malloc(a + b + 2);
    memcpy(buf, before, a);
    buf[a] = '\0';
    memcpy(buf + a + 1, after, b + 1);
    free(*slot);
    *slot = buf;
}

static void embedded_nul(void)
{
    network_api_conf *conf = valid_conf(CRI);
    tl_conf_add_arg(conf, "K", "x");
    embed_nul(&conf->args->keys[1], "K", ";EVIL=1");
    embed_nul(&conf->args->values[1], "abc", ";EVIL=2");
    network_api_result_list *result = NULL;
    tl_clear_errmsg();
    int rc = network_module_attach(conf, CRI, &result);
    free_network_api_result_list(result);
    if (rc == 0) {
        char *args = last_add_cni_args("rec");
        CHECKF(args != NULL && strcmp(args, "IgnoreUnknown=1;K=abc") == 0,
               "embedded NUL: the plugin got CNI_ARGS \"%s\", expected the truncated pair", args ? args : "NULL");
        free(args);
    } else {
        refused(true, "embedded NUL in args", __LINE__); /* refusing is fine too, with a message */
    }
    CHECKF(network_module_detach(conf, CRI) == 0, "detach after embedded NUL: %s", tl_errmsg() ? tl_errmsg() : "");
    free_network_api_conf(conf);
}

/* --- the snapshot of what exists outside the conf and cache dirs ---------------------------- */

struct listing {
    char **items;
    size_t len;
    size_t cap;
};

static struct listing *g_listing;

static int collect(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (strcmp(path, g_env.conf) == 0 || strcmp(path, g_env.cache) == 0) {
        return FTW_SKIP_SUBTREE;
    }
    char kind = flag == FTW_D || flag == FTW_DP ? 'd' : flag == FTW_F ? 'f' : flag == FTW_SL ? 'l'
                : flag == FTW_DNR ? 'u' : '?';
    (void)st;
    struct listing *l = g_listing;
    if (l->len == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->items = realloc(l->items, l->cap * sizeof(*l->items));
    }
    l->items[l->len++] = tl_asprintf("%c %s", kind, path);
    return FTW_CONTINUE;
}

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct listing snapshot(void)
{
    struct listing l = { 0 };
    g_listing = &l;
    const char *roots[] = { g_env.root, "/etc/cni", "/var/lib/cni" };
    for (size_t i = 0; i < 3; i++) {
        struct stat st;
        if (lstat(roots[i], &st) != 0) {
            continue; /* absent: it must stay absent */
        }
        nftw(roots[i], collect, 32, FTW_PHYS | FTW_ACTIONRETVAL);
    }
    qsort(l.items, l.len, sizeof(*l.items), compare_strings);
    return l;
}

static void free_listing(struct listing *l)
{
    for (size_t i = 0; i < l->len; i++) {
        free(l->items[i]);
    }
    free(l->items);
}

static void check_same(const struct listing *before, const struct listing *after)
{
    size_t i = 0, j = 0;
    while (i < before->len || j < after->len) {
        int cmp = i == before->len ? 1 : j == after->len ? -1 : strcmp(before->items[i], after->items[j]);
        if (cmp < 0) {
            CHECKF(false, "removed outside the conf/cache dirs: %s", before->items[i++]);
        } else if (cmp > 0) {
            CHECKF(false, "created outside the conf/cache dirs: %s", after->items[j++]);
        } else {
            i++, j++;
        }
    }
}

/* --- setup ---------------------------------------------------------------------------------- */

static bool write_conf(const char *file, const char *json)
{
    char *path = tl_asprintf("%s/%s", g_env.conf, file);
    bool ok = CHECK_EQ_INT(tl_write_file(path, json), 0);
    free(path);
    return ok;
}

#define LIST(name, type) "{\"cniVersion\":\"1.0.0\",\"name\":\"" name "\",\"plugins\":[{\"type\":\"" type "\"}]}"

static bool setup(void)
{
    g_env.root = tl_tmpdir("bad-input");
    if (g_env.root == NULL) {
        return false;
    }
    g_env.conf = tl_asprintf("%s/conf", g_env.root);
    g_env.cache = tl_asprintf("%s/cache", g_env.root);
    g_env.bin = tl_asprintf("%s/bin", g_env.root);
    bool ok = CHECK_EQ_INT(tl_run(NULL, "mkdir -p '%s' '%s' '%s'", g_env.conf, g_env.cache, g_env.bin), 0);
    /* the plugins that may run; their call logs exist from the start, so the snapshot sees no new file */
    const char *plugins[] = { "loopback", "rec" };
    for (size_t i = 0; i < 2; i++) {
        ok = CHECK_EQ_INT(tl_install_recorder(g_env.bin, plugins[i]), 0) && ok;
        char *log = tl_asprintf("%s/%s.calls.jsonl", g_env.bin, plugins[i]);
        ok = CHECK_EQ_INT(tl_write_file(log, ""), 0) && ok;
        free(log);
    }
    ok = CHECK_EQ_INT(tl_install_recorder(g_env.root, "evil"), 0) && ok; /* must never run */
    ok = write_conf("10-good.conflist",
                    "{\"cniVersion\":\"1.0.0\",\"name\":\"good\",\"plugins\":[{\"type\":\"rec\","
                    "\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.250.77.0/24\"}}]}") && ok;
    ok = write_conf("30-good2.conflist", LIST("good2", "rec")) && ok;
    ok = write_conf("40-evilsh.conflist", LIST("evilsh", "../../bin/sh")) && ok;
    ok = write_conf("41-evilrel.conflist", LIST("evilrel", "../evil")) && ok;
    ok = write_conf("42-evilabs.conflist", LIST("evilabs", "/bin/sh")) && ok;
    ok = write_conf("43-evildot.conflist", LIST("evildot", "..")) && ok;
    ok = write_conf("isulacni-natgood.conflist", LIST("natgood", "rec")) && ok;
    ok = write_conf("isulacni-natevil.conflist", LIST("natevil", "../evil")) && ok;
    g_big = padded("", 'a', MIB, "");
    return ok;
}

static void teardown(void)
{
    free(g_big);
    free(g_env.conf);
    free(g_env.cache);
    free(g_env.bin);
    tl_rmtree(g_env.root);
    free(g_env.root);
}

/* The valid pod attaches and detaches on both types: the bad cases differ from it in one thing. */
static bool sanity(void)
{
    bool ok = true;
    for (int t = 0; t < 2; t++) {
        const char *type = t == 0 ? CRI : NATIVE;
        network_api_conf *conf = valid_conf(type);
        network_api_result_list *result = NULL;
        tl_clear_errmsg();
        ok = CHECKF(network_module_attach(conf, type, &result) == 0, "valid attach %s: %s", type,
                    tl_errmsg() ? tl_errmsg() : "") && ok;
        free_network_api_result_list(result);
        result = NULL;
        ok = CHECKF(network_module_check(conf, type, &result) == 0, "valid check %s: %s", type,
                    tl_errmsg() ? tl_errmsg() : "") && ok;
        free_network_api_result_list(result);
        ok = CHECKF(network_module_detach(conf, type) == 0, "valid detach %s: %s", type,
                    tl_errmsg() ? tl_errmsg() : "") && ok;
        free_network_api_conf(conf);
    }
    return ok;
}

/* After every case: the valid pod detaches cleanly and no attachment is left in the cache. */
static void final_cleanup(void)
{
    for (int t = 0; t < 2; t++) {
        const char *type = t == 0 ? CRI : NATIVE;
        network_api_conf *conf = valid_conf(type);
        tl_clear_errmsg();
        CHECKF(network_module_detach(conf, type) == 0, "final detach %s: %s", type, tl_errmsg() ? tl_errmsg() : "");
        free_network_api_conf(conf);
    }
    char *out = NULL;
    CHECK_EQ_INT(tl_run(&out, "find '%s/results' -type f ! -name '.*'", g_env.cache), 0);
    CHECKF(out != NULL && out[0] == '\0', "cache entries left: %s", out ? out : "");
    free(out);
    out = NULL;
    CHECK_EQ_INT(tl_run(&out, "ls '%s' | grep '^isulacni-' | sort | tr '\\n' ' '", g_env.conf), 0);
    CHECK_EQ_STR(out, "isulacni-natevil.conflist isulacni-natgood.conflist ");
    free(out);
}

int main(void)
{
    if (!setup()) {
        teardown();
        return test_summary("test_bad_input");
    }
    if (CHECK(network_module_init("cni", g_env.cache, g_env.conf, g_env.bin))) {
        network_module_set_plugin_timeout(20);
        if (sanity()) {
            struct listing before = snapshot();

            invalid_utf8_everywhere();
            bad_pod_ids();
            long_strings();
            bad_interface_names();
            bad_cni_args();
            unknown_networks();
            absurd_lengths();
            malformed_annotations();
            evil_plugin_types();
            native_create();
            path_like_names();
            bad_types();
            null_outputs();
            annotation_inserts();
            networks_info();
            init_args();
            embedded_nul();
            final_cleanup();

            struct listing after = snapshot();
            check_same(&before, &after);
            free_listing(&before);
            free_listing(&after);
        }
        network_module_exit();
    }
    tl_clear_errmsg();
    teardown();
    printf("test_bad_input: %u bad-input cases\n", g_cases);
    return test_summary("test_bad_input");
}
