# What the c-tests shell tests share; sourced, with $test_name set. After `script_workdir SCRATCH`,
# $work is a fresh directory under SCRATCH, removed on exit.

# Stops the test with a message.
fail() {
    echo "$test_name: $*" >&2
    exit 1
}

# Runs a command quietly; shows its output when it fails.
quiet() {
    local log=$work/last.log
    "$@" >"$log" 2>&1 || { cat "$log" >&2; fail "failed: $*"; }
}

script_workdir() {
    mkdir -p "$1"
    work=$(mktemp -d "$1/$test_name-XXXXXX")
    trap 'rm -rf "$work"' EXIT
}
