#!/usr/bin/env python3
"""bench/expand/run.py: tern -be against Exim 4.96's exim -be, in one run.

Feeds the same 100,000 expansions (a realistic mix: ACL-style conditions,
lookups in an lsearch file of 10,000 keys, list operations, operators) to
both on stdin, several times each, and reports medians and the ratio. Then
checks that tern's time per expansion stays flat as the lsearch file grows
(the file is indexed once, not scanned per lookup).

    bench/expand/run.py --tern build/bin/tern [--exim auto] [--runs 5]

Exim comes from scripts/exim-ref.sh (extracted from Debian's package, not
installed as the system MTA). Prints a Markdown report on stdout.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def write_lsearch(path, keys):
    with open(path, "w") as f:
        for i in range(keys):
            f.write(f"key{i}.example: user{i}@mail{i % 97}.example.net\n")


def make_lines(count, lsearch, keys, seed=1):
    """The mix: every line is something an ACL or router would expand."""
    rnd = random.Random(seed)
    shapes = [
        lambda k: "${lookup{key%d.example}lsearch{%s}{$value}{none}}" % (k, lsearch),
        lambda k: "${if and{{eq{$primary_hostname}{bench.example}}{match{user%d@example.com}{^user\\\\d+@}}}{yes}{no}}" % k,
        lambda k: "${if inlist{d%d}{d1:d2:d3:d%d:d5}{in}{out}}" % (k % 7, k % 7),
        lambda k: "${map{a%d:b:c:d}{<${uc:$item}>}}" % k,
        lambda k: "${reduce{1:2:3:%d}{0}{${eval:$value+$item}}}" % k,
        lambda k: "${listcount:a:b:%d:c}" % k,
        lambda k: "${if match_domain{host%d.example.com}{*.example.com : !bad.example}{local}{remote}}" % k,
        lambda k: "${sg{user%d@Example.COM}{\\\\.}{-}}" % k,
        lambda k: "${lc:${domain:User%d@Example.COM}}" % k,
        lambda k: "${lookup{key%d.example}lsearch{%s}{${local_part:$value}}fail}" % (k, lsearch),
        lambda k: "${md5:message-%d}" % k,
        lambda k: "${if ={${eval:%d %% 10}}{3}{three}{other}}" % k,
    ]
    return "".join(shapes[i % len(shapes)](rnd.randrange(keys)) + "\n" for i in range(count))


def time_run(cmd, data):
    start = time.perf_counter()
    out = subprocess.run(cmd, input=data.encode(), stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, check=True).stdout
    return time.perf_counter() - start, out


def median_time(cmd, data, runs):
    times, out = [], b""
    for _ in range(runs):
        t, out = time_run(cmd, data)
        times.append(t)
    return statistics.median(times), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tern", default=os.path.join(ROOT, "build/bin/tern"))
    ap.add_argument("--exim", default="auto", help="'auto' (scripts/exim-ref.sh), a path, or 'none'")
    ap.add_argument("--count", type=int, default=100_000)
    ap.add_argument("--keys", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="tern-bench-expand-")
    os.chmod(tmp, 0o755)
    conf = os.path.join(tmp, "bench.conf")
    with open(conf, "w") as f:
        f.write("primary_hostname = bench.example\n"
                f"spool_directory = {tmp}/spool\nlog_file_path = {tmp}/%slog\n")
    lsearch = os.path.join(tmp, "keys.lsearch")
    write_lsearch(lsearch, a.keys)
    data = make_lines(a.count, lsearch, a.keys)

    exim = None
    if a.exim == "auto":
        subprocess.run([os.path.join(ROOT, "scripts/exim-ref.sh"), "setup"], check=True,
                       stdout=subprocess.DEVNULL)
        exim = subprocess.run([os.path.join(ROOT, "scripts/exim-ref.sh"), "path"], check=True,
                              stdout=subprocess.PIPE, text=True).stdout.strip()
    elif a.exim != "none":
        exim = a.exim

    print(f"# expansion benchmark: {a.count} expansions, lsearch of {a.keys} keys, median of {a.runs} runs\n")
    t_tern, out_tern = median_time([a.tern, "-C", conf, "-be"], data, a.runs)
    print("| program | seconds | expansions/s | us/expansion |")
    print("|---|---|---|---|")
    print(f"| tern | {t_tern:.3f} | {a.count / t_tern:,.0f} | {1e6 * t_tern / a.count:.2f} |")
    if exim:
        t_exim, out_exim = median_time([exim, "-C", conf, "-be"], data, a.runs)
        print(f"| exim 4.96 | {t_exim:.3f} | {a.count / t_exim:,.0f} | {1e6 * t_exim / a.count:.2f} |")
        tern_lines, exim_lines = out_tern.split(b"\n"), out_exim.split(b"\n")
        same = sum(1 for x, y in zip(tern_lines, exim_lines) if x == y)
        print(f"\ntern/exim speed ratio: **{t_exim / t_tern:.1f}x**; "
              f"identical output lines: {same} of {len(exim_lines)}")

    print("\n## lookups as the lsearch file grows\n")
    print("Time per lookup is the run with every lookup minus a run with one lookup")
    print("(which loads the file, and for tern indexes it), divided by the lookups;")
    print(f"tern does {a.count // 4:,} lookups per size, Exim 2,000 (it scans the file each time).\n")
    print("| keys | tern: index once (ms) | tern: us per lookup | exim: us per lookup |")
    print("|---|---|---|---|")

    def per_lookup(cmd, path, keys, n, runs):
        rnd = random.Random(keys)
        line = "${lookup{key%d.example}lsearch{%s}{$value}{none}}\n"
        lines = "".join(line % (rnd.randrange(keys), path) for _ in range(n))
        t_all, _ = median_time(cmd, lines, runs)
        t_one, _ = median_time(cmd, line % (0, path), runs)
        return t_one, (t_all - t_one) / (n - 1)

    for keys in (1_000, 10_000, 100_000):
        path = os.path.join(tmp, f"grow{keys}.lsearch")
        write_lsearch(path, keys)
        t_index, t_tern = per_lookup([a.tern, "-C", conf, "-be"], path, keys, a.count // 4, a.runs)
        exim_cell = "-"
        if exim:
            _, t_exim = per_lookup([exim, "-C", conf, "-be"], path, keys, 2_000, min(a.runs, 3))
            exim_cell = f"{1e6 * t_exim:.2f}"
        print(f"| {keys:,} | {1e3 * t_index:.1f} | {1e6 * t_tern:.2f} | {exim_cell} |")

if __name__ == "__main__":
    sys.exit(main())
