#!/usr/bin/env python3
"""tests/acl/dnslists_test.py: dnslists and the resolver against real DNS servers.

A DnsLab (tests/lib/dns_servers.py) gives a network namespace with nsd
serving the test zones and unbound resolving through them; nothing on the
machine's own resolver changes. In the namespace this test runs

  * tern -be '${acl{...}}' on an ACL with dnslists, and compares with what
    Exim 4.96 printed for the same strings (exim -be in the same kind of
    namespace: the expected lines below);
  * core/dns's live tests (dns_test --gtest_also_run_disabled_tests
    --gtest_filter='Live.*'): answers, NXDOMAIN, threads, and DNSSEC with
    the signed zone's trust anchor.

    dnslists_test.py --tern build/bin/tern --dns-test build/bin/dns_test
    dnslists_test.py --exim        # the same strings through the reference Exim 4.96
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
sys.dont_write_bytecode = True
import dns_servers  # noqa: E402
import ternlab  # noqa: E402

DNSBL = """
2.0.0.127 IN A 127.0.0.2
2.0.0.127 IN TXT "listed: test" "second string"
1.0.0.10 IN A 127.0.0.2
1.0.0.10 IN TXT "10.0.0.1 is listed"
3.0.0.10 IN A 127.0.0.3
3.0.0.10 IN A 127.0.0.5
4.0.0.10 IN A 192.168.1.1
example.com IN A 127.0.0.4
"""
TXT = '1.0.0.10 IN A 127.0.0.2\n1.0.0.10 IN TXT "from the txt domain"\n'
SIGNED = "www IN A 192.0.2.7\n"

CONF = """primary_hostname = test.example
spool_directory = {dir}/spool
log_file_path = {dir}/%slog
begin acl
acl_dnsbl:
  accept dnslists = $acl_arg1
         message = $dnslist_domain|$dnslist_matched|$dnslist_value|$dnslist_text
  deny   message = not listed
acl_short:
  accept dnslists = $acl_arg1
         message = $dnslist_domain|$dnslist_matched
  deny   message = not listed
"""

# (ACL, dnslists argument, what exim -be printed). A/TXT order is the
# server's; the lists with two A records use acl_short.
CASES = [
    ("acl_dnsbl", "dnsbl.test/10.0.0.1", "dnsbl.test|10.0.0.1|127.0.0.2|10.0.0.1 is listed"),
    ("acl_short", "dnsbl.test=127.0.0.3/10.0.0.3", "dnsbl.test|10.0.0.3"),
    ("acl_dnsbl", "dnsbl.test==127.0.0.3/10.0.0.3", "not listed"),
    ("acl_short", "dnsbl.test==127.0.0.3,127.0.0.5/10.0.0.3", "dnsbl.test|10.0.0.3"),
    ("acl_dnsbl", "txt.test,dnsbl.test/10.0.0.1", "txt.test|10.0.0.1|127.0.0.2|from the txt domain"),
    ("acl_dnsbl", "dnsbl.test/example.com", "dnsbl.test|example.com|127.0.0.4|"),
    ("acl_dnsbl", "dnsbl.test/10.0.0.9", "not listed"),
    ("acl_dnsbl", "dnsbl.test/10.0.0.4", "not listed"),
    ("acl_dnsbl", "dnsbl.test/127.0.0.2", "dnsbl.test|127.0.0.2|127.0.0.2|listed: test"),
    ("acl_dnsbl", "dead.test/10.0.0.1", "not listed"),
    ("acl_short", "+include_unknown:dead.test/10.0.0.1", "dead.test|10.0.0.1"),
    ("acl_dnsbl", "+defer_unknown:dead.test/10.0.0.1", 'Failed: DEFER from acl "acl_dnsbl"'),
]

# A -bh session whose connect ACL looks the client up in a list and in the reverse zone:
# each failed lookup raises dns:fail (Exim 4.98) for the main event_action.
SESSION_CONF = """primary_hostname = test.example
spool_directory = {dir}/spool
log_file_path = {dir}/%slog
modules = events
event_action = ${if eq{$event_name}{dns:fail}{${acl{log_event}{$event_data}}}}
acl_smtp_connect = connect
begin acl
log_event:
  accept logwrite = dns:fail $acl_arg1
connect:
  warn dnslists = dnsbl.test
  warn verify = reverse_host_lookup
  accept
"""
SESSION_LOGS = ["LOG: dns:fail DNS_NOMATCH:9.0.0.10.dnsbl.test:A"]

# What Exim logged (on standard error, after a time stamp) for the same run.
LOGS = [
    "DNS list lookup for 10.0.0.4 at dnsbl.test returned 192.168.1.1; not in 127.0/8 and discarded",
    "DNS list lookup defer (probably timeout) for 1.0.0.10.dead.test: assumed not in list",
    "DNS list lookup defer (probably timeout) for 1.0.0.10.dead.test: assumed in list",
    "DNS list lookup defer (probably timeout) for 1.0.0.10.dead.test: returned DEFER",
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tern")
    ap.add_argument("--dns-test")
    ap.add_argument("--exim", action="store_true", help="run the reference Exim instead of tern")
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    prog = [os.path.join(here, "..", "..", "scripts", "exim-ref.sh"), "exim"] if a.exim else [os.path.abspath(a.tern)]
    failures = []
    with ternlab.Scratch(prefix="tern-dnslists-") as s, \
            dns_servers.DnsLab(s, {"dnsbl.test": DNSBL, "txt.test": TXT, "signed.test": SIGNED},
                               signed=["signed.test"], dead=["dead.test"]) as lab:
        conf = s.file("tern.conf", CONF.replace("{dir}", s.path))
        args = prog + ["-C", conf, "-be"] + ["${acl{%s}{%s}}" % (acl, arg) for acl, arg, _ in CASES]
        p = lab.run(args, capture_output=True, text=True, timeout=120)
        got = p.stdout.splitlines()
        want = [w for _, _, w in CASES]
        if got != want:
            for i, (g, w) in enumerate(zip(got + [""] * len(want), want)):
                if g != w:
                    failures.append(f"${{acl}} case {i} ({CASES[i][1]}): got {g!r}, want {w!r}")
        logs = [line.split(" ", 2)[2] for line in p.stderr.splitlines() if line.count(" ") >= 2]
        if logs != LOGS:
            failures.append(f"logs: got {logs!r}\n      want {LOGS!r}")
        if not a.exim:
            session_conf = s.file("session.conf", SESSION_CONF.replace("{dir}", s.path))
            p = lab.run(prog + ["-C", session_conf, "-bh", "10.0.0.9"], input="QUIT\r\n", capture_output=True,
                        text=True, timeout=120)
            events = [line for line in p.stderr.splitlines() if line.startswith("LOG: dns:fail")]
            if events[:1] != SESSION_LOGS or not any(":9.0.0.10.in-addr.arpa:PTR" in e for e in events):
                failures.append(f"dns:fail in a session: got {events!r}, want {SESSION_LOGS!r} and the PTR lookup's")
        env = dict(os.environ, TERN_DNS_TRUST_ANCHOR=lab.ds_file("signed.test"))
        if a.exim:
            t = None
        else:
            t = lab.run([os.path.abspath(a.dns_test), "--gtest_also_run_disabled_tests", "--gtest_filter=Live.*"],
                        capture_output=True, text=True, timeout=120, env=env)
        if t and t.returncode != 0:
            failures.append("dns_test Live.*:\n" + t.stdout[-3000:])
    for f in failures:
        print("FAIL", f)
    print(f"{len(CASES)} ${{acl}} cases, the logs and the live resolver tests: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
