//! Crash consistency: a process using the library (`examples/crash_victim.rs`) is killed with SIGKILL in the middle
//! of an ADD, of a native network create, and at random times in create/ADD/DEL/rm cycles. Afterwards every file of
//! the conf dir and of the cache's `results/` is absent or complete (no empty or truncated file); leftover temp files
//! are hidden (`.`-prefixed) and the loaders (NetworkModule::init + list, the cache's attachments) ignore them; and
//! the next DEL / rm / create recovers and cleans up. Plugins are the recorder installed as `bridge`, `portmap`,
//! `firewall` and `loopback`, so no real network is touched.

mod support;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use clibcni::cni::conf::NetworkConfigList;
use clibcni::cni::runtime::{CniConfig, RuntimeConf};
use clibcni::network::native::plan::CreateRequest;
use clibcni::network::{ModuleConfig, NetworkModule, NetworkType};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};
use support::{unique_suffix, PluginDir};

/// The plugins a native network chains, plus loopback; all of them the recorder.
const PLUGINS: [&str; 4] = ["bridge", "portmap", "firewall", "loopback"];
/// How long the victim may take to reach the point where it is killed.
const REACH: Duration = Duration::from_secs(20);
/// Kills of the random-time test.
const RANDOM_KILLS: usize = 50;
/// The interface of every attachment (as in the victim).
const IFNAME: &str = "eth0";

// ---------------------------------------------------------------------------------------------
// The victim
// ---------------------------------------------------------------------------------------------

/// `examples/crash_victim.rs`, built in the running test's profile.
fn victim_binary() -> PathBuf {
    support::example_binary("crash_victim")
}

/// A running victim; its stdout lines arrive on a channel, so waiting for one never blocks past a deadline.
struct Victim {
    child: Child,
    lines: Receiver<String>,
}

impl Victim {
    fn spawn(args: &[&str]) -> Victim {
        let mut child = Command::new(victim_binary())
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn crash_victim");
        let stdout = child.stdout.take().expect("victim stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Victim { child, lines }
    }

    /// Waits for the line `wanted`; panics with the victim's stderr when it dies or takes too long.
    fn expect_line(&mut self, wanted: &str) {
        let deadline = Instant::now() + REACH;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if line == wanted => return,
                Ok(_) => {}
                Err(_) => break,
            }
        }
        self.fail(&format!("no line {wanted:?}"));
    }

    /// Panics unless the victim is still running.
    fn assert_running(&mut self) {
        if !matches!(self.child.try_wait(), Ok(None)) {
            self.fail("exited before it was killed");
        }
    }

    fn fail(&mut self, why: &str) -> ! {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        panic!("crash_victim {why}; stderr: {stderr}");
    }

    /// SIGKILL (the victim must still be running), then reap.
    fn kill(mut self) {
        self.assert_running();
        self.child.kill().expect("SIGKILL the victim");
        let status = self.child.wait().expect("reap the victim");
        assert_eq!(
            std::os::unix::process::ExitStatusExt::signal(&status),
            Some(9),
            "victim ended by {status}"
        );
    }
}

/// A failing test leaves no victim running.
impl Drop for Victim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------------
// A site: plugins, conf dir, cache dir
// ---------------------------------------------------------------------------------------------

struct Site {
    plugins: PluginDir,
    root: tempfile::TempDir,
}

impl Site {
    fn new() -> Site {
        let plugins = PluginDir::new();
        for name in PLUGINS {
            plugins.install(name);
        }
        let root = tempfile::Builder::new()
            .prefix("clibcni-crash-")
            .tempdir()
            .expect("site tempdir");
        std::fs::create_dir(root.path().join("net.d")).expect("create conf dir");
        Site { plugins, root }
    }

    fn conf_dir(&self) -> PathBuf {
        self.root.path().join("net.d")
    }

    fn cache_dir(&self) -> PathBuf {
        self.root.path().join("cache")
    }

    fn results_dir(&self) -> PathBuf {
        self.cache_dir().join("results")
    }

    fn bin(&self) -> String {
        self.plugins.path().display().to_string()
    }

    fn conf(&self) -> String {
        self.conf_dir().display().to_string()
    }

    fn cache(&self) -> String {
        self.cache_dir().display().to_string()
    }

    fn module(&self) -> NetworkModule {
        NetworkModule::init(ModuleConfig {
            conf_dir: Some(self.conf_dir()),
            cache_dir: Some(self.cache_dir()),
            bin_path: Some(self.bin()),
            ..ModuleConfig::default()
        })
        .unwrap_or_else(|e| panic!("NetworkModule::init: {e}"))
    }

    fn cni(&self) -> CniConfig {
        CniConfig::new(vec![self.plugins.path().to_path_buf()], self.cache_dir())
    }

    /// Waits until recorder `plugin` has been called with `command`; returns the call's pid (= its process group).
    fn await_call(&self, victim: &mut Victim, plugin: &str, command: &str) -> i32 {
        let deadline = Instant::now() + REACH;
        loop {
            if let Some(call) = self
                .plugins
                .calls(plugin)
                .into_iter()
                .find(|c| c.command == command)
            {
                assert_eq!(call.pid, call.pgid, "a plugin leads its own process group");
                return call.pid;
            }
            victim.assert_running();
            if Instant::now() >= deadline {
                victim.fail(&format!("never called {plugin} {command}"));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The names in a directory: (visible, hidden); a missing directory has none.
    fn names(dir: &Path) -> (Vec<String>, Vec<String>) {
        let mut names: Vec<String> = match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .map(|e| {
                    e.expect("dir entry")
                        .file_name()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => panic!("cannot list {}: {e}", dir.display()),
        };
        names.sort();
        names.into_iter().partition(|n| !n.starts_with('.'))
    }

    /// Checks the invariants after a kill and returns what is on disk: every visible file of the conf dir and of
    /// `results/` is a complete JSON document (a native conflist a valid network list, a cache file a complete
    /// cniCacheV1 entry); hidden files are the library's temp files; the loaders see exactly the visible files.
    fn assert_consistent(&self) -> State {
        let (conf_files, conf_temps) = Site::names(&self.conf_dir());
        let (cache_files, cache_temps) = Site::names(&self.results_dir());
        let mut networks = BTreeSet::new();
        for name in &conf_files {
            let bytes = complete_json(&self.conf_dir().join(name));
            if name.starts_with("isulacni-") {
                let list = NetworkConfigList::from_bytes(&bytes)
                    .unwrap_or_else(|e| panic!("{name}: invalid list: {e}"));
                assert_eq!(*name, format!("isulacni-{}.conflist", list.name));
                networks.insert(list.name.clone());
            }
        }
        for name in &cache_files {
            let entry: Value =
                serde_json::from_slice(&complete_json(&self.results_dir().join(name)))
                    .expect("json");
            assert_eq!(entry["kind"], "cniCacheV1", "cache file {name}: {entry}");
            assert!(
                entry["result"].is_object(),
                "cache file {name} without result: {entry}"
            );
        }
        for temp in &conf_temps {
            assert!(
                temp.starts_with(".isulacni-") && temp.contains(".conflist.tmp-"),
                "unexpected file {temp}"
            );
        }
        for temp in &cache_temps {
            assert!(
                temp.starts_with(".cnicache-") && temp.ends_with(".tmp"),
                "unexpected cache file {temp}"
            );
        }
        let module = self.module();
        // Loading removed the temp files of writers that are gone: every victim is killed and reaped by now, so
        // only this process's own may stay.
        let own = std::process::id().to_string();
        for (dir, temps) in [
            (self.conf_dir(), conf_temps.len()),
            (self.results_dir(), cache_temps.len()),
        ] {
            let left = Site::names(&dir).1;
            assert!(
                left.iter()
                    .all(|temp| writer_pid(temp) == Some(own.as_str())),
                "temp files of dead writers left in {} (of {temps}): {left:?}",
                dir.display()
            );
        }
        assert_eq!(
            module.warnings(),
            Vec::<String>::new(),
            "loading the conf dir after a kill"
        );
        let listed: BTreeSet<String> = module
            .list(NetworkType::Native, &|_, _| true)
            .expect("list")
            .into_iter()
            .map(|n| n.name)
            .collect();
        assert_eq!(listed, networks, "native networks listed vs conflist files");
        let attachments = module
            .cni()
            .cached_attachments(None)
            .expect("cached attachments");
        assert_eq!(
            attachments.len(),
            cache_files.len(),
            "cached attachments vs cache files {cache_files:?}"
        );
        State {
            module,
            networks,
            attachments: attachments.len(),
            temps: conf_temps.len() + cache_temps.len(),
        }
    }

    /// Nothing visible is left in the conf dir or the cache.
    fn assert_clean(&self) {
        assert_eq!(
            Site::names(&self.conf_dir()).0,
            Vec::<String>::new(),
            "conf dir not clean"
        );
        assert_eq!(
            Site::names(&self.results_dir()).0,
            Vec::<String>::new(),
            "cache not clean"
        );
    }
}

/// The pid in a temp file's name: `.isulacni-<name>.conflist.tmp-<pid>` or `.cnicache-<pid>-<tid>-<n>.tmp`.
fn writer_pid(temp: &str) -> Option<&str> {
    match temp.strip_prefix(".cnicache-") {
        Some(rest) => rest.split('-').next(),
        None => temp.rsplit_once(".tmp-").map(|(_, pid)| pid),
    }
}

/// What a kill left behind, with a module loaded from it.
struct State {
    module: NetworkModule,
    networks: BTreeSet<String>,
    attachments: usize,
    temps: usize,
}

/// The file's bytes, which must be a non-empty, complete JSON object.
fn complete_json(path: &Path) -> Vec<u8> {
    let bytes =
        std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(!bytes.is_empty(), "{} is empty", path.display());
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(_)) => bytes,
        Ok(other) => panic!("{} is not a JSON object: {other}", path.display()),
        Err(e) => panic!(
            "{} is torn: {e}: {:?}",
            path.display(),
            String::from_utf8_lossy(&bytes)
        ),
    }
}

/// The victim's attachment of `container`.
fn attachment(container: &str) -> RuntimeConf {
    RuntimeConf {
        container_id: container.into(),
        netns: format!("/var/run/netns/{container}"),
        ifname: IFNAME.into(),
        ..RuntimeConf::default()
    }
}

/// SIGKILL to the process group of a plugin the killed victim left running (it sleeps for 30 s), once it is
/// confirmed to be that plugin: alive, leading its group, named `plugin`.
fn kill_orphaned_plugin(pid: i32, plugin: &str) {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return;
    };
    let comm = stat
        .find('(')
        .zip(stat.rfind(')'))
        .map(|(a, b)| &stat[a + 1..b]);
    let pgrp = stat
        .rfind(')')
        .and_then(|at| stat[at + 1..].split_whitespace().nth(2))
        .and_then(|g| g.parse().ok());
    if comm == Some(plugin) && pgrp == Some(pid) {
        let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
    }
}

fn create(module: &NetworkModule, name: &str) {
    let request = CreateRequest {
        name: Some(name.into()),
        driver: Some("bridge".into()),
        ..CreateRequest::default()
    };
    let created = module
        .create(NetworkType::Native, &request)
        .unwrap_or_else(|e| panic!("create {name}: {e}"));
    assert_eq!(created.name, name);
    assert_eq!(created.warning, None);
}

fn remove(module: &NetworkModule, name: &str) {
    let warnings = module
        .remove(NetworkType::Native, name)
        .unwrap_or_else(|e| panic!("rm {name}: {e}"));
    assert_eq!(warnings, Vec::<String>::new(), "rm {name}");
}

// ---------------------------------------------------------------------------------------------
// The kills
// ---------------------------------------------------------------------------------------------

#[test]
fn add_killed_while_the_second_plugin_runs_leaves_no_cache_and_del_recovers() {
    let site = Site::new();
    site.plugins
        .behave("portmap", json!({"ADD": {"sleep": 30}}));
    let name = format!("rel-add-{}", unique_suffix());
    let conflist = site.conf_dir().join("10-rel-add.conflist");
    let text = json!({"cniVersion": "1.0.0", "name": name, "plugins": [{"type": "bridge"}, {"type": "portmap"}]});
    std::fs::write(&conflist, text.to_string()).expect("write conflist");
    let container = "victim-add";

    let mut victim = Victim::spawn(&[
        "add",
        &site.bin(),
        &site.cache(),
        &conflist.display().to_string(),
        container,
    ]);
    let sleeper = site.await_call(&mut victim, "portmap", "ADD");
    assert_eq!(
        site.plugins.calls("bridge").len(),
        1,
        "the first plugin ran before the second"
    );
    victim.kill();
    kill_orphaned_plugin(sleeper, "portmap");

    let state = site.assert_consistent();
    assert_eq!(state.attachments, 0, "a killed ADD cached a result");
    // DEL recovers: every plugin, in reverse order, without a cached result.
    let cni = site.cni();
    let list = NetworkConfigList::from_file(&conflist).expect("list");
    cni.del_network_list(&list, &attachment(container))
        .expect("DEL after the killed ADD");
    let dels: Vec<(String, Option<Value>)> = ["portmap", "bridge"]
        .iter()
        .flat_map(|p| {
            site.plugins
                .calls(p)
                .into_iter()
                .filter(|c| c.command == "DEL")
        })
        .map(|c| {
            (
                c.env["CNI_CONTAINERID"].clone(),
                c.stdin.get("prevResult").cloned(),
            )
        })
        .collect();
    assert_eq!(
        dels,
        [(container.to_string(), None), (container.to_string(), None)]
    );
    // And the attachment works again.
    site.plugins.behave("portmap", json!({}));
    cni.add_network_list(&list, &attachment(container))
        .expect("ADD after recovery");
    assert_eq!(site.assert_consistent().attachments, 1);
    cni.del_network_list(&list, &attachment(container))
        .expect("DEL");
    site.assert_consistent();
    assert_eq!(Site::names(&site.results_dir()).0, Vec::<String>::new());
}

#[test]
fn create_killed_before_the_file_is_written_leaves_nothing_and_create_recovers() {
    let site = Site::new();
    // create asks every installed plugin for its versions before it writes the file.
    site.plugins
        .behave("bridge", json!({"VERSION": {"sleep": 30}}));
    let name = format!("rel-create-{}", unique_suffix());

    let mut victim = Victim::spawn(&["create", &site.bin(), &site.conf(), &site.cache(), &name]);
    victim.expect_line("started");
    let sleeper = site.await_call(&mut victim, "bridge", "VERSION");
    victim.kill();
    kill_orphaned_plugin(sleeper, "bridge");

    let state = site.assert_consistent();
    assert!(
        state.networks.is_empty(),
        "a killed create left {:?}",
        state.networks
    );
    site.assert_clean();
    site.plugins.behave("bridge", json!({}));
    create(&state.module, &name);
    let after = site.assert_consistent();
    assert_eq!(after.networks, BTreeSet::from([name.clone()]));
    let file = site.conf_dir().join(format!("isulacni-{name}.conflist"));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&file).expect("conflist").permissions(),
    );
    assert_eq!(mode & 0o7777, 0o640);
    remove(&after.module, &name);
    site.assert_clean();
}

/// Temp files of writers that are gone (pids above any pid_max) are ignored, then removed by the load.
#[test]
fn loaders_ignore_temp_files_of_interrupted_writes() {
    let site = Site::new();
    let ghost = json!({"cniVersion": "1.0.0", "name": "ghost", "plugins": [{"type": "bridge", "bridge": "isula-br7"}]});
    let conf = site.conf_dir();
    std::fs::write(
        conf.join(".isulacni-ghost.conflist.tmp-99999999"),
        ghost.to_string(),
    )
    .expect("plant");
    std::fs::write(
        conf.join(".isulacni-torn.conflist.tmp-99999998"),
        &ghost.to_string()[..20],
    )
    .expect("plant");
    let results = site.results_dir();
    std::fs::create_dir_all(&results).expect("mkdir results");
    let entry = json!({
        "kind": "cniCacheV1", "containerId": "ghost", "config": ghost.to_string(), "ifName": IFNAME,
        "networkName": "ghost", "result": {"cniVersion": "1.0.0"}
    });
    std::fs::write(
        results.join(".cnicache-99999999-99999999-0.tmp"),
        entry.to_string(),
    )
    .expect("plant");
    std::fs::write(results.join(".cnicache-99999999-99999999-1.tmp"), "").expect("plant");

    let state = site.assert_consistent();
    assert!(state.networks.is_empty());
    assert_eq!(state.temps, 4);
    assert_eq!(
        state
            .module
            .cni()
            .cached_attachments(Some("ghost"))
            .expect("attachments"),
        Vec::new()
    );
    assert_eq!(
        state
            .module
            .cni()
            .cached_result(
                &NetworkConfigList::from_bytes(ghost.to_string().as_bytes()).expect("list"),
                &attachment("ghost")
            )
            .expect("read"),
        None
    );
    // The name of the temp file's network is free.
    create(&state.module, "ghost");
    remove(&state.module, "ghost");
}

/// A daemon killed during create and restarted with the same pid (common in containers, where pids are reused
/// deterministically) finds the temp file of the killed write under the name it is about to use.
#[test]
fn a_temp_file_left_by_a_killed_create_of_the_same_pid_does_not_block_create() {
    let site = Site::new();
    let name = format!("rel-stale-{}", unique_suffix());
    let stale = site.conf_dir().join(format!(
        ".isulacni-{name}.conflist.tmp-{}",
        std::process::id()
    ));
    std::fs::write(&stale, "{\"cniVersion\": \"1.0.0\", \"na").expect("plant the torn temp file");
    let state = site.assert_consistent();
    assert!(state.networks.is_empty());
    create(&state.module, &name);
    assert_eq!(
        site.assert_consistent().networks,
        BTreeSet::from([name.clone()])
    );
    remove(&state.module, &name);
    site.assert_clean();
}

/// A xorshift generator: kill times need no quality, only a seed to print.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

#[test]
fn create_add_del_rm_cycles_killed_at_random_times_stay_consistent_and_recover() {
    let site = Site::new();
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let mut rng = Rng(seed);
    eprintln!("kill times from seed {seed}");
    let (mut with_network, mut with_cache, mut with_temp) = (0, 0, 0);
    for round in 0..RANDOM_KILLS {
        let prefix = format!("rel-cyc-{round}-{}", std::process::id());
        let mut victim =
            Victim::spawn(&["cycle", &site.bin(), &site.conf(), &site.cache(), &prefix]);
        victim.expect_line("started");
        std::thread::sleep(Duration::from_micros(rng.below(40_000)));
        victim.kill();

        let context = format!("seed {seed}, round {round}");
        let state = site.assert_consistent();
        with_network += usize::from(!state.networks.is_empty());
        with_cache += usize::from(state.attachments > 0);
        // Temp files of killed writes are hidden, and removed when the next module loads.
        with_temp += usize::from(state.temps > 0);
        recover(&site, &state.module, &state.networks, &context);
        site.assert_clean();
    }
    eprintln!(
        "{RANDOM_KILLS} kills (seed {seed}): {with_network} left a network, {with_cache} a cached attachment, \
         {with_temp} a temp file"
    );
    assert!(
        with_network > 0,
        "no kill landed while a network existed (seed {seed}): the kill times miss the cycle"
    );
}

/// DEL of every cached attachment (from its cached config) and of every network's container (an ADD killed before
/// its cache write left none), rm of every network, then a fresh create and rm.
fn recover(site: &Site, module: &NetworkModule, networks: &BTreeSet<String>, context: &str) {
    for att in module
        .cni()
        .cached_attachments(None)
        .expect("cached attachments")
    {
        let list = NetworkConfigList::from_bytes(att.config.as_bytes()).expect("cached config");
        let rt = RuntimeConf {
            container_id: att.container_id.clone(),
            netns: att.netns.clone().unwrap_or_default(),
            ifname: att.if_name.clone(),
            ..RuntimeConf::default()
        };
        module
            .cni()
            .del_network_list(&list, &rt)
            .unwrap_or_else(|e| panic!("{context}: DEL of the cached attachment: {e}"));
    }
    for name in networks {
        let text = module.inspect(NetworkType::Native, name).expect("inspect");
        let list = NetworkConfigList::from_bytes(text.as_bytes()).expect("list");
        module
            .cni()
            .del_network_list(&list, &attachment(name))
            .unwrap_or_else(|e| panic!("{context}: DEL {name}: {e}"));
        remove(module, name);
    }
    site.assert_clean();
    let fresh = format!("rel-fresh-{}", unique_suffix());
    create(module, &fresh);
    remove(module, &fresh);
}
