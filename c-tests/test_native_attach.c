/*
 * Containers on native networks with the real plugins, as iSulad's native path drives them:
 * two containers on one network reach each other directly and through a mapped host port on
 * the gateway address, rm is refused while containers are attached, detach removes the DNAT and
 * firewall rules, rm removes the bridge; a container on two networks; an unknown network; the
 * restore list (container_list_add); a network file written by iSulad itself.
 */
// ctest: RUN_SERIAL
#define _GNU_SOURCE

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fixtures/native-helpers.h"

#define FIXTURE "isulacni-isulad-written.conflist"
#define FIXTURE_NET "isuladwritten"
#define HOST_LOCAL_DIR "/var/lib/cni/networks"
#define SERVER_PORT 8080

static struct tl_env g_env;

/* Bridge names of every network this test made or loaded; none may exist as a link at the end. */
static char *g_bridges[16];
static size_t g_bridges_len;

/* Item i names the network and interface and has one address "<prefix>N/24" with gateway
 * "<prefix>1", and a MAC. Returns the address without its prefix length (malloc'd) or NULL. */
static char *check_item(const network_api_result_list *result, size_t i, const char *net, const char *ifname,
                        const char *prefix, int line)
{
    if (result == NULL || i >= result->len || !tl_check(result->items[i] != NULL, __FILE__, line, "item %zu", i)) {
        return NULL;
    }
    const struct network_api_result *item = result->items[i];
    tl_check_str(item->name, net, __FILE__, line, "item name");
    tl_check_str(item->interface, ifname, __FILE__, line, "item interface");
    tl_check(item->mac != NULL && strlen(item->mac) == 17, __FILE__, line, "item mac: %s", item->mac ? item->mac : "NULL");
    if (!tl_check(item->ips_len == 1 && item->ips != NULL && item->gateway != NULL, __FILE__, line, "%s: %zu addresses",
                  net, item->ips_len)) {
        return NULL;
    }
    const char *ip = item->ips[0];
    size_t len = ip != NULL ? strlen(ip) : 0;
    bool in_subnet = ip != NULL && strncmp(ip, prefix, strlen(prefix)) == 0 && len > 3 && strcmp(ip + len - 3, "/24") == 0;
    tl_check(in_subnet, __FILE__, line, "%s: address %s is not in %s0/24", net, ip ? ip : "NULL", prefix);
    char *gateway = tl_asprintf("%s1", prefix);
    tl_check_str(item->gateway[0], gateway, __FILE__, line, "item gateway");
    free(gateway);
    return in_subnet ? tl_asprintf("%.*s", (int)(len - 3), ip) : NULL;
}

/* Creates a network with an explicit subnet and remembers its bridge. */
static bool create_net(const char *name, const char *subnet)
{
    if (!nt_create_ok(name, subnet, __LINE__)) {
        return false;
    }
    char *json = NULL;
    if (CHECK_EQ_INT(network_module_conf_inspect(NT_NATIVE, name, &json), 0)) {
        char *bridge = nt_json_string(json, "bridge");
        if (CHECK(bridge != NULL) && CHECK(g_bridges_len < sizeof(g_bridges) / sizeof(g_bridges[0]))) {
            g_bridges[g_bridges_len++] = bridge;
        } else {
            free(bridge);
        }
    }
    free(json);
    return true;
}

/* The bridge of a network, as remembered by create_net (not owned). */
static const char *bridge_of(const char *name)
{
    char *json = NULL;
    const char *found = NULL;
    if (network_module_conf_inspect(NT_NATIVE, name, &json) == 0) {
        char *bridge = nt_json_string(json, "bridge");
        for (size_t i = 0; bridge != NULL && i < g_bridges_len; i++) {
            if (strcmp(g_bridges[i], bridge) == 0) {
                found = g_bridges[i];
            }
        }
        free(bridge);
    }
    free(json);
    return found;
}

/* rm succeeds, and the file, the bridge and host-local's state directory go with it. */
static void rm_network(const char *name, const char *bridge, int line)
{
    char *path = nt_conflist_path(g_env.conf, name);
    char *ipam = tl_asprintf(HOST_LOCAL_DIR "/%s", name);
    nt_rm_ok(name, line);
    tl_check(!nt_file_exists(path), __FILE__, line, "%s is left after rm", path);
    tl_check(bridge != NULL && !nt_link_exists(bridge), __FILE__, line, "bridge %s is left after rm", bridge ? bridge : "?");
    tl_check(!nt_file_exists(ipam), __FILE__, line, "%s is left after rm", ipam);
    free(ipam);
    free(path);
}

/* A TCP server in the container's netns answering "hello" on SERVER_PORT to every connection
 * (for 60 s at most); returns its pid once it listens, or -1. */
static long start_server(const struct nt_container *c)
{
    char *script = tl_asprintf("%s/server.py", g_env.root);
    char *ready = tl_asprintf("%s/server.pid", g_env.root);
    char *code = tl_asprintf("import os, socket, sys\n"
                             "s = socket.socket()\n"
                             "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
                             "s.bind(('0.0.0.0', %d))\n"
                             "s.listen(8)\n"
                             "s.settimeout(60)\n"
                             "with open(sys.argv[1] + '.tmp', 'w') as f:\n"
                             "    f.write(str(os.getpid()))\n"
                             "os.rename(sys.argv[1] + '.tmp', sys.argv[1])\n"
                             "while True:\n"
                             "    conn, _ = s.accept()\n"
                             "    conn.sendall(b'hello')\n"
                             "    conn.close()\n",
                             SERVER_PORT);
    long pid = -1;
    CHECK(tl_write_file(script, code) == 0);
    CHECK(tl_run(NULL, "ip netns exec %s python3 %s %s >%s.log 2>&1 &", c->nsname, script, ready, ready) == 0);
    for (int i = 0; i < 200 && pid < 0; i++) { /* 10 s */
        char *text = tl_read_file(ready);
        if (text != NULL) {
            pid = atol(text);
            free(text);
        } else {
            struct timespec ts = { 0, 50 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    CHECKF(pid > 0, "the server in %s did not start", c->nsname);
    free(code);
    free(ready);
    free(script);
    return pid;
}

/* What a client in the container's netns reads from host:port. */
static char *fetch(const struct nt_container *c, const char *host, int port)
{
    char *out = NULL;
    int rc = tl_run(&out,
                    "ip netns exec %s python3 -c 'import socket, sys; "
                    "s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5); "
                    "print(s.recv(16).decode())' %s %d",
                    c->nsname, host, port);
    CHECKF(rc == 0, "connecting from %s to %s:%d failed (%d): %s", c->nsname, host, port, rc, out ? out : "");
    return out;
}

static bool rules_mention(const char *text)
{
    char *rules = NULL;
    bool found = tl_run(&rules, "iptables-save") == 0 && rules != NULL && strstr(rules, text) != NULL;
    free(rules);
    return found;
}

static void two_containers_one_network(void)
{
    static const char *const net = "native-att1";
    if (!create_net(net, "10.250.1.0/24")) {
        return;
    }
    const char *bridge = bridge_of(net);
    struct nt_container a;
    struct nt_container b;
    bool ok = nt_container_new(&a, "nata", 1);
    ok = nt_container_new(&b, "natb", 2) && ok;
    int port = tl_free_port();
    CHECK(port > 0);
    char *ports = tl_asprintf("[{\"hostPort\":%d,\"containerPort\":%d,\"protocol\":\"tcp\"}]", port, SERVER_PORT);
    const char *const nets[] = { net, "eth0", NULL };
    network_api_conf *conf_a = nt_native_conf(&a, nets, ports);
    network_api_conf *conf_b = nt_native_conf(&b, nets, NULL);
    network_api_result_list *ra = ok ? nt_attach_ok(conf_a, 1, __LINE__) : NULL;
    network_api_result_list *rb = ok ? nt_attach_ok(conf_b, 1, __LINE__) : NULL;
    char *ip_a = check_item(ra, 0, net, "eth0", "10.250.1.", __LINE__);
    char *ip_b = check_item(rb, 0, net, "eth0", "10.250.1.", __LINE__);
    CHECK(bridge != NULL && nt_link_exists(bridge));

    if (ip_a != NULL && ip_b != NULL) {
        CHECK(strcmp(ip_a, ip_b) != 0);
        CHECK_EQ_INT(tl_run(NULL, "ip netns exec %s ping -c1 -W2 %s", a.nsname, ip_b), 0);
        CHECK_EQ_INT(tl_run(NULL, "ip netns exec %s ping -c1 -W2 %s", b.nsname, ip_a), 0);

        long server = start_server(&a);
        if (server > 0) {
            char *direct = fetch(&b, ip_a, SERVER_PORT);
            CHECK_EQ_STR(direct, "hello\n");
            char *mapped = fetch(&b, "10.250.1.1", port);
            CHECK_EQ_STR(mapped, "hello\n");
            free(direct);
            free(mapped);
            CHECK(kill((pid_t)server, SIGTERM) == 0);
        }

        char *dport = tl_asprintf("--dport %d ", port);
        char *dnat = tl_asprintf("--to-destination %s:%d", ip_a, SERVER_PORT);
        char *fw_a = tl_asprintf("%s/32", ip_a);
        char *fw_b = tl_asprintf("%s/32", ip_b);
        CHECKF(rules_mention(dport) && rules_mention(dnat), "no DNAT rule for host port %d", port);
        CHECKF(rules_mention(fw_a) && rules_mention(fw_b), "no firewall rules for %s and %s", ip_a, ip_b);

        char *refused = tl_asprintf("network %s has connected containers", net);
        nt_rm_fails(net, refused, __LINE__);
        CHECK_EQ_INT(network_module_exist(NT_NATIVE, net), 1);
        tl_detach_ok(conf_a, NT_NATIVE, false, TL_HERE);
        nt_rm_fails(net, refused, __LINE__); /* b is still attached */
        tl_detach_ok(conf_b, NT_NATIVE, false, TL_HERE);
        free(refused);

        CHECKF(!rules_mention(dport) && !rules_mention(dnat), "the DNAT rule for host port %d is left", port);
        CHECKF(!rules_mention(fw_a), "firewall rules for %s are left", ip_a);
        CHECKF(!rules_mention(fw_b), "firewall rules for %s are left", ip_b);
        free(dport);
        free(dnat);
        free(fw_a);
        free(fw_b);
    } else {
        tl_detach_ok(conf_a, NT_NATIVE, false, TL_HERE);
        tl_detach_ok(conf_b, NT_NATIVE, false, TL_HERE);
    }
    rm_network(net, bridge, __LINE__);

    free(ip_a);
    free(ip_b);
    free_network_api_result_list(ra);
    free_network_api_result_list(rb);
    free_network_api_conf(conf_a);
    free_network_api_conf(conf_b);
    free(ports);
    nt_container_free(&a);
    nt_container_free(&b);
}

/* The address shown on an interface inside the container. */
static bool has_address(const struct nt_container *c, const char *ifname, const char *ip)
{
    char *out = NULL;
    int rc = tl_run(&out, "ip netns exec %s ip -o addr show dev %s", c->nsname, ifname);
    char *needle = tl_asprintf(" %s/24 ", ip);
    bool found = rc == 0 && out != NULL && strstr(out, needle) != NULL;
    free(needle);
    free(out);
    return found;
}

static void one_container_two_networks(void)
{
    if (!create_net("native-att2a", "10.250.2.0/24") || !create_net("native-att2b", "10.250.3.0/24")) {
        return;
    }
    const char *bridge_a = bridge_of("native-att2a");
    const char *bridge_b = bridge_of("native-att2b");
    struct nt_container c;
    bool ok = nt_container_new(&c, "natc", 3);
    const char *const nets[] = { "native-att2a", "eth0", "native-att2b", "eth1", NULL };
    network_api_conf *conf = nt_native_conf(&c, nets, NULL);
    network_api_result_list *result = ok ? nt_attach_ok(conf, 2, __LINE__) : NULL;
    char *ip0 = check_item(result, 0, "native-att2a", "eth0", "10.250.2.", __LINE__);
    char *ip1 = check_item(result, 1, "native-att2b", "eth1", "10.250.3.", __LINE__);
    CHECKF(ip0 != NULL && has_address(&c, "eth0", ip0), "eth0 lacks %s", ip0 ? ip0 : "its address");
    CHECKF(ip1 != NULL && has_address(&c, "eth1", ip1), "eth1 lacks %s", ip1 ? ip1 : "its address");
    nt_rm_fails("native-att2b", "network native-att2b has connected containers", __LINE__);
    tl_detach_ok(conf, NT_NATIVE, false, TL_HERE);
    if (ok) {
        CHECK(tl_run(NULL, "ip netns exec %s ip link show dev eth0", c.nsname) != 0);
        CHECK(tl_run(NULL, "ip netns exec %s ip link show dev eth1", c.nsname) != 0);
    }
    rm_network("native-att2a", bridge_a, __LINE__);
    rm_network("native-att2b", bridge_b, __LINE__);
    free(ip0);
    free(ip1);
    free_network_api_result_list(result);
    free_network_api_conf(conf);
    nt_container_free(&c);
}

static void unknown_network(void)
{
    struct nt_container d;
    if (!nt_container_new(&d, "natd", 4)) {
        nt_container_free(&d);
        return;
    }
    const char *const nets[] = { "nope", "eth0", NULL };
    network_api_conf *conf = nt_native_conf(&d, nets, NULL);
    network_api_result_list *result = (void *)conf; /* must be reset */
    tl_clear_errmsg();
    CHECK_EQ_INT(network_module_attach(conf, NT_NATIVE, &result), -1);
    CHECK(result == NULL);
    CHECK_EQ_STR(tl_errmsg(), "Cannot found net: nope");
    tl_detach_ok(conf, NT_NATIVE, false, TL_HERE); /* the caller's rollback */
    free_network_api_conf(conf);
    nt_container_free(&d);
}

/* A container recorded at daemon restore blocks rm until it is detached. */
static void restored_container(void)
{
    static const char *const net = "native-att4";
    if (!create_net(net, "10.250.4.0/24")) {
        return;
    }
    const char *bridge = bridge_of(net);
    struct nt_container r = { .id = strdup("restored0123456789"), .name = strdup("restored") };
    tl_clear_errmsg();
    CHECK_EQ_INT(network_module_container_list_add(NT_NATIVE, net, r.id), 0);
    CHECK_EQ_INT(network_module_container_list_add(NT_NATIVE, "nope", r.id), -1);
    CHECK_EQ_STR(tl_errmsg(), "Cannot found net: nope");
    nt_rm_fails(net, "network native-att4 has connected containers", __LINE__);
    const char *const nets[] = { net, "eth0", NULL };
    network_api_conf *conf = nt_native_conf(&r, nets, NULL); /* netns "": the container is gone */
    tl_detach_ok(conf, NT_NATIVE, false, TL_HERE);
    rm_network(net, bridge, __LINE__);
    free_network_api_conf(conf);
    nt_container_free(&r);
}

/* The network iSulad wrote (loaded from the conf dir at init) works like one made here. */
static void isulad_written_network(void)
{
    const char *bridge = bridge_of(FIXTURE_NET);
    CHECK_EQ_STR(bridge, "isula-br917");
    struct nt_container e;
    bool ok = nt_container_new(&e, "nate", 5);
    const char *const nets[] = { FIXTURE_NET, "eth0", NULL };
    network_api_conf *conf = nt_native_conf(&e, nets, NULL);
    network_api_result_list *result = ok ? nt_attach_ok(conf, 1, __LINE__) : NULL;
    char *ip = check_item(result, 0, FIXTURE_NET, "eth0", "10.250.9.", __LINE__);
    CHECK(ip != NULL && has_address(&e, "eth0", ip));
    CHECK(nt_link_exists("isula-br917"));
    if (ok) {
        CHECK_EQ_INT(tl_run(NULL, "ip netns exec %s ping -c1 -W2 10.250.9.1", e.nsname), 0);
    }
    tl_detach_ok(conf, NT_NATIVE, false, TL_HERE);
    rm_network(FIXTURE_NET, bridge, __LINE__);
    free(ip);
    free_network_api_result_list(result);
    free_network_api_conf(conf);
    nt_container_free(&e);
}

int main(void)
{
    require_root();
    if (nt_env_init(&g_env, "native-attach", true)) {
        if (nt_install_fixture(FIXTURE, g_env.conf) && nt_init(&g_env, g_env.conf)) {
            char *json = NULL;
            if (CHECK_EQ_INT(network_module_conf_inspect(NT_NATIVE, FIXTURE_NET, &json), 0)) {
                g_bridges[g_bridges_len++] = nt_json_string(json, "bridge");
            }
            free(json);
            two_containers_one_network();
            one_container_two_networks();
            unknown_network();
            restored_container();
            isulad_written_network();
            network_network_info **left = NULL;
            size_t left_len = 0;
            CHECK_EQ_INT(network_module_conf_list(NT_NATIVE, NULL, &left, &left_len), 0);
            CHECK_EQ_INT(left_len, 0);
            nt_free_list(left, left_len);
            network_module_exit();
        }
    }
    for (size_t i = 0; i < g_bridges_len; i++) {
        CHECKF(g_bridges[i] != NULL && !nt_link_exists(g_bridges[i]), "bridge %s is left", g_bridges[i]);
        free(g_bridges[i]);
    }
    static const char *const subnets[] = { "10.250.1.", "10.250.2.", "10.250.3.", "10.250.4.", "10.250.9.", NULL };
    nt_check_no_rules(subnets, __LINE__);
    tl_env_free(&g_env);
    return test_summary("test_native_attach");
}
