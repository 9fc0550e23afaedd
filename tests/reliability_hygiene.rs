//! Process hygiene of a library living in a long-lived root daemon:
//! - file modes do not depend on the umask: cache files 0600, cache dirs 0700, native conflists 0640 and the conf
//!   dir 0750 when the library creates them (checked in `examples/crash_victim.rs hygiene`, which sets the umask);
//! - plugins inherit no fd of the host, not even one opened without O_CLOEXEC (`crash_victim fds`);
//! - ADD, CHECK, DEL, timeouts and plugins that exit without reading stdin change neither the environment, the
//!   signal dispositions, the signal mask and pending signals of the calling thread, the umask nor the working
//!   directory of this test process.
//!
//! Plugins are the recorder (`examples/cni_recorder.rs`) under real names, and small `#!/bin/sh` plugins.

mod support;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use clibcni::cni::conf::NetworkConfigList;
use clibcni::cni::runtime::{CniConfig, RuntimeConf};
use serde_json::json;
use support::{unique_suffix, PluginDir};

/// The plugins a native network chains, plus loopback; all of them the recorder.
const PLUGINS: [&str; 4] = ["bridge", "portmap", "firewall", "loopback"];

/// `examples/crash_victim.rs`, built in the running test's profile.
fn victim_binary() -> PathBuf {
    support::example_binary("crash_victim")
}

/// Runs the victim to completion; panics with its stderr unless it succeeds.
fn run_victim(args: &[&str]) {
    let output = Command::new(victim_binary())
        .args(args)
        .output()
        .expect("run crash_victim");
    assert!(
        output.status.success(),
        "crash_victim {args:?} failed ({}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

fn installed_plugins() -> PluginDir {
    let plugins = PluginDir::new();
    for name in PLUGINS {
        plugins.install(name);
    }
    plugins
}

fn mode(path: &Path) -> u32 {
    std::fs::symlink_metadata(path)
        .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// A `#!/bin/sh` plugin `name` in `dir`.
fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script plugin");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

// ---------------------------------------------------------------------------------------------
// File modes
// ---------------------------------------------------------------------------------------------

/// Under `umask`, the victim creates the conf dir, a native network and (by an ADD on it) the cache; the modes are
/// the library's whatever the umask. Returns (conf dir, conflist, cache dir, results dir, cache file) modes.
fn modes_under_umask(umask: &str) -> [(String, u32); 5] {
    let plugins = installed_plugins();
    let root = tempfile::Builder::new()
        .prefix("clibcni-hygiene-")
        .tempdir()
        .expect("tempdir");
    let conf = root.path().join("etc/cni/net.d");
    let cache = root.path().join("var/lib/cni");
    let name = format!("rel-umask-{}", unique_suffix());
    let bin = plugins.path().display().to_string();
    run_victim(&[
        "hygiene",
        umask,
        &bin,
        &conf.display().to_string(),
        &cache.display().to_string(),
        &name,
    ]);
    let files = [
        conf.clone(),
        conf.join(format!("isulacni-{name}.conflist")),
        cache.clone(),
        cache.join("results"),
        cache.join("results").join(format!("{name}-{name}-eth0")),
    ];
    files.map(|path| {
        (
            path.strip_prefix(root.path())
                .expect("under root")
                .display()
                .to_string(),
            mode(&path),
        )
    })
}

fn assert_library_modes(umask: &str) {
    let modes = modes_under_umask(umask);
    let expected = [0o750, 0o640, 0o700, 0o700, 0o600];
    let wanted: Vec<(String, u32)> = modes
        .iter()
        .zip(expected)
        .map(|((path, _), mode)| (path.clone(), mode))
        .collect();
    let shown = |list: &[(String, u32)]| {
        list.iter()
            .map(|(p, m)| format!("{p} {m:o}"))
            .collect::<Vec<_>>()
    };
    assert_eq!(shown(&modes), shown(&wanted), "modes under umask {umask}");
}

#[test]
fn file_modes_under_umask_000() {
    assert_library_modes("000");
}

#[test]
fn file_modes_under_umask_077() {
    assert_library_modes("077");
}

#[test]
fn file_modes_under_umask_022() {
    assert_library_modes("022");
}

/// A umask that clears owner bits too: the library still gives its files and directories their modes.
#[test]
fn file_modes_under_umask_777() {
    assert_library_modes("777");
}

// ---------------------------------------------------------------------------------------------
// Inherited fds
// ---------------------------------------------------------------------------------------------

/// (fd, target) of every line of `ls -l /proc/self/fd`.
fn listed_fds(listing: &str) -> BTreeMap<u32, String> {
    listing
        .lines()
        .filter_map(|line| {
            let (left, target) = line.split_once(" -> ")?;
            let fd = left.split_whitespace().last()?.parse().ok()?;
            Some((fd, target.to_string()))
        })
        .collect()
}

#[test]
fn plugins_inherit_no_fd_of_the_host() {
    let plugins = PluginDir::new();
    let root = tempfile::Builder::new()
        .prefix("clibcni-fds-")
        .tempdir()
        .expect("tempdir");
    script(
        plugins.path(),
        "fdlist",
        "cat > /dev/null\nls -l /proc/self/fd > \"$0.fds\"\n\
         echo '{\"cniVersion\": \"1.0.0\", \"ips\": [{\"address\": \"10.1.2.3/24\"}]}'",
    );
    let conflist = root.path().join("fds.conflist");
    let text = json!({"cniVersion": "1.0.0", "name": "rel-fds", "plugins": [{"type": "fdlist"}]});
    std::fs::write(&conflist, text.to_string()).expect("write conflist");
    let leak = root.path().join("leak-me");
    let cache = root.path().join("cache");
    let show = |p: &Path| p.display().to_string();
    run_victim(&[
        "fds",
        &show(plugins.path()),
        &show(&cache),
        &show(&conflist),
        &show(&leak),
    ]);

    let leak_target = show(&leak);
    // Control: a process started the usual way inherits the file opened without O_CLOEXEC.
    let control = listed_fds(
        &std::fs::read_to_string(root.path().join("leak-me.control")).expect("control listing"),
    );
    assert!(
        control.values().any(|t| *t == leak_target),
        "the victim's file is not inheritable: {control:?}"
    );

    let listing = std::fs::read_to_string(plugins.path().join("fdlist.fds"))
        .expect("the plugin's fd listing");
    let mut fds = listed_fds(&listing);
    // ls's own directory fd.
    fds.retain(|_, target| !(target.starts_with("/proc/") && target.ends_with("/fd")));
    let kinds: Vec<(u32, bool)> = fds
        .iter()
        .map(|(fd, t)| (*fd, t.starts_with("pipe:")))
        .collect();
    // stdin and stderr are the library's pipes; stdout is the listing file (the script's redirection).
    assert_eq!(
        kinds,
        [(0, true), (1, false), (2, true)],
        "plugin fds:\n{listing}"
    );
    assert_eq!(fds[&1], show(&plugins.path().join("fdlist.fds")));
}

// ---------------------------------------------------------------------------------------------
// Environment, signals, umask, cwd
// ---------------------------------------------------------------------------------------------

/// Everything of this process (and of the calling thread) the library must never change.
#[derive(Debug, PartialEq)]
struct Snapshot {
    env: Vec<(OsString, OsString)>,
    cwd: PathBuf,
    /// SigIgn, SigCgt, ShdPnd and Umask of the process.
    process: Vec<String>,
    /// SigBlk and SigPnd of the calling thread.
    thread: Vec<String>,
}

fn status_lines(path: &str, keys: &[&str]) -> Vec<String> {
    let status = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"));
    keys.iter()
        .map(|key| {
            status
                .lines()
                .find(|l| l.starts_with(&format!("{key}:")))
                .unwrap_or_else(|| panic!("no {key} in {path}"))
                .to_string()
        })
        .collect()
}

impl Snapshot {
    fn take() -> Snapshot {
        let mut env: Vec<(OsString, OsString)> = std::env::vars_os().collect();
        env.sort();
        Snapshot {
            env,
            cwd: std::env::current_dir().expect("cwd"),
            process: status_lines(
                "/proc/self/status",
                &["SigIgn", "SigCgt", "ShdPnd", "Umask"],
            ),
            thread: status_lines("/proc/thread-self/status", &["SigBlk", "SigPnd"]),
        }
    }
}

#[test]
fn calls_change_no_environment_signal_state_umask_or_cwd() {
    let plugins = installed_plugins();
    // Exits at once without reading its (1 MiB) stdin: the library's write fails with EPIPE and raises SIGPIPE.
    script(plugins.path(), "early", "exit 0");
    let cache = tempfile::Builder::new()
        .prefix("clibcni-hygiene-cache-")
        .tempdir()
        .expect("tempdir");
    let cni = CniConfig::new(vec![plugins.path().to_path_buf()], cache.path());
    cni.set_timeout(Some(Duration::from_millis(300)));
    let list = |plugins: serde_json::Value| {
        let text =
            json!({"cniVersion": "1.0.0", "name": "rel-hygiene", "plugins": plugins}).to_string();
        NetworkConfigList::from_bytes(text.as_bytes()).expect("list")
    };
    let good = list(json!([{"type": "bridge"}, {"type": "portmap"}]));
    let early = list(json!([{"type": "early", "padding": "x".repeat(1 << 20)}]));
    let hang = list(json!([{"type": "firewall"}]));
    plugins.behave("firewall", json!({"*": {"sleep": 30}}));
    let rt = RuntimeConf {
        container_id: format!("hygiene-{}", unique_suffix()),
        netns: "/var/run/netns/hygiene".into(),
        ifname: "eth0".into(),
        ..RuntimeConf::default()
    };

    let before = Snapshot::take();
    cni.add_network_list(&good, &rt).expect("ADD");
    cni.check_network_list(&good, &rt).expect("CHECK");
    cni.del_network_list(&good, &rt).expect("DEL");
    for _ in 0..3 {
        cni.add_network_list(&early, &rt)
            .expect_err("ADD with empty output");
        cni.del_network_list(&early, &rt)
            .expect("DEL of a plugin not reading stdin");
        cni.add_network_list(&hang, &rt).expect_err("ADD timeout");
        cni.del_network_list(&hang, &rt).expect_err("DEL timeout");
    }
    assert_eq!(Snapshot::take(), before);
}
