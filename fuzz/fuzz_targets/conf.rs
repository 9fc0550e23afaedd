//! Network configuration parsing: lists, single confs, files and the directory scan.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

/// One scratch directory per fuzzing process, under $TMPDIR (scripts/fuzz.sh points it at a directory it
/// removes afterwards).
fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("clibcni-fuzz-conf-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the scratch directory");
        dir
    })
}

fuzz_target!(|data: &[u8]| clibcni_fuzz::check_conf(data, scratch()));
