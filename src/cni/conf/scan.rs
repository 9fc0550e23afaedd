//! The daemon's scan of a configuration directory: iSulad's limits and name rule, bounded reads,
//! a warning for every file skipped, and reuse of files unchanged since the previous scan.

use std::collections::HashMap;
use std::fs::{self, Metadata, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::files::{base_name, conf_files, extension};
use super::list::{network_from_file_bytes, sibling_dir, NetworkConfigList};
use crate::cni::error::Result;
use crate::cni::validate;

/// Files larger than this are not loaded by the scan (iSulad's limit).
pub const MAX_CONF_FILE_SIZE: u64 = 1 << 20;
/// At most this many files of a directory are loaded by the scan (iSulad's limit).
pub const MAX_CONF_FILES: usize = 1024;
/// iSulad limits network names so that file names derived from them stay valid.
pub const MAX_NETWORK_NAME_LEN: usize = 200;

/// Extensions of the files the daemon's scan loads (as go-cni, ocicni and iSulad do).
const SCAN_EXTENSIONS: [&str; 3] = ["conf", "conflist", "json"];

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
