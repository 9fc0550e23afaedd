#!/usr/bin/env bash
# Installs a build into a scratch prefix and checks it as a user would: the SONAME links are in
# place, and two small programs (install/consumer.c) build against it — one through the CMake
# package (find_package(clibcni 2) + clibcni::clibcni), one through pkg-config — and run.
# Usage: run_install_test.sh <build dir> <consumer dir (c-tests/install)> <scratch dir>
# Environment: CMAKE (default cmake), CC (default cc).
set -euo pipefail
build=$1
consumer_src=$2
scratch=$3
cmake=${CMAKE:-cmake}
cc=${CC:-cc}

fail() {
    echo "install: $*" >&2
    exit 1
}
# Runs a command quietly; shows its output when it fails.
quiet() {
    local log=$work/last.log
    "$@" >"$log" 2>&1 || { cat "$log" >&2; fail "failed: $*"; }
}

mkdir -p "$scratch"
work=$(mktemp -d "$scratch/install-XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
mkdir -p "$work/run/cache" "$work/run/conf" "$work/run/bin"
run_args=("$work/run/cache" "$work/run/conf" "$work/run/bin")

quiet "$cmake" --install "$build" --prefix "$prefix"

# The libdir GNUInstallDirs chose (lib, lib64 or lib/<multiarch>).
dev_link=$(find "$prefix" -name libclibcni.so -print -quit)
[ -n "$dev_link" ] || fail "no libclibcni.so under $prefix"
libdir=$(dirname "$dev_link")
echo "install: libdir $libdir"

# libclibcni.so -> libclibcni.so.2 -> libclibcni.so.2.x.y (a regular file whose SONAME is libclibcni.so.2)
real=$(cd "$libdir" && ls libclibcni.so.2.*.*)
[ "$(echo "$real" | wc -l)" = 1 ] || fail "expected one libclibcni.so.2.x.y in $libdir, got: $real"
[ -L "$libdir/libclibcni.so" ] && [ "$(readlink "$libdir/libclibcni.so")" = libclibcni.so.2 ] ||
    fail "libclibcni.so is not a symlink to libclibcni.so.2"
[ -L "$libdir/libclibcni.so.2" ] && [ "$(readlink "$libdir/libclibcni.so.2")" = "$real" ] ||
    fail "libclibcni.so.2 is not a symlink to $real"
[ -f "$libdir/$real" ] && [ ! -L "$libdir/$real" ] || fail "$real is not a regular file"
soname=$(readelf -d "$libdir/$real" | sed -n 's/.*(SONAME).*\[\(.*\)\].*/\1/p')
[ "$soname" = libclibcni.so.2 ] || fail "SONAME of $real is '$soname', expected libclibcni.so.2"
[ -f "$prefix/include/network_api.h" ] || fail "no include/network_api.h in $prefix"

# A consumer binary must record the SONAME, resolve it to the prefix and run.
check_consumer() {
    local exe=$1
    # Outputs are captured first: with pipefail, `cmd | grep -q` fails at random when grep's early
    # exit kills cmd with SIGPIPE.
    local dynamic loads
    dynamic=$(readelf -d "$exe")
    grep -q 'NEEDED.*\[libclibcni\.so\.2\]' <<<"$dynamic" || fail "$exe does not need libclibcni.so.2"
    loads=$(LD_LIBRARY_PATH=$libdir ldd "$exe")
    grep -qF "libclibcni.so.2 => $libdir/libclibcni.so.2 " <<<"$loads" ||
        fail "$exe does not load the installed library: $loads"
    LD_LIBRARY_PATH=$libdir "$exe" "${run_args[@]}" || fail "$exe failed"
}

echo "install: CMake package consumer"
quiet "$cmake" -S "$consumer_src" -B "$work/cmake-consumer" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc"
quiet "$cmake" --build "$work/cmake-consumer"
check_consumer "$work/cmake-consumer/consumer"

echo "install: pkg-config consumer"
export PKG_CONFIG_PATH=$libdir/pkgconfig
[ -f "$PKG_CONFIG_PATH/clibcni.pc" ] || fail "no clibcni.pc in $PKG_CONFIG_PATH"
flags=$(pkg-config --cflags --libs clibcni) || fail "pkg-config clibcni failed"
echo "install: pkg-config --cflags --libs clibcni: $flags"
# shellcheck disable=SC2086 # the flags are words
quiet "$cc" -std=c11 -Wall -Wextra -Werror -o "$work/pkgconfig-consumer" "$consumer_src/consumer.c" $flags
check_consumer "$work/pkgconfig-consumer"

echo "install: ok"
