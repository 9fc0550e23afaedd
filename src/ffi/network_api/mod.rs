//! `network_api.h`: iSulad's network module API (`network_module_*`, the `free_*` functions,
//! `cni_update_container_networks_info`) and its additions (`network_module_last_error`,
//! `network_module_set_plugin_timeout`, `network_module_set_log_sink`, `network_module_gc`), one
//! file per concept.

#![allow(non_camel_case_types)]

mod log_sink;
pub use log_sink::{network_module_log_fn, network_module_log_record, network_module_set_log_sink};

mod annotations;
mod attach;
mod convert;
mod free;
mod lifecycle;
mod manage;
mod settings;
mod types;

pub use annotations::*;
pub use attach::*;
pub use free::*;
pub use lifecycle::*;
pub use manage::*;
pub use settings::*;
pub use types::*;

pub use crate::ffi::host::{filters_args, map_t};
// The helpers each file shares with the others (`use super::*` there).
use convert::*;
use lifecycle::{module, network_type};
