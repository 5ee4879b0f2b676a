"""Shared helpers for make_battery.py and run_battery.py.

battery_inputs.txt format (one case per line):
    id<TAB>input
    id<TAB>match:REGEX<TAB>input
Blank lines and lines starting with '#' are ignored.  In the input (and in
the REGEX) these escapes are replaced before use, so that any byte can be
written on one line:
    <<NL>>  newline        <<TAB>>  tab        <<CR>>  carriage return
Nothing else is unescaped: backslashes are passed to Exim untouched.

battery.jsonl records, one JSON object per line:
    {"id", "input", "output" | "match", "exit"}
Outputs are bytes decoded as UTF-8 with 'surrogateescape' (so non-UTF-8
bytes round-trip through JSON as lone surrogates \\udcXX).  The absolute
path of the fixtures directory is stored as the token @FIXTURES@ in
"output" and "match" and substituted back by the checker.
"""
import os
import re
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
FIXTURES = os.path.join(HERE, "fixtures")
CONF = os.path.join(FIXTURES, "battery.conf")
INPUTS = os.path.join(HERE, "battery_inputs.txt")
BATTERY = os.path.join(HERE, "battery.jsonl")
EXIM_REF = os.path.join(REPO, "scripts", "exim-ref.sh")
TOKEN = "@FIXTURES@"

ESCAPES = {"<<NL>>": "\n", "<<TAB>>": "\t", "<<CR>>": "\r"}


def unescape(s):
    for k, v in ESCAPES.items():
        s = s.replace(k, v)
    return s


def read_inputs(path=INPUTS):
    cases = []
    seen = set()
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t", 1)
            if len(parts) != 2:
                raise SystemExit(f"{path}:{lineno}: no TAB after the id")
            cid, rest = parts
            match = None
            if rest.startswith("match:"):
                m, sep, rest = rest[len("match:"):].partition("\t")
                if not sep:
                    raise SystemExit(f"{path}:{lineno}: match: needs a TAB before the input")
                match = unescape(m)
            if cid in seen:
                raise SystemExit(f"{path}:{lineno}: duplicate id {cid}")
            seen.add(cid)
            cases.append({"id": cid, "input": unescape(rest), "match": match})
    return cases


def command(prog, input_str, fixtures=FIXTURES, conf=CONF):
    """argv for one case; prog is a list (e.g. [exim-ref.sh, 'exim'] or [tern])."""
    return list(prog) + ["-C", conf, "-DFIXTURES=" + fixtures, "-be", input_str]


def encode_arg(s):
    return s.encode("utf-8", "surrogateescape")


def decode_out(b):
    return b.decode("utf-8", "surrogateescape")


def tokenize(out, fixtures=FIXTURES):
    return out.replace(fixtures, TOKEN)


def detokenize(out, fixtures=FIXTURES):
    return out.replace(TOKEN, fixtures)


def detokenize_regex(rx, fixtures=FIXTURES):
    return rx.replace(TOKEN, re.escape(fixtures))


def exim_prog():
    """argv prefix for the reference exim: the binary itself when battery.conf
    is acceptable to exim as-is (root-owned, not group/world writable), else
    the wrapper script, which copies the config when needed."""
    subprocess.run([EXIM_REF, "setup"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    path = subprocess.run([EXIM_REF, "path"], check=True, text=True,
                          stdout=subprocess.PIPE).stdout.strip()
    st = os.stat(CONF)
    if os.geteuid() == 0 and st.st_uid == 0 and not st.st_mode & 0o022:
        return [path]
    return [EXIM_REF, "exim"]
