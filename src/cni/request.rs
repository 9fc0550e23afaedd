//! The stdin configuration of each plugin call ("Deriving request configuration" in the spec).

use serde_json::{Map, Value};

use crate::cni::conf::PluginConf;
use crate::cni::version::Version;

/// A container attachment named in a GC request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcAttachment {
    pub container_id: String,
    pub ifname: String,
}

/// The plugin object with the list's `name` and `cniVersion`, plus the protocol keys of the call.
fn base(list_name: &str, cni_version: &str, plugin: &PluginConf) -> Map<String, Value> {
    let mut req = plugin.raw.clone();
    req.insert("name".into(), Value::String(list_name.into()));
    req.insert("cniVersion".into(), Value::String(cni_version.into()));
    // Spec 1.0.0 says `capabilities` is a config-only key the runtime removes; older specs and
    // libcni pass it through, so only 1.x requests drop it.
    if Version::parse(cni_version).is_ok_and(|v| v >= Version::V1_0_0) {
        req.shift_remove("capabilities");
    }
    req
}

/// ADD, CHECK and DEL: `prevResult` when known (a static one in the plugin object survives
/// otherwise, as in libcni) and `runtimeConfig` made of the capability args the plugin declares.
/// A non-empty `runtimeConfig` replaces a static one; an empty one leaves it untouched.
pub fn attachment_request(
    list_name: &str,
    cni_version: &str,
    plugin: &PluginConf,
    prev_result: Option<&Value>,
    capability_args: &Map<String, Value>,
) -> Vec<u8> {
    let mut req = base(list_name, cni_version, plugin);
    if let Some(prev) = prev_result {
        req.insert("prevResult".into(), prev.clone());
    }
    let runtime: Map<String, Value> = plugin
        .enabled_capabilities()
        .into_iter()
        .filter_map(|cap| {
            capability_args
                .get(cap)
                .map(|v| (cap.to_string(), v.clone()))
        })
        .collect();
    if !runtime.is_empty() {
        req.insert("runtimeConfig".into(), Value::Object(runtime));
    }
    to_bytes(req)
}

/// GC: the valid attachments under both keys libcni sends (`cni.dev/valid-attachments` of the
/// spec and the older `cni.dev/attachments`).
pub fn gc_request(
    list_name: &str,
    cni_version: &str,
    plugin: &PluginConf,
    valid: &[GcAttachment],
) -> Vec<u8> {
    let mut req = base(list_name, cni_version, plugin);
    let list: Vec<Value> = valid
        .iter()
        .map(|a| serde_json::json!({"containerID": a.container_id, "ifname": a.ifname}))
        .collect();
    req.insert(
        "cni.dev/valid-attachments".into(),
        Value::Array(list.clone()),
    );
    req.insert("cni.dev/attachments".into(), Value::Array(list));
    to_bytes(req)
}

/// STATUS: the plugin object with the list's name and version.
pub fn status_request(list_name: &str, cni_version: &str, plugin: &PluginConf) -> Vec<u8> {
    to_bytes(base(list_name, cni_version, plugin))
}

/// VERSION: only the version the runtime speaks.
pub fn version_request() -> Vec<u8> {
    to_bytes(Map::from_iter([(
        "cniVersion".to_string(),
        Value::String(Version::CURRENT.to_string()),
    )]))
}

fn to_bytes(map: Map<String, Value>) -> Vec<u8> {
    // Serialising a Value made of maps, strings and numbers cannot fail.
    serde_json::to_vec(&Value::Object(map)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let req = parse(attachment_request(
            "list",
            "1.0.0",
            &p,
            Some(&prev),
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
