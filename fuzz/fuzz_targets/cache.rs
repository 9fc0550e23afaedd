//! Result cache files (iSulad, Go and legacy layouts) and what DEL/CHECK parse out of them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| clibcni_fuzz::check_cache(data));
