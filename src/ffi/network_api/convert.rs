//! Conversions between the C structs and the network layer's types: requests in, results out.

use std::os::raw::{c_char, c_void};

use super::*;
use crate::ffi::alloc::{c_calloc, c_strdup, c_string_array, free, opt_str, req_str};
use crate::ffi::host::{missing, HOST};
use crate::network::types::{Annotations, ApiResult, AttachRequest, ExtraNet};
use crate::network::MAX_EXTRA_NETWORKS;

/// Reads a `network_api_conf` into a request, refusing anything malformed.
///
/// # Safety
/// `conf` is NULL or points to a valid, initialised struct of the caller whose strings are NULL or NUL-terminated, for the duration of the call.
pub(super) unsafe fn read_conf(conf: *const network_api_conf) -> Result<AttachRequest, String> {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
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
}

/// # Safety
/// `map` is NULL or points to a valid, initialised struct of the caller whose strings are NULL or NUL-terminated, for the duration of the call.
pub(super) unsafe fn read_json_map(
    map: *const json_map_string_string,
) -> Result<Vec<(String, String)>, String> {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
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
}

/// # Safety
/// `map` is NULL or a live host map of strings to strings.
pub(super) unsafe fn read_annotations(map: *mut map_t) -> Result<Annotations, String> {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
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
}

/// A calloc'd `network_api_result_list` of the results; nothing stays allocated on failure.
pub(super) fn result_list(results: &[ApiResult]) -> Result<*mut network_api_result_list, String> {
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

pub(super) fn api_result(r: &ApiResult) -> Result<*mut network_api_result, String> {
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
