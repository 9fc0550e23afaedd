//! iSulad's network module in Rust: the "cri" and "native" network types on top of the CNI
//! runtime. Pure Rust; the FFI layer maps iSulad's C API onto [`NetworkModule`].

pub mod annotations;
pub mod attach;
pub mod cri;
pub mod dirwatch;
pub mod error;
pub mod native;
pub mod types;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::cni::cache::CachedAttachment;
use crate::cni::conf::NetworkConfigList;
use crate::cni::log::{log, Context, Level};
use crate::cni::runtime::{CallObserver, CniConfig, WarningSink};
use attach::{Attacher, LOOPBACK_CONFLIST};
use cri::CriNetworks;
use error::{NetError, NetErrors, NetResult};
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
    /// Containers attached through this module and not detached since: GC never releases them,
    /// whatever the daemon's list of live containers says.
    in_use: Mutex<HashSet<String>>,
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
        for warning in native.warnings() {
            log!(Level::Warn, Context::default(), "{warning}");
        }
        let module = NetworkModule {
            cni: Arc::new(cni),
            loopback,
            conf_dir,
            cri,
            native,
            in_use: Mutex::default(),
        };
        if let Some(cri) = &module.cri {
            cri.update(&module.cni)?;
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
        self.in_use_set().insert(req.pod_id.clone());
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
                if cri.has_networks() {
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
        let detached = self.attacher().detach(req, &plan);
        if detached.is_ok() {
            self.in_use_set().remove(&req.pod_id);
        }
        detached
    }

    /// Reconciles the result cache with the daemon's live containers after a restart: every
    /// cached attachment of this type's networks whose container is neither in `live` nor attached
    /// through this module since it was set up is released (DEL with its cached configuration,
    /// args and capability args; then CNI GC for 1.1.0 lists) and its cache entry removed, with the
    /// container's loopback entry once it has no other. A cached network that is no longer loaded
    /// counts as "cri" (native networks cannot be removed while in use). Returns the number of
    /// network attachments released (loopback not counted); one failing network does not stop the
    /// others, and every failure is logged and reported.
    pub fn gc(&self, ty: NetworkType, live: &[String]) -> NetResult<usize> {
        if ty == NetworkType::Cri {
            self.cri()?;
        }
        let live: HashSet<&str> = live.iter().map(String::as_str).collect();
        let keep = |a: &CachedAttachment| self.is_kept(&live, a);
        let mut errors = NetErrors::default();
        let mut fail = |network: &str, msg: String| {
            log!(Level::Warn, Context::network(network), "gc: {msg}");
            errors.push(NetError::exec(msg));
        };
        let attachments = self.cni.cached_attachments(None)?;
        let mut lists: Vec<Arc<NetworkConfigList>> = Vec::new();
        for att in attachments.iter().filter(|a| self.is_stale(ty, &live, a)) {
            let name = att.network_name.as_str();
            if lists.iter().any(|l| l.name == name) {
                continue;
            }
            match self.loaded_list(name) {
                Some(list) => lists.push(list),
                None => match NetworkConfigList::from_bytes(att.config.as_bytes()) {
                    Ok(list) => lists.push(Arc::new(list)),
                    Err(e) => fail(
                        name,
                        format!("cached configuration of network {name:?} is invalid: {e}"),
                    ),
                },
            }
        }
        let mut released = 0;
        for list in &lists {
            match self.cni.release_stale(list, &keep, None) {
                Ok(n) => released += n,
                Err(e) => fail(&list.name, format!("network {:?}: {e}", list.name)),
            }
        }
        // A container's loopback entry goes once no other entry of it is left.
        let others: HashSet<String> = match self.cni.cached_attachments(None) {
            Ok(left) => left
                .into_iter()
                .filter(|a| a.network_name != self.loopback.name)
                .map(|a| a.container_id)
                .collect(),
            Err(e) => {
                fail(&self.loopback.name, e.to_string());
                return errors.into_result().map(|()| released);
            }
        };
        let keep_loopback = |a: &CachedAttachment| keep(a) || others.contains(&a.container_id);
        if let Err(e) = self.cni.release_stale(&self.loopback, &keep_loopback, None) {
            fail(
                &self.loopback.name,
                format!("network {:?}: {e}", self.loopback.name),
            );
        }
        errors.into_result()?;
        if released > 0 {
            log!(
                Level::Info,
                Context::default(),
                "gc: released {released} stale attachments"
            );
        }
        Ok(released)
    }

    /// What [`gc`](Self::gc) would release now: the stale network attachments of this type
    /// (their containers' loopback entries go with them).
    pub fn gc_candidates(
        &self,
        ty: NetworkType,
        live: &[String],
    ) -> NetResult<Vec<CachedAttachment>> {
        if ty == NetworkType::Cri {
            self.cri()?;
        }
        let live: HashSet<&str> = live.iter().map(String::as_str).collect();
        let mut attachments = self.cni.cached_attachments(None)?;
        attachments.retain(|a| self.is_stale(ty, &live, a));
        Ok(attachments)
    }

    /// A cached attachment of one of this type's networks whose container is gone.
    fn is_stale(&self, ty: NetworkType, live: &HashSet<&str>, att: &CachedAttachment) -> bool {
        att.network_name != self.loopback.name
            && self.type_of(&att.network_name) == ty
            && !self.is_kept(live, att)
    }

    /// Live by the daemon's word, or attached through this module and not detached since.
    fn is_kept(&self, live: &HashSet<&str>, att: &CachedAttachment) -> bool {
        live.contains(att.container_id.as_str()) || self.in_use_set().contains(&att.container_id)
    }

    /// The type a cached network belongs to.
    fn type_of(&self, network: &str) -> NetworkType {
        if self.native.exists(network) {
            NetworkType::Native
        } else {
            NetworkType::Cri
        }
    }

    /// The loaded configuration of a network of either type.
    fn loaded_list(&self, network: &str) -> Option<Arc<NetworkConfigList>> {
        self.native
            .get(network)
            .map(|n| n.list.clone())
            .or_else(|| self.cri.as_ref().and_then(|c| c.list(network)))
    }

    fn in_use_set(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.in_use.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn ready(&self, ty: NetworkType) -> bool {
        self.readiness(ty).is_ok()
    }

    /// Ready, or why not: "cri" needs a default network whose plugins answer STATUS (1.1.0),
    /// "native" at least one network.
    pub fn readiness(&self, ty: NetworkType) -> Result<(), String> {
        match ty {
            NetworkType::Cri => self.cri().map_err(|e| e.msg)?.readiness(),
            NetworkType::Native if self.native.ready() => Ok(()),
            NetworkType::Native => Err("no native network exists".into()),
        }
    }

    /// Reloads the "cri" networks; native networks change only through this module.
    pub fn update(&self, ty: NetworkType) -> NetResult<()> {
        match ty {
            NetworkType::Cri => self.cri()?.update(&self.cni),
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
        let created = self.native(ty)?.create(req, &self.cni)?;
        let context = Context::network(&created.name);
        log!(
            Level::Info,
            context,
            "native network {} created",
            created.name
        );
        if let Some(warning) = &created.warning {
            log!(Level::Warn, context, "{warning}");
        }
        Ok(created)
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
        let warnings = self.native(ty)?.remove(name)?;
        let context = Context::network(name);
        log!(Level::Info, context, "native network {name} removed");
        for warning in &warnings {
            log!(Level::Warn, context, "{warning}");
        }
        Ok(warnings)
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
