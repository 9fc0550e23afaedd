//! The CLI is its own package so that its crates never reach the library iSulad links:
//! `cargo tree -p clibcni` (normal and build dependencies) has none of them.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Crates the CLI brings that the library must never have.
const CLI_ONLY: [&str; 6] = [
    "clap",
    "clap_complete",
    "clap_mangen",
    "sha2",
    "regex",
    "indicatif",
];

/// The crate names in `cargo tree -p PACKAGE` with extra arguments.
fn tree(package: &str, extra: &[&str]) -> BTreeSet<String> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args(["tree", "--locked", "--prefix", "none", "--format", "{p}"])
        .arg("--manifest-path")
        .arg(&manifest)
        .args(["-p", package])
        .args(extra)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cargo} tree: {e}"));
    assert!(
        out.status.success(),
        "cargo tree -p {package} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        // "name v1.2.3 (path)" or "name v1.2.3 (*)"
        .filter_map(|line| line.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn the_library_has_none_of_the_clis_crates() {
    let library = tree("clibcni", &["-e", "normal,build"]);
    assert!(
        library.contains("serde_json") && library.contains("nix"),
        "{library:?}"
    );
    let cli_direct = tree("clibcni-cli", &["-e", "normal", "--depth", "1"]);
    for name in CLI_ONLY {
        assert!(
            cli_direct.contains(name),
            "the CLI uses {name}: {cli_direct:?}"
        );
    }
    // Every direct dependency of the CLI that the library does not use itself, whatever is
    // added later, stays out of the library.
    let library_direct = tree("clibcni", &["-e", "normal,build", "--depth", "1"]);
    let leaked: Vec<&String> = cli_direct
        .iter()
        .filter(|name| !library_direct.contains(*name) && name.as_str() != "clibcni-cli")
        .filter(|name| library.contains(*name))
        .collect();
    assert!(
        leaked.is_empty(),
        "in the library's tree: {leaked:?}\n{library:?}"
    );
    for name in CLI_ONLY {
        assert!(!library.contains(name), "{name} is in the library's tree");
    }
}
