#!/usr/bin/env python3
"""modules/events/tests/test_delivery_events.py: the events a delivery raises, end to end.

A sending tern daemon (immediate delivery, manualroute, the smtp transport)
relays to a receiving tern daemon on loopback; the transport's (and for
msg:fail:internal the main) event_action writes one row per event to a real
PostgreSQL (tests/lib/sqlservers.py), with the variables Exim 4.96 sets for
it. What is checked is Exim 4.96's behaviour, seen with scripts/exim-ref.sh
relaying to the same kind of receiver:
  - tcp:connect (no data, $sending_port -1), smtp:connect (the banner),
    smtp:ehlo (the EHLO reply, lines joined by newlines), msg:delivery,
    tcp:close ($sending_ip_address and $sending_port of the connection);
  - tcp:connect answering non-empty: no connection (a listening socket gets none),
    msg:host:defer and msg:defer with $event_defer_errno -58 and no data,
    "== ... defer (-58)";
  - smtp:connect answering non-empty: tcp:close, no message, "deferred by
    smtp:connect event expansion: <answer>" (-27);
  - a closed port: msg:host:defer "Connection refused" (111), then the next
    host; alone, msg:defer too;
  - a 4xx to RCPT: msg:rcpt:host:defer and msg:rcpt:defer with Exim's
    more_errno (51 << 8 | 'A'), no msg:defer;
  - tls:cert: depth 0 with $tls_out_peercert "<cert>"; a non-empty answer
    leaves the certificate unverified (CV=no) under tls_try_verify_hosts and
    fails the handshake under tls_verify_hosts (then clear, as
    tls_tempfail_tryclear);
  - msg:fail:internal (main event_action) for an unrouteable address and a
    :fail: redirect, before the ** line;
  - dns:fail (Exim 4.98's "<reason>:<name>:<type>") for routing's failed lookups, through
    a real nsd and unbound in a network namespace (tests/lib/dns_servers.py).

Run: python3 modules/events/tests/test_delivery_events.py --tern build/bin/tern
"""
import os
import re
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "lib"))
import dns_servers  # noqa: E402
import sqlservers  # noqa: E402
import ternlab  # noqa: E402

TERN = None
SCRATCH = None
PG = None

COLUMNS = ("name", "data", "errno", "host", "ha", "hp", "sip", "sp", "r", "t", "lp", "d", "id", "pc")
VARIABLES = ("$event_name", "$event_data", "$event_defer_errno", "$host", "$host_address", "$host_port",
             "$sending_ip_address", "$sending_port", "$router_name", "$transport_name", "$local_part",
             "$domain", "$message_exim_id", "$tls_out_peercert")


def record(extra=""):
    """event_action writing every event as a row, answering nothing (the INSERT's count is
    dropped: a non-empty answer would refuse tcp:connect), then `extra` (the answer)."""
    values = ", ".join(f"E'${{quote_pgsql:{v}}}'" for v in VARIABLES)
    return ("${lookup pgsql{INSERT INTO ev (" + ", ".join(COLUMNS) + ") VALUES (" + values + ")}{}}" + extra)


def setUpModule():
    global SCRATCH, PG
    SCRATCH = ternlab.Scratch()
    PG = sqlservers.PostgresServer(SCRATCH.path)
    PG.add_user("tern", "secret", database="terndb")
    PG.sql("create table ev (seq serial, " + ", ".join(f"{c} text" for c in COLUMNS) + ")", database="terndb")
    PG.sql("grant all on ev to tern", database="terndb")
    PG.sql("grant all on sequence ev_seq_seq to tern", database="terndb")


def tearDownModule():
    PG.close()
    SCRATCH.close()


def rows():
    """The events recorded, in order, as dicts."""
    # Fields end in chr(31), rows in chr(30): the data of smtp:ehlo has newlines.
    out = PG.sql("select " + " || ".join(f"coalesce({c}, '') || chr(31)" for c in COLUMNS) +
                 " || chr(30) from ev order by seq", database="terndb")
    return [dict(zip(COLUMNS, row.lstrip("\n").split("\x1f"))) for row in out.split("\x1e") if row.strip()]


def untimed(log):
    """A log without its lines' time stamps."""
    return re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ", "", log, flags=re.M)


def names(evs):
    return [e["name"] for e in evs]


class DeliveryEvents(unittest.TestCase):
    def setUp(self):
        PG.sql("delete from ev", database="terndb")
        self.scratch = ternlab.Scratch()
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.close()
        self.scratch.close()

    def receiver(self, extra=""):
        """A tern daemon that keeps what it gets; RCPT to later@ gets a 451."""
        d = ternlab.Daemon(TERN, self.scratch,
                           "smtp_banner = $primary_hostname ESMTP events test\n"
                           "acl_smtp_rcpt = rcpt\n" + extra +
                           "begin acl\nrcpt:\n  defer local_parts = later\n  accept\n",
                           name=f"receiver{len(self.daemons)}")
        self.daemons.append(d)
        return d

    def sender(self, route, transport_options="", main=""):
        d = ternlab.Daemon(
            TERN, self.scratch,
            "modules = events : pgsql\n"
            f"pgsql_servers = {sqlservers.server_list(PG.tcp_item('terndb', 'tern', 'secret'))}\n"
            "acl_smtp_rcpt = accept\n"
            "log_selector = +outgoing_port\n" + main +
            "begin routers\n"
            "bad:\n  driver = redirect\n  domains = fail.example\n  allow_fail\n"
            "  data = :fail: no such user here\n"
            "out:\n  driver = manualroute\n  domains = dest.example\n"
            f"  route_list = * {route}\n  transport = t\n  self = send\n"
            "begin transports\n"
            "t:\n  driver = smtp\n  allow_localhost\n" + transport_options +
            "begin retry\n*   *   F,1h,1m\n",
            name=f"sender{len(self.daemons)}", deliver=True)
        self.daemons.append(d)
        return d

    def submit(self, daemon, rcpts):
        c = ternlab.SmtpClient(daemon.port)
        try:
            self.assertEqual(c.reply()[0], 220)
            c.cmd("EHLO client.example")
            self.assertEqual(c.cmd("MAIL FROM:<sender@origin.example>")[0], 250)
            for r in rcpts:
                self.assertEqual(c.cmd(f"RCPT TO:<{r}>")[0], 250)
            self.assertEqual(c.cmd("DATA")[0], 354)
            code, lines = c.cmd("Subject: events\r\n\r\nhello\r\n.")
            self.assertEqual(code, 250)
            c.cmd("QUIT")
        finally:
            c.close()
        return lines[0].split("id=")[1]

    def banner_and_ehlo(self, daemon):
        """What the receiver says to a client: its banner and EHLO reply, as Exim keeps them."""
        c = ternlab.SmtpClient(daemon.port)
        try:
            _, banner = c.reply()
            _, ehlo = c.cmd("EHLO mx.test.example")
            c.cmd("QUIT")
        finally:
            c.close()
        banner_text = "220 " + banner[0]
        ehlo_text = "\n".join(("250-" if i < len(ehlo) - 1 else "250 ") + line for i, line in enumerate(ehlo))
        return banner_text, ehlo_text

    def wait_rows(self, last, count=1):
        ternlab.wait_for(lambda: names(rows()).count(last) >= count, 20, f"{last} recorded; rows: {names(rows())}")
        return rows()

    def test_connection_events_with_exims_data(self):
        recv = self.receiver()
        banner, ehlo = self.banner_and_ehlo(recv)
        send = self.sender(f"127.0.0.1::{recv.port}", "  hosts_avoid_tls = *\n  event_action = " + record() + "\n")
        msg = self.submit(send, ["User@dest.example"])
        send.wait_log(f"{msg} Completed", timeout=20)
        evs = self.wait_rows("tcp:close")
        self.assertEqual(names(evs), ["tcp:connect", "smtp:connect", "smtp:ehlo", "msg:delivery", "tcp:close"])
        connect, smtp_connect, smtp_ehlo, delivery, close = evs
        for e in evs:
            self.assertEqual((e["host"], e["ha"], e["hp"], e["t"], e["id"], e["errno"]),
                             ("127.0.0.1", "127.0.0.1", str(recv.port), "t", e["id"], "0"), e)
        self.assertEqual((connect["data"], connect["sip"], connect["sp"], connect["lp"], connect["d"], connect["r"]),
                         ("", "", "-1", "user", "dest.example", ""))
        self.assertEqual(smtp_connect["data"], banner)
        self.assertEqual(banner, "220 mx.test.example ESMTP events test")
        self.assertTrue(ehlo.startswith("250-mx.test.example Hello mx.test.example [127.0.0.1]\n"), ehlo)
        self.assertEqual(smtp_ehlo["data"], ehlo)
        self.assertEqual(smtp_connect["sip"], "127.0.0.1")
        sending_port = smtp_connect["sp"]
        self.assertRegex(sending_port, r"^[1-9][0-9]*$")
        self.assertEqual((close["sip"], close["sp"], close["data"]), ("127.0.0.1", sending_port, ""))
        self.assertEqual((delivery["r"], delivery["id"], delivery["lp"]), ("out", msg, "user"))
        self.assertRegex(delivery["data"], r"(^|\\n)250 OK id=")  # printable, as C=: after "250- ... chunk\\n" (BDAT)
        # The receiver got the message over that connection: from our sending port.
        received_id = delivery["data"].rsplit("id=", 1)[1]
        self.assertIn(f"-host_address [127.0.0.1]:{sending_port}\n", recv.read(received_id, "H"))

    def test_tcp_connect_answer_prevents_the_connection(self):
        # The host is a bare listening socket: any connection would wait in its queue.
        listener = socket.socket()
        self.addCleanup(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        port = listener.getsockname()[1]
        send = self.sender(f"127.0.0.1::{port}",
                           "  event_action = " + record("${if eq{$event_name}{tcp:connect}{no}}") + "\n")
        msg = self.submit(send, ["a@dest.example"])
        send.wait_log(f"{msg} == a@dest.example")
        # Exim's host line (write_logs) before the address's.
        self.assertIn(f"{msg} H=127.0.0.1 [127.0.0.1] Event requests alternate response\n"
                      f"{msg} == a@dest.example R=out T=t defer (-58)", untimed(send.log()))
        evs = self.wait_rows("msg:defer")
        self.assertEqual(names(evs), ["tcp:connect", "msg:host:defer", "msg:defer"])
        for e in evs[1:]:
            self.assertEqual((e["data"], e["errno"], e["r"], e["lp"], e["hp"]), ("", "-58", "out", "a", str(port)))
        listener.setblocking(False)
        with self.assertRaises(BlockingIOError):
            listener.accept()
        self.assertEqual(send.messages(), [msg])

    def test_smtp_connect_answer_closes(self):
        recv = self.receiver()
        send = self.sender(f"127.0.0.1::{recv.port}",
                           "  hosts_avoid_tls = *\n"
                           "  event_action = " + record("${if eq{$event_name}{smtp:connect}{nope}}") + "\n")
        msg = self.submit(send, ["a@dest.example"])
        send.wait_log(f"{msg} == a@dest.example")
        self.assertIn(f"{msg} == a@dest.example R=out T=t defer (-27): deferred by smtp:connect event expansion: nope\n",
                      send.log())
        evs = self.wait_rows("msg:defer")
        self.assertEqual(names(evs), ["tcp:connect", "smtp:connect", "tcp:close", "msg:host:defer", "msg:defer"])
        for e in evs[3:]:
            self.assertEqual((e["data"], e["errno"]), ("deferred by smtp:connect event expansion: nope", "-27"))
        self.assertEqual(recv.messages(), [])
        self.assertEqual(send.messages(), [msg])

    def test_closed_port_then_next_host(self):
        dead = ternlab.free_port()
        recv = self.receiver()
        send = self.sender(f"127.0.0.1::{dead}:127.0.0.1::{recv.port}",
                           "  hosts_avoid_tls = *\n  event_action = " + record() + "\n")
        msg = self.submit(send, ["a@dest.example"])
        send.wait_log(f"{msg} Completed", timeout=20)
        evs = self.wait_rows("tcp:close")
        self.assertEqual(names(evs), ["tcp:connect", "msg:host:defer", "tcp:connect", "smtp:connect", "smtp:ehlo",
                                      "msg:delivery", "tcp:close"])
        host_defer = evs[1]
        self.assertEqual((host_defer["data"], host_defer["errno"], host_defer["hp"], host_defer["r"]),
                         ("Connection refused", "111", str(dead), "out"))
        self.assertEqual(evs[2]["hp"], str(recv.port))
        self.assertIn(f"{msg} H=127.0.0.1 [127.0.0.1] Connection refused\n", send.log())

    def test_closed_port_alone_defers_the_message(self):
        dead = ternlab.free_port()
        send = self.sender(f"127.0.0.1::{dead}", "  event_action = " + record() + "\n")
        msg = self.submit(send, ["a@dest.example"])
        send.wait_log(f"{msg} == a@dest.example")
        self.assertIn(f"{msg} H=127.0.0.1 [127.0.0.1] Connection refused\n"
                      f"{msg} == a@dest.example R=out T=t defer (111): Connection refused", untimed(send.log()))
        evs = self.wait_rows("msg:defer")
        self.assertEqual(names(evs), ["tcp:connect", "msg:host:defer", "msg:defer"])
        self.assertEqual([(e["data"], e["errno"]) for e in evs[1:]], [("Connection refused", "111")] * 2)

    def test_rcpt_4xx_raises_the_recipient_defers(self):
        recv = self.receiver()
        send = self.sender(f"127.0.0.1::{recv.port}", "  hosts_avoid_tls = *\n  event_action = " + record() + "\n")
        msg = self.submit(send, ["later@dest.example", "ok@dest.example"])
        send.wait_log(f"{msg} => ok@dest.example", timeout=20)
        evs = self.wait_rows("tcp:close")
        self.assertEqual(names(evs), ["tcp:connect", "smtp:connect", "smtp:ehlo", "msg:rcpt:host:defer",
                                      "msg:rcpt:defer", "msg:delivery", "tcp:close"])
        text = re.compile(r"SMTP error from remote mail server after (pipelined )?RCPT TO:<later@dest.example>: 451 ")
        for e in evs[3:5]:
            self.assertRegex(e["data"], text)
            # Exim's more_errno: the reply's last two digits << 8, 'A' (no MX).
            self.assertEqual((e["errno"], e["lp"], e["r"]), (str(51 << 8 | ord("A")), "later", "out"))
        self.assertEqual(evs[5]["lp"], "ok")

    def tls_receiver(self):
        cert = os.path.join(self.scratch.path, "cert.pem")
        key = os.path.join(self.scratch.path, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=mx.test.example", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        os.chmod(key, 0o644)
        recv = self.receiver(f"tls_advertise_hosts = *\ntls_certificate = {cert}\ntls_privatekey = {key}\n")
        return recv, cert

    def tls_delivery(self, verify, answer, connections=1):
        recv, cert = self.tls_receiver()
        send = self.sender(f"127.0.0.1::{recv.port}",
                           f"  tls_verify_certificates = {cert}\n  tls_verify_cert_hostnames =\n" + verify +
                           "  event_action = " + record(answer) + "\n")
        msg = self.submit(send, ["a@dest.example"])
        send.wait_log(f"{msg} Completed", timeout=20)
        [line] = [line for line in send.log().splitlines() if f"{msg} => " in line]
        return line, self.wait_rows("tcp:close", connections)

    def test_tls_cert_depth_and_peercert(self):
        line, evs = self.tls_delivery("  tls_verify_hosts = *\n", "")
        [cert] = [e for e in evs if e["name"] == "tls:cert"]
        self.assertEqual((cert["data"], cert["pc"], cert["t"]), ("0", "<cert>", "t"))
        self.assertIn(" CV=yes ", line)
        self.assertEqual([e["pc"] for e in evs if e["name"] != "tls:cert"], [""] * (len(evs) - 1))

    def test_tls_cert_answer_leaves_it_unverified_when_trying(self):
        line, evs = self.tls_delivery("", "${if eq{$event_name}{tls:cert}{refused}}")
        self.assertIn("tls:cert", names(evs))
        self.assertIn(" X=TLS", line)
        self.assertIn(" CV=no ", line)

    def test_tls_cert_answer_fails_required_verification(self):
        line, evs = self.tls_delivery("  tls_verify_hosts = *\n", "${if eq{$event_name}{tls:cert}{refused}}", 2)
        # The handshake failed; tls_tempfail_tryclear delivered in clear over a new connection.
        self.assertNotIn(" X=", line)
        # Exim 4.96 raises msg:host:defer for the failed handshake before the retry in clear.
        self.assertEqual(names(evs)[:6], ["tcp:connect", "smtp:connect", "smtp:ehlo", "tls:cert", "tcp:close",
                                          "msg:host:defer"])
        self.assertEqual(names(evs)[6:], ["tcp:connect", "smtp:connect", "smtp:ehlo", "msg:delivery", "tcp:close"])
        host_defer = evs[5]
        self.assertEqual(host_defer["errno"], "-37")  # Exim's ERRNO_TLSFAILURE
        self.assertTrue(host_defer["data"].startswith("TLS session: "), host_defer["data"])

    def test_fail_internal_before_the_failure_line(self):
        # The main event_action: a row per event, and a numeric comparison that fails, so the
        # main log shows where the event was raised.
        main = ("event_action = " + record("${if = {$event_name}{1}{}{}}") + "\n")
        send = self.sender("127.0.0.1::1", main=main)
        msg = self.submit(send, ["x@fail.example", "y@nowhere.example"])
        send.wait_log(f"{msg} Completed", timeout=20)
        evs = [e for e in rows() if e["name"] == "msg:fail:internal" and e["id"] == msg]
        self.assertEqual([(e["data"], e["lp"], e["d"], e["r"], e["t"], e["id"]) for e in evs],
                         [("no such user here", "x", "fail.example", "bad", "", msg),
                          ("Unrouteable address", "y", "nowhere.example", "", "", msg)])
        log = send.log()
        failed = (f"{msg} failed to expand event_action msg:fail:internal in main: "
                  'integer expected but "msg:fail:internal" found\n')
        self.assertLess(log.index(failed), log.index(f"{msg} ** x@fail.example R=bad: no such user here"))
        self.assertLess(log.index(f"{msg} ** x@fail.example"), log.index(failed, log.index(failed) + 1))
        self.assertLess(log.index(failed, log.index(failed) + 1), log.index(f"{msg} ** y@nowhere.example"))


class DnsFailure(unittest.TestCase):
    """dns:fail from routing, through a real nsd and unbound in a network namespace
    (tests/lib/dns_servers.py). The main event_action compares $event_data as a number, so
    each event's data shows in the main log's expansion failure."""

    def test_failed_lookups_raise_dns_fail(self):
        zone = "nomx IN A 127.0.0.1\n"
        with ternlab.Scratch() as s, dns_servers.DnsLab(s, {"dest.test": zone}) as lab:
            conf = s.file("tern.conf", f"spool_directory = {s.path}/spool\n"
                                       f"log_file_path = {s.path}/%slog\n"
                                       "primary_hostname = mx.test.example\n"
                                       "exim_user = nobody\nexim_group = nogroup\n"
                                       "queue_only\nacl_smtp_rcpt = accept\n"
                                       "modules = events\n"
                                       "event_action = ${if eq{$event_name}{dns:fail}{${if = {$event_data}{0}{}{}}}}\n"
                                       "begin routers\nout:\n  driver = dnslookup\n  transport = t\n"
                                       "begin transports\nt:\n  driver = smtp\n  port = 1\n")
            smtp = ("EHLO c\r\nMAIL FROM:<s@client.example>\r\nRCPT TO:<a@nx.dest.test>\r\n"
                    "RCPT TO:<b@nomx.dest.test>\r\nDATA\r\nSubject: dns\r\n\r\nhi\r\n.\r\nQUIT\r\n")
            r = lab.run([TERN, "-C", conf, "-bs"], input=smtp, capture_output=True, text=True, timeout=60)
            msg = re.search(r"250 OK id=(\S+)", r.stdout).group(1)
            d = lab.run([TERN, "-C", conf, "-M", msg], capture_output=True, text=True, timeout=60)
            self.assertEqual(d.returncode, 0, d.stderr)
            with open(os.path.join(s.path, "mainlog")) as f:
                log = f.read()

        def failed(data):
            return (f"{msg} failed to expand event_action dns:fail in main: "
                    f'integer expected but "{data}" found\n')
        # The domain does not exist; the other has no MX (then its address is used).
        self.assertIn(failed("DNS_NOMATCH:nx.dest.test:MX"), log)
        self.assertIn(failed("DNS_NODATA:nomx.dest.test:MX"), log)
        self.assertLess(log.index(failed("DNS_NOMATCH:nx.dest.test:MX")), log.index(f"{msg} ** a@nx.dest.test"))


if __name__ == "__main__":
    ternlab.unittest_main(__name__)
