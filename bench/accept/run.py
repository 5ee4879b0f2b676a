#!/usr/bin/env python3
"""bench/accept/run.py: durable accept throughput of tern, Exim 4.96 and Postfix 3.7.

Postfix's smtp-source sends the same messages (default 20,000 of 4 KiB over
20 concurrent sessions) to each server in turn, on loopback: tern, Exim and
Postfix each queue every message durably (fsync'd spool) and deliver nothing;
smtp-sink, which stores nothing, gives the ceiling of the client and the
machine. "tern_listener" is tern with bench/hooks' module loaded, one no-op
event listener on every event: its ratio to tern is the cost of the hook
points on the accept path (build it first: cmake --build build --target
noop_listener). Each server starts afresh for every run, in a scratch directory,
and its spool is counted afterwards (nothing may be lost). Prints a Markdown
table of messages/s (median of --runs) and a last line with tern's ratios and
their targets.

    python3 bench/accept/run.py [--tern build/bin/tern] [--runs 3] [--json out.json]

The tools come from Debian's packages without installing them:
scripts/bench-tools.sh (postfix: smtp-source, smtp-sink, Postfix) and
scripts/exim-ref.sh (Exim). Run as root (Exim and Postfix drop to their users).
A tern whose daemon cannot start is reported as not available; the others
still run. Exit status 1 when a run fails or a server lost messages.
"""
import argparse
import json
import statistics
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

PROG = "bench/accept/run.py"
TARGETS = (("exim", 3.0), ("postfix", 1.5), ("sink", 0.5))   # tern/<server> at least this
# tern with a no-op listener on every event (bench/hooks/noop_listener.c): at least 99% of tern.
LISTENER_TARGET = 0.99
SERVERS = harness.SERVERS + ("tern_listener",)


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Example: python3 bench/accept/run.py --runs 3 --json accept.json")
    harness.add_common_args(ap, SERVERS)
    harness.add_client_args(ap)
    a = ap.parse_args()
    harness.check_common_args(ap, a, SERVERS)
    harness.check_client_args(ap, a)
    return a


def main():
    a = parse_args()
    harness.prepare_process(PROG, descriptors=4 * a.sessions + 256)
    toolbox = harness.Toolbox(a.tern, a.servers)
    tools = toolbox.postfix_tools
    before = harness.machine()

    def measure(daemon):
        cpu_before = harness.cpu_seconds(daemon.pid())
        seconds = harness.Client(tools, daemon.port, a).wait()
        cpu = harness.cpu_seconds(daemon.pid()) - cpu_before
        stored = daemon.queued()
        summary = f"{a.messages / seconds:,.0f} messages/s" + (
            f", {stored} on the spool" if stored is not None else "")
        return {"seconds": seconds, "messages_per_second": a.messages / seconds, "stored": stored,
                "cpu_us_per_message": cpu * 1e6 / a.messages, "summary": summary}

    results, failed = harness.run_all(a, toolbox, max(100, 2 * a.sessions), measure,
                                      prefix="tern-bench-accept-")
    harness.add_medians(results, "messages_per_second")
    for name, res in results.items():
        lost = [r["stored"] for r in res["runs"] if r["stored"] is not None and r["stored"] != a.messages]
        if lost:
            print(f"{name}: LOST MESSAGES: {lost} on the spool, {a.messages} sent", file=sys.stderr)
            failed = True
    report(a, results, before, harness.machine(), tools.version())
    return 1 if failed else 0


def report(a, results, before, after, client_version):
    mode = harness.client_mode(a)
    print(f"# accept throughput: {a.messages:,} messages of {a.size} bytes over {a.sessions} sessions, "
          f"median of {a.runs} runs\n")
    print(f"Client: smtp-source (postfix {client_version}), {mode}. Machine: {before['cpus']} CPUs, "
          f"load average {before['load_average']:.1f} before, {after['load_average']:.1f} after.\n")
    print("| server | messages/s | each run | server CPU us/message (median) | on the spool after each run |")
    print("|---|---|---|---|---|")
    for name, res in results.items():
        if res["median"] is None:
            print(f"| {harness.label(name, res)} | not available ({res['reason']}) | | | |")
            continue
        each = " / ".join(f"{r['messages_per_second']:,.0f}" for r in res["runs"])
        stored = " / ".join(str(r["stored"]) for r in res["runs"]) if name != "sink" else "stores nothing"
        cpu = statistics.median(r["cpu_us_per_message"] for r in res["runs"])
        print(f"| {harness.label(name, res)} | {res['median']:,.0f} | {each} | {cpu:,.0f} | {stored} |")
    tern = results.get("tern")
    if tern and tern["median"] is None:
        print(f"\ntern: not available ({tern['reason']})")

    ratios = harness.tern_ratios(results, TARGETS)
    listener = results.get("tern_listener")
    if tern and listener and tern["median"] and listener["median"]:
        ratios["tern+listener/tern"] = {"value": round(listener["median"] / tern["median"], 3),
                                        "target": LISTENER_TARGET}
        # The same cost in the servers' own CPU time per message, which the machine's other
        # load disturbs far less than the wall-clock rate: tern's over tern+listener's.
        cpu = {n: statistics.median(r["cpu_us_per_message"] for r in results[n]["runs"])
               for n in ("tern", "tern_listener")}
        ratios["tern/tern+listener cpu"] = {"value": round(cpu["tern"] / cpu["tern_listener"], 3),
                                            "target": LISTENER_TARGET}
    print("\n" + harness.ratios_line(ratios))

    if a.json:
        with open(a.json, "w") as f:
            json.dump({"benchmark": "accept", "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                       "messages": a.messages, "sessions": a.sessions, "size": a.size, "runs": a.runs,
                       "connection_per_message": a.connection_per_message, "client": f"smtp-source {client_version}",
                       "machine_before": before, "machine_after": after,
                       "servers": results, "ratios": ratios}, f, indent=2)


if __name__ == "__main__":
    harness.guard(main, PROG)
