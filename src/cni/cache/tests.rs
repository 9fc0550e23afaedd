//! Tests of the cache store, its file layouts and its disk operations.

use std::fs::{self, Permissions};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde_json::json;

use super::file::{temp_name, MAX_FILE_SIZE};
use super::*;

fn cache() -> (tempfile::TempDir, ResultCache) {
    let tmp = tempfile::tempdir().unwrap();
    let cache = ResultCache::new(tmp.path().join("cni"));
    (tmp, cache)
}

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

fn attachment(network: &str, container: &str, if_name: &str) -> CachedAttachment {
    CachedAttachment {
        container_id: container.into(),
        network_name: network.into(),
        if_name: if_name.into(),
        config: format!(
            r#"{{"cniVersion":"1.0.0","name":"{network}","plugins":[{{"type":"noop"}}]}}"#
        )
        .into(),
        result: Some(CachedResult::Json(json!({"cniVersion": "1.0.0"}))),
        ..CachedAttachment::default()
    }
}

fn write_raw(cache: &ResultCache, name: &str, data: &[u8]) -> PathBuf {
    let results = cache.dir().join("results");
    fs::create_dir_all(&results).unwrap();
    let path = results.join(name);
    fs::write(&path, data).unwrap();
    path
}

fn read_err(cache: &ResultCache, network: &str, container: &str, if_name: &str) -> String {
    cache
        .read(network, container, if_name)
        .unwrap_err()
        .to_string()
}

fn mode(path: &Path) -> u32 {
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

fn dir_names(path: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(path)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn full_entry_round_trips() {
    let (_tmp, cache) = cache();
    let entry = CachedAttachment {
        container_id: "abc-123".into(),
        network_name: "net-1".into(),
        if_name: "eth0".into(),
        netns: Some("/var/run/netns/x".into()),
        config:
            "{\n    \"cniVersion\": \"1.0.0\",\n    \"name\": \"net-1\",\n    \"plugins\": []\n}"
                .into(),
        cni_args: vec![
            ("IgnoreUnknown".into(), "1".into()),
            ("K8S_POD_NAME".into(), "p".into()),
            ("IgnoreUnknown".into(), "0".into()),
        ],
        capability_args: object(json!({
            "portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp", "hostIP": ""}],
            "bandwidth": {"ingressRate": 1000, "ingressBurst": 10, "egressRate": 2000, "egressBurst": 20},
            "ipRanges": [[{"subnet": "10.0.0.0/24", "gateway": "10.0.0.1"}]],
            "dns": {"servers": ["1.1.1.1"], "searches": ["a"], "options": ["ndots:5"]},
            "ips": ["10.0.0.5/24"],
            "mac": "aa:bb:cc:dd:ee:ff",
            "infinibandGUID": "c2:11:22:33:44:55:66:77",
            "deviceID": "0000:04:00.5",
            "aliases": {"net-1": ["web"]},
            "io.kubernetes.cri.pod-annotations": {"a": "b"},
            "big": 123456789012345678901234567890u128
        })),
        result: Some(CachedResult::Json(
            json!({"cniVersion": "1.0.0", "interfaces": [{"name": "eth0"}], "ips": []}),
        )),
    };
    cache.write(&entry).unwrap();
    // Through the writer's memo and through a cache that only has the disk.
    for reader in [cache.clone(), ResultCache::new(cache.dir())] {
        assert_eq!(
            reader.read("net-1", "abc-123", "eth0").unwrap(),
            Some(CacheEntry::V1(entry.clone()))
        );
        assert_eq!(
            reader.attachments(Some("abc-123")).unwrap(),
            vec![entry.clone()]
        );
    }

    // Go-style aliases (an object) do not fit iSulad's string array and are only in capabilityArgs.
    let text = fs::read_to_string(cache.file_path("net-1", "abc-123", "eth0").unwrap()).unwrap();
    let on_disk = object(serde_json::from_str(&text).unwrap());
    let keys: Vec<&str> = on_disk.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "kind",
            "containerId",
            "config",
            "ifName",
            "networkName",
            "netns",
            "cni_args",
            "cniArgs",
            "portMappings",
            "ipRanges",
            "bandwidth",
            "dns",
            "ips",
            "mac",
            "infinibandGUID",
            "deviceID",
            "capabilityArgs",
            "result"
        ]
    );
    assert_eq!(
        on_disk["cni_args"],
        json!({"IgnoreUnknown": "0", "K8S_POD_NAME": "p"})
    );
    assert_eq!(on_disk["config"], Value::String(entry.config.to_string()));
}

#[test]
fn exact_text_of_a_small_entry_and_private_modes() {
    let (_tmp, cache) = cache();
    let mut entry = attachment("mynet", "c1", "eth0");
    entry.config = r#"{"name":"mynet"}"#.into();
    entry.cni_args = vec![("K".into(), "V".into())];
    entry.capability_args =
        object(json!({"portMappings": [{"hostPort": 80, "containerPort": 8080}]}));
    cache.write(&entry).unwrap();
    let path = cache.file_path("mynet", "c1", "eth0").unwrap();
    let expected = r#"{
    "kind": "cniCacheV1",
    "containerId": "c1",
    "config": "{\"name\":\"mynet\"}",
    "ifName": "eth0",
    "networkName": "mynet",
    "cni_args": {
        "K": "V"
    },
    "cniArgs": [
        [
            "K",
            "V"
        ]
    ],
    "portMappings": [
        {
            "hostPort": 80,
            "containerPort": 8080
        }
    ],
    "capabilityArgs": {
        "portMappings": [
            {
                "hostPort": 80,
                "containerPort": 8080
            }
        ]
    },
    "result": {
        "cniVersion": "1.0.0"
    }
}
"#;
    assert_eq!(fs::read_to_string(&path).unwrap(), expected);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(cache.dir()), 0o700);
    assert_eq!(mode(&cache.dir().join("results")), 0o700);

    // Whatever mode an old file had (permissive or restrictive), the rewritten one is 0600.
    for old_mode in [0o666, 0o000] {
        fs::set_permissions(&path, Permissions::from_mode(old_mode)).unwrap();
        cache.write(&entry).unwrap();
        assert_eq!(mode(&path), 0o600);
    }
    assert_eq!(dir_names(&cache.dir().join("results")), ["mynet-c1-eth0"]);
}

#[test]
fn minimal_entry_omits_optional_keys() {
    let (_tmp, cache) = cache();
    let entry = CachedAttachment {
        container_id: "c".into(),
        network_name: "n".into(),
        if_name: "i".into(),
        ..CachedAttachment::default()
    };
    cache.write(&entry).unwrap();
    let text = fs::read_to_string(cache.file_path("n", "c", "i").unwrap()).unwrap();
    assert_eq!(
        text,
        "{\n    \"kind\": \"cniCacheV1\",\n    \"containerId\": \"c\",\n    \"config\": \"\",\n    \"ifName\": \"i\",\n    \
             \"networkName\": \"n\"\n}\n"
    );
    assert_eq!(
        cache.read("n", "c", "i").unwrap(),
        Some(CacheEntry::V1(entry))
    );
}

#[test]
fn capability_args_that_isulad_cannot_parse_stay_out_of_its_keys() {
    let (_tmp, cache) = cache();
    let mut entry = attachment("n", "c", "eth0");
    entry.capability_args = object(json!({
        "portMappings": [{"hostPort": 4294967296u64, "containerPort": 80}],
        "bandwidth": {"ingressRate": 1.5},
        "mac": 12,
        "ips": ["10.0.0.1", 7],
        "ipRanges": [{"subnet": "10.0.0.0/8"}],
        "dns": {"servers": "1.1.1.1"}
    }));
    cache.write(&entry).unwrap();
    let text = fs::read_to_string(cache.file_path("n", "c", "eth0").unwrap()).unwrap();
    let keys: Vec<String> = object(serde_json::from_str(&text).unwrap())
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        keys,
        [
            "kind",
            "containerId",
            "config",
            "ifName",
            "networkName",
            "capabilityArgs",
            "result"
        ]
    );
    assert_eq!(
        cache.read("n", "c", "eth0").unwrap(),
        Some(CacheEntry::V1(entry))
    );
}

#[test]
fn reads_a_go_written_file() {
    let (_tmp, cache) = cache();
    let config = r#"{"cniVersion":"1.0.0","name":"orc","plugins":[{"type":"bridge"}]}"#;
    let go_file = json!({
        "kind": "cniCacheV1",
        "containerId": "ctr1",
        "config": BASE64.encode(config),
        "ifName": "eth0",
        "networkName": "orc",
        "netns": "/run/netns/orcns",
        "cniArgs": [["IgnoreUnknown", "1"], ["K8S_POD_NAME", "p"], ["IgnoreUnknown", "2"]],
        "capabilityArgs": {"portMappings": [], "custom": {"x": 1}},
        "result": {"cniVersion": "1.0.0", "interfaces": [{"name": "eth0"}], "ips": []}
    });
    write_raw(&cache, "orc-ctr1-eth0", go_file.to_string().as_bytes());
    let expected = CachedAttachment {
        container_id: "ctr1".into(),
        network_name: "orc".into(),
        if_name: "eth0".into(),
        netns: Some("/run/netns/orcns".into()),
        config: config.into(),
        cni_args: vec![
            ("IgnoreUnknown".into(), "1".into()),
            ("K8S_POD_NAME".into(), "p".into()),
            ("IgnoreUnknown".into(), "2".into()),
        ],
        capability_args: object(json!({"portMappings": [], "custom": {"x": 1}})),
        result: Some(CachedResult::Json(
            json!({"cniVersion": "1.0.0", "interfaces": [{"name": "eth0"}], "ips": []}),
        )),
    };
    assert_eq!(
        cache.read("orc", "ctr1", "eth0").unwrap(),
        Some(CacheEntry::V1(expected.clone()))
    );

    // ocicni spells it containerID; both cniArgs and cni_args present: cniArgs wins.
    let mut other = object(go_file);
    other.remove("containerId");
    other.insert("containerID".into(), "ctr1".into());
    other.insert("cni_args".into(), json!({"X": "y"}));
    write_raw(
        &cache,
        "orc-ctr1-eth0",
        Value::Object(other).to_string().as_bytes(),
    );
    assert_eq!(
        cache.read("orc", "ctr1", "eth0").unwrap(),
        Some(CacheEntry::V1(expected))
    );
}

#[test]
fn reads_the_isulad_fixture_shape() {
    let (_tmp, cache) = cache();
    let config =
        "{\n    \"cniVersion\": \"1.0.0\",\n    \"name\": \"mynet1\",\n    \"plugins\": [\n        {\n            \
                      \"type\": \"bridge\",\n            \"bridge\": \"isula-br2\"\n        }\n    ]\n}";
    let result = json!({
        "cniVersion": "1.0.0",
        "interfaces": [{"name": "isula-br2", "mac": "6a:52:87:a4:79:c4"}],
        "ips": [{"interface": 2, "address": "192.168.2.2/24", "gateway": "192.168.2.1"}],
        "routes": [{"dst": "0.0.0.0/0"}],
        "dns": {}
    });
    let isulad_file = json!({
        "kind": "cniCacheV1",
        "containerId": "4a7a1f1d0ab9b3fd4f4a7bde0e8aeb1b3d4aa4e9ea66bd7a0fd0b5a8f7d5c3b2",
        "config": config,
        "ifName": "eth0",
        "networkName": "mynet1",
        "cni_args": {"IgnoreUnknown": "1", "K8S_POD_NAMESPACE": "default"},
        "portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}],
        "aliases": ["web", "db"],
        "result": result
    });
    let id = "4a7a1f1d0ab9b3fd4f4a7bde0e8aeb1b3d4aa4e9ea66bd7a0fd0b5a8f7d5c3b2";
    let mut text = serde_json::to_string_pretty(&isulad_file).unwrap();
    text.push('\n');
    write_raw(&cache, &format!("mynet1-{id}-eth0"), text.as_bytes());
    let expected = CachedAttachment {
        container_id: id.into(),
        network_name: "mynet1".into(),
        if_name: "eth0".into(),
        netns: None,
        config: config.into(),
        cni_args: vec![
            ("IgnoreUnknown".into(), "1".into()),
            ("K8S_POD_NAMESPACE".into(), "default".into()),
        ],
        capability_args: object(json!({
            "portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}],
            "aliases": ["web", "db"]
        })),
        result: Some(CachedResult::Json(result)),
    };
    assert_eq!(
        cache.read("mynet1", id, "eth0").unwrap(),
        Some(CacheEntry::V1(expected))
    );
}

#[test]
fn reads_a_legacy_result_only_file() {
    let (_tmp, cache) = cache();
    let legacy =
        json!({"cniVersion": "0.3.1", "ips": [{"version": "4", "address": "10.1.0.5/16"}]});
    write_raw(&cache, "net-c-eth0", legacy.to_string().as_bytes());
    assert_eq!(
        cache.read("net", "c", "eth0").unwrap(),
        Some(CacheEntry::Legacy(legacy))
    );
    assert!(cache.attachments(None).unwrap().is_empty());
}

#[test]
fn missing_directory_and_file() {
    let (_tmp, cache) = cache();
    assert_eq!(cache.read("n", "c", "i").unwrap(), None);
    assert!(cache.attachments(None).unwrap().is_empty());
    assert!(cache.attachments(Some("c")).unwrap().is_empty());
    cache.remove("n", "c", "i").unwrap();
    cache.write(&attachment("n", "c", "i")).unwrap();
    cache.remove("n", "c", "i").unwrap();
    assert_eq!(cache.read("n", "c", "i").unwrap(), None);
    cache.remove("n", "c", "i").unwrap();
}

#[test]
fn unsafe_names_are_rejected_and_nothing_is_created() {
    let (_tmp, cache) = cache();
    assert_eq!(
        cache.file_path("", "c1", "eth0").unwrap_err().to_string(),
        r#"cache file path requires network name (""), container ID ("c1"), and interface name ("eth0")"#
    );
    assert_eq!(
        cache
            .file_path("net", "..", "eth0")
            .unwrap_err()
            .to_string(),
        r#"invalid container ID ".." for a cache file name: must not contain '/' or NUL nor be "." or "..""#
    );
    let bad = [
        ("", "c", "i"),
        ("n", "", "i"),
        ("n", "c", ""),
        ("..", "c", "i"),
        (".", "c", "i"),
        ("n", ".", "i"),
        ("n", "c", ".."),
        ("../../etc", "c", "i"),
        ("n", "a/b", "i"),
        ("n", "c", "eth0/../../x"),
        ("n\0", "c", "i"),
    ];
    for (network, container, if_name) in bad {
        assert!(matches!(
            cache.file_path(network, container, if_name),
            Err(Error::Cache(_))
        ));
        assert!(cache
            .write(&attachment(network, container, if_name))
            .is_err());
        assert!(cache.read(network, container, if_name).is_err());
        assert!(cache.remove(network, container, if_name).is_err());
    }
    assert!(!cache.dir().exists());
}

#[test]
fn attachments_match_containers_on_content() {
    let (_tmp, cache) = cache();
    // Both files are named like "a-b-c-eth*", so only the JSON tells them apart.
    let first = attachment("a", "b-c", "eth0");
    let second = attachment("a-b", "c", "eth1");
    let third = attachment("net", "c", "eth0");
    let other = attachment("c", "d", "c");
    for entry in [&first, &second, &third, &other] {
        cache.write(entry).unwrap();
    }
    assert_eq!(cache.attachments(Some("b-c")).unwrap(), vec![first.clone()]);
    assert_eq!(
        cache.attachments(Some("c")).unwrap(),
        vec![second.clone(), third.clone()]
    );
    assert_eq!(cache.attachments(Some("zzz")).unwrap(), vec![]);
    assert_eq!(
        cache.attachments(Some("")).unwrap(),
        cache.attachments(None).unwrap()
    );
    assert_eq!(cache.network_attachments("a").unwrap(), vec![first.clone()]);
    assert_eq!(
        cache.network_attachments("a-b").unwrap(),
        vec![second.clone()]
    );
    assert_eq!(cache.network_attachments("b").unwrap(), vec![]);
    assert_eq!(
        cache.attachments(None).unwrap(),
        vec![first, second, other, third]
    );
    assert!(name_may_hold_container("n-c-i", "c"));
    assert!(!name_may_hold_container("-c-i", "c"));
    assert!(!name_may_hold_container("n-c-", "c"));
}

/// A network's listing reads only files named after it: an entry of the network under another name is not its.
#[test]
fn network_attachments_read_only_files_named_after_the_network() {
    let (_tmp, cache) = cache();
    let own = attachment("net", "c1", "eth0");
    cache.write(&own).unwrap();
    let text = fs::read(cache.file_path("net", "c1", "eth0").unwrap()).unwrap();
    write_raw(&cache, "other-c1-eth0", &text);
    assert_eq!(cache.attachments(None).unwrap().len(), 2);
    assert_eq!(cache.network_attachments("net").unwrap(), vec![own]);
    assert!(name_may_hold_network("net-c-i", "net"));
    assert!(!name_may_hold_network("net-", "net"));
    assert!(!name_may_hold_network("netc-i", "net"));
    assert!(!name_may_hold_network("ne", "net"));
}

#[test]
fn attachments_skip_invalid_foreign_and_temp_files() {
    let (_tmp, cache) = cache();
    let good = attachment("net", "c1", "eth0");
    cache.write(&good).unwrap();
    let valid_text = fs::read(cache.file_path("net", "c1", "eth0").unwrap()).unwrap();
    write_raw(&cache, "net-c1-eth1", b"");
    write_raw(&cache, "net-c1-eth2", &valid_text[..valid_text.len() / 2]);
    write_raw(&cache, "net-c1-eth3", b"\xff\xfe{}");
    write_raw(
        &cache,
        "net-c1-eth4",
        br#"{"kind":"cniCacheV2","containerId":"c1"}"#,
    );
    write_raw(&cache, "net-c1-eth5", br#"{"cniVersion":"0.4.0"}"#);
    write_raw(
        &cache,
        "net-c1-eth6",
        br#"{"kind":"cniCacheV1","containerId":"c1","networkName":"net"}"#,
    );
    write_raw(
        &cache,
        "net-c1-eth7",
        br#"{"kind":"cniCacheV1","containerId":"c1","cniArgs":"x"}"#,
    );
    write_raw(&cache, "net-c1-eth8", b"[1,2]");
    write_raw(&cache, ".cnicache-1-1-0.tmp", &valid_text);
    fs::create_dir(cache.dir().join("results/net-c1-eth9")).unwrap();
    assert_eq!(cache.attachments(Some("c1")).unwrap(), vec![good.clone()]);
    assert_eq!(cache.attachments(None).unwrap(), vec![good]);
}

#[test]
fn abandoned_temp_files_of_gone_writers_are_removed() {
    let (_tmp, cache) = cache();
    let good = attachment("net", "c1", "eth0");
    cache.write(&good).unwrap();
    let own = format!(".cnicache-{}-1-0.tmp", std::process::id());
    // 99999999 is above any pid_max: no such process.
    for name in [
        ".cnicache-99999999-7-3.tmp",
        own.as_str(),
        ".cnicache-x-1-0.tmp",
        "net-99999999",
    ] {
        write_raw(&cache, name, b"{");
    }
    assert_eq!(cache.remove_abandoned_temps(), Vec::<String>::new());
    let mut left: Vec<String> = fs::read_dir(cache.dir().join("results"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    let mut expected = [
        ".cnicache-x-1-0.tmp",
        own.as_str(),
        "net-99999999",
        "net-c1-eth0",
    ];
    expected.sort();
    assert_eq!(left, expected);
    assert_eq!(temp_writer(&temp_name()), Some(std::process::id() as i32));
}

#[test]
fn malformed_files_give_clear_errors() {
    let (_tmp, cache) = cache();
    let path = |i: &str| cache.file_path("n", "c", i).unwrap();
    let cases: [(&str, &[u8], String); 12] = [
        ("e0", b"", format!("cache file {:?} is empty", path("e0"))),
        (
            "e1",
            b"{\"kind\": \"cniCacheV1\", \"con",
            format!(
                "cache file {:?} is not valid JSON: EOF while parsing a string at line 1 column 27",
                path("e1")
            ),
        ),
        (
            "e2",
            b"{\"a\": \"\xff\"}",
            format!(
                "cache file {:?} is not valid UTF-8: invalid utf-8 sequence of 1 bytes from index 7",
                path("e2")
            ),
        ),
        (
            "e3",
            br#"{"kind": "other"}"#,
            format!("cache file {:?} has wrong kind \"other\", expected \"cniCacheV1\"", path("e3")),
        ),
        ("e4", b"{}", format!("cache file {:?} is neither a cache entry nor a CNI result", path("e4"))),
        ("e5", b"\"x\"", format!("cache file {:?} is neither a cache entry nor a CNI result", path("e5"))),
        (
            "e6",
            br#"{"kind":"cniCacheV1","cniArgs":[["a","b","c"]]}"#,
            format!(
                "cache file {:?} is invalid: key \"cniArgs\" must be an array of [key, value] string pairs",
                path("e6")
            ),
        ),
        (
            "e7",
            br#"{"kind":"cniCacheV1","cni_args":{"a":1}}"#,
            format!("cache file {:?} is invalid: key \"cni_args\" must be an object of strings", path("e7")),
        ),
        (
            "e8",
            br#"{"kind":"cniCacheV1","config":"not base64!"}"#,
            format!(
                "cache file {:?} is invalid: key \"config\" is neither JSON text nor base64: Invalid symbol 32, \
                     offset 3.",
                path("e8")
            ),
        ),
        (
            "e9",
            br#"{"kind":"cniCacheV1","config":"/w=="}"#,
            format!("cache file {:?} is invalid: key \"config\" does not decode to UTF-8 text", path("e9")),
        ),
        (
            "ea",
            br#"{"kind":"cniCacheV1","ifName":["eth0"]}"#,
            format!("cache file {:?} is invalid: key \"ifName\" must be a string", path("ea")),
        ),
        (
            "eb",
            br#"{"kind":"cniCacheV1","capabilityArgs":[],"result":{}}"#,
            format!("cache file {:?} is invalid: key \"capabilityArgs\" must be an object", path("eb")),
        ),
    ];
    for (if_name, data, message) in cases {
        write_raw(&cache, &format!("n-c-{if_name}"), data);
        let err = cache.read("n", "c", if_name).unwrap_err();
        assert!(matches!(err, Error::Cache(_)));
        assert_eq!(err.to_string(), message);
    }
    write_raw(&cache, "n-c-ec", br#"{"kind":"cniCacheV1","result":[]}"#);
    assert_eq!(
        read_err(&cache, "n", "c", "ec"),
        format!(
            "cache file {:?} is invalid: key \"result\" must be an object",
            path("ec")
        )
    );
    write_raw(&cache, "n-c-ed", br#"{"kind":5}"#);
    assert_eq!(
        read_err(&cache, "n", "c", "ed"),
        format!(
            "cache file {:?} has wrong kind 5, expected \"cniCacheV1\"",
            path("ed")
        )
    );
}

#[test]
fn directories_fifos_and_huge_files_are_refused() {
    let (_tmp, cache) = cache();
    fs::create_dir_all(cache.file_path("n", "c", "dir").unwrap()).unwrap();
    assert_eq!(
        read_err(&cache, "n", "c", "dir"),
        format!(
            "cache file {:?} is not a regular file",
            cache.file_path("n", "c", "dir").unwrap()
        )
    );
    let fifo = cache.file_path("n", "c", "fifo").unwrap();
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
    assert_eq!(
        read_err(&cache, "n", "c", "fifo"),
        format!("cache file {fifo:?} is not a regular file")
    );
    let huge = cache.file_path("n", "c", "huge").unwrap();
    fs::File::create(&huge)
        .unwrap()
        .set_len(MAX_FILE_SIZE + 1)
        .unwrap();
    assert_eq!(
        read_err(&cache, "n", "c", "huge"),
        format!("cache file {huge:?} is larger than 16777216 bytes")
    );
    let not_dir = ResultCache::new(huge.clone());
    assert!(read_err(&not_dir, "n", "c", "i").starts_with("failed to read cache file"));
    assert_eq!(cache.attachments(None).unwrap(), vec![]);
}

#[test]
fn failed_write_leaves_no_temp_file() {
    let (_tmp, cache) = cache();
    // A non-empty directory at the file path makes the rename fail.
    let path = cache.file_path("n", "c", "eth0").unwrap();
    fs::create_dir_all(path.join("x")).unwrap();
    let err = cache.write(&attachment("n", "c", "eth0")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with(&format!("failed to write cache file {path:?}: ")),
        "{err}"
    );
    assert_eq!(dir_names(&cache.dir().join("results")), ["n-c-eth0"]);
    // The cache root is a regular file: the directory cannot be created.
    let file_root = ResultCache::new(path.join("x"));
    fs::remove_dir(path.join("x")).unwrap();
    fs::write(path.join("x"), b"").unwrap();
    let err = file_root.write(&attachment("n", "c", "eth0")).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("failed to create cache directory"),
        "{err}"
    );
}

#[test]
fn concurrent_writers_never_tear_the_file() {
    let (_tmp, cache) = cache();
    let cache = Arc::new(cache);
    let entries: Vec<CachedAttachment> = (0..8)
        .map(|i| {
            let mut entry = attachment("net", "ctr", "eth0");
            entry.cni_args = vec![("writer".into(), i.to_string())];
            entry.capability_args = object(json!({"payload": "x".repeat(20_000 * (i + 1))}));
            entry
        })
        .collect();
    let threads: Vec<_> = entries
        .iter()
        .cloned()
        .map(|entry| {
            let cache = Arc::clone(&cache);
            std::thread::spawn(move || {
                for _ in 0..20 {
                    cache.write(&entry).unwrap();
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    match cache.read("net", "ctr", "eth0").unwrap() {
        Some(CacheEntry::V1(found)) => assert!(entries.contains(&found)),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(dir_names(&cache.dir().join("results")), ["net-ctr-eth0"]);
}

/// The entry a cache that has never seen the file decodes from the disk.
fn from_disk(
    cache: &ResultCache,
    network: &str,
    container: &str,
    if_name: &str,
) -> Option<CacheEntry> {
    ResultCache::new(cache.dir())
        .read(network, container, if_name)
        .unwrap()
}

#[test]
fn memo_answers_only_for_the_file_it_wrote() {
    let (_tmp, cache) = cache();
    let first = attachment("net", "c1", "eth0");
    cache.write(&first).unwrap();
    let path = cache.file_path("net", "c1", "eth0").unwrap();
    assert_eq!(cache.memo.len(), 1);
    assert_eq!(
        cache.read("net", "c1", "eth0").unwrap(),
        Some(CacheEntry::V1(first.clone()))
    );
    // Shared, not copied.
    let shared = || match cache.find("net", "c1", "eth0").unwrap() {
        Some(Found::Written(entry)) => entry,
        other => panic!("not the memo's entry: {other:?}"),
    };
    assert!(Arc::ptr_eq(&shared(), &shared()));
    assert_eq!(*shared(), first);

    // Rewritten in place by someone else (same inode, same size): the disk's content wins.
    let mut second = first.clone();
    second.result = Some(CachedResult::Json(json!({"cniVersion": "1.0.1"})));
    let other = ResultCache::new(cache.dir());
    let scratch = tempfile::tempdir().unwrap();
    let elsewhere = ResultCache::new(scratch.path());
    elsewhere.write(&second).unwrap();
    let bytes = fs::read(elsewhere.file_path("net", "c1", "eth0").unwrap()).unwrap();
    assert_eq!(bytes.len() as u64, fs::metadata(&path).unwrap().len());
    let ino = fs::metadata(&path).unwrap().ino();
    // Past the coarse timestamp granularity of file systems without fine-grained change times (see memo).
    std::thread::sleep(std::time::Duration::from_millis(20));
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .write_all(&bytes)
        .unwrap();
    assert_eq!(fs::metadata(&path).unwrap().ino(), ino);
    assert_eq!(
        cache.find("net", "c1", "eth0").unwrap(),
        Some(Found::File(CacheEntry::V1(second.clone())))
    );
    assert_eq!(cache.memo.len(), 0, "a stale entry is dropped");

    // Written by another cache of the same directory (a rename over the file): the disk's content again.
    cache.write(&first).unwrap();
    other.write(&second).unwrap();
    assert_eq!(
        cache.read("net", "c1", "eth0").unwrap(),
        Some(CacheEntry::V1(second.clone()))
    );
    assert_eq!(cache.attachments(None).unwrap(), vec![second.clone()]);

    // Removed behind its back: gone.
    cache.write(&first).unwrap();
    fs::remove_file(&path).unwrap();
    assert_eq!(cache.read("net", "c1", "eth0").unwrap(), None);
    assert_eq!(cache.memo.len(), 0);

    // Removed through it: gone, and forgotten.
    cache.write(&first).unwrap();
    cache.remove("net", "c1", "eth0").unwrap();
    assert_eq!(cache.memo.len(), 0);
    assert_eq!(from_disk(&cache, "net", "c1", "eth0"), None);
}

#[test]
fn memo_entries_equal_what_the_disk_decodes() {
    let (_tmp, cache) = cache();
    let mut entry = attachment("net", "c2", "eth1");
    entry.netns = Some("/run/netns/x".into());
    entry.cni_args = vec![("K".into(), "v".into())];
    entry.capability_args =
        object(json!({"portMappings": [{"hostPort": 1, "containerPort": 2, "protocol": "udp"}]}));
    cache.write(&entry).unwrap();
    assert_eq!(
        cache.read("net", "c2", "eth1").unwrap(),
        from_disk(&cache, "net", "c2", "eth1")
    );
}
