#!/usr/bin/env python3
"""tests/sendmail/make_expectations.py: what the reference Exim 4.96 does with each case
of cases.py, written to exim/<name>.txt for sendmail_test.py. Run as root, from anywhere:
    tests/sendmail/make_expectations.py
It uses scripts/exim-ref.sh of this tree (or of /work/main when this tree has no built
reference Exim). Each case runs with `-C conf -odq` in a fresh scratch directory.
"""
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cases  # noqa: E402
import normalize  # noqa: E402


def exim_script():
    own = os.path.join(HERE, "..", "..", "scripts", "exim-ref.sh")
    found = subprocess.run([own, "path"], capture_output=True, text=True)
    if found.returncode == 0 and os.path.exists(found.stdout.strip()):
        return own
    return "/work/main/scripts/exim-ref.sh"


def run_case(exim, args, stdin):
    d = tempfile.mkdtemp(prefix="tern-sendmail-ref.")
    try:
        os.chmod(d, 0o755)
        for sub in ("spool", "log", "mbox"):
            os.makedirs(os.path.join(d, sub))
        os.chmod(os.path.join(d, "mbox"), 0o1777)
        subprocess.run(["chown", "Debian-exim", os.path.join(d, "spool"), os.path.join(d, "log")], check=True)
        # Errors Exim would mail (-oem) go to a sink: the reference Exim is not installed.
        sink = os.path.join(d, "sink")
        with open(sink, "w") as f:
            f.write("#!/bin/sh\ncat > /dev/null\n")
        os.chmod(sink, 0o755)
        with open(os.path.join(HERE, "sendmail.conf.in")) as f:
            conf = f"exim_path = {sink}\n" + f.read().replace("DIR", d)
        conf_path = os.path.join(d, "conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        r = subprocess.run([exim, "exim", "-C", conf_path, "-odq", *args], input=stdin.encode(),
                           capture_output=True)
        return normalize.outcome(d, r.returncode, r.stderr.decode())
    finally:
        shutil.rmtree(d)


def main():
    exim = exim_script()
    out = os.path.join(HERE, "exim")
    os.makedirs(out, exist_ok=True)
    for name, (args, stdin) in {**cases.CASES, **cases.ERRORS}.items():
        with open(os.path.join(out, name + ".txt"), "w") as f:
            f.write(run_case(exim, args, stdin))
    print("expectations written to", out)


if __name__ == "__main__":
    main()
