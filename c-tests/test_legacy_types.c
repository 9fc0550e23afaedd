/*
 * The legacy clibcni 2.1.0 helpers of clibcni/types.h and clibcni/version.h: address parsing and
 * printing (parse_cidr, parse_ip_from_str, ipnet_to_string, ip_to_string), new_result for every
 * result encoding, plugin_supports, plugin_info_decode, cniversion_decode, the free functions
 * and the header constants. Needs no root and no plugins.
 */
#define _GNU_SOURCE

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <clibcni/api.h>

#include "testlib.h"

/* Checks that a call failed (NULL or non-zero) with exactly `message` in *err, and frees it. */
static void failed_with(bool failed, char **err, const char *message, int line)
{
    tl_check(failed, __FILE__, line, "call should fail");
    tl_check_str(*err, message, __FILE__, line, "*err");
    free(*err);
    *err = NULL;
}
#define FAILED_WITH(failed, err, message) failed_with((failed), &(err), (message), __LINE__)

static bool bytes_equal(const uint8_t *actual, size_t actual_len, const uint8_t *expected, size_t expected_len)
{
    return actual != NULL && actual_len == expected_len && memcmp(actual, expected, expected_len) == 0;
}

/* ipnet_to_string of the value, freed here. */
static void check_ipnet_text(const struct ipnet *value, const char *expected, int line)
{
    char *err = NULL;
    char *text = ipnet_to_string(value, &err);
    tl_check_str(text, expected, __FILE__, line, "ipnet_to_string");
    tl_check(err == NULL, __FILE__, line, "no error expected: %s", err ? err : "");
    free(text);
    free(err);
}

static void test_constants(void)
{
    CHECK_EQ_INT(IPV4LEN, 4);
    CHECK_EQ_INT(IPV6LEN, 16);
    CHECK_EQ_STR(CURRENT_VERSION, "0.3.1");
    CHECK_EQ_STR(current(), "0.3.1");
}

static void test_parse_cidr(void)
{
    struct ipnet *net = NULL;
    char *err = NULL;
    CHECK_EQ_INT(parse_cidr("10.1.2.3/24", &net, &err), 0);
    if (CHECK(net != NULL)) {
        const uint8_t ip[] = { 10, 1, 2, 3 }, mask[] = { 255, 255, 255, 0 };
        CHECK(bytes_equal(net->ip, net->ip_len, ip, sizeof(ip)));
        CHECK(bytes_equal(net->ip_mask, net->ip_mask_len, mask, sizeof(mask)));
        check_ipnet_text(net, "10.1.2.3/24", __LINE__);
    }
    free_ipnet_type(net);

    net = NULL;
    CHECK_EQ_INT(parse_cidr("fd00::1/64", &net, &err), 0);
    if (CHECK(net != NULL)) {
        const uint8_t ip[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
        const uint8_t mask[16] = { 255, 255, 255, 255, 255, 255, 255, 255 };
        CHECK(bytes_equal(net->ip, net->ip_len, ip, sizeof(ip)));
        CHECK(bytes_equal(net->ip_mask, net->ip_mask_len, mask, sizeof(mask)));
        check_ipnet_text(net, "fd00::1/64", __LINE__);
    }
    free_ipnet_type(net);

    net = NULL;
    CHECK_EQ_INT(parse_cidr("0.0.0.0/0", &net, &err), 0);
    if (CHECK(net != NULL)) {
        check_ipnet_text(net, "0.0.0.0/0", __LINE__);
    }
    free_ipnet_type(net);

    net = NULL;
    FAILED_WITH(parse_cidr("10.1.2.3", &net, &err) != 0, err, "Invalid CIDR address 10.1.2.3");
    FAILED_WITH(parse_cidr("10.1.2.3/33", &net, &err) != 0, err, "Invalid CIDR address 10.1.2.3/33");
    FAILED_WITH(parse_cidr("10.1.2.3/abc", &net, &err) != 0, err, "Invalid CIDR address 10.1.2.3/abc");
    FAILED_WITH(parse_cidr("10.1.2/24", &net, &err) != 0, err, "Invalid ip address: 10.1.2");
    FAILED_WITH(parse_cidr(NULL, &net, &err) != 0, err, "cidr_str must not be NULL");
    FAILED_WITH(parse_cidr("10.1.2.3/24", NULL, &err) != 0, err, "ipnet_val must not be NULL");
    CHECK(net == NULL);
    CHECK_EQ_INT(parse_cidr("10.1.2.3/24", &net, NULL), -1);
    CHECK(net == NULL);
}

static void test_ipnet_to_string(void)
{
    uint8_t ip[] = { 10, 1, 2, 3 };
    uint8_t odd_mask[] = { 255, 0, 255, 0 };
    struct ipnet odd = { .ip = ip, .ip_len = 4, .ip_mask = odd_mask, .ip_mask_len = 4 };
    check_ipnet_text(&odd, "10.1.2.3/ff00ff00", __LINE__);

    /* An IPv4-mapped address with a 16-byte mask prints as IPv4. */
    uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 7, 9 };
    uint8_t mapped_mask[16] = { 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 0, 0 };
    struct ipnet as_v4 = { .ip = mapped, .ip_len = 16, .ip_mask = mapped_mask, .ip_mask_len = 16 };
    check_ipnet_text(&as_v4, "192.168.7.9/16", __LINE__);

    char *err = NULL;
    struct ipnet short_ip = { .ip = ip, .ip_len = 3, .ip_mask = odd_mask, .ip_mask_len = 4 };
    FAILED_WITH(ipnet_to_string(&short_ip, &err) == NULL, err, "Invalid ip, len=3");
    struct ipnet short_mask = { .ip = ip, .ip_len = 4, .ip_mask = odd_mask, .ip_mask_len = 2 };
    FAILED_WITH(ipnet_to_string(&short_mask, &err) == NULL, err, "Invalid mask len: 2");
    struct ipnet missing = { .ip = NULL, .ip_len = 4 };
    FAILED_WITH(ipnet_to_string(&missing, &err) == NULL, err, "ip is NULL but its length is 4");
    FAILED_WITH(ipnet_to_string(NULL, &err) == NULL, err, "value must not be NULL");
    CHECK(ipnet_to_string(&odd, NULL) == NULL);
}

static void test_parse_ip_from_str(void)
{
    uint8_t *ip = NULL;
    size_t len = 0;
    char *err = NULL;
    const uint8_t v4[] = { 192, 168, 1, 1 };
    CHECK_EQ_INT(parse_ip_from_str("192.168.1.1", &ip, &len, &err), 0);
    CHECK(bytes_equal(ip, len, v4, sizeof(v4)));
    free(ip);

    ip = NULL;
    const uint8_t v6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    CHECK_EQ_INT(parse_ip_from_str("fe80::1", &ip, &len, &err), 0);
    CHECK(bytes_equal(ip, len, v6, sizeof(v6)));
    free(ip);

    ip = NULL;
    FAILED_WITH(parse_ip_from_str("256.1.1.1", &ip, &len, &err) != 0, err, "Invalid ip address: 256.1.1.1");
    FAILED_WITH(parse_ip_from_str("", &ip, &len, &err) != 0, err, "Invalid ip address: ");
    FAILED_WITH(parse_ip_from_str(NULL, &ip, &len, &err) != 0, err, "addr must not be NULL");
    FAILED_WITH(parse_ip_from_str("1.2.3.4", NULL, &len, &err) != 0, err, "ips and len must not be NULL");
    CHECK(ip == NULL);
}

static void check_ip_text(const uint8_t *ip, size_t len, const char *expected, int line)
{
    char *text = ip_to_string(ip, len);
    tl_check_str(text, expected, __FILE__, line, "ip_to_string");
    free(text);
}

static void test_ip_to_string(void)
{
    const uint8_t v4[] = { 10, 0, 0, 1 };
    const uint8_t v6[16] = { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1 };
    const uint8_t odd[] = { 1, 2, 0xab };
    check_ip_text(v4, 4, "10.0.0.1", __LINE__);
    check_ip_text(v6, 16, "fe80::1", __LINE__);
    check_ip_text(mapped, 16, "10.0.0.1", __LINE__);
    check_ip_text(odd, 3, "?0102ab", __LINE__);
    check_ip_text(NULL, 0, "<nil>", __LINE__);
    CHECK(ip_to_string(NULL, 4) == NULL);
}

/* What clibcni's fake bridge prints. */
#define BRIDGE_RESULT_031                                                                             \
    "{\"cniVersion\":\"0.3.1\",\"interfaces\":[{\"name\":\"eth0\",\"mac\":\"ab:ab:ab:ab:ab:ab\","    \
    "\"sandbox\":\"/proc/xx/ns/net\"}],\"ips\":[{\"version\":\"4\",\"address\":\"192.168.1.2/24\","   \
    "\"gateway\":\"192.168.1.1\",\"interface\":1}],\"routes\":[{\"dst\":\"192.168.1.0/24\","          \
    "\"gw\":\"192.168.1.1\"}],\"dns\":{\"nameservers\":[\"test.com\"],\"domain\":\"test.com\","       \
    "\"search\":[\"test\"],\"options\":[\"test\"]}}"

static void test_new_result(void)
{
    char *err = NULL;
    struct result *r = new_result("0.3.1", BRIDGE_RESULT_031, &err);
    CHECK(err == NULL);
    if (CHECK(r != NULL)) {
        CHECK_EQ_STR(r->cniversion, "0.3.1");
        CHECK(r->interfaces_len == 1 && strcmp(r->interfaces[0]->name, "eth0") == 0);
        if (CHECK(r->ips_len == 1)) {
            const uint8_t gw[] = { 192, 168, 1, 1 };
            CHECK_EQ_STR(r->ips[0]->version, "4");
            CHECK(r->ips[0]->interface != NULL && *r->ips[0]->interface == 1);
            CHECK(bytes_equal(r->ips[0]->gateway, r->ips[0]->gateway_len, gw, sizeof(gw)));
            check_ipnet_text(r->ips[0]->address, "192.168.1.2/24", __LINE__);
        }
        CHECK(r->routes_len == 1 && r->routes[0]->gw_len == 4);
        CHECK(r->my_dns != NULL && r->my_dns->options_len == 1 && strcmp(r->my_dns->options[0], "test") == 0);
    }
    free_result(r);

    /* Better than the original: a 1.0.0 result (no ips[].version), and IPv6. */
    r = new_result("1.0.0",
                   "{\"cniVersion\":\"1.0.0\",\"interfaces\":[{\"name\":\"eth0\"}],\"ips\":[{\"address\":"
                   "\"fd00::2/64\",\"gateway\":\"fd00::1\",\"interface\":0}]}",
                   &err);
    CHECK(err == NULL);
    if (CHECK(r != NULL)) {
        CHECK_EQ_STR(r->cniversion, "1.0.0");
        CHECK(r->interfaces_len == 1 && r->interfaces[0]->mac == NULL && r->interfaces[0]->sandbox == NULL);
        if (CHECK(r->ips_len == 1)) {
            CHECK_EQ_STR(r->ips[0]->version, "6");
            CHECK(r->ips[0]->gateway_len == 16 && r->ips[0]->address->ip_len == 16);
            check_ipnet_text(r->ips[0]->address, "fd00::2/64", __LINE__);
        }
        CHECK(r->routes_len == 0 && r->routes == NULL);
        /* An empty dns is still there. */
        CHECK(r->my_dns != NULL && r->my_dns->name_servers == NULL && r->my_dns->domain == NULL);
    }
    free_result(r);

    /* A 0.2.0 result, and a 0.3.1 result converted to the requested 1.0.0. */
    r = new_result("0.2.0", "{\"cniVersion\":\"0.2.0\",\"ip4\":{\"ip\":\"10.0.0.2/8\",\"gateway\":\"10.0.0.1\"}}", &err);
    if (CHECK(r != NULL)) {
        CHECK(r->interfaces_len == 0 && r->ips_len == 1 && r->ips[0]->interface == NULL);
    }
    free_result(r);
    r = new_result("1.0.0", BRIDGE_RESULT_031, &err);
    CHECK(r != NULL && strcmp(r->cniversion, "1.0.0") == 0);
    free_result(r);

    FAILED_WITH(new_result("0.9.0", BRIDGE_RESULT_031, &err) == NULL, err, "unsupported CNI result version \"0.9.0\"");
    FAILED_WITH(new_result("0.3.1", "{\"cniVersion\":\"0.3.1\",", &err) == NULL, err,
                "failed to unmarshal raw result: unexpected end of JSON input");
    FAILED_WITH(new_result("0.3.1", "{\"ips\":[{\"address\":\"10.0.0.300/8\"}]}", &err) == NULL, err,
                "invalid CIDR address: 10.0.0.300/8");
    FAILED_WITH(new_result(NULL, "{}", &err) == NULL, err, "version must not be NULL");
    CHECK(new_result("0.3.1", "{}", NULL) == NULL);
}

static void test_plugin_info(void)
{
    char *err = NULL;
    const char *versions[] = { "0.1.0", "0.2.0" };
    struct plugin_info *info = plugin_supports(versions, 2, &err);
    if (CHECK(info != NULL)) {
        CHECK_EQ_STR(info->cniversion, CURRENT_VERSION);
        CHECK(info->supported_versions_len == 2);
        CHECK_EQ_STR(info->supported_versions[1], "0.2.0");
    }
    free_plugin_info(info);
    FAILED_WITH(plugin_supports(versions, 0, &err) == NULL, err, "Invalid version argument");
    FAILED_WITH(plugin_supports(NULL, 2, &err) == NULL, err, "Invalid version argument");

    info = plugin_info_decode("{\"cniVersion\":\"0.4.0\",\"supportedVersions\":[\"0.3.1\",\"0.4.0\"]}", &err);
    if (CHECK(info != NULL)) {
        CHECK_EQ_STR(info->cniversion, "0.4.0");
        CHECK(info->supported_versions_len == 2);
    }
    free_plugin_info(info);
    info = plugin_info_decode("{\"cniVersion\":\"0.2.0\"}", &err);
    if (CHECK(info != NULL)) {
        CHECK(info->supported_versions_len == 2);
        CHECK_EQ_STR(info->supported_versions[0], "0.1.0");
    }
    free_plugin_info(info);
    FAILED_WITH(plugin_info_decode("{\"cniVersion\":\"0.3.1\"}", &err) == NULL, err,
                "decoding version info: missing field supportedVersions");
    FAILED_WITH(plugin_info_decode("{\"supportedVersions\":[\"0.3.1\"]}", &err) == NULL, err,
                "decoding version info: missing field cniVersion");
    FAILED_WITH(plugin_info_decode(NULL, &err) == NULL, err, "jsonstr must not be NULL");
    CHECK(plugin_info_decode("{}", NULL) == NULL);
}

static void test_cniversion_decode(void)
{
    char *err = NULL;
    char *v = cniversion_decode("{\"cniVersion\":\"0.4.0\",\"name\":\"x\"}", &err);
    CHECK_EQ_STR(v, "0.4.0");
    free(v);
    v = cniversion_decode("{\"name\":\"x\"}", &err);
    CHECK_EQ_STR(v, "0.1.0");
    free(v);
    v = cniversion_decode("{\"cniVersion\":\"\"}", &err);
    CHECK_EQ_STR(v, "0.1.0");
    free(v);
    v = cniversion_decode("[1]", &err);
    CHECK(v == NULL);
    CHECK_EQ_STR(err, "decoding config \"[1]\", failed: not a JSON object");
    free(err);
    err = NULL;
    v = cniversion_decode("{", &err);
    CHECK(v == NULL && err != NULL && strncmp(err, "decoding config \"{\", failed: ", 29) == 0);
    free(err);
}

static void test_free_functions(void)
{
    free_ipnet_type(NULL);
    free_ipconfig_type(NULL);
    free_route_type(NULL);
    free_interface_type(NULL);
    free_dns_type(NULL);
    free_result(NULL);
    free_plugin_info(NULL);

    /* Parts allocated by the caller with libc are released by the matching free_*. */
    struct interface *i = calloc(1, sizeof(*i));
    if (CHECK(i != NULL)) {
        i->name = strdup("eth0");
        i->mac = strdup("aa:bb:cc:dd:ee:ff");
    }
    free_interface_type(i);
    struct dns *d = calloc(1, sizeof(*d));
    if (CHECK(d != NULL)) {
        d->name_servers = calloc(1, sizeof(char *));
        if (d->name_servers != NULL) {
            d->name_servers[0] = strdup("10.0.0.1");
            d->name_servers_len = 1;
        }
        d->domain = strdup("example.org");
    }
    free_dns_type(d);
    struct route *rt = calloc(1, sizeof(*rt));
    char *err = NULL;
    if (CHECK(rt != NULL)) {
        CHECK_EQ_INT(parse_cidr("10.0.0.0/8", &rt->dst, &err), 0);
        CHECK_EQ_INT(parse_ip_from_str("10.0.0.1", &rt->gw, &rt->gw_len, &err), 0);
    }
    free_route_type(rt);
    struct ipconfig *ipc = calloc(1, sizeof(*ipc));
    if (CHECK(ipc != NULL)) {
        ipc->version = strdup("4");
        ipc->interface = calloc(1, sizeof(int32_t));
        CHECK_EQ_INT(parse_cidr("10.0.0.2/8", &ipc->address, &err), 0);
    }
    free_ipconfig_type(ipc);
}

int main(void)
{
    test_constants();
    test_parse_cidr();
    test_ipnet_to_string();
    test_parse_ip_from_str();
    test_ip_to_string();
    test_new_result();
    test_plugin_info();
    test_cniversion_decode();
    test_free_functions();
    return test_summary("test_legacy_types");
}
