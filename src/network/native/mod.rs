//! The "native" network type: iSulad's own bridge networks (`isula network create`), one
//! `isulacni-<name>.conflist` per network in the conf dir.

pub mod host;
pub mod plan;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use ipnet::IpNet;
use serde_json::Value;

use crate::cni::abandoned;
use crate::cni::conf::{self, LoadedList, NetworkConfigList};
use crate::cni::exec;
use crate::cni::runtime::CniConfig;
use crate::cni::sync::Recover;
use crate::cni::version::Version;
use crate::network::attach::Planned;
use crate::network::cri::reject_duplicate_interfaces;
use crate::network::error::{NetError, NetResult};
use crate::network::types::AttachRequest;
use crate::network::NATIVE_FILE_PREFIX;
use plan::{CreateRequest, Plugins, Used};

/// Conf files are 0640 and the conf dir 0750, whatever the umask (iSulad's modes).
pub const CONF_FILE_MODE: u32 = 0o640;
pub const CONF_DIR_MODE: u32 = 0o750;
/// Where host-local keeps its reservations unless the config says otherwise.
const HOST_LOCAL_DATA_DIR: &str = "/var/lib/cni/networks";
/// When no plugin answers VERSION, iSulad writes this version.
pub const DEFAULT_CNI_VERSION: &str = "1.0.0";
/// The plugins of a native network, in chain order.
const PLUGIN_TYPES: [&str; 4] = ["bridge", "portmap", "firewall", "dnsname"];

/// One native network and the containers attached to it.
pub struct NativeNet {
    pub list: Arc<NetworkConfigList>,
    /// The file it was loaded from (or written to).
    pub path: PathBuf,
    pub containers: Mutex<BTreeSet<String>>,
}

impl NativeNet {
    fn containers(&self) -> std::sync::MutexGuard<'_, BTreeSet<String>> {
        self.containers.lock().recover()
    }
}

/// A listed network: name, cniVersion and plugin types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NetworkInfo {
    pub name: String,
    pub version: String,
    pub plugins: Vec<String>,
}

/// What `create` made: the name, and a warning for the daemon when plugins are missing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Created {
    pub name: String,
    pub warning: Option<String>,
}

/// A test's hook run before rm's cleanup, with the network's name.
#[cfg(test)]
pub(crate) type CleanupHook = Box<dyn Fn(&str) + Send>;

pub struct NativeNetworks {
    conf_dir: PathBuf,
    nets: RwLock<BTreeMap<String, Arc<NativeNet>>>,
    /// Serialises create and rm (each holds it throughout, including its slow work: plugin VERSION calls, the
    /// bridge's removal), and keeps the parsed conf dir for the next create. Attach, detach and the reads never
    /// take it; `nets` is locked only for lookups and the one insert or removal.
    changes: Mutex<Scanned>,
    warnings: Vec<String>,
    /// Runs between an rm's removal from `nets` and its cleanup, so tests can hold a cleanup open.
    #[cfg(test)]
    pub(crate) before_cleanup: Mutex<Option<CleanupHook>>,
}

/// What one conflist takes from the pools `create` allocates from.
struct Taken {
    subnets: Vec<IpNet>,
    bridges: Vec<String>,
}

impl Taken {
    fn of(list: &NetworkConfigList) -> Taken {
        Taken {
            subnets: subnets_of(list),
            bridges: bridge_names(list),
        }
    }
}

/// The conf dir as the last create (or the load) saw it. The next scan reuses the parsed list of every unchanged
/// file, and with it what the list takes, so a create re-reads and re-derives only what changed.
#[derive(Default)]
struct Scanned {
    files: Vec<LoadedList>,
    /// Parallel to `files`.
    taken: Vec<Arc<Taken>>,
}

impl Scanned {
    fn new(files: Vec<LoadedList>, previous: &Scanned) -> Scanned {
        // A reused list is the very same allocation, which `previous` keeps alive: its address identifies it.
        let known: HashMap<usize, &Arc<Taken>> = previous
            .files
            .iter()
            .zip(&previous.taken)
            .map(|(file, taken)| (list_id(&file.list), taken))
            .collect();
        let taken = files
            .iter()
            .map(|file| match known.get(&list_id(&file.list)) {
                Some(taken) => Arc::clone(taken),
                None => Arc::new(Taken::of(&file.list)),
            })
            .collect();
        Scanned { files, taken }
    }
}

fn list_id(list: &Arc<NetworkConfigList>) -> usize {
    Arc::as_ptr(list) as usize
}

impl NativeNetworks {
    /// Loads every `isulacni-*` file of the conf dir, keyed by the network name inside it.
    /// Temp files of creates killed mid-write are removed first (see [`abandoned`]).
    pub fn load(conf_dir: &Path) -> NetResult<NativeNetworks> {
        let removal_problems = abandoned::remove_abandoned_temps(conf_dir, &temp_writer);
        let scan = conf::scan_dir(conf_dir, &|name| name.starts_with(NATIVE_FILE_PREFIX), &[])
            .map_err(|e| {
                NetError::exec(format!(
                    "cannot load native networks from {}: {e}",
                    conf_dir.display()
                ))
            })?;
        let mut warnings = removal_problems;
        warnings.extend(scan.warnings);
        let mut nets = BTreeMap::new();
        for file in &scan.lists {
            if nets.contains_key(&file.list.name) {
                warnings.push(format!(
                    "Ignore native network: {}, because already exist",
                    file.list.name
                ));
                continue;
            }
            let net = NativeNet {
                list: file.list.clone(),
                path: file.path.clone(),
                containers: Mutex::default(),
            };
            nets.insert(file.list.name.clone(), Arc::new(net));
        }
        Ok(NativeNetworks {
            conf_dir: conf_dir.to_path_buf(),
            nets: RwLock::new(nets),
            // The first create then re-reads only the other files of the conf dir.
            changes: Mutex::new(Scanned::new(scan.lists, &Scanned::default())),
            warnings,
            #[cfg(test)]
            before_cleanup: Mutex::default(),
        })
    }

    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub fn ready(&self) -> bool {
        !self.read().is_empty()
    }

    pub fn exists(&self, name: &str) -> bool {
        self.read().contains_key(name)
    }

    pub fn get(&self, name: &str) -> Option<Arc<NativeNet>> {
        self.read().get(name).cloned()
    }

    /// `isula network create`: allocates, writes `isulacni-<name>.conflist` atomically and makes
    /// the network usable at once. Creates are serialised, so two racing for a name or subnet
    /// cannot both win.
    pub fn create(&self, req: &CreateRequest, cni: &CniConfig) -> NetResult<Created> {
        let mut scanned = self.changes.lock().recover();
        *scanned = self.rescan(&scanned)?;
        let used = self.used(&scanned)?;
        let (present, missing) = present_plugins(cni);
        let version = newest_common_version(cni, &present);
        let plugins = Plugins {
            dnsname: present.iter().any(|p| p == "dnsname"),
        };
        let new = plan::plan(req, &used, &version, &plugins)?;
        let path = self
            .conf_dir
            .join(format!("{NATIVE_FILE_PREFIX}{}.conflist", new.name));
        write_new_file(&self.conf_dir, &path, new.conflist.as_bytes())?;
        let list = match NetworkConfigList::from_bytes(new.conflist.as_bytes()) {
            Ok(list) => list,
            Err(e) => {
                let _ = fs::remove_file(&path);
                return Err(NetError::exec(format!(
                    "generated configuration is invalid: {e}"
                )));
            }
        };
        let net = NativeNet {
            list: Arc::new(list),
            path,
            containers: Mutex::default(),
        };
        self.nets
            .write()
            .recover()
            .insert(new.name.clone(), Arc::new(net));
        let warning = (!missing.is_empty()).then(|| {
            let dirs: Vec<String> = cni
                .bin_dirs()
                .iter()
                .map(|d| d.display().to_string())
                .collect();
            format!(
                "WARN:cannot find cni plugin \"{}\" in dir \"{}\"",
                missing.join(","),
                dirs.join(";")
            )
        });
        Ok(Created {
            name: new.name,
            warning,
        })
    }

    /// The network's file text, as written.
    pub fn inspect(&self, name: &str) -> NetResult<String> {
        self.get(name)
            .map(|n| n.list.bytes.to_string())
            .ok_or_else(|| NetError::exec(format!("No such network {name}")))
    }

    /// The networks accepted by `filter(name, plugin types)`, in name order.
    pub fn list(&self, filter: &dyn Fn(&str, &[String]) -> bool) -> Vec<NetworkInfo> {
        self.read()
            .values()
            .map(|n| NetworkInfo {
                name: n.list.name.clone(),
                version: n.list.cni_version.clone(),
                plugins: n
                    .list
                    .plugins
                    .iter()
                    .map(|p| p.plugin_type.clone())
                    .collect(),
            })
            .filter(|info| filter(&info.name, &info.plugins))
            .collect()
    }

    /// `isula network rm`: refused while containers are attached; otherwise the bridge link
    /// and the file it was loaded from go. Cleanup problems come back as warnings.
    ///
    /// The check that no container is attached and the network's removal from `nets` happen under one write
    /// lock (an attach records its container under the read lock first, so one of the two wins); the slow
    /// cleanup (netlink, the file system) runs after that lock is released, still serialised with create and rm.
    pub fn remove(&self, name: &str) -> NetResult<Vec<String>> {
        let _changes = self.changes.lock().recover();
        let net = {
            let mut nets = self.nets.write().recover();
            let net = nets
                .get(name)
                .cloned()
                .ok_or_else(|| NetError::exec(format!("Cannot find network {name}")))?;
            if !net.containers().is_empty() {
                return Err(NetError::exec(format!(
                    "network {name} has connected containers"
                )));
            }
            nets.remove(name);
            net
        };
        #[cfg(test)]
        if let Some(hook) = &*self.before_cleanup.lock().unwrap() {
            hook(name);
        }
        let mut warnings = Vec::new();
        if let Some(bridge) = bridge_names(&net.list).into_iter().next() {
            if let Err(e) = host::delete_link(&bridge) {
                warnings.push(format!("Failed to delete bridge {bridge}: {e}"));
            }
        }
        if let Err(e) = remove_ipam_state(&net.list) {
            warnings.push(e);
        }
        match fs::remove_file(&net.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => warnings.push(format!("Failed to remove {}: {e}", net.path.display())),
        }
        Ok(warnings)
    }

    /// Records an attached container (daemon restore).
    pub fn add_container(&self, name: &str, container: &str) -> NetResult<()> {
        crate::cni::validate::container_id(container)
            .map_err(|e| NetError::input(format!("Invalid container id {container:?}: {e}")))?;
        let net = self
            .get(name)
            .ok_or_else(|| NetError::exec(format!("Cannot found net: {name}")))?;
        net.containers().insert(container.to_string());
        Ok(())
    }

    /// The container's networks in order, each on its own interface; port mappings and the
    /// other annotations go to the first network only. The container is recorded on each
    /// network before any plugin runs, so `rm` cannot pull a network from under an attach.
    pub fn plan_attach(&self, req: &AttachRequest) -> NetResult<Vec<Planned>> {
        if req.extra_nets.is_empty() {
            return Err(NetError::input("No network to attach the container to"));
        }
        let nets = self.read();
        let mut plan = Vec::with_capacity(req.extra_nets.len());
        for (i, extra) in req.extra_nets.iter().enumerate() {
            let net = nets
                .get(&extra.name)
                .ok_or_else(|| NetError::exec(format!("Cannot found net: {}", extra.name)))?;
            plan.push(Planned {
                list: net.list.clone(),
                ifname: extra.interface.clone(),
                with_annotations: i == 0,
            });
        }
        reject_duplicate_interfaces(&plan)?;
        for extra in &req.extra_nets {
            if let Some(net) = nets.get(&extra.name) {
                net.containers().insert(req.pod_id.clone());
            }
        }
        Ok(plan)
    }

    /// The container's networks that still exist, in order (for check and detach).
    pub fn planned(&self, req: &AttachRequest) -> Vec<Planned> {
        let nets = self.read();
        req.extra_nets
            .iter()
            .enumerate()
            .filter_map(|(i, extra)| {
                let net = nets.get(&extra.name)?;
                Some(Planned {
                    list: net.list.clone(),
                    ifname: extra.interface.clone(),
                    with_annotations: i == 0,
                })
            })
            .collect()
    }

    /// Detach: the container leaves the list of every network the request names.
    pub fn forget_container(&self, req: &AttachRequest) {
        let nets = self.read();
        for extra in &req.extra_nets {
            if let Some(net) = nets.get(&extra.name) {
                net.containers().remove(&req.pod_id);
            }
        }
    }

    /// Every conflist of the conf dir (native and cri) as it is now.
    fn rescan(&self, previous: &Scanned) -> NetResult<Scanned> {
        let scan = conf::scan_dir(&self.conf_dir, &|_| true, &previous.files)
            .map_err(|e| NetError::exec(format!("cannot read {}: {e}", self.conf_dir.display())))?;
        Ok(Scanned::new(scan.lists, previous))
    }

    /// What create must avoid: native names, every subnet and bridge of every conflist in the
    /// conf dir (native and cri) and of the loaded networks, host interfaces and addresses.
    fn used(&self, scanned: &Scanned) -> NetResult<Used> {
        let (mut interfaces, host_addrs) = host::interfaces_and_addresses()
            .map_err(|e| NetError::exec(format!("cannot read host interfaces: {e}")))?;
        let nets = self.read();
        // Loaded networks are mostly the scanned files themselves; the others (a file changed or removed since)
        // count as well.
        let in_dir: HashSet<usize> = scanned
            .files
            .iter()
            .map(|file| list_id(&file.list))
            .collect();
        let elsewhere: Vec<Taken> = nets
            .values()
            .filter(|n| !in_dir.contains(&list_id(&n.list)))
            .map(|n| Taken::of(&n.list))
            .collect();
        let mut subnets = Vec::new();
        for taken in scanned.taken.iter().map(Arc::as_ref).chain(&elsewhere) {
            subnets.extend_from_slice(&taken.subnets);
            interfaces.extend(taken.bridges.iter().cloned());
        }
        let names: HashSet<String> = nets.keys().cloned().collect();
        Ok(Used {
            names,
            interfaces,
            subnets,
            host_addrs,
        })
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<NativeNet>>> {
        self.nets.read().recover()
    }
}

/// Every IPAM subnet of a list: `ipam.subnet` and every `ipam.ranges[][].subnet`.
pub fn subnets_of(list: &NetworkConfigList) -> Vec<IpNet> {
    let mut out = Vec::new();
    for plugin in &list.plugins {
        let Some(ipam) = plugin.raw().get("ipam") else {
            continue;
        };
        let mut add = |v: Option<&Value>| {
            if let Some(net) = v
                .and_then(Value::as_str)
                .and_then(|s| s.parse::<IpNet>().ok())
            {
                out.push(net.trunc());
            }
        };
        add(ipam.get("subnet"));
        for set in ipam
            .get("ranges")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            for range in set.as_array().into_iter().flatten() {
                add(range.get("subnet"));
            }
        }
    }
    out
}

/// host-local keeps `<dataDir>/<network>/` with a lock and its last reserved address after the
/// last container is gone; the network's removal takes that directory along, unless a
/// reservation is still in it.
fn remove_ipam_state(list: &NetworkConfigList) -> Result<(), String> {
    for plugin in &list.plugins {
        let Some(ipam) = plugin
            .raw()
            .get("ipam")
            .filter(|i| i.get("type").and_then(Value::as_str) == Some("host-local"))
        else {
            continue;
        };
        let data_dir = ipam
            .get("dataDir")
            .and_then(Value::as_str)
            .unwrap_or(HOST_LOCAL_DATA_DIR);
        let dir = Path::new(data_dir).join(&list.name);
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("Failed to read {}: {e}", dir.display())),
        };
        let names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        if names
            .iter()
            .all(|n| n == "lock" || n.starts_with("last_reserved_ip"))
        {
            fs::remove_dir_all(&dir)
                .map_err(|e| format!("Failed to remove {}: {e}", dir.display()))?;
        }
    }
    Ok(())
}

/// The `bridge` names a list's plugins use.
pub fn bridge_names(list: &NetworkConfigList) -> Vec<String> {
    list.plugins
        .iter()
        .filter(|p| p.plugin_type == "bridge")
        .filter_map(|p| {
            p.raw()
                .get("bridge")
                .and_then(Value::as_str)
                .map(str::to_string)
        })
        .collect()
}

/// Which native plugins are installed; `dnsname` is optional, the others are reported.
fn present_plugins(cni: &CniConfig) -> (Vec<String>, Vec<String>) {
    let (present, missing): (Vec<&str>, Vec<&str>) = PLUGIN_TYPES
        .iter()
        .partition(|p| exec::find_plugin(p, cni.bin_dirs()).is_ok());
    let missing = missing
        .into_iter()
        .filter(|p| *p != "dnsname")
        .map(str::to_string)
        .collect();
    (present.into_iter().map(str::to_string).collect(), missing)
}

/// The newest version (0.3.0 or later: lists need it) that every installed plugin supports;
/// plugins that do not answer VERSION are left out. None answering: iSulad's default.
fn newest_common_version(cni: &CniConfig, plugins: &[String]) -> String {
    let mut common: Option<Vec<Version>> = None;
    for plugin in plugins {
        let Ok(info) = cni.get_version_info(plugin) else {
            continue;
        };
        let supported: Vec<Version> = info
            .supported_versions
            .iter()
            .filter_map(|s| Version::parse(s).ok())
            .collect();
        common = Some(match common {
            None => supported,
            Some(c) => c.into_iter().filter(|v| supported.contains(v)).collect(),
        });
    }
    match common {
        None => DEFAULT_CNI_VERSION.to_string(),
        Some(c) => c
            .into_iter()
            .filter(|v| v.is_known() && *v >= Version::V0_3_0)
            .max()
            .map_or_else(|| DEFAULT_CNI_VERSION.to_string(), |v| v.to_string()),
    }
}

/// Temp files of `write_new_file` are `.<file name>.tmp-<pid>`.
const TEMP_MARK: &str = ".tmp-";

/// The writer's pid of a temp file of a native network file.
fn temp_writer(name: &str) -> Option<i32> {
    let (file, pid) = name.strip_prefix('.')?.rsplit_once(TEMP_MARK)?;
    file.starts_with(NATIVE_FILE_PREFIX)
        .then(|| pid.parse().ok())?
}

/// Writes a file that must not exist yet: temp file (mode set explicitly, so the umask does
/// not matter), fsync, then a hard link to the final name, which fails if it exists.
fn write_new_file(dir: &Path, path: &Path, data: &[u8]) -> NetResult<()> {
    let io_err =
        |what: &str, e: std::io::Error| NetError::exec(format!("{what} {}: {e}", path.display()));
    if !dir.is_dir() {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(CONF_DIR_MODE)
            .create(dir)
            .map_err(|e| io_err("cannot create dir for", e))?;
        fs::set_permissions(dir, fs::Permissions::from_mode(CONF_DIR_MODE))
            .map_err(|e| io_err("cannot chmod dir for", e))?;
    }
    if path.exists() {
        return Err(NetError::exec(format!("File {} exist", path.display())));
    }
    // Our own hidden name: a leftover of a killed process with the same pid is simply overwritten.
    let tmp = dir.join(format!(
        ".{}{TEMP_MARK}{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("conf"),
        std::process::id()
    ));
    let written = (|| -> std::io::Result<()> {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(CONF_FILE_MODE)
            .open(&tmp)?;
        f.set_permissions(fs::Permissions::from_mode(CONF_FILE_MODE))?;
        f.write_all(data)?;
        f.sync_all()?;
        crash_point!(ConflistTempWritten);
        fs::hard_link(&tmp, path)?;
        crash_point!(ConflistLinked);
        Ok(())
    })();
    let _ = fs::remove_file(&tmp);
    match written {
        Ok(()) => {
            crash_point!(ConflistTempRemoved);
            if let Ok(d) = fs::File::open(dir) {
                let _ = d.sync_all();
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            Err(NetError::exec(format!("File {} exist", path.display())))
        }
        Err(e) => Err(io_err("cannot write", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn conflist(name: &str, subnet: &str) -> String {
        format!(
            r#"{{"cniVersion":"1.0.0","name":"{name}","plugins":[{{"type":"bridge","bridge":"br-{name}",
            "ipam":{{"type":"host-local","ranges":[[{{"subnet":"{subnet}"}}]]}}}}]}}"#
        )
    }

    fn subnet_of(nets: &NativeNetworks, name: &str) -> IpNet {
        subnets_of(&nets.get(name).unwrap().list)[0]
    }

    #[test]
    fn load_removes_temp_files_of_creates_whose_writer_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let own = format!(".isulacni-b.conflist.tmp-{}", std::process::id());
        // 99999999 is above any pid_max: no such process.
        for name in [
            ".isulacni-a.conflist.tmp-99999999",
            own.as_str(),
            ".other.tmp-99999999",
        ] {
            fs::write(dir.path().join(name), "{").unwrap();
        }
        let nets = NativeNetworks::load(dir.path()).unwrap();
        assert_eq!(nets.warnings(), &[] as &[String]);
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let mut expected = [".other.tmp-99999999", own.as_str()];
        expected.sort();
        assert_eq!(left, expected);
        assert_eq!(temp_writer(".isulacni-x.tmp-1.conflist.tmp-42"), Some(42));
        assert_eq!(temp_writer("isulacni-x.conflist.tmp-42"), None);
    }

    #[test]
    fn unchanged_files_keep_what_they_take_changed_ones_are_derived_again() {
        let dir = tempfile::tempdir().unwrap();
        let cri = dir.path().join("10-cri.conflist");
        fs::write(&cri, conflist("cri", "10.1.0.0/24")).unwrap();
        fs::write(
            dir.path().join("isulacni-a.conflist"),
            conflist("a", "10.2.0.0/24"),
        )
        .unwrap();
        let nets = NativeNetworks::load(dir.path()).unwrap();
        let first = nets.rescan(&nets.changes.lock().unwrap()).unwrap();
        let again = nets.rescan(&first).unwrap();
        assert_eq!(first.files.len(), 2);
        assert!(first
            .taken
            .iter()
            .zip(&again.taken)
            .all(|(a, b)| Arc::ptr_eq(a, b)));
        // A new size: the change is seen even within one tick of the file system's clock.
        fs::write(&cri, conflist("cri", "10.30.0.0/16")).unwrap();
        let changed = nets.rescan(&again).unwrap();
        assert_eq!(
            changed.taken[0].subnets,
            ["10.30.0.0/16".parse::<IpNet>().unwrap()]
        );
        assert_eq!(changed.taken[0].bridges, ["br-cri"]);
        assert!(
            Arc::ptr_eq(&changed.taken[1], &again.taken[1]),
            "the native file is unchanged"
        );
    }

    #[test]
    fn create_sees_a_conflist_changed_since_the_last_create() {
        let dir = tempfile::tempdir().unwrap();
        let bin = tempfile::tempdir().unwrap();
        let cni = CniConfig::new(vec![bin.path().to_path_buf()], dir.path().join("cache"));
        let cri = dir.path().join("10-cri.conflist");
        fs::write(&cri, conflist("cri", "192.168.0.0/24")).unwrap();
        let nets = NativeNetworks::load(dir.path()).unwrap();
        let create = |name: &str| {
            let req = CreateRequest {
                name: Some(name.into()),
                ..CreateRequest::default()
            };
            nets.create(&req, &cni).unwrap();
            subnet_of(&nets, name)
        };
        let n1 = create("n1");
        assert!(
            !n1.contains(&"192.168.0.1".parse::<IpAddr>().unwrap()),
            "{n1}"
        );
        // Rewritten in place (to a new size): the next create must see the whole 192.168.0.0/16 taken.
        fs::write(&cri, conflist("cri", "192.168.0.0/16") + "\n").unwrap();
        let n2 = create("n2");
        let pool: IpNet = "192.168.0.0/16".parse().unwrap();
        assert!(
            !pool.contains(&n2) && !n2.contains(&pool) && n2 != n1,
            "{n2}"
        );
    }
}
