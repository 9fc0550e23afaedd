/*
 * CRI pods on several networks (real bridge + host-local plugins): the default network (first
 * conf file by path) on eth0 plus an extra network on eth1; an extra network on eth0 replacing
 * the default one; unknown extra networks and the default network named as an extra are refused.
 *
 * Subnets 10.232.1.0/24 (default, 10-a.conflist) and 10.232.2.0/24 (20-b.conflist), bridges
 * ccrim<pid%1000>a/b.
 */
#define _GNU_SOURCE

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isulad_host.h"
#include "network_api.h"
#include "testlib.h"

#define CRI NETWOKR_API_TYPE_CRI
#define NET_A "ccri-multi-a"
#define NET_B "ccri-multi-b"
#define SUBNET_A "10.232.1."
#define SUBNET_B "10.232.2."
#define CONFLICT "User defined network is in conflict with default network: "

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        abort();
    }
    return s;
}

static const char *netns_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash == NULL ? path : slash + 1;
}

static const char *errmsg(void)
{
    return tl_errmsg() == NULL ? "(no message)" : tl_errmsg();
}

struct env {
    char *root, *conf, *cache, *bin, *data;
    char br_a[16], br_b[16];
};

static char *bridge_conflist(const char *name, const char *bridge, const char *subnet, const char *data)
{
    return xasprintf("{\"cniVersion\":\"1.0.0\",\"name\":\"%s\",\"plugins\":["
                     "{\"type\":\"bridge\",\"bridge\":\"%s\",\"isGateway\":true,"
                     "\"ipam\":{\"type\":\"host-local\",\"dataDir\":\"%s\","
                     "\"ranges\":[[{\"subnet\":\"%s0/24\",\"gateway\":\"%s1\"}]]}}]}",
                     name, bridge, data, subnet, subnet);
}

static bool setup(struct env *e)
{
    e->root = tl_tmpdir("cri-multi");
    if (e->root == NULL) {
        return false;
    }
    e->conf = xasprintf("%s/conf", e->root);
    e->cache = xasprintf("%s/cache", e->root);
    e->bin = xasprintf("%s/bin", e->root);
    e->data = xasprintf("%s/ipam", e->root);
    snprintf(e->br_a, sizeof(e->br_a), "ccrim%lda", (long)getpid() % 1000);
    snprintf(e->br_b, sizeof(e->br_b), "ccrim%ldb", (long)getpid() % 1000);
    bool ok = CHECK_EQ_INT(tl_run(NULL, "mkdir -p '%s' '%s' '%s' '%s'", e->conf, e->cache, e->bin, e->data), 0);
    ok = CHECK_EQ_INT(tl_link_real_plugin(e->bin, "bridge"), 0) && ok;
    ok = CHECK_EQ_INT(tl_link_real_plugin(e->bin, "host-local"), 0) && ok;
    ok = CHECK_EQ_INT(tl_link_real_plugin(e->bin, "loopback"), 0) && ok;
    char *a = bridge_conflist(NET_A, e->br_a, SUBNET_A, e->data);
    char *b = bridge_conflist(NET_B, e->br_b, SUBNET_B, e->data);
    char *a_path = xasprintf("%s/10-a.conflist", e->conf);
    char *b_path = xasprintf("%s/20-b.conflist", e->conf);
    ok = CHECK_EQ_INT(tl_write_file(a_path, a), 0) && ok;
    ok = CHECK_EQ_INT(tl_write_file(b_path, b), 0) && ok;
    free(a);
    free(b);
    free(a_path);
    free(b_path);
    return ok;
}

static void teardown(struct env *e)
{
    tl_run(NULL, "ip link del '%s'", e->br_a);
    tl_run(NULL, "ip link del '%s'", e->br_b);
    CHECKF(tl_run(NULL, "ip link show '%s'", e->br_a) != 0, "bridge %s left behind", e->br_a);
    CHECKF(tl_run(NULL, "ip link show '%s'", e->br_b) != 0, "bridge %s left behind", e->br_b);
    free(e->conf);
    free(e->cache);
    free(e->bin);
    free(e->data);
    tl_rmtree(e->root);
    free(e->root);
}

static network_api_conf *pod_conf(const char *id, const char *netns)
{
    network_api_conf *conf = tl_conf_new(id, netns, "eth0");
    conf->name = strdup("pod");
    conf->ns = strdup("default");
    tl_conf_add_arg(conf, "IgnoreUnknown", "1");
    tl_conf_add_arg(conf, "K8S_POD_INFRA_CONTAINER_ID", id);
    return conf;
}

/* One result item is the network on that interface with one address of the subnet. */
static void check_item(const network_api_result *r, const char *name, const char *ifname, const char *subnet)
{
    CHECK_EQ_STR(r->name, name);
    CHECK_EQ_STR(r->interface, ifname);
    if (CHECK_EQ_INT(r->ips_len, 1)) {
        CHECKF(strncmp(r->ips[0], subnet, strlen(subnet)) == 0 && strstr(r->ips[0], "/24") != NULL,
               "%s: ips[0] %s not in %s0/24", name, r->ips[0], subnet);
        char *gateway = xasprintf("%s1", subnet);
        CHECK_EQ_STR(r->gateway[0], gateway);
        free(gateway);
    }
    CHECK(r->mac != NULL && strlen(r->mac) == 17);
}

/* The address (with prefix) is configured on ifname inside the namespace. */
static void address_present(const char *netns, const char *ifname, const char *cidr)
{
    char *out = NULL;
    int rc = tl_run(&out, "ip -n '%s' -4 -o addr show dev '%s'", netns_name(netns), ifname);
    char *inet = xasprintf("inet %s ", cidr);
    CHECKF(rc == 0 && out != NULL && strstr(out, inet) != NULL, "%s not on %s in %s: %s", cidr, ifname, netns,
           out ? out : "");
    free(inet);
    free(out);
}

static bool link_absent(const char *netns, const char *ifname)
{
    return tl_run(NULL, "ip -n '%s' link show '%s'", netns_name(netns), ifname) != 0;
}

static bool cache_absent(const struct env *e, const char *net, const char *id, const char *ifname)
{
    char *path = xasprintf("%s/results/%s-%s-%s", e->cache, net, id, ifname);
    bool absent = access(path, F_OK) != 0;
    free(path);
    return absent;
}

/* host-local keeps one file per reserved address in <dataDir>/<network>/. */
static bool no_reservation(const struct env *e, const char *net)
{
    char *out = NULL;
    tl_run(&out, "ls -A '%s/%s' 2>/dev/null | grep '^10\\.' || true", e->data, net);
    bool none = out == NULL || out[0] == '\0';
    CHECKF(none, "host-local reservations left in %s: %s", net, out ? out : "");
    free(out);
    return none;
}

static void detach_ok(network_api_conf *conf)
{
    tl_clear_errmsg();
    int rc = network_module_detach(conf, CRI);
    CHECKF(rc == 0, "detach %s: %s", conf->pod_id, errmsg());
    CHECK(tl_errmsg() == NULL);
}

/* Default network on eth0 + extra on eth1: two results, extra first. */
static void default_and_extra(const struct env *e, const char *netns, const char *id)
{
    network_api_conf *conf = pod_conf(id, netns);
    tl_conf_add_extra(conf, NET_B, "eth1");
    network_api_result_list *result = NULL;
    tl_clear_errmsg();
    int rc = network_module_attach(conf, CRI, &result);
    CHECKF(rc == 0, "attach default+extra: %s", errmsg());
    if (rc == 0 && CHECK(result != NULL) && CHECK_EQ_INT(result->len, 2)) {
        check_item(result->items[0], NET_B, "eth1", SUBNET_B);
        check_item(result->items[1], NET_A, "eth0", SUBNET_A);
        if (result->items[0]->ips_len == 1 && result->items[1]->ips_len == 1) {
            address_present(netns, "eth1", result->items[0]->ips[0]);
            address_present(netns, "eth0", result->items[1]->ips[0]);
        }
    }
    free_network_api_result_list(result);
    CHECK(!cache_absent(e, NET_A, id, "eth0"));
    CHECK(!cache_absent(e, NET_B, id, "eth1"));

    detach_ok(conf);
    CHECKF(link_absent(netns, "eth0"), "eth0 left in %s", netns);
    CHECKF(link_absent(netns, "eth1"), "eth1 left in %s", netns);
    CHECK(cache_absent(e, NET_A, id, "eth0"));
    CHECK(cache_absent(e, NET_B, id, "eth1"));
    no_reservation(e, NET_A);
    no_reservation(e, NET_B);
    free_network_api_conf(conf);
}

/* An extra network on the default interface replaces the default network. */
static void extra_replaces_default(const struct env *e, const char *netns, const char *id)
{
    network_api_conf *conf = pod_conf(id, netns);
    tl_conf_add_extra(conf, NET_B, "eth0");
    network_api_result_list *result = NULL;
    tl_clear_errmsg();
    int rc = network_module_attach(conf, CRI, &result);
    CHECKF(rc == 0, "attach extra on eth0: %s", errmsg());
    if (rc == 0 && CHECK(result != NULL) && CHECK_EQ_INT(result->len, 1)) {
        check_item(result->items[0], NET_B, "eth0", SUBNET_B);
        if (result->items[0]->ips_len == 1) {
            address_present(netns, "eth0", result->items[0]->ips[0]);
        }
    }
    free_network_api_result_list(result);
    CHECK(cache_absent(e, NET_A, id, "eth0"));
    CHECK(!cache_absent(e, NET_B, id, "eth0"));

    detach_ok(conf);
    CHECKF(link_absent(netns, "eth0"), "eth0 left in %s", netns);
    CHECK(cache_absent(e, NET_B, id, "eth0"));
    no_reservation(e, NET_B);
    free_network_api_conf(conf);
}

/* An extra network that is unknown or is the default network: -1 with iSulad's message, nothing attached. */
static void conflicting_extra(const struct env *e, const char *netns, const char *id, const char *extra)
{
    network_api_conf *conf = pod_conf(id, netns);
    tl_conf_add_extra(conf, extra, "eth1");
    network_api_result_list *result = (network_api_result_list *)conf; /* any non-NULL value */
    tl_clear_errmsg();
    CHECK_EQ_INT(network_module_attach(conf, CRI, &result), -1);
    CHECK(result == NULL);
    char *expected = xasprintf(CONFLICT "%s", extra);
    CHECK_EQ_STR(tl_errmsg(), expected);
    CHECK_EQ_STR(network_module_last_error(), expected);
    free(expected);
    CHECKF(link_absent(netns, "eth0"), "%s: eth0 attached although the request was refused", extra);
    CHECK(cache_absent(e, NET_A, id, "eth0"));
    detach_ok(conf);
    free_network_api_conf(conf);
}

int main(void)
{
    require_root();
    struct env e = { 0 };
    if (!setup(&e)) {
        teardown(&e);
        return test_summary("test_cri_multi");
    }
    char *netns = tl_netns_create("crimulti");
    char ids[4][64];
    for (int i = 0; i < 4; i++) {
        snprintf(ids[i], sizeof(ids[i]), "ccrimulti%d-%ld", i, (long)getpid());
    }
    if (CHECK(netns != NULL) && CHECK(network_module_init("cni", e.cache, e.conf, e.bin))) {
        default_and_extra(&e, netns, ids[0]);
        extra_replaces_default(&e, netns, ids[1]);
        conflicting_extra(&e, netns, ids[2], "ccri-multi-nosuch");
        conflicting_extra(&e, netns, ids[3], NET_A);
        char *left = NULL;
        tl_run(&left, "ls -A '%s/results' 2>/dev/null", e.cache);
        CHECKF(left == NULL || left[0] == '\0', "cache files left: %s", left ? left : "");
        free(left);
        network_module_exit();
    }
    if (netns != NULL) {
        tl_netns_delete(netns);
    }
    free(netns);
    teardown(&e);
    return test_summary("test_cri_multi");
}
