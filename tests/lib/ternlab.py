"""tests/lib/ternlab.py: what the integration tests share.

Free loopback ports, scratch directories, real servers started as child
processes and stopped whatever happens, and running the tern binary.
Every server a test starts listens on 127.0.0.0/8 only, on a port picked
here, so the two build trees' tests (and ctest -j) never collide.
"""
import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest


def free_port(host="127.0.0.1"):
    """A TCP port nothing listens on now (the kernel's choice); host may be IPv6."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_port(port, host="127.0.0.1", timeout=20.0, proc=None):
    """Wait until something accepts on host:port; raise if proc dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode} before listening on {port}")
        with contextlib.suppress(OSError):
            with socket.create_connection((host, port), timeout=0.5):
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


def wait_for(predicate, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


class Scratch:
    """A temporary directory removed at exit (kept when TERN_KEEP_SCRATCH is set)."""

    def __init__(self, prefix="tern-test-"):
        self.path = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.path, 0o755)

    def file(self, name, text, mode=None):
        path = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
        if mode is not None:
            os.chmod(path, mode)
        return path

    def close(self):
        if not os.environ.get("TERN_KEEP_SCRATCH"):
            shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Server:
    """A child process in its own process group, stopped on close()."""

    def __init__(self, argv, log_path=None, env=None, cwd=None, user=None):
        self.log = open(log_path, "ab") if log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=env, cwd=cwd, user=user, start_new_session=True)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self.log is not subprocess.DEVNULL:
            self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def run_tern(tern, args, stdin=None, timeout=60, env=None):
    """Run build/bin/tern; returns CompletedProcess with text stdout/stderr."""
    return subprocess.run([tern] + list(args), input=stdin, capture_output=True, text=True,
                          timeout=timeout, env=env)


class Daemon:
    """`tern -bdf -C <conf> -oX 127.0.0.1.<port>` in the foreground, with a
    scratch spool and log directory; stopped with SIGTERM on close().
    queue_only (the default) keeps accepted mail on the spool for tests of
    reception; deliver=True leaves Exim's default, immediate delivery."""

    def __init__(self, tern, scratch, config_body, port=None, listen=None, extra_args=(), name="tern",
                 deliver=False):
        self.tern = tern
        self.port = port or free_port()
        self.dir = os.path.join(scratch.path, name)
        os.makedirs(self.dir, exist_ok=True)
        os.chmod(self.dir, 0o755)
        self.spool = os.path.join(self.dir, "spool")
        self.logdir = os.path.join(self.dir, "log")
        self.config = os.path.join(self.dir, "tern.conf")
        with open(self.config, "w") as f:
            f.write(f"spool_directory = {self.spool}\n"
                    f"log_file_path = {self.logdir}/%slog\n"
                    "primary_hostname = mx.test.example\n"
                    "exim_user = nobody\nexim_group = nogroup\n")
            if not deliver:
                f.write("queue_only\n")
            f.write(config_body)
        self.listen = listen or f"127.0.0.1.{self.port}"
        self.server = Server([tern, "-bdf", "-C", self.config, "-oX", self.listen, *extra_args],
                             log_path=os.path.join(self.dir, "stderr"))
        host = "127.0.0.1"
        if self.listen.startswith("<;") or self.listen.startswith("::"):
            host = "::1"
        wait_port(self.port, host=host, proc=self.server.proc)

    def log(self, which="main"):
        path = os.path.join(self.logdir, f"{which}log")
        try:
            with open(path, errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def wait_log(self, text, which="main", timeout=10.0):
        wait_for(lambda: text in self.log(which), timeout, f"{text!r} in the {which} log")

    def messages(self):
        """Ids of the messages on the spool (those with both -H and -D)."""
        ids = []
        for root, _dirs, files in os.walk(os.path.join(self.spool, "input")):
            names = set(files)
            ids += [f[:-2] for f in files if f.endswith("-H") and f[:-2] + "-D" in names]
        return sorted(ids)

    def read(self, msg_id, part="H"):
        for root, _dirs, files in os.walk(os.path.join(self.spool, "input")):
            if f"{msg_id}-{part}" in files:
                with open(os.path.join(root, f"{msg_id}-{part}"), "rb") as f:
                    return f.read().decode("utf-8", "replace")
        raise FileNotFoundError(msg_id)

    def stop(self, sig=signal.SIGTERM):
        self.server.stop(sig)
        return self.server.proc.returncode

    def close(self):
        self.stop()


class SmtpClient:
    """A raw SMTP client: exact bytes out, whole replies in."""

    def __init__(self, port, host="127.0.0.1", timeout=10.0, source=None):
        self.sock = socket.create_connection((host, port), timeout=timeout,
                                             source_address=(source, 0) if source else None)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def reply(self):
        """One reply: (code, [lines]); (None, []) when the server closed."""
        lines = []
        while True:
            while b"\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return (None, lines)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.rstrip(b"\r").decode("utf-8", "replace")
            lines.append(line[4:])
            if len(line) < 4 or line[3] != "-":
                return (int(line[:3]), lines)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def closed(self, timeout=5.0):
        """True when the server has closed the connection (after any buffered replies)."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()


def unittest_main(module_name, extra_paths=()):
    """The test files' main(): `--tern PATH` (and each `--NAME PATH` of
    extra_paths) become the module's TERN (NAME upper-cased, dashes made
    underscores) as absolute paths; the other arguments go to unittest."""
    module = sys.modules[module_name]
    ap = argparse.ArgumentParser()
    for name in ("tern",) + tuple(extra_paths):
        ap.add_argument("--" + name, required=True)
    args, rest = ap.parse_known_args()
    for name in ("tern",) + tuple(extra_paths):
        setattr(module, name.replace("-", "_").upper(), os.path.abspath(getattr(args, name.replace("-", "_"))))
    unittest.main(module=module, argv=[sys.argv[0]] + rest, verbosity=2)
