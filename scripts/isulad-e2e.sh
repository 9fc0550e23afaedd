#!/usr/bin/env bash
# iSulad end to end, with its own C network module and with this library in its place:
#
#   sudo bash scripts/isulad-e2e.sh [--valgrind] [--work DIR] [--builds c,clibcni] [--cases a,b] [--no-cri] \
#        ISULAD_SRC LCR_SRC
#
# ISULAD_SRC and LCR_SRC are checkouts of openEuler iSulad and lcr (contrib/isulad/README.md names
# the commits the patch is written against). Nothing is downloaded except Debian packages and,
# for the CRI client, grpcio/grpcio-tools from PyPI into a venv under the work dir.
#
# Steps: Debian build deps (idempotent); lcr's utils library (ENABLE_LIBLCR=OFF); this library
# (release) installed into a private prefix; iSulad unmodified ("c") and with
# contrib/isulad/*.patch and ENABLE_CLIBCNI=ON ("clibcni"), each installed into its own prefix.
# Then, for each build, a sandbox: its own network namespace and a private mount namespace with
# overlays on /etc, /run, /var/lib, /opt and private /tmp and /var/lib/isulad, so nothing on the
# host changes. In it: the daemon, a busybox image (docker-archive from busybox-static), iSulad's
# own CI/test_cases/network_cases (unmodified, traced with bash -x to read every fn_check_*),
# then the CRI scenario (scripts/isulad-e2e/cri_scenario.py) with recording wrapper plugins.
# Last: the table case x build, the check-line comparison, the plugin-input differences and the
# isulad.log check for the library's DEBUG lines.
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SELF")/.." && pwd)
HERE="$REPO/scripts/isulad-e2e"

# The cases run, in this order. The directory holds no other case.
CASES=(network_create network_inspect network_list network_remove help container_with_network port
       container_network_cleanup setup_network_failed restartpolicy_and_network dnsname)

# The cases that start no container: the ones --valgrind runs the daemon under valgrind for.
NO_CONTAINER_CASES=(network_create network_inspect network_list network_remove help)

DEPS=(build-essential cmake pkg-config git python3 python3-venv libgrpc++-dev protobuf-compiler-grpc
      libprotobuf-dev protobuf-compiler libwebsockets-dev libarchive-dev libcap-dev libseccomp-dev
      libdevmapper-dev libcurl4-openssl-dev libyajl-dev zlib1g-dev libssl-dev libncurses-dev
      runc busybox-static kmod locales iptables iproute2 dnsmasq-base util-linux jq tar gzip
      containernetworking-plugins golang-github-containernetworking-plugin-dnsname valgrind)

log() { echo "== $*" >&2; }
die() { echo "isulad-e2e: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Host side: dependencies and builds
# ---------------------------------------------------------------------------------------------

install_deps() {
    local missing=() p
    for p in "${DEPS[@]}"; do
        dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
    # isula and isulad exit unless setlocale(LC_CTYPE, "en_US.UTF-8") works.
    if ! locale -a 2>/dev/null | grep -qix 'en_US.utf8'; then
        log "generating the en_US.UTF-8 locale"
        sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' /etc/locale.gen
        grep -q '^en_US.UTF-8 UTF-8' /etc/locale.gen || echo 'en_US.UTF-8 UTF-8' >> /etc/locale.gen
        locale-gen >/dev/null
    fi
}

# cmake configure (once) + build + install; the log goes to $WORK/logs/<name>.log.
cmake_build() {
    local name=$1 src=$2 build=$3
    shift 3
    local out="$WORK/logs/$name.log"
    log "building $name (log: $out)"
    local t0=$SECONDS
    {
        [ -f "$build/CMakeCache.txt" ] || cmake -S "$src" -B "$build" "$@"
        cmake --build "$build" --parallel "$(nproc)"
        cmake --install "$build"
    } >"$out" 2>&1 || { tail -30 "$out" >&2; die "building $name failed (see $out)"; }
    log "$name built in $((SECONDS - t0)) s"
}

build_lcr() {
    cmake_build lcr "$LCR_SRC" "$WORK/build/lcr" -DENABLE_LIBLCR=OFF -DCMAKE_INSTALL_PREFIX="$WORK/lcr" \
        -DCMAKE_INSTALL_SYSCONFDIR="$WORK/lcr/etc"
}

build_clibcni() {
    cmake_build clibcni "$REPO" "$WORK/build/clibcni" -DCLIBCNI_BUILD_TESTS=OFF \
        -DCMAKE_INSTALL_PREFIX="$WORK/clibcni" -DCMAKE_INSTALL_LIBDIR=lib
}

# The patched tree: a copy of ISULAD_SRC (without .git) with the patch applied, redone when the
# source revision or the patch changed. Only files whose content changed are replaced (iSulad's
# configure regenerates its gRPC sources, so a needless reconfigure costs a full rebuild).
patched_tree() {
    local dst="$WORK/src/isulad-clibcni" new="$WORK/src/isulad-clibcni.new" stamp p
    stamp="$(git -C "$ISULAD_SRC" rev-parse HEAD 2>/dev/null || echo nogit) $(cat "$REPO"/contrib/isulad/*.patch | sha256sum)"
    if [ "$(cat "$dst.stamp" 2>/dev/null)" != "$stamp" ]; then
        log "applying contrib/isulad/*.patch to a copy of $ISULAD_SRC"
        rm -rf "$new"
        mkdir -p "$new"
        tar -C "$ISULAD_SRC" --exclude=.git -cf - . | tar -C "$new" -xf -
        for p in "$REPO"/contrib/isulad/*.patch; do
            patch -d "$new" -p1 -s --no-backup-if-mismatch <"$p" || die "$p does not apply to $ISULAD_SRC"
        done
        if [ ! -d "$dst" ]; then
            mv "$new" "$dst"
        else
            (cd "$dst" && find . -type f) | while read -r f; do
                [ -e "$new/$f" ] || rm -f "$dst/$f"
            done
            (cd "$new" && find . -type f) | while read -r f; do
                cmp -s "$new/$f" "$dst/$f" || { mkdir -p "$(dirname "$dst/$f")" && cp -p "$new/$f" "$dst/$f" && touch "$dst/$f"; }
            done
            rm -rf "$new"
        fi
        echo "$stamp" >"$dst.stamp"
    fi
    echo "$dst"
}

isulad_opts() {
    local inst=$1
    echo -DCMAKE_INSTALL_PREFIX="$inst" -DCMAKE_INSTALL_SYSCONFDIR="$inst/etc" -DCMAKE_INSTALL_LIBDIR=lib \
        -DENABLE_SELINUX=OFF -DENABLE_SYSTEMD_NOTIFY=OFF -DENABLE_SHIM_V2=OFF -DENABLE_LCR=OFF
}

build_isulad() {
    local variant=$1 src
    if [ "$variant" = c ]; then
        src=$ISULAD_SRC
        # shellcheck disable=SC2046
        PKG_CONFIG_PATH="$WORK/lcr/lib/pkgconfig" cmake_build isulad-c "$src" "$WORK/build/isulad-c" \
            $(isulad_opts "$WORK/isulad-c") -DCMAKE_PREFIX_PATH="$WORK/lcr"
    else
        src=$(patched_tree)
        # shellcheck disable=SC2046
        PKG_CONFIG_PATH="$WORK/lcr/lib/pkgconfig:$WORK/clibcni/lib/pkgconfig" \
            cmake_build isulad-clibcni "$src" "$WORK/build/isulad-clibcni" \
            $(isulad_opts "$WORK/isulad-clibcni") -DENABLE_CLIBCNI=ON -DCMAKE_PREFIX_PATH="$WORK/lcr;$WORK/clibcni"
        check_linkage
    fi
}

# The patched daemon links the library, holds none of the C module, and has no undefined symbol.
check_linkage() {
    local bin="$WORK/isulad-clibcni/bin/isulad" undef
    export LD_LIBRARY_PATH="$WORK/isulad-clibcni/lib:$WORK/lcr/lib:$WORK/clibcni/lib"
    ldd "$bin" | grep -q "libclibcni.so" || die "$bin does not link libclibcni.so"
    undef=$(ldd -r "$bin" 2>&1 | grep -c "undefined symbol" || true)
    [ "$undef" = 0 ] || { ldd -r "$bin" | grep "undefined symbol" >&2; die "$bin has $undef undefined symbols"; }
    if nm -D --defined-only "$bin" | grep -qw -e adaptor_cni_setup -e network_module_init; then
        die "$bin still defines the C network module"
    fi
    log "isulad-clibcni: links libclibcni.so, no undefined symbol, no C network module"
    unset LD_LIBRARY_PATH
}

# ---------------------------------------------------------------------------------------------
# Images (made on the host, loaded in each sandbox)
# ---------------------------------------------------------------------------------------------

make_images() {
    local img="$WORK/images"
    mkdir -p "$img"
    if [ ! -s "$img/busybox.tar" ]; then
        log "busybox image from busybox-static"
        local root="$img/busybox-rootfs"
        rm -rf "$root"
        mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,var,run}
        cp /bin/busybox "$root/bin/busybox"
        local applet
        for applet in $(/bin/busybox --list-full); do
            [ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$root/$applet"
        done
        echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
        echo 'root:x:0:' >"$root/etc/group"
        python3 "$HERE/mkimage.py" "$img/busybox.tar" "$root" --tag busybox:latest --tag isulad/busybox:latest --cmd sh
    fi
    if [ ! -s "$img/pause.tar" ]; then
        log "pause image from a static pause binary"
        local root="$img/pause-rootfs"
        rm -rf "$root"
        mkdir -p "$root"/{proc,sys,dev,etc}
        gcc -static -O2 -o "$root/pause" "$HERE/pause.c"
        python3 "$HERE/mkimage.py" "$img/pause.tar" "$root" --tag clibcni-e2e/pause:1 --cmd /pause
    fi
}

cri_venv() {
    local venv="$WORK/venv"
    if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import grpc, grpc_tools' 2>/dev/null; then
        log "venv with grpcio and grpcio-tools (PyPI)"
        /usr/bin/python3 -m venv "$venv"
        "$venv/bin/pip" install -q grpcio grpcio-tools
    fi
    # Stubs from iSulad's own proto, generated at run time.
    local gen="$WORK/cri-stubs" proto="$ISULAD_SRC/src/api/services/cri"
    rm -rf "$gen"
    mkdir -p "$gen"
    "$venv/bin/python" -m grpc_tools.protoc -I "$proto/v1alpha" -I "$proto" --python_out="$gen" \
        --grpc_python_out="$gen" "$proto/gogo.proto" "$proto/v1alpha/api.proto"
}

# ---------------------------------------------------------------------------------------------
# Sandbox side (run as: isulad-e2e.sh __sandbox VARIANT, inside unshare --net --mount)
# ---------------------------------------------------------------------------------------------

sandbox_mounts() {
    local sb=$1 d n
    for d in etc run var/lib opt; do
        n=${d//\//-}
        mkdir -p "$sb/$n.upper" "$sb/$n.work"
        mount -t overlay "overlay-$n" -o "lowerdir=/$d,upperdir=$sb/$n.upper,workdir=$sb/$n.work" "/$d"
    done
    # overlay2 refuses an overlayfs backing filesystem: the daemon's root is a plain bind mount.
    mkdir -p "$sb/isulad-root" "$sb/tmp" /var/lib/isulad
    mount --bind "$sb/isulad-root" /var/lib/isulad
    mount --bind "$sb/tmp" /tmp
    chmod 1777 /tmp
    ip link set lo up
}

# daemon.json for this sandbox: the installed one, runc, a daemon log file that keeps the whole
# run (the case scripts read /var/lib/isulad/isulad.log), extra keys from jq filter $1.
write_daemon_json() {
    local filter=${1:-.}
    jq '."default-runtime" = "runc" | ."log-driver" = "file" | ."log-level" = "DEBUG"
        | ."log-opts"."max-size" = "200MB" | ."log-opts"."max-file" = "2"' \
        "$INST/etc/isulad/daemon.json" | jq "$filter" >/etc/isulad/daemon.json.tmp
    mv /etc/isulad/daemon.json.tmp /etc/isulad/daemon.json
}

start_daemon() {
    isulad -l DEBUG >>"$SB/daemon.out" 2>&1 &
    local i
    for i in $(seq 1 60); do
        isula version >/dev/null 2>&1 && return 0
        sleep 1
    done
    tail -20 /var/lib/isulad/isulad.log >&2 || true
    return 1
}

stop_daemon() {
    local pid
    pid=$(cat /var/run/isulad.pid 2>/dev/null || true)
    [ -n "$pid" ] || return 0
    kill -15 "$pid" 2>/dev/null || return 0
    local i
    for i in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 1
    done
    kill -9 "$pid" 2>/dev/null || true
}

# Every process still in this sandbox's network namespace but this shell's ancestors: the
# daemon, shims, containers a failed case left behind. Killed by pid.
kill_sandbox_processes() {
    local me pid
    me=$(readlink /proc/self/ns/net)
    for pid in $(ls /proc | grep -E '^[0-9]+$'); do
        [ "$pid" = $$ ] || [ "$pid" = "$BASHPID" ] && continue
        [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" = "$me" ] || continue
        grep -q "isulad-e2e.sh __sandbox" "/proc/$pid/cmdline" 2>/dev/null && continue
        kill -9 "$pid" 2>/dev/null || true
    done
}

# valgrind in the cases' PATH (they start the daemon as `valgrind <options> isulad ...`): a
# pass-through, unless $SB/valgrind.on exists (--valgrind, cases that start no container): then
# the real one, and its log (the case's --log-file) is kept per daemon start in $SB/valgrind/.
# Containers cannot start under valgrind: iSulad's util_check_inherited() loops forever on
# valgrind's own fds, which close() refuses (both builds).
install_valgrind_wrapper() {
    mkdir -p "$SB/path" "$SB/valgrind"
    cat >"$SB/path/valgrind" <<EOF
#!/bin/sh
if [ ! -e "$SB/valgrind.on" ]; then
    while [ \$# -gt 0 ]; do case "\$1" in -*) shift ;; *) break ;; esac; done
    exec "\$@"
fi
n=\$(ls "$SB/valgrind" | wc -l)
/usr/bin/valgrind "\$@"
rc=\$?
cp /tmp/valgrind.log "$SB/valgrind/daemon-\$n.log" 2>/dev/null
exit \$rc
EOF
    chmod +x "$SB/path/valgrind"
}

run_case() {
    local name=$1 out="$SB/cases/$1"
    mkdir -p "$SB/cases"
    local before t0 t1 rc=0
    before=$(stat -c %s /var/lib/isulad/isulad.log 2>/dev/null || echo 0)
    rm -f "$SB/valgrind.on"
    if [ "$VALGRIND" = 1 ] && [[ " ${NO_CONTAINER_CASES[*]} " == *" $name "* ]]; then
        touch "$SB/valgrind.on"
    fi
    t0=$(date +%s.%N)
    (cd "$CASEDIR" && BASH_XTRACEFD=9 timeout 1200 bash -x "./$name.sh" 9>"$out.trace" >"$out.out" 2>&1) || rc=$?
    t1=$(date +%s.%N)
    rm -f "$SB/valgrind.on"
    # The daemon log this case produced (the log may have been rotated: then the whole file).
    local size
    size=$(stat -c %s /var/lib/isulad/isulad.log 2>/dev/null || echo 0)
    [ "$size" -ge "$before" ] || before=0
    tail -c +$((before + 1)) /var/lib/isulad/isulad.log >"$out.isulad.log" 2>/dev/null || true
    # The case must have really run: not "ignore test", and with a SUCCESS verdict.
    local verdict=fail
    if [ $rc = 0 ] && grep -q "TESTSUIT: .* SUCCESS" "$out.out" && ! grep -q "ignore test" "$out.out"; then
        verdict=pass
    fi
    # Every fn_check_eq/fn_check_ne call and its outcome, from the trace (ids normalised).
    python3 "$HERE/checks.py" "$out.trace" >"$out.checks"
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$verdict" "$(awk "BEGIN { printf \"%.1f\", $t1 - $t0 }")" \
        "$(grep -c . "$out.checks" || true)" "$(grep -c '^FAIL' "$out.checks" || true)" >>"$SB/results.tsv"
    log "[$VARIANT] $name: $verdict ($(grep -c '^FAIL' "$out.checks" || true) failed checks)"
    # The next case expects a running daemon (do_pretest).
    isula version >/dev/null 2>&1 || start_daemon || true
}

sandbox_main() {
    VARIANT=$1
    read -r -a CASES <<<"${E2E_CASES:-${CASES[*]}}"
    [ "${CASES[*]}" != none ] || CASES=()
    SB="$WORK/sandbox/$VARIANT"
    INST="$WORK/isulad-$VARIANT"
    sandbox_mounts "$SB"
    # The cases run from a copy (they may leave files next to themselves), unmodified.
    cp -a "$ISULAD_SRC/CI/test_cases" "$SB/test_cases"
    CASEDIR="$SB/test_cases/network_cases"
    export PATH="$SB/path:$INST/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    export LD_LIBRARY_PATH="$INST/lib:$WORK/lcr/lib:$WORK/clibcni/lib"
    export LANG=en_US.UTF-8 LC_ALL=en_US.UTF-8
    install_valgrind_wrapper

    mkdir -p /etc/isulad /etc/default/isulad /etc/cni/net.d /opt/cni/bin /var/run
    cp -a "$INST/etc/." /etc/
    cp -a /usr/lib/cni/. /opt/cni/bin/
    write_daemon_json
    : >"$SB/results.tsv"

    start_daemon || die "[$VARIANT] the daemon does not start (see $SB/daemon.out)"
    isula load -i "$WORK/images/busybox.tar" >/dev/null || die "[$VARIANT] isula load busybox failed"
    smoke_test
    local c
    for c in "${CASES[@]+"${CASES[@]}"}"; do
        run_case "$c"
    done
    isula rm -f $(isula ps -aq) >/dev/null 2>&1 || true
    if [ "$CRI" = 1 ]; then
        cri_scenario
    fi
    stop_daemon
    kill_sandbox_processes
}

# A container really runs: an address on a native network, its gateway answers, a mapped port
# serves (busybox httpd on 80, mapped to 8080 of the sandbox).
smoke_test() {
    local ok=pass
    {
        isula network create --subnet 192.168.222.0/24 e2e-smoke
        isula run -tid --net e2e-smoke -p 8080:80 -n e2e-smoke busybox \
            sh -c 'mkdir -p /www && echo clibcni-e2e >/www/index.html && httpd -f -p 80 -h /www'
        sleep 2
        local ip
        ip=$(isula inspect -f '{{json .NetworkSettings.Networks}}' e2e-smoke | jq -r '."e2e-smoke".IPAddress')
        echo "address: $ip"
        [[ "$ip" == 192.168.222.* ]] || ok=fail
        isula exec e2e-smoke ping -c 1 -W 2 192.168.222.1 || ok=fail
        [ "$(wget -q -O - -T 5 http://127.0.0.1:8080/ 2>/dev/null || busybox wget -q -O - -T 5 http://192.168.222.1:8080/)" = clibcni-e2e ] || ok=fail
        isula rm -f e2e-smoke
        isula network rm e2e-smoke
    } >"$SB/smoke.out" 2>&1 || ok=fail
    printf 'smoke\t%s\n' "$ok" >"$SB/smoke.tsv"
    log "[$VARIANT] smoke (address, gateway, mapped port): $ok"
}

cri_scenario() {
    log "[$VARIANT] CRI scenario"
    stop_daemon
    mkdir -p /etc/cni/cri.d /opt/cni/rec
    local p
    for p in /usr/lib/cni/*; do
        cp "$HERE/record-plugin.sh" "/opt/cni/rec/$(basename "$p")"
    done
    cat >/etc/cni/cri.d/10-cri.conflist <<'EOF'
{
  "cniVersion": "1.0.0",
  "name": "cri",
  "plugins": [
    {"type": "bridge", "bridge": "cri-br0", "isGateway": true, "ipMasq": true,
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.88.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
    {"type": "portmap", "capabilities": {"portMappings": true}},
    {"type": "bandwidth", "capabilities": {"bandwidth": true}}
  ]
}
EOF
    cat >/etc/cni/cri.d/20-cri-extra.conflist <<'EOF'
{
  "cniVersion": "1.0.0",
  "name": "cri-extra",
  "plugins": [
    {"type": "bridge", "bridge": "cri-br1",
     "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.89.0.0/24"}]]}}
  ]
}
EOF
    write_daemon_json '."network-plugin" = "cni" | ."cni-conf-dir" = "/etc/cni/cri.d"
        | ."cni-bin-dir" = "/opt/cni/rec" | ."pod-sandbox-image" = "clibcni-e2e/pause:1"'
    rm -rf /tmp/cni-record
    start_daemon || die "[$VARIANT] the daemon does not start with network-plugin cni"
    isula load -i "$WORK/images/pause.tar" >/dev/null || die "[$VARIANT] isula load pause failed"
    cat >"$SB/restart-daemon" <<EOF
#!/bin/bash
set -e
source "$SELF" __functions
SB="$SB"
stop_daemon
start_daemon
EOF
    chmod +x "$SB/restart-daemon"
    local rc=0
    PYTHONPATH="$WORK/cri-stubs" "$WORK/venv/bin/python" "$HERE/cri_scenario.py" \
        --socket /var/run/isulad.sock --restart "$SB/restart-daemon" --out "$SB/cri.tsv" \
        >"$SB/cri.out" 2>&1 || rc=$?
    log "[$VARIANT] CRI scenario: $( [ $rc = 0 ] && echo pass || echo "fail (see $SB/cri.out)")"
    rm -rf "$SB/cni-record"
    cp -a /tmp/cni-record "$SB/cni-record" 2>/dev/null || true
}

# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

# What a leak out of the sandbox would leave on the host (other users of the machine may create
# bridges and CNI rules of their own, so only this run's marks count): its bridges, rules for its
# subnets, the paths the daemon and the cases write.
host_state() {
    ip -o link show | awk -F': ' '{ print $2 }' | sed 's/@.*//' | grep -E '^(cri-br[01]|cni0)$' || true
    iptables-save 2>/dev/null | grep -E '(192\.168\.222|10\.88\.0|10\.89\.0|172\.20\.5)\.' || true
    ls -d /etc/isulad /etc/cni/net.d/isulacni-* /etc/cni/cri.d /opt/cni/rec /var/lib/isulad /run/isulad \
        /run/isulad.sock /run/isulad.pid /tmp/valgrind.log /tmp/cni-record 2>/dev/null || true
}

report() {
    local f others=()
    for f in "$ISULAD_SRC"/CI/test_cases/network_cases/*.sh; do
        f=$(basename "$f" .sh)
        [[ " ${CASES[*]} " == *" $f "* ]] || others+=("$f")
    done
    {
        python3 "$HERE/report.py" "$WORK/sandbox" "${BUILDS[@]}" && rc=0 || rc=$?
        cat "$WORK/host.txt"
        grep -q "^host untouched" "$WORK/host.txt" || rc=1
        if [ ${#others[@]} = 0 ]; then
            echo "CI/test_cases/network_cases holds no other case (config/ is setup_network_failed's data)."
        else
            echo "Cases not run (not named by --cases): ${others[*]}"
        fi
        return $rc
    } | tee "$WORK/report.txt"
}

# ---------------------------------------------------------------------------------------------

main() {
    VALGRIND=0 CRI=1 WORK=/var/tmp/clibcni-isulad-e2e BUILDS=(c clibcni)
    while [ $# -gt 0 ]; do
        case "$1" in
            --valgrind) VALGRIND=1 ;;
            --no-cri) CRI=0 ;;
            --work) WORK=$2; shift ;;
            --builds) IFS=, read -r -a BUILDS <<<"$2"; shift ;;
            --cases) IFS=, read -r -a CASES <<<"$2"; shift ;;
            -h|--help) sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$SELF"; exit 0 ;;
            -*) die "unknown option $1" ;;
            *) break ;;
        esac
        shift
    done
    [ $# = 2 ] || die "usage: $0 [--valgrind] [--work DIR] [--builds c,clibcni] [--cases a,b] [--no-cri] ISULAD_SRC LCR_SRC"
    [ "$(id -u)" = 0 ] || die "must run as root (namespaces, mounts, iptables)"
    ISULAD_SRC=$(readlink -f "$1") LCR_SRC=$(readlink -f "$2")
    [ -d "$ISULAD_SRC/CI/test_cases/network_cases" ] || die "$ISULAD_SRC is not an iSulad tree"
    [ -f "$LCR_SRC/CMakeLists.txt" ] || die "$LCR_SRC is not an lcr tree"
    mkdir -p "$WORK/logs"
    WORK=$(readlink -f "$WORK")
    E2E_CASES="${CASES[*]}"
    export WORK ISULAD_SRC LCR_SRC VALGRIND CRI E2E_CASES

    install_deps
    build_lcr
    [[ " ${BUILDS[*]} " != *" clibcni "* ]] || build_clibcni
    local b
    for b in "${BUILDS[@]}"; do
        build_isulad "$b"
    done
    make_images
    [ "$CRI" = 0 ] || cri_venv
    host_state >"$WORK/host.before"
    for b in "${BUILDS[@]}"; do
        log "sandbox for $b"
        rm -rf "$WORK/sandbox/$b"
        mkdir -p "$WORK/sandbox/$b"
        unshare --net --mount --propagation private bash "$SELF" __sandbox "$b" \
            || log "sandbox $b ended with an error"
    done
    host_state >"$WORK/host.after"
    if diff -u "$WORK/host.before" "$WORK/host.after" >"$WORK/host.diff"; then
        echo "host untouched: links, CNI iptables rules and daemon paths the same before and after" >"$WORK/host.txt"
    else
        echo "HOST CHANGED (see $WORK/host.diff)" >"$WORK/host.txt"
    fi
    report
}

# One compound command, so bash has read the whole file before running any of it.
case "${1:-}" in
    __sandbox) shift; sandbox_main "$@"; exit $? ;;
    __functions) ;;
    *) main "$@"; exit $? ;;
esac
