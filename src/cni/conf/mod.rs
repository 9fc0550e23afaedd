//! CNI network configuration: plugin objects, configuration lists, configuration files and the scan
//! of a configuration directory.
//!
//! Parsing follows Go libcni HEAD (`libcni/conf.go`), messages included. Plugin objects are kept
//! exactly as written (key order, unknown keys, number text) because they are what plugins receive.
//! The directory scan follows iSulad's CRI loader, except that a bad file never breaks the others.
//!
//! Differences from Go worth knowing: keys are matched case-sensitively (Go's `encoding/json` also
//! accepts `"Type"`); a list's sibling plugin directory `<dir>/<name>/` is only consulted when the
//! name is a valid network name (Go would follow `../x`, or read the conf dir itself for `""`).

use std::collections::HashMap;
use std::fmt::Display;
use std::fs::{self, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::error::Category;
use serde_json::{Map, Value};

use crate::cni::error::{Error, Result};
use crate::cni::validate;
use crate::cni::version::Version;

/// Files larger than this are not loaded by the scan (iSulad's limit).
pub const MAX_CONF_FILE_SIZE: u64 = 1 << 20;
/// At most this many files of a directory are loaded by the scan (iSulad's limit).
pub const MAX_CONF_FILES: usize = 1024;
/// iSulad limits network names so that file names derived from them stay valid.
pub const MAX_NETWORK_NAME_LEN: usize = 200;

/// Extensions of the files the daemon's scan loads (as go-cni, ocicni and iSulad do).
const SCAN_EXTENSIONS: [&str; 3] = ["conf", "conflist", "json"];
const PLUGIN_ERR: &str = "error parsing configuration";
const LIST_ERR: &str = "error parsing configuration list";

/// One plugin configuration object (Go `types.PluginConf` plus the raw object).
///
/// A single `.conf` network is also a `PluginConf`; its `disableCheck` is not honoured when it is
/// turned into a list ([`NetworkConfigList::from_conf`]), exactly as in libcni.
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
    pub raw: Map<String, Value>,
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

/// A network configuration list (Go `libcni.NetworkConfigList`).
#[derive(Clone, Debug, PartialEq)]
pub struct NetworkConfigList {
    pub name: String,
    /// Selected by the `cniVersions` rule; may be `""` (meaning 0.1.0), kept verbatim otherwise.
    pub cni_version: String,
    pub disable_check: bool,
    pub disable_gc: bool,
    pub load_only_inlined_plugins: bool,
    pub plugins: Vec<PluginConf>,
    /// The original text (what the result cache stores).
    pub bytes: String,
}

impl NetworkConfigList {
    /// Go `NetworkConfFromBytes` (HEAD). The name is not validated here; a list without
    /// `plugins` (and `loadOnlyInlinedPlugins` false) has zero plugins.
    pub fn from_bytes(bytes: &[u8]) -> Result<NetworkConfigList> {
        let text = std::str::from_utf8(bytes).map_err(|e| list_err(utf8_reason(e)))?;
        let mut top = parse_object(text).map_err(list_err)?;
        let name = match top.get("name") {
            None => return Err(list_err("no name")),
            Some(Value::String(name)) => name.clone(),
            Some(other) => return Err(list_err(format!("invalid name type {}", go_type(other)))),
        };
        let cni_version = match top.get("cniVersion") {
            None => String::new(),
            Some(Value::String(v)) => v.clone(),
            Some(other) => {
                return Err(list_err(format!(
                    "invalid cniVersion type {}",
                    go_type(other)
                )))
            }
        };
        let cni_version = match top.get("cniVersions") {
            Some(versions) => select_version(versions, &cni_version)?,
            None => cni_version,
        };
        let disable_check = read_flag(&top, "disableCheck")?;
        let disable_gc = read_flag(&top, "disableGC")?;
        let load_only_inlined_plugins = read_flag(&top, "loadOnlyInlinedPlugins")?;
        let plugins = match top.remove("plugins") {
            None if load_only_inlined_plugins => {
                return Err(list_err(
                    "`loadOnlyInlinedPlugins` is true, and no 'plugins' key",
                ))
            }
            None => Vec::new(),
            Some(Value::Array(items)) if items.is_empty() => {
                return Err(list_err("no plugins in list"))
            }
            Some(Value::Array(items)) => items
                .into_iter()
                .enumerate()
                .map(list_plugin)
                .collect::<Result<_>>()?,
            Some(other) => {
                return Err(list_err(format!(
                    "invalid 'plugins' type {}",
                    go_type(&other)
                )))
            }
        };
        Ok(NetworkConfigList {
            name,
            cni_version,
            disable_check,
            disable_gc,
            load_only_inlined_plugins,
            plugins,
            bytes: text.to_owned(),
        })
    }

    /// Go `NetworkConfFromFile`: unless `loadOnlyInlinedPlugins`, the plugins of
    /// `<dir>/<name>/*.conf` are appended; a list still without plugins is an error.
    pub fn from_file(path: &Path) -> Result<NetworkConfigList> {
        NetworkConfigList::from_file_bytes(path, &read_file(path)?)
    }

    /// Go `ConfListFromConf`: a one-plugin list named after the conf (the conf keeps its own
    /// `name`/`cniVersion`). `bytes` is the compact JSON built here.
    pub fn from_conf(conf: &PluginConf) -> Result<NetworkConfigList> {
        let mut list = Map::new();
        list.insert(
            "cniVersion".into(),
            conf.cni_version.clone().unwrap_or_default().into(),
        );
        list.insert("name".into(), conf.name.clone().unwrap_or_default().into());
        list.insert(
            "plugins".into(),
            Value::Array(vec![Value::Object(conf.raw.clone())]),
        );
        let text = serde_json::to_string(&list)
            .map_err(|e| Error::config(format!("cannot encode configuration list: {e}")))?;
        NetworkConfigList::from_bytes(text.as_bytes())
    }

    pub fn version(&self) -> Result<Version> {
        Version::parse(&self.cni_version)
    }

    fn from_file_bytes(path: &Path, bytes: &[u8]) -> Result<NetworkConfigList> {
        let mut list = NetworkConfigList::from_bytes(bytes)?;
        if !list.load_only_inlined_plugins {
            if let Some(dir) = sibling_dir(path, &list.name) {
                list.plugins.extend(sibling_plugins(&dir)?);
            }
        }
        if list.plugins.is_empty() {
            return Err(Error::config("no plugin configs found"));
        }
        Ok(list)
    }
}

/// `failed to parse plugin config N: …` for the N-th element of `plugins`.
fn list_plugin((index, item): (usize, Value)) -> Result<PluginConf> {
    expect_object(item)
        .map_err(plugin_err)
        .and_then(PluginConf::from_map)
        .map_err(|e| Error::config(format!("failed to parse plugin config {index}: {e}")))
}

/// The `cniVersions` rule: the highest entry not newer than what we speak, `cniVersion` included;
/// when every entry is dropped the original `cniVersion` stays.
fn select_version(versions: &Value, cni_version: &str) -> Result<String> {
    let Value::Array(items) = versions else {
        return Err(list_err(format!(
            "invalid type for cniVersions: {}",
            go_type(versions)
        )));
    };
    let mut candidates = Vec::with_capacity(items.len() + 1);
    for (index, item) in items.iter().enumerate() {
        let Value::String(text) = item else {
            return Err(list_err(format!(
                "invalid type for cniVersions index {index}: {}",
                go_type(item)
            )));
        };
        let version = Version::parse(text).map_err(|e| {
            list_err(format!(
                "invalid cniVersions entry {text} at index {index}: {e}"
            ))
        })?;
        candidates.push((version, text.as_str()));
    }
    if !cni_version.is_empty() {
        let version = Version::parse(cni_version)
            .map_err(|e| list_err(format!("invalid cniVersion {cni_version}: {e}")))?;
        candidates.push((version, cni_version));
    }
    let selected = candidates
        .into_iter()
        .filter(|(v, _)| *v <= Version::CURRENT)
        .max_by_key(|(v, _)| *v);
    Ok(selected.map_or(cni_version, |(_, text)| text).to_owned())
}

/// A list flag: a bool, or the strings "true"/"false" in any case (libcni v1.2.0+).
fn read_flag(top: &Map<String, Value>, key: &str) -> Result<bool> {
    match top.get(key) {
        None => Ok(false),
        Some(Value::Bool(flag)) => Ok(*flag),
        Some(Value::String(text)) => match text.to_lowercase().as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => Err(list_err(format!("invalid value {other:?} for {key}"))),
        },
        Some(other) => Err(list_err(format!(
            "invalid type {} for {key}",
            go_type(other)
        ))),
    }
}

/// `<dir of the list file>/<name>`, only for names that cannot escape that directory.
fn sibling_dir(list_file: &Path, name: &str) -> Option<PathBuf> {
    validate::network_name(name).ok()?;
    Some(list_file.parent().unwrap_or(Path::new("")).join(name))
}

/// Go `NetworkPluginConfsFromFiles`: every `*.conf` of the directory, which may be missing.
fn sibling_plugins(dir: &Path) -> Result<Vec<PluginConf>> {
    let files = list_dir(dir, &["conf"]).map_err(|e| {
        Error::config(format!(
            "failed to read plugin config files in {}: {e}",
            dir.display()
        ))
    })?;
    files
        .iter()
        .map(|file| PluginConf::from_bytes(&read_file(file)?))
        .collect()
}

/// Non-recursive; directories skipped; extension = text after the last '.', exact match (given
/// with or without the leading dot); missing dir => Ok(empty); sorted by full path (byte order).
pub fn conf_files(dir: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>> {
    list_dir(dir, extensions)
        .map_err(|e| Error::config(format!("error reading directory {}: {e}", dir.display())))
}

fn list_dir(dir: &Path, extensions: &[&str]) -> io::Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let wanted: Vec<&[u8]> = extensions
        .iter()
        .map(|ext| ext.strip_prefix('.').unwrap_or(ext).as_bytes())
        .collect();
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            continue;
        }
        let path = entry.path();
        if extension(&path).is_some_and(|ext| wanted.contains(&ext)) {
            files.push(path);
        }
    }
    files.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    Ok(files)
}

/// The bytes after the last '.' of the file name, if it has one.
fn extension(path: &Path) -> Option<&[u8]> {
    let name = path.file_name()?.as_bytes();
    let dot = name.iter().rposition(|b| *b == b'.')?;
    Some(&name[dot + 1..])
}

fn base_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// One file as a list: ".conflist" => [`NetworkConfigList::from_file`]; anything else is a single
/// conf, turned into a list by [`NetworkConfigList::from_conf`]. A list without a name gets the
/// file's base name (with extension), as iSulad does; `bytes` keeps the text as it was.
pub fn load_network_file(path: &Path) -> Result<NetworkConfigList> {
    network_from_file_bytes(path, &read_file(path)?)
}

fn network_from_file_bytes(path: &Path, bytes: &[u8]) -> Result<NetworkConfigList> {
    let mut list = if extension(path) == Some(b"conflist") {
        NetworkConfigList::from_file_bytes(path, bytes)?
    } else {
        NetworkConfigList::from_conf(&single_conf(bytes)?)?
    };
    if list.name.is_empty() {
        list.name = base_name(path);
    }
    Ok(list)
}

/// A single-network file: a missing `type` most likely means a list with the wrong extension.
fn single_conf(bytes: &[u8]) -> Result<PluginConf> {
    let raw = parse_plugin_object(bytes)?;
    let has_type = match raw.get("type") {
        Some(Value::String(t)) => !t.is_empty(),
        Some(Value::Null) | None => false,
        Some(_) => true, // mistyped: from_map names the problem
    };
    if !has_type {
        return Err(Error::config("no 'type'; perhaps this is a .conflist?"));
    }
    PluginConf::from_map(raw)
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| Error::config(format!("error reading {}: {e}", path.display())))
}

/// Identity of a file's content as seen by stat: reuse a parsed file while it is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileStamp {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
}

impl FileStamp {
    pub fn from_metadata(meta: &Metadata) -> FileStamp {
        let ns = |secs: i64, nsecs: i64| i128::from(secs) * 1_000_000_000 + i128::from(nsecs);
        FileStamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
        }
    }
}

/// A file loaded by [`scan_dir`].
#[derive(Clone, Debug)]
pub struct LoadedList {
    pub path: PathBuf,
    pub stamp: FileStamp,
    pub list: Arc<NetworkConfigList>,
}

/// What [`scan_dir`] found: the loaded lists in path order and why other files were skipped.
#[derive(Clone, Debug, Default)]
pub struct DirScan {
    pub lists: Vec<LoadedList>,
    pub warnings: Vec<String>,
}

/// The conf-dir scan used by the daemon: files with extensions .conf/.conflist/.json whose base
/// name passes `accept`, sorted by full path; only the first MAX_CONF_FILES are considered (a
/// warning names how many were ignored — iSulad failed the whole scan here, we don't). A file that
/// is not a regular file, is over MAX_CONF_FILE_SIZE, unreadable, unparsable, without plugins, or
/// whose network name is invalid is skipped with a warning naming the file and the reason — never
/// breaking the others. A file whose FileStamp equals the one in `previous` (same path) is reused
/// without being read again (Arc clone), unless its list takes plugins from a sibling directory
/// that exists (those files have no stamp here). Missing dir => empty scan. Only an unreadable
/// directory (other than not-found) is an Err.
pub fn scan_dir(
    dir: &Path,
    accept: &dyn Fn(&str) -> bool,
    previous: &[LoadedList],
) -> Result<DirScan> {
    let mut files = conf_files(dir, &SCAN_EXTENSIONS)?;
    files.retain(|file| accept(&base_name(file)));
    let previous: HashMap<&Path, &LoadedList> = previous
        .iter()
        .map(|old| (old.path.as_path(), old))
        .collect();
    let mut scan = DirScan::default();
    if files.len() > MAX_CONF_FILES {
        scan.warnings.push(format!(
            "too many CNI configuration files in {}: only the first {MAX_CONF_FILES} are loaded, {} ignored",
            dir.display(),
            files.len() - MAX_CONF_FILES
        ));
        files.truncate(MAX_CONF_FILES);
    }
    for path in files {
        match load_scanned(&path, &previous) {
            Ok(loaded) => scan.lists.push(loaded),
            Err(reason) => scan.warnings.push(format!(
                "skipping CNI configuration {}: {reason}",
                path.display()
            )),
        }
    }
    Ok(scan)
}

/// One file of the scan; the error is the reason it is skipped.
fn load_scanned(path: &Path, previous: &HashMap<&Path, &LoadedList>) -> Result<LoadedList, String> {
    // Stat before reading: a change racing with the read leaves a newer stamp for the next scan.
    let meta = fs::metadata(path).map_err(|e| format!("cannot stat: {e}"))?;
    if !meta.is_file() {
        return Err("not a regular file".into());
    }
    if meta.len() > MAX_CONF_FILE_SIZE {
        return Err(too_big());
    }
    let stamp = FileStamp::from_metadata(&meta);
    if let Some(old) = previous
        .get(path)
        .filter(|old| old.stamp == stamp && !uses_sibling_dir(path, &old.list))
    {
        return Ok((*old).clone());
    }
    let list = network_from_file_bytes(path, &read_bounded(path)?).map_err(|e| e.to_string())?;
    check_network_name(&list.name)?;
    Ok(LoadedList {
        path: path.to_path_buf(),
        stamp,
        list: Arc::new(list),
    })
}

fn uses_sibling_dir(path: &Path, list: &NetworkConfigList) -> bool {
    extension(path) == Some(b"conflist")
        && !list.load_only_inlined_plugins
        && sibling_dir(path, &list.name).is_some_and(|dir| dir.is_dir())
}

/// Reads at most MAX_CONF_FILE_SIZE bytes; O_NONBLOCK keeps a FIFO swapped in after the stat from
/// blocking the daemon.
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| format!("cannot open: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_CONF_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_CONF_FILE_SIZE {
        return Err(too_big());
    }
    Ok(bytes)
}

fn too_big() -> String {
    format!("file is larger than {MAX_CONF_FILE_SIZE} bytes")
}

/// iSulad's rule for the networks it serves: the CNI name pattern and at most 200 characters.
fn check_network_name(name: &str) -> Result<(), String> {
    if name.len() > MAX_NETWORK_NAME_LEN {
        return Err(format!(
            "network name is longer than {MAX_NETWORK_NAME_LEN} characters"
        ));
    }
    validate::network_name(name).map_err(|e| format!("invalid network name {name:?}: {}", e.msg))
}

fn list_err(msg: impl Display) -> Error {
    Error::config(format!("{LIST_ERR}: {msg}"))
}

fn plugin_err(msg: impl Display) -> Error {
    Error::config(format!("{PLUGIN_ERR}: {msg}"))
}

fn utf8_reason(e: std::str::Utf8Error) -> String {
    format!("invalid UTF-8 at byte {}", e.valid_up_to())
}

fn parse_plugin_object(bytes: &[u8]) -> Result<Map<String, Value>> {
    let text = std::str::from_utf8(bytes).map_err(|e| plugin_err(utf8_reason(e)))?;
    parse_object(text).map_err(plugin_err)
}

/// A JSON object; duplicate keys keep the last value (as Go). A truncated text reads as Go's
/// `unexpected end of JSON input`.
fn parse_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str(text) {
        Ok(value) => expect_object(value),
        Err(e) if e.classify() == Category::Eof => Err("unexpected end of JSON input".into()),
        Err(e) => Err(e.to_string()),
    }
}

fn expect_object(value: Value) -> Result<Map<String, Value>, String> {
    match value {
        Value::Object(map) => Ok(map),
        other => Err(format!(
            "expected a JSON object, found {}",
            json_kind(&other)
        )),
    }
}

/// The JSON kind as Go's decoder names it in type errors.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Go's `%T` of a value decoded into `interface{}` (libcni's list messages use it).
fn go_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(_) => "float64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
                plain.cni_version,
                plain.capabilities.len()
            ),
            (Some("some-plugin"), None, 0)
        );
        assert_eq!(plain.raw["some-key"], "some-value");
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
        assert_eq!(serde_json::to_string(&conf.raw).unwrap(), text);
        // serde_json's one normalisation: an exponent gains its sign (same number)
        let conf = PluginConf::from_bytes(br#"{"type":"x","e":1e3}"#).unwrap();
        assert_eq!(
            serde_json::to_string(&conf.raw).unwrap(),
            r#"{"type":"x","e":1e+3}"#
        );
        let list = NetworkConfigList::from_bytes(
            format!(r#"{{"name":"n","plugins":[{text}]}}"#).as_bytes(),
        )
        .unwrap();
        assert_eq!(serde_json::to_string(&list.plugins[0].raw).unwrap(), text);
    }

    #[test]
    fn duplicate_keys_last_wins() {
        let conf = PluginConf::from_bytes(br#"{"type":"a","mtu":1,"type":"b"}"#).unwrap();
        assert_eq!(conf.plugin_type, "b");
        assert_eq!(
            serde_json::to_string(&conf.raw).unwrap(),
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
        assert!(list(b"{} trailing")
            .starts_with("error parsing configuration list: trailing characters"));
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
            .map(|p| Value::Object(p.raw.clone()))
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
            flags(
                r#", "disableCheck": "TRUE", "disableGC": true, "loadOnlyInlinedPlugins": "True""#
            ),
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
        let conf = PluginConf::from_bytes(
            br#"{"name":"some-plugin","cniVersion":"0.3.1", "type":"foobar"}"#,
        )
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
            assert_eq!(list.plugins[0].raw["some-key"], "some-value");
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
}
