#!/usr/bin/env python3
"""core/acl/tools/record_exim.py: record what Exim 4.96 says for an ACL test scenario.

    record_exim.py NAME [IP]

runs, as root, the reference Exim (scripts/exim-ref.sh) as
    exim -C core/acl/testdata/NAME.conf -DDATA=<testdata dir> -bh IP
(IP 10.0.0.1 by default) with core/acl/testdata/NAME.smtp on standard
input, and writes its standard error (the ">>>" trace and "LOG:" lines) and
standard output (the SMTP replies) to core/acl/testdata/NAME.exim (or
NAME-IP.exim when IP is given), separated by a line "==== replies". The configuration names a scratch spool and log directory,
/tmp/tern-acl-exim-spool, made afresh for each recording. acl_test.cpp replays the same commands through tern's
engine and compares. Re-run after changing a scenario.
"""
import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.abspath(os.path.join(HERE, "..", "testdata"))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))


def main():
    name = sys.argv[1]
    ip = sys.argv[2] if len(sys.argv) > 2 else "10.0.0.1"
    conf = os.path.join(DATA, name + ".conf")
    with open(os.path.join(DATA, name + ".smtp"), "rb") as f:
        smtp = f.read().replace(b"\n", b"\r\n")
    os.chmod(conf, 0o644)
    # A fresh spool: Exim keeps ratelimit records in its hints databases.
    spool = "/tmp/tern-acl-exim-spool"
    shutil.rmtree(spool, ignore_errors=True)
    os.makedirs(spool)
    shutil.chown(spool, "Debian-exim", "Debian-exim")
    p = subprocess.run([os.path.join(REPO, "scripts", "exim-ref.sh"), "exim", "-C", conf, "-DDATA=" + DATA,
                        "-bh", ip], input=smtp, capture_output=True)
    text = p.stderr.decode() + "==== replies\n" + p.stdout.decode().replace("\r\n", "\n")
    out = name + ("-" + sys.argv[2] if len(sys.argv) > 2 else "") + ".exim"
    with open(os.path.join(DATA, out), "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
