//! Attaching containers: `network_module_attach`, `check` and `detach`.

use std::os::raw::{c_char, c_int};
use std::ptr;

use super::*;
use crate::ffi::guard::guard;
use crate::network::types::{ApiResult, AttachRequest};
use crate::network::{NetworkModule, NetworkType};

/// The shape of attach and check: read the conf, run, hand back a result list.
pub(super) fn attach_like(
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
