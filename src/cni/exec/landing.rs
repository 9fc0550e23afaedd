//! Three low fd numbers where a spawn puts its child's pipe ends when the pipes themselves got high numbers (a host
//! holding many fds), so that the child keeps them through the unshare (see `sys::KEPT_BELOW`) instead of copying
//! them through a pidfd: six dup3 calls instead of a pidfd_open and three pidfd_getfd, ~4 µs less per spawn.
//!
//! They are opened at the first spawn, when a host's fd numbers are most likely still low, and only if they get
//! numbers below `KEPT_BELOW`; the library then holds four fds for the life of the process (/dev/null and three
//! copies of it, close-on-exec). One spawn at a time uses them; concurrent ones copy their pipes as before. Between
//! spawns the slots hold /dev/null, so no pipe end outlives the spawn that put it there.

use std::fs::OpenOptions;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard, TryLockError};

use nix::fcntl::OFlag;
use nix::unistd::dup3;

use super::sys::KEPT_BELOW;

/// The slots: /dev/null and three low copies of it.
struct Slots {
    null: OwnedFd,
    fds: [OwnedFd; 3],
}

impl Slots {
    /// None unless all three copies got numbers below KEPT_BELOW.
    fn open() -> Option<Slots> {
        let null: OwnedFd = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_CLOEXEC)
            .open("/dev/null")
            .ok()?
            .into();
        // try_clone takes the lowest free number from 3 up, close-on-exec.
        let copy = || -> Option<OwnedFd> {
            let fd = null.try_clone().ok()?;
            (fd.as_raw_fd() < KEPT_BELOW).then_some(fd)
        };
        let fds = [copy()?, copy()?, copy()?];
        Some(Slots { null, fds })
    }
}

/// None until the first spawn, and for good where the slots could not be opened low or a copy onto them failed.
static SLOTS: Mutex<Option<Slots>> = Mutex::new(None);
static OPENED: AtomicBool = AtomicBool::new(false);

/// Opens the slots at the first call; later calls cost one atomic load.
pub(super) fn prepare() {
    if OPENED.load(Ordering::Relaxed) || OPENED.swap(true, Ordering::Relaxed) {
        return;
    }
    let slots = Slots::open();
    *lock_or_recover() = slots;
}

fn lock_or_recover() -> MutexGuard<'static, Option<Slots>> {
    SLOTS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One spawn's pipe ends on the slots. Dropping it puts /dev/null back, so the caller again holds its pipe ends
/// only where it opened them.
pub(super) struct Landed {
    slots: MutexGuard<'static, Option<Slots>>,
    /// The slots' numbers, now naming the pipe ends.
    fds: [RawFd; 3],
}

impl Landed {
    /// Copies `ends` onto the slots; None while another spawn uses them, or where there are none.
    pub(super) fn take(ends: [BorrowedFd; 3]) -> Option<Landed> {
        let mut slots = match SLOTS.try_lock() {
            Ok(slots) => slots,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => return None,
        };
        let fds = &mut slots.as_mut()?.fds;
        let numbers = fds.each_ref().map(AsRawFd::as_raw_fd);
        if fds
            .iter_mut()
            .zip(ends)
            .any(|(slot, end)| dup3(end, slot, OFlag::O_CLOEXEC).is_err())
        {
            // Closing the slots also drops any end already copied.
            *slots = None;
            return None;
        }
        Some(Landed {
            slots,
            fds: numbers,
        })
    }

    pub(super) fn fds(&self) -> [RawFd; 3] {
        self.fds
    }
}

impl Drop for Landed {
    fn drop(&mut self) {
        let Some(Slots { null, fds }) = self.slots.as_mut() else {
            return;
        };
        if fds
            .iter_mut()
            .any(|slot| dup3(&*null, slot, OFlag::O_CLOEXEC).is_err())
        {
            // Closing them is the other way to let go of the pipe ends.
            *self.slots = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;
    use std::time::{Duration, Instant};

    use nix::sys::stat::fstat;
    use nix::unistd::{pipe2, read, write};

    use super::*;

    /// The slots, waiting out spawns of other tests that use them.
    fn take(ends: [BorrowedFd; 3]) -> Landed {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(landed) = Landed::take(ends) {
                return landed;
            }
            assert!(Instant::now() < deadline, "the slots stayed busy");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    fn same_file(a: BorrowedFd, b: BorrowedFd) -> bool {
        let (a, b) = (fstat(a).unwrap(), fstat(b).unwrap());
        (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
    }

    #[test]
    fn pipe_ends_land_low_and_the_slots_let_go_of_them() {
        prepare();
        assert!(
            lock_or_recover().is_some(),
            "no low slots in the test process"
        );
        let pipes = [(); 3].map(|_| pipe2(OFlag::O_CLOEXEC).unwrap());
        let write_ends = pipes.each_ref().map(|(_, w)| w.as_fd());
        let landed = take(write_ends);
        let fds = landed.fds();
        assert!(
            fds.iter().all(|&fd| (3..KEPT_BELOW).contains(&fd)),
            "{fds:?}"
        );
        let slots = landed.slots.as_ref().unwrap();
        for (slot, end) in slots.fds.iter().zip(write_ends) {
            assert!(
                same_file(slot.as_fd(), end),
                "slot {slot:?} is not its pipe end"
            );
        }
        drop(landed);
        let [(r0, w0), (r1, w1), (r2, w2)] = pipes;
        drop((w0, w1, w2));
        // With their own write ends closed, the pipes reach EOF: no slot holds them any more.
        for read_end in [&r0, &r1, &r2] {
            assert_eq!(read(read_end, &mut [0u8; 8]), Ok(0));
        }
        let null = lock_or_recover();
        let slots = null.as_ref().expect("the slots stay open");
        for slot in &slots.fds {
            assert!(
                same_file(slot.as_fd(), slots.null.as_fd()),
                "slot not back on /dev/null"
            );
        }
        assert_eq!(
            write(&slots.fds[0], b"x").err(),
            Some(nix::errno::Errno::EBADF)
        );
    }

    #[test]
    fn one_spawn_at_a_time_uses_the_slots() {
        prepare();
        let (r, w) = pipe2(OFlag::O_CLOEXEC).unwrap();
        let ends = [r.as_fd(), w.as_fd(), w.as_fd()];
        let first = take(ends);
        assert!(Landed::take(ends).is_none(), "two spawns share the slots");
        drop(first);
        drop(take(ends));
    }
}
