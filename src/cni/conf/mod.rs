//! CNI network configuration: plugin objects, configuration lists, configuration files and the scan
//! of a configuration directory.
//!
//! Parsing follows Go libcni HEAD (`libcni/conf.go`), messages included. Plugin objects are kept
//! exactly as written (key order, unknown keys, number text) because they are what plugins receive.
//! The directory scan follows iSulad's CRI loader, except that a bad file never breaks the others.
//!
//! Differences from Go worth knowing: keys are matched case-sensitively (Go's `encoding/json` also
//! accepts `"Type"`); a list's sibling plugin directory `<dir>/<name>/` is only consulted when the
//! name is a valid network name (Go would follow `../x`, or read the conf dir itself for `""`).
//!
//! One concept a file: `plugin` (plugin objects and their typed fields), `list` (configuration
//! lists and loading one file as a list), `files` (reading and listing configuration files),
//! `scan` (the daemon's directory scan), `text` (a list's text, shared with the cache entries made from it) and
//! `json` (the Go-compatible JSON decoding they share).
//! This module only re-exports them, so callers keep using `conf::NetworkConfigList` and the like.

mod files;
mod json;
mod list;
mod plugin;
mod scan;
#[cfg(test)]
mod tests;
mod text;

pub use files::conf_files;
pub use list::{load_network_file, NetworkConfigList};
pub use plugin::PluginConf;
pub use scan::{
    scan_dir, DirScan, FileStamp, LoadedList, MAX_CONF_FILES, MAX_CONF_FILE_SIZE,
    MAX_NETWORK_NAME_LEN,
};
pub use text::ListText;
