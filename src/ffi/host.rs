//! Functions that belong to the host (the iSulad daemon), looked up in the running process at
//! first use, so the library loads and works without them.

use std::os::raw::{c_char, c_int, c_void};

use std::sync::LazyLock;

/// iSulad's map (`map.h`), owned by the daemon (declared opaquely in `network_api.h`).
#[allow(non_camel_case_types)]
pub struct map_t {
    _private: [u8; 0],
}

/// iSulad's list filters (`filters.h`), owned by the daemon.
#[allow(non_camel_case_types)]
pub struct filters_args {
    _private: [u8; 0],
}

/// iSulad's `MAP_STR_STR` (`map_type_t`).
pub const MAP_STR_STR: c_int = 7;

type MapNew = unsafe extern "C" fn(c_int, *mut c_void, *mut c_void) -> *mut map_t;
type MapFree = unsafe extern "C" fn(*mut map_t);
type MapSearch = unsafe extern "C" fn(*const map_t, *mut c_void) -> *mut c_void;
type MapReplace = unsafe extern "C" fn(*const map_t, *mut c_void, *mut c_void) -> bool;
type FiltersMatch = unsafe extern "C" fn(*const filters_args, *const c_char, *const c_char) -> bool;
type SetErrorMessage = unsafe extern "C" fn(*const c_char, ...);

pub struct Host {
    pub map_new: Option<MapNew>,
    pub map_free: Option<MapFree>,
    pub map_search: Option<MapSearch>,
    pub map_replace: Option<MapReplace>,
    pub filters_args_match: Option<FiltersMatch>,
    pub set_error_message: Option<SetErrorMessage>,
    pub append_error_message: Option<SetErrorMessage>,
}

fn lookup(name: &std::ffi::CStr) -> *mut c_void {
    // SAFETY: dlsym with a NUL-terminated name; RTLD_DEFAULT searches the global scope.
    unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) }
}

macro_rules! resolve {
    ($name:literal, $ty:ty) => {{
        let p = lookup($name);
        // SAFETY: a non-NULL symbol of this name is the host's function with iSulad's prototype.
        (!p.is_null()).then(|| unsafe { std::mem::transmute::<*mut c_void, $ty>(p) })
    }};
}

pub static HOST: LazyLock<Host> = LazyLock::new(|| Host {
    map_new: resolve!(c"map_new", MapNew),
    map_free: resolve!(c"map_free", MapFree),
    map_search: resolve!(c"map_search", MapSearch),
    map_replace: resolve!(c"map_replace", MapReplace),
    filters_args_match: resolve!(c"filters_args_match", FiltersMatch),
    set_error_message: resolve!(c"isulad_set_error_message", SetErrorMessage),
    append_error_message: resolve!(c"isulad_append_error_message", SetErrorMessage),
});

pub fn missing(name: &str) -> String {
    format!("the host process does not provide {name}() (iSulad's libisulad_tools)")
}
