// ctest: RUN_SERIAL
/*
 * iSulad's annotations on real plugins: portMappings (portmap DNAT rule, replayed from the cache
 * at detach), bandwidth (tbf qdiscs of the bandwidth plugin), ipRanges (host-local allocates from
 * the annotated range), and a malformed annotation refused with iSulad's message.
 *
 * Subnets 10.233.1.0/24 (bridge+portmap+bandwidth) and 10.233.3.0/24 (ipRanges), bridges
 * ccria<pid%1000>a/b.
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
#define NET_MAIN "ccri-ann"
#define NET_RANGES "ccri-ann-ranges"
#define SUBNET_MAIN "10.233.1."
#define SUBNET_RANGES "10.233.3."

/* The two networks; the bridges are e->bridge[0] (main) and [1] (ranges). */
static bool write_confs(const struct tl_cri *e)
{
    bool ok = tl_cri_write_bridge_conflist(e, "10-ann.conflist", NET_MAIN, 0, SUBNET_MAIN,
                                           ",{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true}},"
                                           "{\"type\":\"bandwidth\",\"capabilities\":{\"bandwidth\":true}}",
                                           TL_HERE);
    /*
     * host-local prepends the runtime ipRanges to its configured ranges and refuses overlapping
     * range sets ("range set 0 overlaps with 1"), so this network has no static range: the whole
     * /24 is what the annotation names, and an address outside .100-.110 could only come from a
     * library that dropped or rewrote the annotation.
     */
    return tl_write_conf(TL_HERE, e->dirs.conf, "20-ranges.conflist",
                         "{\"cniVersion\":\"1.0.0\",\"name\":\"" NET_RANGES "\",\"plugins\":["
                         "{\"type\":\"bridge\",\"bridge\":\"%s\",\"capabilities\":{\"ipRanges\":true},"
                         "\"ipam\":{\"type\":\"host-local\",\"dataDir\":\"%s\"}}]}",
                         e->bridge[1], e->dirs.ipam) &&
           ok;
}

/* Attaches; returns the single result's address ("a.b.c.d", malloc'd) or NULL. */
static char *attach_one(network_api_conf *conf, const char *net)
{
    network_api_result_list *result = NULL;
    tl_clear_errmsg();
    int rc = network_module_attach(conf, CRI, &result);
    CHECKF(rc == 0, "attach %s on %s: %s", conf->pod_id, net, tl_errmsg_text());
    char *ip = NULL;
    if (rc == 0 && CHECK(result != NULL) && CHECK_EQ_INT(result->len, 1) && CHECK_EQ_INT(result->items[0]->ips_len, 1)) {
        CHECK_EQ_STR(result->items[0]->name, net);
        ip = tl_address_of(result->items[0]->ips[0]);
    }
    free_network_api_result_list(result);
    return ip;
}

/* The nat table has a DNAT rule sending host_port to ip:80. */
static bool dnat_rule_exists(int host_port, const char *ip)
{
    char *rules = tl_output_of("iptables-save -t nat");
    if (rules == NULL) {
        return false;
    }
    char *dport = tl_asprintf("--dport %d ", host_port);
    char *dest = tl_asprintf("-j DNAT --to-destination %s:80", ip);
    bool found = false;
    for (char *line = strtok(rules, "\n"); line != NULL && !found; line = strtok(NULL, "\n")) {
        found = strstr(line, dport) != NULL && strstr(line, dest) != NULL;
    }
    free(dport);
    free(dest);
    free(rules);
    return found;
}

/* Whether any nat rule still names the host port. */
static bool host_port_mentioned(int host_port)
{
    char *rules = tl_output_of("iptables-save -t nat");
    char *dport = tl_asprintf("--dport %d ", host_port);
    char *dports = tl_asprintf("--dports %d ", host_port);
    bool found = rules == NULL || strstr(rules, dport) != NULL || strstr(rules, dports) != NULL;
    free(dport);
    free(dports);
    free(rules);
    return found;
}

static void port_mappings(const char *netns, const char *id)
{
    int port = tl_free_port();
    if (!CHECK(port > 0)) {
        return;
    }
    network_api_conf *conf = tl_pod_conf(id, netns, "pod", "default", false);
    char *ports = tl_asprintf("[{\"hostPort\":%d,\"containerPort\":80,\"protocol\":\"tcp\"}]", port);
    CHECK_EQ_INT(network_module_insert_portmapping(ports, conf), 0);
    free(ports);
    char *ip = attach_one(conf, NET_MAIN);
    if (ip != NULL) {
        CHECKF(dnat_rule_exists(port, ip), "no DNAT rule for host port %d to %s:80", port, ip);
    }
    free_network_api_conf(conf);

    /* No annotations at detach: the port mappings cached at attach are replayed. */
    conf = tl_pod_conf(id, netns, "pod", "default", false);
    tl_detach_ok(conf, CRI, true, TL_HERE);
    CHECKF(!host_port_mentioned(port), "nat rules still mention host port %d", port);
    free_network_api_conf(conf);
    free(ip);
}

/* The host end of the pod's eth0 (malloc'd name), found through eth0's peer ifindex. */
static char *host_veth(const char *netns)
{
    char *out = tl_output_of("ip -n '%s' -o link show eth0", tl_netns_name(netns));
    int peer = -1;
    const char *at = out == NULL ? NULL : strstr(out, "eth0@if");
    if (at == NULL || sscanf(at, "eth0@if%d", &peer) != 1) {
        free(out);
        return NULL;
    }
    free(out);
    out = tl_output_of("ip -o link show | grep '^%d: '", peer);
    char name[64] = "";
    if (out == NULL || sscanf(out, "%*d: %63[^:@]", name) != 1) {
        free(out);
        return NULL;
    }
    free(out);
    return strdup(name);
}

/* The ifb device the ingress qdisc of dev redirects to (bandwidth's egress shaping), or NULL. */
static char *redirect_device(const char *dev)
{
    char *out = tl_output_of("tc filter show dev '%s' parent ffff:", dev);
    const char *to = out == NULL ? NULL : strstr(out, "to device ");
    char name[64] = "";
    char *found = NULL;
    if (to != NULL && sscanf(to, "to device %63[^) \n]", name) == 1) {
        found = strdup(name);
    }
    free(out);
    return found;
}

static bool has_tbf(const char *dev)
{
    char *out = tl_output_of("tc qdisc show dev '%s'", dev);
    bool found = out != NULL && strstr(out, "qdisc tbf ") != NULL;
    free(out);
    return found;
}

static void bandwidth(const char *netns, const char *id)
{
    network_api_conf *conf = tl_pod_conf(id, netns, "pod", "default", false);
    CHECK_EQ_INT(network_module_insert_bandwidth("{\"ingressRate\":8000000,\"ingressBurst\":80000,"
                                                 "\"egressRate\":4000000,\"egressBurst\":40000}",
                                                 conf),
                 0);
    char *ip = attach_one(conf, NET_MAIN);
    char *veth = host_veth(netns);
    char *ifb = NULL;
    if (ip != NULL && CHECKF(veth != NULL, "no host veth for eth0 of %s", netns)) {
        CHECKF(has_tbf(veth), "no tbf qdisc (ingress shaping) on %s", veth);
        ifb = redirect_device(veth);
        if (CHECKF(ifb != NULL, "no redirect to an ifb device on %s", veth)) {
            CHECKF(has_tbf(ifb), "no tbf qdisc (egress shaping) on %s", ifb);
        }
    }
    free_network_api_conf(conf);

    conf = tl_pod_conf(id, netns, "pod", "default", false);
    tl_detach_ok(conf, CRI, true, TL_HERE);
    if (veth != NULL) {
        CHECKF(tl_run(NULL, "ip link show '%s'", veth) != 0 || !has_tbf(veth), "tbf left on %s", veth);
    }
    if (ifb != NULL) {
        CHECKF(tl_run(NULL, "ip link show '%s'", ifb) != 0, "ifb device %s left", ifb);
    }
    free_network_api_conf(conf);
    free(ifb);
    free(veth);
    free(ip);
}

static void ip_ranges(const char *netns, const char *id)
{
    network_api_conf *conf = tl_pod_conf(id, netns, "pod", "default", false);
    tl_conf_add_extra(conf, NET_RANGES, "eth0");
    CHECK_EQ_INT(network_module_insert_iprange("[[{\"subnet\":\"" SUBNET_RANGES "0/24\",\"rangeStart\":\"" SUBNET_RANGES
                                               "100\",\"rangeEnd\":\"" SUBNET_RANGES "110\"}]]",
                                               conf),
                 0);
    char *ip = attach_one(conf, NET_RANGES);
    if (ip != NULL) {
        int host = -1;
        CHECKF(sscanf(ip, SUBNET_RANGES "%d", &host) == 1 && host >= 100 && host <= 110,
               "%s is not within " SUBNET_RANGES "100-110", ip);
    }
    free_network_api_conf(conf);
    conf = tl_pod_conf(id, netns, "pod", "default", false);
    tl_conf_add_extra(conf, NET_RANGES, "eth0");
    tl_detach_ok(conf, CRI, true, TL_HERE);
    CHECK(tl_run(NULL, "ip -n '%s' link show eth0", tl_netns_name(netns)) != 0);
    free_network_api_conf(conf);
    free(ip);
}

static void malformed(const struct tl_cri *e, const char *netns, const char *id)
{
    network_api_conf *conf = tl_pod_conf(id, netns, "pod", "default", false);
    CHECK_EQ_INT(network_module_insert_portmapping("[{\"hostPort\":", conf), 0);
    network_api_result_list *result = (network_api_result_list *)conf; /* any non-NULL value */
    tl_clear_errmsg();
    CHECK_EQ_INT(network_module_attach(conf, CRI, &result), -1);
    CHECK(result == NULL);
    CHECK_EQ_STR(tl_errmsg(), "The format of annotation is not right with key:portMappings");
    CHECK_EQ_STR(network_module_last_error(), "The format of annotation is not right with key:portMappings");
    CHECK(tl_run(NULL, "ip -n '%s' link show eth0", tl_netns_name(netns)) != 0);
    char *cache = tl_cache_path(e->dirs.cache, NET_MAIN, id, "eth0");
    CHECKF(access(cache, F_OK) != 0, "cache file %s written by a refused attach", cache);
    free(cache);
    /* A malformed annotation must not block cleanup. */
    tl_detach_ok(conf, CRI, true, TL_HERE);
    free_network_api_conf(conf);
}

int main(void)
{
    require_root();
    static const char *const plugins[] = { "bridge", "host-local", "portmap", "bandwidth", "loopback", NULL };
    struct tl_cri e;
    if (tl_cri_begin(&e, "cri-ann", plugins, false, "ccria", TL_HERE) && write_confs(&e) && tl_cri_init(&e, TL_HERE)) {
        char ids[4][TL_ID_LEN];
        tl_make_ids(ids, 4, "ccriann");
        port_mappings(e.netns, ids[0]);
        bandwidth(e.netns, ids[1]);
        ip_ranges(e.netns, ids[2]);
        malformed(&e, e.netns, ids[3]);
    }
    tl_cri_end(&e, TL_HERE);
    return test_summary("test_cri_annotations");
}
