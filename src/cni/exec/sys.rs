//! The CNI layer's only `unsafe` code, for what nix does not wrap:
//! - `spawn_unshared`: a vfork-style clone whose child drops the caller's fd table before doing
//!   anything else (close_range with CLOSE_RANGE_UNSHARE, Linux 5.9), so a spawn costs the same
//!   whatever number of fds the host holds, then keeps its pipe ends through the unshare where
//!   their numbers are low, else copies them back with pidfd_getfd or reopens them through /proc;
//!   its child code is the only code here that runs outside the Rust
//!   runtime's rules (see `clone_child`).
//! - `read_appending`: a read into a buffer's spare capacity, which the caller need not zero first.
//! - posix_spawn with `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34 and later), the
//!   fallback, which closes every inherited fd in the child with one action. The symbol is looked
//!   up at run time, so a C library without it is detected (`closefrom_available`) and the caller
//!   lists fds instead.
//!
//! Everything here owns its libc object (boxed, never moved once initialised), checks every
//! return value and frees on drop.

use std::ffi::{c_int, c_void, CStr, CString};
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::sync::OnceLock;

use nix::errno::Errno;
use nix::sys::signal::SigSet;
use nix::unistd::Pid;

/// One read(2) of at most `max` bytes from `fd`, appended to `buf` without zeroing the room first; the number of
/// bytes read.
pub(super) fn read_appending(fd: BorrowedFd, buf: &mut Vec<u8>, max: usize) -> nix::Result<usize> {
    buf.reserve(max);
    let spare = buf.spare_capacity_mut();
    let len = max.min(spare.len());
    // SAFETY: the kernel writes at most `len` bytes into the spare capacity, which is allocated and borrowed
    // only here.
    let n = unsafe { libc::read(fd.as_raw_fd(), spare.as_mut_ptr().cast(), len) };
    let n = usize::try_from(Errno::result(n)?).unwrap_or(0).min(len);
    // SAFETY: the first `n` bytes of the spare capacity were just written by read.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}

/// posix_spawn_file_actions_* return an error number (0: success).
fn check(rc: c_int) -> nix::Result<()> {
    match rc {
        0 => Ok(()),
        errno => Err(Errno::from_raw(errno)),
    }
}

type AddCloseFrom = unsafe extern "C" fn(*mut libc::posix_spawn_file_actions_t, c_int) -> c_int;

/// The C library's addclosefrom, if it has one (looked up once).
fn addclosefrom() -> Option<AddCloseFrom> {
    static FOUND: OnceLock<Option<AddCloseFrom>> = OnceLock::new();
    *FOUND.get_or_init(|| {
        let name = c"posix_spawn_file_actions_addclosefrom_np";
        // SAFETY: dlsym only looks a NUL-terminated name up in the loaded objects.
        let symbol = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
        (!symbol.is_null()).then(|| {
            // SAFETY: the symbol is glibc's `int (posix_spawn_file_actions_t *, int)`, which
            // AddCloseFrom declares exactly.
            unsafe { std::mem::transmute::<*mut c_void, AddCloseFrom>(symbol) }
        })
    })
}

/// Whether `FileActions::add_closefrom` works with this C library.
pub(super) fn closefrom_available() -> bool {
    addclosefrom().is_some()
}

/// A `posix_spawn_file_actions_t`, boxed: glibc keeps a pointer into it between calls.
pub(super) struct FileActions(Box<libc::posix_spawn_file_actions_t>);

impl FileActions {
    pub(super) fn new() -> nix::Result<FileActions> {
        let mut raw = Box::new(MaybeUninit::<libc::posix_spawn_file_actions_t>::uninit());
        // SAFETY: init writes a fresh object into the (writable, aligned) box.
        check(unsafe { libc::posix_spawn_file_actions_init(raw.as_mut_ptr()) })?;
        // SAFETY: initialised just above.
        Ok(FileActions(unsafe { raw.assume_init() }))
    }

    pub(super) fn add_dup2(&mut self, fd: RawFd, target: RawFd) -> nix::Result<()> {
        // SAFETY: self.0 is an initialised file actions object; the fds are only recorded.
        check(unsafe { libc::posix_spawn_file_actions_adddup2(&mut *self.0, fd, target) })
    }

    pub(super) fn add_close(&mut self, fd: RawFd) -> nix::Result<()> {
        // SAFETY: as for add_dup2.
        check(unsafe { libc::posix_spawn_file_actions_addclose(&mut *self.0, fd) })
    }

    /// One action closing every fd >= `from` in the child; ENOSYS without `closefrom_available`.
    pub(super) fn add_closefrom(&mut self, from: RawFd) -> nix::Result<()> {
        let add = addclosefrom().ok_or(Errno::ENOSYS)?;
        // SAFETY: `add` is glibc's addclosefrom (see addclosefrom()), given an initialised object.
        check(unsafe { add(&mut *self.0, from) })
    }
}

impl Drop for FileActions {
    fn drop(&mut self) {
        // SAFETY: initialised in new() and destroyed only here.
        unsafe { libc::posix_spawn_file_actions_destroy(&mut *self.0) };
    }
}

/// A `posix_spawnattr_t` for plugins: its own process group, an empty signal mask and default
/// dispositions for every signal (a plugin must not inherit the host's blocked or ignored ones).
pub(super) struct SpawnAttr(Box<libc::posix_spawnattr_t>);

impl SpawnAttr {
    pub(super) fn for_plugin() -> nix::Result<SpawnAttr> {
        let mut raw = Box::new(MaybeUninit::<libc::posix_spawnattr_t>::uninit());
        // SAFETY: init writes a fresh object into the box.
        check(unsafe { libc::posix_spawnattr_init(raw.as_mut_ptr()) })?;
        // SAFETY: initialised just above; from here on Drop destroys it.
        let mut attr = SpawnAttr(unsafe { raw.assume_init() });
        let flags = libc::POSIX_SPAWN_SETPGROUP
            | libc::POSIX_SPAWN_SETSIGMASK
            | libc::POSIX_SPAWN_SETSIGDEF;
        let a: *mut libc::posix_spawnattr_t = &mut *attr.0;
        // SAFETY: `a` is the initialised attribute object; the sigsets are only copied from.
        unsafe {
            check(libc::posix_spawnattr_setflags(a, flags as libc::c_short))?;
            check(libc::posix_spawnattr_setpgroup(a, 0))?;
            check(libc::posix_spawnattr_setsigmask(
                a,
                SigSet::empty().as_ref(),
            ))?;
            check(libc::posix_spawnattr_setsigdefault(
                a,
                SigSet::all().as_ref(),
            ))?;
        }
        Ok(attr)
    }
}

impl Drop for SpawnAttr {
    fn drop(&mut self) {
        // SAFETY: initialised in for_plugin() and destroyed only here.
        unsafe { libc::posix_spawnattr_destroy(&mut *self.0) };
    }
}

/// posix_spawn of `path` with `argv` and `env`.
pub(super) fn spawn<'e>(
    path: &CStr,
    argv: &[CString],
    env: impl IntoIterator<Item = &'e CStr>,
    actions: &FileActions,
    attr: &SpawnAttr,
) -> nix::Result<Pid> {
    let (argv, env) = (
        pointer_array(argv.iter().map(CString::as_c_str)),
        pointer_array(env),
    );
    let mut pid: libc::pid_t = 0;
    // SAFETY: every pointer is valid for the call: the path, the NULL-terminated arrays of
    // NUL-terminated strings, and the initialised file actions and attributes.
    let rc = unsafe {
        libc::posix_spawn(
            &mut pid,
            path.as_ptr(),
            &*actions.0,
            &*attr.0,
            argv.as_ptr(),
            env.as_ptr(),
        )
    };
    check(rc).map(|()| Pid::from_raw(pid))
}

/// Whether this process runs under Valgrind, which supports clone only as threads or fork and
/// ends the whole process on [`spawn_unshared`]'s clone. Its core preload library, always loaded,
/// exports `_vgnU_freeres`.
pub(super) fn under_valgrind() -> bool {
    static FOUND: OnceLock<bool> = OnceLock::new();
    *FOUND.get_or_init(|| {
        // SAFETY: dlsym only looks a NUL-terminated name up in the loaded objects.
        !unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"_vgnU_freeres".as_ptr()) }.is_null()
    })
}

/// Where a [`spawn_unshared`] child stopped before running the plugin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum CloneStage {
    /// close_range(CLOSE_RANGE_UNSHARE) refused (a kernel before 5.9).
    Unshare,
    /// A /proc path of the caller's pipe ends could not be opened (no /proc, or no access to it).
    Reopen,
    /// setpgid or execve failed: the plugin's own error, as posix_spawn reports it.
    Exec,
}

impl CloneStage {
    fn code(self) -> c_int {
        self as c_int + 1
    }

    fn from_code(code: c_int) -> Option<CloneStage> {
        [CloneStage::Unshare, CloneStage::Reopen, CloneStage::Exec]
            .into_iter()
            .find(|stage| stage.code() == code)
    }
}

/// `pidfd_open`'s flag for a pidfd of one thread rather than of a process (Linux 6.9; the libc
/// crate does not define it).
const PIDFD_THREAD: libc::c_uint = libc::O_EXCL as libc::c_uint;

/// Which pidfd of the caller a [`spawn_unshared`] child opens to copy the pipe ends from the
/// caller's fd table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pidfd {
    /// Of the calling thread (PIDFD_THREAD); `Process` where the kernel lacks the flag.
    Thread,
    /// pidfd_open(tid, 0): it names a process only for the main thread, so for any other caller
    /// the kernel refuses it and the child reopens through /proc.
    Process,
    /// Not tried: the child reopens through /proc.
    Skip,
}

/// Pipe ends all below this are kept through the unshare. The kernel copies the caller's table
/// up to the first fd closed, in words of 64 fds, so keeping fds below 64 costs what keeping 0–2
/// does, and ~6 µs less than opening a pidfd and copying three fds through it.
pub(super) const KEPT_BELOW: RawFd = 64;

/// How a [`spawn_unshared`] child gets its fds 0–2, the caller's `fds` (the open files
/// posix_spawn's dup2 would give it): kept through the unshare where `keep` says they are all
/// below [`KEPT_BELOW`]; else copies taken with pidfd_getfd through a pidfd of `caller` — three
/// cheap lookups instead of three /proc path walks — or else reopened through
/// `/proc/<caller>/fd/<fd>` (`/proc/<tid>` names the thread itself; it is only left out of
/// listings): the fd numbers name the same pipes.
pub(super) struct ChildStdio {
    /// The calling thread's id.
    pub caller: libc::pid_t,
    pub fds: [RawFd; 3],
    pub keep: bool,
    pub pidfd: Pidfd,
}

/// How a [`spawn_unshared`] child got its pipes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Route {
    /// Kept through the unshare (low fd numbers).
    Kept,
    /// Copied with pidfd_getfd.
    Copied,
    /// Reopened through /proc.
    Reopened,
}

/// How the child reopens each of its fds 0–2.
const REOPEN_FLAGS: [c_int; 3] = [libc::O_RDONLY, libc::O_WRONLY, libc::O_WRONLY];

/// How a [`spawn_unshared`] child got its pipes, for the caller to remember what the kernel refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct StdioReport {
    pub route: Route,
    /// The kernel does not know PIDFD_THREAD (before 6.9).
    pub thread_flag_refused: bool,
    /// Why pidfd_open or pidfd_getfd failed, where the child tried them.
    pub pidfd_error: Option<Errno>,
}

/// What the child reads (prepared by the caller: the child must not allocate) and writes back.
#[repr(C)]
struct ChildArgs {
    path: *const libc::c_char,
    argv: *const *mut libc::c_char,
    env: *const *mut libc::c_char,
    stdio: *const ChildStdio,
    /// Set by a child that failed: a `CloneStage` code and the errno.
    failed: c_int,
    errno: c_int,
    /// Written by the child for its `StdioReport`.
    copied: c_int,
    thread_flag_refused: c_int,
    pidfd_errno: c_int,
}

/// The child's stack: heap memory of the caller, used only while the caller is suspended in clone.
const CHILD_STACK: usize = 32 << 10;

/// Spawns `path` in a child that shares the caller's memory and fd table only until its first
/// system call: close_range(3, ~0, CLOSE_RANGE_UNSHARE) gives it a private table holding fds 0–2
/// alone (the kernel copies at most 64 entries however many the caller holds, and nothing another
/// thread opens meanwhile reaches it), or close_range(max + 1, ~0, CLOSE_RANGE_UNSHARE) one
/// holding 0 to max, the highest of its pipe ends, where `stdio.keep` says that is below
/// [`KEPT_BELOW`]. The child then gets its stdio pipes as `stdio` says (see `copy_stdio`), moves
/// them to 0–2, closes every other fd, joins a new process group, resets the standard signals to
/// their defaults (see `reset_signals`), unblocks them all and execs. The caller is suspended until
/// then (CLONE_VFORK), with every signal blocked so that no handler of the host runs in the child.
pub(super) fn spawn_unshared<'e>(
    path: &CStr,
    argv: &[CString],
    env: impl IntoIterator<Item = &'e CStr>,
    stdio: &ChildStdio,
) -> Result<(Pid, StdioReport), (CloneStage, Errno)> {
    let (argv, env) = (
        pointer_array(argv.iter().map(CString::as_c_str)),
        pointer_array(env),
    );
    let mut args = ChildArgs {
        path: path.as_ptr(),
        argv: argv.as_ptr(),
        env: env.as_ptr(),
        stdio: std::ptr::from_ref(stdio),
        failed: 0,
        errno: 0,
        copied: 0,
        thread_flag_refused: 0,
        pidfd_errno: 0,
    };
    let mut stack = Box::<[u128]>::new_uninit_slice(CHILD_STACK / size_of::<u128>());
    // SAFETY: one past the end of the allocation (the stack grows down from it); 16-aligned.
    let top = unsafe { stack.as_mut_ptr().add(stack.len()) }.cast::<c_void>();
    let unblock = SigSet::all()
        .thread_swap_mask(nix::sys::signal::SigmaskHow::SIG_SETMASK)
        .map_err(|e| (CloneStage::Exec, e))?;
    let flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_FILES | libc::SIGCHLD;
    // SAFETY: `clone_child` only makes async-signal-safe calls and never returns into this
    // frame; it runs on `stack` (ours, unused by this thread meanwhile) and reads `args`, whose
    // pointers stay valid until clone returns, which with CLONE_VFORK is after the child's exec
    // or exit. Signals are blocked around it, so no handler runs on the child's stack.
    let pid = unsafe {
        libc::clone(
            clone_child,
            top,
            flags,
            std::ptr::from_mut(&mut args).cast(),
        )
    };
    let clone_errno = Errno::last();
    let _ = unblock.thread_set_mask();
    drop(stack);
    if pid < 0 {
        return Err((CloneStage::Exec, clone_errno));
    }
    let pid = Pid::from_raw(pid);
    // SAFETY: the child wrote these (if at all) before its exec or exit, and clone returned after.
    let read = |field: &c_int| unsafe { std::ptr::read_volatile(field) };
    let Some(stage) = CloneStage::from_code(read(&args.failed)) else {
        let pidfd_errno = read(&args.pidfd_errno);
        let route = match (stdio.keep, read(&args.copied) != 0) {
            (true, _) => Route::Kept,
            (false, true) => Route::Copied,
            (false, false) => Route::Reopened,
        };
        let report = StdioReport {
            route,
            thread_flag_refused: read(&args.thread_flag_refused) != 0,
            pidfd_error: (pidfd_errno != 0).then(|| Errno::from_raw(pidfd_errno)),
        };
        return Ok((pid, report));
    };
    let errno = read(&args.errno);
    // The child exits at once; reap it here (another waiter of the host may have done so).
    while let Err(Errno::EINTR) = nix::sys::wait::waitpid(pid, None) {}
    Err((stage, Errno::from_raw(errno)))
}

/// NULL-terminated pointer arrays of strings that outlive the call. posix_spawn and execve take
/// `char *const[]` but do not write through them.
fn pointer_array<'s>(strings: impl IntoIterator<Item = &'s CStr>) -> Vec<*mut libc::c_char> {
    strings
        .into_iter()
        .map(|s| s.as_ptr().cast_mut())
        .chain(std::iter::once(std::ptr::null_mut()))
        .collect()
}

/// The child of [`spawn_unshared`]. It runs on the caller's memory with the caller's thread
/// pointer, so it allocates nothing, takes no lock, cannot panic, and makes only raw system calls
/// or calls async-signal-safe C functions that are not cancellation points (a cancellation
/// pending on the caller's thread must not act in the child).
extern "C" fn clone_child(arg: *mut c_void) -> c_int {
    let args = arg.cast::<ChildArgs>();
    // SAFETY: the caller keeps its ChildStdio alive until clone returns.
    let stdio = unsafe { &*(*args).stdio };
    let fail = |stage: CloneStage| -> c_int {
        let errno = Errno::last_raw();
        // SAFETY: `args` points to the caller's ChildArgs, alive until clone returns in the
        // caller, which happens only after this child's _exit.
        unsafe {
            std::ptr::write_volatile(&raw mut (*args).errno, errno);
            std::ptr::write_volatile(&raw mut (*args).failed, stage.code());
            libc::_exit(127)
        }
    };
    // Above the kept pipe ends (all of them above 2), or above 2.
    let first_closed = match stdio.keep {
        true => stdio.fds.into_iter().max().unwrap_or(2) + 1,
        false => 3,
    };
    // SAFETY: a raw system call on the child's own fd table; no memory is passed.
    let unshared = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first_closed as libc::c_uint,
            libc::c_uint::MAX,
            libc::CLOSE_RANGE_UNSHARE as libc::c_uint,
        )
    };
    if unshared != 0 {
        return fail(CloneStage::Unshare);
    }
    let kept = stdio.keep.then_some(stdio.fds);
    let opened = match kept.or_else(|| copy_stdio(args)) {
        Some(fds) => fds,
        None => {
            let mut opened: [c_int; 3] = [-1; 3];
            for ((opened, fd), flags) in opened.iter_mut().zip(stdio.fds).zip(REOPEN_FLAGS) {
                match reopen_above_stdio(stdio.caller, fd, flags) {
                    Some(reopened) => *opened = reopened,
                    None => return fail(CloneStage::Reopen),
                }
            }
            opened
        }
    };
    for (target, fd) in (0..).zip(opened) {
        // SAFETY: raw system calls on the child's private fd table.
        if unsafe { libc::syscall(libc::SYS_dup3, fd, target as c_int, 0) } < 0 {
            return fail(CloneStage::Reopen);
        }
    }
    close_above_stdio();
    // SAFETY: setpgid is a system call on this process.
    if unsafe { libc::setpgid(0, 0) } != 0 {
        return fail(CloneStage::Exec);
    }
    reset_signals();
    // SAFETY: the arrays are the caller's NULL-terminated arrays of NUL-terminated strings,
    // alive until clone returns; execve only returns on failure.
    unsafe { libc::execve((*args).path, (*args).argv.cast(), (*args).env.cast()) };
    fail(CloneStage::Exec)
}

/// The child's pipe ends as pidfd_getfd copies of the caller's (Linux 5.6), through a pidfd of the
/// caller as `Pidfd` says; None, with the refusal noted in `args` and nothing left open, where
/// that is refused (no pidfd_getfd, the ptrace check of Yama or another LSM, no PIDFD_THREAD for
/// a caller other than the main thread) so that the child reopens through /proc instead.
fn copy_stdio(args: *mut ChildArgs) -> Option<[c_int; 3]> {
    // SAFETY: `args` and its ChildStdio are the caller's, alive until clone returns.
    let stdio = unsafe { &*(*args).stdio };
    // SAFETY: as above; the child is the only writer until then.
    let note = |field: *mut c_int, value: c_int| unsafe { std::ptr::write_volatile(field, value) };
    // SAFETY: as above.
    let refused = move |errno: c_int| unsafe {
        note(&raw mut (*args).pidfd_errno, errno);
        close_above_stdio();
        None
    };
    let mut flags = match stdio.pidfd {
        Pidfd::Thread => PIDFD_THREAD,
        Pidfd::Process => 0,
        Pidfd::Skip => return None,
    };
    let pidfd = loop {
        // SAFETY: a raw system call with plain values; it opens an fd in the child's own table.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, stdio.caller, flags) } as c_int;
        if fd < 0 && Errno::last_raw() == libc::EINVAL && flags == PIDFD_THREAD {
            // SAFETY: as for `note`.
            note(unsafe { &raw mut (*args).thread_flag_refused }, 1);
            flags = 0;
            continue;
        }
        match above_stdio(fd) {
            Some(fd) => break fd,
            None => return refused(Errno::last_raw()),
        }
    };
    let mut copied: [c_int; 3] = [-1; 3];
    for (copy, fd) in copied.iter_mut().zip(stdio.fds) {
        // SAFETY: a raw system call with plain values; the copy lands in the child's own table.
        let got = unsafe { libc::syscall(libc::SYS_pidfd_getfd, pidfd, fd, 0) } as c_int;
        match above_stdio(got) {
            Some(got) => *copy = got,
            None => return refused(Errno::last_raw()),
        }
    }
    // SAFETY: as for `note`.
    note(unsafe { &raw mut (*args).copied }, 1);
    Some(copied)
}

/// Opens `/proc/<tid>/fd/<fd>` close-on-exec and returns it as an fd above 2.
fn reopen_above_stdio(tid: libc::pid_t, fd: RawFd, flags: c_int) -> Option<c_int> {
    let mut path = PathBuffer::default();
    for part in [
        b"/proc/".as_slice(),
        Decimal::of(tid).digits(),
        b"/fd/",
        Decimal::of(fd).digits(),
        b"\0",
    ] {
        path.push(part)?;
    }
    // SAFETY: a NUL-terminated path on this stack frame; the rest are plain values.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat,
            libc::AT_FDCWD,
            path.bytes.as_ptr(),
            flags | libc::O_CLOEXEC,
            0,
        )
    } as c_int;
    above_stdio(fd)
}

/// A path built in the child, which must not allocate: `/proc/` and `/fd/` with two numbers of at
/// most 10 digits and a NUL fit.
#[derive(Default)]
struct PathBuffer {
    bytes: [u8; 32],
    len: usize,
}

impl PathBuffer {
    fn push(&mut self, part: &[u8]) -> Option<()> {
        let end = self.len + part.len();
        self.bytes.get_mut(self.len..end)?.copy_from_slice(part);
        self.len = end;
        Some(())
    }
}

/// The decimal digits of a non-negative number (a negative one has none, so its path cannot name
/// anything).
struct Decimal {
    digits: [u8; 10],
    start: usize,
}

impl Decimal {
    fn of(n: c_int) -> Decimal {
        let mut decimal = Decimal {
            digits: [0; 10],
            start: 10,
        };
        if let Ok(mut n) = u32::try_from(n) {
            loop {
                decimal.start -= 1;
                decimal.digits[decimal.start] = b'0' + (n % 10) as u8;
                n /= 10;
                if n == 0 {
                    break;
                }
            }
        }
        decimal
    }

    fn digits(&self) -> &[u8] {
        &self.digits[self.start..]
    }
}

/// `fd` (a result of a system call in the child: None when negative) moved above 2 if it is one of
/// 0–2, which may be free in a host running with its standard fds closed; the moved copy is
/// close-on-exec, as every fd the child opens.
fn above_stdio(fd: c_int) -> Option<c_int> {
    if fd >= 3 {
        return Some(fd);
    }
    if fd < 0 {
        return None;
    }
    // SAFETY: fcntl and close on an fd of the child's private table.
    let moved = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) };
    // SAFETY: as above.
    unsafe { libc::syscall(libc::SYS_close, fd) };
    (moved >= 0).then_some(moved)
}

/// Closes every fd from 3 up in the child's private table: all of them are the child's own.
fn close_above_stdio() {
    // SAFETY: a raw system call on the child's private fd table.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3 as libc::c_uint,
            libc::c_uint::MAX,
            0,
        )
    };
}

/// The standard signals (1–31) to their default dispositions, then an empty mask. A handler of
/// the host must not run in the child, and a plugin must not inherit an ignored standard signal
/// (a daemon typically ignores SIGPIPE). Real-time signals are left alone: exec makes caught ones
/// default, and it takes a system call per signal (~0.2 µs each) to look at them, for a
/// disposition daemons do not use; once the child is in its own process group nothing but
/// `kill(-1, …)` could reach it before exec anyway.
fn reset_signals() {
    // SAFETY: an all-zero sigaction is SIG_DFL with no flags and an empty mask.
    let default: libc::sigaction = unsafe { std::mem::zeroed() };
    for signal in 1..32 {
        if signal != libc::SIGKILL && signal != libc::SIGSTOP {
            // SAFETY: sigaction only reads `default`.
            unsafe { libc::sigaction(signal, &default, std::ptr::null_mut()) };
        }
    }
    // SAFETY: an empty set, read by sigprocmask.
    unsafe {
        let mut empty = MaybeUninit::<libc::sigset_t>::uninit();
        libc::sigemptyset(empty.as_mut_ptr());
        libc::sigprocmask(libc::SIG_SETMASK, empty.as_ptr(), std::ptr::null_mut());
    }
}
