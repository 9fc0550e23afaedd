//! `clibcni/api.h`'s logger, as clibcni 2.1.0 had it: `cni_log_init(driver, file, priority)`
//! writes the library's log records as text lines to stdout ("stdout") or to a fifo the daemon
//! reads ("fifo"), those at or above `priority`; `cni_set_log_prefix` sets the calling thread's
//! line prefix. It is a sink of the library's log, the same one `network_module_set_log_sink`
//! registers: the last registration wins.
//!
//! A line is `<prefix, 15 wide> <YYYYmmddHHMMSS.mmm> <LEVEL, 8 wide> clibcni -
//! <file>:<module>:<line> - <message>`, at most 4096 bytes with its newline, written with one
//! write(2): lines from concurrent threads never interleave in the fifo. A full fifo drops the
//! line rather than block the caller.

use std::cell::RefCell;
use std::ffi::CStr;
use std::fs::{File, OpenOptions};
use std::os::fd::AsFd;
use std::os::raw::{c_char, c_int};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Arc;

use nix::errno::Errno;
use nix::sys::stat::Mode;

use crate::cni::log::{self, Level, Record};
use crate::ffi::alloc::opt_str;
use crate::ffi::guard::guard;

/// The priorities `cni_log_init` accepts (case-insensitively), most severe first.
const PRIORITIES: [&str; 9] = [
    "FATAL", "ALERT", "CRIT", "ERROR", "WARN", "NOTICE", "INFO", "DEBUG", "TRACE",
];
/// The longest line written, newline included (the original's buffer).
const MAX_LINE: usize = 4096;
/// The prefix is cut to its last this many bytes.
const MAX_PREFIX: usize = 15;
/// The original asked for a 1 MiB fifo buffer.
const FIFO_SIZE: c_int = 1 << 20;
/// The name in every line, and the prefix of threads that set none.
const NAME: &str = "clibcni";

thread_local! {
    /// The prefix set by `cni_set_log_prefix` (per thread, as in the original).
    static PREFIX: RefCell<Option<String>> = const { RefCell::new(None) };
}

enum Target {
    Stdout,
    Fifo(File),
}

/// The priority's index in [`PRIORITIES`].
fn priority_index(priority: Option<&str>) -> Result<usize, String> {
    let priority = priority.ok_or("priority must not be NULL")?;
    PRIORITIES
        .iter()
        .position(|p| p.eq_ignore_ascii_case(priority))
        .ok_or_else(|| format!("Unable to parse logging level:{priority}"))
}

/// The most verbose library level a priority lets through (None: only FATAL to CRIT, which the
/// library never logs).
fn max_level(priority: usize) -> Option<Level> {
    [
        (8, Level::Trace),
        (7, Level::Debug),
        (6, Level::Info),
        (4, Level::Warn),
        (3, Level::Error),
    ]
    .into_iter()
    .find(|(index, _)| priority >= *index)
    .map(|(_, level)| level)
}

/// What the original accepted: a known priority, a driver of NULL (log nothing), "stdout" or
/// "fifo", and a file for "fifo".
fn target(driver: Option<&str>, file: Option<&str>) -> Result<Option<Target>, String> {
    match driver {
        None => Ok(None),
        Some(d) if d.eq_ignore_ascii_case("stdout") => Ok(Some(Target::Stdout)),
        Some(d) if d.eq_ignore_ascii_case("fifo") => match file.filter(|f| *f != "none") {
            Some(file) => open_fifo(Path::new(file)).map(|f| Some(Target::Fifo(f))),
            None => Err(format!("Must set log file for driver {d}")),
        },
        Some(d) => Err(format!("Invalid log driver: {d}")),
    }
}

/// Creates the fifo (and its directory) when missing and opens it read-write, so writes never
/// fail for want of a reader, and non-blocking, so a full fifo never blocks the caller.
fn open_fifo(path: &Path) -> Result<File, String> {
    let fail = |what: &str, e: &dyn std::fmt::Display| format!("{what} {}: {e}", path.display());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| fail("cannot create the directory of", &e))?;
    }
    match nix::unistd::mkfifo(path, Mode::S_IRUSR | Mode::S_IWUSR) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => return Err(fail("Mknod failed for", &e)),
    }
    let fifo = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| fail("Open fifo", &e))?;
    let is_fifo = fifo.metadata().is_ok_and(|m| m.file_type().is_fifo());
    if !is_fifo {
        return Err(format!("{} is not a fifo", path.display()));
    }
    // Best effort: a smaller buffer only drops lines sooner.
    let _ = nix::fcntl::fcntl(fifo.as_fd(), nix::fcntl::FcntlArg::F_SETPIPE_SZ(FIFO_SIZE));
    Ok(fifo)
}

/// Local time as the original printed it: `YYYYmmddHHMMSS.mmm`.
fn timestamp() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() as libc::time_t;
    // SAFETY: an all-zero `tm` is a valid value to be overwritten.
    let mut tm: libc::tm = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are valid for the call; localtime_r is the thread-safe variant.
    if unsafe { libc::localtime_r(&secs, &mut tm) }.is_null() {
        return format!("{secs}.{:03}", now.subsec_millis());
    }
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}.{:03}",
        tm.tm_year + 1900,
        tm.tm_mon + 1,
        tm.tm_mday,
        tm.tm_hour,
        tm.tm_min,
        tm.tm_sec,
        now.subsec_millis()
    )
}

/// One record as a line (newline included), cut to [`MAX_LINE`] on a character boundary.
fn line(record: &Record<'_>, prefix: &str, timestamp: &str) -> String {
    let mut start = prefix.len().saturating_sub(MAX_PREFIX);
    while !prefix.is_char_boundary(start) {
        start += 1;
    }
    let loc = record.location;
    let mut text = format!(
        "{:>15} {timestamp} {:<8} {NAME} - {}:{}:{} - {}",
        &prefix[start..],
        record.level.name(),
        loc.file,
        loc.module,
        loc.line,
        record.message.replace('\n', " ")
    );
    if text.len() > MAX_LINE - 1 {
        let mut end = MAX_LINE - 1;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text.push('\n');
    text
}

fn write_line(target: &Target, text: &[u8]) {
    let written = match target {
        Target::Stdout => write_all(std::io::stdout().as_fd(), text),
        Target::Fifo(fifo) => write_all(fifo.as_fd(), text),
    };
    // A full fifo or a closed stdout: the line is lost, the caller is not held up.
    let _ = written;
}

/// One write(2) for the whole line (atomic on a pipe up to PIPE_BUF = 4096 bytes); a short write
/// on stdout is completed.
fn write_all(fd: std::os::fd::BorrowedFd<'_>, mut text: &[u8]) -> std::io::Result<()> {
    while !text.is_empty() {
        match nix::unistd::write(fd, text) {
            Ok(n) => text = &text[n..],
            Err(Errno::EINTR) => {}
            Err(e) => return Err(std::io::Error::from(e)),
        }
    }
    Ok(())
}

fn install(target: Option<Target>, max: Option<Level>) {
    let (Some(target), Some(max)) = (target, max) else {
        log::set_sink(None);
        return;
    };
    let target = Arc::new(target);
    let sink = move |record: &Record<'_>| {
        let text =
            PREFIX.with(|p| line(record, p.borrow().as_deref().unwrap_or(NAME), &timestamp()));
        write_line(&target, text.as_bytes());
    };
    log::set_sink(Some((Arc::new(sink), max)));
}

/// Starts logging: `driver` "stdout" or "fifo" (NULL: log nothing), `file` the fifo's path
/// (created when missing), `priority` FATAL to TRACE. Returns 0, or -1 for invalid arguments or a
/// fifo that cannot be opened. A later call replaces the earlier one.
#[no_mangle]
pub extern "C" fn cni_log_init(
    driver: *const c_char,
    file: *const c_char,
    priority: *const c_char,
) -> c_int {
    guard("cni_log_init", || {
        // SAFETY: each is NULL or a C string.
        let (driver, file, priority) = unsafe {
            (
                opt_str(driver, "driver")?,
                opt_str(file, "file")?,
                opt_str(priority, "priority")?,
            )
        };
        let max = max_level(priority_index(priority)?);
        install(target(driver, file)?, max);
        Ok(0)
    })
}

/// Sets the calling thread's line prefix (NULL: unchanged); the last 15 bytes are shown.
#[no_mangle]
pub extern "C" fn cni_set_log_prefix(prefix: *const c_char) {
    guard("cni_set_log_prefix", || {
        if !prefix.is_null() {
            // SAFETY: prefix is a C string.
            let copy = unsafe { CStr::from_ptr(prefix) }
                .to_string_lossy()
                .into_owned();
            PREFIX.with(|p| *p.borrow_mut() = Some(copy));
        }
        Ok(())
    })
}

/// Forgets the calling thread's prefix (lines show "clibcni" again).
#[no_mangle]
pub extern "C" fn cni_free_log_prefix() {
    guard("cni_free_log_prefix", || {
        PREFIX.with(|p| p.borrow_mut().take());
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cni::log::{Context, Location};

    #[test]
    fn arguments_are_checked_as_the_original_did() {
        assert_eq!(priority_index(Some("info")), Ok(6));
        assert_eq!(priority_index(Some("TRACE")), Ok(8));
        assert_eq!(
            priority_index(None).unwrap_err(),
            "priority must not be NULL"
        );
        assert_eq!(
            priority_index(Some("loud")).unwrap_err(),
            "Unable to parse logging level:loud"
        );
        assert!(target(None, None).unwrap().is_none());
        assert!(matches!(
            target(Some("STDOUT"), None),
            Ok(Some(Target::Stdout))
        ));
        assert_eq!(
            target(Some("fifo"), None).err().unwrap(),
            "Must set log file for driver fifo"
        );
        assert_eq!(
            target(Some("fifo"), Some("none")).err().unwrap(),
            "Must set log file for driver fifo"
        );
        assert_eq!(
            target(Some("file"), None).err().unwrap(),
            "Invalid log driver: file"
        );
    }

    #[test]
    fn priorities_map_onto_the_library_levels() {
        let of = |p: &str| max_level(priority_index(Some(p)).unwrap());
        assert_eq!(of("crit"), None);
        assert_eq!(of("ERROR"), Some(Level::Error));
        assert_eq!(of("warn"), Some(Level::Warn));
        assert_eq!(of("notice"), Some(Level::Warn));
        assert_eq!(of("info"), Some(Level::Info));
        assert_eq!(of("debug"), Some(Level::Debug));
        assert_eq!(of("trace"), Some(Level::Trace));
    }

    #[test]
    fn lines_have_the_original_layout_and_limits() {
        let record = |message: &'static str| Record {
            level: Level::Warn,
            message,
            context: Context::default(),
            location: Location {
                file: "src/x.rs",
                module: "clibcni::x",
                line: 7,
            },
        };
        assert_eq!(
            line(&record("two\nlines"), "a-very-long-thread-prefix", "20261203101112.345"),
            "g-thread-prefix 20261203101112.345 WARN     clibcni - src/x.rs:clibcni::x:7 - two lines\n"
        );
        assert!(line(&record("m"), "p", "t").starts_with("              p t WARN     clibcni - "));
        let long = "é".repeat(MAX_LINE);
        let long: &'static str = Box::leak(long.into_boxed_str());
        let text = line(&record(long), "p", "t");
        assert!(
            text.len() <= MAX_LINE && text.ends_with("é\n"),
            "{}",
            text.len()
        );
    }

    #[test]
    fn a_regular_file_is_not_taken_for_a_fifo() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plain");
        std::fs::write(&path, "").unwrap();
        assert_eq!(
            open_fifo(&path).unwrap_err(),
            format!("{} is not a fifo", path.display())
        );
        let fifo = dir.path().join("sub/dir/log.fifo");
        open_fifo(&fifo).unwrap();
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
    }
}
