/*
 * The legacy clibcni 2.1.0 API (clibcni/api.h) as its old C callers use it, after clibcni's own
 * tests/api_llt.cpp: configuration parsing (bytes, file, conf), invalid configurations, the
 * configuration-directory listing, VERSION, ADD/DEL of lists and single networks with the fake
 * plugins of legacy/plugins (port mappings, CNI_ARGS, prevResult, the result cache, failures),
 * the free functions and the logging entry points. Needs no root.
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "legacy/legacy-helpers.h"

/* clibcni's tests/utils/constants.h COMMON_CONF_LIST and COMMON_CONF. */
#define COMMON_CONF_LIST                                                                              \
    "{\"cniVersion\":\"0.3.0\",\"name\":\"default\",\"plugins\":[{\"cniVersion\":\"0.3.0\","         \
    "\"name\":\"default\",\"type\":\"bridge\"},{\"name\":\"exist\",\"type\":\"bridge\",\"dns\":"     \
    "{\"nameservers\":[\"10.1.0.1\"]}}]}"
#define COMMON_CONF                                                                                   \
    "{\"cniVersion\":\"0.3.0\",\"name\":\"default\",\"type\":\"bridge\",\"bridge\":\"cni0\","         \
    "\"isGateway\":\"true\",\"ipam\":{\"type\":\"host-local\",\"subnet\":\"10.1.0.0/16\","           \
    "\"gateway\":\"10.1.0.1\"},\"dns\":{\"nameservers\":[\"10.1.0.1\"]}}"

static char *g_bin;       /* the fake plugins */
static char *g_paths[2];  /* {g_bin, NULL} */
static char *g_log;       /* LEGACY_PLUGIN_LOG */
static char *g_cache;     /* CLIBCNI_CACHE_DIR */

/* Empties the plugin log (the directory itself stays registered for removal at exit). */
static void log_reset(void)
{
    CHECK(tl_run(NULL, "rm -f '%s'/*", g_log) == 0);
}

/* The log file <name> (a plugin's stdin, or "calls"), malloc'd, or NULL. */
static char *log_read(const char *name)
{
    char *path = tl_asprintf("%s/%s", g_log, name);
    char *text = tl_read_file(path);
    free(path);
    return text;
}

static bool file_exists(const char *dir, const char *name)
{
    char *path = tl_asprintf("%s/%s", dir, name);
    bool exists = access(path, F_OK) == 0;
    free(path);
    return exists;
}

/* Checks that a call failed with an error message containing `part`, and frees the message. */
static void failed_with(int rc, char **err, const char *part, int line)
{
    tl_check(rc != 0, __FILE__, line, "call should fail");
    tl_check(tl_contains(*err, part), __FILE__, line, "error \"%s\" should contain \"%s\"", *err ? *err : "(null)", part);
    free(*err);
    *err = NULL;
}
#define FAILED_WITH(rc, err, part) failed_with((rc), &(err), (part), __LINE__)

/* --- configurations ----------------------------------------------------------------------------- */

static void test_conflist_from_bytes(void)
{
    struct cni_network_list_conf *list = NULL;
    char *err = NULL;
    CHECK_EQ_INT(cni_conflist_from_bytes(COMMON_CONF_LIST, &list, &err), 0);
    CHECK(err == NULL);
    if (!CHECK(list != NULL)) {
        return;
    }
    CHECK_EQ_INT(list->plugin_len, 2);
    CHECK_EQ_STR(list->first_plugin_name, "default");
    CHECK_EQ_STR(list->first_plugin_type, "bridge");
    CHECK_EQ_STR(list->name, "default");
    CHECK_EQ_STR(list->bytes, COMMON_CONF_LIST);
    free_cni_network_list_conf(list);
}

static void test_conflist_from_file(void)
{
    char *path = lg_fixture("confs/test.conflist");
    char *text = tl_read_file(path);
    struct cni_network_list_conf *list = NULL;
    char *err = NULL;
    CHECK_EQ_INT(cni_conflist_from_file(path, &list, &err), 0);
    if (CHECK(list != NULL)) {
        CHECK_EQ_INT(list->plugin_len, 2);
        CHECK_EQ_STR(list->first_plugin_name, "test");
        CHECK_EQ_STR(list->first_plugin_type, "bridge");
        CHECK_EQ_STR(list->name, "test");
        CHECK_EQ_STR(list->bytes, text);
    }
    free_cni_network_list_conf(list);
    free(path);
    free(text);

    path = lg_fixture("confs/missing.conflist");
    list = NULL;
    FAILED_WITH(cni_conflist_from_file(path, &list, &err), err, "Read file ");
    CHECK(list == NULL);
    free(path);
}

static void test_conf_from_file(void)
{
    char *path = lg_fixture("confs/default.json");
    char *text = tl_read_file(path);
    struct cni_network_conf *conf = NULL;
    char *err = NULL;
    CHECK_EQ_INT(cni_conf_from_file(path, &conf, &err), 0);
    if (CHECK(conf != NULL)) {
        CHECK_EQ_STR(conf->name, "default");
        CHECK_EQ_STR(conf->type, "bridge");
        CHECK_EQ_STR(conf->bytes, text);
    }
    free_cni_network_conf(conf);
    free(path);
    free(text);
}

static void test_conflist_from_conf(void)
{
    struct cni_network_conf conf = { .name = "default", .type = "bridge", .bytes = COMMON_CONF };
    struct cni_network_list_conf *list = NULL;
    char *err = NULL;
    CHECK_EQ_INT(cni_conflist_from_conf(&conf, &list, &err), 0);
    if (CHECK(list != NULL)) {
        CHECK_EQ_INT(list->plugin_len, 1);
        CHECK_EQ_STR(list->first_plugin_name, "default");
        CHECK_EQ_STR(list->first_plugin_type, "bridge");
        CHECK_EQ_STR(list->name, "default");
        /* The generated list parses again, with the conf (and its ipam) as its plugin. */
        struct cni_network_list_conf *again = NULL;
        CHECK_EQ_INT(cni_conflist_from_bytes(list->bytes, &again, &err), 0);
        CHECK(again != NULL && again->plugin_len == 1);
        CHECK(tl_contains(list->bytes, "\"cniVersion\":\"0.3.0\""));
        CHECK(tl_contains(list->bytes, "\"subnet\":\"10.1.0.0/16\""));
        free_cni_network_list_conf(again);
    }
    free_cni_network_list_conf(list);

    /* A conf without a name makes a list without one. */
    struct cni_network_conf nameless = { .bytes = "{\"cniVersion\":\"0.3.1\",\"type\":\"bridge\"}" };
    list = NULL;
    CHECK_EQ_INT(cni_conflist_from_conf(&nameless, &list, &err), 0);
    if (CHECK(list != NULL)) {
        CHECK(list->name == NULL && list->first_plugin_name == NULL);
        CHECK_EQ_STR(list->first_plugin_type, "bridge");
    }
    free_cni_network_list_conf(list);
    CHECK(err == NULL);
}

static void test_invalid_configs(void)
{
    struct cni_network_list_conf *list = NULL;
    struct cni_network_conf *conf = NULL;
    char *err = NULL;

    FAILED_WITH(cni_conflist_from_bytes("{\"cniVersion\":\"0.3.1\",\"name\":\"Default\",\"plugins\":[{\"type\":\"bridge\"}]}",
                                        &list, &err),
                err, "Invalid network name: Default");
    FAILED_WITH(cni_conflist_from_bytes("{\"cniVersion\":\"0.3.1\",\"name\":\"default\"}", &list, &err), err,
                "Error parsing configuration list: no 'plugins' key");
    FAILED_WITH(cni_conflist_from_bytes("{\"name\":\"default\",\"plugins\":[]}", &list, &err), err, "no plugins in list");
    FAILED_WITH(cni_conflist_from_bytes("{\"name\":\"default\",\"plugins\":[{\"name\":\"Up\",\"type\":\"bridge\"}]}", &list,
                                        &err),
                err, "Invalid network name: Up");
    FAILED_WITH(cni_conflist_from_bytes("{\"plugins\":[{\"type\":\"bridge\"}]}", &list, &err), err, "no name");
    FAILED_WITH(cni_conflist_from_bytes("{\"name\": \"default\", ", &list, &err), err, "error parsing configuration list");
    FAILED_WITH(cni_conflist_from_bytes(NULL, &list, &err), err, "bytes must not be NULL");
    FAILED_WITH(cni_conflist_from_bytes(COMMON_CONF_LIST, NULL, &err), err, "list must not be NULL");
    CHECK(list == NULL);

    char *upper = lg_fixture("confs/test-upper.conflist");
    FAILED_WITH(cni_conflist_from_file(upper, &list, &err), err, "Invalid network name: Test");
    FAILED_WITH(cni_conf_from_file(upper, &conf, &err), err, "missing 'type'");
    CHECK(list == NULL && conf == NULL);
    free(upper);

    struct cni_network_conf bad = { .bytes = "{\"name\":\"Bad\",\"type\":\"bridge\"}" };
    FAILED_WITH(cni_conflist_from_conf(&bad, &list, &err), err, "Invalid network name: Bad");
    FAILED_WITH(cni_conflist_from_conf(NULL, &list, &err), err, "net_conf must not be NULL");
    struct cni_network_conf empty = { 0 };
    FAILED_WITH(cni_conflist_from_conf(&empty, &list, &err), err, "net_conf->bytes must not be NULL");

    /* err is mandatory. */
    CHECK_EQ_INT(cni_conflist_from_bytes(COMMON_CONF_LIST, &list, NULL), -1);
    CHECK(list == NULL);
}

/* --- the configuration directory ---------------------------------------------------------------- */

static void test_conf_files(void)
{
    char *dir = tl_tmpdir("legacy-confs");
    if (!CHECK(dir != NULL)) {
        return;
    }
    const char *names[] = { "b.conf", "a.conflist", "c.json", "d.txt", "noext" };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        char *path = tl_asprintf("%s/%s", dir, names[i]);
        CHECK(tl_write_file(path, "{}") == 0);
        free(path);
    }
    char *sub = tl_asprintf("%s/sub.conf", dir);
    CHECK(mkdir(sub, 0755) == 0);
    free(sub);
    /* Over 1 MiB: skipped (the original failed the whole listing). */
    char *big = tl_asprintf("%s/big.conf", dir);
    FILE *f = fopen(big, "w");
    if (CHECK(f != NULL)) {
        CHECK(fseek(f, 1024 * 1024, SEEK_SET) == 0 && fputc('x', f) == 'x');
        fclose(f);
    }
    free(big);

    const char *exts[] = { ".conf", ".conflist", ".json" };
    char **files = NULL;
    char *err = NULL;
    CHECK_EQ_INT(cni_conf_files(dir, exts, 3, &files, &err), 0);
    if (CHECK(files != NULL)) {
        char *want[] = { tl_asprintf("%s/a.conflist", dir), tl_asprintf("%s/b.conf", dir),
                         tl_asprintf("%s/c.json", dir) };
        for (size_t i = 0; i < 3; i++) {
            CHECK_EQ_STR(files[i], want[i]);
            free(want[i]);
        }
        CHECK(files[3] == NULL);
        for (size_t i = 0; files[i] != NULL; i++) {
            free(files[i]);
        }
        free(files);
    }

    const char *only_lists[] = { NULL, ".conflist" };
    files = NULL;
    CHECK_EQ_INT(cni_conf_files(dir, only_lists, 2, &files, &err), 0);
    CHECK(files != NULL && files[0] != NULL && files[1] == NULL && tl_contains(files[0], "/a.conflist"));
    if (files != NULL) {
        free(files[0]);
        free(files);
    }

    /* Extensions are matched with their dot; a missing directory has no files. */
    const char *no_dot[] = { "conf" };
    char *sentinel[] = { NULL };
    files = sentinel; /* reset to NULL by the call */
    CHECK_EQ_INT(cni_conf_files(dir, no_dot, 1, &files, &err), 0);
    CHECK(files == NULL);
    char *missing = tl_asprintf("%s/missing", dir);
    CHECK_EQ_INT(cni_conf_files(missing, exts, 3, &files, &err), 0);
    CHECK(files == NULL && err == NULL);
    free(missing);

    FAILED_WITH(cni_conf_files(NULL, exts, 3, &files, &err), err, "dir must not be NULL");
    FAILED_WITH(cni_conf_files(dir, NULL, 3, &files, &err), err, "extensions must not be NULL");

    /* More than 200 matching files is an error, as in the original. */
    for (int i = 0; i <= 200; i++) {
        char name[32];
        snprintf(name, sizeof(name), "many-%03d.json", i);
        char *path = tl_asprintf("%s/%s", dir, name);
        CHECK(tl_write_file(path, "{}") == 0);
        free(path);
    }
    FAILED_WITH(cni_conf_files(dir, exts, 3, &files, &err), err,
                "Too more config files, current support max count of config file is 200.");
    CHECK(files == NULL);
    CHECK(tl_rmtree(dir) == 0);
    free(dir);
}

/* --- VERSION ------------------------------------------------------------------------------------ */

static void test_get_version_info(void)
{
    struct plugin_info *info = NULL;
    char *err = NULL;
    CHECK_EQ_INT(cni_get_version_info("bridge", g_paths, &info, &err), 0);
    if (CHECK(info != NULL)) {
        CHECK_EQ_STR(info->cniversion, "0.3.1");
        bool current_found = false;
        for (size_t i = 0; i < info->supported_versions_len; i++) {
            current_found = current_found || strcmp(info->supported_versions[i], CURRENT_VERSION) == 0;
        }
        CHECK(current_found);
        CHECK_EQ_INT(info->supported_versions_len, 4);
    }
    free_plugin_info(info);
    /* The VERSION request is valid JSON naming a version. */
    char *stdin_text = log_read("bridge-VERSION.json");
    CHECK(tl_contains(stdin_text, "{\"cniVersion\":\""));
    free(stdin_text);

    info = NULL;
    FAILED_WITH(cni_get_version_info("nosuchplugin", g_paths, &info, &err), err,
                "find plugin: \"nosuchplugin\" failed: No such file or directory");
    CHECK(info == NULL);
    FAILED_WITH(cni_get_version_info("bridge", NULL, &info, &err), err, "paths must not be NULL");
    FAILED_WITH(cni_get_version_info(NULL, g_paths, &info, &err), err, "plugin_type must not be NULL");
    CHECK_EQ_INT(cni_get_version_info("bridge", g_paths, &info, NULL), -1);
}

/* --- ADD / DEL ---------------------------------------------------------------------------------- */

/* The fake bridge's result as struct result. */
static void check_bridge_result(const struct result *r, const char *version)
{
    CHECK_EQ_STR(r->cniversion, version);
    if (CHECK(r->interfaces_len == 1)) {
        CHECK_EQ_STR(r->interfaces[0]->name, "eth0");
        CHECK_EQ_STR(r->interfaces[0]->mac, "ab:ab:ab:ab:ab:ab");
        CHECK_EQ_STR(r->interfaces[0]->sandbox, "/proc/xx/ns/net");
    }
    if (CHECK(r->ips_len == 1)) {
        const struct ipconfig *ip = r->ips[0];
        const uint8_t addr[] = { 192, 168, 1, 2 }, mask[] = { 255, 255, 255, 0 }, gw[] = { 192, 168, 1, 1 };
        CHECK_EQ_STR(ip->version, "4");
        CHECK(ip->interface != NULL && *ip->interface == 1);
        CHECK(ip->address != NULL && ip->address->ip_len == 4 && memcmp(ip->address->ip, addr, 4) == 0);
        CHECK(ip->address != NULL && ip->address->ip_mask_len == 4 && memcmp(ip->address->ip_mask, mask, 4) == 0);
        CHECK(ip->gateway_len == 4 && memcmp(ip->gateway, gw, 4) == 0);
    }
    if (CHECK(r->routes_len == 1)) {
        char *err = NULL;
        char *dst = ipnet_to_string(r->routes[0]->dst, &err);
        CHECK_EQ_STR(dst, "192.168.1.0/24");
        free(dst);
        CHECK(r->routes[0]->gw_len == 4);
    }
    if (CHECK(r->my_dns != NULL && r->my_dns->name_servers_len == 1)) {
        CHECK_EQ_STR(r->my_dns->name_servers[0], "test.com");
        CHECK_EQ_STR(r->my_dns->domain, "test.com");
        CHECK(r->my_dns->search_len == 1 && r->my_dns->options_len == 1);
    }
}

static void test_add_del_network_list(void)
{
    char *conflist = lg_read_fixture("confs/test.conflist");
    struct runtime_conf *rc = lg_rc_new("abcd", "/var/run/netns/legacy-fake", "eth0");
    lg_rc_add_arg(rc, "IgnoreUnknown", "1");
    lg_rc_add_arg(rc, "K8S_POD_NAME", "pod");
    struct result *res = NULL;
    char *err = NULL;

    log_reset();
    CHECK_EQ_INT(cni_add_network_list(conflist, rc, g_paths, &res, &err), 0);
    CHECKF(err == NULL, "err: %s", err);
    if (CHECK(res != NULL)) {
        check_bridge_result(res, "0.3.1");
    }
    free_result(res);
    char *calls = log_read("calls");
    CHECK_EQ_STR(calls, "bridge ADD\nbridge ADD\n");
    free(calls);
    /* The second plugin got the list's name and version and the first one's result. */
    char *second = log_read("bridge-ADD.json");
    CHECK(tl_contains(second, "\"name\":\"test\""));
    CHECK(tl_contains(second, "\"cniVersion\":\"0.3.1\""));
    CHECK(tl_contains(second, "\"prevResult\":{"));
    CHECK(tl_contains(second, "\"nameservers\":[\"10.1.0.1\"]"));
    CHECK(!tl_contains(second, "runtimeConfig"));
    free(second);
    CHECK(file_exists(g_cache, "results/test-abcd-eth0"));

    CHECK_EQ_INT(cni_del_network_list(conflist, rc, g_paths, &err), 0);
    CHECKF(err == NULL, "err: %s", err);
    calls = log_read("calls");
    CHECK_EQ_STR(calls, "bridge ADD\nbridge ADD\nbridge DEL\nbridge DEL\n");
    free(calls);
    /* A 0.3.1 DEL gets no prevResult, as in the original. */
    char *del = log_read("bridge-DEL.json");
    CHECK(del != NULL && !tl_contains(del, "prevResult"));
    free(del);
    CHECK(!file_exists(g_cache, "results/test-abcd-eth0"));

    free_runtime_conf(rc);
    free(conflist);
}

static void test_port_mappings(void)
{
    char *conflist = lg_read_fixture("confs/test-portmap.conflist");
    struct runtime_conf *rc = lg_rc_new("abcd", "/var/run/netns/legacy-fake", "eth0");
    struct result *res = NULL;
    char *err = NULL;

    /* Without port mappings nothing is injected. */
    log_reset();
    CHECK_EQ_INT(cni_add_network_list(conflist, rc, g_paths, &res, &err), 0);
    free_result(res);
    char *portmap = log_read("portmap-ADD.json");
    CHECK(portmap != NULL && !tl_contains(portmap, "runtimeConfig"));
    free(portmap);
    CHECK_EQ_INT(cni_del_network_list(conflist, rc, g_paths, &err), 0);

    /* With them, only the plugin with the portMappings capability gets runtimeConfig. */
    lg_rc_add_port(rc, 8080, 80, "tcp", NULL);
    lg_rc_add_port(rc, 8443, 443, NULL, "127.0.0.1");
    log_reset();
    res = NULL;
    CHECK_EQ_INT(cni_add_network_list(conflist, rc, g_paths, &res, &err), 0);
    CHECKF(err == NULL, "err: %s", err);
    free_result(res);
    portmap = log_read("portmap-ADD.json");
    CHECKF(tl_contains(portmap, "\"runtimeConfig\":{\"portMappings\":[{\"hostPort\":8080,\"containerPort\":80,"
                                "\"protocol\":\"tcp\"},{\"hostPort\":8443,\"containerPort\":443,\"hostIP\":\"127.0.0.1\"}]}"),
           "portmap stdin: %s", portmap);
    free(portmap);
    char *bridge = log_read("bridge-ADD.json");
    CHECK(bridge != NULL && !tl_contains(bridge, "runtimeConfig"));
    free(bridge);
    CHECK_EQ_INT(cni_del_network_list(conflist, rc, g_paths, &err), 0);
    portmap = log_read("portmap-DEL.json");
    CHECK(tl_contains(portmap, "\"hostPort\":8443"));
    free(portmap);
    CHECK(err == NULL);

    free_runtime_conf(rc);
    free(conflist);
}

static void test_add_del_network(void)
{
    char *conf = lg_read_fixture("confs/default.json");
    struct runtime_conf *rc = lg_rc_new("abcd", "/var/run/netns/legacy-fake", "eth1");
    struct result *res = NULL;
    char *err = NULL;

    log_reset();
    CHECK_EQ_INT(cni_add_network(conf, rc, g_paths, &res, &err), 0);
    CHECKF(err == NULL, "err: %s", err);
    if (CHECK(res != NULL)) {
        check_bridge_result(res, "0.3.1");
    }
    free_result(res);
    char *stdin_text = log_read("bridge-ADD.json");
    CHECK(tl_contains(stdin_text, "\"name\":\"default\""));
    CHECK(tl_contains(stdin_text, "\"subnet\":\"10.1.0.0/16\""));
    free(stdin_text);
    CHECK(file_exists(g_cache, "results/default-abcd-eth1"));

    CHECK_EQ_INT(cni_del_network(conf, rc, g_paths, &err), 0);
    char *calls = log_read("calls");
    CHECK_EQ_STR(calls, "bridge ADD\nbridge DEL\n");
    free(calls);
    CHECK(!file_exists(g_cache, "results/default-abcd-eth1"));

    free_runtime_conf(rc);
    free(conf);
}

/* Better than the original: a 1.0.0 list, results converted, DEL with the cached prevResult. */
static void test_spec_1_0_0(void)
{
    char *conflist = lg_read_fixture("confs/test-v1.conflist");
    struct runtime_conf *rc = lg_rc_new("abcd", "/var/run/netns/legacy-fake", "eth0");
    struct result *res = NULL;
    char *err = NULL;

    log_reset();
    CHECK_EQ_INT(cni_add_network_list(conflist, rc, g_paths, &res, &err), 0);
    CHECKF(err == NULL, "err: %s", err);
    if (CHECK(res != NULL)) {
        check_bridge_result(res, "1.0.0");
    }
    free_result(res);
    char *bridge = log_read("bridge-ADD.json");
    CHECK(tl_contains(bridge, "\"prevResult\":{\"cniVersion\":\"1.0.0\""));
    CHECK(tl_contains(bridge, "\"address\":\"10.1.0.5/16\""));
    free(bridge);

    CHECK_EQ_INT(cni_del_network_list(conflist, rc, g_paths, &err), 0);
    char *calls = log_read("calls");
    CHECK_EQ_STR(calls, "host-local ADD\nbridge ADD\nbridge DEL\nhost-local DEL\n");
    free(calls);
    char *del = log_read("host-local-DEL.json");
    CHECK(tl_contains(del, "\"prevResult\":{\"cniVersion\":\"1.0.0\""));
    CHECK(tl_contains(del, "\"address\":\"192.168.1.2/24\""));
    free(del);

    free_runtime_conf(rc);
    free(conflist);
}

static void test_add_failures(void)
{
    struct runtime_conf *rc = lg_rc_new("abcd", "/var/run/netns/legacy-fake", "eth0");
    struct result *res = NULL;
    char *err = NULL;

    /* The plugin's error object and its stderr both reach the message. */
    char *bad = lg_read_fixture("confs/test-bad.conflist");
    log_reset();
    FAILED_WITH(cni_add_network_list(bad, rc, g_paths, &res, &err), err, "bridge-bad refuses; details from stderr");
    CHECK(res == NULL);
    char *calls = log_read("calls");
    CHECK_EQ_STR(calls, "bridge-bad ADD\n");
    free(calls);
    FAILED_WITH(cni_del_network_list(bad, rc, g_paths, &err), err, "bridge-bad refuses");
    free(bad);

    char *invalid = lg_read_fixture("confs/test-invalid.conflist");
    FAILED_WITH(cni_add_network_list(invalid, rc, g_paths, &res, &err), err,
                "find plugin: \"xxxx\" failed: No such file or directory");
    free(invalid);
    char *invalid_conf = lg_read_fixture("confs/default-invalid.conf");
    FAILED_WITH(cni_add_network(invalid_conf, rc, g_paths, &res, &err), err,
                "find plugin: \"xxxx\" failed: No such file or directory");
    FAILED_WITH(cni_del_network(invalid_conf, rc, g_paths, &err), err, "No such file or directory");
    free(invalid_conf);

    char *conflist = lg_read_fixture("confs/test.conflist");
    FAILED_WITH(cni_add_network_list(conflist, rc, NULL, &res, &err), err, "paths must not be NULL");
    FAILED_WITH(cni_add_network_list(conflist, NULL, g_paths, &res, &err), err, "rc must not be NULL");
    FAILED_WITH(cni_add_network_list(conflist, rc, g_paths, NULL, &err), err, "pret must not be NULL");
    FAILED_WITH(cni_add_network_list(NULL, rc, g_paths, &res, &err), err, "net_list_conf_str must not be NULL");
    FAILED_WITH(cni_add_network_list("{\"name\":\"UP\",\"plugins\":[{\"type\":\"bridge\"}]}", rc, g_paths, &res, &err),
                err, "Invalid network name: UP");
    FAILED_WITH(cni_del_network_list(conflist, rc, NULL, &err), err, "paths must not be NULL");
    CHECK_EQ_INT(cni_add_network_list(conflist, rc, g_paths, &res, NULL), -1);
    CHECK_EQ_INT(cni_del_network_list(conflist, rc, g_paths, NULL), -1);
    CHECK(res == NULL);

    /* An empty path list finds no plugin. */
    char *no_paths[] = { NULL };
    FAILED_WITH(cni_add_network_list(conflist, rc, no_paths, &res, &err), err, "no paths provided");

    /* Malformed runtime_conf members. */
    struct runtime_conf broken = { .container_id = "abcd", .ifname = "eth0", .args_len = 1 };
    FAILED_WITH(cni_add_network_list(conflist, &broken, g_paths, &res, &err), err, "args is NULL but its length is 1");
    broken.args_len = 0;
    broken.p_mapping_len = 2;
    FAILED_WITH(cni_add_network_list(conflist, &broken, g_paths, &res, &err), err, "p_mapping is NULL but its length is 2");
    struct runtime_conf no_ifname = { .container_id = "abcd" };
    FAILED_WITH(cni_add_network_list(conflist, &no_ifname, g_paths, &res, &err), err, "interface name is empty");
    free(conflist);

    free_runtime_conf(rc);
}

/* --- free functions and logging ----------------------------------------------------------------- */

static void test_free_functions(void)
{
    free_cni_network_conf(NULL);
    free_cni_network_list_conf(NULL);
    free_cni_port_mapping(NULL);
    free_runtime_conf(NULL);
    free_result(NULL);
    free_plugin_info(NULL);

    struct cni_port_mapping *m = calloc(1, sizeof(*m));
    if (CHECK(m != NULL)) {
        m->protocol = tl_strdup("udp");
        m->host_ip = tl_strdup("0.0.0.0");
    }
    free_cni_port_mapping(m);

    /* A full runtime_conf is released entirely (valgrind checks it). */
    struct runtime_conf *rc = lg_rc_new("abcd", "/var/run/netns/x", "eth0");
    lg_rc_add_arg(rc, "K", "V");
    lg_rc_add_port(rc, 1, 2, "tcp", "10.0.0.1");
    free_runtime_conf(rc);
    struct runtime_conf *empty = calloc(1, sizeof(*empty));
    free_runtime_conf(empty);
}

/* Argument checks as the original's; test_log_sink.c checks what the drivers write. */
static void test_logging(void)
{
    CHECK_EQ_INT(cni_log_init("stdout", NULL, "info"), 0);
    CHECK_EQ_INT(cni_log_init(NULL, NULL, "DEBUG"), 0);
    char *fifo = tl_asprintf("%s/legacy.fifo", g_log);
    CHECK_EQ_INT(cni_log_init("fifo", fifo, "warn"), 0);
    struct stat st;
    CHECK(stat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
    free(fifo);
    CHECK_EQ_INT(cni_log_init("fifo", "none", "warn"), -1);
    CHECK_EQ_INT(cni_log_init("fifo", NULL, "warn"), -1);
    CHECK_EQ_INT(cni_log_init("syslog", NULL, "warn"), -1);
    CHECK_EQ_INT(cni_log_init("stdout", NULL, "loud"), -1);
    CHECK_EQ_INT(cni_log_init("stdout", NULL, NULL), -1);
    cni_set_log_prefix("first");
    cni_set_log_prefix("second");
    cni_set_log_prefix(NULL);
    cni_free_log_prefix();
    cni_free_log_prefix();
    CHECK_EQ_INT(cni_log_init(NULL, NULL, "info"), 0);
}

int main(void)
{
    /* Before any thread exists: the cache and the plugin log live in temp dirs. */
    g_cache = tl_tmpdir("legacy-cache");
    g_log = tl_tmpdir("legacy-log");
    g_bin = lg_fake_plugins();
    if (g_cache == NULL || g_log == NULL || g_bin == NULL) {
        fprintf(stderr, "test_legacy_api: cannot set up temp dirs\n");
        return 1;
    }
    setenv("CLIBCNI_CACHE_DIR", g_cache, 1);
    setenv("LEGACY_PLUGIN_LOG", g_log, 1);
    g_paths[0] = g_bin;

    test_conflist_from_bytes();
    test_conflist_from_file();
    test_conf_from_file();
    test_conflist_from_conf();
    test_invalid_configs();
    test_conf_files();
    test_get_version_info();
    test_add_del_network_list();
    test_port_mappings();
    test_add_del_network();
    test_spec_1_0_0();
    test_add_failures();
    test_free_functions();
    test_logging();

    free(g_cache);
    free(g_log);
    free(g_bin);
    return test_summary("test_legacy_api");
}
