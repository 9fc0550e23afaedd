#!/usr/bin/env bash
# The whole test suite: Rust unit and integration tests of the library and the CLI (real CNI
# plugins in network namespaces), then the C harness built by CMake, plain and under valgrind, the
# install test and the subproject test (add_subdirectory, CARGO_TARGET_DIR set elsewhere).
# Needs root (namespaces, iptables); installs its Debian packages itself.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
    echo "test: must run as root (it creates network namespaces, bridges and iptables rules)" >&2
    exit 1
fi
scripts/deps.sh
export CARGO_TERM_COLOR=never

echo "== cargo test (workspace: library and CLI)"
cargo build --quiet --lib --examples --bins
cargo test --quiet --all-targets

echo "== C harness (CMake + ctest, then valgrind)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Debug -DCLIBCNI_CARGO_PROFILE=debug >/dev/null
cmake --build build --parallel 2 >/dev/null
ctest --test-dir build --output-on-failure --timeout 600
