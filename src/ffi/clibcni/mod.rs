//! The legacy API of standalone clibcni 2.1.0 (`clibcni/api.h`, `clibcni/types.h`,
//! `clibcni/version.h`), so that old C callers of that library keep working with this one.
//!
//! Conventions kept from the original: 0 is success; `char **err` is mandatory (NULL fails at
//! once) and receives a malloc'd message on failure; outputs are calloc'd and freed by the
//! matching `free_*`. The work itself is done by [`crate::cni`], so every spec version from 0.1.0
//! to 1.1.0 is spoken, plugins get a valid VERSION request, a timeout, and their stderr ends up in
//! the error message.

use std::os::raw::c_char;

use crate::ffi::alloc::c_strdup;
use crate::ffi::guard::{guard, Failure};

pub mod api;
pub mod log;
pub mod types;
pub mod version;

/// Runs a legacy export in [`guard`]; `err` must not be NULL, and a failure's message is also
/// handed to the caller as a malloc'd `*err` (left untouched on success, as the original does).
fn with_err<R: Failure>(
    function: &str,
    err: *mut *mut c_char,
    body: impl FnOnce() -> Result<R, String>,
) -> R {
    guard(function, || {
        if err.is_null() {
            return Err("err must not be NULL".into());
        }
        body().inspect_err(|msg| {
            // SAFETY: err is a valid out-pointer (checked above); the message has no NUL left.
            unsafe { *err = c_strdup(&msg.replace('\0', "\\0")).unwrap_or(std::ptr::null_mut()) };
        })
    })
}
