//! Memory handed to C: always libc `malloc`/`calloc`/`strdup`, so the caller frees it with
//! `free`. Reading C strings: NULL and invalid UTF-8 are reported, never trusted.

use std::ffi::CStr;
use std::os::raw::c_char;
use std::ptr;

/// A `strdup` of a Rust string (NUL bytes cannot be represented: an error).
pub fn c_strdup(s: &str) -> Result<*mut c_char, String> {
    if s.as_bytes().contains(&0) {
        return Err(format!("string contains a NUL byte: {s:?}"));
    }
    // SAFETY: malloc of len+1 bytes; exactly len bytes are copied and the terminator written.
    unsafe {
        let p = libc::malloc(s.len() + 1) as *mut c_char;
        if p.is_null() {
            return Err("out of memory".into());
        }
        ptr::copy_nonoverlapping(s.as_ptr() as *const c_char, p, s.len());
        *p.add(s.len()) = 0;
        Ok(p)
    }
}

/// A zeroed array of `n` elements of `T` from `calloc` (at least one element, so NULL always
/// means failure).
pub fn c_calloc<T>(n: usize) -> Result<*mut T, String> {
    // SAFETY: calloc checks n * size for overflow itself.
    let p = unsafe { libc::calloc(n.max(1), std::mem::size_of::<T>()) as *mut T };
    if p.is_null() {
        Err("out of memory".into())
    } else {
        Ok(p)
    }
}

/// A calloc'd array of strdup'd strings; on failure nothing stays allocated.
pub fn c_string_array(items: &[String]) -> Result<*mut *mut c_char, String> {
    strings_with_spare(items, 0)
}

/// The same, with a terminating NULL entry (as `char **` lists in clibcni's API end).
pub fn c_null_terminated_array(items: &[String]) -> Result<*mut *mut c_char, String> {
    strings_with_spare(items, 1)
}

/// The strings followed by `spare` NULL entries.
fn strings_with_spare(items: &[String], spare: usize) -> Result<*mut *mut c_char, String> {
    let array = c_calloc::<*mut c_char>(items.len() + spare)?;
    for (i, item) in items.iter().enumerate() {
        match c_strdup(item) {
            // SAFETY: i < items.len() <= the array's length.
            Ok(s) => unsafe { *array.add(i) = s },
            Err(e) => {
                // SAFETY: the first i entries were set by this loop, the rest are NULL.
                unsafe { free_string_array(array, i) };
                return Err(e);
            }
        }
    }
    Ok(array)
}

/// Frees `len` strings of an array and the array (NULL-safe).
///
/// # Safety
/// `array` is NULL or a malloc'd array of at least `len` malloc'd-or-NULL strings.
pub unsafe fn free_string_array(array: *mut *mut c_char, len: usize) {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
        if array.is_null() {
            return;
        }
        for i in 0..len {
            libc::free(*array.add(i) as *mut libc::c_void);
        }
        libc::free(array as *mut libc::c_void);
    }
}

/// Frees a malloc'd pointer (NULL-safe).
///
/// # Safety
/// `p` is NULL or came from the libc allocator and is not used afterwards.
pub unsafe fn free<T>(p: *mut T) {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
        libc::free(p as *mut libc::c_void);
    }
}

/// Reads an optional C string: NULL is `None`; invalid UTF-8 is an error naming the field.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives the returned reference.
pub unsafe fn opt_str<'a>(p: *const c_char, field: &str) -> Result<Option<&'a str>, String> {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
        if p.is_null() {
            return Ok(None);
        }
        CStr::from_ptr(p)
            .to_str()
            .map(Some)
            .map_err(|_| format!("{field} is not valid UTF-8"))
    }
}

/// Reads a required C string: NULL is an error naming the argument.
///
/// # Safety
/// As for [`opt_str`].
pub unsafe fn req_str<'a>(p: *const c_char, field: &str) -> Result<&'a str, String> {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe { opt_str(p, field)?.ok_or_else(|| format!("{field} must not be NULL")) }
}
