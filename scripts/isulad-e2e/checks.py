#!/usr/bin/env python3
"""The checks of a case, from its `bash -x` trace, one per line:

    PASS|FAIL eq|ne 'ACTUAL' 'EXPECTED' MESSAGE    a fn_check_eq / fn_check_ne call
    FAIL msg_err MESSAGE                           an error the case reported
    TEST [[ ... ]]                                 a test as evaluated (outcome left to the case)

Container ids and similar hex strings become <id>, so the lists of two builds compare.
"""
import re
import shlex
import sys

CALL = re.compile(r"^\++ fn_check_(eq|ne)(?: (.*))?$")
ERR = re.compile(r"^\++ msg_err (.*)$")
TEST = re.compile(r"^\++ (\[\[ .* \]\])$")
HEX = re.compile(r"\b[0-9a-f]{12,64}\b")


def main(trace):
    with open(trace, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            for pattern, kind in ((ERR, "FAIL msg_err"), (TEST, "TEST")):
                other = pattern.match(line)
                if other:
                    print(HEX.sub("<id>", "%s %s" % (kind, other.group(1))))
            m = CALL.match(line)
            if not m:
                continue
            try:
                args = shlex.split(m.group(2) or "")
            except ValueError:
                args = (m.group(2) or "").split()
            args += [""] * (3 - len(args))
            actual, expected, message = args[0], args[1], " ".join(args[2:])
            same = actual == expected
            ok = same if m.group(1) == "eq" else not same
            text = "%s %s %r %r %s" % ("PASS" if ok else "FAIL", m.group(1), actual, expected, message)
            print(HEX.sub("<id>", text))


if __name__ == "__main__":
    main(sys.argv[1])
