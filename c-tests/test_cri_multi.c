/*
 * CRI pods on several networks (real bridge + host-local plugins): the default network (first
 * conf file by path) on eth0 plus an extra network on eth1; an extra network on eth0 replacing
 * the default one; unknown extra networks and the default network named as an extra are refused.
 *
 * Subnets 10.232.1.0/24 (default, 10-a.conflist) and 10.232.2.0/24 (20-b.conflist), bridges
 * ccrim<pid%1000>a/b.
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isulad_host.h"
#include "network_api.h"
#include "testlib.h"

#define CRI NETWOKR_API_TYPE_CRI
#define NET_A "ccri-multi-a"
#define NET_B "ccri-multi-b"
#define SUBNET_A "10.232.1."
#define SUBNET_B "10.232.2."
#define CONFLICT "User defined network is in conflict with default network: "

/* One result item is the network on that interface with one address of the subnet. */
static void check_item(const network_api_result *r, const char *name, const char *ifname, const char *subnet)
{
    CHECK_EQ_STR(r->name, name);
    CHECK_EQ_STR(r->interface, ifname);
    if (CHECK_EQ_INT(r->ips_len, 1)) {
        CHECKF(strncmp(r->ips[0], subnet, strlen(subnet)) == 0 && strstr(r->ips[0], "/24") != NULL,
               "%s: ips[0] %s not in %s0/24", name, r->ips[0], subnet);
        char *gateway = tl_asprintf("%s1", subnet);
        CHECK_EQ_STR(r->gateway[0], gateway);
        free(gateway);
    }
    CHECK(r->mac != NULL && strlen(r->mac) == 17);
}

/* The address (with prefix) is configured on ifname inside the namespace. */
static void address_present(const char *netns, const char *ifname, const char *cidr)
{
    char *out = NULL;
    int rc = tl_run(&out, "ip -n '%s' -4 -o addr show dev '%s'", tl_netns_name(netns), ifname);
    char *inet = tl_asprintf("inet %s ", cidr);
    CHECKF(rc == 0 && out != NULL && strstr(out, inet) != NULL, "%s not on %s in %s: %s", cidr, ifname, netns,
           out ? out : "");
    free(inet);
    free(out);
}

static bool link_absent(const char *netns, const char *ifname)
{
    return tl_run(NULL, "ip -n '%s' link show '%s'", tl_netns_name(netns), ifname) != 0;
}

/* host-local keeps one file per reserved address in <dataDir>/<network>/. */
static bool no_reservation(const struct tl_cri *e, const char *net)
{
    char *out = NULL;
    tl_run(&out, "ls -A '%s/%s' 2>/dev/null | grep '^10\\.' || true", e->dirs.ipam, net);
    bool none = out == NULL || out[0] == '\0';
    CHECKF(none, "host-local reservations left in %s: %s", net, out ? out : "");
    free(out);
    return none;
}

/* Default network on eth0 + extra on eth1: two results, extra first. */
static void default_and_extra(const struct tl_cri *e, const char *netns, const char *id)
{
    network_api_conf *conf = tl_pod_conf(id, netns, "pod", "default", false);
    tl_conf_add_extra(conf, NET_B, "eth1");
    network_api_result_list *result = NULL;
    tl_clear_errmsg();
    int rc = network_module_attach(conf, CRI, &result);
    CHECKF(rc == 0, "attach default+extra: %s", tl_errmsg_text());
    if (rc == 0 && CHECK(result != NULL) && CHECK_EQ_INT(result->len, 2)) {
        check_item(result->items[0], NET_B, "eth1", SUBNET_B);
        check_item(result->items[1], NET_A, "eth0", SUBNET_A);
        if (result->items[0]->ips_len == 1 && result->items[1]->ips_len == 1) {
            address_present(netns, "eth1", result->items[0]->ips[0]);
            address_present(netns, "eth0", result->items[1]->ips[0]);
        }
    }
    free_network_api_result_list(result);
    CHECK(tl_cache_exists(e->dirs.cache, NET_A, id, "eth0"));
    CHECK(tl_cache_exists(e->dirs.cache, NET_B, id, "eth1"));

    tl_detach_ok(conf, CRI, true, TL_HERE);
    CHECKF(link_absent(netns, "eth0"), "eth0 left in %s", netns);
    CHECKF(link_absent(netns, "eth1"), "eth1 left in %s", netns);
    CHECK(!tl_cache_exists(e->dirs.cache, NET_A, id, "eth0"));
    CHECK(!tl_cache_exists(e->dirs.cache, NET_B, id, "eth1"));
    no_reservation(e, NET_A);
    no_reservation(e, NET_B);
    free_network_api_conf(conf);
}

/* An extra network on the default interface replaces the default network. */
static void extra_replaces_default(const struct tl_cri *e, const char *netns, const char *id)
{
    network_api_conf *conf = tl_pod_conf(id, netns, "pod", "default", false);
    tl_conf_add_extra(conf, NET_B, "eth0");
    network_api_result_list *result = NULL;
    tl_clear_errmsg();
    int rc = network_module_attach(conf, CRI, &result);
    CHECKF(rc == 0, "attach extra on eth0: %s", tl_errmsg_text());
    if (rc == 0 && CHECK(result != NULL) && CHECK_EQ_INT(result->len, 1)) {
        check_item(result->items[0], NET_B, "eth0", SUBNET_B);
        if (result->items[0]->ips_len == 1) {
            address_present(netns, "eth0", result->items[0]->ips[0]);
        }
    }
    free_network_api_result_list(result);
    CHECK(!tl_cache_exists(e->dirs.cache, NET_A, id, "eth0"));
    CHECK(tl_cache_exists(e->dirs.cache, NET_B, id, "eth0"));

    tl_detach_ok(conf, CRI, true, TL_HERE);
    CHECKF(link_absent(netns, "eth0"), "eth0 left in %s", netns);
    CHECK(!tl_cache_exists(e->dirs.cache, NET_B, id, "eth0"));
    no_reservation(e, NET_B);
    free_network_api_conf(conf);
}

/* An extra network that is unknown or is the default network: -1 with iSulad's message, nothing attached. */
static void conflicting_extra(const struct tl_cri *e, const char *netns, const char *id, const char *extra)
{
    network_api_conf *conf = tl_pod_conf(id, netns, "pod", "default", false);
    tl_conf_add_extra(conf, extra, "eth1");
    network_api_result_list *result = (network_api_result_list *)conf; /* any non-NULL value */
    tl_clear_errmsg();
    CHECK_EQ_INT(network_module_attach(conf, CRI, &result), -1);
    CHECK(result == NULL);
    char *expected = tl_asprintf(CONFLICT "%s", extra);
    CHECK_EQ_STR(tl_errmsg(), expected);
    CHECK_EQ_STR(network_module_last_error(), expected);
    free(expected);
    CHECKF(link_absent(netns, "eth0"), "%s: eth0 attached although the request was refused", extra);
    CHECK(!tl_cache_exists(e->dirs.cache, NET_A, id, "eth0"));
    tl_detach_ok(conf, CRI, true, TL_HERE);
    free_network_api_conf(conf);
}

int main(void)
{
    require_root();
    static const char *const plugins[] = { "bridge", "host-local", "loopback", NULL };
    struct tl_cri e;
    if (tl_cri_begin(&e, "cri-multi", plugins, false, "ccrim", TL_HERE) &&
        tl_cri_write_bridge_conflist(&e, "10-a.conflist", NET_A, 0, SUBNET_A, "", TL_HERE) &&
        tl_cri_write_bridge_conflist(&e, "20-b.conflist", NET_B, 1, SUBNET_B, "", TL_HERE) &&
        tl_cri_init(&e, TL_HERE)) {
        char ids[4][TL_ID_LEN];
        tl_make_ids(ids, 4, "ccrimulti");
        default_and_extra(&e, e.netns, ids[0]);
        extra_replaces_default(&e, e.netns, ids[1]);
        conflicting_extra(&e, e.netns, ids[2], "ccri-multi-nosuch");
        conflicting_extra(&e, e.netns, ids[3], NET_A);
    }
    tl_cri_end(&e, TL_HERE);
    return test_summary("test_cri_multi");
}
