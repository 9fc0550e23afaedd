//! `network_module_set_log_sink`: the daemon's callback for the library's log records (levels
//! `NETWORK_LOG_ERROR` 0 … `NETWORK_LOG_TRACE` 4, iSulad's own, most severe first).

use std::ffi::CString;
use std::os::raw::{c_char, c_int, c_void};
use std::ptr;
use std::sync::Arc;

use crate::cni::log::{self, Level, Record};
use crate::ffi::guard::guard;

/// One log record; every pointer is valid only during the callback.
#[repr(C)]
pub struct network_module_log_record {
    /// `NETWORK_LOG_*`.
    pub level: c_int,
    /// Never NULL.
    pub message: *const c_char,
    /// The network the record is about, or NULL.
    pub network: *const c_char,
    /// The container (iSulad's pod or container id), or NULL.
    pub container_id: *const c_char,
    /// The plugin type, for plugin runs; else NULL.
    pub plugin: *const c_char,
    /// The CNI command (ADD, CHECK, DEL, GC, STATUS, VERSION), for plugin runs; else NULL.
    pub command: *const c_char,
}

/// The daemon's log callback. It may be called from any thread that calls the library, never
/// while the library holds a lock, and may call the library (what those calls log is dropped).
pub type network_module_log_fn =
    Option<unsafe extern "C" fn(record: *const network_module_log_record, user_data: *mut c_void)>;

/// The daemon's `user_data`, which it hands to the callback on any thread.
struct UserData(*mut c_void);

impl UserData {
    /// (A method, so closures capture the whole `Send` wrapper rather than its raw field.)
    fn get(&self) -> *mut c_void {
        self.0
    }
}
// SAFETY: the library never dereferences it; the daemon registered it for use on any thread.
unsafe impl Send for UserData {}
// SAFETY: as above.
unsafe impl Sync for UserData {}

/// Registers the log callback (`sink` NULL: clears it); records at or above `max_level`
/// (`NETWORK_LOG_*`) reach it. Returns 0, or -1 for a level outside 0..4. May be called before
/// `network_module_init` and at any time: replacing or clearing the callback is safe while other
/// threads log; a call already delivering to the previous callback finishes.
#[no_mangle]
pub extern "C" fn network_module_set_log_sink(
    sink: network_module_log_fn,
    user_data: *mut c_void,
    max_level: c_int,
) -> c_int {
    guard("network_module_set_log_sink", || {
        let Some(callback) = sink else {
            log::set_sink(None);
            return Ok(0);
        };
        let max = Level::from_index(max_level).ok_or_else(|| {
            format!("invalid log level {max_level} (NETWORK_LOG_ERROR 0 to NETWORK_LOG_TRACE 4)")
        })?;
        let user_data = UserData(user_data);
        let deliver = move |record: &Record<'_>| {
            let text = |s: &str| CString::new(s.replace('\0', "\\0")).unwrap_or_default();
            let optional = |s: Option<&str>| s.map(text);
            let message = text(record.message);
            let network = optional(record.context.network);
            let container_id = optional(record.context.container_id);
            let plugin = optional(record.context.plugin);
            let command = optional(record.context.command);
            let ptr_of = |s: &Option<CString>| s.as_ref().map_or(ptr::null(), |s| s.as_ptr());
            let c_record = network_module_log_record {
                level: record.level as c_int,
                message: message.as_ptr(),
                network: ptr_of(&network),
                container_id: ptr_of(&container_id),
                plugin: ptr_of(&plugin),
                command: ptr_of(&command),
            };
            // SAFETY: the daemon's callback, given a record whose strings outlive the call and the
            // user_data it registered with it.
            unsafe { callback(&c_record, user_data.get()) };
        };
        log::set_sink(Some((Arc::new(deliver), max)));
        Ok(0)
    })
}
