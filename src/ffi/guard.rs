//! The single guard every export runs in: a panic becomes the export's failure value, and
//! failures reach this thread's last error and the host's error channel.

use std::cell::RefCell;
use std::ffi::CString;
use std::os::raw::{c_char, c_int};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use crate::cni::log::{self, log, Context, Level};
use crate::ffi::host::HOST;

/// What an export returns when it fails.
pub trait Failure {
    fn failure() -> Self;
}

impl Failure for c_int {
    fn failure() -> c_int {
        -1
    }
}

impl Failure for bool {
    fn failure() -> bool {
        false
    }
}

impl Failure for () {
    fn failure() {}
}

impl<T> Failure for *mut T {
    fn failure() -> *mut T {
        ptr::null_mut()
    }
}

impl<T> Failure for *const T {
    fn failure() -> *const T {
        ptr::null()
    }
}

thread_local! {
    static LAST_ERROR: RefCell<Option<CString>> = const { RefCell::new(None) };
}

/// Runs an export's body: clears this thread's last error, reports an `Err` (or a panic) and
/// returns the failure value for it.
///
/// The library's log records of the call are delivered when it returns, after every lock it took
/// is released (see `crate::cni::log`).
pub fn guard<R: Failure>(function: &str, body: impl FnOnce() -> Result<R, String>) -> R {
    let _log = log::defer();
    clear_last_error();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => value,
        Ok(Err(msg)) => {
            report_error(&msg);
            R::failure()
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            report_error(&format!("internal error in {function}: {what}"));
            R::failure()
        }
    }
}

/// iSulad drops a message of BUFSIZ (8192) bytes or more; longer ones are cut for the daemon
/// (this thread's last error keeps the whole text).
const MAX_HOST_MESSAGE: usize = 4096;

/// Sets this thread's last error and the daemon's error message, and logs it at ERROR.
pub fn report_error(msg: &str) {
    log!(Level::Error, Context::default(), "{msg}");
    set_message(msg);
}

/// A message for a call that still succeeds (e.g. a missing optional plugin at create); the
/// network layer has logged it at WARN.
pub fn report_warning(msg: &str) {
    set_message(msg);
}

/// Why a query answered "no" (e.g. `ready` false): this thread's last error only, since the
/// daemon's error message is for failures.
pub fn report_reason(msg: &str) {
    set_last_error(msg);
}

/// This thread's last error and the daemon's error message.
fn set_message(msg: &str) {
    set_last_error(msg);
    if let Some(set) = HOST.set_error_message {
        let text = CString::new(host_message(msg).replace('\0', "\\0")).unwrap_or_default();
        // SAFETY: iSulad's printf-style setter, given "%s" and a NUL-terminated string.
        unsafe { set(c"%s".as_ptr(), text.as_ptr()) };
    }
}

fn host_message(msg: &str) -> String {
    if msg.len() <= MAX_HOST_MESSAGE {
        return msg.to_string();
    }
    let mut end = MAX_HOST_MESSAGE;
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}... (message truncated; network_module_last_error() has all of it)",
        &msg[..end]
    )
}

fn set_last_error(msg: &str) {
    let text = CString::new(msg.replace('\0', "\\0")).ok();
    LAST_ERROR.with(|e| *e.borrow_mut() = text);
}

fn clear_last_error() {
    LAST_ERROR.with(|e| *e.borrow_mut() = None);
}

/// This thread's last error, valid until the next call on the thread.
pub fn last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ref().map_or(ptr::null(), |s| s.as_ptr()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CStr;

    fn last() -> Option<String> {
        let p = last_error();
        // SAFETY: last_error returns NULL or this thread's NUL-terminated message.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }

    #[test]
    fn panic_becomes_the_failure_value_and_a_message() {
        let rc: c_int = guard("test_export", || -> Result<c_int, String> {
            panic!("boom {}", 42)
        });
        assert_eq!(rc, -1);
        assert_eq!(
            last().as_deref(),
            Some("internal error in test_export: boom 42")
        );
        let p: *mut u8 = guard("test_ptr", || -> Result<*mut u8, String> {
            panic!("static message")
        });
        assert!(p.is_null());
        assert_eq!(
            last().as_deref(),
            Some("internal error in test_ptr: static message")
        );
        assert!(!guard("test_bool", || -> Result<bool, String> { panic!() }));
    }

    #[test]
    fn long_messages_are_cut_for_the_daemon_only() {
        let long = "é".repeat(5000);
        let cut = host_message(&long);
        assert!(
            cut.len() < 8192
                && cut.ends_with("(message truncated; network_module_last_error() has all of it)")
        );
        assert_eq!(host_message("short"), "short");
        let rc: c_int = guard("f", || Err(long.clone()));
        assert_eq!(rc, -1);
        assert_eq!(last().as_deref(), Some(long.as_str()));
    }

    #[test]
    fn errors_are_reported_and_success_clears_them() {
        let rc: c_int = guard("f", || Err("bad input\0with nul".to_string()));
        assert_eq!(rc, -1);
        assert_eq!(last().as_deref(), Some("bad input\\0with nul"));
        let rc: c_int = guard("f", || Ok(0));
        assert_eq!(rc, 0);
        assert_eq!(last(), None);
    }
}
