//! Slow create and rm work (plugin VERSION calls, the removal's cleanup) holds no lock that attach, detach, list
//! or ready on other networks need. Plugins are `#!/bin/sh` fakes; the slow step is held open by an event (a
//! FIFO or a channel), never guessed with a sleep.

use std::fs;
use std::os::fd::AsFd;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::types::{AttachRequest, ExtraNet};
use super::*;

/// What a call on another network may take while the slow work is held open, beyond what it takes otherwise.
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

/// A module over networks "other" and "doomed"; every plugin is PLUGIN but those in `scripts` (name, body).
fn site(scripts: &[(&str, &str)]) -> Site {
    let root = tempfile::tempdir().unwrap();
    let (bin, conf) = (root.path().join("bin"), root.path().join("net.d"));
    fs::create_dir_all(&bin).unwrap();
    fs::create_dir_all(&conf).unwrap();
    for name in ["loopback", "bridge", "portmap", "firewall"] {
        let body = scripts
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(PLUGIN, |(_, b)| b);
        plugin(&bin, name, body);
    }
    for (name, subnet) in [("other", "10.201.1.0/24"), ("doomed", "10.201.2.0/24")] {
        let file = conf.join(format!("{NATIVE_FILE_PREFIX}{name}.conflist"));
        fs::write(file, native_conflist(name, subnet)).unwrap();
    }
    let module = Arc::new(init_module(root.path()));
    Site { root, module }
}

/// A module on a site's directories (as `network_module_init` makes one).
fn init_module(root: &Path) -> NetworkModule {
    let module = NetworkModule::init(ModuleConfig {
        cache_dir: Some(root.join("cache")),
        conf_dir: Some(root.join("net.d")),
        bin_path: Some(root.join("bin").display().to_string()),
        ..ModuleConfig::default()
    })
    .unwrap();
    module.cni().set_timeout(Some(Duration::from_secs(30)));
    module
}

/// Two FIFOs in a dir of their own: a plugin step opens `entered` (blocking until the test opens it too), then
/// waits for a line on `release`.
struct Gate {
    dir: tempfile::TempDir,
}

impl Gate {
    fn new() -> Gate {
        let dir = tempfile::tempdir().unwrap();
        for fifo in ["entered", "release"] {
            nix::unistd::mkfifo(&dir.path().join(fifo), nix::sys::stat::Mode::S_IRWXU).unwrap();
        }
        Gate { dir }
    }

    /// Shell commands holding the plugin at the gate.
    fn hold(&self) -> String {
        let path = |name: &str| self.dir.path().join(name).display().to_string();
        format!(
            "echo in > '{}'; read -r go < '{}'",
            path("entered"),
            path("release")
        )
    }

    /// Returns once a plugin is held at the gate.
    fn await_entered(&self) {
        assert_eq!(
            fs::read_to_string(self.dir.path().join("entered")).unwrap(),
            "in\n"
        );
    }

    /// `entered`, opened without waiting for a plugin: readable once one is held at the gate.
    fn open_entered(&self) -> fs::File {
        std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(self.dir.path().join("entered"))
            .unwrap()
    }

    fn release(&self) {
        fs::write(self.dir.path().join("release"), "go\n").unwrap();
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
        timed("detach", &|| {
            module.detach(NetworkType::Native, &req).unwrap()
        });
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

/// Whether the FIFO has data (or its writer has come and gone) within `ms` milliseconds.
fn readable_within(fifo: &fs::File, ms: u16) -> bool {
    let mut fds = [PollFd::new(fifo.as_fd(), PollFlags::POLLIN)];
    poll(&mut fds, PollTimeout::from(ms)).unwrap() > 0
}

/// Each call took less than PROMPT more than the same call with nothing held (`unheld`, measured just before): on
/// a quiet machine that is well under 200 ms in all; a loaded one only stretches both alike.
fn assert_prompt(took: &[(&str, Duration)], unheld: &[(&str, Duration)]) {
    assert_eq!(took.len(), 4);
    for ((what, took), (_, unheld)) in took.iter().zip(unheld) {
        assert!(
            *took < PROMPT + *unheld,
            "{what} took {took:?} ({unheld:?} with nothing held)"
        );
    }
}

#[test]
fn calls_on_other_networks_do_not_wait_for_an_rm_cleanup() {
    let site = site(&[]);
    let unheld = calls_on_other_network(&site.module);
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
    assert_prompt(&took, &unheld);
    let conf = site.root.path().join("net.d");
    assert!(!conf.join("isulacni-doomed.conflist").exists());
    assert!(conf.join("isulacni-other.conflist").exists());
}

#[test]
fn calls_on_other_networks_do_not_wait_for_a_create_in_plugin_version() {
    let gate = Gate::new();
    let bridge = PLUGIN.replace("VERSION) echo", &format!("VERSION) {}; echo", gate.hold()));
    let site = site(&[("bridge", &bridge)]);
    let unheld = calls_on_other_network(&site.module);
    let module = Arc::clone(&site.module);
    let create = thread::spawn(move || {
        let req = CreateRequest {
            name: Some("fresh".into()),
            ..CreateRequest::default()
        };
        module.create(NetworkType::Native, &req)
    });
    gate.await_entered();

    let took = calls_on_other_network(&site.module);
    gate.release();
    let created = create.join().unwrap().unwrap();
    assert_eq!(created.name, "fresh");
    assert_prompt(&took, &unheld);
    assert!(site.module.exists(NetworkType::Native, "fresh").unwrap());
}

/// `network_module_init` again while an attach runs on the old module: a detach of the same container on the new
/// module waits for it (the per-container locks are the process's, not the module's).
#[test]
fn a_new_module_does_not_run_a_container_operation_beside_the_old_modules() {
    let (add, del) = (Gate::new(), Gate::new());
    let bridge = PLUGIN.replace("ADD) echo", &format!("ADD) {}; echo", add.hold()));
    // Detach starts with loopback's DEL.
    let loopback = PLUGIN.replace("esac", &format!("DEL) {} ;;\nesac", del.hold()));
    let site = site(&[("bridge", &bridge), ("loopback", &loopback)]);
    let req = on_other("pod-reinit");
    let old = Arc::clone(&site.module);
    let attach_req = req.clone();
    let attach = thread::spawn(move || old.attach(NetworkType::Native, &attach_req));
    add.await_entered();

    let new = init_module(site.root.path());
    let detach = thread::spawn(move || new.detach(NetworkType::Native, &req));
    // The detach must not reach a plugin while the attach is inside one; nothing can signal that it has not,
    // so a plugin call that overlapped would have this long to show up.
    let held = del.open_entered();
    assert!(
        !readable_within(&held, 300),
        "the new module's DEL ran while the old module's ADD was running"
    );
    add.release();
    attach.join().unwrap().unwrap();
    assert!(readable_within(&held, 10_000), "the detach never ran");
    let mut entered = [0u8; 8];
    let n = std::io::Read::read(&mut &held, &mut entered).unwrap(); // echo's one write
    assert_eq!(&entered[..n], b"in\n");
    del.release();
    detach.join().unwrap().unwrap();
}
