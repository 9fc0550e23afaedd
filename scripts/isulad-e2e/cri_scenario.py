#!/usr/bin/env python3
"""The CRI path as kubelet drives it, against iSulad's gRPC socket (network-plugin: cni).

Stubs come from iSulad's own v1alpha api.proto (generated at run time into PYTHONPATH). Runs pod 1
on the "cri" conflist (bridge + host-local + portmap + bandwidth) with a port mapping, a bandwidth
annotation and the extra network "cri-extra" by annotation, and pod 2 with none; checks the
addresses, the DNAT rule, the tc qdiscs, host-local's leases and the result cache, restarts the
daemon with both pods running, then Stop (everything released, cache gone) and Remove.
Writes one line per check to --out: name, pass|fail, detail. Exit status 1 when a check failed.
"""
import argparse
import ipaddress
import json
import os
import subprocess
import sys
import time

import grpc

import api_pb2
import api_pb2_grpc

CRI_NET, EXTRA_NET = "cri", "cri-extra"
SUBNET, EXTRA_SUBNET = ipaddress.ip_network("10.88.0.0/24"), ipaddress.ip_network("10.89.0.0/24")
HOST_PORT, CONTAINER_PORT = 18080, 80
LEASES = "/var/lib/cni/networks"


class Checks:
    def __init__(self, out):
        self.out = open(out, "w")
        self.failed = 0

    def __call__(self, name, ok, detail=""):
        ok = bool(ok)
        self.failed += not ok
        line = "%s\t%s\t%s" % (name, "pass" if ok else "fail", str(detail).replace("\n", " ")[:300])
        print(line, flush=True)
        self.out.write(line + "\n")
        self.out.flush()


def sh(cmd):
    return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout


def leases(network, pod_id):
    """host-local's lease files of network held by pod_id."""
    d = os.path.join(LEASES, network)
    found = []
    for name in os.listdir(d) if os.path.isdir(d) else []:
        path = os.path.join(d, name)
        try:
            with open(path) as f:
                if f.readline().strip() == pod_id:
                    found.append(name)
        except (IsADirectoryError, UnicodeDecodeError):
            pass
    return sorted(found)


def cache_files(pod_id):
    """Result-cache files naming pod_id anywhere under /var/lib/cni except the leases."""
    found = []
    for root, _, files in os.walk("/var/lib/cni"):
        if root.startswith(LEASES):
            continue
        found += [os.path.join(root, f) for f in files if pod_id in f]
    return sorted(found)


def dnat_rules():
    return [line for line in sh("iptables -t nat -S").splitlines() if "--dport %d" % HOST_PORT in line and "DNAT" in line]


def pod_config(name, uid, ports=(), annotations=None):
    return api_pb2.PodSandboxConfig(
        metadata=api_pb2.PodSandboxMetadata(name=name, uid=uid, namespace="e2e", attempt=0),
        hostname=name,
        log_directory="/tmp/cri-logs/" + name,
        port_mappings=[api_pb2.PortMapping(protocol=api_pb2.TCP, container_port=c, host_port=h) for c, h in ports],
        annotations=annotations or {},
        linux=api_pb2.LinuxPodSandboxConfig(),
    )


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--socket", default="/var/run/isulad.sock")
    ap.add_argument("--restart", required=True, help="command restarting the daemon")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    check = Checks(args.out)

    def connect():
        channel = grpc.insecure_channel("unix://" + args.socket)
        grpc.channel_ready_future(channel).result(timeout=60)
        return api_pb2_grpc.RuntimeServiceStub(channel)

    rt = connect()
    version = rt.Version(api_pb2.VersionRequest(), timeout=30)
    check("version", version.runtime_name != "", "%s %s" % (version.runtime_name, version.runtime_version))

    def status(pod_id):
        return rt.PodSandboxStatus(api_pb2.PodSandboxStatusRequest(pod_sandbox_id=pod_id), timeout=60).status

    annotations = {
        "kubernetes.io/ingress-bandwidth": "1M",
        "kubernetes.io/engress-bandwidth": "1M",
        "network.alpha.kubernetes.io/network": json.dumps([{"name": EXTRA_NET, "interface": "eth1"}]),
    }
    t0 = time.time()
    pod1 = rt.RunPodSandbox(api_pb2.RunPodSandboxRequest(
        config=pod_config("pod1", "uid-pod1", [(CONTAINER_PORT, HOST_PORT)], annotations)), timeout=180).pod_sandbox_id
    check("run pod1", pod1, "%s in %.1f s" % (pod1, time.time() - t0))
    st1 = status(pod1)
    ip1 = st1.network.ip
    check("pod1 ready", st1.state == api_pb2.SANDBOX_READY, api_pb2.PodSandboxState.Name(st1.state))
    own = leases(CRI_NET, pod1)
    check("pod1 leases one address on %s (eth0)" % CRI_NET,
          len(own) == 1 and ipaddress.ip_address(own[0]) in SUBNET, own)
    eth0 = own[0] if own else "?"
    extra = leases(EXTRA_NET, pod1)
    check("pod1 leases one address on %s (eth1, by annotation)" % EXTRA_NET,
          len(extra) == 1 and ipaddress.ip_address(extra[0]) in EXTRA_SUBNET, extra)
    # Which of its addresses the daemon reports is the daemon's choice: shown, checked to be one.
    which = CRI_NET if ip1 in own else EXTRA_NET if ip1 in extra else "neither"
    check("pod1 status address is one of its own", which != "neither", "%s (%s)" % (ip1, which))
    rules = dnat_rules()
    check("DNAT %d -> eth0:%d" % (HOST_PORT, CONTAINER_PORT),
          any("--to-destination %s:%d" % (eth0, CONTAINER_PORT) in r for r in rules), rules)
    qdiscs = sh("tc qdisc show")
    check("tc: tbf qdisc (bandwidth)", "qdisc tbf" in qdiscs, " | ".join(l for l in qdiscs.splitlines() if "tbf" in l))
    check("tc: ingress qdisc on the host veth", "qdisc ingress" in qdiscs,
          " | ".join(l for l in qdiscs.splitlines() if "ingress" in l))
    check("pod1 result cache present", cache_files(pod1), cache_files(pod1))

    pod2 = rt.RunPodSandbox(api_pb2.RunPodSandboxRequest(config=pod_config("pod2", "uid-pod2")),
                            timeout=180).pod_sandbox_id
    ip2 = status(pod2).network.ip
    check("pod2 address differs from pod1's", ip2 and ip2 not in (eth0, ip1) and leases(CRI_NET, pod2) == [ip2],
          "%s vs %s" % (ip2, eth0))

    restart = subprocess.run(args.restart, shell=True, capture_output=True, text=True)
    check("daemon restart with pods running", restart.returncode == 0, restart.stderr[-200:])
    rt = connect()
    st1 = status(pod1)
    check("pod1 ready after restart", st1.state == api_pb2.SANDBOX_READY, api_pb2.PodSandboxState.Name(st1.state))
    check("pod1 address kept after restart", st1.network.ip == ip1, st1.network.ip)
    check("pod1 cache kept after restart", cache_files(pod1), cache_files(pod1))
    check("DNAT kept after restart", dnat_rules(), dnat_rules())

    rt.StopPodSandbox(api_pb2.StopPodSandboxRequest(pod_sandbox_id=pod1), timeout=180)
    st1 = status(pod1)
    check("pod1 not ready after stop", st1.state == api_pb2.SANDBOX_NOTREADY, api_pb2.PodSandboxState.Name(st1.state))
    check("stop: leases released on both networks", not leases(CRI_NET, pod1) and not leases(EXTRA_NET, pod1),
          leases(CRI_NET, pod1) + leases(EXTRA_NET, pod1))
    check("stop: DNAT rule removed", not dnat_rules(), dnat_rules())
    qdiscs = sh("tc qdisc show")
    check("stop: bandwidth qdiscs removed", "qdisc tbf" not in qdiscs, " | ".join(l for l in qdiscs.splitlines() if "tbf" in l))
    check("stop: result cache gone", not cache_files(pod1), cache_files(pod1))
    check("stop: pod2 untouched", leases(CRI_NET, pod2) == [ip2], leases(CRI_NET, pod2))

    rt.RemovePodSandbox(api_pb2.RemovePodSandboxRequest(pod_sandbox_id=pod1), timeout=120)
    ids = [p.id for p in rt.ListPodSandbox(api_pb2.ListPodSandboxRequest(), timeout=60).items]
    check("remove pod1", pod1 not in ids and pod2 in ids, ids)

    rt.StopPodSandbox(api_pb2.StopPodSandboxRequest(pod_sandbox_id=pod2), timeout=180)
    rt.RemovePodSandbox(api_pb2.RemovePodSandboxRequest(pod_sandbox_id=pod2), timeout=120)
    check("stop+remove pod2: released", not leases(CRI_NET, pod2) and not cache_files(pod2),
          leases(CRI_NET, pod2) + cache_files(pod2))
    print("pods: %s %s" % (pod1, pod2))
    return 1 if check.failed else 0


if __name__ == "__main__":
    sys.exit(main())
