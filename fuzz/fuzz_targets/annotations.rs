//! iSulad's annotations (portMappings, bandwidth, ipRanges, aliases) turned into capability args.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| clibcni_fuzz::check_annotations(data));
