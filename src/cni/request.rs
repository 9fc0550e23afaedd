//! The stdin configuration of each plugin call ("Deriving request configuration" in the spec).

use serde::Serialize;
use serde_json::{Map, Value};

use crate::cni::conf::PluginConf;
use crate::cni::version::Version;

/// A container attachment named in a GC request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcAttachment {
    pub container_id: String,
    pub ifname: String,
}

/// A plugin's stdin: its configuration object with some keys set, written from the borrowed parts (the entries
/// it keeps are copied as the configuration encoded them once). A key the object has keeps its place with the new
/// value; the others follow in the order set, as inserting into the object would place them.
struct Request<'a> {
    /// None for VERSION, which sends no configuration.
    plugin: Option<&'a PluginConf>,
    /// Spec 1.0.0 says `capabilities` is a config-only key the runtime removes; older specs and libcni pass it
    /// through, so only 1.x requests drop it.
    drop_capabilities: bool,
    set: Vec<(&'a str, Field<'a>)>,
}

enum Field<'a> {
    Str(&'a str),
    Value(&'a Value),
    /// Already compact JSON.
    Json(&'a str),
    /// An object of these entries.
    Entries(Vec<(&'a str, &'a Value)>),
}

impl<'a> Request<'a> {
    /// The plugin object with the list's `name` and `cniVersion`.
    fn new(list_name: &'a str, cni_version: &'a str, plugin: &'a PluginConf) -> Request<'a> {
        Request {
            plugin: Some(plugin),
            drop_capabilities: Version::parse(cni_version).is_ok_and(|v| v >= Version::V1_0_0),
            // Room for prevResult and runtimeConfig too: one allocation per request.
            set: Vec::with_capacity(4),
        }
        .set("name", Field::Str(list_name))
        .set("cniVersion", Field::Str(cni_version))
    }

    fn set(mut self, key: &'a str, value: Field<'a>) -> Request<'a> {
        self.set.push((key, value));
        self
    }

    /// Compact JSON, as serde_json writes an object.
    fn to_bytes(&self) -> Vec<u8> {
        // A request is a few hundred bytes: one allocation instead of growth from a small buffer.
        let mut out = Vec::with_capacity(1024);
        out.push(b'{');
        let new_value = |key: &str| self.set.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
        let entries = self
            .plugin
            .into_iter()
            .flat_map(PluginConf::encoded_entries);
        for (key, text) in entries {
            if self.drop_capabilities && key == "capabilities" {
                continue;
            }
            match new_value(key) {
                Some(field) => push_entry(&mut out, key, field),
                None => {
                    push_separator(&mut out);
                    out.extend_from_slice(text.as_bytes());
                }
            }
        }
        let has = |key: &str| self.plugin.is_some_and(|p| p.raw().contains_key(key));
        for (key, field) in &self.set {
            if !has(key) {
                push_entry(&mut out, key, field);
            }
        }
        out.push(b'}');
        out
    }
}

/// A comma unless `out` holds only the opening brace.
fn push_separator(out: &mut Vec<u8>) {
    if out.len() > 1 {
        out.push(b',');
    }
}

fn push_entry(out: &mut Vec<u8>, key: &str, field: &Field) {
    push_separator(out);
    push_key(out, key);
    match field {
        Field::Str(text) => push_json(out, text),
        Field::Value(value) => push_json(out, value),
        Field::Json(text) => out.extend_from_slice(text.as_bytes()),
        Field::Entries(entries) => {
            out.push(b'{');
            for (n, (key, value)) in entries.iter().enumerate() {
                if n > 0 {
                    out.push(b',');
                }
                push_key(out, key);
                push_json(out, value);
            }
            out.push(b'}');
        }
    }
}

fn push_key(out: &mut Vec<u8>, key: &str) {
    push_json(out, key);
    out.push(b':');
}

fn push_json(out: &mut Vec<u8>, value: &(impl Serialize + ?Sized)) {
    // Strings and values with string keys always serialise.
    let _ = serde_json::to_writer(out, value);
}

/// ADD, CHECK and DEL: `prevResult` when known, as its compact JSON (a static one in the plugin object survives
/// otherwise, as in libcni) and `runtimeConfig` made of the capability args the plugin declares.
/// A non-empty `runtimeConfig` replaces a static one; an empty one leaves it untouched.
pub fn attachment_request(
    list_name: &str,
    cni_version: &str,
    plugin: &PluginConf,
    prev_result: Option<&str>,
    capability_args: &Map<String, Value>,
) -> Vec<u8> {
    let mut req = Request::new(list_name, cni_version, plugin);
    if let Some(prev) = prev_result {
        req = req.set("prevResult", Field::Json(prev));
    }
    let runtime: Vec<(&str, &Value)> = plugin
        .enabled_capabilities()
        .into_iter()
        .filter_map(|cap| capability_args.get_key_value(cap))
        .map(|(cap, value)| (cap.as_str(), value))
        .collect();
    if !runtime.is_empty() {
        req = req.set("runtimeConfig", Field::Entries(runtime));
    }
    req.to_bytes()
}

/// GC: the valid attachments under both keys libcni sends (`cni.dev/valid-attachments` of the
/// spec and the older `cni.dev/attachments`).
pub fn gc_request(
    list_name: &str,
    cni_version: &str,
    plugin: &PluginConf,
    valid: &[GcAttachment],
) -> Vec<u8> {
    let list = Value::Array(
        valid
            .iter()
            .map(|a| serde_json::json!({"containerID": a.container_id, "ifname": a.ifname}))
            .collect(),
    );
    Request::new(list_name, cni_version, plugin)
        .set("cni.dev/valid-attachments", Field::Value(&list))
        .set("cni.dev/attachments", Field::Value(&list))
        .to_bytes()
}

/// STATUS: the plugin object with the list's name and version.
pub fn status_request(list_name: &str, cni_version: &str, plugin: &PluginConf) -> Vec<u8> {
    Request::new(list_name, cni_version, plugin).to_bytes()
}

/// VERSION: only the version the runtime speaks.
pub fn version_request() -> Vec<u8> {
    let version = Version::CURRENT.to_string();
    Request {
        plugin: None,
        drop_capabilities: false,
        set: vec![("cniVersion", Field::Str(&version))],
    }
    .to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cni::result::CniResult;
    use serde_json::json;

    fn plugin(v: Value) -> PluginConf {
        match v {
            Value::Object(m) => PluginConf::from_map(m).unwrap(),
            _ => unreachable!(),
        }
    }

    fn parse(bytes: Vec<u8>) -> Value {
        serde_json::from_slice(&bytes).unwrap()
    }

    /// The request is what serde_json writes for the plugin object with the keys set: byte for byte, with keys
    /// replaced in place, new ones appended, escapes and number text as the configuration had them, and the
    /// encoded entries reused by a second request.
    #[test]
    fn requests_are_serde_json_compact_objects() {
        let text = r#"{"type":"x\"y","name":"own","big":12345678901234567890.5,"nested":{"a":[1,"\u00e9\n"]},"cniVersion":"0.4.0"}"#;
        let p = PluginConf::from_bytes(text.as_bytes()).unwrap();
        let prev = CniResult::empty(Version::V0_4_0);
        for _ in 0..2 {
            let mut expected: Map<String, Value> = serde_json::from_str(text).unwrap();
            expected.insert("name".into(), json!("list"));
            expected.insert("cniVersion".into(), json!("0.4.0"));
            expected.insert("prevResult".into(), prev.to_value());
            let got = attachment_request("list", "0.4.0", &p, Some(&prev.to_json()), &Map::new());
            assert_eq!(
                String::from_utf8(got).unwrap(),
                serde_json::to_string(&expected).unwrap()
            );
        }
        assert_eq!(version_request(), br#"{"cniVersion":"1.1.0"}"#);
    }

    #[test]
    fn runtime_config_only_for_declared_capabilities() {
        let p = plugin(
            json!({"type":"noop","capabilities":{"portMappings":true,"somethingElse":true,"noCapability":false}}),
        );
        let caps = json!({"portMappings":[{"hostPort":8080}],"somethingElse":{"a":1},"noCapability":true,"notAdded":[1]});
        let req = parse(attachment_request(
            "apitest",
            "1.1.0",
            &p,
            None,
            caps.as_object().unwrap(),
        ));
        assert_eq!(
            req["runtimeConfig"],
            json!({"portMappings":[{"hostPort":8080}],"somethingElse":{"a":1}})
        );
        assert_eq!(req["name"], "apitest");
        assert_eq!(req["cniVersion"], "1.1.0");
        assert!(
            req.get("capabilities").is_none(),
            "1.x requests drop capabilities"
        );
        assert!(req.get("prevResult").is_none());
    }

    #[test]
    fn no_overlap_keeps_static_runtime_config_and_order() {
        let p = plugin(
            json!({"type":"bandwidth","runtimeConfig":{"bandWidth":{"rate":1}},"capabilities":{"bandwidth":true},"big":12345678901234567890u64}),
        );
        let text =
            String::from_utf8(attachment_request("n", "0.4.0", &p, None, &Map::new())).unwrap();
        assert_eq!(
            text,
            r#"{"type":"bandwidth","runtimeConfig":{"bandWidth":{"rate":1}},"capabilities":{"bandwidth":true},"big":12345678901234567890,"name":"n","cniVersion":"0.4.0"}"#
        );
    }

    #[test]
    fn prev_result_overrides_and_gc_status_shapes() {
        let p = plugin(
            json!({"type":"noop","name":"own","cniVersion":"0.1.0","prevResult":{"static":true}}),
        );
        let prev = json!({"cniVersion":"1.0.0","ips":[{"address":"10.1.2.3/24"}]});
        let typed = CniResult::from_value(&prev, Version::V1_0_0).unwrap();
        let req = parse(attachment_request(
            "list",
            "1.0.0",
            &p,
            Some(&typed.to_json()),
            &Map::new(),
        ));
        assert_eq!(req["prevResult"], prev);
        assert_eq!(req["name"], "list");
        let keep = parse(attachment_request("list", "1.0.0", &p, None, &Map::new()));
        assert_eq!(keep["prevResult"], json!({"static":true}));

        let gc = parse(gc_request(
            "list",
            "1.1.0",
            &p,
            &[GcAttachment {
                container_id: "c1".into(),
                ifname: "eth0".into(),
            }],
        ));
        assert_eq!(
            gc["cni.dev/valid-attachments"],
            json!([{"containerID":"c1","ifname":"eth0"}])
        );
        assert_eq!(gc["cni.dev/attachments"], gc["cni.dev/valid-attachments"]);
        let status = parse(status_request("list", "1.1.0", &p));
        assert_eq!(status["cniVersion"], "1.1.0");
        assert_eq!(parse(version_request()), json!({"cniVersion":"1.1.0"}));
    }
}
