//! Where things are (flags first, then cnitool's environment variables, then the defaults), and
//! the library objects built from that.

use std::path::PathBuf;
use std::sync::Arc;

use clibcni::cni::runtime::{CallObserver, CniConfig, PluginCall, WarningSink};
use clibcni::network::{
    ModuleConfig, NetworkModule, DEFAULT_BIN_DIR, DEFAULT_CACHE_DIR, DEFAULT_CONF_DIR,
};

use crate::args::Globals;
use crate::fail::Failure;
use crate::progress::Progress;

/// Reads an environment variable (the real environment, or a fixed one in tests).
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

pub struct Context {
    pub conf_dir: PathBuf,
    pub bin_dirs: Vec<PathBuf>,
    pub cache_dir: PathBuf,
    pub progress: Progress,
    verbose: bool,
}

impl Context {
    pub fn new(globals: &Globals, env: Env<'_>) -> Context {
        let set = |name: &str| env(name).filter(|v| !v.is_empty());
        let conf_dir = globals.conf_dir.clone().or_else(|| set("NETCONFPATH"));
        let bin_path = if globals.bin_dir.is_empty() {
            set("CNI_PATH")
        } else {
            Some(globals.bin_dir.join(":"))
        };
        Context {
            conf_dir: PathBuf::from(conf_dir.unwrap_or_else(|| DEFAULT_CONF_DIR.into())),
            bin_dirs: split_path_list(bin_path.as_deref().unwrap_or(DEFAULT_BIN_DIR)),
            cache_dir: PathBuf::from(
                set("CNI_CACHE_DIR").unwrap_or_else(|| DEFAULT_CACHE_DIR.into()),
            ),
            progress: Progress::new(globals.verbose),
            verbose: globals.verbose,
        }
    }

    /// The CNI runtime; its warnings (a corrupt cache file, say) go to stderr.
    pub fn cni(&self) -> CniConfig {
        let cni = CniConfig::new(self.bin_dirs.clone(), &self.cache_dir)
            .with_warning_sink(warning_sink());
        match self.observer() {
            Some(observer) => cni.with_call_observer(observer),
            None => cni,
        }
    }

    /// With `-v`, every plugin call is reported with its duration.
    fn observer(&self) -> Option<CallObserver> {
        self.verbose.then(|| {
            Arc::new(|call: &PluginCall<'_>| eprintln!("clibcni: {}", plugin_line(call)))
                as CallObserver
        })
    }

    /// iSulad's network module on the conf dir, with the native networks loaded.
    pub fn module(&self) -> Result<NetworkModule, Failure> {
        self.module_of(None)
    }

    /// The module with the "cri" type enabled too (its networks are the conf dir's other files).
    pub fn module_with_cri(&self) -> Result<NetworkModule, Failure> {
        self.module_of(Some("cni".into()))
    }

    fn module_of(&self, network_plugin: Option<String>) -> Result<NetworkModule, Failure> {
        let bin_path: Vec<String> = self
            .bin_dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        let module = NetworkModule::init(ModuleConfig {
            network_plugin,
            cache_dir: Some(self.cache_dir.clone()),
            conf_dir: Some(self.conf_dir.clone()),
            // The module separates plugin directories with ';', as iSulad's daemon does.
            bin_path: Some(bin_path.join(";")),
            warnings: Some(warning_sink()),
            observer: self.observer(),
        })?;
        for warning in module.warnings() {
            warn(&warning);
        }
        Ok(module)
    }
}

fn plugin_line(call: &PluginCall<'_>) -> String {
    let outcome = if call.ok { "ok" } else { "failed" };
    format!(
        "plugin {} {} took {:.1} ms ({outcome})",
        call.plugin_type,
        call.command,
        call.elapsed.as_secs_f64() * 1000.0
    )
}

pub fn warn(msg: &str) {
    eprintln!("clibcni: warning: {msg}");
}

fn warning_sink() -> WarningSink {
    Arc::new(warn)
}

/// `CNI_PATH` style: ':'-separated, empty parts ignored.
fn split_path_list(text: &str) -> Vec<PathBuf> {
    text.split(':')
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::{parse, Request};

    fn context(line: &str, vars: &[(&str, &str)]) -> Context {
        let args: Vec<std::ffi::OsString> = line.split_whitespace().map(Into::into).collect();
        let Ok(Request::Run(cli)) = parse(&args) else {
            panic!("{line}")
        };
        let env = |name: &str| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        };
        Context::new(&cli.globals, &env)
    }

    #[test]
    fn flags_then_environment_then_defaults() {
        let defaults = context("cache ls", &[]);
        assert_eq!(defaults.conf_dir, PathBuf::from("/etc/cni/net.d"));
        assert_eq!(defaults.bin_dirs, [PathBuf::from("/opt/cni/bin")]);
        assert_eq!(defaults.cache_dir, PathBuf::from("/var/lib/cni"));
        let env = [
            ("NETCONFPATH", "/e/net.d"),
            ("CNI_PATH", "/a::/b"),
            ("CNI_CACHE_DIR", "/c"),
        ];
        let from_env = context("cache ls", &env);
        assert_eq!(from_env.conf_dir, PathBuf::from("/e/net.d"));
        assert_eq!(
            from_env.bin_dirs,
            [PathBuf::from("/a"), PathBuf::from("/b")]
        );
        assert_eq!(from_env.cache_dir, PathBuf::from("/c"));
        let flags = context("--conf-dir /f cache ls --bin-dir /x:/y --bin-dir /z", &env);
        assert_eq!(flags.conf_dir, PathBuf::from("/f"));
        assert_eq!(
            flags.bin_dirs,
            [
                PathBuf::from("/x"),
                PathBuf::from("/y"),
                PathBuf::from("/z")
            ]
        );
        let empty = context("cache ls", &[("NETCONFPATH", ""), ("CNI_PATH", "")]);
        assert_eq!(empty.conf_dir, PathBuf::from("/etc/cni/net.d"));
        assert_eq!(empty.bin_dirs, [PathBuf::from("/opt/cni/bin")]);
    }
}
