//! Configuration files on disk: listing a directory's files by extension and reading one file.

use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::cni::error::{Error, Result};

/// Non-recursive; directories skipped; extension = text after the last '.', exact match (given
/// with or without the leading dot); missing dir => Ok(empty); sorted by full path (byte order).
pub fn conf_files(dir: &Path, extensions: &[&str]) -> Result<Vec<PathBuf>> {
    list_dir(dir, extensions)
        .map_err(|e| Error::config(format!("error reading directory {}: {e}", dir.display())))
}

pub(super) fn list_dir(dir: &Path, extensions: &[&str]) -> io::Result<Vec<PathBuf>> {
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
pub(super) fn extension(path: &Path) -> Option<&[u8]> {
    let name = path.file_name()?.as_bytes();
    let dot = name.iter().rposition(|b| *b == b'.')?;
    Some(&name[dot + 1..])
}

pub(super) fn base_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub(super) fn read_file(path: &Path) -> Result<Vec<u8>> {
    fs::read(path).map_err(|e| Error::config(format!("error reading {}: {e}", path.display())))
}
