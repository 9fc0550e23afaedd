/*
 * The two error channels as a C caller uses them: network_module_last_error() and the daemon's
 * g_isulad_errmsg (isulad_set_error_message).
 * - a failing call sets both to the same text;
 * - the free_* functions, network_module_set_plugin_timeout and network_module_exit cannot fail:
 *   they neither set nor clear the last error, so a caller may free its results before it reads
 *   the message of the failure (the pointer stays valid);
 * - a successful call clears the last error and leaves the daemon's message untouched;
 * - a successful call with a warning (native create with a missing plugin) returns 0 and leaves
 *   the warning in both, as iSulad leaves it in g_isulad_errmsg.
 * Native networks only, with the real plugins minus firewall; no plugin runs but VERSION.
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures/native-helpers.h"

static struct tl_env g_env;

static const char *last_error_text(void)
{
    const char *e = network_module_last_error();
    return e == NULL ? "(NULL)" : e;
}

/* Both channels hold `message` (NULL: the last error is NULL and the daemon's message is `daemon`). */
static void check_channels(const char *last, const char *daemon, int line)
{
    tl_check_str(network_module_last_error(), last, __FILE__, line, "network_module_last_error()");
    tl_check_str(tl_errmsg(), daemon, __FILE__, line, "g_isulad_errmsg");
}

/* Everything the library lets a caller free, plus the other calls that cannot fail. */
static void calls_that_cannot_fail(network_api_conf *conf)
{
    free_network_api_result(tl_api_result("net", "eth0", "10.250.30.2/24", "10.250.30.1", "0a:58:0a:fa:1e:02"));
    free_network_api_result(NULL);
    network_api_result_list *list = tl_nonnull(calloc(1, sizeof(*list)));
    list->items = tl_nonnull(calloc(1, sizeof(*list->items)));
    list->items[0] = tl_api_result("net", "eth1", "10.250.31.2/24", NULL, NULL);
    list->len = list->cap = 1;
    free_network_api_result_list(list);
    free_network_api_result_list(NULL);
    attach_net_conf *extra = tl_nonnull(calloc(1, sizeof(*extra)));
    extra->name = tl_strdup("net");
    extra->interface = tl_strdup("eth2");
    free_attach_net_conf(extra);
    free_attach_net_conf(NULL);
    free_network_api_conf(conf); /* with annotations: the host's map_free */
    free_network_api_conf(NULL);
    network_module_set_plugin_timeout(60);
}

static network_api_conf *conf_with_annotations(void)
{
    network_api_conf *conf = tl_conf_new("errch-pod", "/var/run/netns/errch", "eth0");
    tl_conf_add_extra(conf, "net", "eth0");
    tl_conf_add_arg(conf, "IgnoreUnknown", "1");
    CHECK_EQ_INT(network_module_insert_portmapping("[{\"hostPort\":8080,\"containerPort\":80}]", conf), 0);
    CHECK(conf->annotations != NULL);
    return conf;
}

/* Fail a call, free results: the message is still there, at the same address. */
static void frees_keep_the_failure(void)
{
    network_api_conf *conf = conf_with_annotations();
    char *json = NULL;
    tl_clear_errmsg();
    CHECK_EQ_INT(network_module_conf_inspect(NT_NATIVE, "errch-nope", &json), -1);
    const char *failure = network_module_last_error();
    check_channels("No such network errch-nope", "No such network errch-nope", __LINE__);
    calls_that_cannot_fail(conf);
    CHECKF(network_module_last_error() == failure, "the last error moved: %s", last_error_text());
    check_channels("No such network errch-nope", "No such network errch-nope", __LINE__);

    /* A call that can fail and succeeds clears the last error only. */
    CHECK_EQ_INT(network_module_exist(NT_NATIVE, "errch-nope"), 0);
    check_channels(NULL, "No such network errch-nope", __LINE__);
    /* … and the frees do not set one either. */
    conf = conf_with_annotations();
    check_channels(NULL, "No such network errch-nope", __LINE__);
    calls_that_cannot_fail(conf);
    check_channels(NULL, "No such network errch-nope", __LINE__);
    tl_clear_errmsg();
}

/* create with a missing plugin succeeds with a warning in both channels; it survives the frees, and
 * the next successful call clears the last error (the daemon's message is the daemon's to clear). */
static void warnings_of_successful_calls(void)
{
    char *warning = tl_asprintf("WARN:cannot find cni plugin \"firewall\" in dir \"%s\"", g_env.bin);
    network_api_conf *conf = conf_with_annotations(); /* insert_portmapping can fail: before the create */
    char *name = NULL;
    struct nt_req r = { .name = "errch-warned", .subnet = "10.250.32.0/24" };
    tl_clear_errmsg();
    CHECK_EQ_INT(nt_create(&r, &name, NULL), 0);
    CHECK_EQ_STR(name, "errch-warned");
    free(name);
    check_channels(warning, warning, __LINE__);
    calls_that_cannot_fail(conf);
    check_channels(warning, warning, __LINE__);

    char *removed = NULL;
    CHECK_EQ_INT(network_module_conf_rm(NT_NATIVE, "errch-warned", &removed), 0);
    CHECK_EQ_STR(removed, "errch-warned");
    free(removed);
    check_channels(NULL, warning, __LINE__);

    /* A failure after a warning replaces it in both. */
    removed = NULL;
    CHECK_EQ_INT(network_module_conf_rm(NT_NATIVE, "errch-warned", &removed), -1);
    CHECK(removed == NULL);
    check_channels("Cannot find network errch-warned", "Cannot find network errch-warned", __LINE__);
    free(warning);
    tl_clear_errmsg();
}

/* network_module_exit cannot fail either: the last failure survives it (and a re-init clears it). */
static void exit_keeps_the_failure(void)
{
    char *json = NULL;
    CHECK_EQ_INT(network_module_conf_inspect(NT_NATIVE, "errch-gone", &json), -1);
    network_module_exit();
    check_channels("No such network errch-gone", "No such network errch-gone", __LINE__);
    CHECK(network_module_init(NULL, g_env.cache, g_env.conf, g_env.bin));
    check_channels(NULL, "No such network errch-gone", __LINE__);
    tl_clear_errmsg();
}

int main(void)
{
    if (nt_env_init(&g_env, "error-channels", false) && nt_init(&g_env, g_env.conf)) {
        frees_keep_the_failure();
        warnings_of_successful_calls();
        exit_keeps_the_failure();
        network_module_exit();
    }
    tl_clear_errmsg();
    tl_env_free(&g_env);
    return test_summary("test_error_channels");
}
