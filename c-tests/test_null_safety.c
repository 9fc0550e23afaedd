/*
 * Every export with NULL (or otherwise malformed) pointers and fields, before network_module_init,
 * while initialised and after network_module_exit: nothing crashes, failures return -1/false, and
 * each failure leaves a message in both error channels (g_isulad_errmsg, network_module_last_error).
 * Needs no root and no plugins.
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The error channel is cleared first, so the message checked is the call's own. */
#define FAILS(call) failed_with_message((tl_clear_errmsg(), (call) == -1), #call, __FILE__, __LINE__)
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

static void attach_inputs(void)
{
    network_api_result_list *result = SENTINEL;
    FAILS(network_module_attach(NULL, NETWOKR_API_TYPE_CRI, &result));
    CHECK(result == NULL);
    result = SENTINEL;
    FAILS(network_module_check(NULL, NETWOKR_API_TYPE_CRI, &result));
    CHECK(result == NULL);
    FAILS(network_module_detach(NULL, NETWOKR_API_TYPE_CRI));

    network_api_conf *conf = valid_conf();
    conf_rejected(conf, NULL, "NULL type");
    conf_rejected(conf, "bogus", "unknown type");
    FAILS(network_module_attach(conf, NETWOKR_API_TYPE_CRI, NULL));
    FAILS(network_module_check(conf, NETWOKR_API_TYPE_CRI, NULL));
    free_network_api_conf(conf);

    /* all fields NULL: no pod id */
    conf = calloc(1, sizeof(*conf));
    conf_rejected(conf, NETWOKR_API_TYPE_CRI, "all fields NULL");
    conf_rejected(conf, NETWOKR_API_TYPE_NATIVE, "all fields NULL");
    free_network_api_conf(conf);

    conf = valid_conf();
    free(conf->pod_id);
    conf->pod_id = strdup(INVALID_UTF8);
    conf_rejected(conf, NETWOKR_API_TYPE_CRI, "invalid UTF-8 pod_id");
    free_network_api_conf(conf);

    conf = valid_conf();
    conf->extral_nets_len = 2; /* and no array */
    conf_rejected(conf, NETWOKR_API_TYPE_NATIVE, "extral_nets_len 2, extral_nets NULL");
    free_network_api_conf(conf);

    conf = valid_conf();
    tl_conf_add_extra(conf, "net1", "eth1");
    tl_conf_add_extra(conf, "net2", "eth2");
    free_attach_net_conf(conf->extral_nets[1]);
    conf->extral_nets[1] = NULL;
    conf_rejected(conf, NETWOKR_API_TYPE_NATIVE, "extral_nets[1] NULL");
    free_network_api_conf(conf);

    conf = valid_conf();
    tl_conf_add_extra(conf, NULL, "eth1");
    conf_rejected(conf, NETWOKR_API_TYPE_NATIVE, "extral_nets[0].name NULL");
    free_network_api_conf(conf);

    conf = valid_conf();
    tl_conf_add_extra(conf, "net1", NULL);
    conf_rejected(conf, NETWOKR_API_TYPE_NATIVE, "extral_nets[0].interface NULL");
    free_network_api_conf(conf);

    conf = valid_conf();
    for (int i = 0; i < 5000; i++) {
        tl_conf_add_extra(conf, "net1", "eth1");
    }
    conf_rejected(conf, NETWOKR_API_TYPE_NATIVE, "extral_nets_len 5000");
    free_network_api_conf(conf);

    conf = valid_conf();
    tl_conf_add_arg(conf, "IgnoreUnknown", NULL);
    conf_rejected(conf, NETWOKR_API_TYPE_CRI, "args value NULL");
    free_network_api_conf(conf);

    conf = valid_conf();
    tl_conf_add_arg(conf, "K", "V");
    free(conf->args->keys[0]);
    free(conf->args->keys);
    conf->args->keys = NULL; /* len stays 1 */
    conf_rejected(conf, NETWOKR_API_TYPE_CRI, "args keys NULL");
    free_network_api_conf(conf);
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
    int rc = network_module_update(NETWOKR_API_TYPE_NATIVE); /* iSulad dereferences NULL here */
    CHECK(rc == 0 || rc == -1);
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
    attach_inputs();
    conf_management_inputs();
    free_inputs();
    insert_inputs();

    network_module_exit();
    without_module();
    CHECK(network_module_init("cni", cache, confdir, bin)); /* init again after exit */
    CHECK(!network_module_ready(NETWOKR_API_TYPE_CRI));
    network_module_exit();

    tl_clear_errmsg();
    tl_env_free(&env);
    return test_summary("test_null_safety");
}
