//! clibcni: a CNI runtime library (spec 0.1.0–1.1.0) and iSulad's network module, with C ABIs.
//!
//! Layers, each using only the ones below it:
//! - [`ffi`]: the exported C functions and structs (the only place with raw C pointers, and with
//!   `cni::exec`'s syscall module the only place with `unsafe`);
//! - [`network`]: iSulad's network store, its "cri" and "native" adaptors, native network creation;
//! - [`cni`]: the CNI runtime itself (versions, configuration, plugin execution, results, cache).

#![deny(unsafe_op_in_unsafe_fn)]

// First: its `crash_point!` macro is used by the modules below. Not part of any C header:
/// cbindgen:ignore
#[macro_use]
#[doc(hidden)]
pub mod crash_point;

pub mod cni;
pub mod ffi;
pub mod network;
