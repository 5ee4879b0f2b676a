#!/usr/bin/env python3
"""bench/memory/run.py: memory cost of 1,000 idle SMTP connections in tern, Exim and Postfix.

Each server starts afresh on a loopback port (configured as for the accept
benchmark, bench/accept/mtas.py); its idle footprint is measured, then
1,000 connections are opened, each reads its 220 banner and stays idle, and
the footprint is measured again. A footprint is the sum of the proportional
set size (Pss in /proc/PID/smaps_rollup) of every process of the server:
its first process, all its descendants and everything in its session (Exim
forks one process per connection, Postfix runs one smtpd per connection).
Pss divides shared pages among the processes that share them, so the sum
counts every page once. Prints a Markdown table (medians of --runs) and a
last line with the ratios and tern's target (under 16 MiB for 1,000).

    python3 bench/memory/run.py [--tern build/bin/tern] [--runs 3] [--json out.json]

Servers: smtp_accept_max = connections + 100 for tern and Exim (Exim's
default is 20); Postfix's smtpd process limit is raised likewise (its
default_process_limit is 100, which would leave 900 connections waiting
in the listen queue without a banner). smtp-sink (one process, stores
nothing) is shown for reference. Run as root; the file descriptor limit is
raised as needed.
"""
import argparse
import json
import os
import selectors
import socket
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "accept"))
import harness  # noqa: E402  (bench/accept/harness.py: options, servers, run loop)
from harness import RunFailed  # noqa: E402

PROG = "bench/memory/run.py"
TERN_TARGET_MIB = 16.0   # for 1,000 connections, above the idle footprint
IN_FLIGHT = 16           # connections opened but without their banner yet (Exim's listen backlog is 20)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Example: python3 bench/memory/run.py --runs 3 --json memory.json")
    harness.add_common_args(ap)
    ap.add_argument("--connections", "--sessions", type=int, default=1000, dest="connections",
                    help="idle connections to open (default 1000)")
    ap.add_argument("--settle", type=float, default=2.0,
                    help="seconds to wait before each measurement (default 2)")
    ap.add_argument("--timeout", type=float, default=180, help="seconds to open all connections (default 180)")
    a = ap.parse_args()
    harness.check_common_args(ap, a)
    if a.connections < 1:
        ap.error("--connections must be positive")
    return a


def _stat(pid):
    """(ppid, session) of a process, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[1]), int(fields[3])
    except (OSError, IndexError, ValueError):
        return None


def server_processes(root):
    """root, its descendants, and every process in root's session."""
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st:
                stats[int(entry)] = st
    children = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = set(), [root]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    found.update(pid for pid, (_, session) in stats.items() if session == root)
    return found


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass    # the process ended meanwhile
    return 0


def footprint(daemon):
    """(sum of Pss in KiB, number of processes) of the server now."""
    pids = server_processes(daemon.pid())
    return sum(pss_kib(p) for p in pids), len(pids)


def open_idle_connections(port, count, timeout):
    """count connections to 127.0.0.1:port, each with its 220 banner read; a few at a time."""
    sel = selectors.DefaultSelector()
    opened, pending, idle = 0, {}, []
    deadline = time.monotonic() + timeout
    try:
        while len(idle) < count:
            while len(pending) < IN_FLIGHT and opened < count:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", port))
                sel.register(s, selectors.EVENT_READ)
                pending[s] = b""
                opened += 1
            for key, _ in sel.select(timeout=1.0):
                s = key.fileobj
                try:
                    data = s.recv(4096)
                except OSError as e:
                    raise RunFailed(f"connection {len(idle) + 1}: {e}")
                if not data:
                    raise RunFailed(f"connection {len(idle) + 1} closed before its banner "
                                    f"({pending[s].decode(errors='replace').strip()!r})")
                pending[s] += data
                if pending[s].endswith(b"\n"):
                    banner = pending.pop(s)
                    sel.unregister(s)
                    if not banner.startswith(b"220"):
                        s.close()
                        raise RunFailed(f"connection {len(idle) + 1}: {banner.decode(errors='replace').strip()}")
                    idle.append(s)
            if time.monotonic() > deadline:
                raise RunFailed(f"{len(idle)} of {count} banners after {timeout:.0f}s")
    except BaseException:
        for s in idle + list(pending):
            s.close()
        raise
    finally:
        sel.close()
    return idle


def main():
    a = parse_args()
    harness.prepare_process(PROG, descriptors=a.connections + 1024)
    toolbox = harness.Toolbox(a.tern, a.servers)
    before = harness.machine()

    def measure(daemon):
        time.sleep(a.settle)
        idle_kib, idle_procs = footprint(daemon)
        conns = open_idle_connections(daemon.port, a.connections, a.timeout)
        try:
            time.sleep(a.settle)
            loaded_kib, loaded_procs = footprint(daemon)
        finally:
            for s in conns:
                s.close()
        cost = loaded_kib - idle_kib
        return {"idle_kib": idle_kib, "loaded_kib": loaded_kib, "cost_kib": cost,
                "idle_processes": idle_procs, "loaded_processes": loaded_procs,
                "summary": f"idle {idle_kib / 1024:.1f} MiB ({idle_procs} processes), with "
                           f"{a.connections} connections {loaded_kib / 1024:.1f} MiB ({loaded_procs}): "
                           f"+{cost / 1024:.1f} MiB"}

    results, failed = harness.run_all(a, toolbox, a.connections + 100, measure, prefix="tern-bench-memory-")
    for res in results.values():
        runs = res["runs"]
        res["median"] = {k: statistics.median(r[k] for r in runs) for k in runs[0]
                         if k != "summary"} if runs else None
    report(a, results, before)
    return 1 if failed else 0


def mib(kib):
    return f"{kib / 1024:,.1f}"


def report(a, results, before):
    n = a.connections
    print(f"# memory: {n:,} idle SMTP connections (banner read, then idle), median of {a.runs} runs\n")
    print(f"Sum of Pss over every process of the server. Machine: {before['cpus']} CPUs, "
          f"load average {before['load_average']:.1f} at the start.\n")
    print(f"| server | idle (MiB) | with {n:,} connections (MiB) | cost of the connections (MiB) "
          f"| per connection (KiB) | processes idle / loaded |")
    print("|---|---|---|---|---|---|")
    for name, res in results.items():
        m = res["median"]
        if m is None:
            print(f"| {harness.label(name, res)} | not available ({res['reason']}) | | | | |")
            continue
        print(f"| {harness.label(name, res)} | {mib(m['idle_kib'])} | {mib(m['loaded_kib'])} | "
              f"{mib(m['cost_kib'])} | {m['cost_kib'] / n:,.1f} | "
              f"{m['idle_processes']:.0f} / {m['loaded_processes']:.0f} |")
    tern = results.get("tern")
    if tern and tern["median"] is None:
        print(f"\ntern: not available ({tern['reason']})")

    tern_cost = tern["median"]["cost_kib"] if tern and tern["median"] else None
    target = TERN_TARGET_MIB * n / 1000
    ratios = {}
    for other in ("exim", "postfix"):
        o = results.get(other, {}).get("median")
        ratios[f"{other}/tern"] = round(o["cost_kib"] / tern_cost, 2) if o and tern_cost else None
    verdict = (f"{tern_cost / 1024:.1f} MiB (target < {target:g} MiB: "
               f"{'met' if tern_cost / 1024 < target else 'NOT met'})" if tern_cost is not None
               else f"n/a (target < {target:g} MiB)")
    print("\nratios of the connections' cost: " + ", ".join(
        f"{k} {v:.1f}" if v is not None else f"{k} n/a" for k, v in ratios.items())
        + f"; tern's cost {verdict}")

    if a.json:
        with open(a.json, "w") as f:
            json.dump({"benchmark": "memory", "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                       "connections": n, "runs": a.runs, "machine": before,
                       "servers": results, "ratios": ratios,
                       "tern_cost_mib": None if tern_cost is None else round(tern_cost / 1024, 2),
                       "tern_target_mib": target}, f, indent=2)


if __name__ == "__main__":
    harness.guard(main, PROG)
