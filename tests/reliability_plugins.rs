//! Misbehaving plugins cannot crash, hang or leak from the host (`clibcni::cni::runtime::CniConfig`): a plugin
//! that hangs, prints garbage, nothing or too much, fails without JSON, dies by a signal, closes stdout and stays
//! alive, leaves a daemon holding its pipes, or is not a runnable file. Every call has a 1 s timeout and must return
//! within the timeout plus one second with an error saying what happened, leaving no zombie and no process of the
//! plugin's process group behind. The recorder (`examples/cni_recorder.rs`) records each plugin's pid and process
//! group; the small `#!/bin/sh` plugins append their pid to `<plugin>.pids`. No root-only operation is used.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use clibcni::cni::conf::NetworkConfigList;
use clibcni::cni::error::{codes, Error};
use clibcni::cni::runtime::{CniConfig, RuntimeConf};
use serde_json::{json, Value};
use support::PluginDir;

/// The per-call timeout of every fixture.
const TIMEOUT: Duration = Duration::from_secs(1);
/// The longest a call may take: its timeout plus one second.
const BOUND: Duration = Duration::from_secs(2);
/// How long killed processes and transient zombies of concurrently running tests get to disappear.
const SETTLE: Duration = Duration::from_secs(3);
/// The recorder plugin of most cases.
const REC: &str = "rec";
/// More than the library's 16 MiB stdout cap.
const HUGE_OUTPUT: u64 = 64 << 20;
/// Set in the environment of the child test process that counts fds and threads alone.
const ISOLATED_ENV: &str = "CLIBCNI_RELIABILITY_ISOLATED";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Add,
    Check,
    Del,
}

const ALL_OPS: [Op; 3] = [Op::Add, Op::Check, Op::Del];

impl Op {
    /// The command as the library's errors name it.
    fn label(self) -> &'static str {
        match self {
            Op::Add => "add",
            Op::Check => "check",
            Op::Del => "delete",
        }
    }
}

/// A plugin directory (recorder `rec` installed), a private cache and a runtime with a 1 s timeout.
struct Fixture {
    plugins: PluginDir,
    cache: tempfile::TempDir,
    cni: CniConfig,
}

impl Fixture {
    fn new() -> Fixture {
        let plugins = PluginDir::new();
        plugins.install(REC);
        let cache = tempfile::Builder::new()
            .prefix("clibcni-rel-cache-")
            .tempdir()
            .expect("cache tempdir");
        let cni = CniConfig::new(vec![plugins.path().to_path_buf()], cache.path());
        cni.set_timeout(Some(TIMEOUT));
        Fixture {
            plugins,
            cache,
            cni,
        }
    }

    fn plugin_path(&self, name: &str) -> PathBuf {
        self.plugins.path().join(name)
    }

    /// A `#!/bin/sh` plugin that appends its pid to `<name>.pids`, then runs `body`.
    fn script(&self, name: &str, body: &str) -> PathBuf {
        let path = self.plugin_path(name);
        std::fs::write(
            &path,
            format!("#!/bin/sh\necho $$ >> \"$0.pids\"\n{body}\n"),
        )
        .expect("write script plugin");
        set_mode(&path, 0o755);
        path
    }

    /// (pid, process group) of every call of plugin `name` so far, from the recorder or a script's pid file.
    fn processes_of(&self, name: &str) -> Vec<(i32, i32)> {
        let recorded: Vec<(i32, i32)> = self
            .plugins
            .calls(name)
            .iter()
            .map(|c| (c.pid, c.pgid))
            .collect();
        let pids =
            std::fs::read_to_string(self.plugin_path(&format!("{name}.pids"))).unwrap_or_default();
        // A script plugin leads its own process group, as every plugin the library starts.
        let scripted = pids
            .lines()
            .map(|l| l.trim().parse::<i32>().expect("pid line"))
            .map(|pid| (pid, pid));
        recorded.into_iter().chain(scripted).collect()
    }

    /// A 1.0.0 list of the one plugin `name`.
    fn list(&self, name: &str) -> NetworkConfigList {
        let text = json!({"cniVersion": "1.0.0", "name": "rel-net", "plugins": [{"type": name}]})
            .to_string();
        NetworkConfigList::from_bytes(text.as_bytes()).expect("valid list")
    }

    /// Runs one operation on a list of plugin `name`; returns the outcome and how long it took.
    fn run(&self, op: Op, name: &str) -> (Result<(), Error>, Duration) {
        let list = self.list(name);
        let rt = attachment();
        let started = Instant::now();
        let outcome = match op {
            Op::Add => self.cni.add_network_list(&list, &rt).map(drop),
            Op::Check => self.cni.check_network_list(&list, &rt).map(drop),
            Op::Del => self.cni.del_network_list(&list, &rt),
        };
        (outcome, started.elapsed())
    }

    /// Runs `op` on plugin `name`, which must fail with exactly `expected` within `BOUND`, write no cache file and
    /// leave no process behind. Returns the error.
    fn expect_failure(&self, op: Op, name: &str, expected: &str) -> Error {
        let (outcome, elapsed) = self.run(op, name);
        let error = match outcome {
            Err(e) => e,
            Ok(()) => panic!("{op:?} with plugin {name} succeeded; expected {expected:?}"),
        };
        assert_eq!(error.to_string(), expected, "{op:?} with plugin {name}");
        assert!(
            elapsed <= BOUND,
            "{op:?} with plugin {name} took {elapsed:?} (timeout {TIMEOUT:?})"
        );
        assert_eq!(
            self.cache_entries(),
            Vec::<String>::new(),
            "{op:?} with plugin {name} left cache files"
        );
        self.assert_no_leftovers(name);
        error
    }

    /// Like `expect_failure` for a timeout: the error is `Error::Timeout` (code 11) and the call lasted at least
    /// the timeout.
    fn expect_timeout(&self, op: Op, name: &str) {
        let started = Instant::now();
        let expected = format!(
            "plugin {:?} ({}) timed out after 1s; its process group was killed",
            self.plugin_path(name),
            op.label()
        );
        let error = self.expect_failure(op, name, &expected);
        assert!(matches!(error, Error::Timeout { .. }), "{error:?}");
        assert_eq!(error.code(), codes::TRY_AGAIN_LATER);
        assert!(
            started.elapsed() >= TIMEOUT,
            "{op:?} gave up before the timeout"
        );
    }

    /// Every name in the cache's `results/` directory.
    fn cache_entries(&self) -> Vec<String> {
        match std::fs::read_dir(self.cache.path().join("results")) {
            Ok(dir) => dir
                .map(|e| {
                    e.expect("dir entry")
                        .file_name()
                        .to_string_lossy()
                        .into_owned()
                })
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => panic!("cannot list the cache: {e}"),
        }
    }

    /// No call of plugin `name` left its process unreaped or alive, nor any live process in its process group;
    /// and, eventually, this process has no zombie child at all.
    fn assert_no_leftovers(&self, name: &str) {
        let calls = self.processes_of(name);
        assert!(!calls.is_empty(), "plugin {name} never ran");
        assert_no_leftover_processes(&calls);
    }
}

fn attachment() -> RuntimeConf {
    RuntimeConf {
        container_id: "rel-container".into(),
        netns: "/var/run/netns/rel".into(),
        ifname: "eth0".into(),
        ..RuntimeConf::default()
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

// ---------------------------------------------------------------------------------------------
// /proc
// ---------------------------------------------------------------------------------------------

/// One process as `/proc/<pid>/stat` shows it.
struct Proc {
    /// The whole stat line, for failure messages.
    line: String,
    pid: i32,
    state: char,
    ppid: i32,
    pgrp: i32,
}

/// Every process now; processes vanishing during the scan are skipped.
fn processes() -> Vec<Proc> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc") {
        let Ok(entry) = entry else { continue };
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses.
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let (Some(state), Some(ppid), Some(pgrp)) = (fields.first(), fields.get(1), fields.get(2))
        else {
            continue;
        };
        out.push(Proc {
            pid,
            state: state.chars().next().unwrap_or('?'),
            ppid: ppid.parse().unwrap_or(0),
            pgrp: pgrp.parse().unwrap_or(0),
            line: stat.trim_end().to_string(),
        });
    }
    out
}

/// The stat lines of `procs`, one per line.
fn show(procs: &[Proc]) -> String {
    procs.iter().map(|p| format!("\n  {}", p.line)).collect()
}

fn is_dead(p: &Proc) -> bool {
    matches!(p.state, 'Z' | 'X')
}

/// Retries `check` until it passes or `SETTLE` expires, then fails with its last complaint.
fn eventually(what: &str, mut check: impl FnMut() -> Result<(), String>) {
    let deadline = Instant::now() + SETTLE;
    loop {
        match check() {
            Ok(()) => return,
            Err(complaint) if Instant::now() >= deadline => panic!("{what}: {complaint}"),
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// The calls' processes are reaped (a returned call leaves none of them as a child of this process, alive or
/// zombie), their process groups have no live member left, and this process eventually has no zombie child
/// (concurrent tests make short-lived ones).
fn assert_no_leftover_processes(calls: &[(i32, i32)]) {
    let me = std::process::id() as i32;
    let unreaped: Vec<Proc> = processes()
        .into_iter()
        .filter(|p| p.ppid == me && calls.iter().any(|(pid, _)| *pid == p.pid))
        .collect();
    assert!(
        unreaped.is_empty(),
        "plugin processes not reaped after the call returned: {}",
        show(&unreaped)
    );
    eventually("plugin process groups still have live members", || {
        // Killed orphans may stay zombies when pid 1 does not reap; zombies are dead.
        let live: Vec<Proc> = processes()
            .into_iter()
            .filter(|p| !is_dead(p) && calls.iter().any(|(_, g)| *g == p.pgrp))
            .collect();
        if live.is_empty() {
            Ok(())
        } else {
            Err(show(&live))
        }
    });
    eventually("this process keeps zombie children", || {
        let zombies: Vec<Proc> = processes()
            .into_iter()
            .filter(|p| p.ppid == me && p.state == 'Z')
            .collect();
        if zombies.is_empty() {
            Ok(())
        } else {
            Err(show(&zombies))
        }
    });
}

// ---------------------------------------------------------------------------------------------
// The cases
// ---------------------------------------------------------------------------------------------

#[test]
fn a_hanging_plugin_times_out_and_its_group_is_killed() {
    let fx = Fixture::new();
    fx.plugins.behave(REC, json!({"*": {"sleep": 60}}));
    for op in ALL_OPS {
        fx.expect_timeout(op, REC);
    }
    assert_eq!(fx.processes_of(REC).len(), 3);
}

#[test]
fn garbage_or_truncated_add_output_is_not_a_result() {
    let fx = Fixture::new();
    fx.plugins
        .behave(REC, json!({"ADD": {"stdout": "<html>not JSON</html>"}}));
    let error = fx.expect_failure(
        Op::Add,
        REC,
        "plugin type=\"rec\" failed (add): failed to unmarshal raw result: expected value at line 1 column 1",
    );
    assert_eq!(error.code(), codes::DECODING_FAILURE);
    fx.plugins.behave(
        REC,
        json!({"ADD": {"stdout": "{\"cniVersion\": \"1.0.0\", \"ips\": ["}}),
    );
    fx.expect_failure(
        Op::Add,
        REC,
        "plugin type=\"rec\" failed (add): failed to unmarshal raw result: unexpected end of JSON input",
    );
}

#[test]
fn empty_add_output_is_an_error_but_empty_check_and_del_output_is_success() {
    let fx = Fixture::new();
    fx.plugins.behave(REC, json!({"*": {"stdout": ""}}));
    fx.expect_failure(
        Op::Add,
        REC,
        "plugin type=\"rec\" failed (add): failed to unmarshal raw result: unexpected end of JSON input",
    );
    for op in [Op::Check, Op::Del] {
        let (outcome, elapsed) = fx.run(op, REC);
        outcome.unwrap_or_else(|e| panic!("{op:?} with empty output failed: {e}"));
        assert!(elapsed <= BOUND, "{op:?} took {elapsed:?}");
    }
    fx.assert_no_leftovers(REC);
}

#[test]
fn output_beyond_the_cap_is_refused_and_the_writer_killed() {
    let fx = Fixture::new();
    fx.plugins
        .behave(REC, json!({"*": {"outputBytes": HUGE_OUTPUT}}));
    let expected = format!(
        "exec of plugin {:?} failed: plugin output exceeds 16777216 bytes",
        fx.plugin_path(REC)
    );
    for op in ALL_OPS {
        let error = fx.expect_failure(op, REC, &expected);
        assert!(matches!(error, Error::Exec { .. }), "{error:?}");
    }
}

#[test]
fn a_non_zero_exit_without_json_reports_the_exit_status() {
    let fx = Fixture::new();
    for op in ALL_OPS {
        let label = op.label();
        fx.plugins.behave(
            REC,
            json!({"*": {"stdout": "", "stderr": "boom\n", "exitCode": 3}}),
        );
        let error = fx.expect_failure(
            op,
            REC,
            &format!(
                "plugin type=\"rec\" failed ({label}): netplugin failed: \"boom\": exit status 3"
            ),
        );
        assert_eq!(error.code(), codes::INTERNAL);
        fx.plugins
            .behave(REC, json!({"*": {"stdout": "", "exitCode": 3}}));
        fx.expect_failure(
            op,
            REC,
            &format!("plugin type=\"rec\" failed ({label}): netplugin failed with no error message: exit status 3"),
        );
        fx.plugins
            .behave(REC, json!({"*": {"stdout": "not json", "exitCode": 2}}));
        fx.expect_failure(
            op,
            REC,
            &format!(
                "plugin type=\"rec\" failed ({label}): netplugin failed but error parsing its diagnostic message \
                 \"not json\": expected ident at line 1 column 2"
            ),
        );
    }
}

#[test]
fn death_by_a_signal_is_reported_with_the_signal() {
    let fx = Fixture::new();
    // No core dump: it would land in the working directory, which plugins inherit (the project directory).
    fx.script("segv", "ulimit -c 0\nkill -SEGV $$");
    fx.script("killed", "kill -KILL $$");
    for op in ALL_OPS {
        let label = op.label();
        for (name, signal) in [("segv", "SIGSEGV"), ("killed", "SIGKILL")] {
            let expected = format!(
                "plugin type=\"{name}\" failed ({label}): netplugin failed with no error message: signal: {signal}"
            );
            fx.expect_failure(op, name, &expected);
        }
    }
    assert_eq!(fx.processes_of("segv").len(), 3);
    assert_eq!(fx.processes_of("killed").len(), 3);
}

#[test]
fn closing_stdout_early_and_staying_alive_times_out_and_is_killed() {
    let fx = Fixture::new();
    fx.plugins
        .behave(REC, json!({"*": {"closeStdoutAndSleep": 30}}));
    for op in ALL_OPS {
        fx.expect_timeout(op, REC);
    }
}

#[test]
fn a_forked_daemon_holding_the_pipes_is_killed_and_the_call_succeeds_promptly() {
    let fx = Fixture::new();
    fx.plugins.behave(REC, json!({"*": {"forkSleeper": 30}}));
    for op in ALL_OPS {
        let (outcome, elapsed) = fx.run(op, REC);
        outcome.unwrap_or_else(|e| panic!("{op:?} failed: {e}"));
        assert!(
            elapsed < TIMEOUT,
            "{op:?} waited {elapsed:?} for the daemon holding the pipes"
        );
        // The grandchild is in the plugin's process group: it must be gone too.
        fx.assert_no_leftovers(REC);
    }
    // The ADD result was read in full and cached (DEL removed it again).
    assert_eq!(fx.cache_entries(), Vec::<String>::new());
}

#[test]
fn a_plugin_that_forks_a_daemon_and_keeps_running_times_out_with_the_daemon_killed() {
    let fx = Fixture::new();
    fx.plugins.behave(
        REC,
        json!({"*": {"forkSleeper": 30, "closeStdoutAndSleep": 30}}),
    );
    for op in ALL_OPS {
        fx.expect_timeout(op, REC);
    }
}

#[test]
fn unusable_plugin_files_give_clear_errors() {
    let fx = Fixture::new();
    let dir = fx.plugins.path();
    let plain = fx.script("noexec", "echo '{}'");
    set_mode(&plain, 0o644);
    std::fs::create_dir(dir.join("adir")).expect("mkdir");
    std::os::unix::fs::symlink(dir.join("nowhere"), dir.join("dangling")).expect("symlink");
    for op in ALL_OPS {
        let (outcome, elapsed) = fx.run(op, "noexec");
        let error = outcome.expect_err("a plugin without execute permission ran");
        assert_eq!(
            error.to_string(),
            format!("exec of plugin {plain:?} failed: EACCES: Permission denied")
        );
        assert!(elapsed < TIMEOUT, "{elapsed:?}");
        for name in ["adir", "dangling"] {
            let (outcome, _) = fx.run(op, name);
            let error = outcome.expect_err("a plugin that is not a file ran");
            assert_eq!(
                error.to_string(),
                format!("failed to find plugin {name:?} in path [{}]", dir.display())
            );
            assert!(matches!(error, Error::PluginNotFound { .. }), "{error:?}");
        }
    }
    assert_eq!(
        fx.processes_of("noexec"),
        Vec::new(),
        "the non-executable plugin ran"
    );
    assert_eq!(fx.cache_entries(), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// No fd or thread leaks over many bad calls
// ---------------------------------------------------------------------------------------------

/// The bad calls of the loop: plugin, behaviour of the recorder (when the plugin is `rec`), and the operations it
/// fails (garbage output fails ADD only: CHECK and DEL ignore their output).
fn bad_calls() -> Vec<(&'static str, Value, &'static [Op])> {
    vec![
        (REC, json!({"*": {"sleep": 60}}), &ALL_OPS),
        (
            REC,
            json!({"*": {"stdout": "<html>not JSON</html>"}}),
            &[Op::Add],
        ),
        (REC, json!({"*": {"stdout": "", "exitCode": 3}}), &ALL_OPS),
        (REC, json!({"*": {"outputBytes": HUGE_OUTPUT}}), &ALL_OPS),
        (REC, json!({"*": {"closeStdoutAndSleep": 30}}), &ALL_OPS),
        (
            REC,
            json!({"*": {"forkSleeper": 30, "stdout": "<html>not JSON</html>"}}),
            &[Op::Add],
        ),
        (
            REC,
            json!({"*": {"stdout": "", "stderr": "boom", "exitCode": 1}}),
            &ALL_OPS,
        ),
        ("segv", Value::Null, &ALL_OPS),
        ("noexec", Value::Null, &ALL_OPS),
        ("missing", Value::Null, &ALL_OPS),
    ]
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .count()
}

fn threads() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("Threads: line in /proc/self/status")
}

/// Counting fds and threads needs a process where nothing else runs: this test runs
/// `isolated_fd_and_thread_counts` in a child test process with one test thread.
#[test]
fn twenty_bad_calls_leak_no_fd_thread_or_process() {
    let exe = std::env::current_exe().expect("current test binary");
    let output = Command::new(exe)
        .args([
            "--exact",
            "isolated_fd_and_thread_counts",
            "--ignored",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(ISOLATED_ENV, "1")
        .output()
        .expect("run the isolated child test");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "isolated child test failed ({}):\nstdout: {stdout}\nstderr: {stderr}",
        output.status
    );
}

#[test]
#[ignore = "child half of twenty_bad_calls_leak_no_fd_thread_or_process, which runs it in a process of its own"]
fn isolated_fd_and_thread_counts() {
    if std::env::var_os(ISOLATED_ENV).is_none() {
        return;
    }
    let fx = Fixture::new();
    fx.cni.set_timeout(Some(Duration::from_millis(300)));
    fx.script("segv", "ulimit -c 0\nkill -SEGV $$");
    set_mode(&fx.script("noexec", "echo '{}'"), 0o644);
    let calls = bad_calls();
    let run = |i: usize| {
        let (name, behavior, ops) = &calls[i % calls.len()];
        if !behavior.is_null() {
            fx.plugins.behave(name, behavior.clone());
        }
        let op = ops[(i / calls.len()) % ops.len()];
        let (outcome, elapsed) = fx.run(op, name);
        assert!(
            elapsed <= Duration::from_millis(1300),
            "{op:?} {name} {behavior} took {elapsed:?}"
        );
        outcome.expect_err(&format!("{op:?} {name} {behavior} succeeded"));
    };
    // One round first: lazily initialised state of the process (not of the calls) is in place before counting.
    (0..calls.len()).for_each(run);
    let (fds_before, threads_before) = (open_fds(), threads());
    (0..20).for_each(run);
    assert_eq!(open_fds(), fds_before, "open fds changed over 20 bad calls");
    assert_eq!(
        threads(),
        threads_before,
        "thread count changed over 20 bad calls"
    );
    let mut all = fx.processes_of(REC);
    all.extend(fx.processes_of("segv"));
    assert_no_leftover_processes(&all);
}
