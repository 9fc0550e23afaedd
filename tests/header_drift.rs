//! The checked-in C headers must be exactly what cbindgen generates from the Rust sources.
//! To refresh them after changing src/ffi: `cbindgen --config cbindgen.toml -o include/network_api.h`.

use std::path::Path;

fn generated(config: &str) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(root.join(config)).expect("cbindgen config");
    let bindings = cbindgen::Builder::new()
        .with_crate(root)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("UTF-8 header")
}

#[test]
fn network_api_h_is_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let checked_in = std::fs::read_to_string(root.join("include/network_api.h")).expect("include/network_api.h");
    assert!(
        generated("cbindgen.toml") == checked_in,
        "include/network_api.h is stale: run `cbindgen --config cbindgen.toml -o include/network_api.h`"
    );
}
