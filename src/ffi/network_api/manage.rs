//! Native network management: `network_module_conf_create`, `inspect`, `list`, `rm` and `exist`.

use std::os::raw::{c_char, c_int};

use super::*;
use crate::ffi::alloc::{
    c_calloc, c_strdup, c_string_array, free, free_string_array, opt_str, req_str,
};
use crate::ffi::guard::{guard, report_warning};
use crate::ffi::host::{missing, HOST};
use crate::network::error::NetError;
use crate::network::native::plan::CreateRequest;
use crate::network::native::NetworkInfo;

/// Creates a native network. On success `*name` is its name; on failure `*cc` is iSulad's error
/// class. When plugins are missing it still succeeds (0) with a warning, as iSulad does: the
/// daemon's message and this thread's last error both hold
/// `WARN:cannot find cni plugin "<names>" in dir "<bin path>"`. Without a warning the last error
/// is NULL and the daemon's message untouched.
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

pub(super) fn network_info(info: &NetworkInfo) -> Result<*mut network_network_info, String> {
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
///
/// # Safety
/// `item` is NULL or a struct allocated as this library allocates it (libc; members NULL or owned by it), not used afterwards.
pub(super) unsafe fn free_network_info(item: *mut network_network_info) {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
        if item.is_null() {
            return;
        }
        free((*item).name);
        free((*item).version);
        free_string_array((*item).plugins, (*item).plugins_len);
        free(item);
    }
}

/// Removes a native network that no container uses; `*res_name` = its name. Cleanup problems
/// (the bridge, host-local's state, the file) do not fail it: it returns 0 with them, joined by
/// "; ", in the daemon's message and this thread's last error.
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
