"""tests/lib/ternlab.py: what the integration tests share.

Free loopback ports, scratch directories, real servers started as child
processes and stopped whatever happens, and running the tern binary.
Every server a test starts listens on 127.0.0.0/8 only, on a port picked
here, so the two build trees' tests (and ctest -j) never collide.
"""
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time


def free_port(host="127.0.0.1"):
    """A TCP port nothing listens on now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
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
