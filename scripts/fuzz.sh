#!/usr/bin/env bash
# Fuzzes clibcni's parsers: every cargo-fuzz target of fuzz/ for N seconds each (default 60).
#
#   scripts/fuzz.sh [--merge] [seconds-per-target]
#
# --merge: afterwards, adds to fuzz/corpus/<target>/ the inputs the fuzzer found that reach coverage the
# checked-in corpus does not (libFuzzer's -merge=1, the minimisation `cargo fuzz cmin` does, but keeping
# the hand-written seeds and their names); commit them so the replay test carries what fuzzing found.
#
# Not part of the test suite (tests/fuzz_corpus_replay.rs replays the corpora there). Runs on the stable
# toolchain: cargo-fuzz needs nightly flags, which RUSTC_BOOTSTRAP=1 unlocks. Installs cargo-fuzz if missing.
# Seeds are read from fuzz/corpus/<target>/ and never modified; new inputs go to a work corpus under the
# build directory. A crash is saved by libFuzzer in fuzz/artifacts/<target>/; copy it to
# fuzz/artifacts-regressions/<target>/ so the replay test keeps it. Exit status 1 when any target crashed.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

merge=false
if [ "${1:-}" = --merge ]; then
    merge=true
    shift
fi
seconds="${1:-60}"
case "$seconds" in
    '' | *[!0-9]*) echo "usage: $0 [seconds-per-target]" >&2; exit 2 ;;
esac

export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi

# The conf target writes every input to files: on tmpfs (/dev/shm) when there is one, which is ten times
# faster than a disk (ext4 flushes a truncated-and-rewritten file on close); removed afterwards.
scratch="$(mktemp -d -p /dev/shm clibcni-fuzz.XXXXXX 2>/dev/null || mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
export TMPDIR="$scratch"

targets=$(cargo fuzz list)
cargo fuzz build
failed=()
summary=()
for target in $targets; do
    work="$CARGO_TARGET_DIR/fuzz-corpus/$target"
    log="$CARGO_TARGET_DIR/fuzz-logs/$target.log"
    mkdir -p "$work" "artifacts/$target" "$(dirname "$log")"
    echo "== $target (${seconds}s)"
    status=0
    cargo fuzz run "$target" "$work" "corpus/$target" -- \
        -max_total_time="$seconds" -timeout=10 -print_final_stats=1 >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    if [ "$status" != 0 ]; then
        failed+=("$target")
        grep -E '^(==[0-9]+==|SUMMARY|thread .* panicked|artifact_prefix|Test unit written)' "$log" | head -n 20 || true
        summary+=("$target: ${execs:-?} executions, CRASHED (fuzz/artifacts/$target/, log $log)")
    else
        summary+=("$target: ${execs:-?} executions, no crash")
    fi
    if $merge && [ "$status" = 0 ]; then
        before=$(find "corpus/$target" -type f | wc -l)
        cargo fuzz run "$target" "corpus/$target" "$work" -- -merge=1 >>"$log" 2>&1
        after=$(find "corpus/$target" -type f | wc -l)
        summary+=("$target: corpus $before -> $after files")
    fi
done

echo "== summary"
printf '%s\n' "${summary[@]}"
[ "${#failed[@]}" = 0 ]
