#!/bin/sh
# Installed under each plugin's name in the CRI run's bin dir: writes what the plugin receives
# (CNI_* environment and stdin) to /tmp/cni-record/<time>-<pid>-<plugin>-<command>.{env,stdin},
# then runs the real plugin of that name from /opt/cni/bin with the same input.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
name=$(basename "$0")
out="/tmp/cni-record/$(date +%s%N)-$$-$name-${CNI_COMMAND:-none}"
mkdir -p /tmp/cni-record
cat > "$out.stdin"
env | grep '^CNI_' | sort > "$out.env"
exec "/opt/cni/bin/$name" < "$out.stdin"
