/*
 * The ABI facts that test_abi.c (standalone header) and test_abi_isulad.c (header inside iSulad's
 * build, -DCLIBCNI_ISULAD_HEADERS) both prove. Include once, after network_api.h, in a test.
 *
 * Sizes and offsets are iSulad's LP64 layouts (docs/isulad-network-abi.md §1, §2), written out
 * by hand rather than computed from any header, so a change on either side is a compile error.
 */
#ifndef CLIBCNI_ABI_CHECKS_H
#define CLIBCNI_ABI_CHECKS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "network_api.h"
#include "testlib.h"

#define ABI_SIZE(type, size) _Static_assert(sizeof(type) == (size), "sizeof(" #type ") != " #size)
#define ABI_FIELD(type, field, offset) \
    _Static_assert(offsetof(type, field) == (offset), "offsetof(" #type ", " #field ") != " #offset)

_Static_assert(sizeof(void *) == 8 && sizeof(size_t) == 8 && sizeof(int) == 4 && sizeof(bool) == 1,
               "the layouts below are LP64's");

/* --- network_api.h ------------------------------------------------------------------------- */

ABI_SIZE(struct attach_net_conf, 16);
ABI_FIELD(struct attach_net_conf, name, 0);
ABI_FIELD(struct attach_net_conf, interface, 8);

ABI_SIZE(network_api_conf, 72);
ABI_FIELD(network_api_conf, name, 0);
ABI_FIELD(network_api_conf, ns, 8);
ABI_FIELD(network_api_conf, pod_id, 16);
ABI_FIELD(network_api_conf, netns_path, 24);
ABI_FIELD(network_api_conf, default_interface, 32);
ABI_FIELD(network_api_conf, extral_nets, 40);
ABI_FIELD(network_api_conf, extral_nets_len, 48);
ABI_FIELD(network_api_conf, args, 56);
ABI_FIELD(network_api_conf, annotations, 64);

ABI_SIZE(struct network_api_result, 48);
ABI_FIELD(struct network_api_result, name, 0);
ABI_FIELD(struct network_api_result, interface, 8);
ABI_FIELD(struct network_api_result, ips, 16);
ABI_FIELD(struct network_api_result, gateway, 24);
ABI_FIELD(struct network_api_result, ips_len, 32);
ABI_FIELD(struct network_api_result, mac, 40);

ABI_SIZE(network_api_result_list, 24);
ABI_FIELD(network_api_result_list, items, 0);
ABI_FIELD(network_api_result_list, len, 8);
ABI_FIELD(network_api_result_list, cap, 16);

/* --- isula_libutils types ------------------------------------------------------------------ */

ABI_SIZE(json_map_string_string, 24);
ABI_FIELD(json_map_string_string, keys, 0);
ABI_FIELD(json_map_string_string, values, 8);
ABI_FIELD(json_map_string_string, len, 16);

ABI_SIZE(network_create_request, 48);
ABI_FIELD(network_create_request, name, 0);
ABI_FIELD(network_create_request, driver, 8);
ABI_FIELD(network_create_request, gateway, 16);
ABI_FIELD(network_create_request, internal, 24);
ABI_FIELD(network_create_request, subnet, 32);
ABI_FIELD(network_create_request, _residual, 40);

ABI_SIZE(network_network_info, 40);
ABI_FIELD(network_network_info, name, 0);
ABI_FIELD(network_network_info, version, 8);
ABI_FIELD(network_network_info, plugins, 16);
ABI_FIELD(network_network_info, plugins_len, 24);
ABI_FIELD(network_network_info, _residual, 32);

ABI_SIZE(cni_inner_port_mapping, 32);
ABI_FIELD(cni_inner_port_mapping, host_port, 0);
ABI_FIELD(cni_inner_port_mapping, container_port, 4);
ABI_FIELD(cni_inner_port_mapping, protocol, 8);
ABI_FIELD(cni_inner_port_mapping, host_ip, 16);
ABI_FIELD(cni_inner_port_mapping, _residual, 24);

ABI_SIZE(defs_map_string_object_networks_element, 128);
ABI_FIELD(defs_map_string_object_networks_element, links, 0);
ABI_FIELD(defs_map_string_object_networks_element, links_len, 8);
ABI_FIELD(defs_map_string_object_networks_element, alias, 16);
ABI_FIELD(defs_map_string_object_networks_element, alias_len, 24);
ABI_FIELD(defs_map_string_object_networks_element, network_id, 32);
ABI_FIELD(defs_map_string_object_networks_element, endpoint_id, 40);
ABI_FIELD(defs_map_string_object_networks_element, gateway, 48);
ABI_FIELD(defs_map_string_object_networks_element, ip_address, 56);
ABI_FIELD(defs_map_string_object_networks_element, ip_prefix_len, 64);
ABI_FIELD(defs_map_string_object_networks_element, i_pv6gateway, 72);
ABI_FIELD(defs_map_string_object_networks_element, global_i_pv6address, 80);
ABI_FIELD(defs_map_string_object_networks_element, global_i_pv6prefix_len, 88);
ABI_FIELD(defs_map_string_object_networks_element, mac_address, 96);
ABI_FIELD(defs_map_string_object_networks_element, if_name, 104);
ABI_FIELD(defs_map_string_object_networks_element, driver_opts, 112);
ABI_FIELD(defs_map_string_object_networks_element, _residual, 120);

ABI_SIZE(defs_map_string_object_networks, 24);
ABI_FIELD(defs_map_string_object_networks, keys, 0);
ABI_FIELD(defs_map_string_object_networks, values, 8);
ABI_FIELD(defs_map_string_object_networks, len, 16);

ABI_SIZE(container_network_settings, 152);
ABI_FIELD(container_network_settings, bridge, 0);
ABI_FIELD(container_network_settings, sandbox_id, 8);
ABI_FIELD(container_network_settings, link_local_i_pv6address, 16);
ABI_FIELD(container_network_settings, link_local_i_pv6prefix_len, 24);
ABI_FIELD(container_network_settings, ports, 32);
ABI_FIELD(container_network_settings, cni_ports, 40);
ABI_FIELD(container_network_settings, cni_ports_len, 48);
ABI_FIELD(container_network_settings, sandbox_key, 56);
ABI_FIELD(container_network_settings, endpoint_id, 64);
ABI_FIELD(container_network_settings, gateway, 72);
ABI_FIELD(container_network_settings, global_i_pv6address, 80);
ABI_FIELD(container_network_settings, global_i_pv6prefix_len, 88);
ABI_FIELD(container_network_settings, ip_address, 96);
ABI_FIELD(container_network_settings, ip_prefix_len, 104);
ABI_FIELD(container_network_settings, i_pv6gateway, 112);
ABI_FIELD(container_network_settings, mac_address, 120);
ABI_FIELD(container_network_settings, activation, 128);
ABI_FIELD(container_network_settings, networks, 136);
ABI_FIELD(container_network_settings, _residual, 144);

/* --- exported functions -------------------------------------------------------------------- */

/* Every export, assigned to a pointer typed with the prototype iSulad declares (network_api.h,
 * network_tools.h) or clibcni documents (the two additions): any drift fails to compile. */
static void abi_check_exports(void)
{
    void (*free_result)(struct network_api_result *) = free_network_api_result;
    void (*free_result_list)(network_api_result_list *) = free_network_api_result_list;
    void (*free_net)(struct attach_net_conf *) = free_attach_net_conf;
    void (*free_conf)(network_api_conf *) = free_network_api_conf;
    bool (*init)(const char *, const char *, const char *, const char *) = network_module_init;
    int (*attach)(const network_api_conf *, const char *, network_api_result_list **) = network_module_attach;
    int (*check)(const network_api_conf *, const char *, network_api_result_list **) = network_module_check;
    int (*detach)(const network_api_conf *, const char *) = network_module_detach;
    int (*conf_create)(const char *, const network_create_request *, char **, uint32_t *) = network_module_conf_create;
    int (*conf_inspect)(const char *, const char *, char **) = network_module_conf_inspect;
    int (*conf_list)(const char *, const struct filters_args *, network_network_info ***, size_t *) =
        network_module_conf_list;
    int (*conf_rm)(const char *, const char *, char **) = network_module_conf_rm;
    bool (*ready)(const char *) = network_module_ready;
    int (*update)(const char *) = network_module_update;
    void (*module_exit)(void) = network_module_exit;
    int (*insert_portmapping)(const char *, network_api_conf *) = network_module_insert_portmapping;
    int (*insert_bandwidth)(const char *, network_api_conf *) = network_module_insert_bandwidth;
    int (*insert_iprange)(const char *, network_api_conf *) = network_module_insert_iprange;
    int (*exist)(const char *, const char *) = network_module_exist;
    int (*container_list_add)(const char *, const char *, const char *) = network_module_container_list_add;
    int (*update_info)(const network_api_result_list *, const char *, const char *, container_network_settings *) =
        cni_update_container_networks_info;
    const char *(*last_error)(void) = network_module_last_error;
    void (*set_plugin_timeout)(unsigned int) = network_module_set_plugin_timeout;

    CHECK(free_result != NULL);
    CHECK(free_result_list != NULL);
    CHECK(free_net != NULL);
    CHECK(free_conf != NULL);
    CHECK(init != NULL);
    CHECK(attach != NULL);
    CHECK(check != NULL);
    CHECK(detach != NULL);
    CHECK(conf_create != NULL);
    CHECK(conf_inspect != NULL);
    CHECK(conf_list != NULL);
    CHECK(conf_rm != NULL);
    CHECK(ready != NULL);
    CHECK(update != NULL);
    CHECK(module_exit != NULL);
    CHECK(insert_portmapping != NULL);
    CHECK(insert_bandwidth != NULL);
    CHECK(insert_iprange != NULL);
    CHECK(exist != NULL);
    CHECK(container_list_add != NULL);
    CHECK(update_info != NULL);
    CHECK(last_error != NULL);
    CHECK(set_plugin_timeout != NULL);
}

/* The macros iSulad's callers use (the misspelling is iSulad's). */
static void abi_check_macros(void)
{
    CHECK_EQ_STR(NETWOKR_API_TYPE_NATIVE, "native");
    CHECK_EQ_STR(NETWOKR_API_TYPE_CRI, "cri");
    CHECK_EQ_INT(CLIBCNI_DEFAULT_PLUGIN_TIMEOUT, 120);
}

#endif /* CLIBCNI_ABI_CHECKS_H */
