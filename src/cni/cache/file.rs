//! The cache's disk operations: private directories, atomic 0600 writes through temp files (and the
//! names of those temp files, which cleanup recognises), and bounded non-blocking reads.

use std::fs::{self, DirBuilder, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use super::memo::FileId;
use crate::cni::error::{Error, Result};

/// Cache files are a few KiB; anything this big is not ours and is not worth reading into memory.
pub(super) const MAX_FILE_SIZE: u64 = 16 * 1024 * 1024;
/// Temp files of in-flight (or interrupted) writes: `.cnicache-<pid>-<tid>-<n>.tmp`. A fixed-length name keeps
/// long cache file names from exceeding NAME_MAX, and the leading dot keeps them apart from real entries.
const TEMP_PREFIX: &str = ".cnicache-";
const TEMP_SUFFIX: &str = ".tmp";

/// `<pid>-<tid>-<n>` of a temp file name made by `temp_name`; None for any other name.
pub(super) fn temp_middle(name: &str) -> Option<&str> {
    name.strip_prefix(TEMP_PREFIX)?.strip_suffix(TEMP_SUFFIX)
}

/// The writer's pid of a temp file name made by `temp_name`.
pub(super) fn temp_writer(name: &str) -> Option<i32> {
    temp_middle(name)?.split('-').next()?.parse().ok()
}

/// Creates `dir` (and missing parents) as 0700; an existing one is fine.
pub(super) fn create_private_dir(dir: &Path) -> Result<()> {
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

/// Temp file in `dir`, rename over `path`; the temp file is removed on failure. Returns the identity of the file
/// now at `path` (taken after the rename, which changes its change time), if it could be had.
pub(super) fn write_atomically(dir: &Path, path: &Path, data: &[u8]) -> io::Result<Option<FileId>> {
    let temp = dir.join(temp_name());
    let written = write_private(&temp, data).and_then(|file| {
        crash_point!(CacheTempWritten);
        fs::rename(&temp, path)?;
        Ok(file.metadata().ok().map(|meta| FileId::of(&meta)))
    });
    if written.is_err() {
        // Best effort: the write already failed and that is the error worth reporting.
        let _ = fs::remove_file(&temp);
    } else {
        crash_point!(CacheRenamed);
    }
    written
}

/// Unique among live threads of live processes. A stale file of a dead process may carry the same name (pid reuse
/// after a crash), which is why the temp file is truncated rather than created exclusively.
pub(super) fn temp_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!(
        "{TEMP_PREFIX}{}-{}-{n}{TEMP_SUFFIX}",
        std::process::id(),
        nix::unistd::gettid()
    )
}

/// The written file, still open.
fn write_private(path: &Path, data: &[u8]) -> io::Result<fs::File> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)?;
    // The umask may have cleared bits of the creation mode; a stale file may have any mode.
    file.set_permissions(Permissions::from_mode(0o600))?;
    file.write_all(data)?;
    Ok(file)
}

/// The file's bytes, `None` when it does not exist. Opened non-blocking so a FIFO planted at the path cannot hang
/// the caller; only regular files of at most `MAX_FILE_SIZE` bytes are read.
pub(super) fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>> {
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
    // One read for the whole file, one for EOF.
    let mut bytes = Vec::with_capacity(metadata.len() as usize + 1);
    // The limit also covers a file that grows after the size check.
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(failed)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(too_big());
    }
    Ok(Some(bytes))
}
