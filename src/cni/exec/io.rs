//! Talking to a running plugin: one poll loop feeds stdin, drains stdout and stderr, and watches the plugin's exit and
//! the deadline, so neither a plugin that never reads nor descendants that keep its pipes open can hang the caller.

use std::os::fd::{AsFd, OwnedFd};
use std::thread;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::unistd::{read, write};

use super::spawn::Child;
use super::sys::read_appending;
use super::Backoff;

/// How long a plugin that has exited may leave descendants holding its stdout/stderr open.
const EXIT_GRACE: Duration = Duration::from_millis(200);
/// Longest time between exit checks while the plugin's output is open (it is checked at once when it closes).
const POLL_INTERVAL: Duration = Duration::from_millis(10);
/// Exit checks once the plugin closed its output: it is normally exiting within microseconds, so look again at once
/// (yielding the CPU) a few times before backing off with sleeps.
const SETTLE_SPINS: u32 = 64;
const SETTLE_FIRST: Duration = Duration::from_micros(50);
const SETTLE_MAX: Duration = Duration::from_millis(10);
/// Reads go straight into the output buffer: the first takes up to MIN_READ bytes, later ones as much as was read
/// so far (so the buffer doubles), up to READ_CHUNK (what a pipe holds).
const MIN_READ: usize = 4 << 10;
const READ_CHUNK: usize = 64 << 10;

/// Why the I/O loop ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Stop {
    /// The plugin exited and its output reached EOF.
    Done,
    /// The plugin exited but descendants kept its output open past the grace period.
    PipesHeld,
    TimedOut,
    /// stdout grew beyond its cap.
    TooLarge,
}

/// The parent's side of the plugin's stdio.
pub(super) struct Io<'a> {
    /// The part of stdin not written yet.
    input: &'a [u8],
    stdin: Option<OwnedFd>,
    stdout: Sink,
    stderr: Sink,
}

impl<'a> Io<'a> {
    /// `pipes` are the parent's ends of stdin (non-blocking; None when `input` is empty), stdout and stderr.
    pub(super) fn new(
        input: &'a [u8],
        pipes: [Option<OwnedFd>; 3],
        max_stdout: usize,
        max_stderr: usize,
    ) -> Io<'a> {
        let [stdin, stdout, stderr] = pipes;
        Io {
            input,
            stdin: stdin.filter(|_| !input.is_empty()),
            stdout: Sink::new(stdout, max_stdout),
            stderr: Sink::new(stderr, max_stderr),
        }
    }

    /// Runs until the plugin has exited and its output is closed, the deadline passes, or stdout exceeds its cap.
    ///
    /// The request is written at once (the pipe normally takes all of it), and whether the plugin has exited is
    /// asked only once its output is closed or every POLL_INTERVAL, not on every wakeup: a plugin call is then
    /// one write, the reads, one or two exit checks and the reap.
    pub(super) fn run(
        &mut self,
        child: &mut Child,
        deadline: Option<Instant>,
    ) -> nix::Result<Stop> {
        // Only the part of the request that did not fit the pipe before the spawn is left to write.
        let _blocked = match self.stdin {
            Some(_) => Some(SigpipeBlock::new()?),
            None => None,
        };
        self.feed_stdin()?;
        let mut grace_end: Option<Instant> = None; // set once the plugin has exited
        let mut next_exit_check = Instant::now() + POLL_INTERVAL;
        let mut settle = Backoff::new(SETTLE_SPINS, SETTLE_FIRST, SETTLE_MAX);
        loop {
            if self.stdout.overflowed {
                return Ok(Stop::TooLarge);
            }
            let now = Instant::now();
            if grace_end.is_none() && (self.output_closed() || now >= next_exit_check) {
                next_exit_check = now + POLL_INTERVAL;
                let exited = if self.output_closed() {
                    child.try_reap()?
                } else {
                    child.has_exited()?
                };
                if exited {
                    let end = now + EXIT_GRACE;
                    grace_end = Some(deadline.map_or(end, |deadline| deadline.min(end)));
                }
            }
            match grace_end {
                Some(_) if self.output_closed() => return Ok(Stop::Done),
                Some(end) if now >= end => return Ok(Stop::PipesHeld),
                None if deadline.is_some_and(|deadline| now >= deadline) => {
                    return Ok(Stop::TimedOut)
                }
                _ => {}
            }
            let step = if self.output_closed() {
                settle.step()
            } else {
                POLL_INTERVAL
            };
            let limit = grace_end.or(deadline); // the grace period never outlasts the deadline
            self.wait(limit.map_or(step, |limit| step.min(limit.saturating_duration_since(now))))?;
        }
    }

    /// What the plugin printed: stdout and stderr, each within its cap.
    pub(super) fn into_output(self) -> (Vec<u8>, Vec<u8>) {
        (self.stdout.data, self.stderr.data)
    }

    fn output_closed(&self) -> bool {
        self.stdout.fd.is_none() && self.stderr.fd.is_none()
    }

    /// Waits at most `timeout` for any stream to become ready, then moves data on the ready ones.
    fn wait(&mut self, timeout: Duration) -> nix::Result<()> {
        let [stdin, stdout, stderr] = self.ready(timeout)?;
        if stdin.is_some() {
            self.feed_stdin()?;
        }
        if let Some(events) = stdout {
            self.stdout.read_from(events)?;
        }
        if let Some(events) = stderr {
            self.stderr.read_from(events)?;
        }
        Ok(())
    }

    /// What poll reported for each of stdin, stdout and stderr that can make progress (EOF and errors count as
    /// progress).
    fn ready(&self, timeout: Duration) -> nix::Result<[Option<PollFlags>; 3]> {
        let streams = [
            (self.stdin.as_ref(), PollFlags::POLLOUT),
            (self.stdout.fd.as_ref(), PollFlags::POLLIN),
            (self.stderr.fd.as_ref(), PollFlags::POLLIN),
        ];
        let mut ready = [None; 3];
        let open = streams
            .iter()
            .enumerate()
            .filter_map(|(slot, &(fd, events))| Some((slot, PollFd::new(fd?.as_fd(), events))));
        // At most three: an array (the slots past `count` are never polled), not a Vec per wakeup.
        let Some((_, first)) = open.clone().next() else {
            if timeout.is_zero() {
                thread::yield_now();
            } else {
                thread::sleep(timeout);
            }
            return Ok(ready);
        };
        let (mut slots, mut fds, mut count) = ([0; 3], [first.clone(), first.clone(), first], 0);
        for (slot, fd) in open {
            (slots[count], fds[count]) = (slot, fd);
            count += 1;
        }
        let fds = &mut fds[..count];
        // poll counts whole milliseconds: round up so that a short wait does not become a busy loop.
        let millis = timeout.as_nanos().div_ceil(1_000_000);
        match poll(
            fds,
            PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX),
        ) {
            Ok(_) => {}
            Err(Errno::EINTR) => return Ok(ready),
            Err(e) => return Err(e),
        }
        for (slot, fd) in slots.into_iter().zip(fds.iter()) {
            ready[slot] = fd.revents().filter(|events| !events.is_empty());
        }
        Ok(ready)
    }

    /// Writes what the pipe takes; EPIPE means the plugin closed its stdin, which is its right.
    fn feed_stdin(&mut self) -> nix::Result<()> {
        let Some(fd) = &self.stdin else { return Ok(()) };
        match write(fd, self.input) {
            Ok(written) => {
                self.input = &self.input[written..];
                if self.input.is_empty() {
                    self.stdin = None;
                }
            }
            Err(Errno::EAGAIN | Errno::EINTR) => {}
            Err(Errno::EPIPE) => {
                // The failed write queued a SIGPIPE (blocked signals are never discarded): take it before unblocking.
                let _ = sigpipe_set().wait();
                self.stdin = None;
            }
            Err(e) => return Err(e),
        }
        Ok(())
    }
}

/// One output stream: read until EOF, keeping at most `limit` bytes.
struct Sink {
    fd: Option<OwnedFd>,
    data: Vec<u8>,
    limit: usize,
    /// More than `limit` bytes arrived (the excess was dropped).
    overflowed: bool,
}

impl Sink {
    fn new(fd: Option<OwnedFd>, limit: usize) -> Sink {
        Sink {
            fd,
            data: Vec::new(),
            limit,
            overflowed: false,
        }
    }

    /// One read per wakeup, so a plugin flooding one stream cannot starve the others or the deadline check. Data
    /// is read straight into `data` (its room is not zeroed first); once the cap is reached it is read into a
    /// scratch buffer and dropped.
    ///
    /// POLLHUP in `events` means no writer is left, so what the pipe holds is all there will be: without POLLIN it
    /// is empty, and a read shorter than asked for emptied it. Either is EOF, with no read to learn it.
    fn read_from(&mut self, events: PollFlags) -> nix::Result<()> {
        let Some(fd) = &self.fd else { return Ok(()) };
        let hung_up = events.contains(PollFlags::POLLHUP);
        if hung_up && !events.contains(PollFlags::POLLIN) {
            self.fd = None;
            return Ok(());
        }
        let kept = self.data.len();
        let room = self.limit.saturating_sub(kept);
        let (outcome, window) = if room == 0 {
            (read(fd, &mut [0u8; MIN_READ]), MIN_READ)
        } else {
            let window = kept.clamp(MIN_READ, READ_CHUNK).min(room);
            (read_appending(fd.as_fd(), &mut self.data, window), window)
        };
        match outcome {
            Ok(0) => self.fd = None,
            Ok(n) if hung_up && n < window => {
                self.overflowed |= room == 0;
                self.fd = None;
            }
            Ok(_) if room == 0 => self.overflowed = true,
            Ok(_) | Err(Errno::EAGAIN | Errno::EINTR) => {}
            Err(e) => return Err(e),
        }
        Ok(())
    }
}

/// Blocks SIGPIPE in the calling thread while the plugin's stdin is written: a plugin exiting without reading it
/// would otherwise raise SIGPIPE, which kills a host that keeps the default disposition. Dispositions are untouched;
/// the previous mask is restored on drop.
struct SigpipeBlock {
    previous: SigSet,
}

impl SigpipeBlock {
    fn new() -> nix::Result<SigpipeBlock> {
        Ok(SigpipeBlock {
            previous: sigpipe_set().thread_swap_mask(SigmaskHow::SIG_BLOCK)?,
        })
    }
}

impl Drop for SigpipeBlock {
    fn drop(&mut self) {
        let _ = self.previous.thread_set_mask();
    }
}

fn sigpipe_set() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGPIPE);
    set
}
