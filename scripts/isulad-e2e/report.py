#!/usr/bin/env python3
"""The e2e report from the sandboxes' files: report.py SANDBOX_DIR BUILD...

Prints (markdown) the case x build table, the check-line comparison, the smoke test, the CRI
scenario's checks, the plugin-input differences of the CRI run and the isulad.log check for the
library's DEBUG lines. Exit status 0 only when every case and check passed on every build, the
check lines are the same and the library's log lines are there.
"""
import glob
import json
import os
import re
import sys

NAMES = {"c": "C module", "clibcni": "clibcni"}


def read_tsv(path):
    try:
        with open(path) as f:
            return [line.rstrip("\n").split("\t") for line in f if line.strip()]
    except FileNotFoundError:
        return []


def read_lines(path):
    try:
        with open(path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return None


def cases_table(sb, builds):
    ok = True
    results = {b: {r[0]: r for r in read_tsv(os.path.join(sb, b, "results.tsv"))} for b in builds}
    cases = []
    for b in builds:
        cases += [c for c in results[b] if c not in cases]
    print("| case | " + " | ".join(NAMES.get(b, b) for b in builds) + " | failed / all checks | failed check lines |")
    print("|---|" + "---|" * len(builds) + "---|---|")
    diffs = []
    for case in cases:
        cells, failed, checks = [], [], []
        for b in builds:
            r = results[b].get(case)
            if r is None:
                cells.append("not run")
                ok = False
                failed.append("-")
                checks.append(None)
                continue
            _, verdict, secs, total, nfail = r
            ok = ok and verdict == "pass"
            cells.append("%s (%s s)" % (verdict, secs))
            failed.append("%s/%s" % (nfail, total))
            lines = read_lines(os.path.join(sb, b, "cases", case + ".checks"))
            checks.append(None if lines is None else [l for l in lines if l.startswith("FAIL")])
        same = len(checks) < 2 or all(c is not None and c == checks[0] for c in checks)
        if not same:
            ok = False
            diffs.append((case, checks))
        print("| %s | %s | %s | %s |" % (case, " | ".join(cells), " · ".join(failed), "same" if same else "DIFFER"))
    for case, checks in diffs:
        print("\nCheck lines of %s differ:" % case)
        for b, c in zip(builds, checks):
            print("  %s:" % b)
            for line in c or []:
                print("    " + line)
    # Failed checks that both builds share are iSulad's own (e.g. port.sh's), shown once.
    shared = {}
    for case in cases:
        lines = read_lines(os.path.join(sb, builds[0], "cases", case + ".checks")) or []
        fails = [l for l in lines if l.startswith("FAIL")]
        if fails and all([l for l in read_lines(os.path.join(sb, b, "cases", case + ".checks")) or []
                          if l.startswith("FAIL")] == fails for b in builds):
            shared[case] = fails
    for case, fails in shared.items():
        print("\n%s: %d failed checks, the same on every build (iSulad's script, not the network module):" % (case, len(fails)))
        for line in sorted(set(fails)):
            print("    %dx %s" % (fails.count(line), line))
    return ok


def smoke(sb, builds):
    rows = {b: dict(read_tsv(os.path.join(sb, b, "smoke.tsv"))).get("smoke", "not run") for b in builds}
    print("\nSmoke (busybox on a native network: address, gateway ping, mapped port): "
          + ", ".join("%s %s" % (NAMES.get(b, b), v) for b, v in rows.items()))
    return all(v == "pass" for v in rows.values())


def cri(sb, builds):
    results = {b: read_tsv(os.path.join(sb, b, "cri.tsv")) for b in builds}
    if not any(results.values()):
        print("\nCRI scenario: not run")
        return True
    names = []
    for b in builds:
        names += [r[0] for r in results[b] if r[0] not in names]
    print("\n| CRI check | " + " | ".join(NAMES.get(b, b) for b in builds) + " |")
    print("|---|" + "---|" * len(builds))
    ok = True
    for name in names:
        cells = []
        for b in builds:
            r = {x[0]: x for x in results[b]}.get(name)
            cells.append(r[1] if r else "not run")
            ok = ok and r is not None and r[1] == "pass"
        print("| %s | %s |" % (name, " | ".join(cells)))
    return ok


# --- plugin inputs --------------------------------------------------------------------------

RECORD = re.compile(r"^(\d+)-(\d+)-(.+)-([A-Z]+)\.env$")
MAC = re.compile(r"\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b")
VETH = re.compile(r"\bveth[0-9a-f]{8}\b")
BWP = re.compile(r"\bbwp[0-9a-f]{12}\b")  # bandwidth's ifb, named after a hash of the container id


def records(d):
    out = []
    for env_path in sorted(glob.glob(os.path.join(d, "*.env")), key=lambda p: int(os.path.basename(p).split("-")[0])):
        m = RECORD.match(os.path.basename(env_path))
        if not m:
            continue
        env = dict(l.split("=", 1) for l in read_lines(env_path) if "=" in l)
        with open(env_path[:-4] + ".stdin") as f:
            text = f.read()
        try:
            stdin = json.loads(text)
        except ValueError:
            stdin = text
        out.append((m.group(3), m.group(4), env, stdin))
    return out


def normaliser(recs):
    """Container ids and netns paths become <pod1>, <netns1>... by first appearance."""
    names = {}
    for _, _, env, _ in recs:
        for key, tag in (("CNI_CONTAINERID", "pod"), ("CNI_NETNS", "netns")):
            v = env.get(key)
            if v and v not in names:
                names[v] = "<%s%d>" % (tag, 1 + sum(1 for t in names.values() if t.startswith("<" + tag)))

    def norm(s):
        for raw, tag in sorted(names.items(), key=lambda kv: -len(kv[0])):
            s = s.replace(raw, tag)
        return BWP.sub("<ifb>", VETH.sub("<veth>", MAC.sub("<mac>", s)))
    return norm


def flatten(value, prefix=""):
    if isinstance(value, dict):
        for k in sorted(value):
            yield from flatten(value[k], "%s.%s" % (prefix, k) if prefix else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from flatten(v, "%s[%d]" % (prefix, i))
    else:
        yield prefix, json.dumps(value)


def keyed(recs):
    norm = normaliser(recs)
    seen, out = {}, {}
    for plugin, cmd, env, stdin in recs:
        n = seen.get((plugin, cmd), 0)
        seen[(plugin, cmd)] = n + 1
        fields = {"env " + k: norm(v) for k, v in env.items()}
        fields.update({"stdin " + k: norm(v) for k, v in flatten(stdin)})
        out[(plugin, cmd, n)] = fields
    return out


def plugin_inputs(sb, builds):
    if len(builds) != 2:
        return
    a, b = builds
    ra, rb = (records(os.path.join(sb, x, "cni-record")) for x in builds)
    if not ra and not rb:
        print("\nPlugin inputs: no recording")
        return
    ka, kb = keyed(ra), keyed(rb)
    print("\nPlugin inputs of the CRI run (%s: %d calls, %s: %d calls; ids, netns paths, MACs, veth and ifb names normalised):"
          % (a, len(ra), b, len(rb)))
    print("  calls %s: %s" % (a, " ".join("%s:%s" % (p, c) for p, c, _, _ in ra)))
    print("  calls %s: %s" % (b, " ".join("%s:%s" % (p, c) for p, c, _, _ in rb)))
    diffs = {}
    for key in sorted(set(ka) | set(kb)):
        fa, fb = ka.get(key), kb.get(key)
        if fa is None or fb is None:
            diffs.setdefault(("call", "only in %s" % (b if fa is None else a)), []).append("%s %s #%d" % key)
            continue
        for field in sorted(set(fa) | set(fb)):
            if fa.get(field) != fb.get(field):
                diffs.setdefault((field, "%s: %s | %s: %s" % (a, fa.get(field, "(absent)"), b, fb.get(field, "(absent)"))),
                                 []).append("%s %s #%d" % key)
    if not diffs:
        print("  no difference")
    for (field, what), where in sorted(diffs.items()):
        print("  - %s — %s — in %s" % (field, what, ", ".join(where)))


def valgrind(sb, builds):
    """Errors in the daemon's valgrind logs (--valgrind) whose stack has a frame in the library."""
    logs = {b: sorted(glob.glob(os.path.join(sb, b, "valgrind", "daemon-*.log"))
                      + glob.glob(os.path.join(sb, b, "tmp", "valgrind.log"))) for b in builds}
    if not any(logs.values()):
        return True
    ok = True
    print("\nvalgrind (daemon of the cases that start no container):")
    for b in builds:
        in_lib = errors = 0
        stuck = False
        for path in logs[b]:
            with open(path, errors="replace") as f:
                text = f.read()
            stuck = stuck or "util_check_inherited" in text
            # One error: consecutive "==PID== " lines with "at/by" frames, up to an empty one; a
            # frame of the library names libclibcni.so or a clibcni:: symbol.
            block = []
            for line in text.splitlines() + ["==0== "]:
                if not re.match(r"==\d+== ", line):
                    continue
                if line.rstrip() == re.match(r"==\d+==", line).group(0):
                    frames = [l for l in block if re.search(r"==\d+==    (at|by) 0x", l)]
                    if frames:
                        errors += 1
                        in_lib += any("libclibcni" in l or "clibcni::" in l for l in frames)
                    block = []
                else:
                    block.append(line)
        print("  %s: %d daemon runs, %d errors/warnings with a stack, %d with a frame in libclibcni%s"
              % (NAMES.get(b, b), len(logs[b]), errors, in_lib,
                 "; the daemon never got past daemonize(): iSulad's util_check_inherited() loops on "
                 "valgrind's own fd, which close() refuses" if stuck else ""))
        ok = ok and in_lib == 0
    return ok


PLUGIN_RUN = re.compile(r"clibcni: (ADD|DEL|CHECK|GC|STATUS|VERSION) \S+")
ATTACH = re.compile(r"clibcni: (ADD|DEL) \S+")
# The cases that start containers, so run ADD and DEL: each must leave the library's DEBUG lines.
CONTAINER_CASES = ("container_with_network", "port", "container_network_cleanup", "setup_network_failed",
                   "restartpolicy_and_network", "dnsname")


def library_log(sb, builds):
    if "clibcni" not in builds:
        return True
    lines = []
    for path in sorted(glob.glob(os.path.join(sb, "clibcni", "isulad-root", "isulad.log*"))):
        with open(path, errors="replace") as f:
            lines += [l for l in f if "clibcni: " in l]
    debug = [l for l in lines if "DEBUG" in l and PLUGIN_RUN.search(l)]
    print("\nisulad.log (clibcni build): %d lines from the library, %d of them DEBUG lines of plugin runs"
          % (len(lines), len(debug)))
    ok = bool(debug)
    per_case = []
    for case in CONTAINER_CASES:
        path = os.path.join(sb, "clibcni", "cases", case + ".isulad.log")
        if not os.path.exists(path):
            continue
        with open(path, errors="replace") as f:
            n = sum(1 for l in f if "DEBUG" in l and ATTACH.search(l))
        per_case.append("%s %d" % (case, n))
        ok = ok and n > 0
    print("  ADD/DEL DEBUG lines per container case: " + ", ".join(per_case))
    for kind in ("ADD", "DEL", "ERROR"):
        sample = next((l for l in lines if (kind in l.split(" - ")[0] if kind == "ERROR"
                                            else re.search(r"clibcni: %s " % kind, l))), None)
        if sample:
            level = re.search(r" (ERROR|WARN|INFO|DEBUG|TRACE) ", sample)
            print("  e.g. %s %s" % (level.group(1) if level else "?", sample.split(" - ", 1)[-1].strip()[:220]))
    if not ok:
        print("  FAIL: a container case left no DEBUG line of a plugin run (the patch's log sink is not delivering)")
    return ok


def main():
    sb, builds = sys.argv[1], sys.argv[2:]
    ok = cases_table(sb, builds)
    ok = smoke(sb, builds) and ok
    ok = cri(sb, builds) and ok
    plugin_inputs(sb, builds)
    ok = valgrind(sb, builds) and ok
    ok = library_log(sb, builds) and ok
    print("\nRESULT: %s" % ("PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
