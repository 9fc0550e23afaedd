#!/bin/sh
# Checks that a library exports exactly the functions listed in a symbols file.
# Usage: check_symbols.sh <libclibcni.so> <symbols.txt>
set -eu
lib=$1
list=$2
[ -e "$lib" ] || { echo "check_symbols: no library at $lib" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
grep -v -e '^[[:space:]]*#' -e '^[[:space:]]*$' "$list" | sed 's/[[:space:]]*$//' | LC_ALL=C sort >"$work/want"
# Defined dynamic functions (T, W); a symbol version suffix (name@@VER) is not part of the name.
nm -D --defined-only "$lib" | awk '$2 == "T" || $2 == "W" { sub(/@.*/, "", $3); print $3 }' | LC_ALL=C sort >"$work/have"

if cmp -s "$work/want" "$work/have"; then
    echo "symbols: the $(wc -l <"$work/have") exported functions match $list"
    exit 0
fi
echo "symbols: exported functions differ from $list" >&2
LC_ALL=C comm -23 "$work/want" "$work/have" | sed 's/^/  listed, not exported: /' >&2
LC_ALL=C comm -13 "$work/want" "$work/have" | sed 's/^/  exported, not listed: /' >&2
exit 1
