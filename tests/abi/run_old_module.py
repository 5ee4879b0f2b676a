#!/usr/bin/env python3
"""tests/abi/run_old_module.py: a module built for ABI 1.0 works in the current core.

Copies the module (built from abi_old.c against module_v1_0.h) to a fresh
directory with the mode the loader wants (0755, owned by us: root in CI),
loads it with `modules = /abs/path/abi_old.so`, and checks through -be that
its operator, variables and lookup work (the lookup's find expands
$primary_hostname in the caller's context through host->expand) and
through -bV that it is listed.

    run_old_module.py --tern build/bin/tern --module build/tests/abi/abi_old.so
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tern", required=True)
    ap.add_argument("--module", required=True)
    a = ap.parse_args()
    failures = []
    with tempfile.TemporaryDirectory(prefix="tern-abi-old-") as d:
        so = os.path.join(d, "abi_old.so")
        shutil.copy(a.module, so)
        os.chmod(so, 0o755)
        conf = os.path.join(d, "tern.conf")
        with open(conf, "w") as f:
            f.write(f"primary_hostname = mx.old.example\nmodules = {so}\n")
        cases = [("${abi_old_rev:abc}", "cba"), ("$abi_old_abi", "1.0"),
                 ("${abi_old_rev:$abi_old_abi}", "0.1"),
                 ("${lookup abiold{k}}", "k@mx.old.example"),
                 ("${lookup abiold{q}{<$value>}{none}}", "<q@mx.old.example>")]
        for expr, want in cases:
            p = subprocess.run([a.tern, "-C", conf, "-be", expr], capture_output=True, text=True,
                               timeout=30)
            got = p.stdout.rstrip("\n")
            if p.returncode != 0 or got != want:
                failures.append(f"-be {expr!r}: got {got!r} (exit {p.returncode}, stderr "
                                f"{p.stderr.strip()!r}), want {want!r}")
        p = subprocess.run([a.tern, "-C", conf, "-be", "$abi_old_host"], capture_output=True,
                           text=True, timeout=30)
        if not re.fullmatch(r"1\.\d+", p.stdout.strip()):
            failures.append(f"-be $abi_old_host: got {p.stdout.strip()!r} (stderr "
                            f"{p.stderr.strip()!r}), want the core's ABI 1.N")
        p = subprocess.run([a.tern, "-C", conf, "-bV"], capture_output=True, text=True, timeout=30)
        if p.returncode != 0 or not re.search(r"abi_old.*1\.0\.0", p.stdout):
            failures.append(f"-bV does not list abi_old 1.0.0 (exit {p.returncode}):\n"
                            f"{p.stdout}{p.stderr}")
    for f in failures:
        print("abi_old_module: " + f, file=sys.stderr)
    print(f"{len(cases) + 2 - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
