/*
 * The legacy clibcni 2.1.0 API with the real plugins: a bridge (host-local IPAM) + loopback
 * conflist added to a fresh network namespace with cni_add_network_list returns the container's
 * address in struct result and configures it inside the namespace; cni_del_network_list removes
 * the veth pair and releases the address. Needs root and the distribution's CNI plugins.
 */
// ctest: RUN_SERIAL
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "legacy/legacy-helpers.h"

static char *g_bridge;

static void remove_bridge(void)
{
    if (g_bridge != NULL) {
        tl_run(NULL, "ip link del %s 2>/dev/null", g_bridge);
        free(g_bridge);
        g_bridge = NULL;
    }
}

/* The address of ipconfig i as "a.b.c.d/n", malloc'd. */
static char *address_text(const struct result *r, size_t i)
{
    char *err = NULL;
    char *text = ipnet_to_string(r->ips[i]->address, &err);
    free(err);
    return text;
}

int main(void)
{
    require_root();
    int n = (int)(getpid() % 200) + 20;
    char *cache = tl_tmpdir("legacy-real-cache");
    char *data = tl_tmpdir("legacy-real-ipam");
    char *bin = tl_tmpdir("legacy-real-bin");
    if (cache == NULL || data == NULL || bin == NULL) {
        fprintf(stderr, "test_legacy_bridge: cannot set up temp dirs\n");
        return 1;
    }
    /* Before any thread exists. */
    setenv("CLIBCNI_CACHE_DIR", cache, 1);
    const char *plugins[] = { "bridge", "host-local", "loopback" };
    for (size_t i = 0; i < 3; i++) {
        if (tl_link_real_plugin(bin, plugins[i]) != 0) {
            fprintf(stderr, "test_legacy_bridge: no real %s plugin\n", plugins[i]);
            return 1;
        }
    }
    g_bridge = tl_asprintf("cnilg%d", n);
    atexit(remove_bridge);

    char *conflist = tl_asprintf("{\"cniVersion\":\"0.3.1\",\"name\":\"legacy-real\",\"plugins\":["
                                 "{\"type\":\"bridge\",\"bridge\":\"%s\",\"isGateway\":true,\"ipMasq\":false,"
                                 "\"ipam\":{\"type\":\"host-local\",\"dataDir\":\"%s\",\"subnet\":\"10.249.%d.0/24\","
                                 "\"routes\":[{\"dst\":\"0.0.0.0/0\"}]}},"
                                 "{\"type\":\"loopback\"}]}",
                                 g_bridge, data, n);
    char *netns = tl_netns_create("legacy");
    if (!CHECK(netns != NULL)) {
        return test_summary("test_legacy_bridge");
    }
    char *paths[] = { bin, NULL };
    char container_id[65];
    snprintf(container_id, sizeof(container_id), "1e9acc%058d", n);
    struct runtime_conf *rc = lg_rc_new(container_id, netns, "eth0");
    lg_rc_add_arg(rc, "IgnoreUnknown", "1");
    struct result *r = NULL;
    char *err = NULL;

    CHECK_EQ_INT(cni_add_network_list(conflist, rc, paths, &r, &err), 0);
    CHECKF(err == NULL, "add: %s", err);
    char *expected_addr = tl_asprintf("10.249.%d.2/24", n);
    if (CHECK(r != NULL)) {
        CHECK_EQ_STR(r->cniversion, "0.3.1");
        if (CHECK(r->ips_len == 1)) {
            char *addr = address_text(r, 0);
            CHECK_EQ_STR(addr, expected_addr);
            free(addr);
            CHECK_EQ_STR(r->ips[0]->version, "4");
            const uint8_t gw[] = { 10, 249, (uint8_t)n, 1 };
            CHECK(r->ips[0]->gateway_len == 4 && memcmp(r->ips[0]->gateway, gw, 4) == 0);
            /* The address belongs to the container's eth0. */
            int32_t *index = r->ips[0]->interface;
            CHECK(index != NULL && *index >= 0 && (size_t)*index < r->interfaces_len &&
                  strcmp(r->interfaces[*index]->name, "eth0") == 0 && r->interfaces[*index]->sandbox != NULL);
        }
        bool has_bridge = false;
        for (size_t i = 0; i < r->interfaces_len; i++) {
            has_bridge = has_bridge || strcmp(r->interfaces[i]->name, g_bridge) == 0;
        }
        CHECK(has_bridge);
        CHECK(r->routes_len == 1);
    }
    free_result(r);

    char *out = NULL;
    CHECK_EQ_INT(tl_run(&out, "ip netns exec %s ip -4 -o addr show dev eth0", tl_netns_name(netns)), 0);
    CHECKF(tl_contains(out, expected_addr), "eth0 in the namespace: %s", out ? out : "");
    free(out);
    out = NULL;
    CHECK_EQ_INT(tl_run(&out, "ip -o link show master %s", g_bridge), 0);
    CHECKF(tl_contains(out, "veth"), "bridge ports: %s", out ? out : "");
    free(out);

    CHECK_EQ_INT(cni_del_network_list(conflist, rc, paths, &err), 0);
    CHECKF(err == NULL, "del: %s", err);
    out = NULL;
    CHECK(tl_run(&out, "ip netns exec %s ip link show dev eth0", tl_netns_name(netns)) != 0);
    free(out);
    out = NULL;
    CHECK_EQ_INT(tl_run(&out, "ip -o link show master %s", g_bridge), 0);
    CHECKF(!tl_contains(out, "veth"), "bridge ports after del: %s", out ? out : "");
    free(out);
    /* host-local released the address. */
    char *lease = tl_asprintf("%s/legacy-real/10.249.%d.2", data, n);
    CHECKF(access(lease, F_OK) != 0, "%s still exists", lease);
    free(lease);

    free(err);
    free_runtime_conf(rc);
    CHECK(tl_netns_delete(netns) == 0);
    free(netns);
    free(expected_addr);
    free(conflist);
    free(cache);
    free(data);
    free(bin);
    return test_summary("test_legacy_bridge");
}
