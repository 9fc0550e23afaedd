//! iSulad's network module in Rust: the "cri" and "native" network types on top of the CNI
//! runtime. Pure Rust; the FFI layer maps iSulad's C API onto [`NetworkModule`].

pub mod annotations;
pub mod attach;
pub mod cri;
pub mod dirwatch;
pub mod error;
pub mod native;
pub mod types;

#[cfg(test)]
mod tests;

use std::path::PathBuf;
use std::sync::Arc;

use crate::cni::conf::NetworkConfigList;
use crate::cni::runtime::{CallObserver, CniConfig, WarningSink};
use attach::{Attacher, LOOPBACK_CONFLIST};
use cri::CriNetworks;
use error::{NetError, NetResult};
use native::plan::CreateRequest;
use native::{Created, NativeNetworks, NetworkInfo};
use types::{ApiResult, AttachRequest};

/// Files of native networks start with this; every other file in the conf dir is "cri".
pub const NATIVE_FILE_PREFIX: &str = "isulacni-";
pub const DEFAULT_CONF_DIR: &str = "/etc/cni/net.d";
pub const DEFAULT_BIN_DIR: &str = "/opt/cni/bin";
pub const DEFAULT_CACHE_DIR: &str = "/var/lib/cni";
/// iSulad refuses more networks per container than this.
pub const MAX_EXTRA_NETWORKS: usize = 1024;

/// The two network types of iSulad (`NETWOKR_API_TYPE_CRI` / `_NATIVE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkType {
    Cri,
    Native,
}

impl NetworkType {
    pub fn parse(name: &str) -> NetResult<NetworkType> {
        match name {
            "cri" => Ok(NetworkType::Cri),
            "native" => Ok(NetworkType::Native),
            other => Err(NetError::input(format!(
                "Do not support network type: {other}"
            ))),
        }
    }
}

/// `network_module_init` arguments; `None` means iSulad's default.
#[derive(Clone, Default)]
pub struct ModuleConfig {
    /// The daemon's `network-plugin` setting: the "cri" type is enabled only when it is set.
    pub network_plugin: Option<String>,
    pub cache_dir: Option<PathBuf>,
    pub conf_dir: Option<PathBuf>,
    /// Plugin directories separated by ';'.
    pub bin_path: Option<String>,
    pub warnings: Option<WarningSink>,
    /// Sees every plugin call (for timing output).
    pub observer: Option<CallObserver>,
}

pub struct NetworkModule {
    cni: Arc<CniConfig>,
    loopback: NetworkConfigList,
    conf_dir: PathBuf,
    cri: Option<CriNetworks>,
    native: NativeNetworks,
}

impl NetworkModule {
    pub fn init(config: ModuleConfig) -> NetResult<NetworkModule> {
        let conf_dir = config
            .conf_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONF_DIR));
        let bin_dirs = split_bin_path(config.bin_path.as_deref().unwrap_or(DEFAULT_BIN_DIR));
        let cache_dir = config
            .cache_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CACHE_DIR));
        let mut cni = CniConfig::new(bin_dirs, cache_dir);
        if let Some(sink) = config.warnings {
            cni = cni.with_warning_sink(sink);
        }
        if let Some(observer) = config.observer {
            cni = cni.with_call_observer(observer);
        }
        cni.remove_abandoned_cache_temps();
        let loopback = NetworkConfigList::from_bytes(LOOPBACK_CONFLIST.as_bytes())?;
        let cri = config
            .network_plugin
            .map(|_| CriNetworks::new(conf_dir.clone()));
        let native = NativeNetworks::load(&conf_dir)?;
        let module = NetworkModule {
            cni: Arc::new(cni),
            loopback,
            conf_dir,
            cri,
            native,
        };
        if let Some(cri) = &module.cri {
            cri.update()?;
        }
        Ok(module)
    }

    pub fn cni(&self) -> &CniConfig {
        &self.cni
    }

    pub fn conf_dir(&self) -> &std::path::Path {
        &self.conf_dir
    }

    pub fn attach(&self, ty: NetworkType, req: &AttachRequest) -> NetResult<Vec<ApiResult>> {
        check_request(req)?;
        let plan = match ty {
            NetworkType::Cri => self.cri()?.plan(req, false)?,
            NetworkType::Native => self.native.plan_attach(req)?,
        };
        self.attacher().attach(req, &plan)
    }

    pub fn check(&self, ty: NetworkType, req: &AttachRequest) -> NetResult<Vec<ApiResult>> {
        check_request(req)?;
        let plan = match ty {
            NetworkType::Cri => self.cri()?.plan(req, false)?,
            NetworkType::Native => self.native.planned(req),
        };
        self.attacher().check(req, &plan)
    }

    /// Detaches everything; what is no longer loaded is found through the result cache.
    pub fn detach(&self, ty: NetworkType, req: &AttachRequest) -> NetResult<()> {
        check_request(req)?;
        let plan = match ty {
            NetworkType::Cri => {
                let cri = self.cri()?;
                if cri.ready() {
                    cri.plan(req, true)?
                } else {
                    Vec::new()
                }
            }
            NetworkType::Native => {
                self.native.forget_container(req);
                self.native.planned(req)
            }
        };
        self.attacher().detach(req, &plan)
    }

    pub fn ready(&self, ty: NetworkType) -> bool {
        match ty {
            NetworkType::Cri => self.cri().is_ok_and(CriNetworks::ready),
            NetworkType::Native => self.native.ready(),
        }
    }

    /// Reloads the "cri" networks; native networks change only through this module.
    pub fn update(&self, ty: NetworkType) -> NetResult<()> {
        match ty {
            NetworkType::Cri => self.cri()?.update(),
            NetworkType::Native => Ok(()),
        }
    }

    /// Problems met while loading networks (skipped files, duplicates).
    pub fn warnings(&self) -> Vec<String> {
        let mut all = self
            .cri
            .as_ref()
            .map(CriNetworks::warnings)
            .unwrap_or_default();
        all.extend(self.native.warnings().iter().cloned());
        all
    }

    pub fn create(&self, ty: NetworkType, req: &CreateRequest) -> NetResult<Created> {
        self.native(ty)?.create(req, &self.cni)
    }

    pub fn inspect(&self, ty: NetworkType, name: &str) -> NetResult<String> {
        self.native(ty)?.inspect(name)
    }

    pub fn list(
        &self,
        ty: NetworkType,
        filter: &dyn Fn(&str, &[String]) -> bool,
    ) -> NetResult<Vec<NetworkInfo>> {
        Ok(self.native(ty)?.list(filter))
    }

    /// Removes a native network; cleanup problems come back as warnings.
    pub fn remove(&self, ty: NetworkType, name: &str) -> NetResult<Vec<String>> {
        self.native(ty)?.remove(name)
    }

    pub fn exists(&self, ty: NetworkType, name: &str) -> NetResult<bool> {
        Ok(self.native(ty)?.exists(name))
    }

    pub fn add_container(&self, ty: NetworkType, network: &str, container: &str) -> NetResult<()> {
        self.native(ty)?.add_container(network, container)
    }

    fn cri(&self) -> NetResult<&CriNetworks> {
        self.cri.as_ref().ok_or_else(|| {
            NetError::exec(
                "network type cri is not enabled (network_module_init got no network plugin)",
            )
        })
    }

    /// Network management exists for native networks only.
    fn native(&self, ty: NetworkType) -> NetResult<&NativeNetworks> {
        match ty {
            NetworkType::Native => Ok(&self.native),
            NetworkType::Cri => Err(NetError::input("Do not support network type: cri")),
        }
    }

    fn attacher(&self) -> Attacher<'_> {
        Attacher {
            cni: &self.cni,
            loopback: &self.loopback,
        }
    }
}

/// `network_module_init` splits the plugin directories on ';'.
pub fn split_bin_path(bin_path: &str) -> Vec<PathBuf> {
    bin_path
        .split(';')
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .collect()
}

fn check_request(req: &AttachRequest) -> NetResult<()> {
    if req.extra_nets.len() > MAX_EXTRA_NETWORKS {
        return Err(NetError::input(format!(
            "Too many networks: {} (at most {MAX_EXTRA_NETWORKS})",
            req.extra_nets.len()
        )));
    }
    if req.pod_id.is_empty() {
        return Err(NetError::input("Invalid network config: pod id is empty"));
    }
    Ok(())
}
