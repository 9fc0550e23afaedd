//! The `free_*` functions: everything the library hands out is freed here, NULL-safe, keeping
//! this thread's last error.

use super::*;
use crate::ffi::alloc::{free, free_string_array};
use crate::ffi::guard::guard_keeping_error;
use crate::ffi::host::{missing, HOST};

/// Frees one `attach_net_conf` (NULL-safe). Like every `free_*` function it keeps this thread's
/// last error.
#[no_mangle]
pub extern "C" fn free_attach_net_conf(ptr: *mut attach_net_conf) {
    guard_keeping_error("free_attach_net_conf", || {
        // SAFETY: the caller hands over a malloc'd struct (or NULL) with malloc'd strings.
        unsafe { free_attach_net_conf_unguarded(ptr) };
        Ok(())
    })
}

/// # Safety
/// `ptr` is NULL or a struct allocated as this library allocates it (libc; members NULL or owned by it), not used afterwards.
pub(super) unsafe fn free_attach_net_conf_unguarded(ptr: *mut attach_net_conf) {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
        if ptr.is_null() {
            return;
        }
        free((*ptr).name);
        free((*ptr).interface);
        free(ptr);
    }
}

/// Frees a `network_api_conf` and everything it owns; `annotations` through the host's `map_free`
/// (a host without it is the one failure that sets the last error).
#[no_mangle]
pub extern "C" fn free_network_api_conf(conf: *mut network_api_conf) {
    guard_keeping_error("free_network_api_conf", || {
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
///
/// # Safety
/// `map` is NULL or a struct allocated as this library allocates it (libc; members NULL or owned by it), not used afterwards.
pub(super) unsafe fn free_json_map(map: *mut json_map_string_string) {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
        if map.is_null() {
            return;
        }
        free_string_array((*map).keys, (*map).len);
        free_string_array((*map).values, (*map).len);
        free(map);
    }
}

/// Frees one result (NULL-safe); keeps this thread's last error.
#[no_mangle]
pub extern "C" fn free_network_api_result(ptr: *mut network_api_result) {
    guard_keeping_error("free_network_api_result", || {
        // SAFETY: the struct and its members were allocated by this library with libc.
        unsafe { free_result_unguarded(ptr) };
        Ok(())
    })
}

/// # Safety
/// `ptr` is NULL or a struct allocated as this library allocates it (libc; members NULL or owned by it), not used afterwards.
pub(super) unsafe fn free_result_unguarded(ptr: *mut network_api_result) {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
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
}

/// Frees a result list and its items (NULL-safe); keeps this thread's last error.
#[no_mangle]
pub extern "C" fn free_network_api_result_list(ptr: *mut network_api_result_list) {
    guard_keeping_error("free_network_api_result_list", || {
        // SAFETY: as for free_network_api_result.
        unsafe { free_result_list_unguarded(ptr) };
        Ok(())
    })
}

/// # Safety
/// `ptr` is NULL or a struct allocated as this library allocates it (libc; members NULL or owned by it), not used afterwards.
pub(super) unsafe fn free_result_list_unguarded(ptr: *mut network_api_result_list) {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
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
}
