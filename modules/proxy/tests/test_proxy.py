#!/usr/bin/env python3
"""modules/proxy/tests/test_proxy.py: the proxy module behind a real haproxy.

One haproxy (Debian's, TCP mode) on 127.0.0.2 with a frontend per flavour:
send-proxy (v1), send-proxy-v2, v1 and v2 over IPv6 (::1), send-proxy-v2
with TLS terminated by haproxy and every TLV option (SSL, CN, cipher,
authority, unique-id, crc32c), and a round-robin frontend over two tern
daemons. haproxy connects from 127.0.0.3, the address in hosts_proxy;
clients connect from their own 127.0.0.x, and the daemons must log and
stamp the clients' addresses. Direct connections test the failures:
a client not in hosts_proxy forging a PROXY line, a trusted host that
stays silent, headers a byte at a time, oversized and truncated headers.

Run: python3 modules/proxy/tests/test_proxy.py --tern build/bin/tern [-k pattern]
"""
import argparse
import os
import re
import shutil
import smtplib
import socket
import ssl
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "lib"))
import ternlab  # noqa: E402

TERN = None
BALANCER = "127.0.0.3"     # haproxy's source address towards the daemons
FRONT = "127.0.0.2"        # where clients reach haproxy
REFUSAL = (503, ["Command refused, required Proxy negotiation failed"])

CONFIG = r"""
modules = proxy
hosts_proxy = <; 127.0.0.3 ; ::1
proxy_protocol_timeout = 1s
log_selector = +proxy +incoming_port
acl_smtp_connect = acl_conn
acl_smtp_rcpt = accept
acl_smtp_data = acl_data
begin acl
acl_conn:
  warn ratelimit = 100 / 1h / per_conn
  warn logwrite = RATE $sender_host_address $sender_rate
  accept logwrite = CONN sha=$sender_host_address:$sender_host_port ps=$proxy_session \
         pea=$proxy_external_address pep=$proxy_external_port pla=$proxy_local_address \
         plp=$proxy_local_port ria=$received_ip_address
         logwrite = TLV sha=$sender_host_address auth=$proxy_tlv_authority uid=$proxy_tlv_unique_id \
         ssl=$proxy_tlv_ssl ver=$proxy_tlv_ssl_version cipher=$proxy_tlv_ssl_cipher \
         cert=$proxy_tlv_ssl_client_cert verified=$proxy_tlv_ssl_verified cn=$proxy_tlv_ssl_cn \
         crc=$proxy_tlv_crc32c
acl_data:
  accept add_header = X-Proxy-Seen: $sender_host_address sni=$proxy_tlv_authority ssl=$proxy_tlv_ssl_version
"""

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2_header(src, sport, dst, dport, tlvs=b""):
    block = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport) + tlvs
    return V2_SIG + b"\x21\x11" + struct.pack("!H", len(block)) + block


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(d):
    """A CA, haproxy's certificate (crt + key in one file) and a client's."""
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Test CA",
            "-keyout", "ca.key", "-out", "ca.pem", cwd=d)
    for name, cn in (("front", "mx.example.org"), ("client", "client.example")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}", "-keyout", f"{name}.key",
                "-out", f"{name}.csr", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-out", f"{name}.pem", cwd=d)
    with open(os.path.join(d, "front.combined"), "w") as out:
        out.write(open(os.path.join(d, "front.pem")).read() + open(os.path.join(d, "front.key")).read())


class Lab:
    """haproxy and the tern daemons, shared by every test (started once)."""

    def __init__(self):
        self.scratch = ternlab.Scratch(prefix="tern-proxy-")
        self.daemons = []
        self.haproxy = None
        try:
            self.start()
        except BaseException:
            self.close()
            raise

    def start(self):
        port = ternlab.free_port()
        self.tls_port = ternlab.free_port()
        self.a = ternlab.Daemon(TERN, self.scratch, f"tls_on_connect_ports = {self.tls_port}\n" + CONFIG,
                                name="a", port=port,
                                listen=f"<; 127.0.0.1.{port} ; ::1.{port} ; 127.0.0.1.{self.tls_port}")
        self.daemons.append(self.a)
        self.b = ternlab.Daemon(TERN, self.scratch, CONFIG, name="b")
        self.daemons.append(self.b)
        d = self.scratch.path
        make_certificates(d)
        self.ports = {k: ternlab.free_port(FRONT) for k in ("v1", "v2", "v2ssl", "rr", "smtps")}
        self.ports["v1_6"] = ternlab.free_port()
        self.ports["v2_6"] = ternlab.free_port()
        a, b = self.a.port, self.b.port
        cfg = f"""
global
  maxconn 200
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  unique-id-format uid-%ci-%cp
frontend v1
  bind {FRONT}:{self.ports['v1']}
  default_backend v1
backend v1
  server a 127.0.0.1:{a} send-proxy source {BALANCER}
frontend v2
  bind {FRONT}:{self.ports['v2']}
  default_backend v2
backend v2
  server a 127.0.0.1:{a} send-proxy-v2 source {BALANCER}
frontend v1_6
  bind [::1]:{self.ports['v1_6']}
  default_backend v1_6
backend v1_6
  server a [::1]:{a} send-proxy
frontend v2_6
  bind [::1]:{self.ports['v2_6']}
  default_backend v2_6
backend v2_6
  server a [::1]:{a} send-proxy-v2
frontend v2ssl
  bind {FRONT}:{self.ports['v2ssl']} ssl crt {d}/front.combined ca-file {d}/ca.pem verify optional
  default_backend v2ssl
backend v2ssl
  server a 127.0.0.1:{a} send-proxy-v2-ssl-cn proxy-v2-options ssl-cipher,authority,unique-id,crc32c source {BALANCER}
frontend smtps
  bind {FRONT}:{self.ports['smtps']}
  default_backend smtps
backend smtps
  server a 127.0.0.1:{self.tls_port} send-proxy-v2 source {BALANCER}
frontend rr
  bind {FRONT}:{self.ports['rr']}
  default_backend rr
backend rr
  balance roundrobin
  server a 127.0.0.1:{a} send-proxy-v2 source {BALANCER}
  server b 127.0.0.1:{b} send-proxy-v2 source {BALANCER}
"""
        conf = self.scratch.file("haproxy.cfg", cfg)
        check = subprocess.run(["haproxy", "-c", "-f", conf], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError("haproxy -c: " + check.stdout + check.stderr)
        self.haproxy = ternlab.Server(["haproxy", "-db", "-f", conf], log_path=os.path.join(d, "haproxy.log"))
        for name, port in self.ports.items():
            ternlab.wait_port(port, host="::1" if name.endswith("_6") else FRONT, proc=self.haproxy.proc)

    def close(self):
        if self.haproxy:
            self.haproxy.stop()
        for dmn in self.daemons:
            dmn.close()
        self.scratch.close()


LAB = None


class ProxyTest(unittest.TestCase):
    def setUp(self):
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()

    def client(self, port, host=FRONT, source=None):
        c = ternlab.SmtpClient(port, host=host, source=source)
        self.clients.append(c)
        return c

    def send_message(self, c, helo, sender="alice@a.example"):
        self.assertEqual(c.cmd(f"EHLO {helo}")[0], 250)
        self.assertEqual(c.cmd(f"MAIL FROM:<{sender}>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<bob@b.example>")[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        code, lines = c.cmd(f"Subject: via {helo}\r\n\r\nbody\r\n.")
        self.assertEqual(code, 250, lines)
        c.cmd("QUIT")
        return lines[0].split("id=")[1]

    def reception_line(self, daemon, msg_id):
        daemon.wait_log(f"{msg_id} <= ")
        return next(l for l in daemon.log().splitlines() if f"{msg_id} <= " in l)

    def conn_line(self, daemon, sha_prefix, after=0):
        pattern = re.compile(r"CONN sha=" + re.escape(sha_prefix) + r"\S* .*")
        ternlab.wait_for(lambda: pattern.search(daemon.log()[after:]), 10, f"CONN {sha_prefix}")
        return pattern.search(daemon.log()[after:]).group(0)


class ThroughHaproxy(ProxyTest):
    def check_client_seen(self, port, source, helo):
        c = self.client(port, source=source)
        self.assertEqual(c.reply()[0], 220)
        code, lines = c.cmd(f"EHLO {helo}")
        self.assertEqual(lines[0], f"mx.test.example Hello {helo} [{source}]")
        self.assertEqual(c.cmd("MAIL FROM:<alice@a.example>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<bob@b.example>")[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        code, lines = c.cmd(f"Subject: via {helo}\r\n\r\nbody\r\n.")
        self.assertEqual(code, 250, lines)
        msg_id = lines[0].split("id=")[1]
        c.cmd("QUIT")
        line = self.reception_line(LAB.a, msg_id)
        self.assertRegex(line, rf" H=\({re.escape(helo)}\) \[{re.escape(source)}\]:\d+ P=esmtp PRX={BALANCER} S=")
        header = LAB.a.read(msg_id, "H")
        # +incoming_port puts the port in $sender_rcvhost, as Exim's host_build_sender_fullhost().
        self.assertRegex(header, rf"Received: from \[{re.escape(source)}\] \(port=\d+ helo={re.escape(helo)}\)")
        self.assertNotIn(BALANCER, header)
        self.assertIn(f"X-Proxy-Seen: {source} sni= ssl=", header)
        conn = self.conn_line(LAB.a, source + ":")
        self.assertRegex(conn, rf"ps=yes pea={FRONT} pep={port} pla={BALANCER} plp=\d+ ria=127.0.0.1$")
        return msg_id

    def test_v1_clients_from_two_addresses(self):
        self.check_client_seen(LAB.ports["v1"], "127.0.0.5", "five.example")
        self.check_client_seen(LAB.ports["v1"], "127.0.0.6", "six.example")

    def test_v2_clients_from_two_addresses(self):
        self.check_client_seen(LAB.ports["v2"], "127.0.0.7", "seven.example")
        self.check_client_seen(LAB.ports["v2"], "127.0.0.8", "eight.example")

    def test_ipv6_clients(self):
        for name, pea in (("v1_6", "::1"), ("v2_6", "::1")):
            c = self.client(LAB.ports[name], host="::1")
            self.assertEqual(c.reply()[0], 220)
            self.assertEqual(c.cmd("EHLO six.example")[1][0], "mx.test.example Hello six.example [::1]")
            helo = name.replace("_", "-") + ".example"
            msg_id = self.send_message(c, helo)
            self.assertRegex(self.reception_line(LAB.a, msg_id), rf" H=\({re.escape(helo)}\) \[::1\]:\d+ P=esmtp PRX=::1 ")
            self.assertIn(f"pea={pea} pep={LAB.ports[name]} pla=::1", LAB.a.log())

    def test_v2_ssl_tlvs(self):
        d = LAB.scratch.path
        ctx = ssl.create_default_context(cafile=os.path.join(d, "ca.pem"))
        ctx.load_cert_chain(os.path.join(d, "client.pem"), os.path.join(d, "client.key"))
        raw = socket.create_connection((FRONT, LAB.ports["v2ssl"]), source_address=("127.0.0.9", 0), timeout=10)
        with ctx.wrap_socket(raw, server_hostname="mx.example.org") as s:
            f = s.makefile("rwb")

            def reply():
                lines = []
                while True:
                    line = f.readline().decode()
                    lines.append(line)
                    if line[3:4] != "-":
                        return int(line[:3]), lines

            def cmd(text):
                f.write(text.encode() + b"\r\n")
                f.flush()
                return reply()

            self.assertEqual(reply()[0], 220)
            self.assertIn("[127.0.0.9]", cmd("EHLO tls.example")[1][0])
            self.assertEqual(cmd("MAIL FROM:<t@a.example>")[0], 250)
            self.assertEqual(cmd("RCPT TO:<bob@b.example>")[0], 250)
            self.assertEqual(cmd("DATA")[0], 354)
            code, lines = cmd("Subject: tls\r\n\r\nbody\r\n.")
            self.assertEqual(code, 250)
            msg_id = lines[0].strip().split("id=")[1]
            cmd("QUIT")
            version = s.version()
            cipher = s.cipher()[0]
        tlv = re.search(r"TLV sha=127\.0\.0\.9 .*", LAB.a.log()).group(0)
        self.assertEqual(tlv, f"TLV sha=127.0.0.9 auth=mx.example.org uid=uid-127.0.0.9-" +
                         re.search(r"uid=uid-127\.0\.0\.9-(\d+)", tlv).group(1) +
                         f" ssl=yes ver={version} cipher={cipher} cert=yes verified=yes cn=client.example crc=yes")
        header = LAB.a.read(msg_id, "H")
        self.assertIn(f"X-Proxy-Seen: 127.0.0.9 sni=mx.example.org ssl={version}", header)

    def test_header_comes_before_tls_on_connect(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        raw = socket.create_connection((FRONT, LAB.ports["smtps"]), source_address=("127.0.0.40", 0), timeout=10)
        with ctx.wrap_socket(raw) as s:
            f = s.makefile("rwb")
            self.assertTrue(f.readline().startswith(b"220 "))
            f.write(b"EHLO smtps.example\r\n")
            f.flush()
            self.assertEqual(f.readline(), b"250-mx.test.example Hello smtps.example [127.0.0.40]\r\n")
        self.assertIn(f"pea={FRONT} pep={LAB.ports['smtps']} pla={BALANCER}", self.conn_line(LAB.a, "127.0.0.40:"))

    def test_round_robin_over_two_daemons(self):
        sources = ["127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13"]
        ids = []
        for src in sources:
            c = self.client(LAB.ports["rr"], source=src)
            self.assertEqual(c.reply()[0], 220)
            ids.append((src, self.send_message(c, f"rr-{src}.example")))
        per_daemon = {"a": [], "b": []}
        for src, msg_id in ids:
            owner = [n for n, dmn in (("a", LAB.a), ("b", LAB.b)) if f"{msg_id} <= " in dmn.log()]
            self.assertEqual(len(owner), 1, msg_id)
            dmn = LAB.a if owner[0] == "a" else LAB.b
            self.assertRegex(self.reception_line(dmn, msg_id), rf"\[{re.escape(src)}\]:\d+ P=esmtp PRX={BALANCER} ")
            self.assertIn(f"Received: from [{src}]", dmn.read(msg_id, "H"))
            per_daemon[owner[0]].append(src)
        self.assertEqual(len(per_daemon["a"]), 2, per_daemon)
        self.assertEqual(len(per_daemon["b"]), 2, per_daemon)

    def test_ratelimit_keys_on_the_client(self):
        # tern keeps ratelimit data per worker process. Four connections
        # open at once through haproxy spread over the workers (each goes to
        # the one with the fewest sessions), so every worker has counted the
        # balancer's address by then: were the key the balancer's, the
        # clients below would start above 1.
        warm = [self.client(LAB.ports["v1"], source="127.0.0.22") for _ in range(4)]
        for c in warm:
            self.assertEqual(c.reply()[0], 220)
        for c in warm:
            self.assertEqual(c.cmd("QUIT")[0], 221)
        for src in ("127.0.0.20", "127.0.0.20", "127.0.0.21"):
            c = self.client(LAB.ports["v1"], source=src)
            self.assertEqual(c.reply()[0], 220)
            self.assertEqual(c.cmd("QUIT")[0], 221)
        LAB.a.wait_log("RATE 127.0.0.21 ")
        rates = re.findall(r"RATE (127\.0\.0\.2[012]) (\S+)", LAB.a.log())
        self.assertEqual(len(rates), 7, rates)
        first = {}
        for addr, rate in rates:
            first.setdefault(addr, float(rate))
        self.assertEqual(first, {"127.0.0.22": 1.0, "127.0.0.20": 1.0, "127.0.0.21": 1.0}, rates)


class Direct(ProxyTest):
    """Connections straight to a daemon: the failures."""

    def test_forged_proxy_line_from_untrusted_host(self):
        c = self.client(LAB.a.port, host="127.0.0.1", source="127.0.0.30")
        self.assertEqual(c.reply()[0], 220)
        self.assertEqual(c.cmd("PROXY TCP4 192.0.2.7 198.51.100.2 4242 25"), (500, ["unrecognized command"]))
        self.assertIn("[127.0.0.30]", c.cmd("EHLO forger.example")[1][0])
        c.cmd("QUIT")
        self.assertIn("ps=no pea= pep=0 pla= plp=0", self.conn_line(LAB.a, "127.0.0.30:"))

    def trusted(self):
        return self.client(LAB.a.port, host="127.0.0.1", source=BALANCER)

    def assert_refused_session(self, c, reason):
        self.assertEqual(c.reply()[0], 220)
        self.assertEqual(c.cmd("EHLO x.example"), REFUSAL)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.example>"), REFUSAL)
        self.assertEqual(c.cmd("NOOP"), REFUSAL)
        self.assertEqual(c.cmd("QUIT")[0], 221)
        LAB.a.wait_log(reason)
        self.assertRegex(LAB.a.log(), r"negotiation before the banner failed for \[127\.0\.0\.3\]:\d+ \(module proxy\): "
                                      r"PROXY negotiation failed: " + re.escape(reason))

    def test_trusted_host_silent_past_the_timeout(self):
        start = time.monotonic()
        c = self.trusted()
        self.assertEqual(c.reply()[0], 220)
        self.assertGreaterEqual(time.monotonic() - start, 0.9)
        self.assertEqual(c.cmd("EHLO x.example"), REFUSAL)
        self.assertEqual(c.cmd("RSET"), REFUSAL)
        self.assertEqual(c.cmd("QUIT")[0], 221)
        LAB.a.wait_log("Timeout while reading proxy header")

    def test_header_a_byte_at_a_time(self):
        for header, client in ((b"PROXY TCP6 2001:db8::1 2001:db8::2 1000 25\r\n", "2001:db8::1"),
                               (v2_header("192.0.2.44", 4444, "198.51.100.2", 25), "192.0.2.44")):
            c = self.trusted()
            for i in range(len(header)):
                c.send(header[i:i + 1])
                time.sleep(0.005)
            self.assertEqual(c.reply()[0], 220)
            self.assertEqual(c.cmd("EHLO bytes.example")[1][0], f"mx.test.example Hello bytes.example [{client}]")
            c.cmd("QUIT")

    def test_oversized_v2_header(self):
        c = self.trusted()
        c.send(V2_SIG + b"\x21\x11\xff\xff" + b"\x00" * 300)
        self.assert_refused_session(c, "PROXYv2 header size unreasonably large; security attack? (65535 bytes, limit 4096)")

    def test_truncated_v2_header(self):
        c = self.trusted()
        c.send(v2_header("192.0.2.45", 1, "198.51.100.2", 25)[:20])
        self.assert_refused_session(c, "Timeout while reading proxy header")

    def test_malformed_v1_header(self):
        c = self.trusted()
        c.send(b"PROXY TCP4 192.0.2.7 198.51.100.2 4242\r\n")
        self.assert_refused_session(c, "Partial or invalid PROXY header: 5 fields, 6 expected")

    def test_v1_unknown_keeps_the_connection_address(self):
        c = self.trusted()
        c.send(b"PROXY UNKNOWN\r\n")
        self.assertEqual(c.reply()[0], 220)
        self.assertIn(f"[{BALANCER}]", c.cmd("EHLO unknown.example")[1][0])
        c.cmd("QUIT")


def main():
    global TERN, LAB
    ap = argparse.ArgumentParser()
    ap.add_argument("--tern", required=True)
    args, rest = ap.parse_known_args()
    TERN = os.path.abspath(args.tern)
    if shutil.which("haproxy") is None:
        sys.exit("haproxy not installed (scripts/deps.sh installs it)")
    LAB = Lab()
    try:
        prog = unittest.main(argv=[sys.argv[0]] + rest, exit=False, verbosity=2)
    finally:
        LAB.close()
    sys.exit(0 if prog.result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
