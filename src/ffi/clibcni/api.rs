//! `clibcni/api.h`: configuration parsing, the configuration-directory listing, ADD/DEL of
//! networks and lists and VERSION of clibcni 2.1.0 (its logging entry points are in
//! [`super::log`]).
//!
//! ADD and DEL run through [`CniConfig`], so results are cached (DEL of a 0.4.0+ list gets the
//! cached `prevResult`). The legacy API has no cache-dir parameter: the cache lives in
//! `/var/lib/cni`, or in `$CLIBCNI_CACHE_DIR` when that is set.

#![allow(non_camel_case_types)]

use std::ffi::{CStr, OsStr};
use std::fs;
use std::io::ErrorKind;
use std::os::raw::{c_char, c_int};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::ptr;

use serde_json::{Map, Value};

use crate::cni::conf::{NetworkConfigList, PluginConf, MAX_CONF_FILE_SIZE, MAX_NETWORK_NAME_LEN};
use crate::cni::error::Error;
use crate::cni::runtime::{CniConfig, RuntimeConf};
use crate::ffi::alloc::{c_null_terminated_array, c_strdup, free, opt_str, req_str};
use crate::ffi::clibcni::types::{build, c_opt_strdup, c_result, result};
use crate::ffi::clibcni::version::{c_plugin_info, plugin_info};
use crate::ffi::clibcni::with_err;
use crate::ffi::guard::guard;

/// A port mapping handed to plugins with the `portMappings` capability.
#[repr(C)]
pub struct cni_port_mapping {
    pub host_port: i32,
    pub container_port: i32,
    pub protocol: *mut c_char,
    pub host_ip: *mut c_char,
}

/// One attachment: `args` holds `args_len` {key, value} pairs for CNI_ARGS.
#[repr(C)]
pub struct runtime_conf {
    pub container_id: *mut c_char,
    pub netns: *mut c_char,
    pub ifname: *mut c_char,
    pub args: *mut [*mut c_char; 2],
    pub args_len: usize,
    pub p_mapping: *mut *mut cni_port_mapping,
    pub p_mapping_len: usize,
}

/// A single network configuration: its `name` (NULL if none), `type` and text.
#[repr(C)]
pub struct cni_network_conf {
    pub name: *mut c_char,
    pub r#type: *mut c_char,
    pub bytes: *mut c_char,
}

/// A configuration list: its plugin count, first plugin's name/type, name and text.
#[repr(C)]
pub struct cni_network_list_conf {
    pub plugin_len: usize,
    pub first_plugin_name: *mut c_char,
    pub first_plugin_type: *mut c_char,
    pub name: *mut c_char,
    pub bytes: *mut c_char,
}

/// Where ADD caches results when `CLIBCNI_CACHE_DIR` is not set.
const DEFAULT_CACHE_DIR: &str = "/var/lib/cni";
/// `cni_conf_files` fails when more files than this match (the original's limit).
const MAX_CONF_FILES: usize = 200;

// --- freeing ------------------------------------------------------------------------------------

unsafe fn drop_port_mapping(p: *mut cni_port_mapping) {
    if p.is_null() {
        return;
    }
    free((*p).protocol);
    free((*p).host_ip);
    free(p);
}

unsafe fn drop_network_conf(p: *mut cni_network_conf) {
    if p.is_null() {
        return;
    }
    free((*p).name);
    free((*p).r#type);
    free((*p).bytes);
    free(p);
}

unsafe fn drop_list_conf(p: *mut cni_network_list_conf) {
    if p.is_null() {
        return;
    }
    free((*p).first_plugin_name);
    free((*p).first_plugin_type);
    free((*p).name);
    free((*p).bytes);
    free(p);
}

unsafe fn drop_runtime_conf(rc: *mut runtime_conf) {
    if rc.is_null() {
        return;
    }
    let r = &*rc;
    for s in [r.container_id, r.netns, r.ifname] {
        free(s);
    }
    if !r.args.is_null() {
        for i in 0..r.args_len {
            let [key, value] = *r.args.add(i);
            free(key);
            free(value);
        }
        free(r.args);
    }
    if !r.p_mapping.is_null() {
        for i in 0..r.p_mapping_len {
            drop_port_mapping(*r.p_mapping.add(i));
        }
        free(r.p_mapping);
    }
    free(rc);
}

#[no_mangle]
pub extern "C" fn free_cni_network_conf(val: *mut cni_network_conf) {
    guard("free_cni_network_conf", || {
        // SAFETY: val is NULL or a conf whose members were allocated with libc.
        unsafe { drop_network_conf(val) };
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn free_cni_network_list_conf(val: *mut cni_network_list_conf) {
    guard("free_cni_network_list_conf", || {
        // SAFETY: val is NULL or a list conf whose members were allocated with libc.
        unsafe { drop_list_conf(val) };
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn free_cni_port_mapping(val: *mut cni_port_mapping) {
    guard("free_cni_port_mapping", || {
        // SAFETY: val is NULL or a mapping whose strings were allocated with libc.
        unsafe { drop_port_mapping(val) };
        Ok(())
    })
}

/// Frees a runtime_conf the caller built with libc: its strings, `args` pairs, port mappings.
#[no_mangle]
pub extern "C" fn free_runtime_conf(rc: *mut runtime_conf) {
    guard("free_runtime_conf", || {
        // SAFETY: rc is NULL or a runtime_conf whose members were allocated with libc.
        unsafe { drop_runtime_conf(rc) };
        Ok(())
    })
}

// --- reading the caller's input -----------------------------------------------------------------

/// `len` items of a C array read with `read` (NULL is fine when `len` is 0).
///
/// # Safety
/// `items` is NULL or points to at least `len` items.
unsafe fn read_array<T, U>(
    items: *const T,
    len: usize,
    field: &str,
    read: impl Fn(&T, usize) -> Result<U, String>,
) -> Result<Vec<U>, String> {
    if len > 0 && items.is_null() {
        return Err(format!("{field} is NULL but its length is {len}"));
    }
    (0..len).map(|i| read(&*items.add(i), i)).collect()
}

/// A port mapping as CNI's `portMappings` capability has it; NULL strings are left out.
unsafe fn port_mapping(p: *const cni_port_mapping, i: usize) -> Result<Value, String> {
    if p.is_null() {
        return Err(format!("p_mapping[{i}] is NULL"));
    }
    let m = &*p;
    let mut map = Map::new();
    map.insert("hostPort".into(), m.host_port.into());
    map.insert("containerPort".into(), m.container_port.into());
    if let Some(protocol) = opt_str(m.protocol, &format!("p_mapping[{i}]->protocol"))? {
        map.insert("protocol".into(), protocol.into());
    }
    if let Some(host_ip) = opt_str(m.host_ip, &format!("p_mapping[{i}]->host_ip"))? {
        map.insert("hostIP".into(), host_ip.into());
    }
    Ok(Value::Object(map))
}

/// The attachment; port mappings become the `portMappings` capability arg when there are any.
unsafe fn read_rc(rc: *const runtime_conf) -> Result<RuntimeConf, String> {
    if rc.is_null() {
        return Err("rc must not be NULL".into());
    }
    let r = &*rc;
    let text = |p: *mut c_char, field: &str| {
        Ok::<_, String>(opt_str(p, field)?.unwrap_or_default().to_string())
    };
    let args = read_array(r.args, r.args_len, "args", |[key, value], i| {
        Ok((
            req_str(*key, &format!("args[{i}][0]"))?.to_string(),
            req_str(*value, &format!("args[{i}][1]"))?.to_string(),
        ))
    })?;
    let mappings = read_array(r.p_mapping, r.p_mapping_len, "p_mapping", |p, i| {
        port_mapping(*p, i)
    })?;
    let mut capability_args = Map::new();
    if !mappings.is_empty() {
        capability_args.insert("portMappings".into(), Value::Array(mappings));
    }
    Ok(RuntimeConf {
        container_id: text(r.container_id, "container_id")?,
        netns: text(r.netns, "netns")?,
        ifname: text(r.ifname, "ifname")?,
        args,
        capability_args,
    })
}

/// The plugin directories of a NULL-terminated array.
unsafe fn read_paths(paths: *const *mut c_char) -> Result<Vec<PathBuf>, String> {
    if paths.is_null() {
        return Err("paths must not be NULL".into());
    }
    let mut dirs = Vec::new();
    loop {
        let dir = *paths.add(dirs.len());
        if dir.is_null() {
            return Ok(dirs);
        }
        dirs.push(PathBuf::from(OsStr::from_bytes(
            CStr::from_ptr(dir).to_bytes(),
        )));
    }
}

/// A runtime over the caller's plugin directories and the cache directory.
fn runtime(paths: *const *mut c_char) -> Result<CniConfig, String> {
    // SAFETY: paths is NULL or a NULL-terminated array of C strings.
    let dirs = unsafe { read_paths(paths) }?;
    let cache_dir = std::env::var_os("CLIBCNI_CACHE_DIR").filter(|d| !d.is_empty());
    Ok(CniConfig::new(
        dirs,
        cache_dir.map_or_else(|| PathBuf::from(DEFAULT_CACHE_DIR), PathBuf::from),
    ))
}

/// The runtime's message, with the original's wording for a missing plugin (callers look for
/// "No such file or directory").
fn error_text(e: Error) -> String {
    match e {
        Error::PluginNotFound { plugin, .. } => {
            format!("find plugin: \"{plugin}\" failed: No such file or directory")
        }
        other => other.to_string(),
    }
}

// --- configurations -----------------------------------------------------------------------------

/// The original's name rule: `^([a-z0-9][-a-z0-9.]*)?[a-z0-9]$`, at most 200 characters.
fn check_name(name: &str) -> Result<(), String> {
    let edge = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let inner = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-' || *b == b'.';
    let bytes = name.as_bytes();
    if name.len() <= MAX_NETWORK_NAME_LEN
        && edge(bytes.first())
        && edge(bytes.last())
        && bytes.iter().all(inner)
    {
        Ok(())
    } else {
        Err(format!("Invalid network name: {name}"))
    }
}

/// A configuration list as clibcni 2.1.0 accepts it: a valid name, at least one plugin, valid
/// plugin names where given (and, stricter, a `type` for every plugin).
fn parse_list(text: &str) -> Result<NetworkConfigList, String> {
    let list = NetworkConfigList::from_bytes(text.as_bytes()).map_err(error_text)?;
    check_name(&list.name)?;
    if list.plugins.is_empty() {
        return Err("Error parsing configuration list: no 'plugins' key".into());
    }
    list.plugins
        .iter()
        .filter_map(|p| p.name.as_deref())
        .try_for_each(check_name)?;
    Ok(list)
}

/// A single network configuration; its name, when given, must be valid.
fn parse_conf(text: &str) -> Result<PluginConf, String> {
    let conf = PluginConf::from_bytes(text.as_bytes()).map_err(error_text)?;
    conf.name.as_deref().map_or(Ok(()), check_name)?;
    Ok(conf)
}

fn read_text_file(filename: &str) -> Result<String, String> {
    fs::read_to_string(filename).map_err(|e| format!("Read file {filename} failed: {e}"))
}

fn c_network_conf(conf: &PluginConf, text: &str) -> Result<*mut cni_network_conf, String> {
    build(
        |c: &mut cni_network_conf| {
            c.name = c_opt_strdup(conf.name.as_deref())?;
            c.r#type = c_strdup(&conf.plugin_type)?;
            c.bytes = c_strdup(text)?;
            Ok(())
        },
        drop_network_conf,
    )
}

fn c_list_conf(list: &NetworkConfigList) -> Result<*mut cni_network_list_conf, String> {
    let first = list.plugins.first();
    build(
        |c: &mut cni_network_list_conf| {
            c.plugin_len = list.plugins.len();
            c.first_plugin_name = c_opt_strdup(first.and_then(|p| p.name.as_deref()))?;
            c.first_plugin_type = c_opt_strdup(first.map(|p| p.plugin_type.as_str()))?;
            c.name = c_opt_strdup(Some(list.name.as_str()).filter(|n| !n.is_empty()))?;
            c.bytes = c_strdup(&list.bytes)?;
            Ok(())
        },
        drop_list_conf,
    )
}

/// Stores what `make` builds in a caller's out-pointer (NULL until then, and on failure).
fn put<T>(
    out: *mut *mut T,
    name: &str,
    make: impl FnOnce() -> Result<*mut T, String>,
) -> Result<c_int, String> {
    if out.is_null() {
        return Err(format!("{name} must not be NULL"));
    }
    // SAFETY: out is a valid out-pointer (checked above).
    unsafe { *out = ptr::null_mut() };
    let value = make()?;
    // SAFETY: as above.
    unsafe { *out = value };
    Ok(0)
}

#[no_mangle]
pub extern "C" fn cni_conflist_from_bytes(
    bytes: *const c_char,
    list: *mut *mut cni_network_list_conf,
    err: *mut *mut c_char,
) -> c_int {
    with_err("cni_conflist_from_bytes", err, || {
        put(list, "list", || {
            // SAFETY: bytes is NULL or a C string.
            c_list_conf(&parse_list(unsafe { req_str(bytes, "bytes") }?)?)
        })
    })
}

#[no_mangle]
pub extern "C" fn cni_conflist_from_file(
    filename: *const c_char,
    list: *mut *mut cni_network_list_conf,
    err: *mut *mut c_char,
) -> c_int {
    with_err("cni_conflist_from_file", err, || {
        put(list, "list", || {
            // SAFETY: filename is NULL or a C string.
            let text = read_text_file(unsafe { req_str(filename, "filename") }?)?;
            c_list_conf(&parse_list(&text)?)
        })
    })
}

#[no_mangle]
pub extern "C" fn cni_conf_from_file(
    filename: *const c_char,
    config: *mut *mut cni_network_conf,
    err: *mut *mut c_char,
) -> c_int {
    with_err("cni_conf_from_file", err, || {
        put(config, "config", || {
            // SAFETY: filename is NULL or a C string.
            let text = read_text_file(unsafe { req_str(filename, "filename") }?)?;
            c_network_conf(&parse_conf(&text)?, &text)
        })
    })
}

/// A one-plugin list made from `net_conf->bytes`, named after the conf (NULL name if it has none).
#[no_mangle]
pub extern "C" fn cni_conflist_from_conf(
    net_conf: *const cni_network_conf,
    net_conf_list: *mut *mut cni_network_list_conf,
    err: *mut *mut c_char,
) -> c_int {
    with_err("cni_conflist_from_conf", err, || {
        put(net_conf_list, "net_conf_list", || {
            if net_conf.is_null() {
                return Err("net_conf must not be NULL".into());
            }
            // SAFETY: net_conf is a valid cni_network_conf whose bytes is NULL or a C string.
            let conf = parse_conf(unsafe { req_str((*net_conf).bytes, "net_conf->bytes") }?)?;
            c_list_conf(&NetworkConfigList::from_conf(&conf).map_err(error_text)?)
        })
    })
}

// --- the configuration directory ----------------------------------------------------------------

/// The files of `dir` whose extension (from the last '.', dot included) is one of `extensions`:
/// not recursive, directories skipped, sorted. A missing directory has none. Unlike the
/// original, a file over 1 MiB is skipped rather than failing the listing, and so is a file that
/// disappears while the directory is read (or whose name is not UTF-8).
fn list_conf_files(dir: &str, extensions: &[&str]) -> Result<Vec<String>, String> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("Open dir failed: {e}")),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("Read dir {dir} failed: {e}"))?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        let path = format!("{dir}/{name}");
        let meta = match fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("lstat {path} failed: {e}")),
        };
        if meta.is_dir() || meta.len() > MAX_CONF_FILE_SIZE {
            continue;
        }
        if name
            .rfind('.')
            .is_some_and(|dot| extensions.contains(&&name[dot..]))
        {
            files.push(path);
        }
    }
    if files.len() > MAX_CONF_FILES {
        return Err(format!(
            "Too more config files, current support max count of config file is {MAX_CONF_FILES}."
        ));
    }
    files.sort();
    Ok(files)
}

/// `*result` = a NULL-terminated array of the matching files of `dir` (each "dir/name"), or
/// NULL when none match. `extensions` are compared with the dot (".conf"); NULL entries are
/// ignored.
#[no_mangle]
pub extern "C" fn cni_conf_files(
    dir: *const c_char,
    extensions: *mut *const c_char,
    ext_len: usize,
    result: *mut *mut *mut c_char,
    err: *mut *mut c_char,
) -> c_int {
    with_err("cni_conf_files", err, || {
        put(result, "result", || {
            // SAFETY: dir is NULL or a C string; extensions holds ext_len entries, each NULL or a C string.
            let (dir, extensions) = unsafe {
                let dir = req_str(dir, "dir")?;
                if extensions.is_null() {
                    return Err("extensions must not be NULL".into());
                }
                let extensions = read_array(extensions, ext_len, "extensions", |p, i| {
                    opt_str(*p, &format!("extensions[{i}]"))
                })?;
                (dir, extensions.into_iter().flatten().collect::<Vec<_>>())
            };
            let files = list_conf_files(dir, &extensions)?;
            if files.is_empty() {
                return Ok(ptr::null_mut());
            }
            c_null_terminated_array(&files)
        })
    })
}

// --- operations ---------------------------------------------------------------------------------

fn add(
    list: &NetworkConfigList,
    rc: *const runtime_conf,
    paths: *const *mut c_char,
    out: *mut *mut result,
    out_name: &str,
) -> Result<c_int, String> {
    put(out, out_name, || {
        // SAFETY: rc is NULL or a valid runtime_conf.
        let rt = unsafe { read_rc(rc) }?;
        let added = runtime(paths)?
            .add_network_list(list, &rt)
            .map_err(error_text)?;
        added.as_ref().map_or(Ok(ptr::null_mut()), c_result)
    })
}

fn del(
    list: &NetworkConfigList,
    rc: *const runtime_conf,
    paths: *const *mut c_char,
) -> Result<c_int, String> {
    // SAFETY: rc is NULL or a valid runtime_conf.
    let rt = unsafe { read_rc(rc) }?;
    runtime(paths)?
        .del_network_list(list, &rt)
        .map_err(error_text)?;
    Ok(0)
}

/// A one-plugin list for the single-network operations.
fn conf_as_list(net_conf_str: *const c_char) -> Result<NetworkConfigList, String> {
    // SAFETY: net_conf_str is NULL or a C string.
    let conf = parse_conf(unsafe { req_str(net_conf_str, "net_conf_str") }?)?;
    NetworkConfigList::from_conf(&conf).map_err(error_text)
}

fn list_arg(net_list_conf_str: *const c_char) -> Result<NetworkConfigList, String> {
    // SAFETY: net_list_conf_str is NULL or a C string.
    parse_list(unsafe { req_str(net_list_conf_str, "net_list_conf_str") }?)
}

/// ADD of every plugin of the list in order; `*pret` = the last result, in the list's version.
#[no_mangle]
pub extern "C" fn cni_add_network_list(
    net_list_conf_str: *const c_char,
    rc: *const runtime_conf,
    paths: *mut *mut c_char,
    pret: *mut *mut result,
    err: *mut *mut c_char,
) -> c_int {
    with_err("cni_add_network_list", err, || {
        add(&list_arg(net_list_conf_str)?, rc, paths, pret, "pret")
    })
}

/// ADD of a single network configuration.
#[no_mangle]
pub extern "C" fn cni_add_network(
    net_conf_str: *const c_char,
    rc: *const runtime_conf,
    paths: *mut *mut c_char,
    add_result: *mut *mut result,
    err: *mut *mut c_char,
) -> c_int {
    with_err("cni_add_network", err, || {
        add(
            &conf_as_list(net_conf_str)?,
            rc,
            paths,
            add_result,
            "add_result",
        )
    })
}

/// DEL of every plugin of the list in reverse order.
#[no_mangle]
pub extern "C" fn cni_del_network_list(
    net_list_conf_str: *const c_char,
    rc: *const runtime_conf,
    paths: *mut *mut c_char,
    err: *mut *mut c_char,
) -> c_int {
    with_err("cni_del_network_list", err, || {
        del(&list_arg(net_list_conf_str)?, rc, paths)
    })
}

/// DEL of a single network configuration.
#[no_mangle]
pub extern "C" fn cni_del_network(
    net_conf_str: *const c_char,
    rc: *const runtime_conf,
    paths: *mut *mut c_char,
    err: *mut *mut c_char,
) -> c_int {
    with_err("cni_del_network", err, || {
        del(&conf_as_list(net_conf_str)?, rc, paths)
    })
}

/// VERSION of the plugin `plugin_type` found in `paths`.
#[no_mangle]
pub extern "C" fn cni_get_version_info(
    plugin_type: *const c_char,
    paths: *mut *mut c_char,
    pinfo: *mut *mut plugin_info,
    err: *mut *mut c_char,
) -> c_int {
    with_err("cni_get_version_info", err, || {
        put(pinfo, "pinfo", || {
            // SAFETY: plugin_type is NULL or a C string.
            let plugin = unsafe { req_str(plugin_type, "plugin_type") }?;
            c_plugin_info(
                &runtime(paths)?
                    .get_version_info(plugin)
                    .map_err(error_text)?,
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_original_rule() {
        for good in ["a", "default", "net-1.2", "0", "a".repeat(200).as_str()] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Default",
            "-a",
            "a-",
            "a.",
            ".a",
            "a_b",
            "a b",
            "a".repeat(201).as_str(),
        ] {
            assert_eq!(
                check_name(bad).unwrap_err(),
                format!("Invalid network name: {bad}"),
                "{bad}"
            );
        }
    }

    #[test]
    fn lists_are_checked_like_the_original() {
        let list = parse_list(
            r#"{"cniVersion":"0.3.1","name":"net","plugins":[{"type":"bridge","name":"b"}]}"#,
        )
        .unwrap();
        assert_eq!((list.name.as_str(), list.plugins.len()), ("net", 1));
        let cases = [
            (
                r#"{"cniVersion":"0.3.1","name":"Net","plugins":[{"type":"bridge"}]}"#,
                "Invalid network name: Net",
            ),
            (
                r#"{"cniVersion":"0.3.1","name":"net"}"#,
                "Error parsing configuration list: no 'plugins' key",
            ),
            (
                r#"{"name":"net","plugins":[{"type":"bridge","name":"B"}]}"#,
                "Invalid network name: B",
            ),
            (
                r#"{"name":"net","plugins":[]}"#,
                "error parsing configuration list: no plugins in list",
            ),
            (
                r#"{"plugins":[{"type":"bridge"}]}"#,
                "error parsing configuration list: no name",
            ),
        ];
        for (json, msg) in cases {
            assert_eq!(parse_list(json).unwrap_err(), msg, "{json}");
        }
        assert!(parse_list("{")
            .unwrap_err()
            .starts_with("error parsing configuration list: "));
    }

    #[test]
    fn confs_are_checked_like_the_original() {
        assert_eq!(parse_conf(r#"{"type":"bridge"}"#).unwrap().name, None);
        assert_eq!(
            parse_conf(r#"{"name":"UP","type":"bridge"}"#).unwrap_err(),
            "Invalid network name: UP"
        );
        assert_eq!(
            parse_conf(r#"{"name":"x"}"#).unwrap_err(),
            "error parsing configuration: missing 'type'"
        );
    }

    #[test]
    fn conf_files_listing() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_str().unwrap();
        for name in ["b.conf", "a.conflist", "c.json", "d.txt", ".conf", "noext"] {
            fs::write(dir.path().join(name), "{}").unwrap();
        }
        fs::create_dir(dir.path().join("sub.conf")).unwrap();
        fs::write(
            dir.path().join("big.conf"),
            vec![b' '; MAX_CONF_FILE_SIZE as usize + 1],
        )
        .unwrap();
        let files = list_conf_files(root, &[".conf", ".conflist"]).unwrap();
        let want: Vec<String> = [".conf", "a.conflist", "b.conf"]
            .iter()
            .map(|n| format!("{root}/{n}"))
            .collect();
        assert_eq!(files, want);
        // Extensions are compared with their dot, as in the original.
        assert!(list_conf_files(root, &["conf"]).unwrap().is_empty());
        assert!(list_conf_files(&format!("{root}/missing"), &[".conf"])
            .unwrap()
            .is_empty());
        let not_dir = list_conf_files(&format!("{root}/d.txt"), &[".txt"]).unwrap_err();
        assert!(not_dir.starts_with("Open dir failed: "), "{not_dir}");
    }

    #[test]
    fn too_many_conf_files() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..=MAX_CONF_FILES {
            fs::write(dir.path().join(format!("{i}.conf")), "{}").unwrap();
        }
        let root = dir.path().to_str().unwrap();
        assert_eq!(
            list_conf_files(root, &[".conf"]).unwrap_err(),
            "Too more config files, current support max count of config file is 200."
        );
        assert_eq!(list_conf_files(root, &[".json"]).unwrap().len(), 0);
    }

    #[test]
    fn missing_plugins_keep_the_original_wording() {
        let e = Error::PluginNotFound {
            plugin: "bridge".into(),
            paths: vec!["/x".into()],
        };
        assert_eq!(
            error_text(e),
            "find plugin: \"bridge\" failed: No such file or directory"
        );
        assert_eq!(error_text(Error::config("x")), "x");
    }
}
