#!/usr/bin/env python3
"""bench/redis/run.py: Redis lookups per second through `tern -be`, against Redis's own ceiling.

Starts a redis-server on a free loopback port, stores N keys, then measures
once each:
  ceiling  redis-benchmark -t get -c 1: one client sending GETs one after
           the other, the best a single sequential client can do;
  tern     `tern -C conf -be` reading N lines `${lookup redis{GET k<i>}}`
           on standard input (each lookup a full round trip: expansion,
           the core's hand-off to its blocking pool, the module, Redis);
  -be      the same N lines without a lookup (`${length_1:k<i>}`): what
           the -be loop itself costs per line.
Prints the rates, tern's share of the ceiling (the target is at least 50%),
and where a lookup's time goes.

    bench/redis/run.py [--tern build/bin/tern] [--lookups 100000]
"""
import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import ternlab  # noqa: E402
from redis_servers import RedisServer  # noqa: E402


def resp(*args):
    """One command in the Redis protocol."""
    out = f"*{len(args)}\r\n"
    for a in args:
        a = str(a)
        out += f"${len(a.encode())}\r\n{a}\r\n"
    return out


def load_keys(r, n):
    """SET k<i> value<i> for i < n, through redis-cli --pipe."""
    data = "".join(resp("SET", f"k{i}", f"value{i}") for i in range(n))
    p = subprocess.run(["redis-cli", "-p", str(r.port), "--pipe"], input=data, capture_output=True,
                       text=True, timeout=300)
    if f"replies: {n}" not in p.stdout or "errors: 0" not in p.stdout:
        raise RuntimeError(f"loading keys failed: {p.stdout}{p.stderr}")


def ceiling(r, requests):
    """redis-benchmark's single-client GET rate."""
    p = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(r.port), "-t", "get", "-c", "1",
                        "-n", str(requests), "-q"], capture_output=True, text=True, timeout=600)
    m = re.search(r"GET: ([0-9.]+) requests per second", p.stdout.replace("\r", "\n"))
    if not m:
        raise RuntimeError(f"no rate in redis-benchmark's output: {p.stdout[-300:]}{p.stderr}")
    return float(m.group(1))


def run_be(tern, conf, lines, check):
    """Feeds `lines` to tern -be; returns seconds. `check(i, result)` checks each answer."""
    text = "".join(line + "\n" for line in lines)
    t0 = time.monotonic()
    p = subprocess.run([tern, "-C", conf, "-be"], input=text, capture_output=True, text=True, timeout=1800)
    took = time.monotonic() - t0
    if p.returncode != 0 or p.stderr:
        raise RuntimeError(f"tern -be failed: {p.returncode} {p.stderr[:500]}")
    results = p.stdout.split("> ")[1:-1]  # one answer after each prompt; the last prompt got EOF
    if len(results) != len(lines):
        raise RuntimeError(f"{len(results)} answers for {len(lines)} lines")
    for i, r in enumerate(results):
        check(i, r.rstrip("\n"))
    return took


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tern", default=os.path.join(ROOT, "build", "bin", "tern"))
    ap.add_argument("--lookups", type=int, default=100000)
    ap.add_argument("--requests", type=int, default=100000, help="redis-benchmark's -n")
    a = ap.parse_args()
    tern = os.path.abspath(a.tern)
    n = a.lookups
    with ternlab.Scratch(prefix="tern-bench-redis-") as s, RedisServer(s, "redis") as r:
        load_keys(r, n)
        conf = s.file("tern.conf", f"modules = redis\nredis_servers = 127.0.0.1::{r.port}//\n")

        def expect_value(i, got):
            if got != f"value{i}":
                raise RuntimeError(f"line {i}: {got!r}")

        def expect_length(i, got):
            if got != "k":
                raise RuntimeError(f"line {i}: {got!r}")

        ceil = ceiling(r, a.requests)
        t_lookup = run_be(tern, conf, [f"${{lookup redis{{GET k{i}}}}}" for i in range(n)], expect_value)
        t_plain = run_be(tern, conf, [f"${{length_1:k{i}}}" for i in range(n)], expect_length)

    rate = n / t_lookup
    us_lookup = 1e6 * t_lookup / n
    us_line = 1e6 * t_plain / n
    us_rtt = 1e6 / ceil
    print(f"redis-benchmark -t get -c 1 -n {a.requests} (ceiling): {ceil:10.0f} GET/s ({us_rtt:.1f} us each)")
    print(f"tern -be, {n} x ${{lookup redis{{GET k<i>}}}}:     {rate:10.0f} lookups/s ({us_lookup:.1f} us each)")
    print(f"ratio: {100 * rate / ceil:.0f}% of the ceiling (target: at least 50%)")
    print(f"where a lookup's {us_lookup:.1f} us go: {us_line:.1f} us the -be line itself (same lines without"
          f" a lookup: {n / t_plain:.0f}/s), {us_rtt:.1f} us Redis's round trip as redis-benchmark sees it,"
          f" {us_lookup - us_line - us_rtt:.1f} us the rest (hand-off to the core's blocking pool,"
          f" the module, the lookup cache)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
