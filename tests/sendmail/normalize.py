"""tests/sendmail/normalize.py: one submission's outcome as text both MTAs can be compared by.

What is left out or replaced is what must differ: time stamps, the message id (tern's
are longer than Exim 4.96's: a size that counts it is given as with Exim's 16
characters), Exim's own spool options (-received_time_complete, -tls_resumption), the
"Warning: purging the environment" lines of the reference Exim, and the program's
name in messages ("exim:" is "tern:").
"""
import glob
import os
import re

EXIM_ID_LENGTH = 16
ID = re.compile(r"\b1[0-9A-Za-z]{5}-[0-9A-Za-z]{6,11}-[0-9A-Za-z]{2,4}\b")
DATE = re.compile(r"\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}")
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", re.M)
DROPPED_OPTIONS = ("-received_time_usec", "-received_time_complete", "-tls_resumption")


def _read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def _ids(text, ids):
    for i in sorted(ids, key=len, reverse=True):
        text = text.replace(i, "ID")
    return text


def outcome(directory, rc, stderr):
    """rc, stderr, main log, and each spooled message's -H (from its sender line on,
    header lengths left out) and -D."""
    files = sorted(glob.glob(os.path.join(directory, "spool", "input", "**", "*-H"), recursive=True))
    ids = [os.path.basename(f)[:-2] for f in files]
    ids += ID.findall(stderr)
    out = [f"rc={rc}", "stderr:"]
    stderr = stderr.replace("exim:", "tern:").replace("Exim is a Mail", "tern is a Mail")
    out += [_ids(STAMP.sub("", line), ids) for line in stderr.splitlines()]
    out.append("log:")
    log_path = os.path.join(directory, "log", "mainlog")
    log = _read(log_path) if os.path.exists(log_path) else ""
    for line in STAMP.sub("", log).splitlines():
        if line.startswith("Warning: purging") or line.startswith(" Suggested action"):
            continue
        m = ID.search(line)
        if m and " S=" in line:
            size = int(re.search(r" S=(\d+)", line).group(1)) - 2 * (len(m.group(0)) - EXIM_ID_LENGTH)
            line = re.sub(r" S=\d+", f" S={size}", line)
        out.append(_ids(line, ids))
    for path in files:
        lines = _read(path).splitlines()
        out.append("spool -H:")
        out.append(lines[2])  # the sender; lines 0, 1 and 3: name, originator, time
        text = "\n".join(l for l in lines[4:] if not l.startswith(DROPPED_OPTIONS))
        # Each header's length prefix counts the id: keep only its type letter.
        text = re.sub(r"^\d{3}(.) ", r"\1 ", text, flags=re.M)
        out.append(DATE.sub("DATE", _ids(text, ids)))
        out.append("spool -D:")
        out.append(_ids(_read(path[:-2] + "-D"), ids))
    return "\n".join(out) + "\n"
