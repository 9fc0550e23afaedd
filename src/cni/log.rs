//! The library's log: records with a level and the context of the operation (network, container,
//! plugin, CNI command), delivered to one sink the host registers. There is no process-global
//! logger (another library in the same daemon may own `log`'s), and nothing goes to stderr: with
//! no sink, records are dropped before they are formatted.
//!
//! Delivery never happens while the library holds one of its locks: records made during a call
//! from the host (between [`defer`] and the drop of its guard) wait in a per-thread queue and are
//! delivered when the call returns, so a sink may call back into the library. Records made by
//! library calls from inside the sink are dropped rather than delivered, so a sink that logs
//! through the library cannot loop.

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, RwLock};

use crate::cni::sync::Recover;

/// The [`Location`] of the macro call.
macro_rules! here {
    () => {
        $crate::cni::log::Location {
            file: file!(),
            module: module_path!(),
            line: line!(),
        }
    };
}
pub(crate) use here;

/// `log!(Level::Warn, context, "format", args…)`.
macro_rules! log {
    ($level:expr, $context:expr, $($arg:tt)+) => {
        $crate::cni::log::emit($level, &$context, $crate::cni::log::here!(), format_args!($($arg)+))
    };
}
pub(crate) use log;

/// iSulad's levels, most severe first; a sink receives the records at or above its maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
    Trace = 4,
}

impl Level {
    pub fn from_index(index: i32) -> Option<Level> {
        [
            Level::Error,
            Level::Warn,
            Level::Info,
            Level::Debug,
            Level::Trace,
        ]
        .get(usize::try_from(index).ok()?)
        .copied()
    }

    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        }
    }
}

/// What a record is about; each part is optional.
#[derive(Clone, Copy, Debug, Default)]
pub struct Context<'a> {
    pub network: Option<&'a str>,
    pub container_id: Option<&'a str>,
    pub plugin: Option<&'a str>,
    pub command: Option<&'a str>,
}

impl<'a> Context<'a> {
    pub fn network(network: &'a str) -> Context<'a> {
        Context {
            network: Some(network),
            ..Context::default()
        }
    }
}

/// Where in the library a record was made (for line formats that show it, as clibcni 2.1.0's).
#[derive(Clone, Copy, Debug)]
pub struct Location {
    pub file: &'static str,
    pub module: &'static str,
    pub line: u32,
}

/// One record, as a sink sees it.
#[derive(Debug)]
pub struct Record<'a> {
    pub level: Level,
    pub message: &'a str,
    pub context: Context<'a>,
    pub location: Location,
}

pub type Sink = Arc<dyn Fn(&Record<'_>) + Send + Sync>;

/// The registered sink and its maximum level.
static SINK: RwLock<Option<(Sink, Level)>> = RwLock::new(None);
/// The sink's maximum level, or -1 without a sink: lets `enabled` skip the lock.
static MAX_LEVEL: AtomicI32 = AtomicI32::new(-1);

/// Registers `sink` for records at or above `max` (None: drops every record from now on).
/// Threads already delivering to the previous sink finish doing so.
pub fn set_sink(sink: Option<(Sink, Level)>) {
    let mut slot = SINK.write().recover();
    MAX_LEVEL.store(
        sink.as_ref().map_or(-1, |(_, max)| *max as i32),
        Ordering::Release,
    );
    *slot = sink;
}

/// Whether a record of this level would reach a sink (callers skip building costly messages).
pub fn enabled(level: Level) -> bool {
    (level as i32) <= MAX_LEVEL.load(Ordering::Acquire)
}

/// A record kept until its call returns.
struct Queued {
    level: Level,
    message: String,
    network: Option<String>,
    container_id: Option<String>,
    plugin: Option<String>,
    command: Option<String>,
    location: Location,
}

/// Records beyond this many in one call are counted, not kept.
const MAX_QUEUED: usize = 4096;

#[derive(Default)]
struct ThreadState {
    /// Nesting of calls from the host on this thread.
    depth: u32,
    /// This thread is inside the sink.
    delivering: bool,
    queue: Vec<Queued>,
    dropped: usize,
}

thread_local! {
    static STATE: RefCell<ThreadState> = RefCell::new(ThreadState::default());
}

/// Holds this thread's records until dropped (the end of a call from the host), then delivers
/// them in order.
pub struct Deferred(());

/// Starts deferring this thread's records (calls nest; the outermost delivers).
pub fn defer() -> Deferred {
    STATE.with(|s| s.borrow_mut().depth += 1);
    Deferred(())
}

impl Drop for Deferred {
    fn drop(&mut self) {
        let flush = STATE.with(|s| {
            let mut s = s.borrow_mut();
            s.depth -= 1;
            s.depth == 0 && !s.delivering && !s.queue.is_empty()
        });
        if flush {
            deliver_queue();
        }
    }
}

fn deliver_queue() {
    let (queue, dropped) = STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.delivering = true;
        (std::mem::take(&mut s.queue), std::mem::take(&mut s.dropped))
    });
    for q in &queue {
        let context = Context {
            network: q.network.as_deref(),
            container_id: q.container_id.as_deref(),
            plugin: q.plugin.as_deref(),
            command: q.command.as_deref(),
        };
        deliver(q.level, &context, q.location, &q.message);
    }
    if dropped > 0 {
        let message =
            format!("{dropped} log records of one call were dropped (more than {MAX_QUEUED})");
        deliver(Level::Warn, &Context::default(), here!(), &message);
    }
    STATE.with(|s| {
        let mut s = s.borrow_mut();
        s.delivering = false;
        // What library calls made from inside the sink logged is not delivered (no loops).
        s.queue.clear();
        s.dropped = 0;
    });
}

fn deliver(level: Level, context: &Context<'_>, location: Location, message: &str) {
    let sink = match &*SINK.read().recover() {
        Some((sink, max)) if level <= *max => Arc::clone(sink),
        _ => return,
    };
    // The lock is released: the sink may replace itself. A panicking sink loses its record but
    // must not unwind into the export that is delivering (or leave this thread "delivering").
    let record = Record {
        level,
        message,
        context: *context,
        location,
    };
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink(&record)));
}

/// Makes a record (use the `log!` macro). Delivered now outside calls from the host, else when
/// the call returns.
pub fn emit(level: Level, context: &Context<'_>, location: Location, args: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    let immediate = STATE.with(|s| {
        let mut s = s.borrow_mut();
        if s.delivering {
            return None;
        }
        if s.depth == 0 {
            return Some(true);
        }
        if s.queue.len() >= MAX_QUEUED {
            s.dropped += 1;
        } else {
            s.queue.push(Queued {
                level,
                message: args.to_string(),
                network: context.network.map(str::to_string),
                container_id: context.container_id.map(str::to_string),
                plugin: context.plugin.map(str::to_string),
                command: context.command.map(str::to_string),
                location,
            });
        }
        Some(false)
    });
    if immediate == Some(true) {
        deliver(level, context, location, &args.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    // The sink is process-wide: these tests take turns.
    static SERIAL: Mutex<()> = Mutex::new(());

    /// (level, message, network) of each record seen.
    type Seen = Arc<Mutex<Vec<(Level, String, Option<String>)>>>;

    fn collecting(max: Level) -> Seen {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink_seen = Arc::clone(&seen);
        set_sink(Some((
            Arc::new(move |r: &Record<'_>| {
                sink_seen.lock().unwrap().push((
                    r.level,
                    r.message.to_string(),
                    r.context.network.map(str::to_string),
                ))
            }),
            max,
        )));
        seen
    }

    #[test]
    fn levels_filter_and_context_is_kept() {
        let _serial = SERIAL.lock().recover();
        let seen = collecting(Level::Info);
        log!(Level::Debug, Context::default(), "hidden");
        log!(Level::Warn, Context::network("n1"), "shown {}", 1);
        assert!(enabled(Level::Info) && !enabled(Level::Debug));
        set_sink(None);
        log!(Level::Error, Context::default(), "after clear");
        assert!(!enabled(Level::Error));
        assert_eq!(
            *seen.lock().unwrap(),
            [(Level::Warn, "shown 1".to_string(), Some("n1".to_string()))]
        );
    }

    #[test]
    fn deferred_records_arrive_in_order_when_the_call_returns() {
        let _serial = SERIAL.lock().recover();
        let seen = collecting(Level::Trace);
        {
            let _call = defer();
            log!(Level::Info, Context::default(), "first");
            {
                let _nested = defer();
                log!(Level::Info, Context::default(), "second");
            }
            assert!(seen.lock().unwrap().is_empty(), "delivered inside the call");
        }
        set_sink(None);
        let messages: Vec<String> = seen.lock().unwrap().iter().map(|s| s.1.clone()).collect();
        assert_eq!(messages, ["first", "second"]);
    }

    #[test]
    fn a_sink_may_replace_itself_and_its_own_logging_is_dropped() {
        let _serial = SERIAL.lock().recover();
        let count = Arc::new(Mutex::new(0));
        let sink_count = Arc::clone(&count);
        set_sink(Some((
            Arc::new(move |_: &Record<'_>| {
                *sink_count.lock().unwrap() += 1;
                let _call = defer();
                log!(Level::Error, Context::default(), "from inside the sink");
                drop(_call);
                set_sink(None);
            }),
            Level::Trace,
        )));
        {
            let _call = defer();
            log!(Level::Error, Context::default(), "one");
            log!(Level::Error, Context::default(), "two");
        }
        // "one" reached the sink, which cleared itself; "two" found no sink.
        assert_eq!(*count.lock().unwrap(), 1);
        assert!(!enabled(Level::Error));
    }

    #[test]
    fn a_panicking_sink_loses_its_record_only() {
        let _serial = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
        set_sink(Some((
            Arc::new(|_: &Record<'_>| panic!("sink bug")),
            Level::Trace,
        )));
        {
            let _call = defer();
            log!(Level::Error, Context::default(), "lost");
        }
        let seen = collecting(Level::Trace);
        {
            let _call = defer();
            log!(Level::Error, Context::default(), "delivered");
        }
        set_sink(None);
        assert_eq!(seen.lock().unwrap().len(), 1, "the thread still delivers");
    }

    #[test]
    fn a_flood_in_one_call_is_counted() {
        let _serial = SERIAL.lock().recover();
        let seen = collecting(Level::Trace);
        {
            let _call = defer();
            for i in 0..MAX_QUEUED + 3 {
                log!(Level::Debug, Context::default(), "{i}");
            }
        }
        set_sink(None);
        let seen = seen.lock().unwrap();
        assert_eq!(seen.len(), MAX_QUEUED + 1);
        assert_eq!(
            seen.last().unwrap().1,
            format!("3 log records of one call were dropped (more than {MAX_QUEUED})")
        );
    }
}
