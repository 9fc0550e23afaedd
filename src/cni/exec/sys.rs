//! The CNI layer's only `unsafe` code: posix_spawn with the file action nix does not wrap,
//! `posix_spawn_file_actions_addclosefrom_np` (glibc 2.34 and later), which closes every
//! inherited fd in the child with one action. The symbol is looked up at run time, so a C library
//! without it is detected (`closefrom_available`) and the caller lists fds instead.
//!
//! Everything here owns its libc object (boxed, never moved once initialised), checks every
//! return value and frees on drop.

use std::ffi::{c_int, c_void, CStr, CString};
use std::mem::MaybeUninit;
use std::os::fd::RawFd;
use std::sync::OnceLock;

use nix::errno::Errno;
use nix::sys::signal::SigSet;
use nix::unistd::Pid;

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
pub(super) fn spawn(
    path: &CStr,
    argv: &[CString],
    env: &[CString],
    actions: &FileActions,
    attr: &SpawnAttr,
) -> nix::Result<Pid> {
    // NULL-terminated pointer arrays; the strings outlive the call. posix_spawn takes
    // `char *const[]` but does not write through them.
    let pointers = |strings: &[CString]| -> Vec<*mut libc::c_char> {
        strings
            .iter()
            .map(|s| s.as_ptr().cast_mut())
            .chain(std::iter::once(std::ptr::null_mut()))
            .collect()
    };
    let (argv, env) = (pointers(argv), pointers(env));
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
