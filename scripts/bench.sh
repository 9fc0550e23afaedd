#!/usr/bin/env bash
# The benchmark (README "Benchmarks"; not part of the test suite): builds release, then runs
# c-tests/bench/clibcni_bench (#1–#6, through the C ABI) and examples/bench_real.rs (#7, real
# plugins) inside a network namespace created for the run and deleted after it, so the 100 host
# addresses of #5 and the bridges and iptables rules of #7 never touch the host's own network.
# Prints one markdown table. Needs root; installs its Debian packages itself.
#
#   sudo bash scripts/bench.sh           full run (a few minutes)
#   sudo bash scripts/bench.sh --quick   fewer repetitions, for a smoke test
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
    echo "bench: must run as root (it creates a network namespace, bridges and iptables rules)" >&2
    exit 1
fi
quick=()
iterations=30
if [ "${1:-}" = --quick ]; then
    quick=(--quick)
    iterations=5
fi

scripts/deps.sh
export CARGO_TERM_COLOR=never
# CMake builds the library and examples with cargo into build-bench/cargo/ (whatever
# CARGO_TARGET_DIR says).
echo "bench: building (release)" >&2
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DCLIBCNI_CARGO_PROFILE=release \
    -DCLIBCNI_BUILD_TESTS=OFF -DCLIBCNI_BUILD_BENCH=ON >/dev/null
cmake --build build-bench --parallel 2 --target clibcni_bench trivial_plugin >/dev/null
bench_real=build-bench/cargo/release/examples/bench_real

ns="clibcni-bench-$$"
work="$(mktemp -d /var/tmp/clibcni-bench.XXXXXX)" # on disk, where a daemon's cache lives
cleanup() {
    # bench_real deletes its own namespaces; these are what an interrupted run leaves behind.
    for leftover in $(ip netns list | awk -v p="clibcni-benchr-" 'index($1, p) == 1 {print $1}'); do
        ip netns delete "$leftover" 2>/dev/null || true
    done
    ip netns delete "$ns" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

in_ns() { ip netns exec "$ns" "$@"; }
ip netns add "$ns"
in_ns ip link set lo up
# #5's host addresses: 100 /24s in 172.20.0.0/16 on a dummy link (a bridge where dummy is missing).
in_ns ip link add bench-hosts type dummy 2>/dev/null || in_ns ip link add bench-hosts type bridge
for i in $(seq 0 99); do echo "address add 172.20.$i.1/24 dev bench-hosts"; done | in_ns ip -batch -
in_ns ip link set bench-hosts up

rows="$work/rows"
echo "bench: #1–#6 (C ABI)" >&2
in_ns build-bench/c-tests/bench/clibcni_bench --plugin build-bench/c-tests/bench/trivial_plugin \
    --work "$work/c" "${quick[@]}" >"$rows"
echo "bench: #7 (real plugins)" >&2
in_ns "$bench_real" --work "$work/real" --iterations "$iterations" >>"$rows"

cpu="$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)"
echo
echo "Machine: $(nproc) CPUs ($cpu), kernel $(uname -r), $(awk '/^MemTotal/ {printf "%.0f GiB RAM", $2 / 1048576}' /proc/meminfo); cache and conf dirs on $(df --output=fstype "$work" | tail -1 | tr -d ' '); $(date -u +%Y-%m-%d)"
echo
echo "| # | workload | measured: median (min–max) unless noted | target | met |"
echo "|---|---|---|---|---|"
cat "$rows"
