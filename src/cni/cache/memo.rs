//! What this process last wrote to each cache file, so that CHECK, DEL and listings need not read and parse a file
//! it wrote itself. An entry is used only while the file is still that very file: same device and inode (nobody
//! renamed another over it), same size, modification and change times (nobody rewrote it in place; the change time
//! cannot be set from user space). Anything else reads the disk, as without the memo. The one change this cannot
//! see is a rewrite in place to the same size within the file system's timestamp granularity of our own write (a
//! jiffy where the kernel lacks fine-grained change times); only another CNI runtime rewriting this very entry
//! at that moment would do that, and it would race with this process's own use of the entry anyway.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use super::CachedAttachment;
use crate::cni::sync::Recover;

/// Bound on remembered entries (a few KiB each); past it new writes are not remembered (reads then go to disk).
const CAPACITY: usize = 4096;

/// The identity of one version of a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct FileId {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileId {
    pub(super) fn of(meta: &Metadata) -> FileId {
        FileId {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct Memo {
    /// By the path's bytes (hashing a Path walks its components).
    entries: Mutex<HashMap<OsString, (FileId, Arc<CachedAttachment>)>>,
}

impl Memo {
    pub(super) fn remember(&self, path: &Path, id: FileId, entry: Arc<CachedAttachment>) {
        let mut entries = self.entries.lock().recover();
        if entries.len() < CAPACITY || entries.contains_key(path.as_os_str()) {
            entries.insert(path.as_os_str().to_owned(), (id, entry));
        }
    }

    /// Whether an entry for `path` is remembered (asked before the file is looked at, so that the lock is never held
    /// across that).
    pub(super) fn holds(&self, path: &Path) -> bool {
        self.entries.lock().recover().contains_key(path.as_os_str())
    }

    /// The entry written as `id`, if that is what `path` holds now.
    pub(super) fn recall(&self, path: &Path, id: FileId) -> Option<Arc<CachedAttachment>> {
        let mut entries = self.entries.lock().recover();
        match entries.get(path.as_os_str()) {
            Some((written, entry)) if *written == id => Some(Arc::clone(entry)),
            Some(_) => {
                entries.remove(path.as_os_str());
                None
            }
            None => None,
        }
    }

    pub(super) fn forget(&self, path: &Path) {
        self.entries.lock().recover().remove(path.as_os_str());
    }

    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.entries.lock().recover().len()
    }
}
