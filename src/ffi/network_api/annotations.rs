//! `network_module_insert_portmapping`, `_bandwidth` and `_iprange`: annotations in iSulad's map.

use std::os::raw::{c_char, c_int, c_void};
use std::ptr;

use super::*;
use crate::ffi::alloc::opt_str;
use crate::ffi::guard::guard;
use crate::ffi::host::{missing, HOST, MAP_STR_STR};

/// Stores an annotation in `conf->annotations` (created with the host's `map_new` if NULL).
pub(super) fn insert_annotation(
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
