/*
 * One translation unit with both APIs of libclibcni.so: iSulad's network_api.h and the legacy
 * clibcni/api.h (with its version.h and types.h). They must not clash, and the legacy structs
 * must have clibcni 2.1.0's layout (checked member by member, in units of pointers).
 */
#define _GNU_SOURCE

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "network_api.h"
#include <clibcni/api.h>
/* A second inclusion is harmless (include guards, current() included). */
#include <clibcni/version.h>

#include "testlib.h"

#define P sizeof(void *)
#define AT(type, member, words) _Static_assert(offsetof(type, member) == (words) * P, #type "." #member)
#define SIZE(type, words) _Static_assert(sizeof(type) == (words) * P, "sizeof " #type)

AT(struct cni_port_mapping, protocol, 1);
AT(struct cni_port_mapping, host_ip, 2);
SIZE(struct cni_port_mapping, 3);
AT(struct runtime_conf, args, 3);
AT(struct runtime_conf, args_len, 4);
AT(struct runtime_conf, p_mapping, 5);
AT(struct runtime_conf, p_mapping_len, 6);
SIZE(struct runtime_conf, 7);
AT(struct cni_network_conf, type, 1);
AT(struct cni_network_conf, bytes, 2);
AT(struct cni_network_list_conf, first_plugin_name, 1);
AT(struct cni_network_list_conf, name, 3);
AT(struct cni_network_list_conf, bytes, 4);
AT(struct ipnet, ip_mask, 2);
SIZE(struct ipnet, 4);
AT(struct ipconfig, interface, 1);
AT(struct ipconfig, address, 2);
AT(struct ipconfig, gateway_len, 4);
AT(struct route, gw, 1);
SIZE(struct route, 3);
AT(struct interface, sandbox, 2);
AT(struct dns, domain, 2);
AT(struct dns, options_len, 6);
AT(struct result, interfaces, 1);
AT(struct result, ips, 3);
AT(struct result, routes, 5);
AT(struct result, my_dns, 7);
SIZE(struct result, 8);
AT(struct plugin_info, supported_versions_len, 2);
AT(struct result_factories, new_result_op, 1);

/* The original's constructor type still fits new_result's parsing half. */
static struct result *parse_031(const char *json_data, char **err)
{
    return new_result(CURRENT_VERSION, json_data, err);
}

int main(void)
{
    /* Both APIs link and answer. */
    network_module_set_plugin_timeout(CLIBCNI_DEFAULT_PLUGIN_TIMEOUT);
    CHECK(network_module_last_error() == NULL);

    const char *versions[] = { CURRENT_VERSION, NULL };
    struct result_factories factory = { .supported_versions = versions, .new_result_op = parse_031 };
    char *err = NULL;
    struct result *r = factory.new_result_op("{\"cniVersion\":\"0.3.1\",\"dns\":{}}", &err);
    CHECK(r != NULL && err == NULL && strcmp(r->cniversion, current()) == 0);
    free_result(r);

    struct cni_network_list_conf *list = NULL;
    CHECK_EQ_INT(cni_conflist_from_bytes("{\"name\":\"both\",\"plugins\":[{\"type\":\"loopback\"}]}", &list, &err), 0);
    CHECK(list != NULL && list->plugin_len == 1);
    free_cni_network_list_conf(list);
    return test_summary("test_legacy_both_headers");
}
