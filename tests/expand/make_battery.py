#!/usr/bin/env python3
"""Generate tests/expand/battery.jsonl by running the reference Exim 4.96.

For every case of battery_inputs.txt (format: see battery_common.py) runs
    scripts/exim-ref.sh exim -C tests/expand/fixtures/battery.conf \\
        -DFIXTURES=<abs tests/expand/fixtures> -be '<input>'
once, and records stdout (without its final newline) and the exit status.
Exim's stderr (timestamped configuration errors, length-limit errors) is
not recorded.  Cases with a match: regex record the regex instead of the
output, after checking that the output fully matches it.

Usage: make_battery.py [--jobs N] [--show] [--only PREFIX]
  --show   print id, input and output of each case (for review)
  --only   run only the cases whose id starts with PREFIX and do not write
           battery.jsonl (for exploring)
"""
import argparse
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
import battery_common as bc

PROG = None


def run_one(case):
    argv = [bc.encode_arg(a) for a in bc.command(PROG, case["input"])]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    out = bc.decode_out(p.stdout)
    if out.endswith("\n"):
        out = out[:-1]
    return out, p.returncode, bc.decode_out(p.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--show", action="store_true")
    ap.add_argument("--only")
    args = ap.parse_args()

    global PROG
    PROG = bc.exim_prog()
    cases = bc.read_inputs()
    if args.only:
        cases = [c for c in cases if c["id"].startswith(args.only)]
    with ThreadPoolExecutor(args.jobs) as ex:
        results = list(ex.map(run_one, cases))

    records = []
    bad = 0
    for case, (out, rc, err) in zip(cases, results):
        rec = {"id": case["id"], "input": case["input"]}
        if case["match"] is not None:
            if not re.fullmatch(bc.detokenize_regex(case["match"]), out, re.S):
                print(f"REGEX MISMATCH {case['id']}: {out!r} !~ {case['match']!r}", file=sys.stderr)
                bad += 1
            rec["match"] = case["match"]
        else:
            rec["output"] = bc.tokenize(out)
        rec["exit"] = rc
        records.append(rec)
        if args.show:
            print(f"{case['id']}\t{rc}\t{case['input']!r}\n    => {out!r}")
            if err.strip() and rc != 0:
                print(f"    stderr: {err.strip()!r}")
    if args.only:
        return 1 if bad else 0
    if bad:
        print(f"{bad} regex mismatches; battery.jsonl not written", file=sys.stderr)
        return 1
    with open(bc.BATTERY, "w", encoding="utf-8") as f:
        for rec in records:
            try:
                line = json.dumps(rec, ensure_ascii=False)
                line.encode("utf-8")
            except UnicodeEncodeError:  # lone surrogates: non-UTF-8 bytes
                line = json.dumps(rec, ensure_ascii=True)
            f.write(line + "\n")
    print(f"wrote {len(records)} cases to {bc.BATTERY}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
