#!/usr/bin/env bash
# The main job: a native network with two network namespaces on it, end to end (see README).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
    echo "demo: must run as root (it creates network namespaces and a bridge)" >&2
    exit 1
fi
scripts/deps.sh
cargo run --quiet --release --example demo
