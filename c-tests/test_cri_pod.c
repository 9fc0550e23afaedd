// ctest: RUN_SERIAL
/*
 * A CRI pod on real plugins (Debian containernetworking-plugins 1.1.1): attach to a
 * bridge+portmap conflist, the result against what is really in the namespace, CHECK of a
 * second pod on a bridge+firewall+tuning conflist, detach leaving nothing behind (interface,
 * host-local reservation, result cache, iptables rules), and cni_update_container_networks_info.
 *
 * Subnets 10.231.1.0/24 and 10.231.2.0/24, bridges ccrip<pid%1000>a/b.
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "isulad_host.h"
#include "network_api.h"
#include "testlib.h"

#define CRI NETWOKR_API_TYPE_CRI
#define NET_POD "ccri-pod"
#define NET_FW "ccri-pod-fw"
#define SUBNET_POD "10.231.1."
#define SUBNET_FW "10.231.2."

static void chomp(char *s)
{
    size_t len = strlen(s);
    while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' ')) {
        s[--len] = '\0';
    }
}

/* Whether text mentions the address ip as a whole address (10.0.0.2 does not match 10.0.0.20). */
static bool mentions_ip(const char *text, const char *ip)
{
    size_t len = strlen(ip);
    for (const char *p = strstr(text, ip); p != NULL; p = strstr(p + 1, ip)) {
        char before = p == text ? ' ' : p[-1];
        char after = p[len];
        bool whole = !(before >= '0' && before <= '9') && before != '.' && !(after >= '0' && after <= '9') &&
                     after != '.';
        if (whole) {
            return true;
        }
    }
    return false;
}

/* The two networks; the bridges are e->bridge[0] (pod) and [1] (fw). */
static bool write_confs(const struct tl_cri *e)
{
    bool ok = tl_write_conf(TL_HERE, e->dirs.conf, "10-pod.conflist",
                            "{\"cniVersion\":\"1.0.0\",\"name\":\"" NET_POD "\",\"plugins\":["
                            "{\"type\":\"bridge\",\"bridge\":\"%s\",\"isGateway\":true,\"ipMasq\":true,"
                            "\"ipam\":{\"type\":\"host-local\",\"dataDir\":\"%s\","
                            "\"ranges\":[[{\"subnet\":\"" SUBNET_POD "0/24\",\"gateway\":\"" SUBNET_POD "1\"}]],"
                            "\"routes\":[{\"dst\":\"0.0.0.0/0\"}]}},"
                            "{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true},\"snat\":true}]}",
                            e->bridge[0], e->dirs.ipam);
    return tl_cri_write_bridge_conflist(e, "20-fw.conflist", NET_FW, 1, SUBNET_FW,
                                        ",{\"type\":\"firewall\",\"backend\":\"iptables\"},{\"type\":\"tuning\"}",
                                        TL_HERE) &&
           ok;
}

/* The CNI-DN-… chain whose DNAT rule sends host_port to ip, or NULL. */
static char *dnat_chain(const char *ip, int host_port)
{
    char *rules = tl_output_of("iptables-save -t nat");
    if (rules == NULL) {
        return NULL;
    }
    char *chain = NULL;
    char *dport = tl_asprintf("--dport %d ", host_port);
    char *dest = tl_asprintf("--to-destination %s:80", ip);
    for (char *line = strtok(rules, "\n"); line != NULL && chain == NULL; line = strtok(NULL, "\n")) {
        if (strncmp(line, "-A CNI-DN-", 10) == 0 && strstr(line, dport) != NULL && strstr(line, dest) != NULL) {
            char *end = strchr(line + 3, ' ');
            chain = strndup(line + 3, end == NULL ? strlen(line + 3) : (size_t)(end - (line + 3)));
        }
    }
    free(dport);
    free(dest);
    free(rules);
    return chain;
}

/* cni_update_container_networks_info turns the attach result into the sandbox's settings. */
static void networks_info(const network_api_result_list *result, const char *id, const char *netns,
                          const char *ip, const char *mac)
{
    container_network_settings *settings = tl_settings_new();
    if (CHECK_EQ_INT(cni_update_container_networks_info(result, id, netns, settings), 0) &&
        CHECK_EQ_INT(settings->networks->len, 1)) {
        defs_map_string_object_networks_element *el = settings->networks->values[0];
        CHECK_EQ_STR(settings->networks->keys[0], NET_POD);
        CHECK_EQ_STR(el->if_name, "eth0");
        CHECK_EQ_STR(el->ip_address, ip);
        CHECK_EQ_INT(el->ip_prefix_len, 24);
        CHECK_EQ_STR(el->gateway, SUBNET_POD "1");
        CHECK_EQ_STR(el->mac_address, mac);
        CHECK(el->global_i_pv6address == NULL);
        CHECK_EQ_STR(settings->sandbox_key, netns);
    }
    CHECK(tl_errmsg() == NULL);
    tl_settings_free(settings);
}

/* Everything of the pod's attachment is gone: interface, reservation, cache, iptables rules. */
static void gone_after_detach(const struct tl_cri *e, const char *netns, const char *id, const char *ip,
                              const char *chain)
{
    CHECKF(tl_run(NULL, "ip -n '%s' link show eth0", tl_netns_name(netns)) != 0, "eth0 still in %s", netns);
    char *reservation = tl_asprintf("%s/" NET_POD "/%s", e->dirs.ipam, ip);
    CHECKF(access(reservation, F_OK) != 0, "host-local reservation %s left", reservation);
    free(reservation);
    char *cache = tl_cache_path(e->dirs.cache, NET_POD, id, "eth0");
    CHECKF(access(cache, F_OK) != 0, "cache file %s left", cache);
    free(cache);
    char *rules = tl_output_of("iptables-save; iptables-save -t nat");
    if (CHECK(rules != NULL)) {
        CHECKF(!mentions_ip(rules, ip), "iptables still mentions %s:\n%s", ip, rules);
        if (chain != NULL) {
            CHECKF(strstr(rules, chain) == NULL, "iptables still mentions %s", chain);
        }
    }
    free(rules);
}

/* Attach on bridge+portmap: the result is what the namespace really has. Returns the pod's IP. */
static char *attach_pod(const struct tl_cri *e, const char *netns, const char *id, int host_port, char **chain)
{
    network_api_conf *conf = tl_pod_conf(id, netns, "pod", "default", true);
    char *ports = tl_asprintf("[{\"hostPort\":%d,\"containerPort\":80,\"protocol\":\"tcp\"}]", host_port);
    CHECK_EQ_INT(network_module_insert_portmapping(ports, conf), 0);
    free(ports);
    network_api_result_list *result = NULL;
    char *ip = NULL;
    tl_clear_errmsg();
    int rc = network_module_attach(conf, CRI, &result);
    CHECKF(rc == 0, "attach: %s", tl_errmsg_text());
    CHECK(tl_errmsg() == NULL);
    if (rc != 0 || !CHECK(result != NULL) || !CHECK_EQ_INT(result->len, 1)) {
        free_network_api_result_list(result);
        free_network_api_conf(conf);
        return NULL;
    }
    network_api_result *r = result->items[0];
    CHECK_EQ_STR(r->name, NET_POD);
    CHECK_EQ_STR(r->interface, "eth0");
    if (CHECK_EQ_INT(r->ips_len, 1)) {
        ip = tl_address_of(r->ips[0]);
        int host = -1;
        char tail[8] = "";
        CHECKF(sscanf(r->ips[0], SUBNET_POD "%d/%7s", &host, tail) == 2 && host > 1 && host < 255 &&
                   strcmp(tail, "24") == 0,
               "ips[0] %s not in " SUBNET_POD "0/24", r->ips[0]);
        CHECK_EQ_STR(r->gateway[0], SUBNET_POD "1");
        char *addrs = tl_output_of("ip -n '%s' -4 -o addr show dev eth0", tl_netns_name(netns));
        char *inet = tl_asprintf("inet %s ", r->ips[0]);
        CHECKF(addrs != NULL && strstr(addrs, inet) != NULL, "%s not on eth0: %s", r->ips[0], addrs ? addrs : "");
        free(inet);
        free(addrs);
    }
    char *mac = tl_output_of("ip netns exec '%s' cat /sys/class/net/eth0/address", tl_netns_name(netns));
    if (CHECK(mac != NULL)) {
        chomp(mac);
        CHECK_EQ_STR(r->mac, mac);
    }
    if (ip != NULL && mac != NULL) {
        networks_info(result, id, netns, ip, mac);
    }
    free(mac);
    char *cache = tl_cache_path(e->dirs.cache, NET_POD, id, "eth0");
    CHECKF(access(cache, F_OK) == 0, "no cache file %s", cache);
    free(cache);
    if (ip != NULL) {
        char *reservation = tl_asprintf("%s/" NET_POD "/%s", e->dirs.ipam, ip);
        CHECKF(access(reservation, F_OK) == 0, "no host-local reservation %s", reservation);
        free(reservation);
        *chain = dnat_chain(ip, host_port);
        CHECKF(*chain != NULL, "no DNAT rule for host port %d to %s:80", host_port, ip);
    }
    free_network_api_result_list(result);
    free_network_api_conf(conf);
    return ip;
}

/* A second pod on bridge+firewall+tuning (an extra network on eth0 replaces the default): CHECK passes. */
static void check_fw_pod(const char *netns, const char *id)
{
    network_api_conf *conf = tl_pod_conf(id, netns, "pod", "default", true);
    tl_conf_add_extra(conf, NET_FW, "eth0");
    network_api_result_list *result = NULL;
    tl_clear_errmsg();
    int rc = network_module_attach(conf, CRI, &result);
    CHECKF(rc == 0, "attach fw pod: %s", tl_errmsg_text());
    char *ip = NULL;
    if (rc == 0 && CHECK(result != NULL) && CHECK_EQ_INT(result->len, 1)) {
        CHECK_EQ_STR(result->items[0]->name, NET_FW);
        if (CHECK_EQ_INT(result->items[0]->ips_len, 1)) {
            ip = strdup(result->items[0]->ips[0]);
        }
    }
    free_network_api_result_list(result);

    result = NULL;
    rc = network_module_check(conf, CRI, &result);
    CHECKF(rc == 0, "check fw pod: %s", tl_errmsg_text());
    CHECK(tl_errmsg() == NULL);
    if (rc == 0 && CHECK(result != NULL) && CHECK_EQ_INT(result->len, 1)) {
        CHECK_EQ_STR(result->items[0]->name, NET_FW);
        CHECK_EQ_STR(result->items[0]->interface, "eth0");
        if (CHECK_EQ_INT(result->items[0]->ips_len, 1)) {
            CHECK_EQ_STR(result->items[0]->ips[0], ip);
        }
    }
    free_network_api_result_list(result);

    rc = network_module_detach(conf, CRI);
    CHECKF(rc == 0, "detach fw pod: %s", tl_errmsg_text());
    CHECK(tl_run(NULL, "ip -n '%s' link show eth0", tl_netns_name(netns)) != 0);
    free(ip);
    free_network_api_conf(conf);
}

/*
 * CHECK of the bridge+portmap pod: a known failure of the plugin, not of the library. Debian's
 * portmap 1.1.1 CHECK looks for the pod's CNI-DN chain in the IPv6 nat table too, although ADD
 * created it only for IPv4 (the pod has no IPv6 address), so on a host with usable IPv6 NAT it
 * always fails with "could not check ipv6 dnat: chain CNI-DN-… not found". Without IPv6 NAT the
 * plugin skips IPv6 and CHECK may pass. Asserted here so the outcome is documented, not hidden;
 * the library must report portmap's message.
 */
static void check_portmap_pod(const char *netns, const char *id)
{
    bool ipv6_nat = tl_run(NULL, "ip6tables -t nat -S >/dev/null") == 0;
    network_api_conf *conf = tl_pod_conf(id, netns, "pod", "default", true);
    network_api_result_list *result = NULL;
    tl_clear_errmsg();
    int rc = network_module_check(conf, CRI, &result);
    const char *msg = tl_errmsg_text();
    bool ipv6_failure = rc == -1 && tl_contains(msg, "plugin type=\"portmap\" failed (check)") &&
                        tl_contains(msg, "could not check ipv6 dnat");
    if (ipv6_nat) {
        CHECKF(ipv6_failure, "check bridge+portmap pod with IPv6 NAT: expected portmap 1.1.1's ipv6 dnat failure, got %d \"%s\"",
               rc, msg);
        CHECK(result == NULL);
    } else {
        CHECKF(rc == 0 || ipv6_failure, "check bridge+portmap pod without IPv6 NAT: %d \"%s\"", rc, msg);
    }
    free_network_api_result_list(result);
    free_network_api_conf(conf);
}

int main(void)
{
    require_root();
    static const char *const plugins[] = { "bridge", "host-local", "portmap", "firewall", "tuning", "loopback", NULL };
    struct tl_cri e;
    char *netns2 = NULL;
    if (tl_cri_begin(&e, "cri-pod", plugins, false, "ccrip", TL_HERE) && write_confs(&e) &&
        CHECK((netns2 = tl_netns_create("cri-pod2")) != NULL) && tl_cri_init(&e, TL_HERE)) {
        char ids[2][TL_ID_LEN];
        tl_make_ids(ids, 2, "ccripod");
        CHECK(network_module_ready(CRI));
        int port = tl_free_port();
        CHECK(port > 0);
        char *chain = NULL;
        char *ip = attach_pod(&e, e.netns, ids[0], port, &chain);
        check_fw_pod(netns2, ids[1]);
        check_portmap_pod(e.netns, ids[0]);

        network_api_conf *conf = tl_pod_conf(ids[0], e.netns, "pod", "default", true);
        tl_detach_ok(conf, CRI, true, TL_HERE);
        free_network_api_conf(conf);
        if (ip != NULL) {
            gone_after_detach(&e, e.netns, ids[0], ip, chain);
        }
        free(chain);
        free(ip);
    }
    if (netns2 != NULL) {
        tl_netns_delete(netns2);
    }
    free(netns2);
    tl_cri_end(&e, TL_HERE);
    return test_summary("test_cri_pod");
}
