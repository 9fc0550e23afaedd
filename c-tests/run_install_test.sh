#!/usr/bin/env bash
# Installs a build into a scratch prefix and checks it as a user would: the SONAME links are in
# place, two small programs (install/consumer.c) build against it — one through the CMake
# package (find_package(clibcni 2) + clibcni::clibcni), one through pkg-config — and run, and the
# CLI is installed with its man pages and shell completions.
# Usage: run_install_test.sh <build dir> <consumer dir (c-tests/install)> <scratch dir>
# Environment: CMAKE (default cmake), CC (default cc).
set -euo pipefail
build=$1
consumer_src=$2
scratch=$3
cmake=${CMAKE:-cmake}
cc=${CC:-cc}

test_name=install
# shellcheck source=script-lib.sh
source "$(dirname "$0")/script-lib.sh"
script_workdir "$scratch"
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

echo "install: the CLI, its man pages and completions"
cli=$prefix/bin/clibcni
[ -x "$cli" ] || fail "no executable bin/clibcni in $prefix"
version=$("$cli" --version) || fail "clibcni --version failed"
[[ $version == "clibcni 2."* ]] || fail "clibcni --version: '$version'"
man1=$prefix/share/man/man1
for page in clibcni.1 clibcni-add.1 clibcni-network-ls.1 clibcni-completions.1; do
    [ -f "$man1/$page" ] || fail "no $page in $man1"
done
"$cli" man >"$work/clibcni.1" || fail "clibcni man failed"
cmp -s "$work/clibcni.1" "$man1/clibcni.1" || fail "the installed clibcni.1 is not the page the CLI prints"
bash_completion=$prefix/share/bash-completion/completions/clibcni
[ -f "$bash_completion" ] || fail "no bash completion in $bash_completion"
registered=$(bash --norc -c "source '$bash_completion' && complete -p clibcni") ||
    fail "sourcing $bash_completion does not register a completion for clibcni"
[[ $registered == *_clibcni* ]] || fail "bash completion: $registered"
zsh_completion=$prefix/share/zsh/site-functions/_clibcni
[ "$(head -n 1 "$zsh_completion" 2>/dev/null)" = "#compdef clibcni" ] || fail "no zsh completion in $zsh_completion"
fish_completion=$prefix/share/fish/vendor_completions.d/clibcni.fish
grep -q '^complete -c clibcni ' "$fish_completion" 2>/dev/null || fail "no fish completion in $fish_completion"

echo "install: ok"
