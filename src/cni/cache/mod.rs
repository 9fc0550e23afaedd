//! The on-disk result cache: one JSON file per attachment in `<dir>/results/<network>-<container>-<ifname>`.
//!
//! Files are written in iSulad's `cni_cached_info` layout (so iSulad's C parser reads them) plus Go libcni's
//! `cniArgs`/`capabilityArgs`/`netns` keys (so DEL can replay exactly). Reading accepts iSulad's layout, Go libcni's
//! layout (base64 `config`) and the legacy result-only files of libcni ≤ 0.7.
//!
//! This file owns the store: the entry types, where an entry's file lives, and writing, reading, listing and
//! removing entries. `format` owns the file layouts (encoding and decoding an entry), `file` the disk
//! operations (atomic private writes, bounded reads, the temp files of in-flight writes).

mod file;
mod format;
mod memo;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::ser::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::cni::abandoned;
use crate::cni::conf::ListText;
use crate::cni::error::{Error, Result};
use crate::cni::log::{log, Context, Level};
use crate::cni::result::CniResult;
use crate::cni::version::Version;
use file::{create_private_dir, read_bytes, temp_middle, temp_writer, write_atomically};
pub use format::decode_entry;
use format::{decode, encode};
use memo::{FileId, Memo};

/// The `kind` of every cache file that is not a legacy result-only file.
pub const CACHE_KIND_V1: &str = "cniCacheV1";

const RESULTS_DIR: &str = "results";

/// One attachment as recorded after a successful ADD: everything DEL/CHECK need to replay the call.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct CachedAttachment {
    pub container_id: String,
    pub network_name: String,
    pub if_name: String,
    pub netns: Option<String>,
    /// The network list's bytes (text).
    pub config: ListText,
    /// CNI_ARGS pairs, in order.
    pub cni_args: Vec<(String, String)>,
    /// Every capability arg used at ADD (portMappings, bandwidth, ipRanges, dns, aliases, mac, ips, …).
    pub capability_args: Map<String, Value>,
    /// The final ADD result.
    pub result: Option<CachedResult>,
}

/// A cached ADD result: the typed result an ADD of this process made, or the JSON object a cache file holds. A
/// file's result is decoded only where it is used, so one this library cannot read fails the command that needs
/// it, not a listing.
#[derive(Clone, Debug)]
pub enum CachedResult {
    /// Made by an ADD of this process, in its list's version: written to the file as this library encodes it.
    Typed(CniResult),
    /// As a cache file holds it (any writer, any version).
    Json(Value),
}

impl CachedResult {
    pub fn to_value(&self) -> Value {
        match self {
            CachedResult::Typed(result) => result.to_value(),
            CachedResult::Json(value) => value.clone(),
        }
    }

    /// The result as it was written: a file's is decoded, `fallback` being its version where it names none.
    pub fn typed(&self, fallback: Version) -> Result<Cow<'_, CniResult>> {
        match self {
            CachedResult::Typed(result) => Ok(Cow::Borrowed(result)),
            CachedResult::Json(value) => CniResult::from_value(value, fallback).map(Cow::Owned),
        }
    }

    /// The result as one of `version`, converted the way libcni converts cached results; a typed result already in
    /// that version is borrowed.
    pub fn in_version(&self, version: Version) -> Result<Cow<'_, CniResult>> {
        match self {
            CachedResult::Typed(result) if result.cni_version == version => {
                Ok(Cow::Borrowed(result))
            }
            _ => self.typed(version)?.convert_to(version).map(Cow::Owned),
        }
    }
}

/// Equal when written as the same JSON: the memo's typed result of an ADD equals the file's.
impl PartialEq for CachedResult {
    fn eq(&self, other: &CachedResult) -> bool {
        match (self, other) {
            (CachedResult::Json(a), CachedResult::Json(b)) => a == b,
            (a, b) => a.to_value() == b.to_value(),
        }
    }
}

impl Serialize for CachedResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            CachedResult::Typed(result) => result.serialize(serializer),
            CachedResult::Json(value) => value.serialize(serializer),
        }
    }
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

/// A cache entry as found: the memo's copy of what this process wrote (shared, not copied; its result is exactly as
/// this library encoded it), or what the file holds.
// Found one at a time, like CacheEntry: the size difference does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Found {
    Written(Arc<CachedAttachment>),
    File(CacheEntry),
}

impl Found {
    /// The entry as an owned value (a copy of the memo's).
    pub fn into_entry(self) -> CacheEntry {
        match self {
            Found::Written(attachment) => CacheEntry::V1(Arc::unwrap_or_clone(attachment)),
            Found::File(entry) => entry,
        }
    }

    /// The attachment an iSulad entry describes (None for a legacy one).
    fn attachment(&self) -> Option<&CachedAttachment> {
        match self {
            Found::Written(attachment) => Some(attachment),
            Found::File(CacheEntry::V1(attachment)) => Some(attachment),
            Found::File(CacheEntry::Legacy(_)) => None,
        }
    }
}

/// The result cache rooted at one directory. Clones share what was written through any of them (see [`memo`]).
#[derive(Clone, Debug)]
pub struct ResultCache {
    dir: PathBuf,
    memo: Arc<Memo>,
}

impl ResultCache {
    /// `dir` is the cache root; files live in `<dir>/results/`.
    pub fn new(dir: impl Into<PathBuf>) -> ResultCache {
        ResultCache {
            dir: dir.into(),
            memo: Arc::default(),
        }
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
        let mut path = self.results_dir();
        path.push(network);
        let name = path.as_mut_os_string();
        for part in ["-", container_id, "-", if_name] {
            name.push(part);
        }
        Ok(path)
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
        self.write_shared(Arc::new(entry.clone()))
    }

    /// [`write`](Self::write) of an entry the memo then shares instead of copying.
    pub fn write_shared(&self, entry: Arc<CachedAttachment>) -> Result<()> {
        let path = self.file_path(&entry.network_name, &entry.container_id, &entry.if_name)?;
        let data = encode(&entry)?;
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
        let id = written
            .map_err(|e| Error::cache(format!("failed to write cache file {path:?}: {e}")))?;
        // What a later read of the file would decode, so the memo can stand in for it.
        debug_assert_eq!(
            decode(&path, &data).ok(),
            Some(CacheEntry::V1((*entry).clone()))
        );
        if let Some(id) = id {
            self.memo.remember(&path, id, entry);
        }
        Ok(())
    }

    /// `Ok(None)` when there is no file; any unreadable or malformed file is an `Error::Cache` (DEL may tolerate it).
    pub fn read(
        &self,
        network: &str,
        container_id: &str,
        if_name: &str,
    ) -> Result<Option<CacheEntry>> {
        Ok(self
            .find(network, container_id, if_name)?
            .map(Found::into_entry))
    }

    /// [`read`](Self::read), sharing the memo's copy of an entry this process wrote.
    pub fn find(&self, network: &str, container_id: &str, if_name: &str) -> Result<Option<Found>> {
        let path = self.file_path(network, container_id, if_name)?;
        self.read_entry(&path)
    }

    /// Removes the entry; a missing file is fine.
    pub fn remove(&self, network: &str, container_id: &str, if_name: &str) -> Result<()> {
        let path = self.file_path(network, container_id, if_name)?;
        self.memo.forget(&path);
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
        match container_id.filter(|id| !id.is_empty()) {
            Some(id) => self.select(
                |name| name_may_hold_container(name, id),
                |a| a.container_id == id,
            ),
            None => self.select(|_| true, |_| true),
        }
    }

    /// [`attachments`](Self::attachments) of one network: only files named `<network>-…` are read (a GC over many
    /// networks reads each file once, not once per network), and the network is matched on the JSON content.
    pub fn network_attachments(&self, network: &str) -> Result<Vec<CachedAttachment>> {
        self.select(
            |name| name_may_hold_network(name, network),
            |a| a.network_name == network,
        )
    }

    /// The valid V1 attachments of the files whose names pass `name_may_match` and whose content passes `matches`.
    fn select(
        &self,
        name_may_match: impl Fn(&str) -> bool,
        matches: impl Fn(&CachedAttachment) -> bool,
    ) -> Result<Vec<CachedAttachment>> {
        let results = self.results_dir();
        let attachments = self
            .entry_names()?
            .into_iter()
            .filter(|name| name_may_match(name))
            .filter_map(|name| match self.read_entry(&results.join(&name)) {
                Ok(found) => found,
                Err(e) => {
                    log!(
                        Level::Warn,
                        Context::default(),
                        "skipping unreadable cache entry {name}: {e}"
                    );
                    None
                }
            })
            // Checked before the memo's copy is taken.
            .filter(|found| {
                found.attachment().is_some_and(|a| {
                    !a.network_name.is_empty() && !a.if_name.is_empty() && matches(a)
                })
            })
            .filter_map(|found| match found.into_entry() {
                CacheEntry::V1(attachment) => Some(attachment),
                CacheEntry::Legacy(_) => None,
            })
            .collect();
        Ok(attachments)
    }

    fn results_dir(&self) -> PathBuf {
        // Room for an entry's name, which file_path appends.
        let mut dir = PathBuf::with_capacity(self.dir.as_os_str().len() + 128);
        dir.push(&self.dir);
        dir.push(RESULTS_DIR);
        dir
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

/// Whether `<network>-<id>-<ifname>` could be this file name (Go's prefilter): `-<id>-` with something before it
/// and something after it.
fn name_may_hold_container(name: &str, id: &str) -> bool {
    let needle = format!("-{id}-");
    name.match_indices(&needle)
        .any(|(at, _)| at > 0 && at + needle.len() < name.len())
}

/// Whether `<network>-<id>-<ifname>` could be this file name: `<network>-` with something after it.
fn name_may_hold_network(name: &str, network: &str) -> bool {
    name.strip_prefix(network)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|rest| !rest.is_empty())
}

impl ResultCache {
    /// What `path` holds: the memo's entry while the file is the one written through this cache, else the disk's.
    fn read_entry(&self, path: &Path) -> Result<Option<Found>> {
        if self.memo.holds(path) {
            match fs::symlink_metadata(path) {
                Ok(meta) => {
                    if let Some(entry) = self.memo.recall(path, FileId::of(&meta)) {
                        return Ok(Some(Found::Written(entry)));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    self.memo.forget(path);
                    return Ok(None);
                }
                Err(_) => {} // reading reports it
            }
        }
        match read_bytes(path)? {
            Some(bytes) => decode(path, &bytes).map(|entry| Some(Found::File(entry))),
            None => Ok(None),
        }
    }
}
