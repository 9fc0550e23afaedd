//! The C structs of `network_api.h`: layout-identical mirrors of the isula_libutils types it uses
//! (replaced by iSulad's own under `CLIBCNI_ISULAD_HEADERS`) and the module's own request and result types.

#![allow(non_camel_case_types)]

use std::os::raw::{c_char, c_int};

use super::*;

/// yajl's parsed value: the `_residual` member of isula_libutils types (never set here).
pub struct yajl_val_s {
    _private: [u8; 0],
}
pub type yajl_val = *mut yajl_val_s;

/// isula_libutils `json_map_string_string`.
#[cfg(not(clibcni_isulad_headers))]
#[repr(C)]
pub struct json_map_string_string_t {
    pub keys: *mut *mut c_char,
    pub values: *mut *mut c_char,
    pub len: usize,
}
#[cfg(not(clibcni_isulad_headers))]
pub type json_map_string_string = json_map_string_string_t;

/// isula_libutils `network_create_request`.
#[cfg(not(clibcni_isulad_headers))]
#[repr(C)]
pub struct network_create_request_t {
    pub name: *mut c_char,
    pub driver: *mut c_char,
    pub gateway: *mut c_char,
    pub internal: bool,
    pub subnet: *mut c_char,
    pub _residual: yajl_val,
}
#[cfg(not(clibcni_isulad_headers))]
pub type network_create_request = network_create_request_t;

/// isula_libutils `network_network_info`.
#[cfg(not(clibcni_isulad_headers))]
#[repr(C)]
pub struct network_network_info_t {
    pub name: *mut c_char,
    pub version: *mut c_char,
    pub plugins: *mut *mut c_char,
    pub plugins_len: usize,
    pub _residual: yajl_val,
}
#[cfg(not(clibcni_isulad_headers))]
pub type network_network_info = network_network_info_t;

/// isula_libutils `cni_inner_port_mapping`.
#[cfg(not(clibcni_isulad_headers))]
#[repr(C)]
pub struct cni_inner_port_mapping_t {
    pub host_port: i32,
    pub container_port: i32,
    pub protocol: *mut c_char,
    pub host_ip: *mut c_char,
    pub _residual: yajl_val,
}
#[cfg(not(clibcni_isulad_headers))]
pub type cni_inner_port_mapping = cni_inner_port_mapping_t;

/// isula_libutils `defs_map_string_object_port_bindings` (only referenced by pointer here).
#[cfg(not(clibcni_isulad_headers))]
pub struct defs_map_string_object_port_bindings_t {
    _private: [u8; 0],
}
#[cfg(not(clibcni_isulad_headers))]
pub type defs_map_string_object_port_bindings = defs_map_string_object_port_bindings_t;

/// isula_libutils `defs_map_string_object_networks_element`.
#[cfg(not(clibcni_isulad_headers))]
#[repr(C)]
pub struct defs_map_string_object_networks_element_t {
    pub links: *mut *mut c_char,
    pub links_len: usize,
    pub alias: *mut *mut c_char,
    pub alias_len: usize,
    pub network_id: *mut c_char,
    pub endpoint_id: *mut c_char,
    pub gateway: *mut c_char,
    pub ip_address: *mut c_char,
    pub ip_prefix_len: c_int,
    pub i_pv6gateway: *mut c_char,
    pub global_i_pv6address: *mut c_char,
    pub global_i_pv6prefix_len: c_int,
    pub mac_address: *mut c_char,
    pub if_name: *mut c_char,
    pub driver_opts: *mut json_map_string_string,
    pub _residual: yajl_val,
}
#[cfg(not(clibcni_isulad_headers))]
pub type defs_map_string_object_networks_element = defs_map_string_object_networks_element_t;

/// isula_libutils `defs_map_string_object_networks`.
#[cfg(not(clibcni_isulad_headers))]
#[repr(C)]
pub struct defs_map_string_object_networks_t {
    pub keys: *mut *mut c_char,
    pub values: *mut *mut defs_map_string_object_networks_element,
    pub len: usize,
}
#[cfg(not(clibcni_isulad_headers))]
pub type defs_map_string_object_networks = defs_map_string_object_networks_t;

/// isula_libutils `container_network_settings`.
#[cfg(not(clibcni_isulad_headers))]
#[repr(C)]
pub struct container_network_settings_t {
    pub bridge: *mut c_char,
    pub sandbox_id: *mut c_char,
    pub link_local_i_pv6address: *mut c_char,
    pub link_local_i_pv6prefix_len: c_int,
    pub ports: *mut defs_map_string_object_port_bindings,
    pub cni_ports: *mut *mut cni_inner_port_mapping,
    pub cni_ports_len: usize,
    pub sandbox_key: *mut c_char,
    pub endpoint_id: *mut c_char,
    pub gateway: *mut c_char,
    pub global_i_pv6address: *mut c_char,
    pub global_i_pv6prefix_len: c_int,
    pub ip_address: *mut c_char,
    pub ip_prefix_len: c_int,
    pub i_pv6gateway: *mut c_char,
    pub mac_address: *mut c_char,
    pub activation: bool,
    pub networks: *mut defs_map_string_object_networks,
    pub _residual: yajl_val,
}
#[cfg(not(clibcni_isulad_headers))]
pub type container_network_settings = container_network_settings_t;

/// A network to join and the interface to use for it.
#[repr(C)]
pub struct attach_net_conf {
    pub name: *mut c_char,
    pub interface: *mut c_char,
}

/// What to attach. (iSulad nests `extral_nets`/`extral_nets_len` in an anonymous struct; the
/// layout is the same.)
#[repr(C)]
pub struct network_api_conf_t {
    pub name: *mut c_char,
    pub ns: *mut c_char,
    pub pod_id: *mut c_char,
    pub netns_path: *mut c_char,
    pub default_interface: *mut c_char,
    pub extral_nets: *mut *mut attach_net_conf,
    pub extral_nets_len: usize,
    pub args: *mut json_map_string_string,
    pub annotations: *mut map_t,
}
pub type network_api_conf = network_api_conf_t;

/// One attached network: `ips[i]` ("address/prefix") and `gateway[i]` are parallel.
#[repr(C)]
pub struct network_api_result {
    pub name: *mut c_char,
    pub interface: *mut c_char,
    pub ips: *mut *mut c_char,
    pub gateway: *mut *mut c_char,
    pub ips_len: usize,
    pub mac: *mut c_char,
}

#[repr(C)]
pub struct network_api_result_list_t {
    pub items: *mut *mut network_api_result,
    pub len: usize,
    pub cap: usize,
}
pub type network_api_result_list = network_api_result_list_t;
