//! Tests of plugin objects, lists, configuration files and the directory scan.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{json, Map, Value};

use super::files::base_name;
use super::*;
use crate::cni::error::{Error, Result};
use crate::cni::version::Version;

fn err_text<T: std::fmt::Debug>(r: Result<T>) -> String {
    match r.unwrap_err() {
        Error::Config(msg) => msg,
        other => panic!("expected Error::Config, got {other:?}"),
    }
}

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, text).unwrap();
    path
}

const LIST: &str = r#"{
  "name": "some-network",
  "cniVersion": "0.2.0",
  "disableCheck": true,
  "plugins": [
    {
      "type": "host-local",
      "subnet": "10.0.0.1/24"
    },
    {
      "type": "bridge",
      "mtu": 1400
    },
    {
      "type": "port-forwarding",
      "ports": {"20.0.0.1:8080": "80"}
    }
  ]
}"#;

fn list_with(extra: &str, plugins: &str) -> String {
    format!(r#"{{"name": "some-network", "cniVersion": "0.4.0"{extra}{plugins}}}"#)
}
const ONE_PLUGIN: &str = r#", "plugins": [{"type": "host-local", "subnet": "10.0.0.1/24"}]"#;
const SIBLING: &str = r#"{"type": "bro-check-out-my-plugin", "subnet": "10.0.0.1/24"}"#;

// ---- plugin objects ----

#[test]
fn plugin_conf_reads_typed_fields() {
    let conf = PluginConf::from_bytes(
        br#"{ "name": "some-plugin", "type": "noop", "cniVersion": "0.3.1", "capabilities": { "portMappings": true, "somethingElse": true, "noCapability": false } }"#,
    )
    .unwrap();
    assert_eq!(conf.plugin_type, "noop");
    assert_eq!(conf.name.as_deref(), Some("some-plugin"));
    assert_eq!(conf.cni_version.as_deref(), Some("0.3.1"));
    assert_eq!(
        conf.capabilities,
        vec![
            ("portMappings".into(), true),
            ("somethingElse".into(), true),
            ("noCapability".into(), false)
        ]
    );
    assert_eq!(
        conf.enabled_capabilities(),
        vec!["portMappings", "somethingElse"]
    );
    assert!(conf.capability_enabled("portMappings"));
    assert!(!conf.capability_enabled("noCapability"));
    assert!(!conf.capability_enabled("absent"));
    let plain = PluginConf::from_bytes(
        br#"{ "name": "some-plugin", "type": "foobar", "some-key": "some-value" }"#,
    )
    .unwrap();
    assert_eq!(
        (
            plain.name.as_deref(),
            plain.cni_version.as_deref(),
            plain.capabilities.len()
        ),
        (Some("some-plugin"), None, 0)
    );
    assert_eq!(plain.raw()["some-key"], "some-value");
}

#[test]
fn plugin_conf_requires_type() {
    for text in [
        r#"{ "name": "some-plugin", "some-key": "some-value" }"#,
        r#"{ "type": "" }"#,
        r#"{ "type": null }"#,
    ] {
        assert_eq!(
            err_text(PluginConf::from_bytes(text.as_bytes())),
            "error parsing configuration: missing 'type'",
            "{text}"
        );
    }
}

#[test]
fn plugin_conf_rejects_mistyped_fields() {
    let prefix = "error parsing configuration: json: cannot unmarshal";
    let cases = [
        (json!({"type": 5}), "number into Go struct field PluginConf.type of type string"),
        (json!({"type": "x", "name": true}), "bool into Go struct field PluginConf.name of type string"),
        (
            json!({"type": "x", "cniVersion": [1]}),
            "array into Go struct field PluginConf.cniVersion of type string",
        ),
        (
            json!({"type": "x", "capabilities": []}),
            "array into Go struct field PluginConf.capabilities of type map[string]bool",
        ),
        (
            json!({"type": "x", "capabilities": {"a": "yes"}}),
            "string into Go struct field PluginConf.capabilities.a of type bool",
        ),
        (
            json!({"type": "x", "ipam": "host-local"}),
            "string into Go struct field PluginConf.ipam of type types.IPAM",
        ),
        (
            json!({"type": "x", "ipam": {"type": 1}}),
            "number into Go struct field PluginConf.ipam.type of type string",
        ),
        (json!({"type": "x", "dns": []}), "array into Go struct field PluginConf.dns of type types.DNS"),
        (
            json!({"type": "x", "dns": {"nameservers": "8.8.8.8"}}),
            "string into Go struct field PluginConf.dns.nameservers of type []string",
        ),
        (
            json!({"type": "x", "dns": {"search": ["a", 1]}}),
            "number into Go struct field PluginConf.dns.search of type string",
        ),
        (
            json!({"type": "x", "dns": {"domain": {}}}),
            "object into Go struct field PluginConf.dns.domain of type string",
        ),
        (
            json!({"type": "x", "dns": {"options": [false]}}),
            "bool into Go struct field PluginConf.dns.options of type string",
        ),
        (
            json!({"type": "x", "prevResult": "r"}),
            "string into Go struct field PluginConf.prevResult of type map[string]interface {}",
        ),
        (
            json!({"type": "x", "cni.dev/valid-attachments": {}}),
            "object into Go struct field PluginConf.cni.dev/valid-attachments of type []types.GCAttachment",
        ),
        (
            json!({"type": "x", "cni.dev/valid-attachments": [1]}),
            "number into Go struct field PluginConf.cni.dev/valid-attachments of type types.GCAttachment",
        ),
        (
            json!({"type": "x", "cni.dev/valid-attachments": [{"ifname": 1}]}),
            "number into Go struct field PluginConf.cni.dev/valid-attachments.ifname of type string",
        ),
        // the first mistake in document order wins, before the missing type
        (json!({"name": 1, "cniVersion": 2}), "number into Go struct field PluginConf.name of type string"),
    ];
    for (value, want) in cases {
        assert_eq!(
            err_text(PluginConf::from_map(obj(value.clone()))),
            format!("{prefix} {want}"),
            "{value}"
        );
    }
}

#[test]
fn plugin_conf_accepts_nulls_and_free_form_keys() {
    let conf = PluginConf::from_map(obj(json!({
        "type": "x", "name": null, "cniVersion": null, "capabilities": {"a": null, "b": true},
        "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.1.0.0/16"}]]},
        "dns": {"nameservers": ["1.1.1.1", null], "domain": "d", "extra": 1},
        "prevResult": null, "cni.dev/valid-attachments": [{"containerID": "c", "ifname": "eth0"}],
        "runtimeConfig": 5, "ipMasq": "whatever"
    })))
    .unwrap();
    assert_eq!((&conf.name, &conf.cni_version), (&None, &None));
    assert_eq!(
        conf.capabilities,
        vec![("a".into(), false), ("b".into(), true)]
    );
    assert_eq!(conf.enabled_capabilities(), vec!["b"]);
}

#[test]
fn plugin_conf_preserves_the_object() {
    let text = r#"{"type":"bridge","mtu":1400,"big":12345678901234567890,"f":1.50,"z":{"b":1,"a":[-0.0]}}"#;
    let conf = PluginConf::from_bytes(text.as_bytes()).unwrap();
    assert_eq!(serde_json::to_string(&conf.raw()).unwrap(), text);
    // serde_json's one normalisation: an exponent gains its sign (same number)
    let conf = PluginConf::from_bytes(br#"{"type":"x","e":1e3}"#).unwrap();
    assert_eq!(
        serde_json::to_string(&conf.raw()).unwrap(),
        r#"{"type":"x","e":1e+3}"#
    );
    let list =
        NetworkConfigList::from_bytes(format!(r#"{{"name":"n","plugins":[{text}]}}"#).as_bytes())
            .unwrap();
    assert_eq!(serde_json::to_string(&list.plugins[0].raw()).unwrap(), text);
}

#[test]
fn duplicate_keys_last_wins() {
    let conf = PluginConf::from_bytes(br#"{"type":"a","mtu":1,"type":"b"}"#).unwrap();
    assert_eq!(conf.plugin_type, "b");
    assert_eq!(
        serde_json::to_string(&conf.raw()).unwrap(),
        r#"{"type":"b","mtu":1}"#
    );
    let list =
        NetworkConfigList::from_bytes(br#"{"name":"a","plugins":[{"type":"x"}],"name":"b"}"#)
            .unwrap();
    assert_eq!(list.name, "b");
}

#[test]
fn malformed_bytes_are_config_errors() {
    let plugin = |b: &[u8]| err_text(PluginConf::from_bytes(b));
    let list = |b: &[u8]| err_text(NetworkConfigList::from_bytes(b));
    assert_eq!(
        plugin(b"{"),
        "error parsing configuration: unexpected end of JSON input"
    );
    assert_eq!(
        list(b"{"),
        "error parsing configuration list: unexpected end of JSON input"
    );
    assert_eq!(
        list(b""),
        "error parsing configuration list: unexpected end of JSON input"
    );
    assert_eq!(
        list(b"{\"name\": \"\xff\"}"),
        "error parsing configuration list: invalid UTF-8 at byte 10"
    );
    assert_eq!(
        plugin(b"\xc3\x28"),
        "error parsing configuration: invalid UTF-8 at byte 0"
    );
    assert_eq!(
        list(b"[1]"),
        "error parsing configuration list: expected a JSON object, found array"
    );
    assert_eq!(
        plugin(b"null"),
        "error parsing configuration: expected a JSON object, found null"
    );
    assert!(list(b"{\"name\": x}")
        .starts_with("error parsing configuration list: expected value at line 1"));
    assert!(
        list(b"{} trailing").starts_with("error parsing configuration list: trailing characters")
    );
    let deep = "[".repeat(10_000);
    assert!(list(deep.as_bytes())
        .starts_with("error parsing configuration list: recursion limit exceeded"));
}

// ---- lists ----

#[test]
fn list_from_bytes_like_libcni() {
    let list = NetworkConfigList::from_bytes(LIST.as_bytes()).unwrap();
    assert_eq!(
        (list.name.as_str(), list.cni_version.as_str()),
        ("some-network", "0.2.0")
    );
    assert!(list.disable_check && !list.disable_gc && !list.load_only_inlined_plugins);
    assert_eq!(list.bytes, LIST);
    let raws: Vec<Value> = list
        .plugins
        .iter()
        .map(|p| Value::Object(p.raw().clone()))
        .collect();
    assert_eq!(
        raws,
        vec![
            json!({"subnet": "10.0.0.1/24", "type": "host-local"}),
            json!({"mtu": 1400, "type": "bridge"}),
            json!({"ports": {"20.0.0.1:8080": "80"}, "type": "port-forwarding"}),
        ]
    );
    let types: Vec<&str> = list
        .plugins
        .iter()
        .map(|p| p.plugin_type.as_str())
        .collect();
    assert_eq!(types, ["host-local", "bridge", "port-forwarding"]);
    assert!(list
        .plugins
        .iter()
        .all(|p| p.name.is_none() && p.cni_version.is_none()));
    assert_eq!(list.version().unwrap(), Version::V0_2_0);
}

#[test]
fn list_errors() {
    let cases = [
        (r#"{"plugins": [{"type": "x"}]}"#, "error parsing configuration list: no name"),
        (r#"{"name": 5}"#, "error parsing configuration list: invalid name type float64"),
        (r#"{"name": null}"#, "error parsing configuration list: invalid name type <nil>"),
        (r#"{"name": "n", "cniVersion": 1.0}"#, "error parsing configuration list: invalid cniVersion type float64"),
        (r#"{"name": "n", "disableCheck": "adsfasdfasf"}"#, r#"error parsing configuration list: invalid value "adsfasdfasf" for disableCheck"#),
        (r#"{"name": "n", "disableGC": "YES"}"#, r#"error parsing configuration list: invalid value "yes" for disableGC"#),
        (r#"{"name": "n", "disableCheck": 1}"#, "error parsing configuration list: invalid type float64 for disableCheck"),
        (r#"{"name": "n", "disableGC": {}}"#, "error parsing configuration list: invalid type map[string]interface {} for disableGC"),
        (r#"{"name": "n", "loadOnlyInlinedPlugins": "sphagnum"}"#, r#"error parsing configuration list: invalid value "sphagnum" for loadOnlyInlinedPlugins"#),
        (r#"{"name": "n", "loadOnlyInlinedPlugins": true}"#, "error parsing configuration list: `loadOnlyInlinedPlugins` is true, and no 'plugins' key"),
        (r#"{"name": "n", "plugins": {}}"#, "error parsing configuration list: invalid 'plugins' type map[string]interface {}"),
        (r#"{"name": "n", "plugins": []}"#, "error parsing configuration list: no plugins in list"),
        (r#"{"name": "n", "plugins": [{"type": "x"}, {"mtu": 1}]}"#, "failed to parse plugin config 1: error parsing configuration: missing 'type'"),
        (r#"{"name": "n", "plugins": ["bridge"]}"#, "failed to parse plugin config 0: error parsing configuration: expected a JSON object, found string"),
        (r#"{"name": "n", "plugins": [{"type": "x", "ipam": 1}]}"#, "failed to parse plugin config 0: error parsing configuration: json: cannot unmarshal number into Go struct field PluginConf.ipam of type types.IPAM"),
    ];
    for (text, want) in cases {
        assert_eq!(
            err_text(NetworkConfigList::from_bytes(text.as_bytes())),
            want,
            "{text}"
        );
    }
}

#[test]
fn list_flags_accept_bools_and_strings() {
    let flags = |extra: &str| {
        let l = NetworkConfigList::from_bytes(list_with(extra, ONE_PLUGIN).as_bytes()).unwrap();
        (l.disable_check, l.disable_gc, l.load_only_inlined_plugins)
    };
    assert_eq!(flags(""), (false, false, false));
    assert_eq!(flags(r#", "disableCheck": "true""#), (true, false, false));
    assert_eq!(flags(r#", "disableCheck": "false""#), (false, false, false));
    assert_eq!(
        flags(r#", "disableCheck": "TRUE", "disableGC": true, "loadOnlyInlinedPlugins": "True""#),
        (true, true, true)
    );
    assert_eq!(
        flags(r#", "disableGC": false, "loadOnlyInlinedPlugins": "FALSE""#),
        (false, false, false)
    );
}

#[test]
fn list_without_plugins_key_has_no_plugins() {
    let list = NetworkConfigList::from_bytes(
        list_with(r#", "loadOnlyInlinedPlugins": false"#, "").as_bytes(),
    )
    .unwrap();
    assert!(list.plugins.is_empty());
}

#[test]
fn version_selection() {
    let select = |versions: &str| {
        let text = format!(
            r#"{{"name": "test", "cniVersions": [{versions}], "plugins": [{{"type": "foo"}}]}}"#
        );
        NetworkConfigList::from_bytes(text.as_bytes()).map(|l| l.cni_version)
    };
    let with_version = |extra: &str| {
        let text = format!(r#"{{"name": "test"{extra}, "plugins": [{{"type": "foo"}}]}}"#);
        NetworkConfigList::from_bytes(text.as_bytes()).map(|l| l.cni_version)
    };
    assert_eq!(select(r#""1.1.0", "0.4.0", "1.0.0""#).unwrap(), "1.1.0");
    assert_eq!(
        select(r#""99.0.0", "1.1.0", "0.4.0", "1.0.0""#).unwrap(),
        "1.1.0"
    );
    assert!(select(r#""1.1.0", "0.4.0", "1.0.f""#).is_err());
    assert_eq!(with_version(r#", "cniVersion": "1.2.3""#).unwrap(), "1.2.3");
    assert_eq!(
        with_version(r#", "cniVersion": "1.0.0", "cniVersions": ["0.1.0", "0.4.0"]"#).unwrap(),
        "1.0.0"
    );
    assert_eq!(
        with_version(r#", "cniVersion": "0.3.1", "cniVersions": ["0.4.0"]"#).unwrap(),
        "0.4.0"
    );
    assert_eq!(select("").unwrap(), "");
    // every entry dropped: the original cniVersion stays, even if newer than we speak
    assert_eq!(
        with_version(r#", "cniVersion": "2.0.0", "cniVersions": ["99.0.0"]"#).unwrap(),
        "2.0.0"
    );
    assert_eq!(select(r#""1.0""#).unwrap(), "1.0");
    let e = err_text(select(r#""1.1.0", "0.4.0", "1.0.f""#));
    assert!(
        e.starts_with(
            "error parsing configuration list: invalid cniVersions entry 1.0.f at index 2: "
        ),
        "{e}"
    );
    assert_eq!(
        err_text(select("1")),
        "error parsing configuration list: invalid type for cniVersions index 0: float64"
    );
    assert_eq!(
        err_text(with_version(r#", "cniVersions": "1.0.0""#)),
        "error parsing configuration list: invalid type for cniVersions: string"
    );
    let e = err_text(with_version(r#", "cniVersion": "x", "cniVersions": []"#));
    assert!(
        e.starts_with("error parsing configuration list: invalid cniVersion x: "),
        "{e}"
    );
}

#[test]
fn version_of_a_list() {
    let list = |v: &str| {
        NetworkConfigList::from_bytes(list_with("", ONE_PLUGIN).replace("0.4.0", v).as_bytes())
            .unwrap()
    };
    assert_eq!(list("").version().unwrap(), Version::V0_1_0);
    assert_eq!(list("1.0.0").version().unwrap(), Version::V1_0_0);
    assert!(matches!(list("1.0.f").version(), Err(Error::Version(_))));
}

// ---- files ----

#[test]
fn from_file_reads_lists() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "50-whatever.conflist", LIST);
    let list = NetworkConfigList::from_file(&path).unwrap();
    assert_eq!(
        list,
        NetworkConfigList::from_bytes(LIST.as_bytes()).unwrap()
    );
    let missing = err_text(NetworkConfigList::from_file(Path::new("/nope/not-here")));
    assert!(
        missing.starts_with("error reading /nope/not-here: "),
        "{missing}"
    );
    let bad = write(dir.path(), "00-bad.conflist", "{");
    assert_eq!(
        err_text(NetworkConfigList::from_file(&bad)),
        "error parsing configuration list: unexpected end of JSON input"
    );
}

#[test]
fn from_file_sibling_plugins() {
    // (list extras, plugins, sibling dir contents) => plugin types, or error
    type Case<'a> = (
        &'a str,
        &'a str,
        Option<&'a str>,
        std::result::Result<Vec<&'a str>, &'a str>,
    );
    let cases: [Case; 8] = [
        (
            r#", "loadOnlyInlinedPlugins": true"#,
            ONE_PLUGIN,
            Some(SIBLING),
            Ok(vec!["host-local"]),
        ),
        ("", ONE_PLUGIN, None, Ok(vec!["host-local"])),
        (
            r#", "loadOnlyInlinedPlugins": false"#,
            "",
            Some(SIBLING),
            Ok(vec!["bro-check-out-my-plugin"]),
        ),
        ("", "", None, Err("no plugin configs found")),
        ("", "", Some(""), Err("no plugin configs found")),
        ("", ONE_PLUGIN, Some(""), Ok(vec!["host-local"])),
        (
            "",
            ONE_PLUGIN,
            Some(SIBLING),
            Ok(vec!["host-local", "bro-check-out-my-plugin"]),
        ),
        (
            "",
            ONE_PLUGIN,
            Some(r#"{"subnet": "x"}"#),
            Err("error parsing configuration: missing 'type'"),
        ),
    ];
    for (extra, plugins, sibling, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "50-whatever.conflist",
            &list_with(extra, plugins),
        );
        if let Some(text) = sibling {
            let sub = dir.path().join("some-network");
            fs::create_dir(&sub).unwrap();
            if !text.is_empty() {
                write(&sub, "funky-second-plugin.conf", text);
                write(&sub, "ignored.json", "{");
            }
        }
        let got = NetworkConfigList::from_file(&path);
        match want {
            Ok(types) => {
                let list = got.unwrap();
                let got: Vec<&str> = list
                    .plugins
                    .iter()
                    .map(|p| p.plugin_type.as_str())
                    .collect();
                assert_eq!(got, types, "{extra} {plugins} {sibling:?}");
            }
            Err(msg) => assert_eq!(err_text(got), msg, "{extra} {plugins} {sibling:?}"),
        }
    }
}

#[test]
fn from_file_ignores_sibling_dirs_outside_the_conf_dir() {
    let root = tempfile::tempdir().unwrap();
    let conf_dir = root.path().join("net.d");
    fs::create_dir_all(root.path().join("escape")).unwrap();
    fs::create_dir(&conf_dir).unwrap();
    write(&root.path().join("escape"), "p.conf", r#"{"type": "evil"}"#);
    write(&conf_dir, "x.conf", r#"{"type": "evil"}"#);
    for name in ["../escape", "", "/tmp"] {
        let path = write(&conf_dir, "a.conflist", &format!(r#"{{"name": {name:?}}}"#));
        assert_eq!(
            err_text(NetworkConfigList::from_file(&path)),
            "no plugin configs found",
            "{name}"
        );
    }
}

#[test]
fn from_conf_upconverts() {
    let conf =
        PluginConf::from_bytes(br#"{"name":"some-plugin","cniVersion":"0.3.1", "type":"foobar"}"#)
            .unwrap();
    let list = NetworkConfigList::from_conf(&conf).unwrap();
    assert_eq!(
        (list.name.as_str(), list.cni_version.as_str()),
        ("some-plugin", "0.3.1")
    );
    assert_eq!(list.plugins, vec![conf]);
    assert_eq!(
        list.bytes,
        r#"{"cniVersion":"0.3.1","name":"some-plugin","plugins":[{"name":"some-plugin","cniVersion":"0.3.1","type":"foobar"}]}"#
    );
    assert_eq!(
        NetworkConfigList::from_bytes(list.bytes.as_bytes()).unwrap(),
        list
    );
    // a single conf's disableCheck is not honoured, as in libcni
    let conf = PluginConf::from_bytes(br#"{"type":"bridge","disableCheck":true}"#).unwrap();
    let list = NetworkConfigList::from_conf(&conf).unwrap();
    assert!(!list.disable_check);
    assert_eq!((list.name.as_str(), list.cni_version.as_str()), ("", ""));
}

#[test]
fn load_network_file_by_extension() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let single = r#"{ "name": "some-plugin", "type": "foobar", "some-key": "some-value" }"#;
    for name in ["50-whatever.conf", "50-whatever.json"] {
        let list = load_network_file(&write(d, name, single)).unwrap();
        assert_eq!(list.name, "some-plugin");
        assert_eq!(list.plugins.len(), 1);
        assert_eq!(list.plugins[0].plugin_type, "foobar");
        assert_eq!(list.plugins[0].name.as_deref(), Some("some-plugin"));
        assert_eq!(list.plugins[0].raw()["some-key"], "some-value");
    }
    let list = load_network_file(&write(d, "50-whatever.conflist", LIST)).unwrap();
    assert_eq!(list.plugins.len(), 3);
    let no_type = write(d, "10-list.conf", LIST);
    assert_eq!(
        err_text(load_network_file(&no_type)),
        "no 'type'; perhaps this is a .conflist?"
    );
    let bad_type = write(d, "10-bad.conf", r#"{"type": 7}"#);
    assert_eq!(
        err_text(load_network_file(&bad_type)),
        "error parsing configuration: json: cannot unmarshal number into Go struct field PluginConf.type of type string"
    );
    let bad = write(d, "00-bad.conf", "{");
    assert_eq!(
        err_text(load_network_file(&bad)),
        "error parsing configuration: unexpected end of JSON input"
    );
    let missing = err_text(load_network_file(Path::new("/nope/not-here.conf")));
    assert!(
        missing.starts_with("error reading /nope/not-here.conf: "),
        "{missing}"
    );
}

#[test]
fn load_network_file_names_unnamed_lists_after_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let list =
        load_network_file(&write(dir.path(), "10-anon.conf", r#"{"type": "bridge"}"#)).unwrap();
    assert_eq!(list.name, "10-anon.conf");
    assert_eq!(
        list.bytes,
        r#"{"cniVersion":"","name":"","plugins":[{"type":"bridge"}]}"#
    );
    let list = load_network_file(&write(
        dir.path(),
        "20-anon.conflist",
        r#"{"name": "", "plugins": [{"type": "x"}]}"#,
    ))
    .unwrap();
    assert_eq!(list.name, "20-anon.conflist");
    let e = err_text(load_network_file(&write(
        dir.path(),
        "30.conflist",
        r#"{"plugins": [{"type": "x"}]}"#,
    )));
    assert_eq!(e, "error parsing configuration list: no name");
}

#[test]
fn conf_files_rules() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for name in [
        "b.conf",
        "a.conflist",
        "c.json",
        "x.conf.bak",
        "y.CONF",
        "noext",
        "z.conflist~",
        ".conf",
        "A.conf",
    ] {
        write(d, name, "{}");
    }
    fs::create_dir(d.join("dir.conf")).unwrap();
    fs::create_dir_all(d.join("sub")).unwrap();
    write(&d.join("sub"), "deep.conf", "{}");
    std::os::unix::fs::symlink(d.join("b.conf"), d.join("link.conf")).unwrap();
    let names = |exts: &[&str]| -> Vec<String> {
        conf_files(d, exts)
            .unwrap()
            .iter()
            .map(|p| base_name(p))
            .collect()
    };
    assert_eq!(
        names(&[".conf", ".conflist", ".json"]),
        [
            ".conf",
            "A.conf",
            "a.conflist",
            "b.conf",
            "c.json",
            "link.conf"
        ]
    );
    assert_eq!(names(&["conf"]), [".conf", "A.conf", "b.conf", "link.conf"]);
    assert!(conf_files(d, &["conf"])
        .unwrap()
        .iter()
        .all(|p| p.parent() == Some(d)));
    assert!(conf_files(&d.join("missing"), &["conf"])
        .unwrap()
        .is_empty());
    let e = err_text(conf_files(&d.join("b.conf"), &["conf"]));
    assert!(
        e.starts_with(&format!(
            "error reading directory {}: ",
            d.join("b.conf").display()
        )),
        "{e}"
    );
}

// ---- the directory scan ----

fn conflist(name: &str) -> String {
    format!(r#"{{"cniVersion": "1.0.0", "name": "{name}", "plugins": [{{"type": "bridge"}}]}}"#)
}

fn scan(dir: &Path, previous: &[LoadedList]) -> DirScan {
    scan_dir(dir, &|name| !name.starts_with("isulacni-"), previous).unwrap()
}

fn names(scan: &DirScan) -> Vec<&str> {
    scan.lists.iter().map(|l| l.list.name.as_str()).collect()
}

#[test]
fn scan_sorts_filters_and_skips_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "20-b.conflist", &conflist("net-b"));
    write(d, "10-a.conf", r#"{"name": "net-a", "type": "bridge"}"#);
    write(d, "00-bad.conflist", "{");
    write(d, "isulacni-native.conflist", &conflist("native"));
    write(d, "30-c.json", r#"{"type": "bridge"}"#);
    write(d, "40-badname.conflist", &conflist("bad/name"));
    write(
        d,
        "41-longname.conflist",
        &conflist(&"n".repeat(MAX_NETWORK_NAME_LEN + 1)),
    );
    write(
        d,
        "42-okname.conflist",
        &conflist(&"n".repeat(MAX_NETWORK_NAME_LEN)),
    );
    write(d, "50-noplugins.conflist", r#"{"name": "empty"}"#);
    write(d, "60-notype.conf", r#"{"name": "x"}"#);
    write(d, "70-cni.txt", &conflist("ignored"));
    fs::create_dir(d.join("80-dir.conflist")).unwrap();
    nix::unistd::mkfifo(&d.join("90-fifo.conf"), nix::sys::stat::Mode::S_IRWXU).unwrap();
    let s = scan(d, &[]);
    assert_eq!(
        names(&s),
        [
            "net-a",
            "net-b",
            "30-c.json",
            "n".repeat(MAX_NETWORK_NAME_LEN).as_str()
        ]
    );
    let p = |name: &str| d.join(name).display().to_string();
    assert_eq!(
        s.warnings,
        vec![
            format!("skipping CNI configuration {}: error parsing configuration list: unexpected end of JSON input", p("00-bad.conflist")),
            format!(
                "skipping CNI configuration {}: invalid network name \"bad/name\": invalid characters found in network name",
                p("40-badname.conflist")
            ),
            format!("skipping CNI configuration {}: network name is longer than 200 characters", p("41-longname.conflist")),
            format!("skipping CNI configuration {}: no plugin configs found", p("50-noplugins.conflist")),
            format!("skipping CNI configuration {}: no 'type'; perhaps this is a .conflist?", p("60-notype.conf")),
            format!("skipping CNI configuration {}: not a regular file", p("90-fifo.conf")),
        ]
    );
    assert_eq!(s.lists[0].path, d.join("10-a.conf"));
}

#[test]
fn scan_sorts_by_full_path_bytes() {
    let dir = tempfile::tempdir().unwrap();
    for (file, net) in [
        ("b.conflist", "b"),
        ("B.conflist", "B2"),
        ("a-1.conflist", "a1"),
        ("a.conflist", "a"),
        ("a_1.conf", "a_"),
    ] {
        let text = if file.ends_with(".conf") {
            format!(r#"{{"name":"{net}","type":"x"}}"#)
        } else {
            conflist(net)
        };
        write(dir.path(), file, &text);
    }
    assert_eq!(names(&scan(dir.path(), &[])), ["B2", "a1", "a", "a_", "b"]);
}

#[test]
fn scan_missing_or_unreadable_dir() {
    let dir = tempfile::tempdir().unwrap();
    let s = scan(&dir.path().join("missing"), &[]);
    assert!(s.lists.is_empty() && s.warnings.is_empty());
    let file = write(dir.path(), "file", "");
    assert!(matches!(
        scan_dir(&file, &|_| true, &[]),
        Err(Error::Config(_))
    ));
}

#[test]
fn scan_loads_at_most_max_files() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..=MAX_CONF_FILES {
        write(
            dir.path(),
            &format!("{i:05}.conflist"),
            &conflist(&format!("net{i}")),
        );
    }
    write(dir.path(), "isulacni-x.conflist", &conflist("native"));
    let s = scan(dir.path(), &[]);
    assert_eq!(s.lists.len(), MAX_CONF_FILES);
    assert_eq!(
        s.lists.last().unwrap().list.name,
        format!("net{}", MAX_CONF_FILES - 1)
    );
    assert_eq!(
        s.warnings,
        vec![format!(
            "too many CNI configuration files in {}: only the first 1024 are loaded, 1 ignored",
            dir.path().display()
        )]
    );
}

#[test]
fn scan_size_limit() {
    let dir = tempfile::tempdir().unwrap();
    let pad = |name: &str, size: usize| {
        let text = conflist(name);
        format!("{text}{}", " ".repeat(size - text.len()))
    };
    write(
        dir.path(),
        "a.conflist",
        &pad("at-limit", MAX_CONF_FILE_SIZE as usize),
    );
    let big = write(
        dir.path(),
        "b.conflist",
        &pad("over", MAX_CONF_FILE_SIZE as usize + 1),
    );
    let s = scan(dir.path(), &[]);
    assert_eq!(names(&s), ["at-limit"]);
    assert_eq!(
        s.warnings,
        vec![format!(
            "skipping CNI configuration {}: file is larger than 1048576 bytes",
            big.display()
        )]
    );
}

#[test]
fn scan_reuses_unchanged_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "a.conflist", &conflist("a"));
    let b = write(d, "b.conf", r#"{"name": "b", "type": "bridge"}"#);
    let first = scan(d, &[]);
    let second = scan(d, &first.lists);
    assert_eq!(names(&second), ["a", "b"]);
    for (old, new) in first.lists.iter().zip(&second.lists) {
        assert!(Arc::ptr_eq(&old.list, &new.list));
        assert_eq!(old.stamp, new.stamp);
    }
    fs::write(&b, r#"{"name": "b", "type": "macvlan"}"#).unwrap();
    let third = scan(d, &second.lists);
    assert!(Arc::ptr_eq(&second.lists[0].list, &third.lists[0].list));
    assert!(!Arc::ptr_eq(&second.lists[1].list, &third.lists[1].list));
    assert_eq!(third.lists[1].list.plugins[0].plugin_type, "macvlan");
    assert_eq!(
        third.lists[1].stamp,
        FileStamp::from_metadata(&fs::metadata(&b).unwrap())
    );
    // a previous entry for another path is never used
    let moved = LoadedList {
        path: d.join("other.conf"),
        ..third.lists[1].clone()
    };
    assert!(!Arc::ptr_eq(
        &scan(d, &[moved]).lists[1].list,
        &third.lists[1].list
    ));
    // removed files disappear
    fs::remove_file(&b).unwrap();
    assert_eq!(names(&scan(d, &third.lists)), ["a"]);
}

#[test]
fn scan_rereads_lists_with_sibling_plugins() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "a.conflist", &conflist("a"));
    fs::create_dir(d.join("a")).unwrap();
    let first = scan(d, &[]);
    assert_eq!(first.lists[0].list.plugins.len(), 1);
    write(&d.join("a"), "extra.conf", r#"{"type": "tuning"}"#);
    let second = scan(d, &first.lists);
    assert_eq!(second.lists[0].list.plugins.len(), 2);
    assert_eq!(second.lists[0].list.plugins[1].plugin_type, "tuning");
}

#[test]
fn file_stamp_follows_symlinks() {
    let dir = tempfile::tempdir().unwrap();
    let target = write(dir.path(), "t.conflist", &conflist("t"));
    let link = dir.path().join("l.conflist");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let stamp = |p: &Path| FileStamp::from_metadata(&fs::metadata(p).unwrap());
    assert_eq!(stamp(&link), stamp(&target));
    assert_eq!(stamp(&target).size, conflist("t").len() as u64);
}
