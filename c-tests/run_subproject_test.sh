#!/usr/bin/env bash
# clibcni as a subdirectory of another CMake project, built the way build hosts do: a copy of the
# sources (so that "no target/ in the source tree" can be checked; the real tree has cargo test's)
# is add_subdirectory()'d by subproject/CMakeLists.txt, with CARGO_TARGET_DIR pointing elsewhere.
# Checks: the build passes; cargo wrote only into the build directory (no target/ in the sources,
# nothing at CARGO_TARGET_DIR); the C harness is off for a subproject; the parent's program
# links clibcni::clibcni and runs; the parent's install carries clibcni's files.
# Usage: run_subproject_test.sh <clibcni source dir> <this build's dir> <scratch dir>
# Environment: CMAKE (default cmake), CC (default cc), CLIBCNI_CARGO_PROFILE (default debug).
set -euo pipefail
source_dir=$1
outer_build=$2
scratch=$3
cmake=${CMAKE:-cmake}
cc=${CC:-cc}
profile=${CLIBCNI_CARGO_PROFILE:-debug}

test_name=subproject
# shellcheck source=script-lib.sh
source "$(dirname "$0")/script-lib.sh"
script_workdir "$scratch"
copy=$work/clibcni-src
elsewhere=$work/cargo-target-dir-from-env
build=$work/build

# The tracked and untracked-but-not-ignored files: no target/, no build directories.
git -C "$source_dir" rev-parse --git-dir >/dev/null 2>&1 || fail "$source_dir is not a git checkout"
mkdir -p "$copy"
git -C "$source_dir" ls-files -z --cached --others --exclude-standard |
    tar -C "$source_dir" --null -T - --ignore-failed-read -cf - 2>/dev/null | tar -C "$copy" -xf -
[ -f "$copy/Cargo.toml" ] && [ -f "$copy/CMakeLists.txt" ] || fail "copying the sources failed"
[ ! -e "$copy/target" ] || fail "the copy has a target/ before the build"
# Registry crates need not be compiled again: cargo reuses them from a copy of this build's
# target dir (the workspace's own packages are rebuilt, their paths differ).
if [ -d "$outer_build/cargo" ]; then
    mkdir -p "$build/clibcni"
    cp -a "$outer_build/cargo" "$build/clibcni/cargo"
    rm -rf "$build/clibcni/cargo/$profile/incremental"
fi

touch "$work/before-build"
echo "subproject: configure and build with CARGO_TARGET_DIR=$elsewhere"
export CARGO_TARGET_DIR=$elsewhere
quiet "$cmake" -S "$source_dir/c-tests/subproject" -B "$build" -DCLIBCNI_SOURCE_DIR="$copy" \
    -DCLIBCNI_CARGO_PROFILE="$profile" -DCMAKE_C_COMPILER="$cc"
quiet "$cmake" --build "$build"

[ ! -e "$copy/target" ] || fail "the build wrote $copy/target"
[ ! -e "$elsewhere" ] || fail "the build wrote to CARGO_TARGET_DIR ($elsewhere)"
cargo_out=$build/clibcni/cargo/$profile
# Built by this build (not the seeded copy of the outer one).
for artifact in libclibcni.so clibcni examples/cni_recorder; do
    [ -n "$(find "$cargo_out/$artifact" -newer "$work/before-build" 2>/dev/null)" ] ||
        fail "this build did not write $cargo_out/$artifact"
done
[ ! -e "$build/clibcni/c-tests" ] || fail "the C harness was configured in a subproject"
echo "subproject: cargo built into $cargo_out only"

dynamic=$(readelf -d "$build/consumer")
grep -q 'NEEDED.*\[libclibcni\.so\.2\]' <<<"$dynamic" || fail "consumer does not need libclibcni.so.2"
mkdir -p "$work/run/cache" "$work/run/conf" "$work/run/bin"
"$build/consumer" "$work/run/cache" "$work/run/conf" "$work/run/bin" || fail "consumer failed"

quiet "$cmake" --install "$build" --prefix "$work/prefix"
for file in bin/clibcni include/network_api.h share/man/man1/clibcni.1; do
    [ -f "$work/prefix/$file" ] || fail "the parent's install has no $file"
done
[ -n "$(find "$work/prefix" -name libclibcni.so.2 -print -quit)" ] || fail "the parent's install has no libclibcni.so.2"
echo "subproject: ok"
