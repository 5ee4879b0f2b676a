"""modules/redis/tests/harness.py: driving tern's redis lookups the way a user does.

Configuration files with `modules = redis`, one-shot `tern -be` runs, and
Peer: a long-lived tern process asked to expand one string after another
(today `tern -be` on a pseudo-terminal, so that it answers each line at
once; the same interface can later be served by an SMTP daemon). Also a
minimal test runner that ends with Exim-style "N passed, N failed".
"""
import argparse
import os
import pty
import select
import subprocess
import sys
import time
import traceback
import tty

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "lib"))
import ternlab  # noqa: E402

TERN = None  # the tern binary under test (main sets it)


def write_conf(scratch, name, servers, extra=""):
    """A configuration loading the module, with redis_servers = `servers`."""
    text = "modules = redis\n"
    if servers is not None:
        text += f"redis_servers = {servers}\n"
    return scratch.file(name, text + extra)


def be(conf, expr, timeout=60, stderr=""):
    """`tern -C conf -be expr`: the printed result without its final newline.
    Anything on stderr but `stderr` fails."""
    p = ternlab.run_tern(TERN, ["-C", conf, "-be", expr], timeout=timeout)
    if p.returncode != 0 or p.stderr != stderr:
        raise AssertionError(f"tern -be {expr!r}: exit {p.returncode}, stderr {p.stderr!r}")
    assert p.stdout.endswith("\n"), p.stdout
    return p.stdout[:-1]


class Peer:
    """A running tern that expands strings on request and keeps its state
    (connections, cluster maps, lookup cache) between them."""

    def expand(self, expr):
        raise NotImplementedError

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class BePeer(Peer):
    """`tern -be` reading from a pseudo-terminal: interactive, so it flushes
    each answer before showing its "> " prompt again."""

    def __init__(self, conf):
        master, slave = pty.openpty()
        tty.setraw(slave)  # no echo, no CR/LF translation
        self.proc = subprocess.Popen([TERN, "-C", conf, "-be"], stdin=slave, stdout=slave,
                                     stderr=slave, start_new_session=True, close_fds=True)
        os.close(slave)
        self.fd = master
        self.buf = b""
        self._until_prompt(30)

    def _until_prompt(self, timeout):
        deadline = time.monotonic() + timeout
        while not (self.buf == b"> " or self.buf.endswith(b"\n> ")):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise AssertionError(f"tern -be gave no prompt; so far: {self.buf!r}")
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    chunk = os.read(self.fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError(f"tern -be ended; output: {self.buf!r}")
                self.buf += chunk
        out, self.buf = self.buf[:-2], b""
        return out.decode(errors="replace")

    def expand(self, expr, timeout=60):
        os.write(self.fd, expr.encode() + b"\n")
        out = self._until_prompt(timeout)
        assert out.endswith("\n"), out
        return out[:-1]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.fd)


def main(test_globals):
    """The command line of a test file: --tern PATH [--only NAME]; runs its test_* functions."""
    global TERN
    ap = argparse.ArgumentParser()
    ap.add_argument("--tern", required=True)
    ap.add_argument("--only")
    args = ap.parse_args()
    TERN = os.path.abspath(args.tern)
    return run_tests([v for k, v in test_globals.items() if k.startswith("test_")], args.only)


def run_tests(tests, only=None):
    """Runs each test function; prints one line per test and the totals."""
    passed = failed = 0
    for t in tests:
        if only and only not in t.__name__:
            continue
        start = time.monotonic()
        try:
            t()
            passed += 1
            print(f"ok     {t.__name__} ({time.monotonic() - start:.1f}s)", flush=True)
        except Exception:  # noqa: BLE001 - every failure is reported
            failed += 1
            print(f"FAILED {t.__name__}\n{traceback.format_exc()}", flush=True)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0
