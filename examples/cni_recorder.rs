//! A recording CNI plugin for the integration tests.
//!
//! Tests link it into a plugin directory as `<dir>/<name> -> cni_recorder`; every call then
//! appends one JSON line to `<dir>/<name>.calls.jsonl` (command, exact stdin, environment, argv,
//! pid, process group) and answers as `<dir>/<name>.behavior.json` says, or with a plausible
//! default. `<dir>` and `<name>` come from argv[0], never from `/proc/self/exe`, which would
//! resolve the symlink and make every installed name the same plugin.
//!
//! Behaviour file: an object keyed by command (`"ADD"`, `"DEL"`, `"CHECK"`, `"GC"`, `"STATUS"`,
//! `"VERSION"`, or `"*"` as fallback); each value is a [`Behavior`]. Effects run in this order:
//! `sleep`, `forkSleeper`, `stderr`, the stdout answer, `closeStdoutAndSleep`, exit.
//! Problems of the recorder itself (bad behaviour file, unwritable directory) are answered with
//! error code 999 so they surface in the test instead of crashing the plugin.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::env;
use std::fs::{self, File, OpenOptions};
use std::io::{self, ErrorKind, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::thread;
use std::time::Duration;

/// Versions answered to VERSION unless the behaviour overrides them.
const ALL_VERSIONS: [&str; 7] = [
    "0.1.0", "0.2.0", "0.3.0", "0.3.1", "0.4.0", "1.0.0", "1.1.0",
];
/// Commands the recorder answers; anything else gets the spec's code 4.
const KNOWN_COMMANDS: [&str; 6] = ["ADD", "DEL", "CHECK", "GC", "STATUS", "VERSION"];
/// Error code for failures of the recorder itself (same default as Go's noop test plugin).
const RECORDER_FAILURE: u32 = 999;
/// Chunk used to stream `outputBytes` without allocating it all.
static FILLER_CHUNK: [u8; 65536] = [b'x'; 65536];

/// How the plugin answers one command; every field is optional.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Behavior {
    /// Printed compact; the string "PASSTHROUGH" prints the request's prevResult.
    result: Option<Value>,
    /// Error object printed on stdout; exit status 1 unless `exit_code` is set.
    error: Option<Value>,
    /// Printed verbatim instead of any other answer.
    stdout: Option<String>,
    /// Written to stderr verbatim.
    stderr: Option<String>,
    exit_code: Option<i32>,
    /// Delay before answering.
    #[serde(default, deserialize_with = "seconds")]
    sleep: Option<Duration>,
    /// Answer list for VERSION.
    supported_versions: Option<Vec<String>>,
    /// Lifetime of a grandchild holding stdout/stderr open after the plugin exits.
    #[serde(default, deserialize_with = "seconds")]
    fork_sleeper: Option<Duration>,
    /// Prints that many 'x' bytes instead of a JSON answer.
    output_bytes: Option<u64>,
    /// After answering, release stdout (the reader sees EOF) and stay alive this long.
    #[serde(default, deserialize_with = "seconds")]
    close_stdout_and_sleep: Option<Duration>,
}

/// Reads a non-negative float number of seconds.
fn seconds<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Duration>, D::Error> {
    let secs = f64::deserialize(de)?;
    Duration::try_from_secs_f64(secs)
        .map(Some)
        .map_err(|e| D::Error::custom(format!("invalid seconds {secs}: {e}")))
}

/// The plugin's files live next to its name: `<dir>/<name>.<suffix>`.
struct Identity {
    dir: PathBuf,
    name: String,
}

impl Identity {
    /// Derives the identity from argv[0]; a bare name (no '/') is looked up in CNI_PATH like
    /// a runtime would, falling back to the current directory.
    fn from_argv0(argv0: &str) -> Result<Identity, String> {
        let path = if argv0.contains('/') {
            PathBuf::from(argv0)
        } else {
            find_in_cni_path(argv0).unwrap_or_else(|| PathBuf::from(argv0))
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| format!("recorder: no plugin name in argv[0] {argv0:?}"))?;
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        Ok(Identity { dir, name })
    }

    fn file(&self, suffix: &str) -> PathBuf {
        self.dir.join(format!("{}.{suffix}", self.name))
    }
}

fn find_in_cni_path(name: &str) -> Option<PathBuf> {
    let paths = env::var_os("CNI_PATH")?;
    env::split_paths(&paths)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.exists())
}

fn main() {
    let status = run();
    // Nothing useful can be done if stdout is gone (e.g. the runtime stopped reading).
    let _ = io::stdout().flush();
    std::process::exit(status);
}

/// Records the call, then answers it; returns the exit status.
fn run() -> i32 {
    let argv: Vec<String> = env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let command = env::var("CNI_COMMAND").unwrap_or_default();
    let stdin = read_stdin();
    let me = match argv.first().map(|a| Identity::from_argv0(a)) {
        Some(Ok(me)) => me,
        Some(Err(msg)) => return recorder_failure(&msg),
        None => return recorder_failure("recorder: argv[0] is missing"),
    };
    if let Err(e) = record(&me, &command, &stdin, &argv) {
        let path = me.file("calls.jsonl");
        return recorder_failure(&format!(
            "recorder: cannot record call in {}: {e}",
            path.display()
        ));
    }
    if !KNOWN_COMMANDS.contains(&command.as_str()) {
        let msg = format!("unknown CNI_COMMAND: {command}");
        write_stdout(json!({"code": 4, "msg": msg}).to_string().as_bytes());
        return 1;
    }
    match load_behavior(&me, &command) {
        Ok(behavior) => respond(&command, &stdin, &behavior.unwrap_or_default()),
        Err(msg) => recorder_failure(&msg),
    }
}

/// Reads all of stdin; a runtime that sends nothing (or non-UTF-8) still gets recorded.
fn read_stdin() -> String {
    let mut raw = Vec::new();
    // A closed or unreadable stdin simply means an empty request.
    let _ = io::stdin().read_to_end(&mut raw);
    String::from_utf8_lossy(&raw).into_owned()
}

/// Appends the call as one line in a single write on an O_APPEND file, so concurrent calls
/// never interleave.
fn record(me: &Identity, command: &str, stdin: &str, argv: &[String]) -> io::Result<()> {
    let env: BTreeMap<String, String> = env::vars_os()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.to_string_lossy().into_owned(),
            )
        })
        .collect();
    let line = json!({
        "command": command,
        "stdin": stdin,
        "env": env,
        "argv": argv,
        "pid": std::process::id(),
        "pgid": nix::unistd::getpgrp().as_raw(),
    });
    let mut bytes = line.to_string().into_bytes();
    bytes.push(b'\n');
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(me.file("calls.jsonl"))?;
    file.write_all(&bytes)
}

/// Picks the behaviour for `command` (or "*"); a missing file means default behaviour.
fn load_behavior(me: &Identity, command: &str) -> Result<Option<Behavior>, String> {
    let path = me.file("behavior.json");
    let text = match fs::read(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("recorder: cannot read {}: {e}", path.display())),
    };
    let mut table: BTreeMap<String, Behavior> = serde_json::from_slice(&text)
        .map_err(|e| format!("recorder: bad behaviour file {}: {e}", path.display()))?;
    Ok(table.remove(command).or_else(|| table.remove("*")))
}

/// Carries out a behaviour in the documented order and returns the exit status.
fn respond(command: &str, stdin: &str, behavior: &Behavior) -> i32 {
    if let Some(delay) = behavior.sleep {
        thread::sleep(delay);
    }
    if let Some(life) = behavior.fork_sleeper {
        if let Err(e) = spawn_sleeper(life) {
            return recorder_failure(&format!("recorder: cannot start sleeper: {e}"));
        }
    }
    if let Some(text) = &behavior.stderr {
        // stderr is diagnostic only; a closed stderr must not change the answer.
        let _ = io::stderr().write_all(text.as_bytes());
    }
    let request: Value = serde_json::from_str(stdin).unwrap_or(Value::Null);
    match (&behavior.stdout, behavior.output_bytes) {
        (Some(raw), _) => write_stdout(raw.as_bytes()),
        (None, Some(count)) => write_filler(count),
        (None, None) => write_stdout(answer(command, &request, behavior).as_bytes()),
    }
    if let Some(delay) = behavior.close_stdout_and_sleep {
        release_stdout();
        thread::sleep(delay);
    }
    let default_status = if behavior.error.is_some() { 1 } else { 0 };
    behavior.exit_code.unwrap_or(default_status)
}

/// The JSON answer: configured error, configured result, or the command's default.
fn answer(command: &str, request: &Value, behavior: &Behavior) -> String {
    if let Some(error) = &behavior.error {
        return error.to_string();
    }
    match &behavior.result {
        Some(Value::String(s)) if s == "PASSTHROUGH" => passthrough(request).to_string(),
        Some(result) => result.to_string(),
        None => default_answer(command, request, behavior.supported_versions.as_deref()),
    }
}

fn default_answer(command: &str, request: &Value, supported: Option<&[String]>) -> String {
    match command {
        "ADD" => match request.get("prevResult") {
            Some(prev) if !prev.is_null() => prev.to_string(),
            _ => default_add_result(config_version(request)).to_string(),
        },
        "VERSION" => {
            let version = request
                .get("cniVersion")
                .and_then(Value::as_str)
                .unwrap_or("1.1.0");
            let supported: Vec<&str> = match supported {
                Some(list) => list.iter().map(String::as_str).collect(),
                None => ALL_VERSIONS.to_vec(),
            };
            json!({"cniVersion": version, "supportedVersions": supported}).to_string()
        }
        _ => String::new(),
    }
}

/// The request's prevResult, or a bare result in the config's version when there is none.
fn passthrough(request: &Value) -> Value {
    match request.get("prevResult") {
        Some(prev) if !prev.is_null() => prev.clone(),
        _ => json!({"cniVersion": config_version(request)}),
    }
}

fn config_version(request: &Value) -> &str {
    request
        .get("cniVersion")
        .and_then(Value::as_str)
        .unwrap_or("")
}

/// A result shaped for the config's version family ("" counts as 0.1.0; unparsable as 1.x).
fn default_add_result(version: &str) -> Value {
    let effective = if version.is_empty() { "0.1.0" } else { version };
    let mut parts = effective.split('.').map(str::parse::<u64>);
    let (major, minor) = match (parts.next(), parts.next()) {
        (Some(Ok(major)), Some(Ok(minor))) => (major, minor),
        _ => (1, 0),
    };
    if major == 0 && minor < 3 {
        return json!({"cniVersion": version, "ip4": {"ip": "10.123.0.2/24", "gateway": "10.123.0.1"}});
    }
    let ifname = env::var("CNI_IFNAME").unwrap_or_default();
    let netns = env::var("CNI_NETNS").unwrap_or_default();
    let mut ip = serde_json::Map::new();
    if major == 0 {
        // 0.3.x/0.4.0 require ips[].version; 1.x dropped it.
        ip.insert("version".into(), json!("4"));
    }
    ip.insert("interface".into(), json!(0));
    ip.insert("address".into(), json!("10.123.0.2/24"));
    ip.insert("gateway".into(), json!("10.123.0.1"));
    json!({
        "cniVersion": version,
        "interfaces": [{"name": ifname, "mac": "0a:58:0a:7b:00:02", "sandbox": netns}],
        "ips": [ip],
    })
}

/// Starts a process that inherits stdout/stderr and outlives the plugin, so the runtime's
/// pipes stay open after the plugin exits. A spawned `sleep` does this without `fork`.
fn spawn_sleeper(life: Duration) -> io::Result<()> {
    Command::new("sleep")
        .arg(life.as_secs_f64().to_string())
        .stdin(Stdio::null())
        .spawn()
        .map(drop)
}

/// Write errors (EPIPE when the runtime stops reading) are expected in output-cap tests.
fn write_stdout(bytes: &[u8]) {
    let mut out = io::stdout().lock();
    let _ = out.write_all(bytes).and_then(|()| out.flush());
}

fn write_filler(mut count: u64) {
    let mut out = io::stdout().lock();
    while count > 0 {
        let len = usize::try_from(count).map_or(FILLER_CHUNK.len(), |c| c.min(FILLER_CHUNK.len()));
        if out.write_all(&FILLER_CHUNK[..len]).is_err() {
            return;
        }
        count -= len as u64;
    }
    let _ = out.flush();
}

/// Points fd 1 at /dev/null: the reader sees EOF while the plugin keeps running.
fn release_stdout() {
    let _ = io::stdout().flush();
    let released = File::open("/dev/null")
        .map_err(|e| e.to_string())
        .and_then(|null| nix::unistd::dup2_stdout(null).map_err(|e| e.to_string()));
    if let Err(e) = released {
        let _ = writeln!(io::stderr(), "recorder: cannot release stdout: {e}");
    }
}

/// Reports a failure of the recorder itself as a CNI error, so tests see why.
fn recorder_failure(msg: &str) -> i32 {
    let _ = writeln!(io::stderr(), "{msg}");
    write_stdout(
        json!({"code": RECORDER_FAILURE, "msg": msg})
            .to_string()
            .as_bytes(),
    );
    1
}
