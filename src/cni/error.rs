//! Errors of the CNI runtime. Plugin failures keep the plugin's `{code, msg, details}` object.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Well-known CNI error codes (spec "Error" section).
pub mod codes {
    pub const UNKNOWN: u32 = 0;
    pub const INCOMPATIBLE_VERSION: u32 = 1;
    pub const UNSUPPORTED_FIELD: u32 = 2;
    pub const UNKNOWN_CONTAINER: u32 = 3;
    pub const INVALID_ENVIRONMENT: u32 = 4;
    pub const IO_FAILURE: u32 = 5;
    pub const DECODING_FAILURE: u32 = 6;
    pub const INVALID_NETWORK_CONFIG: u32 = 7;
    pub const TRY_AGAIN_LATER: u32 = 11;
    pub const NOT_AVAILABLE: u32 = 50;
    pub const LIMITED_CONNECTIVITY: u32 = 51;
    pub const INTERNAL: u32 = 999;
}

/// The error object of the spec, as a plugin prints it on stdout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CniError {
    pub code: u32,
    #[serde(default)]
    pub msg: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub details: String,
}

impl CniError {
    pub fn new(code: u32, msg: impl Into<String>, details: impl Into<String>) -> CniError {
        CniError {
            code,
            msg: msg.into(),
            details: details.into(),
        }
    }
}

impl fmt::Display for CniError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.details.is_empty() {
            f.write_str(&self.msg)
        } else {
            write!(f, "{}; {}", self.msg, self.details)
        }
    }
}

/// Everything that can go wrong in the runtime.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Malformed or invalid configuration (bad JSON, missing keys, bad values).
    #[error("{0}")]
    Config(String),
    /// A version string that cannot be parsed, or versions that do not fit together.
    #[error("{0}")]
    Version(String),
    /// An invalid container id, interface name or network name (codes 3, 4, 7).
    #[error("{0}")]
    Invalid(CniError),
    /// The plugin binary is not in any of the plugin directories.
    #[error("failed to find plugin {plugin:?} in path {}", fmt_paths(.paths))]
    PluginNotFound { plugin: String, paths: Vec<PathBuf> },
    /// The plugin could not be started or talked to.
    #[error("exec of plugin {path:?} failed: {reason}")]
    Exec { path: PathBuf, reason: String },
    /// The plugin ran longer than the per-call timeout and was killed with its process group.
    #[error("plugin {path:?} ({command}) timed out after {after:?}; its process group was killed")]
    Timeout {
        path: PathBuf,
        command: String,
        after: Duration,
    },
    /// The plugin reported failure: its error object, or stderr when it printed none.
    #[error("plugin type={plugin:?} failed ({command}): {error}")]
    Plugin {
        plugin: String,
        command: String,
        error: CniError,
    },
    /// A plugin result (or cached result) that is malformed or cannot be converted.
    #[error("{0}")]
    Result(String),
    /// The result cache could not be read or written.
    #[error("{0}")]
    Cache(String),
    /// An operation the configuration's version does not allow (e.g. CHECK before 0.4.0).
    #[error("{0}")]
    NotSupported(String),
    /// Several independent failures (GC, teardown): all of them are kept.
    #[error("{}", fmt_many(.0))]
    Many(Vec<Error>),
}

fn fmt_paths(paths: &[PathBuf]) -> String {
    let items: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    format!("[{}]", items.join(" "))
}

fn fmt_many(errors: &[Error]) -> String {
    let items: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
    items.join("; ")
}

impl Error {
    pub fn config(msg: impl Into<String>) -> Error {
        Error::Config(msg.into())
    }
    pub fn version(msg: impl Into<String>) -> Error {
        Error::Version(msg.into())
    }
    pub fn result(msg: impl Into<String>) -> Error {
        Error::Result(msg.into())
    }
    pub fn cache(msg: impl Into<String>) -> Error {
        Error::Cache(msg.into())
    }

    /// The CNI error code that best describes this error.
    pub fn code(&self) -> u32 {
        match self {
            Error::Config(_) => codes::INVALID_NETWORK_CONFIG,
            Error::Version(_) => codes::INCOMPATIBLE_VERSION,
            Error::Invalid(e) | Error::Plugin { error: e, .. } => e.code,
            Error::PluginNotFound { .. } | Error::Exec { .. } => codes::IO_FAILURE,
            Error::Timeout { .. } => codes::TRY_AGAIN_LATER,
            Error::Result(_) => codes::DECODING_FAILURE,
            Error::Cache(_) => codes::IO_FAILURE,
            Error::NotSupported(_) => codes::INCOMPATIBLE_VERSION,
            Error::Many(errors) => errors.first().map_or(codes::UNKNOWN, Error::code),
        }
    }

    /// Joins collected errors: none is `Ok`, one is itself, more become `Many`.
    pub fn join(mut errors: Vec<Error>) -> Result<(), Error> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(Error::Many(errors)),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_forms() {
        let e = CniError::new(7, "invalid characters found in network name", "a%b");
        assert_eq!(
            e.to_string(),
            "invalid characters found in network name; a%b"
        );
        let p = Error::Plugin {
            plugin: "noop".into(),
            command: "add".into(),
            error: e.clone(),
        };
        assert_eq!(
            p.to_string(),
            "plugin type=\"noop\" failed (add): invalid characters found in network name; a%b"
        );
        assert_eq!(p.code(), 7);
        let nf = Error::PluginNotFound {
            plugin: "nope".into(),
            paths: vec!["/a".into(), "/b".into()],
        };
        assert_eq!(
            nf.to_string(),
            "failed to find plugin \"nope\" in path [/a /b]"
        );
        assert!(Error::join(vec![]).is_ok());
        let many = Error::join(vec![Error::config("x"), Error::cache("y")]).unwrap_err();
        assert_eq!(many.to_string(), "x; y");
    }

    #[test]
    fn plugin_error_json_without_cni_version() {
        let e: CniError =
            serde_json::from_str(r#"{"code":4,"msg":"required env variables [CNI_PATH] missing"}"#)
                .unwrap();
        assert_eq!(e.code, 4);
        assert_eq!(e.details, "");
    }
}
