//! Plugin results of every version: parsing, conversion to every version, JSON round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| clibcni_fuzz::check_result(data));
