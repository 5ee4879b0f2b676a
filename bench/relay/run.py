#!/usr/bin/env python3
"""bench/relay/run.py: relay throughput of tern, Exim 4.96 and Postfix 3.7.

Postfix's smtp-source sends the same messages (default 20,000 of 4 KiB over 20
concurrent sessions) to each server in turn, on loopback; each server relays
every message at once to an smtp-sink of its own on another loopback port
(tern and Exim: a manualroute router and an smtp transport; Postfix: its
relayhost), which counts what it receives. The rate is messages delivered to
the sink per second, from the client's first connection until the sink has
every message and the server's queue is empty. "sink" is the client straight
into the counting sink: the ceiling of the client and the machine. Each server
starts afresh for every run, in a scratch directory; nothing may be lost or
delivered twice. Prints a Markdown table of messages/s (median of --runs) and
a last line with tern's ratios (target: 2 times Exim).

    python3 bench/relay/run.py [--tern build/bin/tern] [--runs 3] [--json out.json]

Shares its servers and run loop with the accept benchmark (bench/accept/mtas.py,
harness.py). Run as root. Exit status 1 when a run fails or a message was lost.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "accept"))
import harness  # noqa: E402  (bench/accept/harness.py: options, servers, run loop, client)
from harness import RunFailed  # noqa: E402

PROG = "bench/relay/run.py"
TARGETS = (("exim", 2.0), ("postfix", None), ("sink", None))   # tern/<server> at least this
POLL = 0.05   # seconds between looks at the sink's counter and the queue


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="Example: python3 bench/relay/run.py --runs 3 --json relay.json")
    harness.add_common_args(ap)
    harness.add_client_args(ap)
    ap.add_argument("--stall", type=float, default=60,
                    help="a run fails when the sink gets nothing for this many seconds (default 60)")
    a = ap.parse_args()
    harness.check_common_args(ap, a)
    harness.check_client_args(ap, a)
    return a


def measure_relay(daemon, client, a):
    """Wait until the sink has every message and the queue is empty; the figures of the run.

    RunFailed when smtp-source fails, the run takes longer than --timeout, the sink gets
    nothing for --stall seconds, or it gets more messages than were sent.
    """
    sink = daemon.relay or daemon   # the "sink" server counts itself
    last, last_change = 0, client.started
    client_seconds = None
    while True:
        now = time.perf_counter()
        if client_seconds is None and client.finished():
            client_seconds = now - client.started
        received = sink.received()
        if received > a.messages:
            raise RunFailed(f"the sink received {received} messages, {a.messages} were sent")
        if received != last:
            last, last_change = received, now
        if received == a.messages and client_seconds is not None:
            queued = daemon.queued()
            if not queued:   # 0 on the spool, or None for the sink
                seconds = now - client.started
                break
        if now - client.started > a.timeout or now - last_change > a.stall:
            client.stop()
            why = f"in {a.timeout:.0f}s" if now - client.started > a.timeout else f"for {a.stall:.0f}s"
            raise RunFailed(f"stalled {why}: the sink has {received} of {a.messages}, "
                            f"{daemon.queued()} on the queue")
        time.sleep(POLL)
    time.sleep(1.0)   # a late duplicate would show now
    received = sink.received()
    if received != a.messages:
        raise RunFailed(f"the sink received {received} messages, {a.messages} were sent")
    rate = a.messages / seconds
    return {"seconds": seconds, "messages_per_second": rate, "client_seconds": client_seconds,
            "received": received, "queued": queued or 0,
            "summary": f"{rate:,.0f} messages/s delivered ({received} at the sink, "
                       f"smtp-source done after {client_seconds:.1f}s, all delivered after {seconds:.1f}s)"}


def main():
    a = parse_args()
    harness.prepare_process(PROG, descriptors=8 * a.sessions + 512)
    toolbox = harness.Toolbox(a.tern, a.servers, relay=True)
    tools = toolbox.postfix_tools
    before = harness.machine()

    def measure(daemon):
        client = harness.Client(tools, daemon.port, a)
        try:
            return measure_relay(daemon, client, a)
        finally:
            client.stop()

    results, failed = harness.run_all(a, toolbox, max(100, 2 * a.sessions), measure,
                                      prefix="tern-bench-relay-")
    harness.add_medians(results, "messages_per_second")
    report(a, results, before, harness.machine(), tools.version())
    return 1 if failed else 0


def report(a, results, before, after, client_version):
    print(f"# relay throughput: {a.messages:,} messages of {a.size} bytes over {a.sessions} sessions, "
          f"each relayed to smtp-sink, median of {a.runs} runs\n")
    print(f"Client: smtp-source (postfix {client_version}), {harness.client_mode(a)}. Machine: "
          f"{before['cpus']} CPUs, load average {before['load_average']:.1f} before, "
          f"{after['load_average']:.1f} after.\n")
    print("| server | delivered messages/s | each run | smtp-source done after (s) | at the sink after each run |")
    print("|---|---|---|---|---|")
    for name, res in results.items():
        if res["median"] is None:
            print(f"| {harness.label(name, res)} | not available ({res['reason']}) | | | |")
            continue
        each = " / ".join(f"{r['messages_per_second']:,.0f}" for r in res["runs"])
        client = " / ".join(f"{r['client_seconds']:.1f}" for r in res["runs"])
        received = " / ".join(str(r["received"]) for r in res["runs"])
        print(f"| {harness.label(name, res)} | {res['median']:,.0f} | {each} | {client} | {received} |")
    tern = results.get("tern")
    if tern and tern["median"] is None:
        print(f"\ntern: not available ({tern['reason']})")
    ratios = harness.tern_ratios(results, TARGETS)
    print("\n" + harness.ratios_line(ratios))

    if a.json:
        with open(a.json, "w") as f:
            json.dump({"benchmark": "relay", "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                       "messages": a.messages, "sessions": a.sessions, "size": a.size, "runs": a.runs,
                       "connection_per_message": a.connection_per_message, "client": f"smtp-source {client_version}",
                       "machine_before": before, "machine_after": after,
                       "servers": results, "ratios": ratios}, f, indent=2)


if __name__ == "__main__":
    harness.guard(main, PROG)
