#!/usr/bin/env python3
"""Writes a one-layer docker-archive image (what `isula load` reads) from a root filesystem dir.

    mkimage.py OUT.tar ROOTFS --tag NAME:TAG [--tag ...] --cmd ARG [--cmd ...] [--env K=V ...]

No registry is involved: the layer is ROOTFS as a tar (owner 0:0), the config names its digest.
"""
import argparse
import hashlib
import io
import json
import os
import tarfile


def layer_bytes(rootfs):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(rootfs):
            dirnames.sort()
            for name in sorted(dirnames) + sorted(filenames):
                path = os.path.join(dirpath, name)
                info = tar.gettarinfo(path, arcname=os.path.relpath(path, rootfs))
                info.uid = info.gid = 0
                info.uname = info.gname = "root"
                info.mtime = 0
                if info.isreg():
                    with open(path, "rb") as f:
                        tar.addfile(info, f)
                else:
                    tar.addfile(info)
    return buf.getvalue()


def add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("rootfs")
    ap.add_argument("--tag", action="append", required=True)
    ap.add_argument("--cmd", action="append", required=True)
    ap.add_argument("--env", action="append",
                    default=["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
    args = ap.parse_args()

    layer = layer_bytes(args.rootfs)
    layer_id = hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {"Env": args.env, "Cmd": args.cmd, "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + layer_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "clibcni scripts/isulad-e2e/mkimage.py"}],
    }, sort_keys=True).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{
        "Config": config_name,
        "RepoTags": args.tag,
        "Layers": [layer_id + "/layer.tar"],
    }]).encode()

    tmp = args.out + ".tmp"
    with tarfile.open(tmp, mode="w") as tar:
        add_bytes(tar, layer_id + "/layer.tar", layer)
        add_bytes(tar, config_name, config)
        add_bytes(tar, "manifest.json", manifest)
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
