//! The layouts of a cache file: encoding an entry in iSulad's `cni_cached_info` layout with Go
//! libcni's keys added, and decoding iSulad's, Go's and the legacy result-only layouts.

use std::path::Path;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::ser::PrettyFormatter;
use serde_json::{Map, Value};

use super::{CacheEntry, CachedAttachment, CachedResult, CACHE_KIND_V1};
use crate::cni::error::{Error, Result};

/// The JSON shape iSulad's generated C parser accepts for a key. A capability arg is also written under its iSulad
/// key only when it fits: a wrong type would be dropped by that parser, and an out-of-range integer would make it
/// reject the whole file.
enum Shape {
    Str,
    Int32,
    Int64,
    Array(&'static Shape),
    /// An object whose listed fields, when present, have these shapes (other fields only draw a warning).
    Object(&'static [(&'static str, Shape)]),
}

impl Shape {
    fn fits(&self, value: &Value) -> bool {
        match self {
            Shape::Str => value.is_string(),
            Shape::Int32 => value.as_i64().is_some_and(|n| i32::try_from(n).is_ok()),
            Shape::Int64 => value.as_i64().is_some(),
            Shape::Array(item) => value
                .as_array()
                .is_some_and(|items| items.iter().all(|v| item.fits(v))),
            Shape::Object(fields) => value.as_object().is_some_and(|object| {
                fields
                    .iter()
                    .all(|(key, shape)| object.get(*key).is_none_or(|v| shape.fits(v)))
            }),
        }
    }
}

const STRINGS: Shape = Shape::Array(&Shape::Str);
const PORT_MAPPING: Shape = Shape::Object(&[
    ("hostPort", Shape::Int32),
    ("containerPort", Shape::Int32),
    ("protocol", Shape::Str),
    ("hostIP", Shape::Str),
]);
const IP_RANGE: Shape = Shape::Object(&[
    ("subnet", Shape::Str),
    ("rangeStart", Shape::Str),
    ("rangeEnd", Shape::Str),
    ("gateway", Shape::Str),
]);
const IP_RANGE_SET: Shape = Shape::Array(&IP_RANGE);

/// The capability args `cni_cached_info` has keys for, in the order they are written.
const ISULAD_CAPABILITY_KEYS: [(&str, Shape); 9] = [
    ("portMappings", Shape::Array(&PORT_MAPPING)),
    ("ipRanges", Shape::Array(&IP_RANGE_SET)),
    (
        "bandwidth",
        Shape::Object(&[
            ("ingressRate", Shape::Int64),
            ("ingressBurst", Shape::Int64),
            ("egressRate", Shape::Int64),
            ("egressBurst", Shape::Int64),
        ]),
    ),
    (
        "dns",
        Shape::Object(&[("searches", STRINGS), ("servers", STRINGS)]),
    ),
    ("ips", STRINGS),
    ("mac", Shape::Str),
    ("infinibandGUID", Shape::Str),
    ("deviceID", Shape::Str),
    ("aliases", STRINGS),
];

/// The file text: iSulad's beautified 4-space layout and key order, with Go's keys added.
pub(super) fn encode(entry: &CachedAttachment) -> Result<Vec<u8>> {
    // Room for the whole file at once (the list text, escaped, and a few hundred bytes of keys and result).
    let mut text = Vec::with_capacity(entry.config.len() * 5 / 4 + 2048);
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut text, PrettyFormatter::with_indent(b"    "));
    Document(entry)
        .serialize(&mut serializer)
        .map_err(|e| Error::cache(format!("failed to encode cache entry: {e}")))?;
    text.push(b'\n');
    Ok(text)
}

/// The file's object, serialised from the borrowed entry.
struct Document<'a>(&'a CachedAttachment);

impl Serialize for Document<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let entry = self.0;
        let mut doc = serializer.serialize_map(None)?;
        doc.serialize_entry("kind", CACHE_KIND_V1)?;
        doc.serialize_entry("containerId", &entry.container_id)?;
        doc.serialize_entry("config", &entry.config)?;
        doc.serialize_entry("ifName", &entry.if_name)?;
        doc.serialize_entry("networkName", &entry.network_name)?;
        if let Some(netns) = &entry.netns {
            doc.serialize_entry("netns", netns)?;
        }
        if !entry.cni_args.is_empty() {
            // iSulad's map keeps one value per key (the last, in the first one's place); `cniArgs` keeps every pair
            // in order.
            let map: Map<String, Value> = entry
                .cni_args
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().into()))
                .collect();
            let pairs: Vec<[&str; 2]> = entry
                .cni_args
                .iter()
                .map(|(k, v)| [k.as_str(), v.as_str()])
                .collect();
            doc.serialize_entry("cni_args", &map)?;
            doc.serialize_entry("cniArgs", &pairs)?;
        }
        for (key, shape) in &ISULAD_CAPABILITY_KEYS {
            if let Some(value) = entry.capability_args.get(*key).filter(|v| shape.fits(v)) {
                doc.serialize_entry(key, value)?;
            }
        }
        if !entry.capability_args.is_empty() {
            doc.serialize_entry("capabilityArgs", &entry.capability_args)?;
        }
        if let Some(result) = &entry.result {
            doc.serialize_entry("result", result)?;
        }
        doc.end()
    }
}

/// Decodes the bytes of a cache file as [`ResultCache::read`](super::ResultCache::read) does, without touching the disk: the fuzz
/// targets and the corpus replay test feed it arbitrary input. Errors name the file as `"<bytes>"`.
pub fn decode_entry(bytes: &[u8]) -> Result<CacheEntry> {
    decode(Path::new("<bytes>"), bytes)
}

pub(super) fn decode(path: &Path, bytes: &[u8]) -> Result<CacheEntry> {
    let invalid = |detail: String| Error::cache(format!("cache file {path:?} {detail}"));
    if bytes.is_empty() {
        return Err(invalid("is empty".into()));
    }
    let text =
        std::str::from_utf8(bytes).map_err(|e| invalid(format!("is not valid UTF-8: {e}")))?;
    let value: Value =
        serde_json::from_str(text).map_err(|e| invalid(format!("is not valid JSON: {e}")))?;
    let Value::Object(object) = value else {
        return Err(invalid("is neither a cache entry nor a CNI result".into()));
    };
    match object.get("kind") {
        Some(Value::String(kind)) if kind == CACHE_KIND_V1 => parse_v1(&object)
            .map(CacheEntry::V1)
            .map_err(|detail| invalid(format!("is invalid: {detail}"))),
        Some(kind) => Err(invalid(format!(
            "has wrong kind {kind}, expected \"{CACHE_KIND_V1}\""
        ))),
        None if object.contains_key("cniVersion") => Ok(CacheEntry::Legacy(Value::Object(object))),
        None => Err(invalid("is neither a cache entry nor a CNI result".into())),
    }
}

/// A V1 entry in either layout; the error is the detail of what is wrong.
fn parse_v1(object: &Map<String, Value>) -> std::result::Result<CachedAttachment, String> {
    // Go writes `containerId`; ocicni-era readers and writers use `containerID`.
    let container_key = if object.contains_key("containerId") {
        "containerId"
    } else {
        "containerID"
    };
    Ok(CachedAttachment {
        container_id: optional_string(object, container_key)?.unwrap_or_default(),
        network_name: optional_string(object, "networkName")?.unwrap_or_default(),
        if_name: optional_string(object, "ifName")?.unwrap_or_default(),
        netns: optional_string(object, "netns")?,
        config: parse_config(object)?.into(),
        cni_args: parse_cni_args(object)?,
        capability_args: parse_capability_args(object)?,
        result: parse_result(object)?,
    })
}

/// The value of `key` unless it is absent or `null`.
fn present<'a>(object: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|v| !v.is_null())
}

fn optional_string(
    object: &Map<String, Value>,
    key: &str,
) -> std::result::Result<Option<String>, String> {
    match present(object, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("key {key:?} must be a string")),
    }
}

/// iSulad stores the list text as is, Go stores base64 of the bytes. A network list's text starts with '{', which
/// is not in the base64 alphabet, so the two cannot be confused.
fn parse_config(object: &Map<String, Value>) -> std::result::Result<String, String> {
    let Some(text) = optional_string(object, "config")? else {
        return Ok(String::new());
    };
    if text.trim_start().starts_with('{') {
        return Ok(text);
    }
    let bytes = BASE64
        .decode(&text)
        .map_err(|e| format!("key \"config\" is neither JSON text nor base64: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "key \"config\" does not decode to UTF-8 text".to_string())
}

/// Go's ordered `cniArgs` pairs win over iSulad's `cni_args` map.
fn parse_cni_args(
    object: &Map<String, Value>,
) -> std::result::Result<Vec<(String, String)>, String> {
    if let Some(pairs) = present(object, "cniArgs") {
        let bad = || "key \"cniArgs\" must be an array of [key, value] string pairs".to_string();
        return pairs
            .as_array()
            .ok_or_else(bad)?
            .iter()
            .map(|pair| string_pair(pair).ok_or_else(bad))
            .collect();
    }
    let Some(map) = present(object, "cni_args") else {
        return Ok(Vec::new());
    };
    let bad = || "key \"cni_args\" must be an object of strings".to_string();
    map.as_object()
        .ok_or_else(bad)?
        .iter()
        .map(|(key, value)| {
            value
                .as_str()
                .map(|v| (key.clone(), v.to_string()))
                .ok_or_else(bad)
        })
        .collect()
}

fn string_pair(pair: &Value) -> Option<(String, String)> {
    match pair.as_array()?.as_slice() {
        [Value::String(key), Value::String(value)] => Some((key.clone(), value.clone())),
        _ => None,
    }
}

/// Go's full `capabilityArgs` map, else whatever iSulad's per-capability keys hold.
fn parse_capability_args(
    object: &Map<String, Value>,
) -> std::result::Result<Map<String, Value>, String> {
    if let Some(args) = present(object, "capabilityArgs") {
        return args
            .as_object()
            .cloned()
            .ok_or_else(|| "key \"capabilityArgs\" must be an object".to_string());
    }
    Ok(ISULAD_CAPABILITY_KEYS
        .iter()
        .filter_map(|(key, _)| present(object, key).map(|v| ((*key).to_string(), v.clone())))
        .collect())
}

fn parse_result(object: &Map<String, Value>) -> std::result::Result<Option<CachedResult>, String> {
    match present(object, "result") {
        None => Ok(None),
        Some(result @ Value::Object(_)) => Ok(Some(CachedResult::Json(result.clone()))),
        Some(_) => Err("key \"result\" must be an object".to_string()),
    }
}
