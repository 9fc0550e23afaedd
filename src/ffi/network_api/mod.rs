//! `network_api.h`: iSulad's network module API (`network_module_*`, the `free_*` functions,
//! `cni_update_container_networks_info`) and three additions (`network_module_last_error`,
//! `network_module_set_plugin_timeout`, `network_module_set_log_sink`).

#![allow(non_camel_case_types)]

mod log_sink;
pub use log_sink::{network_module_log_fn, network_module_log_record, network_module_set_log_sink};

use std::os::raw::{c_char, c_int, c_uint, c_void};
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use once_cell::sync::Lazy;

use crate::ffi::alloc::{
    c_calloc, c_strdup, c_string_array, free, free_string_array, opt_str, req_str,
};
use crate::ffi::guard::{guard, last_error, report_reason, report_warning};
use crate::ffi::host::{missing, HOST, MAP_STR_STR};
use crate::network::error::NetError;
use crate::network::native::plan::CreateRequest;
use crate::network::native::NetworkInfo;
use crate::network::types::{Annotations, ApiResult, AttachRequest, ExtraNet};
use crate::network::{ModuleConfig, NetworkModule, NetworkType, MAX_EXTRA_NETWORKS};

/// iSulad's map (`map.h`), owned by the daemon.
pub struct map_t {
    _private: [u8; 0],
}

/// iSulad's list filters (`filters.h`), owned by the daemon.
pub struct filters_args {
    _private: [u8; 0],
}

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

/// The module set up by `network_module_init`.
static MODULE: Lazy<RwLock<Option<Arc<NetworkModule>>>> = Lazy::new(|| RwLock::new(None));

/// The default per-call plugin timeout in seconds; see `network_module_set_plugin_timeout`.
pub const CLIBCNI_DEFAULT_PLUGIN_TIMEOUT: c_uint = 120;
/// Timeout set by the caller (seconds + 1; 0 = never set).
static TIMEOUT_OVERRIDE: AtomicU64 = AtomicU64::new(0);

fn module() -> Result<Arc<NetworkModule>, String> {
    let guard = MODULE.read().unwrap_or_else(|p| p.into_inner());
    guard.clone().ok_or_else(|| {
        "network module is not initialized (call network_module_init first)".to_string()
    })
}

/// The plugin timeout: set by the caller, else `CLIBCNI_PLUGIN_TIMEOUT` read at init, else the default.
fn plugin_timeout() -> Option<Duration> {
    let seconds = match TIMEOUT_OVERRIDE.load(Ordering::Relaxed) {
        0 => std::env::var("CLIBCNI_PLUGIN_TIMEOUT")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(u64::from(CLIBCNI_DEFAULT_PLUGIN_TIMEOUT)),
        n => n - 1,
    };
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

fn network_type(ty: *const c_char) -> Result<NetworkType, String> {
    // SAFETY: the caller passes NULL or a C string.
    let name = unsafe { req_str(ty, "type") }?;
    NetworkType::parse(name).map_err(|e| e.msg)
}

/// Frees one `attach_net_conf` (NULL-safe).
#[no_mangle]
pub extern "C" fn free_attach_net_conf(ptr: *mut attach_net_conf) {
    guard("free_attach_net_conf", || {
        // SAFETY: the caller hands over a malloc'd struct (or NULL) with malloc'd strings.
        unsafe { free_attach_net_conf_unguarded(ptr) };
        Ok(())
    })
}

unsafe fn free_attach_net_conf_unguarded(ptr: *mut attach_net_conf) {
    if ptr.is_null() {
        return;
    }
    free((*ptr).name);
    free((*ptr).interface);
    free(ptr);
}

/// Frees a `network_api_conf` and everything it owns; `annotations` through the host's `map_free`.
#[no_mangle]
pub extern "C" fn free_network_api_conf(conf: *mut network_api_conf) {
    guard("free_network_api_conf", || {
        if conf.is_null() {
            return Ok(());
        }
        // SAFETY: the caller hands over a calloc'd conf whose members it allocated with libc
        // (annotations with the host's map_new).
        unsafe {
            let c = &mut *conf;
            for s in [c.name, c.ns, c.pod_id, c.netns_path, c.default_interface] {
                free(s);
            }
            if !c.extral_nets.is_null() {
                for i in 0..c.extral_nets_len {
                    free_attach_net_conf_unguarded(*c.extral_nets.add(i));
                }
                free(c.extral_nets);
            }
            free_json_map(c.args);
            if !c.annotations.is_null() {
                match HOST.map_free {
                    Some(map_free) => map_free(c.annotations),
                    None => return Err(missing("map_free")),
                }
            }
            free(conf);
        }
        Ok(())
    })
}

/// Frees a `json_map_string_string` (as isula_libutils' `free_json_map_string_string`).
unsafe fn free_json_map(map: *mut json_map_string_string) {
    if map.is_null() {
        return;
    }
    free_string_array((*map).keys, (*map).len);
    free_string_array((*map).values, (*map).len);
    free(map);
}

/// Frees one result (NULL-safe).
#[no_mangle]
pub extern "C" fn free_network_api_result(ptr: *mut network_api_result) {
    guard("free_network_api_result", || {
        // SAFETY: the struct and its members were allocated by this library with libc.
        unsafe { free_result_unguarded(ptr) };
        Ok(())
    })
}

unsafe fn free_result_unguarded(ptr: *mut network_api_result) {
    if ptr.is_null() {
        return;
    }
    let r = &mut *ptr;
    free(r.name);
    free(r.interface);
    free(r.mac);
    free_string_array(r.ips, r.ips_len);
    free_string_array(r.gateway, r.ips_len);
    free(ptr);
}

/// Frees a result list and its items (NULL-safe).
#[no_mangle]
pub extern "C" fn free_network_api_result_list(ptr: *mut network_api_result_list) {
    guard("free_network_api_result_list", || {
        // SAFETY: as for free_network_api_result.
        unsafe { free_result_list_unguarded(ptr) };
        Ok(())
    })
}

unsafe fn free_result_list_unguarded(ptr: *mut network_api_result_list) {
    if ptr.is_null() {
        return;
    }
    let list = &mut *ptr;
    if !list.items.is_null() {
        for i in 0..list.len {
            free_result_unguarded(*list.items.add(i));
        }
        free(list.items);
    }
    free(ptr);
}

/// Sets up the module: `conf_dir` defaults to /etc/cni/net.d, `bin_path` (';'-separated) to
/// /opt/cni/bin, `cache_dir` to /var/lib/cni. The "cri" type is enabled only when
/// `network_plugin` is not NULL. Calling it again replaces the module.
#[no_mangle]
pub extern "C" fn network_module_init(
    network_plugin: *const c_char,
    cache_dir: *const c_char,
    conf_dir: *const c_char,
    bin_path: *const c_char,
) -> bool {
    guard("network_module_init", || {
        // SAFETY: each argument is NULL or a C string.
        let (plugin, cache, conf, bins) = unsafe {
            (
                opt_str(network_plugin, "network_plugin")?,
                opt_str(cache_dir, "cache_dir")?,
                opt_str(conf_dir, "conf_dir")?,
                opt_str(bin_path, "bin_path")?,
            )
        };
        let config = ModuleConfig {
            network_plugin: plugin.map(str::to_string),
            cache_dir: cache.filter(|s| !s.is_empty()).map(PathBuf::from),
            conf_dir: conf.filter(|s| !s.is_empty()).map(PathBuf::from),
            bin_path: bins.filter(|s| !s.is_empty()).map(str::to_string),
            warnings: None,
            observer: None,
        };
        let module = NetworkModule::init(config).map_err(|e| e.msg)?;
        module.cni().set_timeout(plugin_timeout());
        *MODULE.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(module));
        Ok(true)
    })
}

/// Reads a `network_api_conf` into a request, refusing anything malformed.
unsafe fn read_conf(conf: *const network_api_conf) -> Result<AttachRequest, String> {
    if conf.is_null() {
        return Err("conf must not be NULL".into());
    }
    let c = &*conf;
    let text = |p: *mut c_char, field: &str| -> Result<String, String> {
        Ok(opt_str(p, field)?.unwrap_or_default().to_string())
    };
    if c.extral_nets_len > MAX_EXTRA_NETWORKS {
        return Err(format!(
            "Too many networks: {} (at most {MAX_EXTRA_NETWORKS})",
            c.extral_nets_len
        ));
    }
    if c.extral_nets_len > 0 && c.extral_nets.is_null() {
        return Err("extral_nets is NULL but extral_nets_len is not 0".into());
    }
    let mut extra_nets = Vec::with_capacity(c.extral_nets_len);
    for i in 0..c.extral_nets_len {
        let net = *c.extral_nets.add(i);
        if net.is_null() {
            return Err(format!("extral_nets[{i}] is NULL"));
        }
        extra_nets.push(ExtraNet {
            name: req_str((*net).name, &format!("extral_nets[{i}].name"))?.to_string(),
            interface: req_str((*net).interface, &format!("extral_nets[{i}].interface"))?
                .to_string(),
        });
    }
    Ok(AttachRequest {
        name: text(c.name, "name")?,
        namespace: text(c.ns, "ns")?,
        pod_id: text(c.pod_id, "pod_id")?,
        netns_path: text(c.netns_path, "netns_path")?,
        default_interface: text(c.default_interface, "default_interface")?,
        extra_nets,
        args: read_json_map(c.args)?,
        annotations: read_annotations(c.annotations)?,
    })
}

unsafe fn read_json_map(
    map: *const json_map_string_string,
) -> Result<Vec<(String, String)>, String> {
    if map.is_null() || (*map).len == 0 {
        return Ok(Vec::new());
    }
    let m = &*map;
    if m.keys.is_null() || m.values.is_null() {
        return Err("args has NULL keys or values".into());
    }
    (0..m.len)
        .map(|i| {
            Ok((
                req_str(*m.keys.add(i), &format!("args key {i}"))?.to_string(),
                req_str(*m.values.add(i), &format!("args value {i}"))?.to_string(),
            ))
        })
        .collect()
}

unsafe fn read_annotations(map: *mut map_t) -> Result<Annotations, String> {
    if map.is_null() {
        return Ok(Annotations::default());
    }
    let search = HOST.map_search.ok_or_else(|| missing("map_search"))?;
    let get = |key: &std::ffi::CStr| -> Result<Option<String>, String> {
        let value = search(map, key.as_ptr() as *mut c_void) as *const c_char;
        Ok(opt_str(value, &format!("annotation {key:?}"))?.map(str::to_string))
    };
    Ok(Annotations {
        port_mappings: get(c"portMappings")?,
        bandwidth: get(c"bandwidth")?,
        ip_ranges: get(c"ipRanges")?,
        aliases: get(c"aliases")?,
    })
}

/// A calloc'd `network_api_result_list` of the results; nothing stays allocated on failure.
fn result_list(results: &[ApiResult]) -> Result<*mut network_api_result_list, String> {
    let list = c_calloc::<network_api_result_list>(1)?;
    // SAFETY: list is a fresh zeroed struct; items is filled below and cleaned on failure.
    unsafe {
        (*list).items = match c_calloc::<*mut network_api_result>(results.len()) {
            Ok(items) => items,
            Err(e) => {
                free(list);
                return Err(e);
            }
        };
        (*list).cap = results.len();
        for r in results {
            match api_result(r) {
                Ok(item) => {
                    *(*list).items.add((*list).len) = item;
                    (*list).len += 1;
                }
                Err(e) => {
                    free_result_list_unguarded(list);
                    return Err(e);
                }
            }
        }
    }
    Ok(list)
}

fn api_result(r: &ApiResult) -> Result<*mut network_api_result, String> {
    let item = c_calloc::<network_api_result>(1)?;
    // SAFETY: item is a fresh zeroed struct; on any failure it is freed with what it holds.
    unsafe {
        let fill = || -> Result<(), String> {
            (*item).name = c_strdup(&r.name)?;
            (*item).interface = c_strdup(&r.interface)?;
            (*item).ips = c_string_array(&r.ips)?;
            (*item).ips_len = r.ips.len();
            (*item).gateway = c_string_array(&r.gateways)?;
            if let Some(mac) = &r.mac {
                (*item).mac = c_strdup(mac)?;
            }
            Ok(())
        };
        if let Err(e) = fill() {
            free_result_unguarded(item);
            return Err(e);
        }
    }
    Ok(item)
}

/// The shape of attach and check: read the conf, run, hand back a result list.
fn attach_like(
    conf: *const network_api_conf,
    ty: *const c_char,
    result: *mut *mut network_api_result_list,
    op: impl FnOnce(&NetworkModule, NetworkType, &AttachRequest) -> Result<Vec<ApiResult>, String>,
) -> Result<c_int, String> {
    if result.is_null() {
        return Err("result must not be NULL".into());
    }
    // SAFETY: result is a valid out-pointer; it is set to NULL first so failures leave NULL.
    unsafe { *result = ptr::null_mut() };
    // SAFETY: conf is NULL or a valid network_api_conf.
    let req = unsafe { read_conf(conf) }?;
    let ty = network_type(ty)?;
    let results = op(&*module()?, ty, &req)?;
    let list = result_list(&results)?;
    // SAFETY: as above.
    unsafe { *result = list };
    Ok(0)
}

/// Attaches loopback and the container's networks; `*result` gets one item per network.
/// On failure `*result` is NULL and the caller detaches to clean up.
#[no_mangle]
pub extern "C" fn network_module_attach(
    conf: *const network_api_conf,
    r#type: *const c_char,
    result: *mut *mut network_api_result_list,
) -> c_int {
    guard("network_module_attach", || {
        attach_like(conf, r#type, result, |m, ty, req| {
            m.attach(ty, req).map_err(|e| e.msg)
        })
    })
}

/// Runs CHECK on the container's networks; `*result` holds their cached results.
#[no_mangle]
pub extern "C" fn network_module_check(
    conf: *const network_api_conf,
    r#type: *const c_char,
    result: *mut *mut network_api_result_list,
) -> c_int {
    guard("network_module_check", || {
        attach_like(conf, r#type, result, |m, ty, req| {
            m.check(ty, req).map_err(|e| e.msg)
        })
    })
}

/// Detaches everything the container is attached to; every step is tried, the first error is
/// reported. A missing netns (`""`) is fine.
#[no_mangle]
pub extern "C" fn network_module_detach(
    conf: *const network_api_conf,
    r#type: *const c_char,
) -> c_int {
    guard("network_module_detach", || {
        // SAFETY: conf is NULL or a valid network_api_conf.
        let req = unsafe { read_conf(conf) }?;
        let ty = network_type(r#type)?;
        module()?.detach(ty, &req).map_err(|e| e.msg)?;
        Ok(0)
    })
}

/// Creates a native network. On success `*name` is its name (a warning about missing plugins
/// may be left in the error channel); on failure `*cc` is iSulad's error class.
#[no_mangle]
pub extern "C" fn network_module_conf_create(
    r#type: *const c_char,
    request: *const network_create_request,
    name: *mut *mut c_char,
    cc: *mut u32,
) -> c_int {
    guard("network_module_conf_create", || {
        let outcome = (|| {
            if request.is_null() || name.is_null() {
                return Err(NetError::input("request and name must not be NULL"));
            }
            let ty = network_type(r#type).map_err(NetError::input)?;
            // SAFETY: request is a valid network_create_request whose strings are NULL or C strings.
            let req = unsafe {
                let r = &*request;
                let field = |p: *mut c_char, what: &str| -> Result<Option<String>, NetError> {
                    Ok(opt_str(p, what)
                        .map_err(NetError::input)?
                        .map(str::to_string))
                };
                CreateRequest {
                    name: field(r.name, "name")?,
                    driver: field(r.driver, "driver")?,
                    gateway: field(r.gateway, "gateway")?,
                    internal: r.internal,
                    subnet: field(r.subnet, "subnet")?,
                }
            };
            module().map_err(NetError::exec)?.create(ty, &req)
        })();
        match outcome {
            Ok(created) => {
                // SAFETY: name is a valid out-pointer (checked above).
                unsafe { *name = c_strdup(&created.name)? };
                if let Some(warning) = created.warning {
                    report_warning(&warning);
                }
                Ok(0)
            }
            Err(e) => {
                if !cc.is_null() {
                    // SAFETY: cc is a valid out-pointer.
                    unsafe { *cc = e.cc };
                }
                Err(e.msg)
            }
        }
    })
}

/// `*network_json` = the native network's file text.
#[no_mangle]
pub extern "C" fn network_module_conf_inspect(
    r#type: *const c_char,
    name: *const c_char,
    network_json: *mut *mut c_char,
) -> c_int {
    guard("network_module_conf_inspect", || {
        if network_json.is_null() {
            return Err("network_json must not be NULL".into());
        }
        // SAFETY: name is NULL or a C string.
        let name = unsafe { req_str(name, "name") }?;
        let ty = network_type(r#type)?;
        let text = module()?.inspect(ty, name).map_err(|e| e.msg)?;
        // SAFETY: network_json is a valid out-pointer.
        unsafe { *network_json = c_strdup(&text)? };
        Ok(0)
    })
}

/// The native networks matching `filters` ("name", "plugin"; host semantics), in name order.
/// With none, the outputs are left untouched.
#[no_mangle]
pub extern "C" fn network_module_conf_list(
    r#type: *const c_char,
    filters: *const filters_args,
    networks: *mut *mut *mut network_network_info,
    networks_len: *mut usize,
) -> c_int {
    guard("network_module_conf_list", || {
        if networks.is_null() || networks_len.is_null() {
            return Err("networks and networks_len must not be NULL".into());
        }
        let ty = network_type(r#type)?;
        let matcher = match filters.is_null() {
            true => None,
            false => Some(
                HOST.filters_args_match
                    .ok_or_else(|| missing("filters_args_match"))?,
            ),
        };
        let matches = |field: &std::ffi::CStr, value: &str| -> bool {
            let Some(matcher) = matcher else { return true };
            let Ok(value) = std::ffi::CString::new(value) else {
                return false;
            };
            // SAFETY: filters is the caller's valid filters_args; both strings are NUL-terminated.
            unsafe { matcher(filters, field.as_ptr(), value.as_ptr()) }
        };
        let filter = |name: &str, plugins: &[String]| {
            matches(c"name", name) && plugins.iter().any(|p| matches(c"plugin", p))
        };
        let infos = module()?.list(ty, &filter).map_err(|e| e.msg)?;
        if infos.is_empty() {
            return Ok(0);
        }
        let array = c_calloc::<*mut network_network_info>(infos.len())?;
        for (i, info) in infos.iter().enumerate() {
            match network_info(info) {
                // SAFETY: i < infos.len(), the array's length.
                Ok(item) => unsafe { *array.add(i) = item },
                Err(e) => {
                    // SAFETY: the first i items were allocated here.
                    unsafe {
                        for j in 0..i {
                            free_network_info(*array.add(j));
                        }
                        free(array);
                    }
                    return Err(e);
                }
            }
        }
        // SAFETY: both are valid out-pointers (checked above).
        unsafe {
            *networks = array;
            *networks_len = infos.len();
        }
        Ok(0)
    })
}

fn network_info(info: &NetworkInfo) -> Result<*mut network_network_info, String> {
    let item = c_calloc::<network_network_info>(1)?;
    // SAFETY: item is fresh and zeroed; freed with its members on failure.
    unsafe {
        let fill = || -> Result<(), String> {
            (*item).name = c_strdup(&info.name)?;
            (*item).version = c_strdup(&info.version)?;
            (*item).plugins = c_string_array(&info.plugins)?;
            (*item).plugins_len = info.plugins.len();
            Ok(())
        };
        if let Err(e) = fill() {
            free_network_info(item);
            return Err(e);
        }
    }
    Ok(item)
}

/// As isula_libutils' `free_network_network_info` for what this library sets.
unsafe fn free_network_info(item: *mut network_network_info) {
    if item.is_null() {
        return;
    }
    free((*item).name);
    free((*item).version);
    free_string_array((*item).plugins, (*item).plugins_len);
    free(item);
}

/// Removes a native network that no container uses; `*res_name` = its name.
#[no_mangle]
pub extern "C" fn network_module_conf_rm(
    r#type: *const c_char,
    name: *const c_char,
    res_name: *mut *mut c_char,
) -> c_int {
    guard("network_module_conf_rm", || {
        if res_name.is_null() {
            return Err("res_name must not be NULL".into());
        }
        // SAFETY: name is NULL or a C string.
        let name = unsafe { req_str(name, "name") }?;
        let ty = network_type(r#type)?;
        let warnings = module()?.remove(ty, name).map_err(|e| e.msg)?;
        // SAFETY: res_name is a valid out-pointer.
        unsafe { *res_name = c_strdup(name)? };
        if !warnings.is_empty() {
            report_warning(&warnings.join("; "));
        }
        Ok(0)
    })
}

/// Whether the type is ready: "native" has a network; "cri" has a default network whose plugins
/// answered STATUS at the last update (1.1.0 lists). When not, this thread's last error says why
/// (the daemon's error message is left alone). An unknown type is not ready.
#[no_mangle]
pub extern "C" fn network_module_ready(r#type: *const c_char) -> bool {
    guard("network_module_ready", || {
        let ty = network_type(r#type)?;
        match module()?.readiness(ty) {
            Ok(()) => Ok(true),
            Err(reason) => {
                report_reason(&reason);
                Ok(false)
            }
        }
    })
}

/// Reloads the conf dir ("cri"); cheap when nothing changed.
#[no_mangle]
pub extern "C" fn network_module_update(r#type: *const c_char) -> c_int {
    guard("network_module_update", || {
        let ty = network_type(r#type)?;
        module()?.update(ty).map_err(|e| e.msg)?;
        Ok(0)
    })
}

/// Releases the module; `network_module_init` may be called again afterwards.
#[no_mangle]
pub extern "C" fn network_module_exit() {
    guard("network_module_exit", || {
        *MODULE.write().unwrap_or_else(|p| p.into_inner()) = None;
        Ok(())
    })
}

/// Stores an annotation in `conf->annotations` (created with the host's `map_new` if NULL).
fn insert_annotation(
    val: *const c_char,
    conf: *mut network_api_conf,
    key: &std::ffi::CStr,
) -> Result<c_int, String> {
    if val.is_null() {
        return Ok(0);
    }
    if conf.is_null() {
        return Err("conf must not be NULL".into());
    }
    // SAFETY: conf is a valid network_api_conf; val a C string the host map copies.
    unsafe {
        opt_str(val, &format!("{key:?}"))?;
        let c = &mut *conf;
        if c.annotations.is_null() {
            let map_new = HOST.map_new.ok_or_else(|| missing("map_new"))?;
            c.annotations = map_new(MAP_STR_STR, ptr::null_mut(), ptr::null_mut());
            if c.annotations.is_null() {
                return Err("map_new failed".into());
            }
        }
        let replace = HOST.map_replace.ok_or_else(|| missing("map_replace"))?;
        if !replace(
            c.annotations,
            key.as_ptr() as *mut c_void,
            val as *mut c_void,
        ) {
            return Err(format!("cannot store annotation {key:?}"));
        }
    }
    Ok(0)
}

#[no_mangle]
pub extern "C" fn network_module_insert_portmapping(
    val: *const c_char,
    conf: *mut network_api_conf,
) -> c_int {
    guard("network_module_insert_portmapping", || {
        insert_annotation(val, conf, c"portMappings")
    })
}

#[no_mangle]
pub extern "C" fn network_module_insert_bandwidth(
    val: *const c_char,
    conf: *mut network_api_conf,
) -> c_int {
    guard("network_module_insert_bandwidth", || {
        insert_annotation(val, conf, c"bandwidth")
    })
}

#[no_mangle]
pub extern "C" fn network_module_insert_iprange(
    val: *const c_char,
    conf: *mut network_api_conf,
) -> c_int {
    guard("network_module_insert_iprange", || {
        insert_annotation(val, conf, c"ipRanges")
    })
}

/// 1 if a native network of that name exists, 0 if not, -1 on error (e.g. an unknown type).
#[no_mangle]
pub extern "C" fn network_module_exist(r#type: *const c_char, name: *const c_char) -> c_int {
    guard("network_module_exist", || {
        // SAFETY: name is NULL or a C string.
        let name = unsafe { req_str(name, "name") }?;
        let ty = network_type(r#type)?;
        Ok(c_int::from(module()?.exists(ty, name).map_err(|e| e.msg)?))
    })
}

/// Records that a container is attached to a native network (daemon restore).
#[no_mangle]
pub extern "C" fn network_module_container_list_add(
    r#type: *const c_char,
    network_name: *const c_char,
    cont_id: *const c_char,
) -> c_int {
    guard("network_module_container_list_add", || {
        // SAFETY: both are NULL or C strings.
        let (network, container) = unsafe {
            (
                req_str(network_name, "network_name")?,
                req_str(cont_id, "cont_id")?,
            )
        };
        let ty = network_type(r#type)?;
        module()?
            .add_container(ty, network, container)
            .map_err(|e| e.msg)?;
        Ok(0)
    })
}

/// Releases the cached attachments of `type`'s networks ("native" or "cri") whose container is
/// not in `live_container_ids[0..len)` and was not attached since `network_module_init`: the
/// daemon calls it once after restoring its containers, so addresses, links and rules of
/// containers that died with the daemon are given back. For each: DEL with the cached
/// configuration, args and capability args (and CNI GC for 1.1.0 lists), then its cache entry
/// goes. Returns the number of attachments released, or -1 with every failure in the last error
/// (each is also logged at WARN); one failing network does not stop the others.
/// `live_container_ids` may be NULL only when `len` is 0.
#[no_mangle]
pub extern "C" fn network_module_gc(
    r#type: *const c_char,
    live_container_ids: *mut *const c_char,
    len: usize,
) -> c_int {
    guard("network_module_gc", || {
        let ty = network_type(r#type)?;
        if len > 0 && live_container_ids.is_null() {
            return Err("live_container_ids is NULL but len is not 0".into());
        }
        let mut live = Vec::with_capacity(len);
        for i in 0..len {
            // SAFETY: the caller passes `len` valid entries, each NULL or a C string.
            let id = unsafe {
                req_str(
                    *live_container_ids.add(i),
                    &format!("live_container_ids[{i}]"),
                )
            }?;
            live.push(id.to_string());
        }
        let released = module()?.gc(ty, &live).map_err(|e| e.msg)?;
        Ok(c_int::try_from(released).unwrap_or(c_int::MAX))
    })
}

/// This thread's last error message, or NULL; valid until the next call on this thread.
#[no_mangle]
pub extern "C" fn network_module_last_error() -> *const c_char {
    std::panic::catch_unwind(last_error).unwrap_or(ptr::null())
}

/// The per-call plugin timeout in seconds (0: none). Default `CLIBCNI_DEFAULT_PLUGIN_TIMEOUT`,
/// or `CLIBCNI_PLUGIN_TIMEOUT` from the environment at init.
#[no_mangle]
pub extern "C" fn network_module_set_plugin_timeout(seconds: c_uint) {
    guard("network_module_set_plugin_timeout", || {
        TIMEOUT_OVERRIDE.store(u64::from(seconds) + 1, Ordering::Relaxed);
        if let Ok(m) = module() {
            m.cni().set_timeout(plugin_timeout());
        }
        Ok(())
    })
}

/// Fills `settings->networks` from attach results (one entry per item, named after the
/// network) and sets `settings->sandbox_key`. On failure nothing is added.
#[no_mangle]
pub extern "C" fn cni_update_container_networks_info(
    result: *const network_api_result_list,
    id: *const c_char,
    netns_path: *const c_char,
    settings: *mut container_network_settings,
) -> c_int {
    guard("cni_update_container_networks_info", || {
        // SAFETY: the caller passes valid pointers (checked for NULL) to iSulad's structs.
        unsafe {
            if result.is_null() || (*result).len == 0 || (*result).items.is_null() {
                return Err("empty network result".into());
            }
            req_str(id, "id")?;
            let netns = req_str(netns_path, "netns_path")?;
            if settings.is_null() || (*settings).networks.is_null() {
                return Err("settings->networks must be allocated".into());
            }
            let networks = &mut *(*settings).networks;
            let before = networks.len;
            let list = &*result;
            let appended = (0..list.len).try_for_each(|i| {
                let item = *list.items.add(i);
                if item.is_null() {
                    return Ok(());
                }
                append_network(networks, &*item)
            });
            let sandbox_key = appended.and_then(|()| c_strdup(netns));
            match sandbox_key {
                Ok(key) => {
                    free((*settings).sandbox_key);
                    (*settings).sandbox_key = key;
                    Ok(0)
                }
                Err(e) => {
                    while networks.len > before {
                        networks.len -= 1;
                        free(*networks.keys.add(networks.len));
                        free_network_element(*networks.values.add(networks.len));
                    }
                    Err(e)
                }
            }
        }
    })
}

/// Appends `item` to the networks map (keys/values grown with realloc).
unsafe fn append_network(
    networks: &mut defs_map_string_object_networks,
    item: &network_api_result,
) -> Result<(), String> {
    let name = req_str(item.name, "result name")?;
    let element = c_calloc::<defs_map_string_object_networks_element>(1)?;
    let filled = fill_network_element(&mut *element, item);
    let key = filled.and_then(|()| c_strdup(name));
    let key = match key {
        Ok(key) => key,
        Err(e) => {
            free_network_element(element);
            return Err(e);
        }
    };
    let n = networks.len + 1;
    let keys = libc::realloc(
        networks.keys as *mut c_void,
        n * std::mem::size_of::<*mut c_char>(),
    ) as *mut *mut c_char;
    if !keys.is_null() {
        networks.keys = keys;
    }
    let values = libc::realloc(
        networks.values as *mut c_void,
        n * std::mem::size_of::<*mut c_void>(),
    ) as *mut *mut defs_map_string_object_networks_element;
    if !values.is_null() {
        networks.values = values;
    }
    if keys.is_null() || values.is_null() {
        free(key);
        free_network_element(element);
        return Err("out of memory".into());
    }
    *networks.keys.add(networks.len) = key;
    *networks.values.add(networks.len) = element;
    networks.len = n;
    Ok(())
}

/// Interface, MAC and the first address ("addr/prefix") with its gateway, by family.
unsafe fn fill_network_element(
    e: &mut defs_map_string_object_networks_element,
    item: &network_api_result,
) -> Result<(), String> {
    if let Some(ifname) = opt_str(item.interface, "interface")? {
        e.if_name = c_strdup(ifname)?;
    }
    if let Some(mac) = opt_str(item.mac, "mac")? {
        e.mac_address = c_strdup(mac)?;
    }
    if item.ips_len == 0 || item.ips.is_null() {
        return Ok(());
    }
    let cidr = req_str(*item.ips, "ips[0]")?;
    let net: ipnet::IpNet = cidr
        .parse()
        .map_err(|_| format!("invalid address {cidr:?}"))?;
    let gateway = if item.gateway.is_null() {
        None
    } else {
        opt_str(*item.gateway, "gateway[0]")?
    };
    let gateway = gateway.filter(|g| !g.is_empty());
    let addr = crate::network::attach::ip_string(net.addr());
    if net.addr().is_ipv4() {
        e.ip_address = c_strdup(&addr)?;
        e.ip_prefix_len = c_int::from(net.prefix_len());
        if let Some(gw) = gateway {
            e.gateway = c_strdup(gw)?;
        }
    } else {
        e.global_i_pv6address = c_strdup(&addr)?;
        e.global_i_pv6prefix_len = c_int::from(net.prefix_len());
        if let Some(gw) = gateway {
            e.i_pv6gateway = c_strdup(gw)?;
        }
    }
    Ok(())
}

unsafe fn free_network_element(e: *mut defs_map_string_object_networks_element) {
    if e.is_null() {
        return;
    }
    let el = &mut *e;
    for s in [
        el.if_name,
        el.mac_address,
        el.ip_address,
        el.gateway,
        el.global_i_pv6address,
        el.i_pv6gateway,
    ] {
        free(s);
    }
    free(e);
}
