//! Timing (`-v`) and a spinner for slow operations: each library call (one CNI list operation,
//! all of its plugins) is timed as a whole; single plugin calls are reported by the context.

use std::io::IsTerminal;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long an operation runs before the spinner shows, and how often it turns.
const SPINNER_DELAY: Duration = Duration::from_secs(1);
const SPINNER_INTERVAL: Duration = Duration::from_millis(100);

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
            with_spinner(label, SPINNER_DELAY, ProgressDrawTarget::stderr, op)
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

/// Runs `op` on this thread; once `delay` has passed, a helper thread shows a spinner on
/// `target()` until `op` returns, then clears it.
fn with_spinner<T>(
    label: &str,
    delay: Duration,
    target: impl FnOnce() -> ProgressDrawTarget + Send,
    op: impl FnOnce() -> T,
) -> T {
    let (done, finished) = mpsc::channel::<()>();
    thread::scope(|scope| {
        scope.spawn(move || {
            if finished.recv_timeout(delay) != Err(RecvTimeoutError::Timeout) {
                return;
            }
            let style = ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            let bar = ProgressBar::with_draw_target(None, target())
                .with_style(style)
                .with_message(label.to_string())
                .with_elapsed(delay);
            bar.enable_steady_tick(SPINNER_INTERVAL);
            // Until `done` is dropped.
            let _ = finished.recv();
            bar.finish_and_clear();
        });
        let result = op();
        drop(done);
        result
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::TermLike;
    use std::io;
    use std::sync::{Arc, Condvar, Mutex};

    /// A terminal that records what is drawn on it, and says when something was.
    #[derive(Clone, Debug, Default)]
    struct Screen(Arc<(Mutex<String>, Condvar)>);

    impl Screen {
        fn text(&self) -> String {
            self.0 .0.lock().unwrap().clone()
        }
        fn put(&self, s: &str) -> io::Result<()> {
            self.0 .0.lock().unwrap().push_str(s);
            self.0 .1.notify_all();
            Ok(())
        }
        /// Waits until `part` has been drawn (a generous bound, so a hang fails the test).
        fn wait_for(&self, part: &str) -> bool {
            let (text, drawn) = &*self.0;
            let guard = text.lock().unwrap();
            let (guard, _) = drawn
                .wait_timeout_while(guard, Duration::from_secs(30), |t| !t.contains(part))
                .unwrap();
            guard.contains(part)
        }
    }

    impl TermLike for Screen {
        fn width(&self) -> u16 {
            80
        }
        fn move_cursor_up(&self, _: usize) -> io::Result<()> {
            self.put("<up>")
        }
        fn move_cursor_down(&self, _: usize) -> io::Result<()> {
            self.put("<down>")
        }
        fn move_cursor_right(&self, _: usize) -> io::Result<()> {
            self.put("<right>")
        }
        fn move_cursor_left(&self, _: usize) -> io::Result<()> {
            self.put("<left>")
        }
        fn write_line(&self, s: &str) -> io::Result<()> {
            self.put(&format!("{s}\n"))
        }
        fn write_str(&self, s: &str) -> io::Result<()> {
            self.put(s)
        }
        fn clear_line(&self) -> io::Result<()> {
            self.put("<clear>")
        }
        fn flush(&self) -> io::Result<()> {
            Ok(())
        }
    }

    fn on(screen: &Screen) -> impl FnOnce() -> ProgressDrawTarget + Send {
        let screen = screen.clone();
        move || ProgressDrawTarget::term_like(Box::new(screen))
    }

    #[test]
    fn spinner_only_for_slow_operations() {
        let fast = Screen::default();
        let value = with_spinner("ADD x", Duration::from_millis(500), on(&fast), || 7);
        assert_eq!(value, 7);
        assert!(fast.text().is_empty(), "{:?}", fast.text());

        let slow = Screen::default();
        // The operation lasts until the spinner has been drawn: no guess at how long that takes.
        let drawn = with_spinner("ADD x", Duration::from_millis(10), on(&slow), || {
            slow.wait_for(" ADD x (0s)")
        });
        assert!(drawn, "no spinner: {:?}", slow.text());
        let text = slow.text();
        let drawn = text.rfind(" ADD x (0s)");
        assert!(drawn.is_some(), "{text:?}");
        assert!(
            text.rfind("<clear>") > drawn,
            "the spinner is erased: {text:?}"
        );
    }

    #[test]
    fn timing_line_says_what_was_timed() {
        assert_eq!(
            timing_line("ADD \"n\" on eth0", Duration::from_micros(12_345)),
            "ADD \"n\" on eth0 took 12.3 ms"
        );
    }
}
