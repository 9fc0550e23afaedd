//! Shared helpers for the Rust integration tests (`mod support;` in each test file).
//!
//! Tests never pass by skipping: missing privileges or packages panic with a clear message.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;

/// Panics unless running as root (network namespaces and real plugins need it; CI runs as root).
pub fn require_root() {
    // /proc/self belongs to the effective uid (nix's `user` feature, with geteuid, is off).
    let euid = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m));
    assert!(
        matches!(euid, Ok(0)),
        "this test needs root (network namespaces, real CNI plugins); run the tests as root"
    );
}

/// The recording test plugin, built from `examples/cni_recorder.rs` (see [`example_binary`]).
pub fn recorder_binary() -> PathBuf {
    example_binary("cni_recorder")
}

/// An example of the library package, built in the running test's profile: `cargo test --test X`
/// builds no example, so cargo is asked once per test process (it rebuilds only what changed).
pub fn example_binary(name: &str) -> PathBuf {
    static BUILT: Mutex<BTreeMap<String, PathBuf>> = Mutex::new(BTreeMap::new());
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(path) = built.get(name) {
        return path.clone();
    }
    let exe = std::env::current_exe().expect("cannot locate the running test binary");
    // …/target/<profile>/deps/<test>
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("unexpected test binary location {}", exe.display()));
    let profile = match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") => "dev",
        Some(name) => name,
        None => panic!("unexpected profile directory {}", profile_dir.display()),
    };
    let target_dir = profile_dir
        .parent()
        .expect("profile directory has a parent");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // -p: the CLI package's tests include this file too.
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "clibcni",
            "--example",
            name,
            "--profile",
            profile,
        ])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build the {name} example: {e}"));
    assert!(
        status.success(),
        "building the {name} example failed: {status}"
    );
    let binary = profile_dir.join("examples").join(name);
    assert!(
        binary.exists(),
        "cargo built {name} but {} is missing",
        binary.display()
    );
    built.insert(name.to_string(), binary.clone());
    binary
}

/// One recorded plugin call (a line of `<name>.calls.jsonl`).
#[derive(Debug, Clone)]
pub struct Call {
    pub command: String,
    /// stdin parsed as JSON; `Value::Null` when it was not JSON.
    pub stdin: Value,
    pub stdin_raw: String,
    pub env: BTreeMap<String, String>,
    pub argv: Vec<String>,
    pub pid: i32,
    pub pgid: i32,
}

impl Call {
    fn parse(line: &str) -> Call {
        let record: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("bad recorder line {line:?}: {e}"));
        let text = |key: &str| record[key].as_str().unwrap_or_default().to_string();
        let number = |key: &str| {
            record[key]
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .unwrap_or_else(|| panic!("recorder line without {key}: {line}"))
        };
        let stdin_raw = text("stdin");
        Call {
            command: text("command"),
            stdin: serde_json::from_str(&stdin_raw).unwrap_or(Value::Null),
            env: serde_json::from_value(record["env"].clone())
                .unwrap_or_else(|e| panic!("bad env in recorder line {line}: {e}")),
            argv: serde_json::from_value(record["argv"].clone())
                .unwrap_or_else(|e| panic!("bad argv in recorder line {line}: {e}")),
            pid: number("pid"),
            pgid: number("pgid"),
            stdin_raw,
        }
    }
}

/// A temporary CNI plugin directory holding recorder instances and links to real plugins.
pub struct PluginDir {
    dir: tempfile::TempDir,
}

impl PluginDir {
    pub fn new() -> PluginDir {
        let dir = tempfile::Builder::new()
            .prefix("clibcni-plugins-")
            .tempdir()
            .expect("cannot create a temporary plugin directory");
        PluginDir { dir }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Installs the recorder as plugin `name`; returns the plugin's path.
    pub fn install(&self, name: &str) -> PathBuf {
        self.link(&recorder_binary(), name)
    }

    /// Links the real plugin `/usr/lib/cni/<name>` into the directory; returns its path.
    pub fn link_real(&self, name: &str) -> PathBuf {
        let real = real_plugins_dir().join(name);
        assert!(
            real.exists(),
            "real CNI plugin {} is missing",
            real.display()
        );
        self.link(&real, name)
    }

    fn link(&self, target: &Path, name: &str) -> PathBuf {
        let link = self.path().join(name);
        std::os::unix::fs::symlink(target, &link).unwrap_or_else(|e| {
            panic!(
                "cannot link {} -> {}: {e}",
                link.display(),
                target.display()
            )
        });
        link
    }

    /// Sets how recorder `name` answers (see `examples/cni_recorder.rs`); replaced atomically
    /// so a concurrently running plugin sees the old or the new file, never half of one.
    pub fn behave(&self, name: &str, behavior: Value) {
        let path = self.path().join(format!("{name}.behavior.json"));
        let temp = self.path().join(format!(".{name}.behavior.json.tmp"));
        std::fs::write(&temp, behavior.to_string())
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", temp.display()));
        std::fs::rename(&temp, &path).unwrap_or_else(|e| {
            panic!(
                "cannot rename {} to {}: {e}",
                temp.display(),
                path.display()
            )
        });
    }

    /// The calls recorder `name` has seen so far, oldest first.
    pub fn calls(&self, name: &str) -> Vec<Call> {
        let path = self.path().join(format!("{name}.calls.jsonl"));
        match std::fs::read_to_string(&path) {
            Ok(text) => text.lines().map(Call::parse).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => panic!("cannot read {}: {e}", path.display()),
        }
    }
}

impl Default for PluginDir {
    fn default() -> Self {
        PluginDir::new()
    }
}

/// The Debian `containernetworking-plugins` directory.
pub fn real_plugins_dir() -> PathBuf {
    let dir = PathBuf::from("/usr/lib/cni");
    assert!(
        dir.is_dir(),
        "{} is missing: install the Debian package containernetworking-plugins",
        dir.display()
    );
    dir
}

static SUFFIX_COUNTER: AtomicU32 = AtomicU32::new(0);
static SUBNET_COUNTER: AtomicU32 = AtomicU32::new(0);

/// A string unique to this call in this process and across concurrently running test binaries.
pub fn unique_suffix() -> String {
    let n = SUFFIX_COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{}-{n}", std::process::id())
}

/// A distinct /24 in 10.200.0.0–10.255.255.0 and its gateway (`.1`), e.g.
/// `("10.217.3.0/24", "10.217.3.1")`. The third octet counts calls in this process, the second
/// comes from the pid (moving on every 256 calls), so parallel tests never share a subnet.
pub fn unique_subnet() -> (String, String) {
    let n = SUBNET_COUNTER.fetch_add(1, Ordering::Relaxed);
    let second = 200 + (std::process::id() + n / 256) % 56;
    let third = n % 256;
    (
        format!("10.{second}.{third}.0/24"),
        format!("10.{second}.{third}.1"),
    )
}

/// A named network namespace (`ip netns add`), deleted on drop, also when the test panics.
pub struct Netns {
    name: String,
}

impl Netns {
    pub fn new() -> Netns {
        let name = format!("clibcni-t{}", unique_suffix());
        run_ip(&["netns", "add", &name]);
        Netns { name }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn path(&self) -> PathBuf {
        Path::new("/run/netns").join(&self.name)
    }

    /// Runs a command inside the namespace and returns its stdout; panics with the output on failure.
    pub fn exec(&self, args: &[&str]) -> String {
        let mut full = vec!["netns", "exec", self.name.as_str()];
        full.extend_from_slice(args);
        run_ip(&full)
    }
}

impl Default for Netns {
    fn default() -> Self {
        Netns::new()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Best effort: the namespace may already be gone, and drop must not panic while unwinding.
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .output();
    }
}

/// Runs `ip <args>`; returns stdout, panicking with both outputs on failure.
fn run_ip(args: &[&str]) -> String {
    let output = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ip {args:?}: {e}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "ip {args:?} failed ({}):\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}
