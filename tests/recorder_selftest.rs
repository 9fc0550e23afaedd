//! Checks the recording test plugin (`examples/cni_recorder.rs`) and the shared test helpers
//! by running the plugin directly, without the library.

mod support;

use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::{Netns, PluginDir};

/// What one plugin run produced.
struct Outcome {
    status: i32,
    stdout: String,
    stderr: String,
}

/// Starts the plugin with exactly `env` as its environment and `stdin` written to it.
fn spawn(plugin: &Path, env: &[(&str, &str)], stdin: &str) -> Child {
    let mut child = Command::new(plugin)
        .env_clear()
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn recorder");
    let mut input = child.stdin.take().expect("stdin pipe");
    input.write_all(stdin.as_bytes()).expect("write stdin");
    child
}

fn run(plugin: &Path, env: &[(&str, &str)], stdin: &str) -> Outcome {
    let output = spawn(plugin, env, stdin)
        .wait_with_output()
        .expect("wait for recorder");
    Outcome {
        status: output.status.code().expect("recorder exited normally"),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
    }
}

fn attachment_env(command: &'static str) -> Vec<(&'static str, &'static str)> {
    vec![
        ("CNI_COMMAND", command),
        ("CNI_CONTAINERID", "ctr1"),
        ("CNI_NETNS", "/run/netns/test"),
        ("CNI_IFNAME", "eth0"),
        ("CNI_PATH", "/opt/cni/bin"),
    ]
}

fn add(plugin: &Path, stdin: &str) -> Outcome {
    run(plugin, &attachment_env("ADD"), stdin)
}

#[test]
fn add_call_is_recorded_exactly() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    let stdin = "{ \"name\":\"n\",\n \"cniVersion\" : \"1.0.0\", \"type\":\"rec\", \"n\": 1.50 }";
    let env = [
        ("CNI_COMMAND", "ADD"),
        ("CNI_CONTAINERID", "ctr1"),
        ("CNI_NETNS", "/run/netns/test"),
        ("CNI_IFNAME", "eth0"),
        ("CNI_ARGS", "K=V;IgnoreUnknown=1"),
        ("CNI_PATH", "/a:/b"),
    ];
    let outcome = run(&plugin, &env, stdin);
    assert_eq!(outcome.status, 0, "stderr: {}", outcome.stderr);

    let calls = dir.calls("rec");
    assert_eq!(calls.len(), 1);
    let call = &calls[0];
    assert_eq!(call.command, "ADD");
    assert_eq!(call.stdin_raw, stdin);
    assert_eq!(call.stdin["n"].to_string(), "1.50");
    assert_eq!(call.stdin["cniVersion"], "1.0.0");
    let expected_env: BTreeMap<String, String> = env
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    assert_eq!(call.env, expected_env);
    assert_eq!(call.argv, vec![plugin.to_string_lossy().into_owned()]);
    assert!(call.pid > 0);
    assert_eq!(call.pgid, nix::unistd::getpgrp().as_raw());
    assert!(dir.calls("other").is_empty());
}

#[test]
fn non_json_stdin_is_recorded_raw() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    let outcome = run(&plugin, &[("CNI_COMMAND", "DEL")], "not json");
    assert_eq!((outcome.status, outcome.stdout.as_str()), (0, ""));
    let call = &dir.calls("rec")[0];
    assert_eq!(call.stdin_raw, "not json");
    assert_eq!(call.stdin, Value::Null);
}

#[test]
fn default_add_results_follow_the_config_version() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    let cases = [
        (
            "0.2.0",
            r#"{"cniVersion":"0.2.0","ip4":{"ip":"10.123.0.2/24","gateway":"10.123.0.1"}}"#,
        ),
        (
            "",
            r#"{"cniVersion":"","ip4":{"ip":"10.123.0.2/24","gateway":"10.123.0.1"}}"#,
        ),
        (
            "0.4.0",
            concat!(
                r#"{"cniVersion":"0.4.0","interfaces":[{"name":"eth0","mac":"0a:58:0a:7b:00:02","#,
                r#""sandbox":"/run/netns/test"}],"ips":[{"version":"4","interface":0,"#,
                r#""address":"10.123.0.2/24","gateway":"10.123.0.1"}]}"#
            ),
        ),
        (
            "1.0.0",
            concat!(
                r#"{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","mac":"0a:58:0a:7b:00:02","#,
                r#""sandbox":"/run/netns/test"}],"ips":[{"interface":0,"#,
                r#""address":"10.123.0.2/24","gateway":"10.123.0.1"}]}"#
            ),
        ),
    ];
    for (version, expected) in cases {
        let outcome = add(
            &plugin,
            &json!({"cniVersion": version, "name": "n"}).to_string(),
        );
        assert_eq!(outcome.status, 0, "{version}: {}", outcome.stderr);
        assert_eq!(outcome.stdout, expected, "version {version:?}");
    }
}

#[test]
fn default_add_echoes_prev_result() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    let prev = json!({"cniVersion": "1.0.0", "ips": [{"address": "10.9.9.9/24"}]});
    let stdin = json!({"cniVersion": "1.0.0", "name": "n", "prevResult": prev}).to_string();
    assert_eq!(add(&plugin, &stdin).stdout, prev.to_string());
}

#[test]
fn passthrough_prints_prev_result_or_bare_version() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    dir.behave("rec", json!({"*": {"result": "PASSTHROUGH"}}));
    let prev = json!({"cniVersion": "0.4.0", "interfaces": [], "dns": {}});
    let with_prev = json!({"cniVersion": "0.4.0", "prevResult": prev}).to_string();
    assert_eq!(add(&plugin, &with_prev).stdout, prev.to_string());
    let outcome = run(
        &plugin,
        &attachment_env("CHECK"),
        r#"{"cniVersion":"1.1.0"}"#,
    );
    assert_eq!(
        (outcome.status, outcome.stdout.as_str()),
        (0, r#"{"cniVersion":"1.1.0"}"#)
    );
}

#[test]
fn configured_result_is_printed_compact() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    dir.behave(
        "rec",
        json!({"ADD": {"result": {"cniVersion": "1.0.0", "ips": []}}}),
    );
    let outcome = add(&plugin, "{}");
    assert_eq!(
        (outcome.status, outcome.stdout.as_str()),
        (0, r#"{"cniVersion":"1.0.0","ips":[]}"#)
    );
}

#[test]
fn error_behaviour_sets_stdout_stderr_and_exit_code() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    let error = json!({"code": 7, "msg": "boom", "details": "more"});
    dir.behave("rec", json!({"ADD": {"error": error, "stderr": "diag\n"}}));
    let outcome = add(&plugin, "{}");
    assert_eq!(outcome.status, 1);
    assert_eq!(outcome.stdout, error.to_string());
    assert_eq!(outcome.stderr, "diag\n");

    dir.behave("rec", json!({"ADD": {"error": error, "exitCode": 3}}));
    let outcome = add(&plugin, "{}");
    assert_eq!((outcome.status, outcome.stdout), (3, error.to_string()));
}

#[test]
fn raw_stdout_and_exit_code_override_everything() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    dir.behave(
        "rec",
        json!({"*": {"stdout": "{not json", "error": {"code": 1}, "exitCode": 0}}),
    );
    let outcome = add(&plugin, "{}");
    assert_eq!((outcome.status, outcome.stdout.as_str()), (0, "{not json"));
}

#[test]
fn command_specific_behaviour_wins_over_fallback() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    dir.behave("rec", json!({"DEL": {"exitCode": 5}, "*": {"exitCode": 6}}));
    assert_eq!(run(&plugin, &attachment_env("DEL"), "{}").status, 5);
    assert_eq!(run(&plugin, &attachment_env("CHECK"), "{}").status, 6);
}

#[test]
fn other_commands_print_nothing_by_default() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    for command in ["DEL", "CHECK", "GC", "STATUS"] {
        let outcome = run(
            &plugin,
            &attachment_env(command),
            r#"{"cniVersion":"1.1.0"}"#,
        );
        assert_eq!(
            (outcome.status, outcome.stdout.as_str()),
            (0, ""),
            "{command}"
        );
    }
    let commands: Vec<String> = dir.calls("rec").into_iter().map(|c| c.command).collect();
    assert_eq!(commands, ["DEL", "CHECK", "GC", "STATUS"]);
}

#[test]
fn unknown_or_missing_command_is_error_4() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    let outcome = run(&plugin, &[("CNI_COMMAND", "BOGUS")], "{}");
    assert_eq!(outcome.status, 1);
    assert_eq!(
        outcome.stdout,
        r#"{"code":4,"msg":"unknown CNI_COMMAND: BOGUS"}"#
    );
    let outcome = run(&plugin, &[], "{}");
    assert_eq!(
        outcome.stdout,
        r#"{"code":4,"msg":"unknown CNI_COMMAND: "}"#
    );
    assert_eq!(dir.calls("rec").len(), 2);
}

#[test]
fn version_answer() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    let env = [("CNI_COMMAND", "VERSION")];
    let all = r#"["0.1.0","0.2.0","0.3.0","0.3.1","0.4.0","1.0.0","1.1.0"]"#;
    let outcome = run(&plugin, &env, r#"{"cniVersion":"0.4.0"}"#);
    assert_eq!(outcome.status, 0);
    assert_eq!(
        outcome.stdout,
        format!(r#"{{"cniVersion":"0.4.0","supportedVersions":{all}}}"#)
    );
    let outcome = run(&plugin, &env, "");
    assert_eq!(
        outcome.stdout,
        format!(r#"{{"cniVersion":"1.1.0","supportedVersions":{all}}}"#)
    );

    dir.behave(
        "rec",
        json!({"VERSION": {"supportedVersions": ["0.3.1", "0.4.0"]}}),
    );
    let outcome = run(&plugin, &env, r#"{"cniVersion":"0.4.0"}"#);
    assert_eq!(
        outcome.stdout,
        r#"{"cniVersion":"0.4.0","supportedVersions":["0.3.1","0.4.0"]}"#
    );
}

#[test]
fn bad_behaviour_file_is_reported_not_crashed() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    dir.behave("rec", json!({"ADD": {"sleeep": 1}}));
    let outcome = add(&plugin, "{}");
    assert_eq!(outcome.status, 1);
    let error: Value = serde_json::from_str(&outcome.stdout).expect("error JSON");
    assert_eq!(error["code"], 999);
    assert!(
        error["msg"]
            .as_str()
            .unwrap_or_default()
            .contains("unknown field `sleeep`"),
        "{error}"
    );

    dir.behave("rec", json!({"ADD": {"sleep": -1}}));
    let error: Value = serde_json::from_str(&add(&plugin, "{}").stdout).expect("error JSON");
    assert!(
        error["msg"]
            .as_str()
            .unwrap_or_default()
            .contains("invalid seconds -1"),
        "{error}"
    );
}

#[test]
fn plugins_in_one_dir_are_independent() {
    let dir = PluginDir::new();
    let first = dir.install("first");
    let second = dir.install("second");
    dir.behave("second", json!({"ADD": {"exitCode": 9}}));
    assert_eq!(add(&first, "{}").status, 0);
    assert_eq!(add(&second, "{}").status, 9);
    assert_eq!(dir.calls("first").len(), 1);
    assert_eq!(dir.calls("second").len(), 1);
}

#[test]
fn concurrent_calls_never_interleave() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    let big = "y".repeat(20_000);
    let children: Vec<Child> = (0..16)
        .map(|i| spawn(&plugin, &[("CNI_COMMAND", "DEL")], &format!("{i}{big}")))
        .collect();
    for child in children {
        assert!(child.wait_with_output().expect("wait").status.success());
    }
    let mut seen: Vec<String> = dir.calls("rec").into_iter().map(|c| c.stdin_raw).collect();
    seen.sort();
    let mut expected: Vec<String> = (0..16).map(|i| format!("{i}{big}")).collect();
    expected.sort();
    assert_eq!(seen, expected);
}

#[test]
fn sleep_delays_the_answer() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    dir.behave("rec", json!({"ADD": {"sleep": 0.5}}));
    let start = Instant::now();
    assert_eq!(add(&plugin, "{}").status, 0);
    assert!(start.elapsed() >= Duration::from_millis(500));
}

#[test]
fn fork_sleeper_keeps_the_pipe_open() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    dir.behave(
        "rec",
        json!({"ADD": {"forkSleeper": 1.5, "result": {"cniVersion": "1.0.0"}}}),
    );
    let start = Instant::now();
    let mut child = spawn(&plugin, &attachment_env("ADD"), "{}");
    let mut stdout = child.stdout.take().expect("stdout pipe");
    assert!(child.wait().expect("wait").success());
    let exited = start.elapsed();
    let mut text = String::new();
    stdout.read_to_string(&mut text).expect("read stdout");
    let eof = start.elapsed();
    assert_eq!(text, r#"{"cniVersion":"1.0.0"}"#);
    assert!(eof >= Duration::from_millis(1500), "EOF after {eof:?}");
    assert!(
        exited < eof,
        "plugin exited after {exited:?}, EOF at {eof:?}"
    );
}

#[test]
fn close_stdout_and_sleep_gives_eof_before_exit() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    dir.behave(
        "rec",
        json!({"ADD": {"closeStdoutAndSleep": 2, "stdout": "early"}}),
    );
    let mut child = spawn(&plugin, &attachment_env("ADD"), "{}");
    let mut text = String::new();
    child
        .stdout
        .take()
        .expect("stdout pipe")
        .read_to_string(&mut text)
        .expect("read stdout");
    assert_eq!(text, "early");
    assert!(
        child.try_wait().expect("try_wait").is_none(),
        "plugin exited before its sleep"
    );
    assert!(child.wait().expect("wait").success());
}

#[test]
fn output_bytes_prints_filler() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    dir.behave("rec", json!({"ADD": {"outputBytes": 200_001}}));
    let outcome = add(&plugin, "{}");
    assert_eq!(outcome.status, 0);
    assert_eq!(outcome.stdout.len(), 200_001);
    assert!(outcome.stdout.bytes().all(|b| b == b'x'));
}

#[test]
fn output_bytes_survives_a_reader_that_stops() {
    let dir = PluginDir::new();
    let plugin = dir.install("rec");
    dir.behave("rec", json!({"ADD": {"outputBytes": 10_000_000}}));
    let mut child = spawn(&plugin, &attachment_env("ADD"), "{}");
    let mut head = [0u8; 16];
    child
        .stdout
        .take()
        .expect("stdout pipe")
        .read_exact(&mut head)
        .expect("read head");
    // The pipe is now closed: the plugin gets EPIPE and must still exit normally.
    let output = child.wait_with_output().expect("wait");
    assert_eq!(head, [b'x'; 16]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn unique_helpers_do_not_repeat() {
    let subnets: Vec<(String, String)> = (0..300).map(|_| support::unique_subnet()).collect();
    let mut distinct: Vec<&String> = subnets.iter().map(|(net, _)| net).collect();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), subnets.len());
    for (net, gateway) in &subnets {
        assert!(net.starts_with("10.2") && net.ends_with(".0/24"), "{net}");
        assert_eq!(gateway.strip_suffix(".1"), net.strip_suffix(".0/24"));
    }
    assert_ne!(support::unique_suffix(), support::unique_suffix());
}

#[test]
fn real_plugins_can_be_linked() {
    let dir = PluginDir::new();
    let link = dir.link_real("loopback");
    assert_eq!(
        std::fs::read_link(&link).expect("link"),
        support::real_plugins_dir().join("loopback")
    );
}

#[test]
fn netns_is_created_and_removed() {
    support::require_root();
    let path;
    {
        let netns = Netns::new();
        path = netns.path();
        assert_eq!(path, Path::new("/run/netns").join(netns.name()));
        assert!(path.exists());
        let links = netns.exec(&["ip", "-o", "link", "show"]);
        assert!(links.contains("lo"), "{links}");
    }
    assert!(!path.exists());
}

#[test]
fn netns_is_removed_when_the_test_panics() {
    support::require_root();
    let name = std::sync::Mutex::new(String::new());
    let result = std::panic::catch_unwind(|| {
        let netns = Netns::new();
        *name.lock().expect("lock") = netns.name().to_string();
        panic!("test failure inside a netns");
    });
    assert!(result.is_err());
    let name = name.into_inner().expect("lock");
    assert!(!name.is_empty());
    assert!(!Path::new("/run/netns").join(name).exists());
}
