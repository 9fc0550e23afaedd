//! Exec tests with small `#!/bin/sh` scripts as fake plugins.

use std::ffi::OsString;
use std::fs::{self, File, Permissions};
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::stat::Mode;
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::{mkfifo, Pid};

use super::spawn::tests_hook::{FORCE, KEEP, LAST_REPORT, SPOIL_GETFD, SPOIL_REOPEN};
use super::spawn::Closer;
use super::sys::Route;
use super::*;
use crate::cni::sync::Recover;

fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&path, Permissions::from_mode(0o755)).unwrap();
    path
}

fn env() -> PluginEnv {
    let vars = CniVars {
        command: "ADD",
        container_id: "c1",
        netns: "/run/netns/x",
        ifname: "eth0",
        args: "",
        path: "/opt/cni/bin",
    };
    build_env(&BaseEnv::capture(), &vars)
}

fn run(path: &Path, stdin: &[u8], opts: &ExecOptions) -> Result<ExecOutput> {
    exec_plugin(path, "ADD", stdin, &env(), opts)
}

fn with_timeout(ms: u64) -> ExecOptions {
    ExecOptions {
        timeout: Some(Duration::from_millis(ms)),
        ..ExecOptions::default()
    }
}

fn plugin_error(result: Result<ExecOutput>) -> (String, String, CniError) {
    match result {
        Err(Error::Plugin {
            plugin,
            command,
            error,
        }) => (plugin, command, error),
        other => panic!("expected a plugin error, got {other:?}"),
    }
}

fn read_pid(path: &Path) -> i32 {
    fs::read_to_string(path).unwrap().trim().parse().unwrap()
}

/// Our child, and reaped: waitpid no longer knows it.
fn assert_reaped(pid: i32) {
    assert_eq!(
        waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)),
        Err(Errno::ECHILD)
    );
}

/// A FIFO at `dir/name`, open at both ends: a read blocks until data comes or every writer has closed it, the
/// test's own `writer` included, so "no plugin has opened it yet" never reads as end of file.
struct Fifo {
    path: PathBuf,
    reader: File,
    writer: File,
}

impl Fifo {
    fn new(dir: &Path, name: &str) -> Fifo {
        let path = dir.join(name);
        mkfifo(&path, Mode::S_IRUSR | Mode::S_IWUSR).unwrap();
        // Non-blocking only so that it opens with no writer yet; reads then block.
        let reader = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&path)
            .unwrap();
        let writer = fs::OpenOptions::new().write(true).open(&path).unwrap();
        fcntl(&reader, FcntlArg::F_SETFL(OFlag::empty())).unwrap();
        Fifo {
            path,
            reader,
            writer,
        }
    }

    /// Everything written to it, once every process that had it open has closed it: they have all exited, since
    /// the scripts never close it themselves.
    fn told(self) -> String {
        drop(self.writer);
        let mut text = String::new();
        (&self.reader).read_to_string(&mut text).unwrap();
        text
    }
}

/// A plugin run that its deadline ended, and what the plugin and its children wrote to their witness FIFO.
struct Deadlined {
    result: Result<ExecOutput>,
    elapsed: Duration,
    timeout: Duration,
    told: String,
}

/// Runs `body` as a plugin with fd 3 open on a witness FIFO, first with a 100 ms timeout, doubled and run again
/// while the plugin was killed before it wrote "ready" to the witness: the deadline must fall after the point the
/// test is about, and how long a loaded machine takes to get there cannot be guessed.
fn run_until_ready(dir: &Path, command: &str, body: &str) -> Deadlined {
    for attempt in 0..8 {
        let timeout = Duration::from_millis(100 << attempt);
        let witness = Fifo::new(dir, &format!("witness{attempt}"));
        let text = format!("exec 3>'{}'\n{body}", witness.path.display());
        let path = script(dir, &format!("plugin{attempt}"), &text);
        let opts = ExecOptions {
            timeout: Some(timeout),
            ..ExecOptions::default()
        };
        let started = Instant::now();
        let result = exec_plugin(&path, command, b"{}", &env(), &opts);
        let elapsed = started.elapsed();
        let told = witness.told();
        if told.starts_with("ready\n") {
            return Deadlined {
                result,
                elapsed,
                timeout,
                told,
            };
        }
    }
    panic!("the plugin never got ready before a deadline of up to 12.8 s");
}

#[test]
fn find_plugin_cases() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    fs::create_dir_all(a.join("dir-plugin")).unwrap();
    fs::create_dir_all(&b).unwrap();
    fs::write(a.join("bridge"), "").unwrap();
    fs::write(b.join("bridge"), "").unwrap();
    fs::write(b.join("dir-plugin"), "").unwrap();
    std::os::unix::fs::symlink(b.join("bridge"), a.join("link")).unwrap();
    std::os::unix::fs::symlink(a.join("missing"), a.join("dangling")).unwrap();
    let dirs = vec![PathBuf::new(), a.clone(), b.clone()];
    assert_eq!(find_plugin("bridge", &dirs).unwrap(), a.join("bridge"));
    assert_eq!(
        find_plugin("dir-plugin", &dirs).unwrap(),
        b.join("dir-plugin")
    );
    assert_eq!(find_plugin("link", &dirs).unwrap(), a.join("link"));
    let err = find_plugin("dangling", &dirs).unwrap_err();
    assert!(
        matches!(&err, Error::PluginNotFound { plugin, paths } if plugin == "dangling" && paths == &dirs)
    );
    let msg = |name: &str, dirs: &[PathBuf]| find_plugin(name, dirs).unwrap_err().to_string();
    assert_eq!(
        msg("nope", std::slice::from_ref(&a)),
        format!("failed to find plugin \"nope\" in path [{}]", a.display())
    );
    assert_eq!(msg("", &dirs), "no plugin name provided");
    assert_eq!(msg("../x", &dirs), "invalid plugin name: ../x");
    assert_eq!(msg("a/bridge", &dirs), "invalid plugin name: a/bridge");
    assert_eq!(msg("..", &dirs), "invalid plugin name: ..");
    assert_eq!(msg(".", &dirs), "invalid plugin name: .");
    assert_eq!(msg("x\0y", &dirs), "invalid plugin name: x\0y");
    assert_eq!(msg("bridge", &[]), "no paths provided");
    assert!(matches!(
        find_plugin("bridge", &[PathBuf::new()]),
        Err(Error::PluginNotFound { .. })
    ));
}

#[test]
fn stdin_is_delivered_byte_exact() {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("copy");
    let path = script(
        tmp.path(),
        "cat",
        &format!("cat > '{}'; echo '{{}}'", copy.display()),
    );
    let input: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let out = run(&path, &input, &ExecOptions::default()).unwrap();
    assert_eq!(out.stdout, b"{}\n");
    assert!(out.stderr.is_empty());
    assert_eq!(fs::read(copy).unwrap(), input);
}

#[test]
fn env_is_exactly_as_built() {
    let tmp = tempfile::tempdir().unwrap();
    let path = script(tmp.path(), "env", "cat /proc/$$/environ");
    let mut vars: Vec<(OsString, OsString)> =
        vec![("PATH".into(), std::env::var_os("PATH").unwrap_or_default())];
    vars.extend(
        [
            ("HTTP_PROXY", "http://proxy"),
            ("CNI_PATH", "/caller"),
            ("FOO", "bar"),
        ]
        .map(|(n, v)| (n.into(), v.into())),
    );
    let cni = CniVars {
        command: "ADD",
        container_id: "c1",
        netns: "/run/netns/x",
        ifname: "eth0",
        args: "K=V",
        path: "/opt/cni/bin",
    };
    let env = build_env(&BaseEnv::from_vars(vars), &cni);
    let out = exec_plugin(&path, "ADD", b"", &env, &ExecOptions::default()).unwrap();
    let expected: Vec<u8> = env
        .iter()
        .flat_map(|e| e.to_bytes_with_nul().to_vec())
        .collect();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&expected)
    );
    let seen = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        seen.split('\0')
            .filter(|e| e.starts_with("CNI_PATH="))
            .count(),
        1
    );
    assert!(!seen.contains("PROXY"));
}

#[test]
fn unread_large_stdin_does_not_block() {
    let tmp = tempfile::tempdir().unwrap();
    let stuck = tmp.path().join("stuck");
    // The plugin never reads stdin and cannot get to its answer before its stderr, 16 pipes' worth, is drained: a
    // caller blocked writing the rest of the request would deadlock with it. `timeout` only ends such a deadlock
    // (a blocked caller sees no deadline of its own), and leaves the mark of it.
    let body = format!(
        "timeout 10 head -c 1048576 /dev/zero >&2 || echo > '{}'; echo '{{}}'",
        stuck.display()
    );
    let path = script(tmp.path(), "lazy", &body);
    let mask_before = SigSet::thread_get_mask().unwrap();
    let result = run(&path, &vec![b'x'; 1 << 20], &with_timeout(5000));
    assert!(!stuck.exists(), "writing stdin blocked the caller");
    let out = result.unwrap();
    assert_eq!(out.stdout, b"{}\n");
    assert_eq!(out.stderr.len(), DEFAULT_MAX_STDERR);
    assert_eq!(SigSet::thread_get_mask().unwrap(), mask_before);
}

#[test]
fn large_stdout_and_stderr_are_read_concurrently() {
    let tmp = tempfile::tempdir().unwrap();
    let path = script(
        tmp.path(),
        "big",
        "head -c 1048576 /dev/zero >&2; head -c 8388608 /dev/zero",
    );
    let out = run(&path, b"", &ExecOptions::default()).unwrap();
    assert_eq!(out.stdout.len(), 8 << 20);
    assert_eq!(out.stderr.len(), DEFAULT_MAX_STDERR);
}

#[test]
fn stdout_over_the_cap_fails_and_kills() {
    let tmp = tempfile::tempdir().unwrap();
    let (pid_file, survived) = (tmp.path().join("pid"), tmp.path().join("survived"));
    // Still running after overflowing is the case under test: only a plugin that was waited for instead of killed
    // gets past the sleep.
    let body = format!(
        "echo $$ > '{}'; head -c 5000 /dev/zero; sleep 30; echo > '{}'",
        pid_file.display(),
        survived.display()
    );
    let path = script(tmp.path(), "chatty", &body);
    let opts = ExecOptions {
        max_stdout: 1000,
        ..ExecOptions::default()
    };
    let err = run(&path, b"", &opts).unwrap_err();
    assert!(!survived.exists(), "the plugin was not killed");
    assert_eq!(
        err.to_string(),
        format!("exec of plugin {path:?} failed: plugin output exceeds 1000 bytes")
    );
    assert_reaped(read_pid(&pid_file));
}

#[test]
fn exactly_the_cap_is_fine() {
    let tmp = tempfile::tempdir().unwrap();
    let path = script(
        tmp.path(),
        "exact",
        "head -c 1000 /dev/zero; head -c 100 /dev/zero >&2",
    );
    let opts = ExecOptions {
        max_stdout: 1000,
        max_stderr: 10,
        ..ExecOptions::default()
    };
    let out = run(&path, b"", &opts).unwrap();
    assert_eq!((out.stdout.len(), out.stderr.len()), (1000, 10));
}

/// Short reads end a stream only once its writers are gone (POLLHUP): output arriving in pieces is read whole.
#[test]
fn output_in_pieces_is_read_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let path = script(
        tmp.path(),
        "pieces",
        "printf a; sleep 0.05; printf b >&2; printf b; sleep 0.05; printf c; printf c >&2",
    );
    let out = run(&path, b"", &ExecOptions::default()).unwrap();
    assert_eq!(
        (&out.stdout[..], &out.stderr[..]),
        (&b"abc"[..], &b"bc"[..])
    );
}

#[test]
fn error_object_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let path = script(
        tmp.path(),
        "failer",
        r#"echo '{"cniVersion":"1.0.0","code":7,"msg":"bad config","details":"d"}'; echo noise >&2; exit 1"#,
    );
    let (plugin, command, error) = plugin_error(exec_plugin(
        &path,
        "DEL",
        b"{}",
        &env(),
        &ExecOptions::default(),
    ));
    assert_eq!((plugin.as_str(), command.as_str()), ("failer", "delete"));
    assert_eq!(error, CniError::new(7, "bad config", "d"));

    let path = script(
        tmp.path(),
        "terse",
        r#"echo '{"code":11,"msg":"later"}'; echo '  from stderr ' >&2; exit 1"#,
    );
    let (_, command, error) = plugin_error(exec_plugin(
        &path,
        "CHECK",
        b"",
        &env(),
        &ExecOptions::default(),
    ));
    assert_eq!(command, "check");
    assert_eq!(error, CniError::new(11, "later", "from stderr"));
}

#[test]
fn unparsable_stdout_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, stdout) in [
        ("text", "not json"),
        ("result", r#"{"cniVersion":"1.0.0","ips":[]}"#),
        ("negative", r#"{"code":-1,"msg":"x"}"#),
    ] {
        let path = script(tmp.path(), name, &format!("echo '{stdout}'; exit 1"));
        let (_, _, error) = plugin_error(run(&path, b"", &ExecOptions::default()));
        let printed = format!("{stdout}\n");
        let json_error = serde_json::from_str::<CniError>(&printed).unwrap_err();
        let msg = format!(
            "netplugin failed but error parsing its diagnostic message {printed:?}: {json_error}"
        );
        assert_eq!(error, CniError::new(codes::INTERNAL, msg, ""), "{name}");
    }
}

#[test]
fn stderr_is_the_fallback_message() {
    let tmp = tempfile::tempdir().unwrap();
    let path = script(tmp.path(), "stderr", "echo ' it \"broke\"' >&2; exit 2");
    let (_, _, error) = plugin_error(run(&path, b"", &ExecOptions::default()));
    assert_eq!(
        error,
        CniError::new(
            codes::INTERNAL,
            r#"netplugin failed: "it \"broke\"": exit status 2"#,
            ""
        )
    );
}

#[test]
fn silent_failure_reports_the_exit_status() {
    let tmp = tempfile::tempdir().unwrap();
    let path = script(tmp.path(), "silent", "exit 3");
    let err = run(&path, b"", &ExecOptions::default()).unwrap_err();
    assert_eq!(err.code(), codes::INTERNAL);
    assert_eq!(
        err.to_string(),
        "plugin type=\"silent\" failed (add): netplugin failed with no error message: exit status 3"
    );
}

#[test]
fn death_by_signal_is_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let path = script(tmp.path(), "segv", "ulimit -c 0; kill -SEGV $$");
    let (_, _, error) = plugin_error(run(&path, b"", &ExecOptions::default()));
    assert_eq!(
        error.msg,
        "netplugin failed with no error message: signal: SIGSEGV"
    );
    let path = script(tmp.path(), "segv2", "echo bye >&2; kill -TERM $$");
    let (_, _, error) = plugin_error(run(&path, b"", &ExecOptions::default()));
    assert_eq!(error.msg, "netplugin failed: \"bye\": signal: SIGTERM");
}

#[test]
fn timeout_kills_the_whole_group() {
    let tmp = tempfile::tempdir().unwrap();
    let pid_file = tmp.path().join("pid");
    // The plugin and its background child sleeping far past the deadline is the case under test: whichever of them
    // outlives the kill gets to write "survived".
    let body = format!(
        "echo $$ > '{}'\n{{ sleep 30; echo survived >&3; }} &\necho ready >&3\nsleep 30\necho survived >&3",
        pid_file.display()
    );
    let ran = run_until_ready(tmp.path(), "DEL", &body);
    let err = ran.result.unwrap_err();
    assert!(
        matches!(&err, Error::Timeout { command, after, .. } if command == "delete" && *after == ran.timeout),
        "{err:?}"
    );
    assert_eq!(err.code(), codes::TRY_AGAIN_LATER);
    assert!(ran.elapsed >= ran.timeout, "{:?}", ran.elapsed);
    assert_reaped(read_pid(&pid_file));
    assert_eq!(
        ran.told, "ready\n",
        "a process of the plugin's group outlived the kill"
    );
}

#[test]
fn zero_timeout_does_not_start_the_plugin() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = tmp.path().join("ran");
    let path = script(
        tmp.path(),
        "never",
        &format!("touch '{}'", marker.display()),
    );
    assert!(matches!(
        run(&path, b"", &with_timeout(0)),
        Err(Error::Timeout {
            after: Duration::ZERO,
            ..
        })
    ));
    let huge = ExecOptions {
        timeout: Some(Duration::MAX),
        ..ExecOptions::default()
    };
    assert!(run(&path, b"", &huge).is_ok());
    assert!(marker.exists());
}

#[test]
fn grandchild_holding_stdout_does_not_hang_us() {
    let tmp = tempfile::tempdir().unwrap();
    let pid_file = tmp.path().join("pid");
    let witness = Fifo::new(tmp.path(), "witness");
    // The background child holding stdout far longer than the grace period is the case under test: had we waited
    // for it, "late" would be in the output, and had it outlived the kill, "survived" in the witness (written
    // first: writing "late" to the closed pipe would kill it).
    let body = format!(
        "exec 3>'{}'\necho '{{\"ok\":1}}'\n{{ sleep 30; echo survived >&3; echo late; }} &\necho $$ > '{}'\necho ready >&3",
        witness.path.display(),
        pid_file.display()
    );
    let path = script(tmp.path(), "daemonizer", &body);
    let out = run(&path, b"", &ExecOptions::default()).unwrap();
    assert_eq!(out.stdout, b"{\"ok\":1}\n");
    assert_reaped(read_pid(&pid_file));
    assert_eq!(
        witness.told(),
        "ready\n",
        "the background child outlived the kill"
    );
}

#[test]
fn closed_output_then_slow_exit_is_waited_for_until_the_deadline() {
    let tmp = tempfile::tempdir().unwrap();
    // An exit 0.3 s after the output closed is the case under test: the call must last until it.
    let path = script(tmp.path(), "closer", "echo '{}'; exec >&- 2>&-; sleep 0.3");
    let out = run(&path, b"", &with_timeout(5000)).unwrap();
    assert_eq!(out.stdout, b"{}\n");
    assert!(out.elapsed >= Duration::from_millis(300));
    // Ready once its output is closed; the exit that would come 30 s later must be cut off at the deadline.
    let body = "exec >&- 2>&-\necho ready >&3\nsleep 30\necho survived >&3";
    let ran = run_until_ready(tmp.path(), "ADD", body);
    assert!(
        matches!(ran.result, Err(Error::Timeout { .. })),
        "{:?}",
        ran.result
    );
    assert!(ran.elapsed >= ran.timeout, "{:?}", ran.elapsed);
    assert_eq!(ran.told, "ready\n");
}

#[test]
fn busy_binary_is_retried() {
    let tmp = tempfile::tempdir().unwrap();
    let path = script(tmp.path(), "installing", "echo ok");
    let writer = fs::OpenOptions::new().write(true).open(&path).unwrap();
    // A spawn refused with ETXTBSY has opened the binary and closed it unwritten: the writer goes right after the
    // first refusal, so the call can only succeed by trying again (it does for up to 500 ms).
    let inotify = Inotify::init(InitFlags::IN_CLOEXEC).unwrap();
    inotify
        .add_watch(&path, AddWatchFlags::IN_CLOSE_NOWRITE)
        .unwrap();
    let closer = thread::spawn(move || {
        inotify.read_events().unwrap();
        drop(writer);
    });
    let out = run(&path, b"", &ExecOptions::default());
    drop(File::open(&path).unwrap()); // wakes the closer if no spawn ever opened the binary
    closer.join().unwrap();
    assert_eq!(out.unwrap().stdout, b"ok\n");
}

#[test]
fn binary_busy_for_too_long_is_an_exec_error() {
    let tmp = tempfile::tempdir().unwrap();
    let path = script(tmp.path(), "stuck", "echo ok");
    let _writer = fs::OpenOptions::new().write(true).open(&path).unwrap();
    let started = Instant::now();
    let err = run(&path, b"", &ExecOptions::default()).unwrap_err();
    assert!((Duration::from_millis(500)..Duration::from_secs(2)).contains(&started.elapsed()));
    let reason =
        "ETXTBSY: Text file busy (the binary stayed open for writing; retried for up to 500ms)";
    assert_eq!(
        err.to_string(),
        format!("exec of plugin {path:?} failed: {reason}")
    );
    // A deadline cuts the retries short instead of starting the plugin only to kill it: well before the 500 ms
    // that the pauses alone take without one.
    let started = Instant::now();
    assert!(matches!(
        run(&path, b"", &with_timeout(50)),
        Err(Error::Exec { .. })
    ));
    assert!(started.elapsed() < Duration::from_millis(500));
}

#[test]
fn spawn_failures_are_exec_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing");
    let err = run(&missing, b"", &ExecOptions::default()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("exec of plugin {missing:?} failed: ENOENT: No such file or directory")
    );
    let plain = tmp.path().join("plain");
    fs::write(&plain, "#!/bin/sh\n").unwrap();
    assert!(
        matches!(run(&plain, b"", &ExecOptions::default()), Err(Error::Exec { reason, .. }) if reason.starts_with("EACCES"))
    );
    let nul = PathBuf::from(OsString::from("/bin/a\0b"));
    assert!(
        matches!(run(&nul, b"", &ExecOptions::default()), Err(Error::Exec { reason, .. }) if reason == "plugin path contains a NUL byte")
    );
}

#[test]
fn host_fds_do_not_leak() {
    // Its own non-CLOEXEC fd must not meet the fallback test's spawns.
    let _serial = FD_CHURN_TESTS.lock().recover();
    let tmp = tempfile::tempdir().unwrap();
    let marker = tmp.path().join("leak-marker");
    fs::write(&marker, "").unwrap();
    let leaked = nix::fcntl::open(&marker, OFlag::O_RDONLY, Mode::empty()).unwrap();
    assert!(fcntl(&leaked, FcntlArg::F_GETFD).unwrap() & libc::FD_CLOEXEC == 0);
    let path = script(tmp.path(), "fds", "ls -l /proc/$$/fd/");
    let out = run(&path, b"{}", &ExecOptions::default()).unwrap();
    let listing = String::from_utf8(out.stdout).unwrap();
    assert!(listing.contains("pipe:"), "{listing}");
    assert!(!listing.contains("leak-marker"), "{listing}");
    drop(leaked);
}

/// Builtins only: while dash forks a command it blocks all signals, so its status must be read without forking.
const SIGNALS_SCRIPT: &str = r#"
while read -r line; do case $line in SigBlk*|SigIgn*) echo "$line";; esac; done < /proc/$$/status
read -r stat < /proc/$$/stat; set -- $stat; echo "$1 $5""#;

#[test]
fn plugin_gets_clean_signals_and_its_own_group() {
    let tmp = tempfile::tempdir().unwrap();
    let path = script(tmp.path(), "signals", SIGNALS_SCRIPT);
    let mut usr1 = SigSet::empty();
    usr1.add(Signal::SIGUSR1);
    let previous = usr1.thread_swap_mask(SigmaskHow::SIG_BLOCK).unwrap();
    let out = run(&path, b"", &ExecOptions::default());
    previous.thread_set_mask().unwrap();
    let text = String::from_utf8(out.unwrap().stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        ["SigBlk:", "0000000000000000"]
    );
    // The test harness ignores SIGPIPE; none of the standard signals may stay ignored. (glibc itself leaves its
    // two internal signals, 32 and 33, ignored in a spawned child; the plugin's libc takes them over.)
    let ignored = u64::from_str_radix(lines[1].trim_start_matches("SigIgn:").trim(), 16).unwrap();
    assert_eq!(ignored & 0x7fff_ffff, 0, "{}", lines[1]);
    let ids: Vec<&str> = lines[2].split(' ').collect();
    assert_eq!(ids[0], ids[1], "pid and process group differ");
}

#[test]
fn normal_exit_is_reaped_without_delay() {
    let tmp = tempfile::tempdir().unwrap();
    let pid_file = tmp.path().join("pid");
    let path = script(
        tmp.path(),
        "quick",
        &format!("echo $$ > '{}'", pid_file.display()),
    );
    let out = run(&path, b"{}", &ExecOptions::default()).unwrap();
    assert!(out.elapsed < Duration::from_millis(500));
    assert_reaped(read_pid(&pid_file));
}

#[test]
fn command_labels_follow_libcni() {
    assert_eq!(command_label("ADD"), "add");
    assert_eq!(command_label("DEL"), "delete");
    assert_eq!(command_label("CHECK"), "check");
    assert_eq!(command_label("VERSION"), "version");
}

#[test]
fn backoff_spins_then_doubles_up_to_the_cap() {
    let mut backoff = Backoff::new(2, Duration::from_millis(1), Duration::from_millis(5));
    let steps: Vec<u128> = (0..6).map(|_| backoff.step().as_micros()).collect();
    assert_eq!(steps, [0, 0, 1000, 2000, 4000, 5000]);
}

#[test]
fn exit_status_taken_by_another_waiter() {
    let tmp = tempfile::tempdir().unwrap();
    let told_pid = Fifo::new(tmp.path(), "pid");
    let go = Fifo::new(tmp.path(), "go");
    // The plugin tells its pid, then exits only when the thief lets it, just before the thief waits for it.
    let body = format!(
        "echo $$ > '{}'; read -r go < '{}'",
        told_pid.path.display(),
        go.path.display()
    );
    let path = script(tmp.path(), "stolen", &body);
    let (pid_reader, go_writer) = (told_pid.reader, go.writer);
    let thief = thread::spawn(move || {
        let mut line = String::new();
        BufReader::new(pid_reader).read_line(&mut line).unwrap();
        let pid = Pid::from_raw(line.trim().parse().ok()?);
        (&go_writer).write_all(b"go\n").unwrap();
        Some(waitpid(pid, None))
    });
    let outcome = run(&path, b"", &with_timeout(5000));
    drop(told_pid.writer); // a plugin that never told its pid leaves the thief at end of file
    let stolen = thief
        .join()
        .unwrap()
        .expect("the plugin never told its pid");
    // Two waiters race for one exit status; whichever loses must see it cleanly.
    match stolen {
        Ok(status) => {
            assert!(matches!(status, nix::sys::wait::WaitStatus::Exited(_, 0)));
            let reason = "its exit status was taken by another waiter in this process (ECHILD)";
            assert_eq!(
                outcome.unwrap_err().to_string(),
                format!("exec of plugin {path:?} failed: {reason}")
            );
        }
        Err(errno) => {
            assert_eq!(errno, nix::errno::Errno::ECHILD);
            assert!(
                outcome.is_ok(),
                "we reaped first, so the call succeeds: {outcome:?}"
            );
        }
    }
}

/// The fds of a plugin that is `exec ls -l /proc/self/fd`: fd -> target, with ls's own directory fd (the only
/// one it opens while listing) taken out. Panics if that one is not there exactly once.
fn plugin_fds(path: &Path) -> Vec<(u32, String)> {
    let out = run(path, b"", &ExecOptions::default()).unwrap();
    let listing = String::from_utf8(out.stdout).unwrap();
    let mut fds: Vec<(u32, String)> = listing
        .lines()
        .filter_map(|line| {
            let (left, target) = line.split_once(" -> ")?;
            Some((
                left.split_whitespace().last()?.parse().ok()?,
                target.to_string(),
            ))
        })
        .collect();
    let own_dir = |target: &str| {
        target
            .strip_prefix("/proc/")
            .and_then(|rest| rest.strip_suffix("/fd"))
            .is_some_and(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
    };
    let before = fds.len();
    fds.retain(|(_, target)| !own_dir(target));
    assert_eq!(before - fds.len(), 1, "ls's directory fd:\n{listing}");
    fds
}

fn only_stdio_pipes(fds: &[(u32, String)]) -> bool {
    fds.len() == 3
        && fds
            .iter()
            .zip(0..)
            .all(|((fd, target), want)| *fd == want && target.starts_with("pipe:"))
}

/// Held by the tests that open fds behind a spawn's back or make the unshared way refused, for the whole test: a
/// fallback must not run while another one's thread opens fds, nor the unshared way be refused while a test
/// requires it.
static FD_CHURN_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Opens and closes /dev/null without O_CLOEXEC as fast as it can until dropped; the fds it opened.
struct FdChurn {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<thread::JoinHandle<u64>>,
}

impl FdChurn {
    fn start() -> FdChurn {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::spawn(move || {
            let mut opened = 0u64;
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                let fd = nix::fcntl::open("/dev/null", OFlag::O_RDONLY, Mode::empty()).unwrap();
                assert!(fcntl(&fd, FcntlArg::F_GETFD).unwrap() & libc::FD_CLOEXEC == 0);
                drop(fd);
                opened += 1;
            }
            opened
        });
        FdChurn {
            stop,
            thread: Some(thread),
        }
    }

    fn finish(mut self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.thread.take().unwrap().join().unwrap()
    }
}

/// 500 runs of an fd-listing plugin while another thread opens and closes non-CLOEXEC fds in a tight loop (the
/// caller holds FD_CHURN_TESTS).
fn leaks_under_fd_churn(path: &Path) -> (usize, Option<Vec<(u32, String)>>) {
    let churn = FdChurn::start();
    let leaks: Vec<Vec<(u32, String)>> = (0..500)
        .map(|_| plugin_fds(path))
        .filter(|fds| !only_stdio_pipes(fds))
        .collect();
    let opened = churn.finish();
    assert!(opened > 500, "the other thread opened only {opened} fds");
    (leaks.len(), leaks.into_iter().next())
}

#[test]
fn plugins_see_only_stdio_while_another_thread_opens_fds() {
    let tmp = tempfile::tempdir().unwrap();
    let path = script(tmp.path(), "fds", "exec ls -l /proc/self/fd");
    let _serial = FD_CHURN_TESTS.lock().recover();
    // The default way: the child unshares its fd table. On the kernels this project supports (5.9+) it must be the
    // one in use, not silently replaced by the fallback. Whether it keeps its pipes through the unshare or copies
    // them back depends on their fd numbers: both routes, then the one those numbers pick.
    for keep in [Some(true), Some(false), None] {
        KEEP.set(keep);
        let leaks = leaks_under_fd_churn(&path);
        KEEP.set(None);
        assert_eq!(leaks, (0, None), "keeping the pipes: {keep:?}");
    }
    // A host holding many fds: the pipes get numbers above 64 and land on the low slots (80 more non-CLOEXEC fds
    // that must not leak either).
    let held: Vec<OwnedFd> = (0..80)
        .map(|_| nix::fcntl::open("/dev/null", OFlag::O_RDONLY, Mode::empty()).unwrap())
        .collect();
    assert_eq!(leaks_under_fd_churn(&path), (0, None), "landed pipes");
    drop(held);
    assert_eq!(
        Closer::detect(),
        Closer::Unshare,
        "unshared spawns were refused"
    );
    // The posix_spawn fallback with close-from: glibc 2.34+ has it, so on this project's targets that fallback is
    // race-free too.
    #[cfg(target_env = "gnu")]
    assert!(
        super::sys::closefrom_available(),
        "glibc without posix_spawn_file_actions_addclosefrom_np"
    );
    FORCE.set(Some(Closer::CloseFrom));
    let close_from = leaks_under_fd_churn(&path);
    FORCE.set(None);
    assert_eq!(close_from, (0, None));
}

#[test]
fn listing_fallback_closes_inherited_fds() {
    let tmp = tempfile::tempdir().unwrap();
    let path = script(tmp.path(), "fds", "exec ls -l /proc/self/fd");
    let _serial = FD_CHURN_TESTS.lock().recover();
    let held = nix::fcntl::open("/dev/null", OFlag::O_RDONLY, Mode::empty()).unwrap();
    FORCE.set(Some(Closer::Listing));
    let fds = plugin_fds(&path);
    FORCE.set(None);
    assert!(only_stdio_pipes(&fds), "{fds:?}");
    drop(held);
}

#[test]
fn unshared_spawn_refused_falls_back_for_good() {
    let tmp = tempfile::tempdir().unwrap();
    let path = script(tmp.path(), "fds", "exec ls -l /proc/self/fd");
    // Holds off the test that requires the unshared way while this one makes it refused.
    let _serial = FD_CHURN_TESTS.lock().recover();
    let held = nix::fcntl::open("/dev/null", OFlag::O_RDONLY, Mode::empty()).unwrap();
    SPOIL_REOPEN.set(true);
    let fds = plugin_fds(&path);
    SPOIL_REOPEN.set(false);
    assert!(only_stdio_pipes(&fds), "{fds:?}");
    assert_eq!(
        Closer::detect(),
        Closer::CloseFrom,
        "the refusal is remembered"
    );
    super::spawn::tests_hook::unrefuse();
    assert_eq!(Closer::detect(), Closer::Unshare);
    drop(held);
}

/// Runs an echoing plugin (stdin to stdout, a line to stderr) the default way and returns how its child got the
/// pipes, after checking that all three work and that it had nothing else.
fn echo_through_unshared_child(dir: &Path) -> super::sys::StdioReport {
    let echo = script(dir, "echo", "cat; echo to-stderr >&2");
    let fds = script(dir, "fds", "exec ls -l /proc/self/fd");
    let out = run(&echo, b"the request", &ExecOptions::default()).unwrap();
    assert_eq!(out.stdout, b"the request");
    assert_eq!(out.stderr, b"to-stderr\n");
    let report = LAST_REPORT.take().expect("an unshared spawn");
    let listing = plugin_fds(&fds);
    assert!(only_stdio_pipes(&listing), "{listing:?}");
    assert_eq!(LAST_REPORT.take().map(|r| r.route), Some(report.route));
    report
}

#[test]
fn unshared_children_keep_low_pipes_through_the_unshare() {
    let tmp = tempfile::tempdir().unwrap();
    let _serial = FD_CHURN_TESTS.lock().recover();
    // Pipe ends above 2 but below 64, as in a host with few fds, are kept: no pidfd, nothing reopened.
    assert!(super::spawn::keeps([3, 4, super::sys::KEPT_BELOW - 1]));
    assert!(!super::spawn::keeps([3, super::sys::KEPT_BELOW, 4]));
    // Kept whatever the numbers: the child copies the caller's table up to its highest pipe end, then closes all
    // but its stdio.
    KEEP.set(Some(true));
    let report = echo_through_unshared_child(tmp.path());
    KEEP.set(None);
    assert_eq!(report.route, Route::Kept, "{report:?}");
    assert_eq!(report.pidfd_error, None, "{report:?}");
}

#[test]
fn unshared_children_copy_their_pipes_from_the_calling_thread() {
    let tmp = tempfile::tempdir().unwrap();
    let _serial = FD_CHURN_TESTS.lock().recover();
    // Pipe ends too high to keep, as in a host with many fds. A test runs on a thread other than the main one:
    // copying from it takes PIDFD_THREAD (Linux 6.9), which the kernels this project is tested on have.
    KEEP.set(Some(false));
    let report = echo_through_unshared_child(tmp.path());
    KEEP.set(None);
    assert!(
        report.route == Route::Copied
            && !report.thread_flag_refused
            && report.pidfd_error.is_none(),
        "pidfd_getfd was not used: {report:?}"
    );
}

#[test]
fn children_refused_pidfd_getfd_reopen_through_proc_and_try_again_next_time() {
    let tmp = tempfile::tempdir().unwrap();
    let _serial = FD_CHURN_TESTS.lock().recover();
    // Tests run on threads other than the main one, whose id names no process.
    assert_ne!(nix::unistd::gettid(), nix::unistd::getpid());
    SPOIL_GETFD.set(true);
    let spoiled = echo_through_unshared_child(tmp.path());
    SPOIL_GETFD.set(false);
    assert_eq!(spoiled.route, Route::Reopened, "{spoiled:?}");
    // ENOENT since Linux 6.9, EINVAL before: about this thread, not later spawns, so the next child copies again.
    assert!(
        matches!(spoiled.pidfd_error, Some(Errno::ENOENT | Errno::EINVAL)),
        "{spoiled:?}"
    );
    KEEP.set(Some(false));
    let next = echo_through_unshared_child(tmp.path());
    KEEP.set(None);
    assert_eq!(next.route, Route::Copied, "{next:?}");
}

#[test]
fn only_refusals_that_hold_for_every_spawn_are_remembered() {
    use super::spawn::lasting_refusal;
    for lasting in [Errno::ENOSYS, Errno::EPERM, Errno::EACCES] {
        assert!(lasting_refusal(lasting), "{lasting}");
    }
    for passing in [
        Errno::EINVAL,
        Errno::ENOENT,
        Errno::EBADF,
        Errno::EMFILE,
        Errno::ESRCH,
    ] {
        assert!(!lasting_refusal(passing), "{passing}");
    }
}
