#!/usr/bin/env python3
"""tests/cli/run_cli_tests.py: tern's command line as a user types it.

Each case runs build/bin/tern with arguments (and optionally a configuration
file and standard input made for it) and checks stdout, stderr and the exit
status exactly. Placeholders in arguments, files and expectations:
{conf} (the case's configuration file), {dir} (its temporary directory).

    run_cli_tests.py --tern build/bin/tern [--only NAME]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

from cli_cases import CASES


def run_case(tern, case):
    with tempfile.TemporaryDirectory(prefix="tern-cli-") as d:
        def fill(s):
            return s.replace("{dir}", d).replace("{conf}", os.path.join(d, "tern.conf"))
        for name, text in case.get("files", {}).items():
            path = os.path.join(d, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(fill(text))
        if "conf" in case:
            with open(os.path.join(d, "tern.conf"), "w") as f:
                f.write(fill(case["conf"]))
        args = [fill(a) for a in case["args"]]
        p = subprocess.run([tern] + args, input=fill(case.get("stdin", "")).encode(),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30, cwd=d)
        out, err = p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
        problems = []
        if "rc" in case and p.returncode != case["rc"]:
            problems.append(f"exit status {p.returncode}, want {case['rc']}")
        for stream, got in (("stdout", out), ("stderr", err)):
            if stream in case and got != fill(case[stream]):
                problems.append(f"{stream}:\n  got:  {got!r}\n  want: {fill(case[stream])!r}")
            key = stream + "_re"
            if key in case and not re.fullmatch(fill(case[key]), got, re.S):
                problems.append(f"{stream} does not match /{case[key]}/:\n  got: {got!r}")
        return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tern", required=True)
    ap.add_argument("--only")
    a = ap.parse_args()
    passed = failed = 0
    for case in CASES:
        if a.only and not case["name"].startswith(a.only):
            continue
        problems = run_case(os.path.abspath(a.tern), case)
        if problems:
            failed += 1
            print(f"FAIL {case['name']}")
            for p in problems:
                print("  " + p)
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
