//! The CNI runtime (`clibcni::cni::runtime`) driven end to end against the recording test plugin
//! (`examples/cni_recorder.rs`): exact stdin, environment, call order and cache file contents for
//! ADD, CHECK, DEL, GC, STATUS and VERSION, following the spec and the libcni test cases
//! (docs/cni-spec-libcni.md §1.2–§1.9, §2.3–§2.9, §3.2). No root needed: nothing touches the network.

mod support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use clibcni::cni::cache::CachedResult;
use clibcni::cni::conf::NetworkConfigList;
use clibcni::cni::error::{codes, CniError, Error};
use clibcni::cni::request::GcAttachment;
use clibcni::cni::runtime::{CniConfig, PluginInfo, RuntimeConf, WarningSink};
use clibcni::cni::version::Version;
use serde_json::{json, Map, Value};
use support::{Call, PluginDir};

const CID: &str = "some-container-id";
const NETNS: &str = "/some/netns/path";
const IFNAME: &str = "some-eth0";
const LIST: &str = "some-list";

/// The six variables libcni sets on every call.
const CNI_VARS: [&str; 6] = [
    "CNI_COMMAND",
    "CNI_CONTAINERID",
    "CNI_NETNS",
    "CNI_ARGS",
    "CNI_IFNAME",
    "CNI_PATH",
];

/// A plugin directory of recorders, a private cache directory and a runtime using both; warnings
/// of the runtime are collected.
struct Fixture {
    plugins: PluginDir,
    cache: tempfile::TempDir,
    cni: CniConfig,
    warnings: Arc<Mutex<Vec<String>>>,
}

impl Fixture {
    fn new(recorders: &[&str]) -> Fixture {
        let plugins = PluginDir::new();
        for name in recorders {
            plugins.install(name);
        }
        let cache = tempfile::Builder::new()
            .prefix("clibcni-cache-")
            .tempdir()
            .expect("cache tempdir");
        let warnings = Arc::new(Mutex::new(Vec::new()));
        let collected = Arc::clone(&warnings);
        let sink: WarningSink =
            Arc::new(move |msg: &str| collected.lock().expect("warnings").push(msg.to_string()));
        let cni = CniConfig::new(vec![plugins.path().to_path_buf()], cache.path())
            .with_warning_sink(sink);
        Fixture {
            plugins,
            cache,
            cni,
            warnings,
        }
    }

    fn behave(&self, name: &str, behavior: Value) {
        self.plugins.behave(name, behavior);
    }

    fn calls(&self, name: &str) -> Vec<Call> {
        self.plugins.calls(name)
    }

    /// The calls of recorder `name` for one command.
    fn calls_of(&self, name: &str, command: &str) -> Vec<Call> {
        self.calls(name)
            .into_iter()
            .filter(|c| c.command == command)
            .collect()
    }

    fn commands(&self, name: &str) -> Vec<String> {
        self.calls(name).into_iter().map(|c| c.command).collect()
    }

    fn results_dir(&self) -> PathBuf {
        self.cache.path().join("results")
    }

    fn cache_file(&self, network: &str, container_id: &str, ifname: &str) -> PathBuf {
        self.results_dir()
            .join(format!("{network}-{container_id}-{ifname}"))
    }

    /// Every name in `results/` (temp files included), sorted.
    fn cache_names(&self) -> Vec<String> {
        let mut names: Vec<String> = match std::fs::read_dir(self.results_dir()) {
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
        };
        names.sort();
        names
    }

    /// Plants a cache file with arbitrary content.
    fn plant_cache(
        &self,
        network: &str,
        container_id: &str,
        ifname: &str,
        content: &[u8],
    ) -> PathBuf {
        std::fs::create_dir_all(self.results_dir()).expect("create results dir");
        let path = self.cache_file(network, container_id, ifname);
        std::fs::write(&path, content).expect("write cache file");
        path
    }

    fn read_cache(&self, network: &str, container_id: &str, ifname: &str) -> Value {
        let path = self.cache_file(network, container_id, ifname);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad cache file {text}: {e}"))
    }

    fn warnings(&self) -> Vec<String> {
        self.warnings.lock().expect("warnings").clone()
    }

    fn bin_dir(&self) -> String {
        self.plugins.path().display().to_string()
    }
}

fn list(value: Value) -> NetworkConfigList {
    NetworkConfigList::from_bytes(value.to_string().as_bytes()).expect("valid list")
}

fn obj(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

/// libcni's fixture attachment, with `CNI_ARGS` `FOO=BAR` and no capability args.
fn rt() -> RuntimeConf {
    RuntimeConf {
        container_id: CID.into(),
        netns: NETNS.into(),
        ifname: IFNAME.into(),
        args: vec![("FOO".into(), "BAR".into())],
        capability_args: Map::new(),
    }
}

fn rt_for(container_id: &str) -> RuntimeConf {
    RuntimeConf {
        container_id: container_id.into(),
        ..rt()
    }
}

/// `plugin` with extra keys set (existing keys keep their place), as the runtime builds requests.
fn request(plugin: &Value, extra: &[(&str, Value)]) -> Value {
    let mut map = obj(plugin.clone());
    for (key, value) in extra {
        map.insert((*key).to_string(), value.clone());
    }
    Value::Object(map)
}

fn only_call(fx: &Fixture, name: &str) -> Call {
    let mut calls = fx.calls(name);
    assert_eq!(
        calls.len(),
        1,
        "expected exactly one call of {name}: {calls:?}"
    );
    calls.remove(0)
}

fn cni_env(call: &Call) -> BTreeMap<String, String> {
    call.env
        .iter()
        .filter(|(k, _)| k.starts_with("CNI_"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn expected_env(pairs: [(&str, &str); 6]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// The six variables of an attachment call (ADD/CHECK/DEL).
fn attachment_env(
    command: &str,
    container_id: &str,
    cni_args: &str,
    cni_path: &str,
) -> BTreeMap<String, String> {
    expected_env([
        ("CNI_COMMAND", command),
        ("CNI_CONTAINERID", container_id),
        ("CNI_NETNS", NETNS),
        ("CNI_ARGS", cni_args),
        ("CNI_IFNAME", IFNAME),
        ("CNI_PATH", cni_path),
    ])
}

/// (command, idx) of every call of a recorder listed several times in one list with an `idx` key.
fn sequence(calls: &[Call]) -> Vec<(String, i64)> {
    calls
        .iter()
        .map(|c| {
            (
                c.command.clone(),
                c.stdin["idx"].as_i64().expect("idx in request"),
            )
        })
        .collect()
}

fn seq(items: &[(&str, i64)]) -> Vec<(String, i64)> {
    items.iter().map(|(c, i)| (c.to_string(), *i)).collect()
}

fn plugin_error(result: Result<impl std::fmt::Debug, Error>) -> (String, String, CniError) {
    match result {
        Err(Error::Plugin {
            plugin,
            command,
            error,
        }) => (plugin, command, error),
        other => panic!("expected a plugin error, got {other:?}"),
    }
}

fn invalid_error(result: Result<impl std::fmt::Debug, Error>) -> CniError {
    match result {
        Err(Error::Invalid(error)) => error,
        other => panic!("expected Error::Invalid, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Requests: capabilities, runtimeConfig, key preservation
// ---------------------------------------------------------------------------------------------

#[test]
fn add_passes_only_declared_and_supplied_capabilities() {
    let fx = Fixture::new(&["noop"]);
    let plugin = json!({
        "type": "noop",
        "some-key": "some-value",
        "capabilities": {"portMappings": true, "somethingElse": true, "noCapability": false}
    });
    let net = list(json!({"cniVersion": "1.1.0", "name": "apitest", "plugins": [plugin]}));
    let mappings = json!([{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]);
    let mut conf = rt();
    conf.capability_args = obj(json!({
        "portMappings": mappings,
        "somethingElse": {"a": 1},
        "noCapability": true,
        "notAdded": [1, 2]
    }));
    fx.cni.add_network_list(&net, &conf).expect("ADD");
    let call = only_call(&fx, "noop");
    assert_eq!(
        call.stdin,
        json!({
            "type": "noop",
            "some-key": "some-value",
            "name": "apitest",
            "cniVersion": "1.1.0",
            "runtimeConfig": {"portMappings": mappings, "somethingElse": {"a": 1}}
        }),
        "1.x requests drop `capabilities` and carry only declared, supplied capability args"
    );

    // No overlap between declared capabilities and supplied args: no runtimeConfig at all.
    let other = RuntimeConf {
        ifname: "eth1".into(),
        capability_args: obj(json!({"noCapability": true, "notAdded": [1]})),
        ..rt()
    };
    fx.cni
        .add_network_list(&net, &other)
        .expect("ADD without overlap");
    let call = fx.calls("noop").pop().expect("second call");
    assert_eq!(
        call.stdin,
        json!({"type": "noop", "some-key": "some-value", "name": "apitest", "cniVersion": "1.1.0"})
    );

    assert_eq!(
        fx.cni.validate_network_list(&net).expect("valid"),
        ["portMappings", "somethingElse"]
    );
}

/// A plugin object whose `name` and `cniVersion` the runtime overwrites in place, with number text
/// a float would change; `capabilities` sits between them.
fn keyed_list(version: &str, name: &str) -> NetworkConfigList {
    let text = format!(
        concat!(
            r#"{{"cniVersion":"{v}","name":"{n}","plugins":[{{"type":"noop","name":"own","#,
            r#""capabilities":{{"portMappings":true}},"mtu":1.50,"big":12345678901234567890,"cniVersion":"9.9.9"}}]}}"#
        ),
        v = version,
        n = name
    );
    NetworkConfigList::from_bytes(text.as_bytes()).expect("list")
}

#[test]
fn request_bytes_of_a_0_x_list_keep_plugin_keys_order_numbers_and_capabilities() {
    let fx = Fixture::new(&["noop"]);
    let conf = RuntimeConf {
        capability_args: obj(json!({"portMappings": []})),
        ..rt()
    };
    fx.cni
        .add_network_list(&keyed_list("0.4.0", "net04"), &conf)
        .expect("ADD 0.4.0");
    assert_eq!(
        only_call(&fx, "noop").stdin_raw,
        concat!(
            r#"{"type":"noop","name":"net04","capabilities":{"portMappings":true},"mtu":1.50,"#,
            r#""big":12345678901234567890,"cniVersion":"0.4.0","runtimeConfig":{"portMappings":[]}}"#
        ),
        "0.x requests keep `capabilities` (as libcni does); name/cniVersion overwritten in place"
    );
}

#[test]
fn request_bytes_of_a_1_x_list_drop_capabilities_and_keep_the_order() {
    let fx = Fixture::new(&["noop"]);
    let conf = RuntimeConf {
        capability_args: obj(json!({"portMappings": []})),
        ..rt()
    };
    fx.cni
        .add_network_list(&keyed_list("1.0.0", "net10"), &conf)
        .expect("ADD 1.0.0");
    assert_eq!(
        only_call(&fx, "noop").stdin_raw,
        concat!(
            r#"{"type":"noop","name":"net10","mtu":1.50,"big":12345678901234567890,"#,
            r#""cniVersion":"1.0.0","runtimeConfig":{"portMappings":[]}}"#
        ),
        "removing `capabilities` must not move the plugin's other keys"
    );
}

// ---------------------------------------------------------------------------------------------
// ADD of a list
// ---------------------------------------------------------------------------------------------

fn p0_result() -> Value {
    json!({"cniVersion": "1.1.0", "ips": [{"address": "10.1.2.3/24", "gateway": "10.1.2.1"}]})
}

/// A static prevResult written into plugin objects: it must lose against the runtime's.
fn static_prev() -> Value {
    json!({"cniVersion": "1.1.0", "ips": [{"address": "192.0.2.9/24"}]})
}

fn final_result() -> Value {
    json!({
        "cniVersion": "1.1.0",
        "ips": [{"address": "10.1.2.3/24", "gateway": "10.1.2.1"}],
        "dns": {"nameservers": ["1.2.3.4"]}
    })
}

fn mappings() -> Value {
    json!([{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}])
}

/// libcni's `makePluginList`: p0 declares portMappings and otherCapability and answers a fixed
/// result; p1 declares otherCapability, has a static prevResult and passes its prevResult
/// through; p2 has a static prevResult and adds DNS.
struct ThreePlugins {
    fx: Fixture,
    plugins: [Value; 3],
    net: NetworkConfigList,
    conf: RuntimeConf,
}

fn three_plugins(version: &str) -> ThreePlugins {
    let fx = Fixture::new(&["p0", "p1", "p2"]);
    let plugins = [
        json!({"type": "p0", "capabilities": {"portMappings": true, "otherCapability": true}}),
        json!({"type": "p1", "capabilities": {"otherCapability": true}, "prevResult": static_prev()}),
        json!({"type": "p2", "prevResult": static_prev()}),
    ];
    fx.behave("p0", json!({"ADD": {"result": p0_result()}}));
    fx.behave("p1", json!({"ADD": {"result": "PASSTHROUGH"}}));
    fx.behave("p2", json!({"ADD": {"result": final_result()}}));
    let net = list(json!({"cniVersion": version, "name": LIST, "plugins": plugins}));
    let conf = RuntimeConf {
        capability_args: obj(json!({"portMappings": mappings(), "otherCapability": 33})),
        ..rt()
    };
    ThreePlugins {
        fx,
        plugins,
        net,
        conf,
    }
}

/// Each plugin's prevResult is the result of the last plugin before it that printed one, not an
/// earlier one: p1 answers its own result, which p2 must get in place of p0's.
#[test]
fn add_list_sends_each_plugin_the_latest_result() {
    let t = three_plugins("1.1.0");
    t.fx.behave("p1", json!({"ADD": {"result": final_result()}}));
    assert_ne!(p0_result(), final_result());
    t.fx.cni.add_network_list(&t.net, &t.conf).expect("ADD");
    assert_eq!(only_call(&t.fx, "p1").stdin["prevResult"], p0_result());
    assert_eq!(only_call(&t.fx, "p2").stdin["prevResult"], final_result());
}

#[test]
fn add_list_chains_prev_results_and_caches_the_final_result() {
    let t = three_plugins("1.1.0");
    let result =
        t.fx.cni
            .add_network_list(&t.net, &t.conf)
            .expect("ADD")
            .expect("a result");
    assert_eq!(result.to_value(), final_result());
    assert_eq!(result.cni_version, Version::V1_1_0);

    let base = [("name", json!(LIST)), ("cniVersion", json!("1.1.0"))];
    let without_caps = |plugin: &Value| {
        let mut map = obj(plugin.clone());
        map.remove("capabilities");
        Value::Object(map)
    };
    let p0 = only_call(&t.fx, "p0");
    let mut extra = base.to_vec();
    extra.push((
        "runtimeConfig",
        json!({"portMappings": mappings(), "otherCapability": 33}),
    ));
    assert_eq!(
        p0.stdin,
        request(&without_caps(&t.plugins[0]), &extra),
        "first plugin: no prevResult"
    );

    let p1 = only_call(&t.fx, "p1");
    let mut extra = base.to_vec();
    extra.push(("prevResult", p0_result()));
    extra.push(("runtimeConfig", json!({"otherCapability": 33})));
    assert_eq!(
        p1.stdin,
        request(&without_caps(&t.plugins[1]), &extra),
        "p0's result replaces the static one"
    );

    let p2 = only_call(&t.fx, "p2");
    let mut extra = base.to_vec();
    extra.push(("prevResult", p0_result()));
    assert_eq!(
        p2.stdin,
        request(&t.plugins[2], &extra),
        "p1 passed p0's result through; no capabilities"
    );

    for call in [&p0, &p1, &p2] {
        assert_eq!(
            cni_env(call),
            attachment_env("ADD", CID, "FOO=BAR", &t.fx.bin_dir())
        );
    }

    // The cache file: iSulad's layout plus libcni's keys, the list bytes verbatim.
    assert_eq!(t.fx.cache_names(), [format!("{LIST}-{CID}-{IFNAME}")]);
    assert_eq!(
        t.fx.read_cache(LIST, CID, IFNAME),
        json!({
            "kind": "cniCacheV1",
            "containerId": CID,
            "config": t.net.bytes,
            "ifName": IFNAME,
            "networkName": LIST,
            "netns": NETNS,
            "cni_args": {"FOO": "BAR"},
            "cniArgs": [["FOO", "BAR"]],
            "portMappings": mappings(),
            "capabilityArgs": {"portMappings": mappings(), "otherCapability": 33},
            "result": final_result()
        })
    );
    let raw = std::fs::read_to_string(t.fx.cache_file(LIST, CID, IFNAME)).expect("cache text");
    assert!(
        raw.starts_with("{\n    \"kind\": \"cniCacheV1\",\n"),
        "4-space beautified layout: {raw}"
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(t.fx.cache_file(LIST, CID, IFNAME))
            .expect("stat")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);

    assert_eq!(
        t.fx.cni
            .cached_result(&t.net, &t.conf)
            .expect("cached result"),
        Some(result)
    );
    let attachment =
        t.fx.cni
            .cached_attachment(LIST, &t.conf)
            .expect("read")
            .expect("cached");
    assert_eq!(attachment.container_id, CID);
    assert_eq!(attachment.network_name, LIST);
    assert_eq!(attachment.if_name, IFNAME);
    assert_eq!(attachment.netns.as_deref(), Some(NETNS));
    assert_eq!(attachment.config, t.net.bytes);
    assert_eq!(attachment.cni_args, t.conf.args);
    assert_eq!(attachment.capability_args, t.conf.capability_args);
    assert_eq!(
        attachment.result.as_ref().map(CachedResult::to_value),
        Some(final_result())
    );
    assert_eq!(
        t.fx.cni.cached_attachments(None).expect("all"),
        std::slice::from_ref(&attachment)
    );
    assert_eq!(
        t.fx.cni.cached_attachments(Some(CID)).expect("of CID"),
        [attachment]
    );
    assert!(t
        .fx
        .cni
        .cached_attachments(Some("other-id"))
        .expect("of other")
        .is_empty());
}

#[test]
fn static_prev_result_survives_for_the_first_plugin() {
    let fx = Fixture::new(&["p0"]);
    fx.behave("p0", json!({"ADD": {"result": "PASSTHROUGH"}}));
    let plugin = json!({"type": "p0", "prevResult": static_prev()});
    let net = list(json!({"cniVersion": "1.1.0", "name": LIST, "plugins": [plugin]}));
    let result = fx
        .cni
        .add_network_list(&net, &rt())
        .expect("ADD")
        .expect("result");
    assert_eq!(only_call(&fx, "p0").stdin["prevResult"], static_prev());
    assert_eq!(result.to_value(), static_prev());
}

#[test]
fn add_error_of_the_second_plugin_stops_and_writes_no_cache() {
    let t = three_plugins("1.1.0");
    t.fx.behave(
        "p1",
        json!({"ADD": {"error": {"code": 999, "msg": "plugin error: banana"}}}),
    );
    let err =
        t.fx.cni
            .add_network_list(&t.net, &t.conf)
            .expect_err("p1 fails");
    assert_eq!(
        err.to_string(),
        r#"plugin type="p1" failed (add): plugin error: banana"#
    );
    let (plugin, command, error) = plugin_error(Err::<(), _>(err));
    assert_eq!((plugin.as_str(), command.as_str()), ("p1", "add"));
    assert_eq!(error, CniError::new(999, "plugin error: banana", ""));
    assert_eq!(t.fx.commands("p0"), ["ADD"]);
    assert_eq!(t.fx.commands("p1"), ["ADD"]);
    assert!(
        t.fx.calls("p2").is_empty(),
        "plugins after the failing one are not called"
    );
    assert!(
        t.fx.cache_names().is_empty(),
        "no cache entry (nor temp file) after a failed ADD"
    );
    assert_eq!(t.fx.cni.cached_result(&t.net, &t.conf).expect("read"), None);
}

#[test]
fn add_with_a_missing_plugin_fails_with_its_name_and_path() {
    let fx = Fixture::new(&["p0"]);
    let net = list(
        json!({"cniVersion": "1.0.0", "name": LIST, "plugins": [{"type": "p0"}, {"type": "nope"}]}),
    );
    let err = fx
        .cni
        .add_network_list(&net, &rt())
        .expect_err("missing plugin");
    assert!(matches!(err, Error::PluginNotFound { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(r#"failed to find plugin "nope" in path [{}]"#, fx.bin_dir())
    );
    assert_eq!(fx.commands("p0"), ["ADD"]);
    assert!(fx.cache_names().is_empty());
}

#[test]
fn invalid_container_id_network_name_or_ifname_is_refused_before_any_plugin() {
    let fx = Fixture::new(&["p0"]);
    let good = list(json!({"cniVersion": "1.1.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    let bad_name = list(
        json!({"cniVersion": "1.1.0", "name": "invalid-%%-name", "plugins": [{"type": "p0"}]}),
    );
    let with_ifname = |ifname: &str| RuntimeConf {
        ifname: ifname.into(),
        ..rt()
    };
    let iface = |msg: &str, details: &str| CniError::new(4, msg, details);
    let cases: Vec<(&NetworkConfigList, RuntimeConf, CniError)> = vec![
        (
            &good,
            rt_for("some-%%container-id"),
            CniError::new(
                4,
                "invalid characters in containerID",
                "some-%%container-id",
            ),
        ),
        (
            &good,
            rt_for(""),
            CniError::new(3, "missing containerID", ""),
        ),
        (
            &bad_name,
            rt(),
            CniError::new(
                7,
                "invalid characters found in network name",
                "invalid-%%-name",
            ),
        ),
        (&good, with_ifname(""), iface("interface name is empty", "")),
        (
            &good,
            with_ifname("1234567890123456"),
            iface(
                "interface name is too long",
                "interface name should be less than 16 characters",
            ),
        ),
        (
            &good,
            with_ifname("."),
            iface("interface name is . or ..", ""),
        ),
        (
            &good,
            with_ifname(".."),
            iface("interface name is . or ..", ""),
        ),
        (
            &good,
            with_ifname("test/test"),
            iface(
                "interface name contains / or : or whitespace characters",
                "",
            ),
        ),
        (
            &good,
            with_ifname("test:test"),
            iface(
                "interface name contains / or : or whitespace characters",
                "",
            ),
        ),
        (
            &good,
            with_ifname("test test"),
            iface(
                "interface name contains / or : or whitespace characters",
                "",
            ),
        ),
    ];
    for (net, conf, expected) in &cases {
        let what = format!("{}/{:?}/{:?}", net.name, conf.container_id, conf.ifname);
        assert_eq!(
            &invalid_error(fx.cni.add_network_list(net, conf)),
            expected,
            "ADD {what}"
        );
        assert_eq!(
            &invalid_error(fx.cni.del_network_list(net, conf)),
            expected,
            "DEL {what}"
        );
        assert_eq!(
            &invalid_error(fx.cni.check_network_list(net, conf)),
            expected,
            "CHECK {what}"
        );
    }
    let err = fx
        .cni
        .add_network_list(&good, &rt_for("some-%%container-id"))
        .expect_err("invalid");
    assert_eq!(
        err.to_string(),
        "invalid characters in containerID; some-%%container-id"
    );
    assert_eq!(err.code(), codes::INVALID_ENVIRONMENT);
    assert!(
        fx.calls("p0").is_empty(),
        "no plugin may run for an invalid attachment"
    );
    assert!(fx.cache_names().is_empty());
}

#[test]
fn a_list_without_plugins_caches_an_entry_without_result() {
    let fx = Fixture::new(&[]);
    let net = list(json!({"cniVersion": "1.0.0", "name": LIST}));
    assert!(net.plugins.is_empty());
    assert_eq!(fx.cni.add_network_list(&net, &rt()).expect("ADD"), None);
    let cached = fx.read_cache(LIST, CID, IFNAME);
    assert_eq!(cached["kind"], "cniCacheV1");
    assert!(cached.get("result").is_none(), "{cached}");
    fx.cni.del_network_list(&net, &rt()).expect("DEL");
    assert!(fx.cache_names().is_empty());
}

#[test]
fn an_unusable_list_version_is_refused_before_any_plugin() {
    let fx = Fixture::new(&["p0"]);
    let cases = [
        (
            "1.2.3",
            r#"network "some-list": CNI version "1.2.3" is not supported (supported: 0.1.0 to 1.1.0)"#,
        ),
        (
            "garbage",
            r#"failed to convert major version part "garbage" of "garbage""#,
        ),
    ];
    for (version, message) in cases {
        let net = list(json!({"cniVersion": version, "name": LIST, "plugins": [{"type": "p0"}]}));
        for (op, result) in [
            ("ADD", fx.cni.add_network_list(&net, &rt()).map(drop)),
            ("CHECK", fx.cni.check_network_list(&net, &rt()).map(drop)),
            ("DEL", fx.cni.del_network_list(&net, &rt())),
        ] {
            match result {
                Err(err @ Error::Version(_)) => {
                    assert_eq!(err.to_string(), message, "{op} {version}")
                }
                other => panic!("{op} {version}: expected a version error, got {other:?}"),
            }
        }
    }
    assert!(fx.calls("p0").is_empty());
}

#[test]
fn a_netns_path_with_nul_is_refused() {
    let fx = Fixture::new(&["p0"]);
    let net = list(json!({"cniVersion": "1.0.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    let conf = RuntimeConf {
        netns: "/run/netns/a\0b".into(),
        ..rt()
    };
    let expected = CniError::new(
        codes::INVALID_ENVIRONMENT,
        "invalid netns path",
        "contains NUL",
    );
    assert_eq!(
        invalid_error(fx.cni.add_network_list(&net, &conf)),
        expected
    );
    assert_eq!(
        invalid_error(fx.cni.del_network_list(&net, &conf)),
        expected
    );
    assert!(fx.calls("p0").is_empty());
}

#[test]
fn add_fails_when_the_cache_cannot_be_written_and_returns_no_result() {
    let fx = Fixture::new(&["p0"]);
    std::fs::write(fx.results_dir(), b"not a directory").expect("plant a file at results/");
    let net = list(json!({"cniVersion": "1.0.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    let err = fx
        .cni
        .add_network_list(&net, &rt())
        .expect_err("cache write fails");
    assert!(matches!(err, Error::Cache(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with(r#"failed to set network "some-list" cached result: "#),
        "{err}"
    );
    assert_eq!(
        fx.commands("p0"),
        ["ADD"],
        "the plugins ran; only caching failed"
    );
}

// ---------------------------------------------------------------------------------------------
// Order of plugin calls
// ---------------------------------------------------------------------------------------------

/// One recorder listed three times (`idx` 0, 1, 2): one calls file shows the global order.
fn repeated_list(version: &str) -> NetworkConfigList {
    let plugins: Vec<Value> = (0..3).map(|i| json!({"type": "rec", "idx": i})).collect();
    list(json!({"cniVersion": version, "name": LIST, "plugins": plugins}))
}

#[test]
fn add_and_check_run_in_list_order_and_del_in_reverse() {
    let fx = Fixture::new(&["rec"]);
    let net = repeated_list("1.1.0");
    let result = fx
        .cni
        .add_network_list(&net, &rt())
        .expect("ADD")
        .expect("result");
    let checked = fx.cni.check_network_list(&net, &rt()).expect("CHECK");
    assert_eq!(
        checked.as_ref(),
        Some(&result),
        "CHECK returns the cached result it checked"
    );
    fx.cni.del_network_list(&net, &rt()).expect("DEL");
    let calls = fx.calls("rec");
    assert_eq!(
        sequence(&calls),
        seq(&[
            ("ADD", 0),
            ("ADD", 1),
            ("ADD", 2),
            ("CHECK", 0),
            ("CHECK", 1),
            ("CHECK", 2),
            ("DEL", 2),
            ("DEL", 1),
            ("DEL", 0)
        ])
    );
    for call in calls.iter().filter(|c| c.command != "ADD") {
        assert_eq!(
            call.stdin["prevResult"],
            result.to_value(),
            "{} gets the cached result",
            call.command
        );
    }
}

// ---------------------------------------------------------------------------------------------
// CHECK
// ---------------------------------------------------------------------------------------------

#[test]
fn check_gives_every_plugin_the_cached_result() {
    let t = three_plugins("1.1.0");
    t.fx.cni.add_network_list(&t.net, &t.conf).expect("ADD");
    t.fx.cni.check_network_list(&t.net, &t.conf).expect("CHECK");
    let caps = [
        json!({"portMappings": mappings(), "otherCapability": 33}),
        json!({"otherCapability": 33}),
    ];
    for (i, name) in ["p0", "p1", "p2"].iter().enumerate() {
        let checks = t.fx.calls_of(name, "CHECK");
        assert_eq!(checks.len(), 1, "{name}");
        let mut extra = vec![
            ("name", json!(LIST)),
            ("cniVersion", json!("1.1.0")),
            ("prevResult", final_result()),
        ];
        if let Some(rc) = caps.get(i) {
            extra.push(("runtimeConfig", rc.clone()));
        }
        let mut plugin = obj(t.plugins[i].clone());
        plugin.remove("capabilities");
        assert_eq!(
            checks[0].stdin,
            request(&Value::Object(plugin), &extra),
            "{name}"
        );
        assert_eq!(
            cni_env(&checks[0]),
            attachment_env("CHECK", CID, "FOO=BAR", &t.fx.bin_dir())
        );
    }
}

#[test]
fn check_with_disable_check_calls_nothing() {
    let fx = Fixture::new(&["p0"]);
    let net = list(
        json!({"cniVersion": "1.1.0", "name": LIST, "disableCheck": true, "plugins": [{"type": "p0"}]}),
    );
    let added = fx.cni.add_network_list(&net, &rt()).expect("ADD");
    let checked = fx
        .cni
        .check_network_list(&net, &rt())
        .expect("CHECK is a no-op");
    assert_eq!(checked, added, "still returns the cached result");
    assert_eq!(fx.commands("p0"), ["ADD"]);
}

#[test]
fn check_of_a_0_3_1_list_is_not_supported() {
    let fx = Fixture::new(&["p0"]);
    let net = list(json!({"cniVersion": "0.3.1", "name": LIST, "plugins": [{"type": "p0"}]}));
    fx.cni.add_network_list(&net, &rt()).expect("ADD");
    let err = fx
        .cni
        .check_network_list(&net, &rt())
        .expect_err("0.3.1 has no CHECK");
    assert!(matches!(err, Error::NotSupported(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        r#"configuration version "0.3.1" does not support the CHECK command"#
    );
    assert_eq!(err.code(), codes::INCOMPATIBLE_VERSION);
    assert_eq!(fx.commands("p0"), ["ADD"]);
}

#[test]
fn check_without_cache_sends_no_prev_result() {
    let fx = Fixture::new(&["p0"]);
    let net = list(json!({"cniVersion": "1.0.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    assert_eq!(fx.cni.check_network_list(&net, &rt()).expect("CHECK"), None);
    let call = only_call(&fx, "p0");
    assert_eq!(call.command, "CHECK");
    assert_eq!(
        call.stdin,
        json!({"type": "p0", "name": LIST, "cniVersion": "1.0.0"})
    );
}

#[test]
fn check_of_a_0_4_0_list_gets_the_cached_0_4_0_result() {
    let fx = Fixture::new(&["p0"]);
    let net = list(json!({"cniVersion": "0.4.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    fx.cni.add_network_list(&net, &rt()).expect("ADD");
    fx.cni.check_network_list(&net, &rt()).expect("CHECK");
    let check = &fx.calls_of("p0", "CHECK")[0];
    assert_eq!(
        check.stdin["prevResult"],
        json!({
            "cniVersion": "0.4.0",
            "interfaces": [{"name": IFNAME, "mac": "0a:58:0a:7b:00:02", "sandbox": NETNS}],
            "ips": [{"version": "4", "interface": 0, "address": "10.123.0.2/24", "gateway": "10.123.0.1"}]
        })
    );
}

#[test]
fn check_converts_a_legacy_cached_result_to_the_list_version() {
    let fx = Fixture::new(&["p0"]);
    let net = list(json!({"cniVersion": "1.1.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    let legacy =
        json!({"cniVersion": "0.3.1", "ips": [{"version": "4", "address": "10.1.2.3/24"}]});
    fx.plant_cache(LIST, CID, IFNAME, legacy.to_string().as_bytes());
    fx.cni.check_network_list(&net, &rt()).expect("CHECK");
    let call = only_call(&fx, "p0");
    assert_eq!(
        call.stdin["prevResult"],
        json!({"cniVersion": "1.1.0", "ips": [{"address": "10.1.2.3/24"}]})
    );
    assert!(call.stdin.get("kind").is_none() && call.stdin.get("config").is_none());
}

/// CHECK and DEL pass on a cached result this process wrote as it is, and re-encode any other: a file another
/// runtime wrote (here with a key no result has and a 0.4.0-only `version`), or one whose list changed version.
#[test]
fn cached_results_not_written_in_the_list_version_are_re_encoded() {
    let fx = Fixture::new(&["p0"]);
    let net = list(json!({"cniVersion": "1.0.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    let foreign = json!({
        "kind": "cniCacheV1",
        "containerId": CID,
        "ifName": IFNAME,
        "networkName": LIST,
        "config": "",
        "result": {"cniVersion": "1.0.0", "ips": [{"version": "4", "address": "10.1.2.3/24"}], "extra": 1}
    });
    let normalized = json!({"cniVersion": "1.0.0", "ips": [{"address": "10.1.2.3/24"}]});
    fx.plant_cache(LIST, CID, IFNAME, foreign.to_string().as_bytes());
    fx.cni.check_network_list(&net, &rt()).expect("CHECK");
    fx.cni.del_network_list(&net, &rt()).expect("DEL");
    for command in ["CHECK", "DEL"] {
        assert_eq!(
            fx.calls_of("p0", command)[0].stdin["prevResult"],
            normalized,
            "{command}"
        );
    }

    // Added at 1.0.0, checked and deleted as 1.1.0.
    fx.cni.add_network_list(&net, &rt()).expect("ADD");
    let added = fx
        .cni
        .cached_attachment(LIST, &rt())
        .expect("read")
        .expect("cached")
        .result
        .expect("result")
        .to_value();
    assert_eq!(added["cniVersion"], "1.0.0");
    let newer = list(json!({"cniVersion": "1.1.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    fx.cni.check_network_list(&newer, &rt()).expect("CHECK");
    fx.cni.del_network_list(&newer, &rt()).expect("DEL");
    for command in ["CHECK", "DEL"] {
        let prev = &fx.calls_of("p0", command)[1].stdin["prevResult"];
        assert_eq!(prev["cniVersion"], "1.1.0", "{command}");
        assert_eq!(prev["ips"], added["ips"], "{command}");
    }
}

#[test]
fn check_with_a_bad_cache_fails_without_calling_plugins() {
    let fx = Fixture::new(&["p0"]);
    let net = list(json!({"cniVersion": "1.1.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    fx.plant_cache(LIST, CID, IFNAME, br#"{"cniVersion":"0.4567.0"}"#);
    let err = fx
        .cni
        .check_network_list(&net, &rt())
        .expect_err("unknown cached version");
    assert!(matches!(err, Error::Cache(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        r#"failed to get network "some-list" cached result: unsupported CNI result version "0.4567.0""#
    );

    let path = fx.plant_cache(LIST, CID, IFNAME, b"asdf");
    let err = fx
        .cni
        .check_network_list(&net, &rt())
        .expect_err("garbage cache");
    assert!(matches!(err, Error::Cache(_)), "{err:?}");
    let prefix = format!(
        r#"failed to get network "some-list" cached result: cache file {path:?} is not valid JSON: "#
    );
    assert!(err.to_string().starts_with(&prefix), "{err}");
    assert!(fx.calls("p0").is_empty());
    assert!(path.exists(), "CHECK must not remove the cache");
}

#[test]
fn check_stops_at_the_first_plugin_error_and_returns_it_unwrapped() {
    let t = three_plugins("1.1.0");
    t.fx.cni.add_network_list(&t.net, &t.conf).expect("ADD");
    t.fx.behave(
        "p1",
        json!({"CHECK": {"error": {"code": 999, "msg": "plugin error: banana"}}}),
    );
    let err =
        t.fx.cni
            .check_network_list(&t.net, &t.conf)
            .expect_err("p1 fails");
    assert_eq!(
        err.to_string(),
        r#"plugin type="p1" failed (check): plugin error: banana"#
    );
    assert_eq!(
        plugin_error(Err::<(), _>(err)).2,
        CniError::new(999, "plugin error: banana", "")
    );
    assert_eq!(t.fx.commands("p0"), ["ADD", "CHECK"]);
    assert_eq!(t.fx.commands("p2"), ["ADD"]);
}

// ---------------------------------------------------------------------------------------------
// DEL
// ---------------------------------------------------------------------------------------------

#[test]
fn del_sends_the_cached_result_and_removes_the_cache() {
    let t = three_plugins("1.1.0");
    t.fx.cni.add_network_list(&t.net, &t.conf).expect("ADD");
    t.fx.cni.del_network_list(&t.net, &t.conf).expect("DEL");
    for name in ["p0", "p1", "p2"] {
        let dels = t.fx.calls_of(name, "DEL");
        assert_eq!(dels.len(), 1, "{name}");
        assert_eq!(dels[0].stdin["prevResult"], final_result(), "{name}");
        assert_eq!(
            cni_env(&dels[0]),
            attachment_env("DEL", CID, "FOO=BAR", &t.fx.bin_dir())
        );
    }
    assert!(t.fx.cache_names().is_empty(), "cache removed after DEL");
    assert_eq!(t.fx.cni.cached_result(&t.net, &t.conf).expect("read"), None);
    assert!(t.fx.cni.cached_attachments(None).expect("list").is_empty());

    // A second DEL is fine: no cache, so no prevResult.
    t.fx.cni
        .del_network_list(&t.net, &t.conf)
        .expect("second DEL");
    // Only the plugins' own static prevResult remains.
    for (name, prev) in [
        ("p0", None),
        ("p1", Some(static_prev())),
        ("p2", Some(static_prev())),
    ] {
        let dels = t.fx.calls_of(name, "DEL");
        assert_eq!(dels.len(), 2, "{name}");
        assert_eq!(dels[1].stdin.get("prevResult"), prev.as_ref(), "{name}");
    }
    assert!(t.fx.warnings().is_empty(), "{:?}", t.fx.warnings());
}

#[test]
fn del_of_a_0_3_1_list_sends_no_prev_result_but_removes_the_cache() {
    let fx = Fixture::new(&["p0"]);
    let net = list(json!({"cniVersion": "0.3.1", "name": LIST, "plugins": [{"type": "p0"}]}));
    fx.cni.add_network_list(&net, &rt()).expect("ADD");
    assert!(
        fx.cache_file(LIST, CID, IFNAME).exists(),
        "ADD caches for every version"
    );
    fx.cni.del_network_list(&net, &rt()).expect("DEL");
    let del = &fx.calls_of("p0", "DEL")[0];
    assert_eq!(
        del.stdin,
        json!({"type": "p0", "name": LIST, "cniVersion": "0.3.1"})
    );
    assert!(fx.cache_names().is_empty());
}

#[test]
fn del_of_a_0_4_0_list_sends_the_cached_result() {
    let fx = Fixture::new(&["p0"]);
    let net = list(json!({"cniVersion": "0.4.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    let result = fx
        .cni
        .add_network_list(&net, &rt())
        .expect("ADD")
        .expect("result");
    fx.cni.del_network_list(&net, &rt()).expect("DEL");
    assert_eq!(
        fx.calls_of("p0", "DEL")[0].stdin["prevResult"],
        result.to_value()
    );
    assert_eq!(result.cni_version, Version::V0_4_0);
}

#[test]
fn del_with_a_corrupt_cache_succeeds_and_removes_it() {
    let unreadable = |detail: &str| {
        format!(
            r#"ignoring unreadable cache of network "some-list": cache file {{path:?}} {detail}"#
        )
    };
    let cases = [
        ("zero-byte", &b""[..], unreadable("is empty")),
        ("garbage", &b"asdf{"[..], unreadable("is not valid JSON: ")),
        (
            "bad version",
            &br#"{"cniVersion":"0.4567.0"}"#[..],
            r#"ignoring cached result of network "some-list": unsupported CNI result version "0.4567.0""#.to_string(),
        ),
    ];
    for (what, content, warning) in cases {
        let fx = Fixture::new(&["p0"]);
        let net = list(json!({"cniVersion": "1.1.0", "name": LIST, "plugins": [{"type": "p0"}]}));
        let path = fx.plant_cache(LIST, CID, IFNAME, content);
        fx.cni
            .del_network_list(&net, &rt())
            .unwrap_or_else(|e| panic!("{what}: DEL failed: {e}"));
        let del = only_call(&fx, "p0");
        assert_eq!(
            del.stdin,
            json!({"type": "p0", "name": LIST, "cniVersion": "1.1.0"}),
            "{what}: no prevResult"
        );
        assert_eq!(cni_env(&del)["CNI_ARGS"], "FOO=BAR", "{what}");
        assert!(
            !path.exists(),
            "{what}: the corrupt cache file must be removed"
        );
        let warnings = fx.warnings();
        let expected = warning.replace("{path:?}", &format!("{path:?}"));
        assert_eq!(warnings.len(), 1, "{what}: {warnings:?}");
        assert!(
            warnings[0].starts_with(&expected),
            "{what}: {warnings:?} should start with {expected}"
        );
    }
}

#[test]
fn del_error_keeps_the_cache_and_stops() {
    let t = three_plugins("1.1.0");
    t.fx.cni.add_network_list(&t.net, &t.conf).expect("ADD");
    t.fx.behave("p1", json!({"DEL": {"error": {"code": 11, "msg": "busy"}}}));
    let err =
        t.fx.cni
            .del_network_list(&t.net, &t.conf)
            .expect_err("p1 fails");
    assert_eq!(err.to_string(), r#"plugin type="p1" failed (delete): busy"#);
    assert_eq!(err.code(), codes::TRY_AGAIN_LATER);
    assert_eq!(t.fx.commands("p2"), ["ADD", "DEL"]);
    assert_eq!(t.fx.commands("p1"), ["ADD", "DEL"]);
    assert_eq!(
        t.fx.commands("p0"),
        ["ADD"],
        "reverse order: p0 comes last and is not reached"
    );
    assert!(
        t.fx.cache_file(LIST, CID, IFNAME).exists(),
        "cache kept after a failed DEL"
    );
}

// ---------------------------------------------------------------------------------------------
// Replay of ADD's args by DEL and CHECK
// ---------------------------------------------------------------------------------------------

#[test]
fn del_and_check_replay_cached_args_for_keys_the_caller_omits_or_leaves_empty() {
    let fx = Fixture::new(&["p0"]);
    let plugin = json!({"type": "p0", "capabilities": {"portMappings": true}});
    let net = list(json!({"cniVersion": "1.0.0", "name": LIST, "plugins": [plugin]}));
    let add = RuntimeConf {
        args: vec![
            ("IgnoreUnknown".into(), "1".into()),
            ("K8S_POD_NAME".into(), "p".into()),
        ],
        capability_args: obj(json!({"portMappings": mappings()})),
        ..rt()
    };
    fx.cni.add_network_list(&net, &add).expect("ADD");
    let bare = RuntimeConf {
        args: Vec::new(),
        capability_args: Map::new(),
        ..rt()
    };
    fx.cni.check_network_list(&net, &bare).expect("CHECK");
    let own = RuntimeConf {
        args: vec![
            ("K8S_POD_NAME".into(), "".into()),
            ("IgnoreUnknown".into(), "0".into()),
            ("X".into(), "y".into()),
        ],
        capability_args: obj(
            json!({"portMappings": [{"hostPort": 1, "containerPort": 2, "protocol": "udp"}]}),
        ),
        ..rt()
    };
    fx.cni
        .check_network_list(&net, &own)
        .expect("CHECK with own args");
    fx.cni.del_network_list(&net, &bare).expect("DEL");

    let calls = fx.calls("p0");
    let commands: Vec<&str> = calls.iter().map(|c| c.command.as_str()).collect();
    assert_eq!(commands, ["ADD", "CHECK", "CHECK", "DEL"]);
    let replayed = "IgnoreUnknown=1;K8S_POD_NAME=p";
    for call in [&calls[0], &calls[1], &calls[3]] {
        assert_eq!(cni_env(call)["CNI_ARGS"], replayed, "{}", call.command);
        assert_eq!(
            call.stdin["runtimeConfig"],
            json!({"portMappings": mappings()}),
            "{}",
            call.command
        );
    }
    // Per key: the empty name is the cached one, the caller's non-empty value wins, new keys last.
    assert_eq!(
        cni_env(&calls[2])["CNI_ARGS"],
        "IgnoreUnknown=0;K8S_POD_NAME=p;X=y"
    );
    assert_eq!(
        calls[2].stdin["runtimeConfig"],
        json!({"portMappings": [{"hostPort": 1, "containerPort": 2, "protocol": "udp"}]})
    );
}

// ---------------------------------------------------------------------------------------------
// GC
// ---------------------------------------------------------------------------------------------

/// Two plugins on a GC-capable list, attachments `ctr-a` and `ctr-b` on it and `ctr-c` on
/// another network using the same plugins.
struct GcSetup {
    fx: Fixture,
    net: NetworkConfigList,
    results: BTreeMap<String, Value>,
}

fn gc_setup(version: &str, extra: Value) -> GcSetup {
    let fx = Fixture::new(&["p0", "p1"]);
    let mut top = obj(
        json!({"cniVersion": version, "name": LIST, "plugins": [{"type": "p0"}, {"type": "p1", "k": 1}]}),
    );
    top.extend(obj(extra));
    let net = list(Value::Object(top));
    let other = list(
        json!({"cniVersion": version, "name": "other-list", "plugins": [{"type": "p0"}, {"type": "p1"}]}),
    );
    let mut results = BTreeMap::new();
    for (id, caps) in [
        ("ctr-a", json!({})),
        ("ctr-b", json!({"portMappings": mappings()})),
    ] {
        let conf = RuntimeConf {
            netns: format!("/run/netns/{id}"),
            args: vec![("ID".into(), id.into())],
            capability_args: obj(caps),
            ..rt_for(id)
        };
        let result = fx
            .cni
            .add_network_list(&net, &conf)
            .expect("ADD")
            .expect("result");
        results.insert(id.to_string(), result.to_value());
    }
    fx.cni
        .add_network_list(&other, &rt_for("ctr-c"))
        .expect("ADD other network");
    GcSetup { fx, net, results }
}

fn valid(ids: &[&str]) -> Vec<GcAttachment> {
    ids.iter()
        .map(|id| GcAttachment {
            container_id: id.to_string(),
            ifname: IFNAME.into(),
        })
        .collect()
}

fn gc_env(fx: &Fixture) -> BTreeMap<String, String> {
    expected_env([
        ("CNI_COMMAND", "GC"),
        ("CNI_CONTAINERID", ""),
        ("CNI_NETNS", ""),
        ("CNI_ARGS", ""),
        ("CNI_IFNAME", ""),
        ("CNI_PATH", &fx.bin_dir()),
    ])
}

#[test]
fn gc_with_disable_gc_does_nothing() {
    let s = gc_setup("1.1.0", json!({"disableGC": true}));
    s.fx.cni.gc_network_list(&s.net, None).expect("GC");
    assert_eq!(s.fx.commands("p0"), ["ADD", "ADD", "ADD"]);
    assert_eq!(s.fx.commands("p1"), ["ADD", "ADD", "ADD"]);
    assert_eq!(s.fx.cni.cached_attachments(None).expect("list").len(), 3);
}

#[test]
fn gc_deletes_stale_attachments_then_gcs_every_plugin() {
    let s = gc_setup("1.1.0", json!({}));
    s.fx.cni
        .gc_network_list(&s.net, Some(&valid(&["ctr-a"])))
        .expect("GC");

    assert_eq!(s.fx.commands("p0"), ["ADD", "ADD", "ADD", "DEL", "GC"]);
    assert_eq!(s.fx.commands("p1"), ["ADD", "ADD", "ADD", "DEL", "GC"]);
    for name in ["p0", "p1"] {
        let del = &s.fx.calls_of(name, "DEL")[0];
        let mut expected = attachment_env("DEL", "ctr-b", "ID=ctr-b", &s.fx.bin_dir());
        expected.insert("CNI_NETNS".into(), "/run/netns/ctr-b".into());
        assert_eq!(
            cni_env(del),
            expected,
            "{name}: the stale attachment is deleted with its cached parameters"
        );
        assert_eq!(del.stdin["prevResult"], s.results["ctr-b"], "{name}");
        assert_eq!(del.stdin["name"], LIST);

        let gc = &s.fx.calls_of(name, "GC")[0];
        assert_eq!(cni_env(gc), gc_env(&s.fx), "{name}");
        let attachments = json!([{"containerID": "ctr-a", "ifname": IFNAME}]);
        let plugin = if name == "p0" {
            json!({"type": "p0"})
        } else {
            json!({"type": "p1", "k": 1})
        };
        let expected = request(
            &plugin,
            &[
                ("name", json!(LIST)),
                ("cniVersion", json!("1.1.0")),
                ("cni.dev/valid-attachments", attachments.clone()),
                ("cni.dev/attachments", attachments),
            ],
        );
        assert_eq!(gc.stdin, expected, "{name}");
    }
    let left: Vec<String> =
        s.fx.cni
            .cached_attachments(None)
            .expect("list")
            .into_iter()
            .map(|a| a.container_id)
            .collect();
    assert_eq!(
        left,
        ["ctr-c", "ctr-a"],
        "valid and other-network attachments are kept (sorted by file name)"
    );
}

#[test]
fn gc_without_valid_attachments_deletes_all_of_this_network() {
    let s = gc_setup("1.1.0", json!({}));
    s.fx.cni.gc_network_list(&s.net, None).expect("GC");
    assert_eq!(
        s.fx.commands("p0"),
        ["ADD", "ADD", "ADD", "DEL", "DEL", "GC"]
    );
    let deleted: Vec<String> =
        s.fx.calls_of("p1", "DEL")
            .iter()
            .map(|c| cni_env(c)["CNI_CONTAINERID"].clone())
            .collect();
    assert_eq!(deleted, ["ctr-a", "ctr-b"]);
    let gc = &s.fx.calls_of("p0", "GC")[0];
    assert_eq!(gc.stdin["cni.dev/valid-attachments"], json!([]));
    assert_eq!(gc.stdin["cni.dev/attachments"], json!([]));
    assert_eq!(s.fx.cache_names(), [format!("other-list-ctr-c-{IFNAME}")]);
}

#[test]
fn gc_of_a_1_0_0_list_only_deletes_stale_attachments() {
    let s = gc_setup("1.0.0", json!({}));
    s.fx.cni
        .gc_network_list(&s.net, Some(&valid(&["ctr-b"])))
        .expect("GC");
    assert_eq!(s.fx.commands("p0"), ["ADD", "ADD", "ADD", "DEL"]);
    assert_eq!(
        cni_env(&s.fx.calls_of("p0", "DEL")[0])["CNI_CONTAINERID"],
        "ctr-a"
    );
    assert_eq!(
        s.fx.cache_names(),
        [
            format!("other-list-ctr-c-{IFNAME}"),
            format!("{LIST}-ctr-b-{IFNAME}")
        ]
    );
}

#[test]
fn gc_collects_every_error_and_goes_on() {
    let s = gc_setup("1.1.0", json!({}));
    s.fx.behave(
        "p1",
        json!({"DEL": {"error": {"code": 11, "msg": "del busy"}}}),
    );
    s.fx.behave(
        "p0",
        json!({"GC": {"error": {"code": 999, "msg": "gc failed"}}}),
    );
    let err =
        s.fx.cni
            .gc_network_list(&s.net, Some(&valid(&["ctr-a"])))
            .expect_err("two failures");
    match &err {
        Error::Many(errors) => assert_eq!(errors.len(), 2, "{errors:?}"),
        other => panic!("expected Error::Many, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!(
            "failed to delete stale attachment ctr-b {IFNAME}: plugin type=\"p1\" failed (delete): del busy; \
             plugin type=\"p0\" failed (gc): gc failed"
        )
    );
    assert_eq!(
        s.fx.commands("p0"),
        ["ADD", "ADD", "ADD", "GC"],
        "p0's DEL is not reached; its GC still runs"
    );
    assert_eq!(
        s.fx.commands("p1"),
        ["ADD", "ADD", "ADD", "DEL", "GC"],
        "GC goes on after p0's GC error"
    );
    assert!(
        s.fx.cache_file(LIST, "ctr-b", IFNAME).exists(),
        "a failed stale DEL keeps its cache"
    );
}

// ---------------------------------------------------------------------------------------------
// STATUS
// ---------------------------------------------------------------------------------------------

#[test]
fn status_calls_plugins_in_order_and_keeps_the_error_code() {
    let fx = Fixture::new(&["p0", "p1", "p2"]);
    let net = list(
        json!({"cniVersion": "1.1.0", "name": LIST, "plugins": [{"type": "p0", "x": true}, {"type": "p1"}, {"type": "p2"}]}),
    );
    fx.cni.status_network_list(&net).expect("STATUS");
    let call = only_call(&fx, "p0");
    assert_eq!(call.command, "STATUS");
    assert_eq!(
        call.stdin,
        json!({"type": "p0", "x": true, "name": LIST, "cniVersion": "1.1.0"})
    );
    let mut env = gc_env(&fx);
    env.insert("CNI_COMMAND".into(), "STATUS".into());
    assert_eq!(cni_env(&call), env);

    fx.behave(
        "p1",
        json!({"STATUS": {"error": {"code": 50, "msg": "plugin not available"}}}),
    );
    let err = fx.cni.status_network_list(&net).expect_err("p1 not ready");
    assert_eq!(err.code(), codes::NOT_AVAILABLE);
    let (plugin, command, error) = plugin_error(Err::<(), _>(err));
    assert_eq!((plugin.as_str(), command.as_str()), ("p1", "status"));
    assert_eq!(error, CniError::new(50, "plugin not available", ""));
    assert_eq!(fx.commands("p0"), ["STATUS", "STATUS"]);
    assert_eq!(fx.commands("p1"), ["STATUS", "STATUS"]);
    assert_eq!(
        fx.commands("p2"),
        ["STATUS"],
        "plugins after the failing one are not asked"
    );
}

#[test]
fn status_before_1_1_0_calls_nothing() {
    let fx = Fixture::new(&["p0"]);
    for version in ["1.0.0", "0.4.0", "", "garbage"] {
        let net = list(json!({"cniVersion": version, "name": LIST, "plugins": [{"type": "p0"}]}));
        fx.cni
            .status_network_list(&net)
            .unwrap_or_else(|e| panic!("{version:?}: {e}"));
    }
    assert!(fx.calls("p0").is_empty());
}

// ---------------------------------------------------------------------------------------------
// VERSION, supported versions, validation
// ---------------------------------------------------------------------------------------------

#[test]
fn version_info_uses_the_dummy_environment_and_is_remembered() {
    let fx = Fixture::new(&["p0"]);
    fx.behave(
        "p0",
        json!({"VERSION": {"supportedVersions": ["0.3.1", "0.4.0", "1.0.0"]}}),
    );
    let info = fx.cni.get_version_info("p0").expect("VERSION");
    assert_eq!(
        info,
        PluginInfo {
            cni_version: "1.1.0".into(),
            supported_versions: vec!["0.3.1".into(), "0.4.0".into(), "1.0.0".into()]
        }
    );
    let call = only_call(&fx, "p0");
    assert_eq!(call.command, "VERSION");
    assert_eq!(call.stdin_raw, r#"{"cniVersion":"1.1.0"}"#);
    assert_eq!(
        cni_env(&call),
        expected_env([
            ("CNI_COMMAND", "VERSION"),
            ("CNI_CONTAINERID", ""),
            ("CNI_NETNS", "dummy"),
            ("CNI_ARGS", ""),
            ("CNI_IFNAME", "dummy"),
            ("CNI_PATH", "dummy"),
        ])
    );
    assert_eq!(fx.cni.get_version_info("p0").expect("again"), info);
    assert_eq!(
        fx.calls("p0").len(),
        1,
        "the answer is remembered while the binary is unchanged"
    );
}

#[test]
fn version_info_is_asked_again_when_the_binary_changes() {
    let fx = Fixture::new(&[]);
    // A copy, not a link: rewriting it changes the stamp of the plugin file itself.
    let plugin = fx.plugins.path().join("p0");
    std::fs::copy(support::recorder_binary(), &plugin).expect("copy the recorder");
    fx.behave("p0", json!({"VERSION": {"supportedVersions": ["1.0.0"]}}));
    assert_eq!(
        fx.cni
            .get_version_info("p0")
            .expect("VERSION")
            .supported_versions,
        ["1.0.0"]
    );
    fx.behave("p0", json!({"VERSION": {"supportedVersions": ["1.1.0"]}}));
    assert_eq!(
        fx.cni
            .get_version_info("p0")
            .expect("remembered")
            .supported_versions,
        ["1.0.0"]
    );
    thread::sleep(Duration::from_millis(20));
    std::fs::copy(support::recorder_binary(), &plugin).expect("rewrite the plugin");
    assert_eq!(
        fx.cni
            .get_version_info("p0")
            .expect("asked again")
            .supported_versions,
        ["1.1.0"]
    );
    assert_eq!(fx.commands("p0"), ["VERSION", "VERSION"]);
}

#[test]
fn version_unknown_to_a_0_1_0_plugin_means_0_1_0() {
    let fx = Fixture::new(&["old"]);
    fx.behave(
        "old",
        json!({"VERSION": {"error": {"code": 4, "msg": "unknown CNI_COMMAND: VERSION"}}}),
    );
    assert_eq!(
        fx.cni.get_version_info("old").expect("VERSION"),
        PluginInfo {
            cni_version: "0.1.0".into(),
            supported_versions: vec!["0.1.0".into()]
        }
    );
    let fx = Fixture::new(&["bad"]);
    fx.behave(
        "bad",
        json!({"VERSION": {"error": {"code": 4, "msg": "unknown CNI_COMMAND: VERSIONS"}}}),
    );
    assert!(matches!(
        fx.cni.get_version_info("bad"),
        Err(Error::Plugin { .. })
    ));
    assert!(matches!(
        fx.cni.get_version_info("missing"),
        Err(Error::PluginNotFound { .. })
    ));
}

#[test]
fn supported_versions_is_the_intersection() {
    let fx = Fixture::new(&["p0", "p1", "p2"]);
    fx.behave(
        "p0",
        json!({"VERSION": {"supportedVersions": ["0.3.1", "0.4.0", "1.0.0", "0.-42.0"]}}),
    );
    fx.behave(
        "p1",
        json!({"VERSION": {"supportedVersions": ["0.4.0", "1.0.0", "1.1.0", "0.-42.0"]}}),
    );
    let net = list(
        json!({"cniVersion": "1.0.0", "name": LIST, "plugins": [{"type": "p0"}, {"type": "p1"}, {"type": "p2"}]}),
    );
    assert_eq!(
        fx.cni.supported_versions(&net).expect("versions"),
        [Version::V0_4_0, Version::V1_0_0]
    );
}

#[test]
fn validate_network_list_reports_every_problem_together() {
    let fx = Fixture::new(&["p0", "p1", "p2"]);
    fx.behave("p2", json!({"VERSION": {"supportedVersions": ["0.4.0"]}}));
    let plugins = json!([
        {"type": "p0", "capabilities": {"portMappings": true, "otherCapability": true}},
        {"type": "nope"},
        {"type": "p2", "capabilities": {"otherCapability": true, "off": false}}
    ]);
    let net = list(json!({"cniVersion": "1.1.0", "name": LIST, "plugins": plugins}));
    let err = fx
        .cni
        .validate_network_list(&net)
        .expect_err("two problems");
    assert!(
        matches!(&err, Error::Many(errors) if errors.len() == 2),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            r#"failed to find plugin "nope" in path [{}]; plugin p2 does not support config version "1.1.0""#,
            fx.bin_dir()
        )
    );

    let broken = list(
        json!({"cniVersion": "broken", "name": LIST, "plugins": [{"type": "p0"}, {"type": "p1"}, {"type": "p0"}]}),
    );
    let err = fx
        .cni
        .validate_network_list(&broken)
        .expect_err("broken version");
    let one = r#"plugin p0 does not support config version "broken""#;
    assert_eq!(
        err.to_string(),
        format!(r#"{one}; plugin p1 does not support config version "broken"; {one}"#)
    );

    let good = list(
        json!({"cniVersion": "1.1.0", "name": LIST, "plugins": [plugins[0].clone(), plugins[2].clone()]}),
    );
    let fresh = Fixture::new(&["p0", "p2"]);
    assert_eq!(
        fresh.cni.validate_network_list(&good).expect("valid"),
        ["portMappings", "otherCapability"]
    );
    let unversioned = list(json!({"name": LIST, "plugins": [{"type": "p0"}]}));
    assert_eq!(
        fresh
            .cni
            .validate_network_list(&unversioned)
            .expect("\"\" is 0.1.0"),
        Vec::<String>::new()
    );
}

// ---------------------------------------------------------------------------------------------
// Environment and CNI_ARGS
// ---------------------------------------------------------------------------------------------

#[test]
fn plugin_environment_is_inherited_without_proxies_plus_the_six() {
    let fx = Fixture::new(&["p0"]);
    let empty = tempfile::tempdir().expect("empty dir");
    let dirs = vec![empty.path().to_path_buf(), fx.plugins.path().to_path_buf()];
    let cni = CniConfig::new(dirs, fx.cache.path());
    let net = list(json!({"cniVersion": "1.0.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    let conf = RuntimeConf {
        args: vec![
            ("K8S_POD_NAME".into(), "p".into()),
            ("IgnoreUnknown".into(), "1".into()),
            ("A".into(), "b".into()),
        ],
        ..rt()
    };
    cni.add_network_list(&net, &conf).expect("ADD");
    let call = only_call(&fx, "p0");
    let cni_path = format!("{}:{}", empty.path().display(), fx.bin_dir());
    assert_eq!(
        cni_env(&call),
        attachment_env("ADD", CID, "K8S_POD_NAME=p;IgnoreUnknown=1;A=b", &cni_path)
    );
    for inherited in ["PATH", "HOME"] {
        if let Ok(value) = std::env::var(inherited) {
            assert_eq!(
                call.env.get(inherited),
                Some(&value),
                "{inherited} is inherited"
            );
        }
    }
    assert!(
        call.env.contains_key("PATH"),
        "plugins need PATH (the test process has none?)"
    );
    let proxies: Vec<&String> = call
        .env
        .keys()
        .filter(|k| k.to_ascii_lowercase().ends_with("_proxy"))
        .collect();
    assert!(proxies.is_empty(), "proxy variables leaked: {proxies:?}");
    assert_eq!(
        call.argv,
        [fx.plugins.path().join("p0").display().to_string()]
    );
}

/// Waits until recorder `name` has recorded `count` calls.
fn wait_for_calls(fx: &Fixture, name: &str, count: usize) -> Vec<Call> {
    let start = Instant::now();
    loop {
        let calls = fx.calls(name);
        if calls.len() >= count {
            return calls;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{name} never recorded call {count}"
        );
        thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn each_cni_variable_is_set_exactly_once() {
    let fx = Fixture::new(&["p0"]);
    // The recorder records, then sleeps: its /proc/<pid>/environ shows the raw envp, duplicates included.
    fx.behave("p0", json!({"ADD": {"sleep": 1.0}}));
    let net = list(json!({"cniVersion": "1.0.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    thread::scope(|scope| {
        let add = scope.spawn(|| fx.cni.add_network_list(&net, &rt()));
        let call = wait_for_calls(&fx, "p0", 1).remove(0);
        let environ = std::fs::read(format!("/proc/{}/environ", call.pid))
            .expect("read the plugin's environ");
        let entries: Vec<String> = environ
            .split(|b| *b == 0)
            .filter(|e| !e.is_empty())
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .collect();
        for var in CNI_VARS {
            let count = entries
                .iter()
                .filter(|e| e.split('=').next() == Some(var))
                .count();
            assert_eq!(count, 1, "{var} in {entries:?}");
        }
        let cni: Vec<&String> = entries.iter().filter(|e| e.starts_with("CNI_")).collect();
        assert_eq!(cni.len(), 6, "only the six CNI_* variables: {cni:?}");
        let mut names: Vec<&str> = entries
            .iter()
            .map(|e| e.split('=').next().unwrap_or_default())
            .collect();
        let total = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), total, "no variable is set twice: {entries:?}");
        add.join().expect("ADD thread").expect("ADD");
    });
}

#[test]
fn cni_args_that_would_change_meaning_are_refused_before_any_plugin() {
    let fx = Fixture::new(&["p0"]);
    let net = list(json!({"cniVersion": "1.1.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    let bad_pairs = [
        ("a;b", "1"),
        ("a=b", "1"),
        ("", "1"),
        ("K", "v;w"),
        ("K", "v=w"),
    ];
    for (key, value) in bad_pairs {
        let conf = RuntimeConf {
            args: vec![("OK".into(), "1".into()), (key.into(), value.into())],
            ..rt()
        };
        let details = format!("{key:?}={value:?}");
        let expected = CniError::new(codes::INVALID_ENVIRONMENT, "invalid CNI_ARGS pair", details);
        assert_eq!(
            invalid_error(fx.cni.add_network_list(&net, &conf)),
            expected,
            "ADD {key:?}"
        );
        assert_eq!(
            invalid_error(fx.cni.check_network_list(&net, &conf)),
            expected,
            "CHECK {key:?}"
        );
        assert_eq!(
            invalid_error(fx.cni.del_network_list(&net, &conf)),
            expected,
            "DEL {key:?}"
        );
    }
    assert!(fx.calls("p0").is_empty(), "no call may be recorded");
    assert!(fx.cache_names().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Result versions
// ---------------------------------------------------------------------------------------------

#[test]
fn an_older_result_is_converted_to_the_list_version() {
    let fx = Fixture::new(&["p0", "p1"]);
    fx.behave(
        "p0",
        json!({"ADD": {"result": {
            "cniVersion": "0.4.0",
            "interfaces": [{"name": "eth0", "mac": "0a:58:0a:01:02:03", "sandbox": NETNS}],
            "ips": [{"version": "4", "interface": 0, "address": "10.1.2.3/24", "gateway": "10.1.2.1"}],
            "routes": [{"dst": "0.0.0.0/0"}]
        }}}),
    );
    let net = list(
        json!({"cniVersion": "1.0.0", "name": LIST, "plugins": [{"type": "p0"}, {"type": "p1"}]}),
    );
    let result = fx
        .cni
        .add_network_list(&net, &rt())
        .expect("ADD")
        .expect("result");
    let converted = json!({
        "cniVersion": "1.0.0",
        "interfaces": [{"name": "eth0", "mac": "0a:58:0a:01:02:03", "sandbox": NETNS}],
        "ips": [{"interface": 0, "address": "10.1.2.3/24", "gateway": "10.1.2.1"}],
        "routes": [{"dst": "0.0.0.0/0"}]
    });
    assert_eq!(
        only_call(&fx, "p1").stdin["prevResult"],
        converted,
        "the next plugin gets the list's version"
    );
    assert_eq!(result.cni_version, Version::V1_0_0);
    assert_eq!(result.to_value(), converted);
    assert_eq!(fx.read_cache(LIST, CID, IFNAME)["result"], converted);
}

#[test]
fn a_0_2_0_list_uses_ip4_results() {
    let fx = Fixture::new(&["p0"]);
    let net = list(json!({"cniVersion": "0.2.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    let result = fx
        .cni
        .add_network_list(&net, &rt())
        .expect("ADD")
        .expect("result");
    let expected =
        json!({"cniVersion": "0.2.0", "ip4": {"ip": "10.123.0.2/24", "gateway": "10.123.0.1"}});
    assert_eq!(result.to_value(), expected);
    assert_eq!(
        fx.cni
            .cached_result(&net, &rt())
            .expect("cached")
            .map(|r| r.to_value()),
        Some(expected)
    );
    fx.cni.del_network_list(&net, &rt()).expect("DEL");
    assert!(
        fx.calls_of("p0", "DEL")[0]
            .stdin
            .get("prevResult")
            .is_none(),
        "no prevResult before 0.4.0"
    );
}

#[test]
fn a_result_without_cni_version_takes_the_configs() {
    let fx = Fixture::new(&["p0"]);
    let cases = [
        (
            "1.0.0",
            json!({"ips": [{"address": "10.1.2.3/24"}]}),
            Version::V1_0_0,
        ),
        (
            "0.4.0",
            json!({"cniVersion": "", "ips": [{"version": "4", "address": "10.1.2.3/24"}]}),
            Version::V0_4_0,
        ),
    ];
    for (i, (version, answer, expected)) in cases.into_iter().enumerate() {
        fx.behave("p0", json!({"ADD": {"result": answer}}));
        let net = list(json!({"cniVersion": version, "name": LIST, "plugins": [{"type": "p0"}]}));
        let conf = rt_for(&format!("ctr-{i}"));
        let result = fx
            .cni
            .add_network_list(&net, &conf)
            .expect("ADD")
            .expect("result");
        assert_eq!(result.cni_version, expected, "{version}");
        assert_eq!(result.ips.len(), 1);
    }
}

#[test]
fn an_unknown_result_version_is_an_error_naming_it() {
    let fx = Fixture::new(&["p0"]);
    fx.behave(
        "p0",
        json!({"ADD": {"result": {"cniVersion": "0.4567.0", "ips": []}}}),
    );
    let net = list(json!({"cniVersion": "1.0.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    let err = fx
        .cni
        .add_network_list(&net, &rt())
        .expect_err("unknown version");
    assert!(matches!(err, Error::Result(_)), "{err:?}");
    assert_eq!(
        err.to_string(),
        r#"plugin type="p0" failed (add): unsupported CNI result version "0.4567.0""#
    );
    assert!(fx.cache_names().is_empty());

    fx.behave("p0", json!({"ADD": {"stdout": ""}}));
    let err = fx
        .cni
        .add_network_list(&net, &rt())
        .expect_err("empty output");
    assert_eq!(
        err.to_string(),
        r#"plugin type="p0" failed (add): failed to unmarshal raw result: unexpected end of JSON input"#
    );
}

// ---------------------------------------------------------------------------------------------
// Timeouts
// ---------------------------------------------------------------------------------------------

/// Processes (not zombies) of a process group, from /proc.
fn live_members(pgid: i32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // "pid (comm) state ppid pgrp …": comm may hold anything, so split after its last ')'.
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map_or("", |(_, rest)| rest)
                .split_whitespace()
                .collect();
            fields.first() != Some(&"Z")
                && fields.get(2).and_then(|g| g.parse::<i32>().ok()) == Some(pgid)
        })
        .collect()
}

fn assert_group_gone(pgid: i32) {
    let start = Instant::now();
    while !live_members(pgid).is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "process group {pgid} survives: {:?}",
            live_members(pgid)
        );
        thread::sleep(Duration::from_millis(20));
    }
}

fn assert_timeout(fx: &Fixture, result: Result<impl std::fmt::Debug, Error>, elapsed: Duration) {
    match result {
        Err(Error::Timeout {
            path,
            command,
            after,
        }) => {
            assert_eq!(path, fx.plugins.path().join("p0"));
            assert_eq!(command, "add");
            assert_eq!(after, Duration::from_millis(300));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(
        elapsed >= Duration::from_millis(300),
        "returned before the timeout: {elapsed:?}"
    );
    assert!(
        elapsed < Duration::from_millis(1500),
        "timeout took {elapsed:?}"
    );
}

#[test]
fn a_slow_plugin_times_out_and_is_killed() {
    let fx = Fixture::new(&["p0"]);
    assert_eq!(
        fx.cni.timeout(),
        Some(Duration::from_secs(120)),
        "default timeout"
    );
    fx.cni.set_timeout(Some(Duration::from_millis(300)));
    assert_eq!(fx.cni.timeout(), Some(Duration::from_millis(300)));
    fx.behave("p0", json!({"ADD": {"sleep": 5}}));
    let net = list(json!({"cniVersion": "1.0.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    let start = Instant::now();
    let result = fx.cni.add_network_list(&net, &rt());
    assert_timeout(&fx, result, start.elapsed());
    assert_group_gone(only_call(&fx, "p0").pgid);
    assert!(fx.cache_names().is_empty());
    fx.cni.set_timeout(None);
    assert_eq!(fx.cni.timeout(), None);
}

#[test]
fn a_plugin_with_a_grandchild_holding_its_pipes_times_out_and_the_group_dies() {
    let fx = Fixture::new(&["p0"]);
    fx.cni.set_timeout(Some(Duration::from_millis(300)));
    // The grandchild inherits stdout; the plugin answers, lets go of stdout and stays alive.
    fx.behave(
        "p0",
        json!({"ADD": {"forkSleeper": 5, "closeStdoutAndSleep": 5}}),
    );
    let net = list(json!({"cniVersion": "1.0.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    let start = Instant::now();
    let result = fx.cni.add_network_list(&net, &rt());
    assert_timeout(&fx, result, start.elapsed());
    assert_group_gone(only_call(&fx, "p0").pgid);
}

#[test]
fn a_grandchild_holding_the_pipes_after_the_plugin_exits_does_not_hang_add() {
    let fx = Fixture::new(&["p0"]);
    fx.cni.set_timeout(None);
    fx.behave("p0", json!({"ADD": {"forkSleeper": 5}}));
    let net = list(json!({"cniVersion": "1.0.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    let start = Instant::now();
    let result = fx
        .cni
        .add_network_list(&net, &rt())
        .expect("ADD")
        .expect("result");
    assert!(
        start.elapsed() < Duration::from_millis(1500),
        "ADD took {:?}",
        start.elapsed()
    );
    assert_eq!(result.ips.len(), 1);
    assert_group_gone(only_call(&fx, "p0").pgid);
}

#[test]
fn check_del_and_version_time_out_too() {
    let fx = Fixture::new(&["p0"]);
    let net = list(json!({"cniVersion": "1.1.0", "name": LIST, "plugins": [{"type": "p0"}]}));
    fx.cni.add_network_list(&net, &rt()).expect("ADD");
    fx.cni.set_timeout(Some(Duration::from_millis(300)));
    fx.behave("p0", json!({"*": {"sleep": 5}}));
    for label in ["check", "delete", "version"] {
        let start = Instant::now();
        let result = match label {
            "check" => fx.cni.check_network_list(&net, &rt()).map(drop),
            "delete" => fx.cni.del_network_list(&net, &rt()),
            _ => fx.cni.get_version_info("p0").map(drop),
        };
        match result {
            Err(Error::Timeout { command, .. }) => assert_eq!(command, label),
            other => panic!("{label}: expected a timeout, got {other:?}"),
        }
        assert!(
            start.elapsed() < Duration::from_millis(1500),
            "{label} took {:?}",
            start.elapsed()
        );
    }
    assert!(
        fx.cache_file(LIST, CID, IFNAME).exists(),
        "a timed-out DEL keeps the cache"
    );
}

// ---------------------------------------------------------------------------------------------
// Concurrency
// ---------------------------------------------------------------------------------------------

#[test]
fn parallel_add_del_on_distinct_containers() {
    let fx = Fixture::new(&["p0", "p1"]);
    let net = list(
        json!({"cniVersion": "1.1.0", "name": LIST, "plugins": [{"type": "p0"}, {"type": "p1"}]}),
    );
    thread::scope(|scope| {
        let workers: Vec<_> = (0..16)
            .map(|i| {
                let (fx, net) = (&fx, &net);
                scope.spawn(move || {
                    let conf = rt_for(&format!("ctr-{i}"));
                    let result = fx
                        .cni
                        .add_network_list(net, &conf)
                        .map_err(|e| format!("ADD {i}: {e}"))?;
                    if result.is_none() {
                        return Err(format!("ADD {i}: no result"));
                    }
                    fx.cni
                        .del_network_list(net, &conf)
                        .map_err(|e| format!("DEL {i}: {e}"))
                })
            })
            .collect();
        for worker in workers {
            worker
                .join()
                .expect("worker panicked")
                .expect("operation failed");
        }
    });
    assert!(
        fx.cache_names().is_empty(),
        "left in the cache: {:?}",
        fx.cache_names()
    );
    for name in ["p0", "p1"] {
        let calls = fx.calls(name);
        assert_eq!(calls.len(), 32, "{name}");
        for i in 0..16 {
            let id = format!("ctr-{i}");
            let commands: Vec<&str> = calls
                .iter()
                .filter(|c| cni_env(c)["CNI_CONTAINERID"] == id)
                .map(|c| c.command.as_str())
                .collect();
            assert_eq!(commands, ["ADD", "DEL"], "{name} {id}");
        }
    }
    assert!(fx.warnings().is_empty(), "{:?}", fx.warnings());
}

#[test]
fn operations_on_one_container_never_overlap() {
    // Two entries of one recorder: every call is appended to one file when the plugin starts, and a
    // plugin starts only inside its operation. Operations of one container that never overlap
    // therefore leave whole blocks: [ADD 0, ADD 1] or [DEL 1, DEL 0]. The 50 ms sleep in each call
    // gives overlapping operations ample opportunity to interleave.
    let fx = Fixture::new(&["rec"]);
    fx.behave("rec", json!({"*": {"sleep": 0.05}}));
    let plugins: Vec<Value> = (0..2).map(|i| json!({"type": "rec", "idx": i})).collect();
    let net = list(json!({"cniVersion": "1.1.0", "name": LIST, "plugins": plugins}));
    const THREADS: usize = 4;
    const ROUNDS: usize = 3;
    thread::scope(|scope| {
        let workers: Vec<_> = (0..THREADS)
            .map(|_| {
                let (fx, net) = (&fx, &net);
                scope.spawn(move || {
                    for _ in 0..ROUNDS {
                        fx.cni
                            .add_network_list(net, &rt())
                            .map_err(|e| format!("ADD: {e}"))?;
                        fx.cni
                            .del_network_list(net, &rt())
                            .map_err(|e| format!("DEL: {e}"))?;
                    }
                    Ok::<(), String>(())
                })
            })
            .collect();
        for worker in workers {
            worker
                .join()
                .expect("worker panicked")
                .expect("operation failed");
        }
    });
    let calls = sequence(&fx.calls("rec"));
    assert_eq!(calls.len(), THREADS * ROUNDS * 2 * 2);
    let add = seq(&[("ADD", 0), ("ADD", 1)]);
    let del = seq(&[("DEL", 1), ("DEL", 0)]);
    for (n, block) in calls.chunks(2).enumerate() {
        assert!(
            block == add.as_slice() || block == del.as_slice(),
            "operations interleaved at block {n}: {calls:?}"
        );
    }
    let adds = calls.chunks(2).filter(|b| *b == add.as_slice()).count();
    assert_eq!(adds, THREADS * ROUNDS);
    assert!(
        fx.cache_names().is_empty(),
        "the last operation was a DEL: {:?}",
        fx.cache_names()
    );
}

#[test]
fn gc_waits_for_a_running_add() {
    // ADD 0 sleeps after being recorded; a GC started meanwhile must not reach any plugin before
    // the ADD has finished, so its calls come after ADD 1.
    let fx = Fixture::new(&["rec"]);
    fx.behave("rec", json!({"ADD": {"sleep": 0.3}}));
    let plugins: Vec<Value> = (0..2).map(|i| json!({"type": "rec", "idx": i})).collect();
    let net = list(json!({"cniVersion": "1.1.0", "name": LIST, "plugins": plugins}));
    thread::scope(|scope| {
        let add = scope.spawn(|| fx.cni.add_network_list(&net, &rt()));
        wait_for_calls(&fx, "rec", 1);
        fx.cni
            .gc_network_list(
                &net,
                Some(&[GcAttachment {
                    container_id: CID.into(),
                    ifname: IFNAME.into(),
                }]),
            )
            .expect("GC");
        add.join().expect("ADD thread").expect("ADD");
    });
    assert_eq!(
        sequence(&fx.calls("rec")),
        seq(&[("ADD", 0), ("ADD", 1), ("GC", 0), ("GC", 1)])
    );
    assert!(
        fx.cache_file(LIST, CID, IFNAME).exists(),
        "the valid attachment is kept"
    );
}
