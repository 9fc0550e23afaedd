//! Slow create and rm work (plugin VERSION calls, the removal's cleanup) holds no lock that attach, detach, list
//! or ready on other networks need. Plugins are `#!/bin/sh` fakes; the slow step is held open by an event (a
//! FIFO or a channel), never guessed with a sleep.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::types::{AttachRequest, ExtraNet};
use super::*;

/// What a call on another network may take while the slow work is held open.
const PROMPT: Duration = Duration::from_millis(200);

/// ADD prints a result (versionless: it takes the list's version); every other command prints nothing.
const PLUGIN: &str = r#"case "$CNI_COMMAND" in
ADD) echo '{"ips": [{"address": "10.1.2.3/24"}]}' ;;
VERSION) echo '{"cniVersion": "1.0.0", "supportedVersions": ["0.3.1", "0.4.0", "1.0.0"]}' ;;
esac"#;

fn plugin(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A native network's file as create writes it, on a bridge that does not exist.
fn native_conflist(name: &str, subnet: &str) -> String {
    format!(
        r#"{{"cniVersion": "1.0.0", "name": "{name}", "plugins": [
        {{"type": "bridge", "bridge": "clibcni-no-{name}", "ipam": {{"type": "host-local",
          "ranges": [[{{"subnet": "{subnet}"}}]]}}}},
        {{"type": "portmap", "capabilities": {{"portMappings": true}}}}, {{"type": "firewall"}}]}}"#
    )
}

struct Site {
    root: tempfile::TempDir,
    module: Arc<NetworkModule>,
}

/// A module over networks "other" and "doomed"; `bridge_body` is the bridge plugin's script.
fn site(bridge_body: &str) -> Site {
    let root = tempfile::tempdir().unwrap();
    let (bin, conf) = (root.path().join("bin"), root.path().join("net.d"));
    fs::create_dir_all(&bin).unwrap();
    fs::create_dir_all(&conf).unwrap();
    for name in ["loopback", "portmap", "firewall"] {
        plugin(&bin, name, PLUGIN);
    }
    plugin(&bin, "bridge", bridge_body);
    for (name, subnet) in [("other", "10.201.1.0/24"), ("doomed", "10.201.2.0/24")] {
        let file = conf.join(format!("{NATIVE_FILE_PREFIX}{name}.conflist"));
        fs::write(file, native_conflist(name, subnet)).unwrap();
    }
    let module = NetworkModule::init(ModuleConfig {
        cache_dir: Some(root.path().join("cache")),
        conf_dir: Some(conf),
        bin_path: Some(bin.display().to_string()),
        ..ModuleConfig::default()
    })
    .unwrap();
    module.cni().set_timeout(Some(Duration::from_secs(30)));
    Site {
        root,
        module: Arc::new(module),
    }
}

fn on_other(pod: &str) -> AttachRequest {
    AttachRequest {
        pod_id: pod.into(),
        netns_path: format!("/run/netns/{pod}"),
        extra_nets: vec![ExtraNet {
            name: "other".into(),
            interface: "eth0".into(),
        }],
        ..AttachRequest::default()
    }
}

/// Attach, detach, list and ready on "other", each timed, on a thread of their own; fails (instead of hanging) if
/// they do not all finish within a few seconds.
fn calls_on_other_network(module: &Arc<NetworkModule>) -> Vec<(&'static str, Duration)> {
    let (done, results) = mpsc::channel();
    let module = Arc::clone(module);
    thread::spawn(move || {
        let mut took = Vec::new();
        let mut timed = |what: &'static str, call: &dyn Fn()| {
            let start = Instant::now();
            call();
            took.push((what, start.elapsed()));
        };
        let req = on_other("pod-other");
        timed("attach", &|| {
            module.attach(NetworkType::Native, &req).unwrap();
        });
        timed("detach", &|| module.detach(NetworkType::Native, &req).unwrap());
        timed("list", &|| {
            assert!(!module
                .list(NetworkType::Native, &|_, _| true)
                .unwrap()
                .is_empty());
        });
        timed("ready", &|| assert!(module.ready(NetworkType::Native)));
        let _ = done.send(took);
    });
    results
        .recv_timeout(Duration::from_secs(5))
        .expect("calls on another network are blocked by the slow work")
}

fn assert_prompt(took: &[(&str, Duration)]) {
    assert_eq!(took.len(), 4);
    for (what, took) in took {
        assert!(*took < PROMPT, "{what} took {took:?}");
    }
}

#[test]
fn calls_on_other_networks_do_not_wait_for_an_rm_cleanup() {
    let site = site(PLUGIN);
    let (entered_tx, entered) = mpsc::channel();
    let (release, release_rx) = mpsc::channel::<()>();
    let release_rx = Mutex::new(release_rx);
    *site.module.native.before_cleanup.lock().unwrap() = Some(Box::new(move |name| {
        entered_tx.send(name.to_string()).unwrap();
        let _ = release_rx.lock().unwrap().recv();
    }));
    let module = Arc::clone(&site.module);
    let rm = thread::spawn(move || module.remove(NetworkType::Native, "doomed"));
    assert_eq!(entered.recv().unwrap(), "doomed");

    let took = calls_on_other_network(&site.module);
    // The removed network is gone for everyone at once, though its cleanup is still under way.
    assert!(!site.module.exists(NetworkType::Native, "doomed").unwrap());
    let err = site
        .module
        .attach(
            NetworkType::Native,
            &AttachRequest {
                extra_nets: vec![ExtraNet {
                    name: "doomed".into(),
                    interface: "eth0".into(),
                }],
                ..on_other("pod-late")
            },
        )
        .unwrap_err();
    assert_eq!(err.msg, "Cannot found net: doomed");
    release.send(()).unwrap();
    assert_eq!(rm.join().unwrap().unwrap(), Vec::<String>::new());
    assert_prompt(&took);
    let conf = site.root.path().join("net.d");
    assert!(!conf.join("isulacni-doomed.conflist").exists());
    assert!(conf.join("isulacni-other.conflist").exists());
}

#[test]
fn calls_on_other_networks_do_not_wait_for_a_create_in_plugin_version() {
    let gate = tempfile::tempdir().unwrap();
    let (entered, release) = (gate.path().join("entered"), gate.path().join("release"));
    for fifo in [&entered, &release] {
        nix::unistd::mkfifo(fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    }
    // VERSION opens `entered` (which waits for the test to open it too), then waits for a line on `release`.
    let bridge = PLUGIN.replace(
        "VERSION) echo",
        &format!(
            "VERSION) echo in > '{}'; read -r go < '{}'; echo",
            entered.display(),
            release.display()
        ),
    );
    let site = site(&bridge);
    let module = Arc::clone(&site.module);
    let create = thread::spawn(move || {
        let req = CreateRequest {
            name: Some("fresh".into()),
            ..CreateRequest::default()
        };
        module.create(NetworkType::Native, &req)
    });
    assert_eq!(fs::read_to_string(&entered).unwrap(), "in\n");

    let took = calls_on_other_network(&site.module);
    fs::write(&release, "go\n").unwrap();
    let created = create.join().unwrap().unwrap();
    assert_eq!(created.name, "fresh");
    assert_prompt(&took);
    assert!(site.module.exists(NetworkType::Native, "fresh").unwrap());
}
