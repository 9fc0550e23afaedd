//! Temp files that a killed writer left behind. Every file the library writes goes through a temp file named after
//! the writing process; a SIGKILL between its creation and the rename leaves it in the directory for good. The
//! loaders already ignore such files; this removes them once their writer is gone.

use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

/// A write takes microseconds: a temp file this old is abandoned even if a process with its writer's pid exists
/// (a reused pid, or a writer in another pid namespace that shares the directory).
pub const ABANDONED_AFTER: Duration = Duration::from_secs(600);

/// Removes the regular files of `dir` that `writer_of` names as temp files (it gives their writer's pid) and whose
/// writer no longer exists or that are older than [`ABANDONED_AFTER`]. A missing directory has nothing to remove.
/// Returns one message per file that could not be removed.
pub fn remove_abandoned_temps(dir: &Path, writer_of: &dyn Fn(&str) -> Option<i32>) -> Vec<String> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            return vec![format!(
                "cannot list {} for abandoned temp files: {e}",
                dir.display()
            )]
        }
    };
    let now = SystemTime::now();
    let mut problems = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(writer_of) else {
            continue;
        };
        let Ok(meta) = entry.metadata() else { continue }; // gone meanwhile: renamed by its writer
        let age = now
            .duration_since(meta.modified().unwrap_or(now))
            .unwrap_or_default();
        if !meta.file_type().is_file() || (age < ABANDONED_AFTER && process_exists(pid)) {
            continue;
        }
        match fs::remove_file(entry.path()) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => problems.push(format!(
                "cannot remove abandoned temp file {}: {e}",
                entry.path().display()
            )),
        }
    }
    problems
}

/// Whether `pid` names a process (ours included); only ESRCH says it does not. Pids that cannot be processes
/// (0 or negative: kill would signal groups) count as gone.
fn process_exists(pid: i32) -> bool {
    pid > 0 && kill(Pid::from_raw(pid), None) != Err(Errno::ESRCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::FileTimes;

    /// `.tmp-<pid>[.<anything>]` names, as a writer would make them.
    fn writer_of(name: &str) -> Option<i32> {
        name.strip_prefix(".tmp-")?.split('.').next()?.parse().ok()
    }

    /// A pid above the kernel's largest pid_max (2^22), so no process can have it.
    const DEAD: i32 = 99_999_999;

    #[test]
    fn removes_files_of_gone_writers_and_old_files_only() {
        let dir = tempfile::tempdir().unwrap();
        let own = std::process::id() as i32;
        let write = |name: &str| fs::write(dir.path().join(name), b"{").unwrap();
        for name in [
            format!(".tmp-{DEAD}"),
            format!(".tmp-{own}"),
            ".tmp-1".into(),
            ".tmp-0".into(),
            "kept".into(),
        ] {
            write(&name);
        }
        let old = dir.path().join(format!(".tmp-{own}.old"));
        fs::write(&old, b"{").unwrap();
        let long_ago = SystemTime::now() - ABANDONED_AFTER - Duration::from_secs(1);
        fs::File::options()
            .write(true)
            .open(&old)
            .unwrap()
            .set_times(FileTimes::new().set_modified(long_ago))
            .unwrap();
        let problems = remove_abandoned_temps(dir.path(), &writer_of);
        assert_eq!(problems, Vec::<String>::new());
        let mut left: Vec<String> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        let mut expected = vec![
            format!(".tmp-{own}"),
            ".tmp-1".to_string(),
            "kept".to_string(),
        ];
        expected.sort();
        assert_eq!(left, expected);
    }

    #[test]
    fn leaves_directories_and_tolerates_a_missing_dir() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join(format!(".tmp-{DEAD}"))).unwrap();
        assert_eq!(
            remove_abandoned_temps(dir.path(), &writer_of),
            Vec::<String>::new()
        );
        assert!(dir.path().join(format!(".tmp-{DEAD}")).is_dir());
        assert_eq!(
            remove_abandoned_temps(&dir.path().join("missing"), &writer_of),
            Vec::<String>::new()
        );
    }
}
