"""bench/accept/harness.py: the run loop bench/accept/run.py and bench/memory/run.py share.

Common options (--tern, --runs, --servers, --json), the process setup (root,
file descriptor limit, Ctrl-C and SIGTERM stop every server), and run_all():
every selected server started afresh in its own scratch directory for each
run, measured, stopped and removed, with servers that cannot start reported
as not available instead of ending the benchmark.
"""
import concurrent.futures
import contextlib
import os
import resource
import shutil
import signal
import sys

import mtas
from mtas import ternlab

SERVERS = ("tern", "exim", "postfix", "sink")
LABELS = {"tern": "tern", "exim": "exim", "postfix": "postfix", "sink": "smtp-sink",
          "tern_listener": "tern + no-op listener"}


class RunFailed(Exception):
    """A measurement that went wrong (the server misbehaved or the client failed)."""


def add_common_args(ap, servers=SERVERS):
    ap.add_argument("--tern", default=os.path.join(mtas.ROOT, "build/bin/tern"),
                    help="the tern binary (default: build/bin/tern)")
    ap.add_argument("--runs", type=int, default=3, help="runs per server; medians are reported (default 3)")
    ap.add_argument("--servers", default=",".join(servers),
                    help=f"comma-separated subset of {','.join(servers)} (default: all)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON to FILE")


def check_common_args(ap, a, servers=SERVERS):
    a.servers = [s.strip() for s in a.servers.split(",") if s.strip()]
    bad = [s for s in a.servers if s not in servers]
    if bad:
        ap.error(f"unknown server {bad[0]} (choose from {','.join(servers)})")
    if a.runs < 1:
        ap.error("--runs must be at least 1")


def _interrupted(signum, frame):
    raise KeyboardInterrupt


def prepare_process(prog, descriptors):
    """Root, enough file descriptors (inherited by the servers), Ctrl-C/SIGTERM unwind."""
    if os.geteuid() != 0:
        sys.exit(f"{prog}: run as root (Exim and Postfix start as root and drop to their users)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < descriptors:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (descriptors, descriptors))
        except (ValueError, OSError):
            sys.exit(f"{prog}: needs {descriptors} file descriptors, the hard limit is {hard}")
    elif soft < descriptors:
        resource.setrlimit(resource.RLIMIT_NOFILE, (descriptors, hard))
    signal.signal(signal.SIGINT, signal.default_int_handler)   # even when started in the background
    signal.signal(signal.SIGTERM, _interrupted)


def guard(main, prog):
    """Run main(); an interruption is one line (the servers were stopped on the way out)."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(f"{prog}: interrupted; every server was stopped")


class Toolbox:
    """Builds the Daemon for a server name; fetches Postfix and Exim once."""

    def __init__(self, tern, servers):
        self.tern = tern
        self.postfix_tools = mtas.PostfixTools()
        self.exim = mtas.exim_binary() if "exim" in servers else None

    def daemon(self, name, workdir, port, max_connections):
        if name == "tern":
            return mtas.Tern(workdir, port, max_connections, self.tern)
        if name == "tern_listener":
            return mtas.TernWithListener(workdir, port, max_connections, self.tern)
        if name == "exim":
            return mtas.Exim(workdir, port, max_connections, self.exim)
        if name == "postfix":
            return mtas.Postfix(workdir, port, max_connections, self.postfix_tools)
        return mtas.Sink(workdir, port, max_connections, self.postfix_tools)


def run_all(a, toolbox, max_connections, measure, prefix):
    """measure(daemon) for each server and run, the order rotated per run to spread noise.

    measure returns a dict of figures, with a one-line "summary" for the progress log.

    Returns ({name: {version, available, reason, runs: [measure's results]}}, failed):
    a server that cannot start is marked not available (reason) and skipped from
    then on; a RunFailed marks it too and makes `failed` true.
    """
    results = {name: {"version": "?", "available": True, "reason": None, "runs": []} for name in a.servers}
    failed = False
    scratch = ternlab.Scratch(prefix=prefix)
    os.sync()   # start with nothing else of ours waiting for the disk
    try:
        for run in range(a.runs):
            shift = run % len(a.servers)
            for name in a.servers[shift:] + a.servers[:shift]:
                res = results[name]
                if not res["available"]:
                    continue
                workdir = os.path.join(scratch.path, f"{name}-{run + 1}")
                daemon = toolbox.daemon(name, workdir, ternlab.free_port(), max_connections)
                try:
                    daemon.start()
                    if res["version"] == "?":
                        res["version"] = daemon.version()
                    outcome = measure(daemon)
                    print(f"run {run + 1}/{a.runs} {name}: {outcome.pop('summary')}", file=sys.stderr)
                    res["runs"].append(outcome)
                except mtas.Unavailable as e:
                    res["available"], res["reason"] = False, str(e)
                    print(f"{name}: not available ({e})", file=sys.stderr)
                except RunFailed as e:
                    res["available"], res["reason"] = False, f"run {run + 1} failed: {e}"
                    print(f"{name}: run {run + 1} failed: {e}", file=sys.stderr)
                    failed = True
                finally:
                    daemon.stop()
                    if not os.environ.get("TERN_KEEP_SCRATCH"):
                        remove_tree(workdir)
    finally:
        scratch.close()
    return results, failed


def _unlink(path):
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def remove_tree(path, threads=32):
    """shutil.rmtree, unlinking from many threads, then sync.

    A spool of 20,000 messages is 40,000 to 60,000 files. On this project's
    machine (ext4 mounted with discard) one unlink waits milliseconds for the
    journal, and concurrent unlinks share that wait: minutes one at a time,
    seconds this way. The sync lets the next run start with the disk idle.
    """
    files, dirs = [], []
    for top, _, names in os.walk(path, topdown=False):
        files.extend(os.path.join(top, n) for n in names)
        dirs.append(top)
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        list(pool.map(_unlink, files, chunksize=256))
    for d in dirs:
        with contextlib.suppress(OSError):
            os.rmdir(d)
    shutil.rmtree(path, ignore_errors=True)   # whatever is left
    os.sync()


def label(name, res):
    return f"{LABELS[name]} {res['version']}" if res["version"] != "?" else LABELS[name]


def machine():
    return {"cpus": os.cpu_count(), "load_average": round(os.getloadavg()[0], 2)}
