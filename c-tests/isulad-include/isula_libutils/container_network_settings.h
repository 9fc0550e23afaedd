/* Stand-in for lcr's generated isula_libutils/container_network_settings.h. */
#ifndef ISULA_LIBUTILS_CONTAINER_NETWORK_SETTINGS_H
#define ISULA_LIBUTILS_CONTAINER_NETWORK_SETTINGS_H

#include <isula_libutils/json_common.h>
#include <isula_libutils/cni_inner_port_mapping.h>

/* The port bindings map is only used through a pointer here; its element type is left opaque. */
typedef struct {
    char **keys;
    struct defs_map_string_object_port_bindings_element **values;
    size_t len;
} defs_map_string_object_port_bindings;

typedef struct {
    char **links;
    size_t links_len;
    char **alias;
    size_t alias_len;
    char *network_id;
    char *endpoint_id;
    char *gateway;
    char *ip_address;
    int ip_prefix_len;
    char *i_pv6gateway;
    char *global_i_pv6address;
    int global_i_pv6prefix_len;
    char *mac_address;
    char *if_name;
    json_map_string_string *driver_opts;
    yajl_val _residual;
} defs_map_string_object_networks_element;

typedef struct {
    char **keys;
    defs_map_string_object_networks_element **values;
    size_t len;
} defs_map_string_object_networks;

typedef struct {
    char *bridge;
    char *sandbox_id;
    char *link_local_i_pv6address;
    int link_local_i_pv6prefix_len;
    defs_map_string_object_port_bindings *ports;
    cni_inner_port_mapping **cni_ports;
    size_t cni_ports_len;
    char *sandbox_key;
    char *endpoint_id;
    char *gateway;
    char *global_i_pv6address;
    int global_i_pv6prefix_len;
    char *ip_address;
    int ip_prefix_len;
    char *i_pv6gateway;
    char *mac_address;
    bool activation;
    defs_map_string_object_networks *networks;
    yajl_val _residual;
} container_network_settings;

void free_container_network_settings(container_network_settings *ptr);

#endif
