//! The C ABIs. The only place with `#[no_mangle]`, raw pointers and `unsafe`; one module per
//! exported header, plus the allocation helpers, the export guard and the host interface.

// Exports take raw pointers from C by design; each one checks them and documents its SAFETY.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod alloc;
pub mod clibcni;
pub mod guard;
pub mod host;
pub mod network_api;
