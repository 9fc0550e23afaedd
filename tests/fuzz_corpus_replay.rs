//! Replays every seed and every saved crash of the fuzz targets (`fuzz/corpus/<target>/`,
//! `fuzz/artifacts-regressions/<target>/`) through the same checks the targets run, so the properties the
//! fuzzers established stay true in the normal test suite, without a fuzzer.

#[path = "../fuzz/src/lib.rs"]
mod checks;

use std::fs;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Files of `fuzz/<dir>/<target>/` (a missing directory has none), sorted.
fn inputs(dir: &str, target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(dir)
        .join(target);
    let Ok(entries) = fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("read corpus directory").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every input of one target, reporting all failures at once (with the file names) rather than the first.
fn replay(target: &str, dirs: &[&str]) -> usize {
    let scratch = tempfile::tempdir().expect("scratch directory");
    let mut count = 0;
    let mut failures = Vec::new();
    for dir in dirs {
        for file in inputs(dir, target) {
            let data = fs::read(&file).expect("read corpus file");
            count += 1;
            if catch_unwind(AssertUnwindSafe(|| {
                checks::check(target, &data, scratch.path())
            }))
            .is_err()
            {
                failures.push(file.display().to_string());
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{target}: {} input(s) fail:\n{}",
        failures.len(),
        failures.join("\n")
    );
    count
}

#[test]
fn corpora_replay_without_panics() {
    for target in checks::TARGETS {
        let seeds = replay(target, &["corpus"]);
        assert!(
            seeds > 0,
            "{target}: no seed corpus in fuzz/corpus/{target}/"
        );
    }
}

#[test]
fn saved_crashes_replay_without_panics() {
    for target in checks::TARGETS {
        replay(target, &["artifacts-regressions"]);
    }
}
