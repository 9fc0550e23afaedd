//! The "cri" network type: Kubernetes pods on the CNI files of the conf dir that are not
//! iSulad's own native networks. The first file (by path) is the default network.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use crate::cni::conf::{self, LoadedList, NetworkConfigList};
use crate::cni::log::{log, Context, Level};
use crate::cni::runtime::CniConfig;
use crate::network::attach::Planned;
use crate::network::dirwatch::DirWatch;
use crate::network::error::{NetError, NetResult};
use crate::network::types::AttachRequest;
use crate::network::NATIVE_FILE_PREFIX;

pub const DEFAULT_INTERFACE: &str = "eth0";

/// The loaded CRI networks.
#[derive(Default)]
struct Networks {
    /// Shared with a reload in progress, which compares against it without copying it.
    files: Arc<Vec<LoadedList>>,
    by_name: HashMap<String, Arc<NetworkConfigList>>,
    warnings: Vec<String>,
    /// The dir held only plain files at the last scan, so the inotify watch sees every change
    /// (it cannot see through symlinks or into sibling plugin dirs).
    watchable: bool,
    /// Why the default network's plugins are not ready (its STATUS failed), as of the last update.
    status: Option<String>,
}

impl Networks {
    fn default_network(&self) -> Option<&Arc<NetworkConfigList>> {
        self.files.first().map(|f| &f.list)
    }
}

pub struct CriNetworks {
    conf_dir: PathBuf,
    store: RwLock<Networks>,
    watch: DirWatch,
}

impl CriNetworks {
    pub fn new(conf_dir: PathBuf) -> CriNetworks {
        CriNetworks {
            watch: DirWatch::new(conf_dir.clone()),
            conf_dir,
            store: RwLock::new(Networks::default()),
        }
    }

    /// Reloads the conf dir and asks the default network's plugins for their STATUS (1.1.0
    /// lists). Unchanged files are not parsed again (the daemon calls this every few seconds); an
    /// emptied dir leaves no network, so `ready` turns false.
    pub fn update(&self, cni: &CniConfig) -> NetResult<()> {
        self.reload()?;
        self.refresh_status(cni);
        Ok(())
    }

    /// STATUS of the default network, run with no lock held; a change is logged.
    fn refresh_status(&self, cni: &CniConfig) {
        let Some(default) = self.read().default_network().cloned() else {
            return;
        };
        let status = cni
            .status_network_list(&default)
            .err()
            .map(|e| format!("default network {:?} is not ready: {e}", default.name));
        let mut store = self.store.write().unwrap_or_else(|p| p.into_inner());
        if store.status == status {
            return;
        }
        store.status = status.clone();
        drop(store);
        let context = Context::network(&default.name);
        match status {
            Some(reason) => log!(Level::Warn, context, "{reason}"),
            None => log!(
                Level::Info,
                context,
                "default network {:?} is ready",
                default.name
            ),
        }
    }

    fn reload(&self) -> NetResult<()> {
        let mut look = self.watch.look();
        if look.unchanged && self.read().watchable {
            return Ok(());
        }
        let previous = self.read().files.clone();
        let scan = match conf::scan_dir(
            &self.conf_dir,
            &|name| !name.starts_with(NATIVE_FILE_PREFIX),
            &previous,
        ) {
            Ok(scan) => scan,
            Err(e) => {
                look.distrust();
                return Err(NetError::exec(format!(
                    "cannot load CNI configurations from {}: {e}",
                    self.conf_dir.display()
                )));
            }
        };
        let watchable = only_plain_files(&self.conf_dir);
        let same = |(a, b): (&LoadedList, &LoadedList)| {
            a.path.as_os_str() == b.path.as_os_str() && Arc::ptr_eq(&a.list, &b.list)
        };
        let unchanged =
            scan.lists.len() == previous.len() && scan.lists.iter().zip(previous.iter()).all(same);
        let mut warnings = scan.warnings;
        let mut store = self.store.write().unwrap_or_else(|p| p.into_inner());
        if !unchanged {
            let mut by_name = HashMap::new();
            for file in &scan.lists {
                if by_name.contains_key(&file.list.name) {
                    warnings.push(format!(
                        "Ignore CNI network: {}, because already exist",
                        file.list.name
                    ));
                } else {
                    by_name.insert(file.list.name.clone(), file.list.clone());
                }
            }
            store.files = Arc::new(scan.lists);
            store.by_name = by_name;
        }
        let changes = (!unchanged).then(|| describe_reload(&previous, &store.files));
        let new_warnings: Vec<String> = warnings
            .iter()
            .filter(|w| !store.warnings.contains(w))
            .cloned()
            .collect();
        store.warnings = warnings;
        store.watchable = watchable;
        drop(store);
        if let Some(changes) = changes.filter(|c| !c.is_empty()) {
            log!(
                Level::Info,
                Context::default(),
                "CNI networks of {} reloaded: {changes}",
                self.conf_dir.display()
            );
        }
        // The daemon reloads every few seconds: each problem is logged when it first shows.
        for warning in new_warnings {
            log!(Level::Warn, Context::default(), "{warning}");
        }
        Ok(())
    }

    /// Ready: a default network whose plugins answered STATUS at the last update (lists before
    /// 1.1.0 have no STATUS). The error says why not.
    pub fn readiness(&self) -> Result<(), String> {
        let store = self.read();
        if store.default_network().is_none() {
            return Err("Not found cni networks".into());
        }
        store.status.clone().map_or(Ok(()), Err)
    }

    /// Whether any network is loaded (teardown needs no more).
    pub fn has_networks(&self) -> bool {
        self.read().default_network().is_some()
    }

    /// A loaded network by name.
    pub fn list(&self, name: &str) -> Option<Arc<NetworkConfigList>> {
        self.read().by_name.get(name).cloned()
    }

    /// Problems met by the last reload (skipped files, duplicate names).
    pub fn warnings(&self) -> Vec<String> {
        self.read().warnings.clone()
    }

    /// The networks of a pod: each extra network on its interface (one on the default
    /// interface replaces the default network), then the default network.
    pub fn plan(&self, req: &AttachRequest, lenient: bool) -> NetResult<Vec<Planned>> {
        let store = self.read();
        let default = store
            .default_network()
            .cloned()
            .ok_or_else(|| NetError::exec("Not found cni networks"))?;
        let default_if = if req.default_interface.is_empty() {
            DEFAULT_INTERFACE
        } else {
            req.default_interface.as_str()
        };
        let mut default_net = Planned {
            list: default.clone(),
            ifname: default_if.to_string(),
            with_annotations: true,
        };
        let mut plan = Vec::with_capacity(req.extra_nets.len() + 1);
        for extra in &req.extra_nets {
            let found = store
                .by_name
                .get(&extra.name)
                .filter(|l| !Arc::ptr_eq(l, &default));
            let Some(list) = found else {
                if lenient {
                    continue;
                }
                return Err(NetError::input(format!(
                    "User defined network is in conflict with default network: {}",
                    extra.name
                )));
            };
            let net = Planned {
                list: list.clone(),
                ifname: extra.interface.clone(),
                with_annotations: true,
            };
            if extra.interface == default_if {
                default_net = net;
            } else {
                plan.push(net);
            }
        }
        plan.push(default_net);
        if !lenient {
            reject_duplicate_interfaces(&plan)?;
        }
        Ok(plan)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Networks> {
        self.store.read().unwrap_or_else(|p| p.into_inner())
    }
}

/// What a reload changed: networks added, removed, changed, and the new default.
fn describe_reload(before: &[LoadedList], after: &[LoadedList]) -> String {
    let names = |files: &[LoadedList]| -> Vec<String> {
        files.iter().map(|f| f.list.name.clone()).collect()
    };
    let (old, new) = (names(before), names(after));
    let mut parts = Vec::new();
    let added: Vec<&str> = new
        .iter()
        .filter(|n| !old.contains(n))
        .map(String::as_str)
        .collect();
    let removed: Vec<&str> = old
        .iter()
        .filter(|n| !new.contains(n))
        .map(String::as_str)
        .collect();
    let changed: Vec<&str> = after
        .iter()
        .filter(|a| {
            before
                .iter()
                .any(|b| b.list.name == a.list.name && !Arc::ptr_eq(&a.list, &b.list))
        })
        .map(|a| a.list.name.as_str())
        .collect();
    for (label, items) in [("added", added), ("removed", removed), ("changed", changed)] {
        if !items.is_empty() {
            parts.push(format!("{label} {}", items.join(", ")));
        }
    }
    if old.first() != new.first() {
        parts.push(format!(
            "default network {}",
            new.first().map_or("none", String::as_str)
        ));
    }
    parts.join("; ")
}

/// True when every entry of the dir is a regular file (no symlink, no subdirectory).
fn only_plain_files(dir: &std::path::Path) -> bool {
    match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .into_iter()
            .all(|e| e.and_then(|e| e.file_type()).is_ok_and(|t| t.is_file())),
        Err(_) => false,
    }
}

/// Two networks on one interface would fail half-way through the ADDs; refuse up front.
pub fn reject_duplicate_interfaces(plan: &[Planned]) -> NetResult<()> {
    for (i, net) in plan.iter().enumerate() {
        if plan[..i].iter().any(|other| other.ifname == net.ifname) {
            return Err(NetError::input(format!(
                "Interface {} is used by more than one network",
                net.ifname
            )));
        }
    }
    Ok(())
}
