#!/usr/bin/env python3
"""Check an implementation of Exim's -be string expansion against battery.jsonl.

    run_battery.py --tern /path/to/tern     # the C++ project's checker (ctest)
    run_battery.py --exim                   # the reference Exim 4.96 (must pass 100%)

For each case runs
    PROG -C tests/expand/fixtures/battery.conf -DFIXTURES=<abs fixtures dir> -be '<input>'
(stdin is /dev/null) and compares stdout, minus one final newline, and the
exit status with the recorded ones ("match" cases: the output must fully
match the regex).  Prints a diff per mismatch and a final line
"N passed, N failed"; exits 1 if any case failed.

tern gets a copy of battery.conf that first loads the modules pgsql and
mysql (Exim 4.96 has those lookups built in).

Options:
  --only PREFIX       run only the cases whose id starts with PREFIX (repeatable)
  --list-failures     print only the ids of the failing cases (plus the summary)
  --jobs N            parallel processes (default: 2 x CPUs)
  --timeout S         per-case timeout in seconds (default 20)
  --battery FILE      another battery file (default tests/expand/battery.jsonl)
"""
import argparse
import difflib
import json
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
import battery_common as bc  # noqa: E402



def load(path):
    cases = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                cases.append(json.loads(line))
    return cases


DIFFERENCES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tern_differences.json")


def apply_differences(cases, path):
    """tern's own expectations where it differs from Exim on purpose, and the
    cases that wait for a later piece of tern (each with the reason). A
    pending case must still fail: one that passes is reported, so the list
    only ever shrinks."""
    with open(path, encoding="utf-8") as f:
        diffs = json.load(f)
    pending = diffs.get("pending", {})
    for case in cases:
        d = diffs.get("deliberate", {}).get(case["id"])
        if d:
            case.pop("match", None)
            case["output"], case["exit"] = d["output"], d.get("exit", 0)
        if case["id"] in pending:
            case["pending"] = pending[case["id"]]
    return cases


# The modules whose names the battery uses (quote_mysql, quote_pgsql, the
# mysql lookup): Exim 4.96 has them built in, tern loads them.
TERN_MODULES = "pgsql : mysql"


def tern_config(directory):
    """battery.conf with `modules = ...` in front, for tern (Exim would refuse
    the option). Written as <directory>/battery.conf."""
    with open(bc.CONF, encoding="utf-8") as f:
        text = f.read()
    path = os.path.join(directory, "battery.conf")
    with open(path, "w", encoding="utf-8") as f:
        f.write(f"modules = {TERN_MODULES}\n" + text)
    return path


def run_case(prog, case, timeout, conf=bc.CONF):
    argv = [bc.encode_arg(a) for a in bc.command(prog, case["input"], conf=conf)]
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None, "timeout", ""
    except OSError as e:
        return None, f"cannot run: {e}", ""
    out = bc.decode_out(p.stdout)
    if out.endswith("\n"):
        out = out[:-1]
    return out, p.returncode, bc.decode_out(p.stderr)


def check(case, result):
    """returns None when it passes, else a description of the mismatch"""
    out, rc, err = result
    problems = []
    if out is None:
        return f"  {rc}\n"
    if "match" in case:
        rx = bc.detokenize_regex(case["match"])
        if not re.fullmatch(rx, out, re.S):
            problems.append(f"  output {out!r}\n  does not match /{case['match']}/\n")
    else:
        want = bc.detokenize(case["output"])
        if out != want:
            if "\n" in want or "\n" in out:
                d = difflib.unified_diff(want.split("\n"), out.split("\n"),
                                         "expected", "got", lineterm="")
                problems.append("".join(f"  {l!r}\n" for l in d))
            else:
                problems.append(f"  expected: {want!r}\n       got: {out!r}\n")
    if rc != case["exit"]:
        problems.append(f"  exit status: expected {case['exit']}, got {rc}\n")
    if not problems:
        return None
    if err.strip():
        problems.append(f"  stderr: {err.strip()[:500]!r}\n")
    return "".join(problems)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--tern", help="path of the tern binary")
    g.add_argument("--exim", action="store_true", help="check the reference exim itself")
    ap.add_argument("--only", action="append", help="id prefix (repeatable)")
    ap.add_argument("--list-failures", action="store_true")
    ap.add_argument("--jobs", type=int, default=2 * (os.cpu_count() or 2))
    ap.add_argument("--timeout", type=float, default=20)
    ap.add_argument("--battery", default=bc.BATTERY)
    args = ap.parse_args()

    prog = bc.exim_prog() if args.exim else [os.path.abspath(args.tern)]
    cases = load(args.battery)
    # battery.conf names this spool directory; $spool_inodes and $spool_space
    # read it, so it must exist (a fresh clone has no build/exim-ref).
    os.makedirs(os.path.join(bc.REPO, "build", "exim-ref", "spool"), exist_ok=True)
    conf = bc.CONF
    with tempfile.TemporaryDirectory(prefix="tern-battery-") as tmp:
        if not args.exim:
            cases = apply_differences(cases, DIFFERENCES)
            conf = tern_config(tmp)
        if args.only:
            cases = [c for c in cases if any(c["id"].startswith(p) for p in args.only)]
        with ThreadPoolExecutor(max(1, args.jobs)) as ex:
            results = list(ex.map(lambda c: run_case(prog, c, args.timeout, conf), cases))

    passed = failed = skipped = 0
    for case, res in zip(cases, results):
        msg = check(case, res)
        if "pending" in case:
            if msg is not None:
                skipped += 1
                continue
            msg = f"  pending ({case['pending']}) but passes now: remove it from tern_differences.json\n"
        if msg is None:
            passed += 1
            continue
        failed += 1
        if args.list_failures:
            print(case["id"])
        else:
            print(f"FAIL {case['id']}\n  input: {case['input']!r}\n{msg}", end="")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
