//! Network configuration lists (Go `libcni.NetworkConfigList`): parsing a list, the `cniVersions`
//! rule, the list flags, plugins from the sibling directory, and loading one configuration file
//! (`.conflist` or single conf) as a list.

use std::fmt::Display;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::files::{base_name, extension, list_dir, read_file};
use super::json::{expect_object, go_type, parse_object, utf8_reason};
use super::plugin::{parse_plugin_object, plugin_err, PluginConf};
use super::text::ListText;
use crate::cni::error::{Error, Result};
use crate::cni::validate;
use crate::cni::version::Version;

const LIST_ERR: &str = "error parsing configuration list";

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
    pub bytes: ListText,
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
            bytes: ListText::new(text),
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
            Value::Array(vec![Value::Object(conf.raw().clone())]),
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
pub(super) fn sibling_dir(list_file: &Path, name: &str) -> Option<PathBuf> {
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

/// One file as a list: ".conflist" => [`NetworkConfigList::from_file`]; anything else is a single
/// conf, turned into a list by [`NetworkConfigList::from_conf`]. A list without a name gets the
/// file's base name (with extension), as iSulad does; `bytes` keeps the text as it was.
pub fn load_network_file(path: &Path) -> Result<NetworkConfigList> {
    network_from_file_bytes(path, &read_file(path)?)
}

pub(super) fn network_from_file_bytes(path: &Path, bytes: &[u8]) -> Result<NetworkConfigList> {
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

fn list_err(msg: impl Display) -> Error {
    Error::config(format!("{LIST_ERR}: {msg}"))
}
