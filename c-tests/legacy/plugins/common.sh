# Sourced by the fake plugins of the legacy clibcni tests (after clibcni's tests/utils): each
# plugin reads its whole stdin, then prints a fixed CNI 0.3.1 result whatever the command.
# With LEGACY_PLUGIN_LOG set to a directory, record() keeps the stdin of the call as
# <dir>/<plugin>-<CNI_COMMAND>.json and appends "<plugin> <CNI_COMMAND>" to <dir>/calls.
stdin=$(cat)
record() {
    [ -n "$LEGACY_PLUGIN_LOG" ] || return 0
    name=${0##*/}
    printf '%s' "$stdin" >"$LEGACY_PLUGIN_LOG/$name-$CNI_COMMAND.json"
    echo "$name $CNI_COMMAND" >>"$LEGACY_PLUGIN_LOG/calls"
}
