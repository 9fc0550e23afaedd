//! Starting a plugin without fork (the host is multithreaded), and owning it until it is reaped. The child gets the
//! pipes as fds 0–2 and nothing else. Preferred: a vfork-style child that unshares the fd table keeping only 0–2 (or
//! the fds up to its pipes, where those are low or could be moved onto low slots) and otherwise copies its pipes from the caller's table with pidfd_getfd, or
//! reopens them through /proc where that is refused ([`sys::spawn_unshared`]), whose cost does not grow with the
//! host's fd count.
//! Where the kernel or /proc refuses that (detected at the first spawn), posix_spawn with one close-from action
//! where the C library has it, otherwise a close action for every fd listed in /proc/self/fd.

use std::ffi::CString;
use std::fmt;
use std::os::fd::{AsFd, AsRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::signal::{kill, killpg, Signal};
use nix::sys::wait::{waitid, waitpid, Id, WaitPidFlag, WaitStatus};
use nix::unistd::{pipe2, Pid};

use super::landing::{self, Landed};
use super::sys::{
    self, ChildStdio, CloneStage, FileActions, Pidfd, SpawnAttr, StdioReport, KEPT_BELOW,
};
use super::{Backoff, PluginEnv};

/// Retries of a spawn failing with ETXTBSY (a binary still being installed): 1 ms, doubling, ~0.5 s in all.
const ETXTBSY_FIRST: Duration = Duration::from_millis(1);
const ETXTBSY_BUDGET: Duration = Duration::from_millis(500);

/// How the plugin ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    /// The signal's name ("unknown" for one nix cannot name, e.g. a real-time signal).
    Signal(&'static str),
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "exit status {code}"),
            Exit::Signal(name) => write!(f, "signal: {name}"),
        }
    }
}

/// A spawned plugin, leader of its own process group. Dropping it unreaped kills the group and reaps it, so no error
/// path leaves a zombie or a runaway plugin behind.
pub(super) struct Child {
    pid: Pid,
    /// Reaped, by us or by another waiter of the host: the pid may be reused, so it is never signalled or waited for
    /// again.
    reaped: bool,
    /// The exit status `try_reap` took, for `reap` to return.
    exit: Option<Exit>,
}

impl Child {
    /// Starts `path` with fresh stdio pipes, `input` already in its stdin pipe as far as the pipe takes it; returns
    /// it with the parent's pipe ends: stdin (None once all of `input` is in the pipe; else non-blocking, so a
    /// plugin that does not read cannot block the caller), stdout and stderr (read only once poll reports them
    /// ready, so they need no flag), and how much of `input` is in the pipe. ETXTBSY is retried while time remains
    /// before `deadline`.
    pub(super) fn spawn(
        path: &Path,
        env: &PluginEnv,
        input: &[u8],
        deadline: Option<Instant>,
    ) -> Result<(Child, [Option<OwnedFd>; 3], usize), String> {
        let path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| "plugin path contains a NUL byte")?;
        let pipes = || -> nix::Result<_> {
            Ok([
                pipe_above_stdio()?,
                pipe_above_stdio()?,
                pipe_above_stdio()?,
            ])
        };
        let [(stdin_r, stdin_w), (stdout_r, stdout_w), (stderr_r, stderr_w)] =
            pipes().map_err(|e| format!("creating pipes: {e}"))?;
        // A write of at most PIPE_BUF bytes into the empty pipe cannot block (a pipe holds at least a page), so only
        // a longer request needs the non-blocking end.
        if input.len() > libc::PIPE_BUF {
            fcntl(&stdin_w, FcntlArg::F_SETFL(OFlag::O_NONBLOCK))
                .map_err(|e| format!("setting O_NONBLOCK: {e}"))?;
        }
        // While this process holds the read end, writing cannot raise SIGPIPE; requests normally fit the pipe, and
        // the plugin finds its whole request waiting.
        let fed = match nix::unistd::write(&stdin_w, input) {
            Ok(written) => written,
            Err(Errno::EAGAIN) => 0,
            Err(e) => return Err(format!("writing the plugin's stdin: {e}")),
        };
        let pipe_fds = [
            &stdin_r, &stdin_w, &stdout_r, &stdout_w, &stderr_r, &stderr_w,
        ]
        .map(AsRawFd::as_raw_fd);
        let ends = [&stdin_r, &stdout_w, &stderr_w];
        let closer = Closer::detect();
        let mut stdio = ends.map(AsRawFd::as_raw_fd);
        // Ends with high numbers move onto low ones for the child to keep (see `landing`); they are let go as soon
        // as the child has exec'd.
        let landed = match closer {
            Closer::Unshare => {
                landing::prepare();
                (!keeps(stdio))
                    .then(|| Landed::take(ends.map(AsFd::as_fd)))
                    .flatten()
            }
            Closer::CloseFrom | Closer::Listing => None,
        };
        if let Some(landed) = &landed {
            stdio = landed.fds();
        }
        let request = Request {
            argv: [path],
            env,
            closer,
            stdio,
            pipes: pipe_fds,
        };
        let pid = request.retrying(deadline).map_err(|e| match e {
            Errno::ETXTBSY => format!(
                "{e} (the binary stayed open for writing; retried for up to {ETXTBSY_BUDGET:?})"
            ),
            e => e.to_string(),
        })?;
        drop(landed);
        let child = Child {
            pid,
            reaped: false,
            exit: None,
        };
        let stdin_w = (fed < input.len()).then_some(stdin_w);
        Ok((child, [stdin_w, Some(stdout_r), Some(stderr_r)], fed))
    }

    /// Whether the plugin has exited, without reaping it: while its zombie exists its pid (= the process group id)
    /// cannot be reused, so a later `kill_group` can only hit the plugin's own descendants.
    pub(super) fn has_exited(&mut self) -> nix::Result<bool> {
        let flags = WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG | WaitPidFlag::WNOWAIT;
        loop {
            match waitid(Id::Pid(self.pid), flags) {
                Ok(WaitStatus::StillAlive) => return Ok(false),
                // Exited with a status nix cannot decode (a real-time signal): `reap` reports it.
                Ok(_) | Err(Errno::EINVAL) => return Ok(true),
                Err(Errno::ECHILD) => {
                    self.reaped = true;
                    return Ok(true);
                }
                Err(Errno::EINTR) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Reaps the plugin if it has exited (no wait). Only for a plugin whose output is closed: then nothing is left
    /// to kill, so its pid need not be held.
    pub(super) fn try_reap(&mut self) -> nix::Result<bool> {
        if self.reaped {
            return Ok(true);
        }
        match self.wait(Some(WaitPidFlag::WNOHANG)) {
            Ok(None) => Ok(false),
            Ok(Some(exit)) => {
                self.exit = Some(exit);
                Ok(true)
            }
            Err(Errno::ECHILD) => Ok(true),
            Err(e) => Err(e),
        }
    }

    /// SIGKILL to the plugin's process group, and to the plugin itself in case it moved to another group. Nothing
    /// once it is reaped; before, its zombie keeps both ids from being reused. ESRCH only means they are gone.
    pub(super) fn kill_group(&self) {
        if self.reaped {
            return;
        }
        let _ = killpg(self.pid, Signal::SIGKILL);
        let _ = kill(self.pid, Signal::SIGKILL);
    }

    /// Waits for the plugin's exit status; ECHILD when another waiter of the host took it.
    pub(super) fn reap(&mut self) -> nix::Result<Exit> {
        if let Some(exit) = self.exit.take() {
            return Ok(exit);
        }
        if self.reaped {
            return Err(Errno::ECHILD);
        }
        loop {
            if let Some(exit) = self.wait(None)? {
                return Ok(exit);
            }
        }
    }

    /// One waitpid with `flags`: the exit status once reaped, None while it runs (WNOHANG); ECHILD (and reaped)
    /// when another waiter took it.
    fn wait(&mut self, flags: Option<WaitPidFlag>) -> nix::Result<Option<Exit>> {
        loop {
            let exit = match waitpid(self.pid, flags) {
                Ok(WaitStatus::StillAlive) => return Ok(None),
                Ok(WaitStatus::Exited(_, code)) => Exit::Code(code),
                Ok(WaitStatus::Signaled(_, signal, _)) => Exit::Signal(signal.as_str()),
                // Reaped, with a status nix cannot decode (a real-time signal).
                Err(Errno::EINVAL) => Exit::Signal("unknown"),
                Err(Errno::ECHILD) => {
                    self.reaped = true;
                    return Err(Errno::ECHILD);
                }
                Err(Errno::EINTR) | Ok(_) => continue,
                Err(e) => return Err(e),
            };
            self.reaped = true;
            return Ok(Some(exit));
        }
    }

    pub(super) fn terminate(&mut self) {
        self.kill_group();
        let _ = self.reap();
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if !self.reaped {
            self.terminate();
        }
    }
}

/// How the child ends up with no inherited fd above 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Closer {
    /// The child unshares the fd table keeping only 0–2, before another thread can add to it, and reopens its pipes.
    Unshare,
    /// posix_spawn with one close-from action, run in the child: nothing another thread opens meanwhile slips through.
    CloseFrom,
    /// posix_spawn with a close action per fd listed in /proc/self/fd (C libraries without close-from): an fd another
    /// thread opens without O_CLOEXEC between the listing and the spawn is inherited.
    Listing,
}

/// Set for good once the kernel (before 5.9) or /proc refused an unshared spawn. (Valgrind, which cannot run one at
/// all, is detected before trying.)
static UNSHARE_REFUSED: AtomicBool = AtomicBool::new(false);

/// Set for good once an unshared child could not copy its pipes with pidfd_getfd for a reason that holds for every
/// later spawn too (see [`lasting_refusal`]); its children then reopen through /proc at once.
static GETFD_REFUSED: AtomicBool = AtomicBool::new(false);
/// Set for good once the kernel refused PIDFD_THREAD (before 6.9): the main thread still copies with a process
/// pidfd, other threads reopen through /proc.
static THREAD_PIDFD_REFUSED: AtomicBool = AtomicBool::new(false);

/// Which pidfd the next unshared child should try.
fn pidfd_to_try() -> Pidfd {
    if GETFD_REFUSED.load(Ordering::Relaxed) {
        Pidfd::Skip
    } else if THREAD_PIDFD_REFUSED.load(Ordering::Relaxed) {
        Pidfd::Process
    } else {
        Pidfd::Thread
    }
}

/// Whether a child's pidfd refusal will hold for every spawn of this process: no such system call (ENOSYS), or the
/// ptrace access check failed (EPERM, EACCES: Yama's ptrace_scope, an LSM). Other errors (ENOENT, or EINVAL before
/// Linux 6.9, for a process pidfd of a thread other than the main one; EMFILE) depend on the caller or the moment.
pub(super) fn lasting_refusal(error: Errno) -> bool {
    matches!(error, Errno::ENOSYS | Errno::EPERM | Errno::EACCES)
}

fn remember(report: StdioReport) {
    if report.thread_flag_refused {
        THREAD_PIDFD_REFUSED.store(true, Ordering::Relaxed);
    }
    if report.pidfd_error.is_some_and(lasting_refusal) {
        GETFD_REFUSED.store(true, Ordering::Relaxed);
    }
    #[cfg(test)]
    tests_hook::LAST_REPORT.set(Some(report));
}

impl Closer {
    pub(super) fn detect() -> Closer {
        #[cfg(test)]
        if let Some(forced) = tests_hook::FORCE.get() {
            return forced;
        }
        if !UNSHARE_REFUSED.load(Ordering::Relaxed) && !sys::under_valgrind() {
            Closer::Unshare
        } else {
            Closer::posix_spawn()
        }
    }

    fn posix_spawn() -> Closer {
        if sys::closefrom_available() {
            Closer::CloseFrom
        } else {
            Closer::Listing
        }
    }
}

/// Everything one spawn needs.
struct Request<'a> {
    /// The plugin's path, which is also its argv[0].
    argv: [CString; 1],
    env: &'a PluginEnv,
    closer: Closer,
    /// The child's ends of the pipes (or the slots they landed on), to become its fds 0, 1 and 2.
    stdio: [RawFd; 3],
    /// Both ends of the three pipes: close-on-exec, so they need no close action.
    pipes: [RawFd; 6],
}

impl Request<'_> {
    /// `once`, retried with backoff while the binary is busy being written (ETXTBSY) and the deadline allows, and once
    /// more with fresh close actions if a listed fd was closed by another thread meanwhile (EBADF).
    fn retrying(&self, deadline: Option<Instant>) -> nix::Result<Pid> {
        let mut busy = Backoff::new(0, ETXTBSY_FIRST, ETXTBSY_BUDGET);
        let mut slept = Duration::ZERO;
        let mut rescanned = false;
        loop {
            match self.once() {
                Err(Errno::ETXTBSY) if slept < ETXTBSY_BUDGET => {
                    let pause = busy.step();
                    if deadline.is_some_and(|deadline| Instant::now() + pause >= deadline) {
                        return Err(Errno::ETXTBSY);
                    }
                    thread::sleep(pause);
                    slept += pause;
                }
                Err(Errno::EBADF) if !rescanned => rescanned = true,
                spawned => return spawned,
            }
        }
    }

    /// One spawn: the pipe ends become fds 0–2 and no other fd is inherited.
    fn once(&self) -> nix::Result<Pid> {
        if self.closer != Closer::Unshare {
            return self.posix_spawn(self.closer);
        }
        match sys::spawn_unshared(
            &self.argv[0],
            &self.argv,
            self.env.iter(),
            &self.child_stdio(),
        ) {
            Ok((pid, report)) => {
                remember(report);
                Ok(pid)
            }
            Err((CloneStage::Exec, e)) => Err(e),
            Err(_) => {
                UNSHARE_REFUSED.store(true, Ordering::Relaxed);
                self.posix_spawn(Closer::posix_spawn())
            }
        }
    }

    /// The child's stdio: this thread's fds, to keep through the unshare where they are low, else to copy through a
    /// pidfd of this thread or reopen through /proc.
    fn child_stdio(&self) -> ChildStdio {
        let fds = self.stdio;
        let keep = keeps(fds);
        #[allow(unused_mut)] // spoiled by tests
        let mut stdio = ChildStdio {
            // Only a child that does not keep its pipes looks at the caller.
            caller: if keep {
                0
            } else {
                nix::unistd::gettid().as_raw()
            },
            fds,
            keep,
            pidfd: pidfd_to_try(),
        };
        #[cfg(test)]
        tests_hook::spoil(&mut stdio);
        stdio
    }

    /// posix_spawn with the pipe ends dup'ed onto 0–2 and every other fd closed by `closer`.
    fn posix_spawn(&self, closer: Closer) -> nix::Result<Pid> {
        let mut actions = FileActions::new()?;
        for (target, fd) in (0..).zip(self.stdio) {
            actions.add_dup2(fd, target)?;
        }
        match closer {
            Closer::Listing => {
                for fd in open_fds_above_stdio()?
                    .into_iter()
                    .filter(|fd| !self.pipes.contains(fd))
                {
                    // Refused only for an fd beyond RLIMIT_NOFILE, which the child could not close either.
                    let _ = actions.add_close(fd);
                }
            }
            Closer::CloseFrom | Closer::Unshare => actions.add_closefrom(3)?,
        }
        let attr = SpawnAttr::for_plugin()?;
        sys::spawn(&self.argv[0], &self.argv, self.env.iter(), &actions, &attr)
    }
}

/// Whether an unshared child keeps pipe ends with these numbers through the unshare: all of them are low enough.
pub(super) fn keeps(fds: [RawFd; 3]) -> bool {
    fds.iter().all(|&fd| fd < KEPT_BELOW)
}

/// A close-on-exec pipe with both ends above fd 2, so the dup2 actions onto 0–2 cannot clobber one another even in a
/// host running with its standard fds closed.
fn pipe_above_stdio() -> nix::Result<(OwnedFd, OwnedFd)> {
    let mut low = Vec::new(); // keeps fds 0–2 taken until a pipe lands above them
    for _ in 0..4 {
        let (read_end, write_end) = pipe2(OFlag::O_CLOEXEC)?;
        if read_end.as_raw_fd() > 2 && write_end.as_raw_fd() > 2 {
            return Ok((read_end, write_end));
        }
        low.extend([read_end, write_end]);
    }
    Err(Errno::EMFILE)
}

/// The fds >= 3 open in this process. Every one gets a close action: whether it is close-on-exec cannot be asked
/// without `unsafe` (nix's fcntl needs a BorrowedFd), and closing a close-on-exec fd early changes nothing. The
/// listing's own directory fd is included; it is closed by then, and glibc and musl ignore closing a closed fd.
fn open_fds_above_stdio() -> nix::Result<Vec<RawFd>> {
    let to_errno = |e: std::io::Error| e.raw_os_error().map_or(Errno::EIO, Errno::from_raw);
    let mut fds = Vec::new();
    for entry in std::fs::read_dir("/proc/self/fd").map_err(to_errno)? {
        let name = entry.map_err(to_errno)?.file_name();
        if let Some(fd) = name
            .to_str()
            .and_then(|name| name.parse::<RawFd>().ok())
            .filter(|fd| *fd > 2)
        {
            fds.push(fd);
        }
    }
    Ok(fds)
}

/// Unit tests run the fallbacks too.
#[cfg(test)]
pub(super) mod tests_hook {
    use std::cell::Cell;

    use super::{ChildStdio, Pidfd, StdioReport};

    thread_local! {
        /// Spawns of this thread use this way.
        pub static FORCE: Cell<Option<super::Closer>> = const { Cell::new(None) };
        /// Unshared children of this thread find neither way to their pipes: no pidfd, and a /proc path that does not
        /// exist.
        pub static SPOIL_REOPEN: Cell<bool> = const { Cell::new(false) };
        /// Unshared children of this thread (not the main one) ask for a process pidfd of it, which the kernel
        /// refuses (ENOENT; EINVAL before 6.9; not remembered), so they reopen through /proc.
        pub static SPOIL_GETFD: Cell<bool> = const { Cell::new(false) };
        /// Unshared children of this thread keep their pipes through the unshare (Some(true)) or never do
        /// (Some(false)), whatever the pipes' fd numbers.
        pub static KEEP: Cell<Option<bool>> = const { Cell::new(None) };
        /// How the last unshared child of this thread got its pipes.
        pub static LAST_REPORT: Cell<Option<StdioReport>> = const { Cell::new(None) };
    }

    /// Applies this thread's spoilers to an unshared child's stdio.
    pub fn spoil(stdio: &mut ChildStdio) {
        if let Some(keep) = KEEP.get() {
            stdio.keep = keep;
        }
        if SPOIL_REOPEN.get() || SPOIL_GETFD.get() {
            stdio.keep = false;
        }
        if !stdio.keep && stdio.caller == 0 {
            stdio.caller = nix::unistd::gettid().as_raw();
        }
        if SPOIL_REOPEN.get() {
            stdio.pidfd = Pidfd::Skip;
            stdio.caller = 0;
        }
        if SPOIL_GETFD.get() {
            stdio.pidfd = Pidfd::Process;
        }
    }

    /// Forgets that an unshared spawn was refused.
    pub fn unrefuse() {
        super::UNSHARE_REFUSED.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}
