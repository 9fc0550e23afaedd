/*
 * Every export with NULL (or otherwise malformed) pointers and fields, before network_module_init,
 * while initialised and after network_module_exit: nothing crashes, failures return -1/false, and
 * each failure leaves a message in both error channels (g_isulad_errmsg, network_module_last_error).
 * Malformed attach/check/detach requests are refused against a working configuration (the
 * recording plugin, examples/cni_recorder.rs, on a made-up netns path), each with its own message
 * and without running a plugin. Needs no root.
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isulad_host.h"
#include "network_api.h"
#include "testlib.h"

#define INVALID_UTF8 "pod-\xff\xfe"
#define SENTINEL ((void *)&g_sentinel)
static int g_sentinel;

/* Reports whether a call failed and left a message in both error channels. */
static bool failed_with_message(bool failed, const char *call, const char *file, int line)
{
    const char *last = network_module_last_error();
    const char *errmsg = tl_errmsg();
    bool ok = tl_check(failed, file, line, "%s: should fail", call);
    ok = tl_check(last != NULL && last[0] != '\0', file, line, "%s: no network_module_last_error()", call) && ok;
    ok = tl_check(errmsg != NULL && errmsg[0] != '\0', file, line, "%s: no g_isulad_errmsg", call) && ok;
    return ok;
}

/* Reports whether a call failed with exactly this message in both error channels. */
static bool failed_with(bool failed, const char *call, const char *expected, const char *file, int line)
{
    bool ok = tl_check(failed, file, line, "%s: should fail with \"%s\"", call, expected);
    ok = tl_check_str(network_module_last_error(), expected, file, line, "network_module_last_error()") && ok;
    return tl_check_str(tl_errmsg(), expected, file, line, "g_isulad_errmsg") && ok;
}

/* The error channel is cleared first, so the message checked is the call's own. */
#define FAILS(call) failed_with_message((tl_clear_errmsg(), (call) == -1), #call, __FILE__, __LINE__)
#define FAILS_WITH(call, expected) \
    failed_with((tl_clear_errmsg(), (call) == -1), #call, (expected), __FILE__, __LINE__)
#define FAILS_FALSE(call) failed_with_message((tl_clear_errmsg(), !(call)), #call, __FILE__, __LINE__)
/* A call that succeeded leaves no last error. */
#define NO_ERROR() CHECK(network_module_last_error() == NULL)
/* A call that cannot fail (the free_* functions, exit, the timeout setter) keeps the last error as it was. */
#define KEPT(before) CHECK(network_module_last_error() == (before))

static network_api_conf *valid_conf(void)
{
    network_api_conf *conf = tl_conf_new("0123456789abcdef", "", "eth0");
    conf->name = strdup("pod");
    conf->ns = strdup("default");
    return conf;
}

/* attach, check and detach all reject this conf for this type. */
static void conf_rejected(network_api_conf *conf, const char *type, const char *what)
{
    network_api_result_list *result = SENTINEL;
    CHECKF(FAILS(network_module_attach(conf, type, &result)), "attach: %s", what);
    CHECKF(result == NULL, "attach: %s: *result is not NULL", what);
    result = SENTINEL;
    CHECKF(FAILS(network_module_check(conf, type, &result)), "check: %s", what);
    CHECKF(result == NULL, "check: %s: *result is not NULL", what);
    CHECKF(FAILS(network_module_detach(conf, type)), "detach: %s", what);
}

/* conf_create fails with error class cc (0: any); *name, which iSulad's caller frees even on
 * failure, is freed here. */
static void create_fails(const char *type, const network_create_request *request, uint32_t cc, int line)
{
    char *name = NULL;
    uint32_t got = 0;
    failed_with_message((tl_clear_errmsg(), network_module_conf_create(type, request, &name, &got) == -1),
                        "network_module_conf_create", __FILE__, line);
    if (cc == 0) {
        tl_check(got != 0, __FILE__, line, "cc: not set");
    } else {
        tl_check(got == cc, __FILE__, line, "cc: got %u, expected %u", got, cc);
    }
    free(name);
}

/* Every export that needs the module, when there is none (before init, after exit). */
static void without_module(void)
{
    network_api_conf *conf = valid_conf();
    conf_rejected(conf, NETWOKR_API_TYPE_CRI, "no module");
    conf_rejected(conf, NETWOKR_API_TYPE_NATIVE, "no module");
    free_network_api_conf(conf);

    FAILS_FALSE(network_module_ready(NETWOKR_API_TYPE_NATIVE));
    FAILS_FALSE(network_module_ready(NETWOKR_API_TYPE_CRI));
    FAILS_FALSE(network_module_ready(NULL));
    FAILS(network_module_update(NETWOKR_API_TYPE_CRI));
    FAILS(network_module_exist(NETWOKR_API_TYPE_NATIVE, "x"));
    FAILS(network_module_container_list_add(NETWOKR_API_TYPE_NATIVE, "x", "0123456789abcdef"));

    char *text = NULL;
    FAILS(network_module_conf_inspect(NETWOKR_API_TYPE_NATIVE, "x", &text));
    CHECK(text == NULL);
    network_network_info **networks = NULL;
    size_t len = 0;
    FAILS(network_module_conf_list(NETWOKR_API_TYPE_NATIVE, NULL, &networks, &len));
    CHECK(networks == NULL && len == 0);
    char *removed = NULL;
    FAILS(network_module_conf_rm(NETWOKR_API_TYPE_NATIVE, "x", &removed));
    CHECK(removed == NULL);

    network_create_request request = { .name = "x" };
    create_fails(NETWOKR_API_TYPE_NATIVE, &request, 0, __LINE__);

    const char *before = network_module_last_error();
    CHECK(before != NULL);
    network_module_set_plugin_timeout(30);
    KEPT(before);
    network_module_exit();
    KEPT(before);
}

/* The working configuration the malformed requests are refused against: a default network and an
 * extra one, each run by the recording plugin, so the same request well-formed is attached. */
#define NET_DEFAULT "cnull-default"
#define NET_EXTRA "cnull-extra"
static const char *const g_plugins[] = { "loopback", "cnullplug", NULL };
#define ONE_PLUGIN_NET "{\"cniVersion\":\"1.0.0\",\"name\":\"%s\",\"plugins\":[{\"type\":\"cnullplug\"}]}"

/* Every call the recorder logged in bin, whatever the plugin, command and container. */
static size_t plugin_calls(const char *bin)
{
    static const char *const commands[] = { "ADD", "CHECK", "DEL", "GC", "STATUS", "VERSION" };
    size_t n = 0;
    for (size_t p = 0; g_plugins[p] != NULL; p++) {
        for (size_t c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
            n += tl_count_calls(bin, g_plugins[p], commands[c], NULL);
        }
    }
    return n;
}

/* A pod on the default network (eth0) and NET_EXTRA (eth1): attached when nothing is broken. */
static network_api_conf *pod_request(const char *netns)
{
    network_api_conf *conf = tl_pod_conf("0123456789abcdef", netns, "pod", "default", true);
    tl_conf_add_extra(conf, NET_EXTRA, "eth1");
    return conf;
}

/* attach, check and detach of this conf for this type all fail with exactly this message in both
 * error channels, leave *result NULL, and no plugin runs. Frees conf. */
static void refused(const char *bin, network_api_conf *conf, const char *type, const char *expected, int line)
{
    size_t calls = plugin_calls(bin);
    network_api_result_list *result = SENTINEL;
    failed_with((tl_clear_errmsg(), network_module_attach(conf, type, &result) == -1), "attach", expected, __FILE__,
                line);
    tl_check(result == NULL, __FILE__, line, "attach: *result is not NULL");
    result = SENTINEL;
    failed_with((tl_clear_errmsg(), network_module_check(conf, type, &result) == -1), "check", expected, __FILE__,
                line);
    tl_check(result == NULL, __FILE__, line, "check: *result is not NULL");
    failed_with((tl_clear_errmsg(), network_module_detach(conf, type) == -1), "detach", expected, __FILE__, line);
    size_t after = plugin_calls(bin);
    tl_check(after == calls, __FILE__, line, "%zu plugin calls for a refused request", after - calls);
    free_network_api_conf(conf);
}

/* The well-formed request really attaches, checks and detaches: what the cases below break is
 * what makes them fail. */
static void well_formed(const char *bin, const char *netns)
{
    network_api_conf *conf = pod_request(netns);
    network_api_result_list *result = NULL;
    tl_clear_errmsg();
    int rc = network_module_attach(conf, NETWOKR_API_TYPE_CRI, &result);
    CHECKF(rc == 0, "attach of the well-formed request: %s", tl_errmsg_text());
    if (rc == 0 && CHECK(result != NULL) && CHECK_EQ_INT(result->len, 2)) {
        CHECK_EQ_STR(result->items[0]->name, NET_EXTRA);
        CHECK_EQ_STR(result->items[1]->name, NET_DEFAULT);
    }
    free_network_api_result_list(result);
    CHECK_EQ_INT(tl_count_calls(bin, "cnullplug", "ADD", conf->pod_id), 2);
    result = NULL;
    tl_clear_errmsg();
    CHECKF(network_module_check(conf, NETWOKR_API_TYPE_CRI, &result) == 0, "check: %s", tl_errmsg_text());
    free_network_api_result_list(result);
    CHECK_EQ_INT(tl_count_calls(bin, "cnullplug", "CHECK", conf->pod_id), 2);
    tl_detach_ok(conf, NETWOKR_API_TYPE_CRI, true, TL_HERE);
    CHECK_EQ_INT(tl_count_calls(bin, "cnullplug", "DEL", conf->pod_id), 2);
    free_network_api_conf(conf);
}

/* Each rule of reading a request, broken alone in the well-formed request. */
static void attach_inputs(const char *bin, const char *netns)
{
    const char *cri = NETWOKR_API_TYPE_CRI;
    network_api_result_list *result = SENTINEL;
    FAILS_WITH(network_module_attach(NULL, cri, &result), "conf must not be NULL");
    CHECK(result == NULL);
    result = SENTINEL;
    FAILS_WITH(network_module_check(NULL, cri, &result), "conf must not be NULL");
    CHECK(result == NULL);
    FAILS_WITH(network_module_detach(NULL, cri), "conf must not be NULL");

    network_api_conf *conf = pod_request(netns);
    FAILS_WITH(network_module_attach(conf, cri, NULL), "result must not be NULL");
    FAILS_WITH(network_module_check(conf, cri, NULL), "result must not be NULL");
    free_network_api_conf(conf);

    refused(bin, pod_request(netns), NULL, "type must not be NULL", __LINE__);
    refused(bin, pod_request(netns), "bogus", "Do not support network type: bogus", __LINE__);
    refused(bin, pod_request(netns), INVALID_UTF8, "type is not valid UTF-8", __LINE__);

    /* all fields NULL: no pod id */
    refused(bin, calloc(1, sizeof(*conf)), cri, "Invalid network config: pod id is empty", __LINE__);
    conf = calloc(1, sizeof(*conf));
    refused(bin, conf, NETWOKR_API_TYPE_NATIVE, "Invalid network config: pod id is empty", __LINE__);

    conf = pod_request(netns);
    free(conf->pod_id);
    conf->pod_id = strdup(INVALID_UTF8);
    refused(bin, conf, cri, "pod_id is not valid UTF-8", __LINE__);

    conf = pod_request(netns);
    free_attach_net_conf(conf->extral_nets[0]);
    free(conf->extral_nets);
    conf->extral_nets = NULL;
    conf->extral_nets_len = 2; /* and no array */
    refused(bin, conf, cri, "extral_nets is NULL but extral_nets_len is not 0", __LINE__);

    conf = pod_request(netns);
    tl_conf_add_extra(conf, NET_EXTRA, "eth2");
    free_attach_net_conf(conf->extral_nets[1]);
    conf->extral_nets[1] = NULL;
    refused(bin, conf, cri, "extral_nets[1] is NULL", __LINE__);

    conf = pod_request(netns);
    free(conf->extral_nets[0]->name);
    conf->extral_nets[0]->name = NULL;
    refused(bin, conf, cri, "extral_nets[0].name must not be NULL", __LINE__);

    conf = pod_request(netns);
    free(conf->extral_nets[0]->interface);
    conf->extral_nets[0]->interface = NULL;
    refused(bin, conf, cri, "extral_nets[0].interface must not be NULL", __LINE__);

    conf = pod_request(netns);
    for (int i = 1; i < 5000; i++) {
        tl_conf_add_extra(conf, NET_EXTRA, "eth1");
    }
    refused(bin, conf, cri, "Too many networks: 5000 (at most 1024)", __LINE__);

    conf = pod_request(netns);
    free(conf->args->values[0]);
    conf->args->values[0] = NULL;
    refused(bin, conf, cri, "args value 0 must not be NULL", __LINE__);

    conf = pod_request(netns);
    for (size_t i = 0; i < conf->args->len; i++) {
        free(conf->args->keys[i]);
    }
    free(conf->args->keys);
    conf->args->keys = NULL; /* len stays */
    refused(bin, conf, cri, "args has NULL keys or values", __LINE__);
}

/* Reading requests, against the working configuration; leaves the module exited. */
static void requests(void)
{
    struct tl_env env;
    char *netns = tl_asprintf("/var/run/netns/cnull-fake-%ld", (long)getpid());
    if (tl_env_init(&env, "null-safety-requests", g_plugins, true, TL_HERE) &&
        tl_write_conf(TL_HERE, env.conf, "10-default.conflist", ONE_PLUGIN_NET, NET_DEFAULT) &&
        tl_write_conf(TL_HERE, env.conf, "20-extra.conflist", ONE_PLUGIN_NET, NET_EXTRA) &&
        CHECK(network_module_init("cni", env.cache, env.conf, env.bin))) {
        network_module_set_plugin_timeout(5);
        well_formed(env.bin, netns);
        attach_inputs(env.bin, netns);
        tl_check_no_results(env.cache, TL_HERE);
        network_module_exit();
    }
    free(netns);
    tl_env_free(&env);
}

static void conf_management_inputs(void)
{
    network_create_request request = { .name = "net1" };
    network_create_request bad_name = { .name = INVALID_UTF8 };
    create_fails(NULL, &request, 0, __LINE__);
    create_fails("bogus", &request, 0, __LINE__);
    create_fails(NETWOKR_API_TYPE_CRI, &request, 0, __LINE__);
    create_fails(NETWOKR_API_TYPE_NATIVE, NULL, 4, __LINE__); /* ISULAD_ERR_INPUT */
    create_fails(NETWOKR_API_TYPE_NATIVE, &bad_name, 4, __LINE__);
    uint32_t cc = 0;
    FAILS(network_module_conf_create(NETWOKR_API_TYPE_NATIVE, &request, NULL, &cc));
    FAILS(network_module_conf_create(NETWOKR_API_TYPE_NATIVE, NULL, NULL, NULL));

    char *text = NULL;
    FAILS(network_module_conf_inspect(NULL, "x", &text));
    FAILS(network_module_conf_inspect("bogus", "x", &text));
    FAILS(network_module_conf_inspect(NETWOKR_API_TYPE_CRI, "x", &text));
    FAILS(network_module_conf_inspect(NETWOKR_API_TYPE_NATIVE, NULL, &text));
    FAILS(network_module_conf_inspect(NETWOKR_API_TYPE_NATIVE, "x", NULL));
    FAILS(network_module_conf_inspect(NETWOKR_API_TYPE_NATIVE, "x", &text));
    CHECK(text == NULL);

    network_network_info **networks = NULL;
    size_t len = 0;
    FAILS(network_module_conf_list(NULL, NULL, &networks, &len));
    FAILS(network_module_conf_list("bogus", NULL, &networks, &len));
    FAILS(network_module_conf_list(NETWOKR_API_TYPE_CRI, NULL, &networks, &len));
    FAILS(network_module_conf_list(NETWOKR_API_TYPE_NATIVE, NULL, NULL, &len));
    FAILS(network_module_conf_list(NETWOKR_API_TYPE_NATIVE, NULL, &networks, NULL));
    CHECK_EQ_INT(network_module_conf_list(NETWOKR_API_TYPE_NATIVE, NULL, &networks, &len), 0);
    CHECK(networks == NULL && len == 0);

    char *removed = NULL;
    FAILS(network_module_conf_rm(NULL, "x", &removed));
    FAILS(network_module_conf_rm("bogus", "x", &removed));
    FAILS(network_module_conf_rm(NETWOKR_API_TYPE_NATIVE, NULL, &removed));
    FAILS(network_module_conf_rm(NETWOKR_API_TYPE_NATIVE, "x", NULL));
    FAILS(network_module_conf_rm(NETWOKR_API_TYPE_NATIVE, "x", &removed));
    CHECK(removed == NULL);

    FAILS(network_module_exist("bogus", "x"));
    FAILS(network_module_exist(NULL, "x"));
    FAILS(network_module_exist(NETWOKR_API_TYPE_NATIVE, NULL));
    FAILS(network_module_exist(NETWOKR_API_TYPE_NATIVE, INVALID_UTF8));
    CHECK_EQ_INT(network_module_exist(NETWOKR_API_TYPE_NATIVE, "x"), 0);
    NO_ERROR();

    FAILS(network_module_container_list_add(NULL, "x", "0123456789abcdef"));
    FAILS(network_module_container_list_add("bogus", "x", "0123456789abcdef"));
    FAILS(network_module_container_list_add(NETWOKR_API_TYPE_NATIVE, NULL, "0123456789abcdef"));
    FAILS(network_module_container_list_add(NETWOKR_API_TYPE_NATIVE, "x", NULL));
    FAILS(network_module_container_list_add(NETWOKR_API_TYPE_NATIVE, "x", "0123456789abcdef"));
}

static void ready_and_update(void)
{
    CHECK(!network_module_ready(NETWOKR_API_TYPE_CRI)); /* the conf dir is empty */
    CHECK(!network_module_ready(NETWOKR_API_TYPE_NATIVE));
    FAILS_FALSE(network_module_ready("bogus"));
    FAILS_FALSE(network_module_ready(NULL));
    FAILS_FALSE(network_module_ready(INVALID_UTF8));
    FAILS(network_module_update("bogus"));
    FAILS(network_module_update(NULL));
    /* iSulad dereferences NULL here; native networks have nothing to reload. */
    CHECK_EQ_INT(network_module_update(NETWOKR_API_TYPE_NATIVE), 0);
    NO_ERROR();
}

static void insert_inputs(void)
{
    int (*const inserts[])(const char *, network_api_conf *) = {
        network_module_insert_portmapping, network_module_insert_bandwidth, network_module_insert_iprange
    };
    for (size_t i = 0; i < sizeof(inserts) / sizeof(inserts[0]); i++) {
        network_api_conf *conf = valid_conf();
        CHECK_EQ_INT(inserts[i](NULL, conf), 0); /* nothing to insert */
        CHECK(conf->annotations == NULL);
        CHECK_EQ_INT(inserts[i](NULL, NULL), 0);
        FAILS(inserts[i]("[]", NULL));
        FAILS(inserts[i](INVALID_UTF8, conf));
        CHECK_EQ_INT(inserts[i]("[]", conf), 0);
        CHECK(conf->annotations != NULL);
        free_network_api_conf(conf); /* frees the annotations with the host's map_free */
        NO_ERROR();
    }
}

static network_api_result_list *new_result_list(size_t len)
{
    network_api_result_list *list = calloc(1, sizeof(*list));
    list->items = calloc(len, sizeof(*list->items));
    list->cap = len;
    list->len = len;
    return list;
}

static void update_networks_info_inputs(void)
{
    const char *id = "0123456789abcdef";
    const char *netns = "/run/netns/x";
    network_api_result_list *list = new_result_list(2);
    list->items[0] = tl_api_result("net1", "eth0", "10.1.0.2/24", "10.1.0.1", NULL);
    container_network_settings *settings = tl_settings_new();

    FAILS(cni_update_container_networks_info(NULL, id, netns, settings));
    FAILS(cni_update_container_networks_info(list, NULL, netns, settings));
    FAILS(cni_update_container_networks_info(list, id, NULL, settings));
    FAILS(cni_update_container_networks_info(list, id, netns, NULL));
    container_network_settings no_networks = { 0 };
    FAILS(cni_update_container_networks_info(list, id, netns, &no_networks));
    network_api_result_list empty = { 0 };
    FAILS(cni_update_container_networks_info(&empty, id, netns, settings));
    network_api_result_list no_items = { .items = NULL, .len = 1, .cap = 1 };
    FAILS(cni_update_container_networks_info(&no_items, id, netns, settings));

    /* a bad second item: the first one is not kept either */
    list->items[1] = tl_api_result(NULL, "eth0", "10.1.0.3/24", "10.1.0.1", NULL);
    FAILS(cni_update_container_networks_info(list, id, netns, settings));
    CHECK_EQ_INT(settings->networks->len, 0);
    CHECK(settings->sandbox_key == NULL);
    free_network_api_result(list->items[1]);
    list->items[1] = tl_api_result("net2", "eth0", "not-an-address", "10.1.0.1", NULL);
    FAILS(cni_update_container_networks_info(list, id, netns, settings));
    CHECK_EQ_INT(settings->networks->len, 0);

    /* a NULL item is skipped */
    free_network_api_result(list->items[1]);
    list->items[1] = NULL;
    CHECK_EQ_INT(cni_update_container_networks_info(list, id, netns, settings), 0);
    NO_ERROR();
    if (CHECK_EQ_INT(settings->networks->len, 1)) {
        CHECK_EQ_STR(settings->networks->keys[0], "net1");
        CHECK_EQ_STR(settings->networks->values[0]->ip_address, "10.1.0.2");
        CHECK_EQ_INT(settings->networks->values[0]->ip_prefix_len, 24);
    }
    CHECK_EQ_STR(settings->sandbox_key, netns);

    tl_settings_free(settings);
    free_network_api_result_list(list);
}

static void free_inputs(void)
{
    const char *before = network_module_last_error();
    free_attach_net_conf(NULL);
    free_network_api_conf(NULL);
    free_network_api_result(NULL);
    free_network_api_result_list(NULL);
    KEPT(before);

    network_api_result_list *list = calloc(1, sizeof(*list));
    list->len = 3; /* no items array */
    free_network_api_result_list(list);

    struct network_api_result *result = calloc(1, sizeof(*result));
    result->ips_len = 2; /* no ips/gateway arrays */
    free_network_api_result(result);

    network_api_conf *conf = valid_conf();
    conf->extral_nets_len = 2; /* no extral_nets array */
    free_network_api_conf(conf);
    KEPT(before);
}

static void init_inputs(const char *cache, const char *confdir, const char *bin)
{
    FAILS_FALSE(network_module_init("cni", cache, "/tmp/\xff", bin));
    FAILS_FALSE(network_module_init(INVALID_UTF8, cache, confdir, bin));
    FAILS_FALSE(network_module_init("cni", INVALID_UTF8, confdir, bin));
    FAILS_FALSE(network_module_init("cni", cache, confdir, INVALID_UTF8));

    /* without a network plugin there is no "cri" type */
    CHECK(network_module_init(NULL, cache, confdir, bin));
    NO_ERROR();
    CHECK(!network_module_ready(NETWOKR_API_TYPE_CRI));
}

int main(void)
{
    struct tl_env env;
    if (!tl_env_init(&env, "null-safety", NULL, false, TL_HERE)) {
        tl_env_free(&env);
        return test_summary("test_null_safety");
    }
    const char *cache = env.cache, *confdir = env.conf, *bin = env.bin;

    without_module();
    free_inputs();
    insert_inputs();
    update_networks_info_inputs();

    init_inputs(cache, confdir, bin);
    CHECK(network_module_init("cni", cache, confdir, bin));
    NO_ERROR();
    network_module_set_plugin_timeout(5);
    ready_and_update();
    conf_management_inputs();
    free_inputs();
    insert_inputs();
    network_module_exit();

    requests();
    without_module();
    CHECK(network_module_init("cni", cache, confdir, bin)); /* init again after exit */
    CHECK(!network_module_ready(NETWOKR_API_TYPE_CRI));
    network_module_exit();

    tl_clear_errmsg();
    tl_env_free(&env);
    return test_summary("test_null_safety");
}
