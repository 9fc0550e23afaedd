/*
 * Native networks without containers: network_module_conf_create / inspect / list / exist / rm
 * with the real plugins in a private bin dir and a private conf dir: automatic subnet and bridge
 * allocation, the file iSulad writes (text, modes whatever the umask), list filters, conflicts
 * with "cri" conflists and host addresses, request variants and every error string.
 */
// ctest: RUN_SERIAL
#define _GNU_SOURCE

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "fixtures/native-helpers.h"

#define FIXTURE "isulacni-isulad-written.conflist"
#define FIXTURE_NET "isuladwritten"
#define FIXTURE_BRIDGE_INDEX 917

static struct tl_env g_env;

/* Bridge names of every network this test made or loaded; none may exist as a link at the end. */
static char *g_bridges[32];
static size_t g_bridges_len;

static void remember_bridge(const char *conflist_text)
{
    char *bridge = nt_json_string(conflist_text, "bridge");
    if (CHECK(bridge != NULL) && CHECK(g_bridges_len < sizeof(g_bridges) / sizeof(g_bridges[0]))) {
        g_bridges[g_bridges_len++] = bridge;
        return;
    }
    free(bridge);
}

/* The first N > after for which 192.168.N.0/24 holds no host IPv4 address (what the automatic
 * allocation must avoid besides conflists), or -1. */
static int free_192_168(int after)
{
    bool taken[256] = { false };
    struct ifaddrs *all = NULL;
    if (!CHECK(getifaddrs(&all) == 0)) {
        return -1;
    }
    for (struct ifaddrs *ifa = all; ifa != NULL; ifa = ifa->ifa_next) {
        if (ifa->ifa_addr == NULL || ifa->ifa_addr->sa_family != AF_INET) {
            continue;
        }
        uint32_t addr = ntohl(((struct sockaddr_in *)ifa->ifa_addr)->sin_addr.s_addr);
        if ((addr >> 16) == ((192u << 8) | 168u)) {
            taken[(addr >> 8) & 0xff] = true;
        }
    }
    freeifaddrs(all);
    for (int n = after + 1; n < 256; n++) {
        if (!taken[n]) {
            return n;
        }
    }
    return -1;
}

/* The first isula-brN that is no host interface and not index `skip`. */
static char *first_free_bridge(int skip)
{
    for (int i = 0; i < 1024; i++) {
        char *name = tl_asprintf("isula-br%d", i);
        if (i != skip && !nt_link_exists(name)) {
            return name;
        }
        free(name);
    }
    return NULL;
}

/* The file iSulad writes for a network with these values when dnsname is not installed. */
static char *expected_conflist(const char *name, const char *bridge, const char *subnet, const char *gateway)
{
    return tl_asprintf("{\n"
                       "    \"cniVersion\": \"1.0.0\",\n"
                       "    \"name\": \"%s\",\n"
                       "    \"plugins\": [\n"
                       "        {\n"
                       "            \"type\": \"bridge\",\n"
                       "            \"bridge\": \"%s\",\n"
                       "            \"isGateway\": true,\n"
                       "            \"ipMasq\": true,\n"
                       "            \"hairpinMode\": true,\n"
                       "            \"ipam\": {\n"
                       "                \"type\": \"host-local\",\n"
                       "                \"routes\": [\n"
                       "                    {\n"
                       "                        \"dst\": \"0.0.0.0/0\"\n"
                       "                    }\n"
                       "                ],\n"
                       "                \"ranges\": [\n"
                       "                    [\n"
                       "                        {\n"
                       "                            \"subnet\": \"%s\",\n"
                       "                            \"gateway\": \"%s\"\n"
                       "                        }\n"
                       "                    ]\n"
                       "                ]\n"
                       "            }\n"
                       "        },\n"
                       "        {\n"
                       "            \"type\": \"portmap\",\n"
                       "            \"capabilities\": {\n"
                       "                \"portMappings\": true\n"
                       "            }\n"
                       "        },\n"
                       "        {\n"
                       "            \"type\": \"firewall\"\n"
                       "        }\n"
                       "    ]\n"
                       "}\n",
                       name, bridge, subnet, gateway);
}

/* inspect of a network: the file's exact text (malloc'd), or NULL. */
static char *inspect_ok(const char *name, int line)
{
    char *json = NULL;
    tl_clear_errmsg();
    int rc = network_module_conf_inspect(NT_NATIVE, name, &json);
    tl_check(rc == 0 && json != NULL, __FILE__, line, "inspect %s: rc %d: %s", name, rc,
             tl_errmsg_text());
    return json;
}

static void inspect_fails(const char *name, int line)
{
    char *json = NULL;
    char *message = tl_asprintf("No such network %s", name);
    tl_clear_errmsg();
    tl_check(network_module_conf_inspect(NT_NATIVE, name, &json) == -1, __FILE__, line, "inspect %s should fail", name);
    tl_check_str(tl_errmsg(), message, __FILE__, line, "inspect message");
    tl_check(json == NULL, __FILE__, line, "inspect %s: json set on failure", name);
    free(json);
    free(message);
}

/* The file of a created network: its text, which inspect must return verbatim; the bridge is
 * remembered for the final check. */
static char *created_text(const char *conf_dir, const char *name, int line)
{
    char *path = nt_conflist_path(conf_dir, name);
    char *text = tl_read_file(path);
    tl_check(text != NULL, __FILE__, line, "cannot read %s", path);
    char *inspected = inspect_ok(name, line);
    tl_check_str(inspected, text, __FILE__, line, "inspect text == file text");
    if (text != NULL) {
        remember_bridge(text);
    }
    free(inspected);
    free(path);
    return text;
}

static void check_mode(const char *path, mode_t expected, int line)
{
    struct stat st;
    if (!tl_check(stat(path, &st) == 0, __FILE__, line, "stat %s", path)) {
        return;
    }
    tl_check((st.st_mode & 07777) == expected, __FILE__, line, "%s: mode %04o, expected %04o", path,
             (unsigned)(st.st_mode & 07777), (unsigned)expected);
}

static void rm_and_check_gone(const char *conf_dir, const char *name, int line)
{
    char *path = nt_conflist_path(conf_dir, name);
    nt_rm_ok(name, line);
    tl_check(!nt_file_exists(path), __FILE__, line, "%s still exists after rm", path);
    tl_check(network_module_exist(NT_NATIVE, name) == 0, __FILE__, line, "%s still exists after rm", name);
    free(path);
}

/* An unnamed create in a conf dir that does not exist yet, under the given umask: the first free
 * 192.168.N.0/24, gateway .1, the first free isula-brN as bridge and name, file 0640 in a dir
 * made 0750, exactly the text iSulad writes. */
static void auto_network_and_modes(mode_t mask)
{
    mode_t old = umask(mask);
    char *conf = tl_asprintf("%s/umask%03o/net.d", g_env.root, (unsigned)mask);
    char *parent = tl_asprintf("%s/umask%03o", g_env.root, (unsigned)mask);
    CHECK(mkdir(parent, 0755) == 0);
    if (!nt_init(&g_env, conf)) {
        goto out;
    }
    int n = free_192_168(-1);
    char *bridge = first_free_bridge(-1);
    if (!CHECK(n >= 0 && bridge != NULL)) {
        free(bridge);
        network_module_exit();
        goto out;
    }
    char *subnet = tl_asprintf("192.168.%d.0/24", n);
    char *gateway = tl_asprintf("192.168.%d.1", n);

    struct nt_req req = { 0 };
    char *name = NULL;
    uint32_t cc = 0;
    int rc = nt_create(&req, &name, &cc);
    CHECKF(rc == 0, "auto create under umask %03o: %s", (unsigned)mask, tl_errmsg_text());
    CHECK_EQ_STR(name, bridge);
    CHECK_EQ_INT(cc, 0);
    if (rc == 0 && name != NULL) {
        char *path = nt_conflist_path(conf, name);
        check_mode(conf, 0750, __LINE__);
        check_mode(path, 0640, __LINE__);
        char *text = created_text(conf, name, __LINE__);
        char *expected = expected_conflist(name, bridge, subnet, gateway);
        CHECK_EQ_STR(text, expected);
        CHECK_EQ_INT(network_module_exist(NT_NATIVE, name), 1);
        CHECK(network_module_ready(NT_NATIVE));
        rm_and_check_gone(conf, name, __LINE__);
        inspect_fails(name, __LINE__);
        CHECK(!network_module_ready(NT_NATIVE));
        free(expected);
        free(text);
        free(path);
    }
    free(name);
    free(subnet);
    free(gateway);
    free(bridge);
    network_module_exit();
out:
    umask(old);
    free(parent);
    free(conf);
}

/* conf_list with the given filters must give exactly these networks, in this order, each a
 * 1.0.0 bridge/portmap/firewall network. */
static void check_list(const struct filters_args *filters, const char *const *names, size_t n, int line)
{
    network_network_info **items = NULL;
    size_t len = 0;
    tl_clear_errmsg();
    int rc = network_module_conf_list(NT_NATIVE, filters, &items, &len);
    tl_check(rc == 0, __FILE__, line, "list: rc %d: %s", rc, tl_errmsg_text());
    tl_check_int((long long)len, (long long)n, __FILE__, line, "list length");
    if (n == 0) {
        tl_check(items == NULL, __FILE__, line, "list: outputs must stay untouched when nothing matches");
    }
    for (size_t i = 0; items != NULL && i < len && i < n; i++) {
        network_network_info *item = items[i];
        if (!tl_check(item != NULL, __FILE__, line, "list item %zu is NULL", i)) {
            continue;
        }
        tl_check_str(item->name, names[i], __FILE__, line, "list item name");
        tl_check_str(item->version, "1.0.0", __FILE__, line, "list item version");
        static const char *const plugins[] = { "bridge", "portmap", "firewall" };
        if (tl_check(item->plugins_len == 3, __FILE__, line, "%s: %zu plugins", names[i], item->plugins_len)) {
            for (size_t j = 0; j < 3; j++) {
                tl_check_str(item->plugins[j], plugins[j], __FILE__, line, "list item plugin");
            }
        }
    }
    nt_free_list(items, len);
}

/* A filters_args with one or two fields (name2 may be NULL). */
static struct filters_args *filters(const char *name1, const char *value1, const char *name2, const char *value2)
{
    struct filters_args *f = filters_args_new();
    CHECK(f != NULL);
    CHECK(filters_args_add(f, name1, value1));
    if (name2 != NULL) {
        CHECK(filters_args_add(f, name2, value2));
    }
    return f;
}

static void list_filters_and_exist(void)
{
    char *conf = tl_asprintf("%s/list", g_env.root);
    if (!CHECK(mkdir(conf, 0755) == 0) || !nt_init(&g_env, conf)) {
        free(conf);
        return;
    }
    static const char *const all[] = { "abc", "abd", "xyz" };
    static const char *const ab[] = { "abc", "abd" };
    static const char *const xyz[] = { "xyz" };
    check_list(NULL, NULL, 0, __LINE__);
    CHECK(!network_module_ready(NT_NATIVE));
    /* Created out of order: the list is in name order. */
    nt_create_ok("xyz", "10.250.13.0/24", __LINE__);
    nt_create_ok("abd", "10.250.12.0/24", __LINE__);
    nt_create_ok("abc", "10.250.11.0/24", __LINE__);
    for (size_t i = 0; i < 3; i++) {
        free(created_text(conf, all[i], __LINE__));
    }
    CHECK(network_module_ready(NT_NATIVE));

    check_list(NULL, all, 3, __LINE__);
    struct filters_args *f = filters("name", "^ab", NULL, NULL);
    check_list(f, ab, 2, __LINE__);
    filters_args_free(f);
    f = filters("plugin", "portmap", NULL, NULL);
    check_list(f, all, 3, __LINE__);
    filters_args_free(f);
    f = filters("name", "^ab", "plugin", "portmap");
    check_list(f, ab, 2, __LINE__);
    filters_args_free(f);
    f = filters("name", "xyz", NULL, NULL);
    check_list(f, xyz, 1, __LINE__);
    filters_args_free(f);
    f = filters("plugin", "dnsname", NULL, NULL);
    check_list(f, NULL, 0, __LINE__);
    filters_args_free(f);
    f = filters("name", "^ab", "plugin", "dnsname");
    check_list(f, NULL, 0, __LINE__);
    filters_args_free(f);
    /* An empty filters_args filters nothing, like NULL. */
    f = filters_args_new();
    check_list(f, all, 3, __LINE__);
    filters_args_free(f);

    CHECK_EQ_INT(network_module_exist(NT_NATIVE, "abc"), 1);
    CHECK_EQ_INT(network_module_exist(NT_NATIVE, "xyz"), 1);
    CHECK_EQ_INT(network_module_exist(NT_NATIVE, "ab"), 0);
    CHECK_EQ_INT(network_module_exist(NT_NATIVE, "nope"), 0);

    for (size_t i = 0; i < 3; i++) {
        rm_and_check_gone(conf, all[i], __LINE__);
    }
    check_list(NULL, NULL, 0, __LINE__);
    CHECK(!network_module_ready(NT_NATIVE));
    network_module_exit();
    free(conf);
}

/* A "cri" conflist whose SECOND range set is 10.250.7.0/24 (the first takes 192.168.<first>.0/24)
 * and the iSulad-written fixture are in the conf dir before init. */
static void cri_conflicts_and_fixture(void)
{
    char *conf = tl_asprintf("%s/cri", g_env.root);
    int first = free_192_168(-1);
    int second = free_192_168(first);
    if (!CHECK(mkdir(conf, 0755) == 0) || !CHECK(first >= 0 && second >= 0)) {
        free(conf);
        return;
    }
    char *cri_path = tl_asprintf("%s/10-cri-net.conflist", conf);
    char *cri = tl_asprintf("{\"cniVersion\": \"1.0.0\", \"name\": \"cri-net\", \"plugins\": [{\"type\": \"bridge\", "
                            "\"bridge\": \"clibcni-cri0\", \"ipam\": {\"type\": \"host-local\", \"ranges\": "
                            "[[{\"subnet\": \"192.168.%d.0/24\"}], [{\"subnet\": \"10.250.7.0/24\"}]]}}]}\n",
                            first);
    CHECK(tl_write_file(cri_path, cri) == 0);
    nt_install_fixture(FIXTURE, conf);
    if (!nt_init(&g_env, conf)) {
        goto out;
    }

    /* The fixture is loaded (the cri conflist is not a native network). */
    static const char *const fixture_only[] = { FIXTURE_NET };
    check_list(NULL, fixture_only, 1, __LINE__);
    CHECK_EQ_INT(network_module_exist(NT_NATIVE, FIXTURE_NET), 1);
    CHECK_EQ_INT(network_module_exist(NT_NATIVE, "cri-net"), 0);
    char *fixture_path = tl_asprintf("%s/" FIXTURE, conf);
    char *fixture_text = tl_read_file(fixture_path);
    char *inspected = inspect_ok(FIXTURE_NET, __LINE__);
    CHECK_EQ_STR(inspected, fixture_text);
    if (fixture_text != NULL) {
        remember_bridge(fixture_text);
    }
    free(inspected);

    struct nt_req r = { .name = "conflict", .subnet = "10.250.7.0/24" };
    nt_create_fails(&r, "Subnet \"10.250.7.0/24\" conflict with CNI config or host network", NT_ERR_INPUT, __LINE__);
    r.subnet = "10.250.7.77/25";
    nt_create_fails(&r, "Subnet \"10.250.7.0/25\" conflict with CNI config or host network", NT_ERR_INPUT, __LINE__);
    r.subnet = "10.250.0.0/16";
    nt_create_fails(&r, "Subnet \"10.250.0.0/16\" conflict with CNI config or host network", NT_ERR_INPUT, __LINE__);
    r.subnet = "10.250.9.128/25"; /* inside the fixture network's subnet */
    nt_create_fails(&r, "Subnet \"10.250.9.128/25\" conflict with CNI config or host network", NT_ERR_INPUT, __LINE__);
    char *cri_first = tl_asprintf("192.168.%d.0/24", first);
    char *message = tl_asprintf("Subnet \"%s\" conflict with CNI config or host network", cri_first);
    r.subnet = cri_first;
    nt_create_fails(&r, message, NT_ERR_INPUT, __LINE__);
    free(message);
    r.subnet = "127.0.0.0/8"; /* holds the host address 127.0.0.1 */
    nt_create_fails(&r, "Subnet \"127.0.0.0/8\" conflict with CNI config or host network", NT_ERR_INPUT, __LINE__);
    CHECK_EQ_INT(network_module_exist(NT_NATIVE, "conflict"), 0);

    /* Automatic allocation skips the cri conflist's subnet and the fixture's bridge. */
    char *bridge = first_free_bridge(FIXTURE_BRIDGE_INDEX);
    char *subnet = tl_asprintf("192.168.%d.0/24", second);
    char *gateway = tl_asprintf("192.168.%d.1", second);
    struct nt_req unnamed = { 0 };
    char *name = NULL;
    CHECK_EQ_INT(nt_create(&unnamed, &name, NULL), 0);
    CHECK_EQ_STR(name, bridge);
    if (name != NULL) {
        char *text = created_text(conf, name, __LINE__);
        char *expected = expected_conflist(name, bridge, subnet, gateway);
        CHECK_EQ_STR(text, expected);
        free(expected);
        free(text);
        rm_and_check_gone(conf, name, __LINE__);
    }
    free(name);
    free(bridge);
    free(subnet);
    free(gateway);

    /* The fixture goes like any native network: its file is removed. */
    rm_and_check_gone(conf, FIXTURE_NET, __LINE__);
    CHECK(!nt_file_exists(fixture_path));
    CHECK(nt_file_exists(cri_path));
    check_list(NULL, NULL, 0, __LINE__);
    network_module_exit();
    free(cri_first);
    free(fixture_text);
    free(fixture_path);
out:
    free(cri);
    free(cri_path);
    free(conf);
}

/* Subnets reduced to their network address, IPv6, internal, explicit gateway and driver. */
static void request_variants(void)
{
    char *conf = tl_asprintf("%s/variants", g_env.root);
    if (!CHECK(mkdir(conf, 0755) == 0) || !nt_init(&g_env, conf)) {
        free(conf);
        return;
    }
    nt_create_ok("reduced", "192.172.58.156/24", __LINE__);
    char *text = created_text(conf, "reduced", __LINE__);
    CHECK(text != NULL && strstr(text, "\"subnet\": \"192.172.58.0/24\"") != NULL);
    CHECK(text != NULL && strstr(text, "\"gateway\": \"192.172.58.1\"") != NULL);
    free(text);

    nt_create_ok("v6", "fff0:3::3/64", __LINE__);
    text = created_text(conf, "v6", __LINE__);
    CHECK(text != NULL && strstr(text, "\"subnet\": \"fff0:3::/64\"") != NULL);
    CHECK(text != NULL && strstr(text, "\"gateway\": \"fff0:3::1\"") != NULL);
    CHECK(text != NULL && strstr(text, "\"dst\": \"::/0\"") != NULL);
    free(text);

    struct nt_req internal = { .name = "internal", .subnet = "10.250.14.0/24", .internal = true };
    CHECK_EQ_INT(nt_create(&internal, NULL, NULL), 0);
    text = created_text(conf, "internal", __LINE__);
    CHECK(text != NULL && strstr(text, "isGateway") == NULL);
    CHECK(text != NULL && strstr(text, "ipMasq") == NULL);
    CHECK(text != NULL && strstr(text, "\"hairpinMode\": true") != NULL);
    CHECK(text != NULL && strstr(text, "\"gateway\": \"10.250.14.1\"") != NULL);
    free(text);

    struct nt_req gw = { .name = "gw", .subnet = "10.250.15.0/24", .gateway = "10.250.15.254", .driver = "bridge" };
    CHECK_EQ_INT(nt_create(&gw, NULL, NULL), 0);
    text = created_text(conf, "gw", __LINE__);
    CHECK(text != NULL && strstr(text, "\"gateway\": \"10.250.15.254\"") != NULL);
    CHECK(text != NULL && strstr(text, "\"isGateway\": true") != NULL);
    free(text);

    static const char *const names[] = { "reduced", "v6", "internal", "gw" };
    for (size_t i = 0; i < 4; i++) {
        rm_and_check_gone(conf, names[i], __LINE__);
    }
    network_module_exit();
    free(conf);
}

/* Without firewall in the bin dir, create succeeds, configures it anyway and warns. */
static void missing_plugin(void)
{
    struct tl_env env;
    if (!nt_env_init(&env, "native-nofw", false)) {
        tl_env_free(&env);
        return;
    }
    const char *conf = env.conf;
    if (nt_init(&env, conf)) {
        char *name = NULL;
        struct nt_req r = { .name = "nofw", .subnet = "10.250.16.0/24" };
        CHECK_EQ_INT(nt_create(&r, &name, NULL), 0);
        CHECK_EQ_STR(name, "nofw");
        char *warning = tl_asprintf("WARN:cannot find cni plugin \"firewall\" in dir \"%s\"", env.bin);
        CHECK_EQ_STR(tl_errmsg(), warning);
        free(warning);
        char *text = created_text(conf, "nofw", __LINE__);
        CHECK(text != NULL && strstr(text, "\"type\": \"firewall\"") != NULL);
        free(text);
        free(name);
        rm_and_check_gone(conf, "nofw", __LINE__);
        network_module_exit();
    }
    tl_env_free(&env);
}

static void error_strings(void)
{
    char *conf = tl_asprintf("%s/errors", g_env.root);
    if (!CHECK(mkdir(conf, 0755) == 0) || !nt_init(&g_env, conf)) {
        free(conf);
        return;
    }
    nt_create_ok("taken", "10.250.17.0/24", __LINE__);
    free(created_text(conf, "taken", __LINE__));

    struct nt_req r = { .name = "macv", .driver = "macvlan" };
    nt_create_fails(&r, "Cannot support driver: macvlan", NT_ERR_INPUT, __LINE__);
    r = (struct nt_req){ .name = "taken", .subnet = "10.250.18.0/24" };
    nt_create_fails(&r, "Network name \"taken\" has been used", NT_ERR_INPUT, __LINE__);
    r = (struct nt_req){ .name = "gwonly", .gateway = "10.250.18.1" };
    nt_create_fails(&r, "Cannot specify gateway without subnet", NT_ERR_INPUT, __LINE__);
    r = (struct nt_req){ .name = "badsub", .subnet = "10.250.18.0/33" };
    nt_create_fails(&r, "Invalid subnet 10.250.18.0/33", NT_ERR_INPUT, __LINE__);
    r.subnet = "nonsense";
    nt_create_fails(&r, "Invalid subnet nonsense", NT_ERR_INPUT, __LINE__);
    r = (struct nt_req){ .name = "badgw", .subnet = "10.250.18.0/24", .gateway = "x" };
    nt_create_fails(&r, "Invalid gateway x", NT_ERR_INPUT, __LINE__);
    r.gateway = "10.250.19.1";
    nt_create_fails(&r, "subnet \"10.250.18.0/24\" and gateway \"10.250.19.1\" not match", NT_ERR_INPUT, __LINE__);
    r.gateway = "10.250.18.0";
    nt_create_fails(&r, "subnet \"10.250.18.0/24\" and gateway \"10.250.18.0\" not match", NT_ERR_INPUT, __LINE__);
    r.gateway = "10.250.18.255";
    nt_create_fails(&r, "subnet \"10.250.18.0/24\" and gateway \"10.250.18.255\" not match", NT_ERR_INPUT, __LINE__);
    r = (struct nt_req){ .name = "host", .subnet = "10.250.18.3/32" };
    nt_create_fails(&r, "No avaliable gateway in 10.250.18.3/32", NT_ERR_EXEC, __LINE__);
    r = (struct nt_req){ .name = "-bad", .subnet = "10.250.18.0/24" };
    nt_create_fails(&r, "Invalid network name -bad", NT_ERR_INPUT, __LINE__);
    r.name = "a/b";
    nt_create_fails(&r, "Invalid network name a/b", NT_ERR_INPUT, __LINE__);
    char long_name[202];
    memset(long_name, 'n', 201);
    long_name[201] = '\0';
    char *message = tl_asprintf("Invalid network name %s", long_name);
    r.name = long_name;
    nt_create_fails(&r, message, NT_ERR_INPUT, __LINE__);
    free(message);
    long_name[200] = '\0'; /* 200 characters are fine */
    nt_create_ok(long_name, "10.250.18.0/24", __LINE__);
    free(created_text(conf, long_name, __LINE__));
    rm_and_check_gone(conf, long_name, __LINE__);

    CHECK_EQ_INT(network_module_exist(NT_NATIVE, "macv"), 0);
    CHECK_EQ_INT(network_module_exist(NT_NATIVE, "badgw"), 0);
    inspect_fails("nope", __LINE__);
    nt_rm_fails("nope", "Cannot find network nope", __LINE__);
    rm_and_check_gone(conf, "taken", __LINE__);
    nt_rm_fails("taken", "Cannot find network taken", __LINE__);
    network_module_exit();
    free(conf);
}

int main(void)
{
    require_root();
    if (nt_env_init(&g_env, "native-create", true)) {
        auto_network_and_modes(077);
        auto_network_and_modes(000);
        list_filters_and_exist();
        cri_conflicts_and_fixture();
        request_variants();
        missing_plugin();
        error_strings();
    }
    for (size_t i = 0; i < g_bridges_len; i++) {
        CHECKF(!nt_link_exists(g_bridges[i]), "bridge %s is left", g_bridges[i]);
        free(g_bridges[i]);
    }
    static const char *const subnets[] = { "10.250.7.", "10.250.9.", "10.250.11.", "10.250.12.", "10.250.13.",
                                           "10.250.14.", "10.250.15.", "10.250.16.", "10.250.17.", "10.250.18.",
                                           "fff0:3:", NULL };
    nt_check_no_rules(subnets, __LINE__);
    tl_env_free(&g_env);
    return test_summary("test_native_create");
}
