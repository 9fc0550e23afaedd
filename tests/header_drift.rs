//! The checked-in C headers must be exactly what cbindgen generates from the Rust sources.
//! To refresh them after changing src/ffi: `CLIBCNI_BLESS_HEADERS=1 cargo test --test header_drift`
//! (or the cbindgen CLI: `cbindgen --config cbindgen.toml -o include/network_api.h`, and for the
//! legacy headers `cbindgen --config cbindgen-clibcni-<h>.toml -o include/clibcni/<h>.h` with
//! <h> = api, types, version).

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

/// Fails with the command that refreshes `header` when it differs from what `config` generates.
fn assert_up_to_date(config: &str, header: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    if std::env::var_os("CLIBCNI_BLESS_HEADERS").is_some() {
        std::fs::write(root.join(header), generated(config))
            .unwrap_or_else(|e| panic!("{header}: {e}"));
        return;
    }
    let checked_in =
        std::fs::read_to_string(root.join(header)).unwrap_or_else(|e| panic!("{header}: {e}"));
    assert!(
        generated(config) == checked_in,
        "{header} is stale: run `CLIBCNI_BLESS_HEADERS=1 cargo test --test header_drift`"
    );
}

#[test]
fn network_api_h_is_up_to_date() {
    assert_up_to_date("cbindgen.toml", "include/network_api.h");
}

#[test]
fn clibcni_api_h_is_up_to_date() {
    assert_up_to_date("cbindgen-clibcni-api.toml", "include/clibcni/api.h");
}

#[test]
fn clibcni_types_h_is_up_to_date() {
    assert_up_to_date("cbindgen-clibcni-types.toml", "include/clibcni/types.h");
}

#[test]
fn clibcni_version_h_is_up_to_date() {
    assert_up_to_date("cbindgen-clibcni-version.toml", "include/clibcni/version.h");
}
