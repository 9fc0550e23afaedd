//! Plugin configuration objects (Go `types.PluginConf`): parsing one, and checking its typed fields
//! the way Go's decoder does, with Go's messages.

use std::fmt::Display;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::json::{json_kind, parse_object, utf8_reason};
use crate::cni::error::{Error, Result};

const PLUGIN_ERR: &str = "error parsing configuration";

/// One plugin configuration object (Go `types.PluginConf` plus the raw object).
///
/// A single `.conf` network is also a `PluginConf`; its `disableCheck` is not honoured when it is
/// turned into a list ([`NetworkConfigList::from_conf`](super::NetworkConfigList::from_conf)),
/// exactly as in libcni.
#[derive(Clone, Debug, PartialEq)]
pub struct PluginConf {
    /// `type`: the plugin binary (required, non-empty).
    pub plugin_type: String,
    /// The object's own `name` (rare inside lists).
    pub name: Option<String>,
    pub cni_version: Option<String>,
    /// `capabilities` in file order (`null` values count as `false`, as in Go).
    pub capabilities: Vec<(String, bool)>,
    /// The whole object as given: key order and number text preserved.
    raw: Map<String, Value>,
    entries: EncodedEntries,
}

/// A plugin object's entries as compact JSON, `"key":value` each in the object's order, encoded on first use:
/// every request to the plugin copies them instead of serialising its configuration again.
#[derive(Clone, Debug, Default)]
struct EncodedEntries(OnceLock<Encoded>);

#[derive(Clone, Debug)]
struct Encoded {
    text: String,
    /// Where each entry's text ends in `text`.
    ends: Vec<usize>,
}

impl EncodedEntries {
    fn of(&self, raw: &Map<String, Value>) -> &Encoded {
        self.0.get_or_init(|| {
            let mut text = Vec::new();
            let mut ends = Vec::with_capacity(raw.len());
            for (key, value) in raw {
                // Strings and values with string keys always serialise.
                let _ = serde_json::to_writer(&mut text, key);
                text.push(b':');
                let _ = serde_json::to_writer(&mut text, value);
                ends.push(text.len());
            }
            let text = String::from_utf8(text).unwrap_or_default();
            Encoded { text, ends }
        })
    }
}

/// The encoding follows from `raw`, which the configuration compares.
impl PartialEq for EncodedEntries {
    fn eq(&self, _: &EncodedEntries) -> bool {
        true
    }
}

impl PluginConf {
    /// Go `NetworkPluginConfFromBytes`.
    pub fn from_bytes(bytes: &[u8]) -> Result<PluginConf> {
        PluginConf::from_map(parse_plugin_object(bytes)?)
    }

    /// Checks the typed fields (the first mistyped one in document order is reported, as Go's
    /// decoder does) and requires a non-empty `type`.
    pub fn from_map(raw: Map<String, Value>) -> Result<PluginConf> {
        check_fields("", &raw, PLUGIN_FIELDS).map_err(plugin_err)?;
        let text = |key: &str| raw.get(key).and_then(Value::as_str).map(str::to_owned);
        let plugin_type = text("type")
            .filter(|t| !t.is_empty())
            .ok_or_else(|| plugin_err("missing 'type'"))?;
        let capabilities = match raw.get("capabilities") {
            Some(Value::Object(caps)) => caps
                .iter()
                .map(|(k, v)| (k.clone(), v.as_bool().unwrap_or(false)))
                .collect(),
            _ => Vec::new(),
        };
        Ok(PluginConf {
            plugin_type,
            name: text("name"),
            cni_version: text("cniVersion"),
            capabilities,
            raw,
            entries: EncodedEntries::default(),
        })
    }

    /// The whole object as given.
    pub fn raw(&self) -> &Map<String, Value> {
        &self.raw
    }

    /// The object's entries with each one's compact JSON text (`"key":value`).
    pub fn encoded_entries(&self) -> impl Iterator<Item = (&str, &str)> {
        let encoded = self.entries.of(&self.raw);
        let starts = std::iter::once(0).chain(encoded.ends.iter().copied());
        self.raw
            .keys()
            .zip(starts.zip(&encoded.ends))
            .map(|(key, (start, &end))| {
                (
                    key.as_str(),
                    encoded.text.get(start..end).unwrap_or_default(),
                )
            })
    }

    pub fn capability_enabled(&self, name: &str) -> bool {
        self.capabilities.iter().any(|(cap, on)| *on && cap == name)
    }

    /// Enabled capability names in file order (keys of a JSON object are already unique).
    pub fn enabled_capabilities(&self) -> Vec<&str> {
        self.capabilities
            .iter()
            .filter(|(_, on)| *on)
            .map(|(cap, _)| cap.as_str())
            .collect()
    }
}

pub(super) fn plugin_err(msg: impl Display) -> Error {
    Error::config(format!("{PLUGIN_ERR}: {msg}"))
}

pub(super) fn parse_plugin_object(bytes: &[u8]) -> Result<Map<String, Value>> {
    let text = std::str::from_utf8(bytes).map_err(|e| plugin_err(utf8_reason(e)))?;
    parse_object(text).map_err(plugin_err)
}

/// Checks one typed field at a path such as `ipam.type`. `null` is always accepted (Go leaves the
/// field at its zero value).
type Check = fn(&str, &Value) -> Result<(), String>;

/// The typed fields of Go's `types.PluginConf`; every other key is free-form.
const PLUGIN_FIELDS: &[(&str, Check)] = &[
    ("cniVersion", check_string),
    ("name", check_string),
    ("type", check_string),
    ("capabilities", check_capabilities),
    ("ipam", check_ipam),
    ("dns", check_dns),
    ("prevResult", check_object),
    ("cni.dev/valid-attachments", check_attachments),
];

fn mismatch(path: &str, value: &Value, go_type: &str) -> String {
    format!(
        "json: cannot unmarshal {} into Go struct field PluginConf.{path} of type {go_type}",
        json_kind(value)
    )
}

fn field_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// Checks the known keys of an object in document order, so the first mistake is reported.
fn check_fields(
    path: &str,
    object: &Map<String, Value>,
    fields: &[(&str, Check)],
) -> Result<(), String> {
    for (key, value) in object {
        if let Some((_, check)) = fields.iter().find(|(name, _)| name == key) {
            check(&field_path(path, key), value)?;
        }
    }
    Ok(())
}

fn check_struct(
    path: &str,
    value: &Value,
    go_type: &str,
    fields: &[(&str, Check)],
) -> Result<(), String> {
    match value {
        Value::Null => Ok(()),
        Value::Object(object) => check_fields(path, object, fields),
        other => Err(mismatch(path, other, go_type)),
    }
}

fn check_string(path: &str, value: &Value) -> Result<(), String> {
    match value {
        Value::Null | Value::String(_) => Ok(()),
        other => Err(mismatch(path, other, "string")),
    }
}

fn check_bool(path: &str, value: &Value) -> Result<(), String> {
    match value {
        Value::Null | Value::Bool(_) => Ok(()),
        other => Err(mismatch(path, other, "bool")),
    }
}

fn check_object(path: &str, value: &Value) -> Result<(), String> {
    match value {
        Value::Null | Value::Object(_) => Ok(()),
        other => Err(mismatch(path, other, "map[string]interface {}")),
    }
}

fn check_strings(path: &str, value: &Value) -> Result<(), String> {
    match value {
        Value::Null => Ok(()),
        Value::Array(items) => items.iter().try_for_each(|item| check_string(path, item)),
        other => Err(mismatch(path, other, "[]string")),
    }
}

fn check_capabilities(path: &str, value: &Value) -> Result<(), String> {
    match value {
        Value::Null => Ok(()),
        Value::Object(caps) => caps
            .iter()
            .try_for_each(|(name, on)| check_bool(&field_path(path, name), on)),
        other => Err(mismatch(path, other, "map[string]bool")),
    }
}

fn check_ipam(path: &str, value: &Value) -> Result<(), String> {
    check_struct(path, value, "types.IPAM", &[("type", check_string)])
}

fn check_dns(path: &str, value: &Value) -> Result<(), String> {
    let fields: &[(&str, Check)] = &[
        ("nameservers", check_strings),
        ("domain", check_string),
        ("search", check_strings),
        ("options", check_strings),
    ];
    check_struct(path, value, "types.DNS", fields)
}

fn check_attachments(path: &str, value: &Value) -> Result<(), String> {
    let fields: &[(&str, Check)] = &[("containerID", check_string), ("ifname", check_string)];
    match value {
        Value::Null => Ok(()),
        Value::Array(items) => items
            .iter()
            .try_for_each(|item| check_struct(path, item, "types.GCAttachment", fields)),
        other => Err(mismatch(path, other, "[]types.GCAttachment")),
    }
}
