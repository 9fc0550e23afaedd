//! What the fuzz targets run, one function per target. `tests/fuzz_corpus_replay.rs` includes this file
//! (`#[path]`), so the corpus replay in the normal test suite runs exactly what the targets run.
//!
//! Every function feeds its input to the library's parsers and panics when a property fails; the parsers
//! themselves must never panic, whatever the input.

use std::fs;
use std::path::Path;

use clibcni::cni::cache::{decode_entry, CacheEntry, CachedResult};
use clibcni::cni::conf::{self, NetworkConfigList, PluginConf, MAX_NETWORK_NAME_LEN};
use clibcni::cni::result::CniResult;
use clibcni::cni::validate;
use clibcni::cni::version::{Family, Version};
use clibcni::network::annotations::{
    capability_args, ALIASES, BANDWIDTH, IP_RANGES, PORT_MAPPINGS,
};
use clibcni::network::types::Annotations;
use serde_json::Value;

/// The fuzz targets; each has `fuzz/corpus/<target>/` and `fuzz/artifacts-regressions/<target>/`.
pub const TARGETS: [&str; 4] = ["conf", "result", "cache", "annotations"];

/// Runs the check of the named target (the replay test's entry point).
pub fn check(target: &str, data: &[u8], scratch: &Path) {
    match target {
        "conf" => check_conf(data, scratch),
        "result" => check_result(data),
        "cache" => check_cache(data),
        "annotations" => check_annotations(data),
        other => panic!("unknown fuzz target {other:?}"),
    }
}

/// Network configuration: a list, a single plugin conf, and both loaded from files (`scratch` is a private
/// directory the files are written to).
pub fn check_conf(data: &[u8], scratch: &Path) {
    if let Ok(list) = NetworkConfigList::from_bytes(data) {
        assert_eq!(
            list.bytes.as_bytes(),
            data,
            "a list keeps its original text"
        );
        let again = NetworkConfigList::from_bytes(list.bytes.as_bytes())
            .expect("a list's own text re-parses");
        assert_eq!(again, list);
        let _ = list.version();
    }
    if let Ok(plugin) = PluginConf::from_bytes(data) {
        assert!(
            !plugin.plugin_type.is_empty(),
            "a plugin conf always has a type"
        );
        let list =
            NetworkConfigList::from_conf(&plugin).expect("a valid plugin conf always makes a list");
        assert_eq!(list.plugins, [plugin], "the list holds the conf unchanged");
    }
    check_conf_files(data, scratch);
}

/// The daemon's way in: one file per extension, then the directory scan.
fn check_conf_files(data: &[u8], scratch: &Path) {
    for name in ["fuzz.conflist", "fuzz.conf", "fuzz.json"] {
        let path = scratch.join(name);
        fs::write(&path, data).expect("write to the scratch directory");
        if let Ok(list) = conf::load_network_file(&path) {
            assert!(
                !list.name.is_empty(),
                "a loaded list is named (after the file if need be)"
            );
            assert!(!list.plugins.is_empty(), "a loaded list has plugins");
        }
    }
    let scan = conf::scan_dir(scratch, &|_| true, &[]).expect("scan of the scratch directory");
    for loaded in &scan.lists {
        let name = &loaded.list.name;
        assert!(
            name.len() <= MAX_NETWORK_NAME_LEN && validate::network_name(name).is_ok(),
            "scan kept {name:?}"
        );
    }
    assert_eq!(
        scan.lists.len() + scan.warnings.len(),
        3,
        "every file is loaded or skipped with a warning"
    );
}

/// Plugin output in every known version; what parses must convert to every version, and each JSON written
/// must parse again in its version and give the same JSON. Conversions that lose nothing must be undone exactly.
pub fn check_result(data: &[u8]) {
    for version in Version::ALL {
        let Ok(result) = CniResult::from_plugin_output(data, version) else {
            continue;
        };
        assert_reencodes(&result);
        assert_lossless_conversions(&result);
        for target in Version::ALL {
            if let Ok(converted) = result.convert_to(target) {
                assert_eq!(converted.cni_version, target);
                assert_reencodes(&converted);
            }
        }
    }
}

/// Converting to the result's own version changes nothing, and a 0.3.0+ result survives a trip to 1.0.0 or
/// 1.1.0 and back (1.1.0 -> 1.0.0 -> 1.1.0 keeps the 1.1.0 fields, as in Go).
fn assert_lossless_conversions(result: &CniResult) {
    let own = result.convert_to(result.cni_version);
    assert_eq!(
        own.as_ref().ok(),
        Some(result),
        "converting to its own version"
    );
    if result.cni_version.family() == Family::V020 {
        return;
    }
    for via in [Version::V1_0_0, Version::V1_1_0] {
        let back = result
            .convert_to(via)
            .and_then(|r| r.convert_to(result.cni_version));
        assert_eq!(
            back.as_ref().ok(),
            Some(result),
            "{} -> {via} -> back",
            result.cni_version
        );
    }
}

/// `to_json` re-parses in the result's own version, and encoding that again changes nothing.
fn assert_reencodes(result: &CniResult) {
    let json = result.to_json();
    let reparsed = CniResult::from_plugin_output(json.as_bytes(), result.cni_version)
        .unwrap_or_else(|e| panic!("{json} does not parse again as {}: {e}", result.cni_version));
    assert_eq!(reparsed.cni_version, result.cni_version, "{json}");
    assert_eq!(reparsed.to_json(), json, "encoding is not stable");
}

/// A cache file's bytes, and what DEL/CHECK do with a decoded entry: parse its config and its result.
pub fn check_cache(data: &[u8]) {
    match decode_entry(data) {
        Ok(CacheEntry::V1(attachment)) => {
            let _ = NetworkConfigList::from_bytes(attachment.config.as_bytes());
            match &attachment.result {
                Some(CachedResult::Json(result)) => {
                    assert!(result.is_object(), "a cached result is an object");
                    let _ = CniResult::from_value(result, Version::V1_0_0);
                }
                Some(CachedResult::Typed(_)) => panic!("a file's result is typed"),
                None => {}
            }
        }
        Ok(CacheEntry::Legacy(result)) => {
            assert!(
                result.get("cniVersion").is_some(),
                "a legacy entry is a result"
            );
            let _ = CniResult::from_value(&result, Version::V0_3_1);
        }
        Err(_) => {}
    }
}

/// Annotations from arbitrary text: the first byte's low 4 bits say which of portMappings, bandwidth,
/// ipRanges and aliases are present; the rest (lossy UTF-8) holds their texts separated by NUL.
pub fn check_annotations(data: &[u8]) {
    let annotations = annotations_from(data);
    let Ok(caps) = capability_args(&annotations) else {
        return;
    };
    assert_eq!(
        capability_args(&annotations).ok(),
        Some(caps.clone()),
        "not deterministic"
    );
    for (key, value) in &caps {
        match key.as_str() {
            PORT_MAPPINGS => value
                .as_array()
                .expect("portMappings is an array")
                .iter()
                .for_each(assert_port_mapping),
            BANDWIDTH => {
                let rates = value.as_object().expect("bandwidth is an object");
                assert!(
                    !rates.is_empty() && rates.values().all(|v| v.as_i64().is_some_and(|n| n > 0)),
                    "{value}"
                );
            }
            IP_RANGES => assert!(
                value.as_array().is_some_and(|sets| !sets.is_empty()),
                "{value}"
            ),
            ALIASES => assert!(value.is_array() || value.is_object(), "{value}"),
            other => panic!("unexpected capability arg {other}"),
        }
    }
}

fn assert_port_mapping(mapping: &Value) {
    let port = |key: &str| {
        mapping
            .get(key)
            .and_then(Value::as_i64)
            .is_some_and(|p| (1..=65535).contains(&p))
    };
    assert!(port("hostPort") && port("containerPort"), "{mapping}");
    let protocol = mapping.get("protocol").and_then(Value::as_str);
    assert!(
        matches!(protocol, Some("tcp" | "udp" | "sctp")),
        "{mapping}"
    );
}

fn annotations_from(data: &[u8]) -> Annotations {
    let Some((&mask, rest)) = data.split_first() else {
        return Annotations::default();
    };
    let text = String::from_utf8_lossy(rest);
    let mut texts = text.split('\0').map(str::to_owned);
    let mut field = |bit: u8| {
        if mask & bit != 0 {
            Some(texts.next().unwrap_or_default())
        } else {
            None
        }
    };
    Annotations {
        port_mappings: field(1),
        bandwidth: field(2),
        ip_ranges: field(4),
        aliases: field(8),
    }
}
