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

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "isulad_host.h"
#include "network_api.h"
#include "testlib.h"

#define CRI NETWOKR_API_TYPE_CRI
#define NET_MAIN "ccri-ann"
#define NET_RANGES "ccri-ann-ranges"
#define SUBNET_MAIN "10.233.1."
#define SUBNET_RANGES "10.233.3."

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

/* The command's output when it exits 0, else NULL. */
static char *output_of(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *output_of(const char *fmt, ...)
{
    char *cmd = NULL;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&cmd, fmt, ap);
    va_end(ap);
    if (n < 0) {
        abort();
    }
    char *out = NULL;
    int rc = tl_run(&out, "%s", cmd);
    free(cmd);
    if (rc != 0) {
        free(out);
        return NULL;
    }
    return out;
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

/* A TCP port nobody listens on right now. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) {
        return -1;
    }
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY), .sin_port = 0 };
    socklen_t len = sizeof(addr);
    int port = -1;
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 && getsockname(fd, (struct sockaddr *)&addr, &len) == 0) {
        port = ntohs(addr.sin_port);
    }
    close(fd);
    return port;
}

struct env {
    char *root, *conf, *cache, *bin, *data;
    char br_main[16], br_ranges[16];
};

static bool setup(struct env *e)
{
    e->root = tl_tmpdir("cri-ann");
    if (e->root == NULL) {
        return false;
    }
    e->conf = xasprintf("%s/conf", e->root);
    e->cache = xasprintf("%s/cache", e->root);
    e->bin = xasprintf("%s/bin", e->root);
    e->data = xasprintf("%s/ipam", e->root);
    snprintf(e->br_main, sizeof(e->br_main), "ccria%lda", (long)getpid() % 1000);
    snprintf(e->br_ranges, sizeof(e->br_ranges), "ccria%ldb", (long)getpid() % 1000);
    bool ok = CHECK_EQ_INT(tl_run(NULL, "mkdir -p '%s' '%s' '%s' '%s'", e->conf, e->cache, e->bin, e->data), 0);
    const char *plugins[] = { "bridge", "host-local", "portmap", "bandwidth", "loopback" };
    for (size_t i = 0; i < sizeof(plugins) / sizeof(plugins[0]); i++) {
        ok = CHECK_EQ_INT(tl_link_real_plugin(e->bin, plugins[i]), 0) && ok;
    }
    char *main_list = xasprintf(
        "{\"cniVersion\":\"1.0.0\",\"name\":\"" NET_MAIN "\",\"plugins\":["
        "{\"type\":\"bridge\",\"bridge\":\"%s\",\"isGateway\":true,"
        "\"ipam\":{\"type\":\"host-local\",\"dataDir\":\"%s\","
        "\"ranges\":[[{\"subnet\":\"" SUBNET_MAIN "0/24\",\"gateway\":\"" SUBNET_MAIN "1\"}]]}},"
        "{\"type\":\"portmap\",\"capabilities\":{\"portMappings\":true}},"
        "{\"type\":\"bandwidth\",\"capabilities\":{\"bandwidth\":true}}]}",
        e->br_main, e->data);
    /*
     * host-local prepends the runtime ipRanges to its configured ranges and refuses overlapping
     * range sets ("range set 0 overlaps with 1"), so this network has no static range: the whole
     * /24 is what the annotation names, and an address outside .100-.110 could only come from a
     * library that dropped or rewrote the annotation.
     */
    char *ranges_list = xasprintf(
        "{\"cniVersion\":\"1.0.0\",\"name\":\"" NET_RANGES "\",\"plugins\":["
        "{\"type\":\"bridge\",\"bridge\":\"%s\",\"capabilities\":{\"ipRanges\":true},"
        "\"ipam\":{\"type\":\"host-local\",\"dataDir\":\"%s\"}}]}",
        e->br_ranges, e->data);
    char *main_path = xasprintf("%s/10-ann.conflist", e->conf);
    char *ranges_path = xasprintf("%s/20-ranges.conflist", e->conf);
    ok = CHECK_EQ_INT(tl_write_file(main_path, main_list), 0) && ok;
    ok = CHECK_EQ_INT(tl_write_file(ranges_path, ranges_list), 0) && ok;
    free(main_list);
    free(ranges_list);
    free(main_path);
    free(ranges_path);
    return ok;
}

static void teardown(struct env *e)
{
    tl_run(NULL, "ip link del '%s'", e->br_main);
    tl_run(NULL, "ip link del '%s'", e->br_ranges);
    CHECKF(tl_run(NULL, "ip link show '%s'", e->br_main) != 0, "bridge %s left behind", e->br_main);
    CHECKF(tl_run(NULL, "ip link show '%s'", e->br_ranges) != 0, "bridge %s left behind", e->br_ranges);
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

/* Attaches; returns the single result's address ("a.b.c.d", malloc'd) or NULL. */
static char *attach_one(network_api_conf *conf, const char *net)
{
    network_api_result_list *result = NULL;
    tl_clear_errmsg();
    int rc = network_module_attach(conf, CRI, &result);
    CHECKF(rc == 0, "attach %s on %s: %s", conf->pod_id, net, errmsg());
    char *ip = NULL;
    if (rc == 0 && CHECK(result != NULL) && CHECK_EQ_INT(result->len, 1) && CHECK_EQ_INT(result->items[0]->ips_len, 1)) {
        CHECK_EQ_STR(result->items[0]->name, net);
        ip = strdup(result->items[0]->ips[0]);
        char *slash = strchr(ip, '/');
        if (slash != NULL) {
            *slash = '\0';
        }
    }
    free_network_api_result_list(result);
    return ip;
}

static void detach_ok(const network_api_conf *conf)
{
    tl_clear_errmsg();
    int rc = network_module_detach(conf, CRI);
    CHECKF(rc == 0, "detach %s: %s", conf->pod_id, errmsg());
    CHECK(tl_errmsg() == NULL);
}

/* The nat table has a DNAT rule sending host_port to ip:80. */
static bool dnat_rule_exists(int host_port, const char *ip)
{
    char *rules = output_of("iptables-save -t nat");
    if (rules == NULL) {
        return false;
    }
    char *dport = xasprintf("--dport %d ", host_port);
    char *dest = xasprintf("-j DNAT --to-destination %s:80", ip);
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
    char *rules = output_of("iptables-save -t nat");
    char *dport = xasprintf("--dport %d ", host_port);
    char *dports = xasprintf("--dports %d ", host_port);
    bool found = rules == NULL || strstr(rules, dport) != NULL || strstr(rules, dports) != NULL;
    free(dport);
    free(dports);
    free(rules);
    return found;
}

static void port_mappings(const char *netns, const char *id)
{
    int port = free_port();
    if (!CHECK(port > 0)) {
        return;
    }
    network_api_conf *conf = pod_conf(id, netns);
    char *ports = xasprintf("[{\"hostPort\":%d,\"containerPort\":80,\"protocol\":\"tcp\"}]", port);
    CHECK_EQ_INT(network_module_insert_portmapping(ports, conf), 0);
    free(ports);
    char *ip = attach_one(conf, NET_MAIN);
    if (ip != NULL) {
        CHECKF(dnat_rule_exists(port, ip), "no DNAT rule for host port %d to %s:80", port, ip);
    }
    free_network_api_conf(conf);

    /* No annotations at detach: the port mappings cached at attach are replayed. */
    conf = pod_conf(id, netns);
    detach_ok(conf);
    CHECKF(!host_port_mentioned(port), "nat rules still mention host port %d", port);
    free_network_api_conf(conf);
    free(ip);
}

/* The host end of the pod's eth0 (malloc'd name), found through eth0's peer ifindex. */
static char *host_veth(const char *netns)
{
    char *out = output_of("ip -n '%s' -o link show eth0", netns_name(netns));
    int peer = -1;
    const char *at = out == NULL ? NULL : strstr(out, "eth0@if");
    if (at == NULL || sscanf(at, "eth0@if%d", &peer) != 1) {
        free(out);
        return NULL;
    }
    free(out);
    out = output_of("ip -o link show | grep '^%d: '", peer);
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
    char *out = output_of("tc filter show dev '%s' parent ffff:", dev);
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
    char *out = output_of("tc qdisc show dev '%s'", dev);
    bool found = out != NULL && strstr(out, "qdisc tbf ") != NULL;
    free(out);
    return found;
}

static void bandwidth(const char *netns, const char *id)
{
    network_api_conf *conf = pod_conf(id, netns);
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

    conf = pod_conf(id, netns);
    detach_ok(conf);
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
    network_api_conf *conf = pod_conf(id, netns);
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
    conf = pod_conf(id, netns);
    tl_conf_add_extra(conf, NET_RANGES, "eth0");
    detach_ok(conf);
    CHECK(tl_run(NULL, "ip -n '%s' link show eth0", netns_name(netns)) != 0);
    free_network_api_conf(conf);
    free(ip);
}

static void malformed(const struct env *e, const char *netns, const char *id)
{
    network_api_conf *conf = pod_conf(id, netns);
    CHECK_EQ_INT(network_module_insert_portmapping("[{\"hostPort\":", conf), 0);
    network_api_result_list *result = (network_api_result_list *)conf; /* any non-NULL value */
    tl_clear_errmsg();
    CHECK_EQ_INT(network_module_attach(conf, CRI, &result), -1);
    CHECK(result == NULL);
    CHECK_EQ_STR(tl_errmsg(), "The format of annotation is not right with key:portMappings");
    CHECK_EQ_STR(network_module_last_error(), "The format of annotation is not right with key:portMappings");
    CHECK(tl_run(NULL, "ip -n '%s' link show eth0", netns_name(netns)) != 0);
    char *cache = xasprintf("%s/results/" NET_MAIN "-%s-eth0", e->cache, id);
    CHECKF(access(cache, F_OK) != 0, "cache file %s written by a refused attach", cache);
    free(cache);
    /* A malformed annotation must not block cleanup. */
    detach_ok(conf);
    free_network_api_conf(conf);
}

int main(void)
{
    require_root();
    struct env e = { 0 };
    if (!setup(&e)) {
        teardown(&e);
        return test_summary("test_cri_annotations");
    }
    char *netns = tl_netns_create("criann");
    char ids[4][64];
    for (int i = 0; i < 4; i++) {
        snprintf(ids[i], sizeof(ids[i]), "ccriann%d-%ld", i, (long)getpid());
    }
    if (CHECK(netns != NULL) && CHECK(network_module_init("cni", e.cache, e.conf, e.bin))) {
        port_mappings(netns, ids[0]);
        bandwidth(netns, ids[1]);
        ip_ranges(netns, ids[2]);
        malformed(&e, netns, ids[3]);
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
    return test_summary("test_cri_annotations");
}
