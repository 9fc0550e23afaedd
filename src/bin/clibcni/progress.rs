//! Timing (`-v`) and a spinner for slow operations: each library call (one CNI list operation,
//! all of its plugins) is timed as a whole; single plugin calls are reported by the context.

use std::io::{IsTerminal, Write};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

/// How long an operation runs before the spinner shows, and how often it turns.
const SPINNER_DELAY: Duration = Duration::from_secs(1);
const SPINNER_INTERVAL: Duration = Duration::from_millis(100);
const FRAMES: [char; 4] = ['|', '/', '-', '\\'];

pub struct Progress {
    verbose: bool,
    /// Only when stderr is a terminal: logs and pipes get no carriage-return noise.
    spinner: bool,
}

impl Progress {
    pub fn new(verbose: bool) -> Progress {
        Progress {
            verbose,
            spinner: std::io::stderr().is_terminal(),
        }
    }

    /// Runs `op`; shows the spinner while it is slow; with `-v`, reports how long it took.
    pub fn run<T>(&self, label: &str, op: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = if self.spinner {
            with_spinner(
                label,
                SPINNER_DELAY,
                SPINNER_INTERVAL,
                &mut std::io::stderr(),
                op,
            )
        } else {
            op()
        };
        if self.verbose {
            eprintln!("clibcni: {}", timing_line(label, start.elapsed()));
        }
        out
    }
}

fn timing_line(label: &str, took: Duration) -> String {
    format!("{label} took {:.1} ms", took.as_secs_f64() * 1000.0)
}

/// Runs `op` on this thread while a helper thread draws the spinner on `out` once `delay` has
/// passed; the spinner line is erased when `op` returns.
fn with_spinner<T, W: Write + Send>(
    label: &str,
    delay: Duration,
    interval: Duration,
    out: &mut W,
    op: impl FnOnce() -> T,
) -> T {
    let (done, finished) = mpsc::channel::<()>();
    thread::scope(|scope| {
        scope.spawn(move || spin(label, delay, interval, finished, out));
        let result = op();
        drop(done);
        result
    })
}

fn spin(
    label: &str,
    delay: Duration,
    interval: Duration,
    finished: Receiver<()>,
    out: &mut impl Write,
) {
    let start = Instant::now();
    if finished.recv_timeout(delay) != Err(RecvTimeoutError::Timeout) {
        return;
    }
    for frame in FRAMES.iter().cycle() {
        // Drawing is best effort: a closed stderr must not disturb the operation.
        let _ = write!(out, "\r{frame} {label} ({}s)", start.elapsed().as_secs());
        let _ = out.flush();
        if finished.recv_timeout(interval) != Err(RecvTimeoutError::Timeout) {
            break;
        }
    }
    let _ = write!(out, "\r\x1b[2K");
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spinner_only_for_slow_operations() {
        let mut out = Vec::new();
        let value = with_spinner(
            "ADD x",
            Duration::from_millis(500),
            Duration::from_millis(5),
            &mut out,
            || 7,
        );
        assert_eq!(value, 7);
        assert!(out.is_empty(), "{:?}", String::from_utf8_lossy(&out));

        let mut out = Vec::new();
        with_spinner(
            "ADD x",
            Duration::from_millis(10),
            Duration::from_millis(5),
            &mut out,
            || thread::sleep(Duration::from_millis(100)),
        );
        let text = String::from_utf8_lossy(&out);
        assert!(text.starts_with("\r| ADD x (0s)\r/ ADD x (0s)"), "{text:?}");
        assert!(text.ends_with("\r\x1b[2K"), "{text:?}");
    }

    #[test]
    fn timing_line_says_what_was_timed() {
        assert_eq!(
            timing_line("ADD \"n\" on eth0", Duration::from_micros(12_345)),
            "ADD \"n\" on eth0 took 12.3 ms"
        );
    }
}
