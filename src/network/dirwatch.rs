//! Whether a directory's entries may have changed since the last look, told by inotify: a
//! reload of an unchanged conf dir then costs one stat() and one read() instead of a stat of
//! every file.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

use crate::cni::sync::Recover;

use nix::errno::Errno;
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify};

pub struct DirWatch {
    dir: PathBuf,
    /// None until armed, and again after the watch was lost (dir removed, queue overflow).
    inotify: Mutex<Option<Armed>>,
}

/// A watch and the directory inode it is on: a directory replaced by another of the same name
/// is noticed by its inode at once, before the kernel reports the old one gone (which waits for
/// the old inode to be evicted).
struct Armed {
    inotify: Inotify,
    inode: (u64, u64),
}

/// Held while a caller looks at the directory and stores what it saw, so that a second caller
/// cannot report "unchanged" before the first has stored the new state.
pub struct Look<'a> {
    inotify: MutexGuard<'a, Option<Armed>>,
    /// True when nothing in the directory can have changed since the previous look.
    pub unchanged: bool,
}

impl DirWatch {
    pub fn new(dir: PathBuf) -> DirWatch {
        DirWatch {
            dir,
            inotify: Mutex::new(None),
        }
    }

    /// Drains the events seen since the previous look. Changes made while the caller rescans are
    /// kept for the next look, since the watch is (re)armed before the caller scans.
    pub fn look(&self) -> Look<'_> {
        let mut inotify = self.inotify.lock().recover();
        let same_dir = |armed: &Armed| self.inode() == Some(armed.inode);
        let unchanged = match inotify
            .as_ref()
            .filter(|a| same_dir(a))
            .map(|a| drain(&a.inotify))
        {
            Some(Ok(false)) => true,
            Some(Ok(true)) => false,
            None | Some(Err(())) => {
                *inotify = self.arm();
                false
            }
        };
        Look { inotify, unchanged }
    }

    fn inode(&self) -> Option<(u64, u64)> {
        std::fs::metadata(&self.dir)
            .ok()
            .map(|m| (m.dev(), m.ino()))
    }

    fn arm(&self) -> Option<Armed> {
        // The inode first: a replacement after this point is seen by the next look.
        let inode = self.inode()?;
        let inotify = Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC).ok()?;
        let mask = AddWatchFlags::IN_CREATE
            | AddWatchFlags::IN_DELETE
            | AddWatchFlags::IN_MODIFY
            | AddWatchFlags::IN_CLOSE_WRITE
            | AddWatchFlags::IN_ATTRIB
            | AddWatchFlags::IN_MOVED_FROM
            | AddWatchFlags::IN_MOVED_TO
            | AddWatchFlags::IN_DELETE_SELF
            | AddWatchFlags::IN_MOVE_SELF;
        inotify.add_watch(&self.dir, mask).ok()?;
        Some(Armed { inotify, inode })
    }
}

impl Look<'_> {
    /// The next look must rescan (the caller could not trust what it saw).
    pub fn distrust(&mut self) {
        *self.inotify = None;
    }
}

/// Ok(true) when events arrived, Ok(false) when none; Err when the watch is gone or overflowed.
fn drain(inotify: &Inotify) -> Result<bool, ()> {
    let lost = AddWatchFlags::IN_IGNORED
        | AddWatchFlags::IN_Q_OVERFLOW
        | AddWatchFlags::IN_DELETE_SELF
        | AddWatchFlags::IN_MOVE_SELF;
    let mut any = false;
    loop {
        match inotify.read_events() {
            Ok(events) if events.is_empty() => return Ok(any),
            Ok(events) => {
                if events.iter().any(|e| e.mask.intersects(lost)) {
                    return Err(());
                }
                any = true;
            }
            Err(Errno::EAGAIN) => return Ok(any),
            Err(Errno::EINTR) => continue,
            Err(_) => return Err(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_changes_and_rearms_after_the_dir_is_replaced() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("net.d");
        std::fs::create_dir(&dir).unwrap();
        let watch = DirWatch::new(dir.clone());
        assert!(!watch.look().unchanged, "the first look always scans");
        assert!(watch.look().unchanged);
        std::fs::write(dir.join("10-a.conflist"), "{}").unwrap();
        assert!(!watch.look().unchanged);
        assert!(watch.look().unchanged);
        std::fs::write(dir.join("10-a.conflist"), "{\"x\":1}").unwrap();
        assert!(!watch.look().unchanged, "an in-place edit is a change");
        std::fs::rename(dir.join("10-a.conflist"), dir.join("20-a.conflist")).unwrap();
        assert!(!watch.look().unchanged);
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::create_dir(&dir).unwrap();
        assert!(!watch.look().unchanged, "a replaced dir is rescanned");
        assert!(watch.look().unchanged, "and watched again");
        std::fs::write(dir.join("x.conf"), "{}").unwrap();
        assert!(!watch.look().unchanged);
        let mut look = watch.look();
        look.distrust();
        drop(look);
        assert!(!watch.look().unchanged, "a distrusted look forces a rescan");
    }

    #[test]
    fn a_missing_dir_is_always_rescanned() {
        let tmp = tempfile::tempdir().unwrap();
        let watch = DirWatch::new(tmp.path().join("absent"));
        assert!(!watch.look().unchanged);
        assert!(!watch.look().unchanged);
    }
}
