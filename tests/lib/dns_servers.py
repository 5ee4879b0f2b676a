"""tests/lib/dns_servers.py: a private DNS for integration tests: a network namespace with nsd and unbound.

DnsLab makes a network namespace of its own (`ip netns add`, loopback up),
an authoritative nsd serving the test's zones on 127.0.0.1:<port> inside it,
and a recursive unbound on 127.0.0.1:53 inside it with a stub zone for each
of them (port 53 is free in a fresh namespace, and resolv.conf cannot name
another). /etc/netns/<name>/resolv.conf points at that unbound, so a
program run with run() (`ip netns exec <name> ...`) resolves through it,
while the machine's own /etc/resolv.conf is never touched. close() stops
the servers and deletes the namespace and its /etc/netns directory, also
after a failure (use it as a context manager).

Zones are given as text (the records after the SOA/NS that DnsLab adds).
A zone in `dead` is a stub zone whose server never answers (a closed
port): queries under it fail (SERVFAIL), as a dead DNS list does.
A zone listed in `signed` is signed with ldns-signzone (ECDSAP256SHA256)
and unbound validates it with the KSK's DS as trust anchor; the DS file is
ds_file(zone) (a DNSSEC-validating client can use it as its own anchor).
"""
import os
import shutil
import subprocess

import ternlab


class DnsLab:
    def __init__(self, scratch, zones, signed=(), dead=()):
        self.scratch = scratch
        self.zones = dict(zones)
        self.signed = set(signed)
        self.dead = list(dead)
        self.name = f"tern-dns-{os.getpid()}-{ternlab.free_port()}"
        self.dir = os.path.join(scratch.path, "dns")
        os.makedirs(self.dir, exist_ok=True)
        self.nsd_port = ternlab.free_port()
        self.servers = []
        self.netns_made = False
        self.etc = os.path.join("/etc/netns", self.name)

    # ---- lifecycle

    def start(self):
        subprocess.run(["ip", "netns", "add", self.name], check=True)
        self.netns_made = True
        self.run(["ip", "link", "set", "lo", "up"], check=True)
        os.makedirs(self.etc, exist_ok=True)
        with open(os.path.join(self.etc, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\noptions trust-ad\n")
        for zone in self.zones:
            self._write_zone(zone)
        self._start_nsd()
        self._start_unbound()
        return self

    def close(self):
        for s in reversed(self.servers):
            s.stop()
        self.servers = []
        if self.netns_made:
            subprocess.run(["ip", "netns", "del", self.name], check=False)
            self.netns_made = False
        shutil.rmtree(self.etc, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc):
        self.close()

    # ---- use

    def run(self, argv, **kw):
        """Run argv inside the namespace (subprocess.run arguments)."""
        return subprocess.run(["ip", "netns", "exec", self.name] + list(argv), **kw)

    def drill(self, name, rrtype="A", server="127.0.0.1", port=53):
        """ldns's drill, inside the namespace: its text output ("" on timeout)."""
        try:
            p = self.run(["drill", "-p", str(port), name, "@" + server, rrtype], capture_output=True, text=True,
                         timeout=5)
        except subprocess.TimeoutExpired:
            return ""
        return p.stdout

    def ds_file(self, zone):
        return os.path.join(self.dir, f"K{zone}.ds")

    # ---- internals

    def _write_zone(self, zone):
        path = os.path.join(self.dir, f"{zone}.zone")
        with open(path, "w") as f:
            f.write(f"$ORIGIN {zone}.\n$TTL 300\n"
                    f"@ IN SOA ns.{zone}. hostmaster.{zone}. 1 3600 900 604800 60\n"
                    f"@ IN NS ns.{zone}.\nns IN A 127.0.0.1\n")
            f.write(self.zones[zone])
        if zone in self.signed:
            ksk = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", zone], cwd=self.dir,
                                 capture_output=True, text=True, check=True).stdout.strip()
            zsk = subprocess.run(["ldns-keygen", "-a", "ECDSAP256SHA256", zone], cwd=self.dir,
                                 capture_output=True, text=True, check=True).stdout.strip()
            subprocess.run(["ldns-signzone", "-o", zone, path, zsk, ksk], cwd=self.dir, check=True)
            os.replace(os.path.join(self.dir, ksk + ".ds"), self.ds_file(zone))
            path += ".signed"
        self.zones[zone] = path

    def _start_nsd(self):
        conf = os.path.join(self.dir, "nsd.conf")
        with open(conf, "w") as f:
            f.write("server:\n"
                    f"  ip-address: 127.0.0.1@{self.nsd_port}\n"
                    '  username: ""\n  chroot: ""\n  database: ""\n'
                    f"  zonelistfile: {self.dir}/zone.list\n  xfrdfile: {self.dir}/xfrd.state\n"
                    f"  xfrdir: {self.dir}\n  pidfile: {self.dir}/nsd.pid\n  logfile: {self.dir}/nsd.log\n"
                    "remote-control:\n  control-enable: no\n")
            for zone, path in self.zones.items():
                f.write(f"zone:\n  name: {zone}\n  zonefile: {path}\n")
        self.servers.append(ternlab.Server(["ip", "netns", "exec", self.name, "nsd", "-d", "-c", conf],
                                           log_path=os.path.join(self.dir, "nsd.out")))
        first = next(iter(self.zones))
        ternlab.wait_for(lambda: "rcode: NOERROR" in self.drill(first + ".", "SOA", port=self.nsd_port),
                         what="nsd serving " + first)

    def _start_unbound(self):
        conf = os.path.join(self.dir, "unbound.conf")
        with open(conf, "w") as f:
            f.write("server:\n  interface: 127.0.0.1\n  port: 53\n  do-daemonize: no\n"
                    '  username: ""\n  chroot: ""\n  directory: "' + self.dir + '"\n'
                    "  do-not-query-localhost: no\n  use-syslog: no\n"
                    f"  logfile: {self.dir}/unbound.log\n  pidfile: {self.dir}/unbound.pid\n"
                    "  val-permissive-mode: no\n  access-control: 127.0.0.0/8 allow\n")
            # Names under test., invalid. and the like are unbound's own
            # (RFC 6761) unless told otherwise.
            for tld in sorted({z.rsplit(".", 1)[-1] for z in list(self.zones) + self.dead}):
                f.write(f'  local-zone: "{tld}." nodefault\n')
            for zone in self.zones:
                if zone in self.signed:
                    f.write(f"  trust-anchor-file: {self.ds_file(zone)}\n")
                else:
                    f.write(f'  domain-insecure: "{zone}"\n')
            for zone in self.dead:
                f.write(f'  domain-insecure: "{zone}"\n')
            f.write("remote-control:\n  control-enable: no\n")
            for zone in self.zones:
                f.write(f'stub-zone:\n  name: "{zone}"\n  stub-addr: 127.0.0.1@{self.nsd_port}\n')
            dead_port = ternlab.free_port()  # nothing listens there
            for zone in self.dead:
                f.write(f'stub-zone:\n  name: "{zone}"\n  stub-addr: 127.0.0.1@{dead_port}\n')
        self.servers.append(ternlab.Server(["ip", "netns", "exec", self.name, "unbound", "-d", "-c", conf],
                                           log_path=os.path.join(self.dir, "unbound.out")))
        first = next(iter(self.zones))
        ternlab.wait_for(lambda: "rcode: NOERROR" in self.drill(first + ".", "SOA"), what="unbound answering")
