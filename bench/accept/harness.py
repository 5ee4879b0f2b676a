"""bench/accept/harness.py: what the accept, memory and relay benchmarks share.

Common options (--tern, --runs, --servers, --json), the client's options and
smtp-source (Client), the process setup (root, file descriptor limit, Ctrl-C
and SIGTERM stop every server), run_all(): every selected server started
afresh in its own scratch directory for each run, measured, stopped and
removed, with servers that cannot start reported as not available instead of
ending the benchmark; and the medians and tern's ratios for the report.
"""
import concurrent.futures
import contextlib
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time

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


def add_client_args(ap):
    """smtp-source's load: how many messages, how big, over how many sessions."""
    ap.add_argument("--messages", type=int, default=20_000, help="messages per run (default 20000)")
    ap.add_argument("--sessions", type=int, default=20, help="concurrent SMTP sessions (default 20)")
    ap.add_argument("--size", type=int, default=4096, help="payload bytes per message (default 4096)")
    ap.add_argument("--connection-per-message", action="store_true",
                    help="a new connection for every message (smtp-source without -d)")
    ap.add_argument("--timeout", type=float, default=600, help="seconds one run may take (default 600)")


def check_client_args(ap, a):
    if a.messages < 1 or a.sessions < 1 or a.size < 0:
        ap.error("--messages and --sessions must be positive, --size not negative")


def client_mode(a):
    return ("a new connection per message" if a.connection_per_message
            else "each session keeps its connection (-d)")


class Client:
    """smtp-source sending the options' load to a daemon's port, started at once."""

    def __init__(self, tools, port, a):
        argv = tools.smtp_source(port, a.messages, a.sessions, a.size, reuse=not a.connection_per_message)
        self.timeout = a.timeout
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(argv, env=tools.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)

    def finished(self):
        """True once smtp-source has exited; RunFailed when it failed."""
        if self.proc.poll() is None:
            return False
        self._check()
        return True

    def wait(self):
        """Wait for smtp-source to exit (RunFailed on failure or timeout); the seconds it took."""
        try:
            self.proc.wait(max(0.0, self.started + self.timeout - time.perf_counter()))
        except subprocess.TimeoutExpired:
            self.stop()
            raise RunFailed(f"smtp-source did not finish in {self.timeout:.0f}s")
        seconds = time.perf_counter() - self.started
        self._check()
        return seconds

    def _check(self):
        _, err = self.proc.communicate()
        if self.proc.returncode != 0:
            raise RunFailed(f"smtp-source exited with {self.proc.returncode}: {err.strip()[-300:]}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


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
    """Builds the Daemon for a server name; fetches Postfix and Exim once.

    relay: every server relays to a counting smtp-sink of its own (Daemon.relay_to),
    and the "sink" server itself counts (the client straight into the sink).
    """

    def __init__(self, tern, servers, relay=False):
        self.tern = tern
        self.relay = relay
        self.postfix_tools = mtas.PostfixTools()
        self.exim = mtas.exim_binary() if "exim" in servers else None

    def daemon(self, name, workdir, port, max_connections):
        if name == "sink":
            return mtas.Sink(workdir, port, max_connections, self.postfix_tools, counting=self.relay)
        if name == "tern":
            d = mtas.Tern(workdir, port, max_connections, self.tern)
        elif name == "tern_listener":
            d = mtas.TernWithListener(workdir, port, max_connections, self.tern)
        elif name == "exim":
            d = mtas.Exim(workdir, port, max_connections, self.exim)
        else:
            d = mtas.Postfix(workdir, port, max_connections, self.postfix_tools)
        if self.relay:
            d.relay_to(mtas.Sink(os.path.join(workdir, "sink"), ternlab.free_port(), max_connections,
                                 self.postfix_tools, counting=True))
        return d


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


def cpu_seconds(root_pid):
    """CPU time (user + system) used so far by a server: the process `root_pid`, every live
    descendant, and the children it has already reaped (cutime, cstime)."""
    tick = os.sysconf("SC_CLK_TCK")
    parent, times = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()   # after "pid (comm) "
        pid = int(entry)
        parent[pid] = int(fields[1])
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        times[pid] = (utime + stime, cutime + cstime)
    total = 0
    for pid, (own, reaped) in times.items():
        p, depth = pid, 0
        while p not in (0, 1, root_pid) and depth < 64:
            p, depth = parent.get(p, 0), depth + 1
        if p == root_pid:
            total += own + (reaped if pid == root_pid else 0)
    return total / tick


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


def add_medians(results, key):
    """res["median"]: the median of key over each server's runs (None without runs)."""
    for res in results.values():
        res["median"] = statistics.median(r[key] for r in res["runs"]) if res["runs"] else None


def tern_ratios(results, targets):
    """{"tern/<label>": {value, target}} for each (server, target): medians' ratio, None if missing."""
    ratios = {}
    tern = results.get("tern")
    for other, target in targets:
        t = tern["median"] if tern else None
        o = results[other]["median"] if other in results else None
        ratios[f"tern/{LABELS[other]}"] = {"value": round(t / o, 3) if t and o else None, "target": target}
    return ratios


def ratios_line(ratios):
    """ "ratios: tern/exim 1.19 (target >= 3.0), ..."; a ratio without a target has no brackets."""
    def one(k, v):
        value = f"{v['value']:.2f}" if v["value"] is not None else "n/a"
        return f"{k} {value}" + (f" (target >= {v['target']})" if v["target"] is not None else "")
    return "ratios: " + ", ".join(one(k, v) for k, v in ratios.items())


def label(name, res):
    return f"{LABELS[name]} {res['version']}" if res["version"] != "?" else LABELS[name]


def machine():
    return {"cpus": os.cpu_count(), "load_average": round(os.getloadavg()[0], 2)}
