//! Why a command failed, how it is shown on stderr and which exit status it gives.

use std::fmt;
use std::path::Path;

use clibcni::cni::Error;
use clibcni::network::error::NetError;

/// Where Debian's containernetworking-plugins package installs the plugins.
const DEBIAN_PLUGIN_DIR: &str = "/usr/lib/cni";

#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    /// The command line (or cnitool's environment) is malformed: exit status 2.
    Usage(String),
    /// The operation failed: exit status 1. `code` is the CNI error code when CNI reported one.
    Error { msg: String, code: Option<u32> },
}

impl Failure {
    pub fn usage(msg: impl Into<String>) -> Failure {
        Failure::Usage(msg.into())
    }

    pub fn error(msg: impl Into<String>) -> Failure {
        Failure::Error {
            msg: msg.into(),
            code: None,
        }
    }

    /// A CNI runtime error with what was being done; keeps the CNI code (a plugin's own code for
    /// plugin failures) and hints at Debian's plugin directory when a plugin is not found.
    pub fn cni(context: &str, e: &Error) -> Failure {
        let mut msg = format!("{context}: {e}");
        if let Error::PluginNotFound { plugin, paths } = e {
            let debian = Path::new(DEBIAN_PLUGIN_DIR);
            if !paths.iter().any(|p| p == debian) && debian.join(plugin).exists() {
                msg.push_str(&format!(
                    " (it is in {DEBIAN_PLUGIN_DIR}: set CNI_PATH or --bin-dir)"
                ));
            }
        }
        Failure::Error {
            msg,
            code: Some(e.code()),
        }
    }

    pub fn exit_status(&self) -> u8 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Error { .. } => 1,
        }
    }
}

impl From<NetError> for Failure {
    fn from(e: NetError) -> Failure {
        Failure::error(e.msg)
    }
}

/// The stderr line(s), without the program name.
impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(msg) => write!(f, "{msg}\nRun 'clibcni help' for usage."),
            Failure::Error {
                msg,
                code: Some(code),
            } => write!(f, "{msg} (CNI error code {code})"),
            Failure::Error { msg, code: None } => f.write_str(msg),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clibcni::cni::CniError;

    #[test]
    fn display_and_status() {
        let plugin = Error::Plugin {
            plugin: "bridge".into(),
            command: "ADD".into(),
            error: CniError::new(11, "failed to set bridge addr", "busy"),
        };
        let failure = Failure::cni("add network \"n\"", &plugin);
        assert_eq!(
            failure.to_string(),
            "add network \"n\": plugin type=\"bridge\" failed (ADD): failed to set bridge addr; busy (CNI error code 11)"
        );
        assert_eq!(failure.exit_status(), 1);
        assert_eq!(
            Failure::usage("bad").to_string(),
            "bad\nRun 'clibcni help' for usage."
        );
        assert_eq!(Failure::usage("bad").exit_status(), 2);
        assert_eq!(
            Failure::from(NetError::exec("No such network x")).to_string(),
            "No such network x"
        );
    }

    #[test]
    fn missing_plugin_hint_only_when_debian_has_it() {
        let missing = |plugin: &str, dir: &str| Error::PluginNotFound {
            plugin: plugin.into(),
            paths: vec![dir.into()],
        };
        let hinted = Failure::cni("x", &missing("bridge", "/opt/cni/bin")).to_string();
        let has_bridge = Path::new("/usr/lib/cni/bridge").exists();
        assert_eq!(
            hinted.contains("it is in /usr/lib/cni"),
            has_bridge,
            "{hinted}"
        );
        assert!(!Failure::cni("x", &missing("bridge", DEBIAN_PLUGIN_DIR))
            .to_string()
            .contains("it is in"));
        assert!(
            !Failure::cni("x", &missing("no-such-plugin", "/opt/cni/bin"))
                .to_string()
                .contains("it is in")
        );
    }
}
