//! `cni_update_container_networks_info`: attach results into a container's network settings.

use std::os::raw::{c_char, c_int, c_void};

use super::*;
use crate::ffi::alloc::{c_calloc, c_strdup, free, opt_str, req_str};
use crate::ffi::guard::guard;

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
///
/// # Safety
/// `networks` is iSulad's map with `len` malloc'd keys and values (arrays from the libc allocator); `item`'s strings are NULL or NUL-terminated.
pub(super) unsafe fn append_network(
    networks: &mut defs_map_string_object_networks,
    item: &network_api_result,
) -> Result<(), String> {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
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
}

/// Interface, MAC and the first address ("addr/prefix") with its gateway, by family.
///
/// # Safety
/// `item`'s strings and arrays are NULL or valid for `ips_len` entries, NUL-terminated.
pub(super) unsafe fn fill_network_element(
    e: &mut defs_map_string_object_networks_element,
    item: &network_api_result,
) -> Result<(), String> {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
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
}

/// # Safety
/// `e` is NULL or a struct allocated as this library allocates it (libc; members NULL or owned by it), not used afterwards.
pub(super) unsafe fn free_network_element(e: *mut defs_map_string_object_networks_element) {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
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
}
