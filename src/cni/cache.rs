//! The on-disk result cache: one JSON file per attachment in `<dir>/results/<network>-<container>-<ifname>`.
//!
//! Files are written in iSulad's `cni_cached_info` layout (so iSulad's C parser reads them) plus Go libcni's
//! `cniArgs`/`capabilityArgs`/`netns` keys (so DEL can replay exactly). Reading accepts iSulad's layout, Go libcni's
//! layout (base64 `config`) and the legacy result-only files of libcni ≤ 0.7.

use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::Serialize;
use serde_json::ser::PrettyFormatter;
use serde_json::{Map, Value};

use crate::cni::abandoned;
use crate::cni::error::{Error, Result};
use crate::cni::log::{log, Context, Level};

/// The `kind` of every cache file that is not a legacy result-only file.
pub const CACHE_KIND_V1: &str = "cniCacheV1";

const RESULTS_DIR: &str = "results";
/// Cache files are a few KiB; anything this big is not ours and is not worth reading into memory.
const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;
/// Temp files of in-flight (or interrupted) writes: `.cnicache-<pid>-<tid>-<n>.tmp`. A fixed-length name keeps
/// long cache file names from exceeding NAME_MAX, and the leading dot keeps them apart from real entries.
const TEMP_PREFIX: &str = ".cnicache-";
const TEMP_SUFFIX: &str = ".tmp";

/// One attachment as recorded after a successful ADD: everything DEL/CHECK need to replay the call.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CachedAttachment {
    pub container_id: String,
    pub network_name: String,
    pub if_name: String,
    pub netns: Option<String>,
    /// The network list's bytes (text).
    pub config: String,
    /// CNI_ARGS pairs, in order.
    pub cni_args: Vec<(String, String)>,
    /// Every capability arg used at ADD (portMappings, bandwidth, ipRanges, dns, aliases, mac, ips, …).
    pub capability_args: Map<String, Value>,
    /// The final ADD result (JSON).
    pub result: Option<Value>,
}

/// What a cache file holds.
// The public API fixes the variants; entries are read one at a time, so the size difference does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum CacheEntry {
    V1(CachedAttachment),
    /// Old result-only file (libcni ≤ 0.7): the whole file is the result.
    Legacy(Value),
}

/// The result cache rooted at one directory.
#[derive(Clone, Debug)]
pub struct ResultCache {
    dir: PathBuf,
}

impl ResultCache {
    /// `dir` is the cache root; files live in `<dir>/results/`.
    pub fn new(dir: impl Into<PathBuf>) -> ResultCache {
        ResultCache { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `<dir>/results/<network>-<container_id>-<if_name>`. Every part must be non-empty and a harmless file name
    /// component, so nothing is ever read, written or removed outside `results/`.
    pub fn file_path(&self, network: &str, container_id: &str, if_name: &str) -> Result<PathBuf> {
        if network.is_empty() || container_id.is_empty() || if_name.is_empty() {
            return Err(Error::cache(format!(
                "cache file path requires network name ({network:?}), container ID ({container_id:?}), \
                 and interface name ({if_name:?})"
            )));
        }
        for (what, part) in [
            ("network name", network),
            ("container ID", container_id),
            ("interface name", if_name),
        ] {
            if part == "." || part == ".." || part.contains(['/', '\0']) {
                return Err(Error::cache(format!(
                    "invalid {what} {part:?} for a cache file name: must not contain '/' or NUL nor be \".\" or \"..\""
                )));
            }
        }
        Ok(self
            .results_dir()
            .join(format!("{network}-{container_id}-{if_name}")))
    }

    /// Writes the entry atomically (temp file, rename), so readers, concurrent writers and a killed process never
    /// leave a torn or empty file; the file is 0600 whatever the umask.
    ///
    /// Nothing is fsynced. The entry describes kernel state (the netns, its links, iptables rules) that a power
    /// loss or kernel crash destroys as well, and after one a missing or empty entry only makes DEL run without
    /// the cached prevResult and args, which DEL tolerates (plugins' DEL is idempotent). A process crash cannot
    /// lose a renamed file. Syncing the file and the directory cost ~8 ms per ADD on the benchmark machine's
    /// ext4 disk, more than the whole library otherwise spends on an operation (README, Benchmarks). Go libcni
    /// does not sync its cache either.
    pub fn write(&self, entry: &CachedAttachment) -> Result<()> {
        let path = self.file_path(&entry.network_name, &entry.container_id, &entry.if_name)?;
        let data = encode(entry)?;
        let results = self.results_dir();
        // The directory exists but for the very first write: create it only when the temp file cannot be created
        // for want of it (then a cache root that is not a directory is reported as such).
        let written = match write_atomically(&results, &path, &data) {
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) =>
            {
                create_private_dir(&results)?;
                write_atomically(&results, &path, &data)
            }
            written => written,
        };
        written.map_err(|e| Error::cache(format!("failed to write cache file {path:?}: {e}")))
    }

    /// `Ok(None)` when there is no file; any unreadable or malformed file is an `Error::Cache` (DEL may tolerate it).
    pub fn read(
        &self,
        network: &str,
        container_id: &str,
        if_name: &str,
    ) -> Result<Option<CacheEntry>> {
        let path = self.file_path(network, container_id, if_name)?;
        read_entry(&path)
    }

    /// Removes the entry; a missing file is fine.
    pub fn remove(&self, network: &str, container_id: &str, if_name: &str) -> Result<()> {
        let path = self.file_path(network, container_id, if_name)?;
        match fs::remove_file(&path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::cache(format!(
                "failed to remove cache file {path:?}: {e}"
            ))),
            _ => Ok(()),
        }
    }

    /// Every valid V1 attachment (sorted by file name), optionally only those of one container. File names are
    /// ambiguous when names contain '-', so the container is matched on the JSON content; the name test only
    /// avoids reading files that cannot match. Invalid, legacy and foreign files are skipped.
    pub fn attachments(&self, container_id: Option<&str>) -> Result<Vec<CachedAttachment>> {
        let container_id = container_id.filter(|id| !id.is_empty());
        let results = self.results_dir();
        let attachments = self
            .entry_names()?
            .into_iter()
            .filter(|name| container_id.is_none_or(|id| name_may_hold_container(name, id)))
            .filter_map(|name| match read_entry(&results.join(&name)) {
                Ok(Some(CacheEntry::V1(attachment))) => Some(attachment),
                Ok(_) => None,
                Err(e) => {
                    log!(
                        Level::Warn,
                        Context::default(),
                        "skipping unreadable cache entry {name}: {e}"
                    );
                    None
                }
            })
            .filter(|a| !a.network_name.is_empty() && !a.if_name.is_empty())
            .filter(|a| container_id.is_none_or(|id| a.container_id == id))
            .collect();
        Ok(attachments)
    }

    fn results_dir(&self) -> PathBuf {
        self.dir.join(RESULTS_DIR)
    }

    /// Sorted names in `results/`, without temp files; a missing directory has none.
    fn entry_names(&self) -> Result<Vec<String>> {
        let results = self.results_dir();
        let list_error =
            |e: io::Error| Error::cache(format!("failed to list cache directory {results:?}: {e}"));
        let dir = match fs::read_dir(&results) {
            Ok(dir) => dir,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(list_error(e)),
        };
        let mut names = Vec::new();
        for item in dir {
            let item = item.map_err(list_error)?;
            // Names we write are always UTF-8; anything else is foreign.
            if let Ok(name) = item.file_name().into_string() {
                if temp_middle(&name).is_none() {
                    names.push(name);
                }
            }
        }
        names.sort();
        Ok(names)
    }

    /// Removes the temp files that writers killed mid-write left in `results/` (see [`abandoned`]); returns what
    /// could not be removed.
    pub fn remove_abandoned_temps(&self) -> Vec<String> {
        abandoned::remove_abandoned_temps(&self.results_dir(), &temp_writer)
    }
}

/// `<pid>-<tid>-<n>` of a temp file name made by `temp_name`; None for any other name.
fn temp_middle(name: &str) -> Option<&str> {
    name.strip_prefix(TEMP_PREFIX)?.strip_suffix(TEMP_SUFFIX)
}

/// The writer's pid of a temp file name made by `temp_name`.
fn temp_writer(name: &str) -> Option<i32> {
    temp_middle(name)?.split('-').next()?.parse().ok()
}

/// Whether `<network>-<id>-<ifname>` could be this file name (Go's prefilter): `-<id>-` with something before it
/// and something after it.
fn name_may_hold_container(name: &str, id: &str) -> bool {
    let needle = format!("-{id}-");
    name.match_indices(&needle)
        .any(|(at, _)| at > 0 && at + needle.len() < name.len())
}

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
fn encode(entry: &CachedAttachment) -> Result<Vec<u8>> {
    let mut doc = Map::new();
    doc.insert("kind".into(), CACHE_KIND_V1.into());
    doc.insert("containerId".into(), entry.container_id.as_str().into());
    doc.insert("config".into(), entry.config.as_str().into());
    doc.insert("ifName".into(), entry.if_name.as_str().into());
    doc.insert("networkName".into(), entry.network_name.as_str().into());
    if let Some(netns) = &entry.netns {
        doc.insert("netns".into(), netns.as_str().into());
    }
    if !entry.cni_args.is_empty() {
        // iSulad's map keeps one value per key; `cniArgs` keeps every pair in order.
        let map: Map<String, Value> = entry
            .cni_args
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().into()))
            .collect();
        let pairs = entry
            .cni_args
            .iter()
            .map(|(k, v)| Value::from(vec![k.as_str(), v.as_str()]))
            .collect();
        doc.insert("cni_args".into(), Value::Object(map));
        doc.insert("cniArgs".into(), Value::Array(pairs));
    }
    for (key, shape) in &ISULAD_CAPABILITY_KEYS {
        if let Some(value) = entry.capability_args.get(*key).filter(|v| shape.fits(v)) {
            doc.insert((*key).into(), value.clone());
        }
    }
    if !entry.capability_args.is_empty() {
        doc.insert(
            "capabilityArgs".into(),
            Value::Object(entry.capability_args.clone()),
        );
    }
    if let Some(result) = &entry.result {
        doc.insert("result".into(), result.clone());
    }
    let mut text = Vec::new();
    let mut serializer =
        serde_json::Serializer::with_formatter(&mut text, PrettyFormatter::with_indent(b"    "));
    Value::Object(doc)
        .serialize(&mut serializer)
        .map_err(|e| Error::cache(format!("failed to encode cache entry: {e}")))?;
    text.push(b'\n');
    Ok(text)
}

/// Creates `dir` (and missing parents) as 0700; an existing one is fine.
fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    // Every directory created here gets 0700 whatever the umask: note them before creating.
    let missing: Vec<&Path> = dir
        .ancestors()
        .take_while(|d| !d.as_os_str().is_empty() && !d.exists())
        .collect();
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| Error::cache(format!("failed to create cache directory {dir:?}: {e}")))?;
    for created in missing {
        fs::set_permissions(created, fs::Permissions::from_mode(0o700)).map_err(|e| {
            Error::cache(format!(
                "failed to set the mode of cache directory {created:?}: {e}"
            ))
        })?;
    }
    Ok(())
}

/// Temp file in `dir`, rename over `path`; the temp file is removed on failure.
fn write_atomically(dir: &Path, path: &Path, data: &[u8]) -> io::Result<()> {
    let temp = dir.join(temp_name());
    let written = write_private(&temp, data).and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        // Best effort: the write already failed and that is the error worth reporting.
        let _ = fs::remove_file(&temp);
    }
    written
}

/// Unique among live threads of live processes. A stale file of a dead process may carry the same name (pid reuse
/// after a crash), which is why the temp file is truncated rather than created exclusively.
fn temp_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{TEMP_PREFIX}{}-{}-{n}{TEMP_SUFFIX}",
        std::process::id(),
        nix::unistd::gettid()
    )
}

fn write_private(path: &Path, data: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    // The umask may have cleared bits of the creation mode; a stale file may have any mode.
    file.set_permissions(Permissions::from_mode(0o600))?;
    file.write_all(data)
}

fn read_entry(path: &Path) -> Result<Option<CacheEntry>> {
    match read_bytes(path)? {
        Some(bytes) => decode(path, &bytes).map(Some),
        None => Ok(None),
    }
}

/// The file's bytes, `None` when it does not exist. Opened non-blocking so a FIFO planted at the path cannot hang
/// the caller; only regular files of at most `MAX_FILE_SIZE` bytes are read.
fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>> {
    let failed = |e: io::Error| Error::cache(format!("failed to read cache file {path:?}: {e}"));
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(failed(e)),
    };
    let metadata = file.metadata().map_err(failed)?;
    if !metadata.is_file() {
        return Err(Error::cache(format!(
            "cache file {path:?} is not a regular file"
        )));
    }
    let too_big = || {
        Error::cache(format!(
            "cache file {path:?} is larger than {MAX_FILE_SIZE} bytes"
        ))
    };
    if metadata.len() > MAX_FILE_SIZE {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    // The limit also covers a file that grows after the size check.
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(failed)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(too_big());
    }
    Ok(Some(bytes))
}

/// Decodes the bytes of a cache file as [`ResultCache::read`] does, without touching the disk: the fuzz
/// targets and the corpus replay test feed it arbitrary input. Errors name the file as `"<bytes>"`.
pub fn decode_entry(bytes: &[u8]) -> Result<CacheEntry> {
    decode(Path::new("<bytes>"), bytes)
}

fn decode(path: &Path, bytes: &[u8]) -> Result<CacheEntry> {
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
        config: parse_config(object)?,
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

fn parse_result(object: &Map<String, Value>) -> std::result::Result<Option<Value>, String> {
    match present(object, "result") {
        None => Ok(None),
        Some(result @ Value::Object(_)) => Ok(Some(result.clone())),
        Some(_) => Err("key \"result\" must be an object".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

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
            ),
            result: Some(json!({"cniVersion": "1.0.0"})),
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
            config: "{\n    \"cniVersion\": \"1.0.0\",\n    \"name\": \"net-1\",\n    \"plugins\": []\n}".into(),
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
            result: Some(json!({"cniVersion": "1.0.0", "interfaces": [{"name": "eth0"}], "ips": []})),
        };
        cache.write(&entry).unwrap();
        assert_eq!(
            cache.read("net-1", "abc-123", "eth0").unwrap(),
            Some(CacheEntry::V1(entry.clone()))
        );
        assert_eq!(
            cache.attachments(Some("abc-123")).unwrap(),
            vec![entry.clone()]
        );

        // Go-style aliases (an object) do not fit iSulad's string array and are only in capabilityArgs.
        let text =
            fs::read_to_string(cache.file_path("net-1", "abc-123", "eth0").unwrap()).unwrap();
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
        assert_eq!(on_disk["config"], Value::String(entry.config.clone()));
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
            result: Some(
                json!({"cniVersion": "1.0.0", "interfaces": [{"name": "eth0"}], "ips": []}),
            ),
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
            result: Some(result),
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
        assert_eq!(
            cache.attachments(None).unwrap(),
            vec![first, second, other, third]
        );
        assert!(name_may_hold_container("n-c-i", "c"));
        assert!(!name_may_hold_container("-c-i", "c"));
        assert!(!name_may_hold_container("n-c-", "c"));
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
}
