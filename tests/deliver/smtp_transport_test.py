#!/usr/bin/env python3
"""tests/deliver/smtp_transport_test.py: the smtp transport end to end through tern's delivery.

A tern daemon (immediate delivery) relays what it accepts with manualroute
and the smtp transport to aiosmtpd receivers (tests/deliver/aiosmtpd_receiver.py)
on loopback; the test checks what the receiver got and the daemon's log
lines (=>, ->, **, ==, Completed) as Exim 4.96 writes them. Needs the
delivery process (core/deliver/delivery.cpp) with the smtp driver registered.

Run: python3 tests/deliver/smtp_transport_test.py --tern build/bin/tern
"""
import glob
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import ternlab  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
TERN = None
SYSTEM_PYTHON = "/usr/bin/python3"


class TransportTest(unittest.TestCase):
    def setUp(self):
        self.scratch = ternlab.Scratch()
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop()
        self.scratch.close()

    def receiver(self, *args):
        port = ternlab.free_port()
        out = os.path.join(self.scratch.path, f"recv-{port}")
        os.makedirs(out)
        server = ternlab.Server([SYSTEM_PYTHON, os.path.join(HERE, "aiosmtpd_receiver.py"),
                                 "--port", str(port), "--out", out, *args], log_path=out + ".log")
        self.servers.append(server)
        ternlab.wait_port(port, proc=server.proc)
        return port, out

    def received(self, out, count=1):
        ternlab.wait_for(lambda: len(glob.glob(os.path.join(out, "*.json"))) >= count, 15,
                         f"{count} message(s) at the receiver")
        return [json.load(open(f)) for f in sorted(glob.glob(os.path.join(out, "*.json")))]

    def relay(self, hosts, transport_options=""):
        config = ("acl_smtp_rcpt = accept\n"
                  "begin routers\n"
                  "out:\n  driver = manualroute\n"
                  f"  route_list = * {hosts}\n"
                  "  transport = remote_smtp\n"
                  "begin transports\n"
                  "remote_smtp:\n  driver = smtp\n  hosts_avoid_tls = *\n" + transport_options +
                  "begin retry\n*   *   F,1h,1m\n")
        daemon = ternlab.Daemon(TERN, self.scratch, config, name=f"relay-{len(self.servers)}",
                                deliver=True)
        self.servers.append(daemon)
        return daemon

    def submit(self, daemon, rcpts, sender="sender@client.test", body="Subject: relay test\r\n\r\nhello\r\n"):
        c = ternlab.SmtpClient(daemon.port)
        try:
            self.assertEqual(c.reply()[0], 220)
            self.assertEqual(c.cmd("EHLO client.test")[0], 250)
            self.assertEqual(c.cmd(f"MAIL FROM:<{sender}>")[0], 250)
            for r in rcpts:
                self.assertEqual(c.cmd(f"RCPT TO:<{r}>")[0], 250)
            self.assertEqual(c.cmd("DATA")[0], 354)
            code, lines = c.cmd(body + ".")
            self.assertEqual(code, 250)
            c.cmd("QUIT")
        finally:
            c.close()
        return lines[0].split("id=")[1]

    def test_relayed_with_exim_log_lines(self):
        port, out = self.receiver("--pipelining")
        daemon = self.relay(f"127.0.0.1::{port}")
        msg = self.submit(daemon, ["a@dest.test", "b@dest.test"])
        [got] = self.received(out)
        self.assertEqual(got["mail_from"], "sender@client.test")
        self.assertEqual(got["rcpt_tos"], ["a@dest.test", "b@dest.test"])
        self.assertIn("\r\n\r\nhello\r\n", got["data"])
        daemon.wait_log(f"{msg} Completed")
        log = daemon.log()
        self.assertRegex(log, re.escape(msg) + r" => a@dest.test R=out T=remote_smtp "
                         r"H=127.0.0.1 \[127.0.0.1\] C=\"250 2.0.0 Ok: queued as M1\"")
        self.assertRegex(log, re.escape(msg) + r" -> b@dest.test R=out T=remote_smtp "
                         r"H=127.0.0.1 \[127.0.0.1\] C=\"250 2.0.0 Ok: queued as M1\"")

    def test_next_host_after_a_refused_connection(self):
        dead = ternlab.free_port()
        port, out = self.receiver()
        daemon = self.relay(f"127.0.0.1::{dead}:127.0.0.1::{port}")
        msg = self.submit(daemon, ["a@dest.test"])
        self.assertEqual(self.received(out)[0]["rcpt_tos"], ["a@dest.test"])
        daemon.wait_log(f"{msg} Completed")
        self.assertIn(f"{msg} => a@dest.test R=out T=remote_smtp H=127.0.0.1 [127.0.0.1]", daemon.log())

    def test_rcpt_refusal_fails_that_address_only(self):
        port, out = self.receiver("--pipelining")
        daemon = self.relay(f"127.0.0.1::{port}")
        msg = self.submit(daemon, ["ok@dest.test", "reject@dest.test"])
        self.assertEqual(self.received(out)[0]["rcpt_tos"], ["ok@dest.test"])
        daemon.wait_log(f"{msg} ** reject@dest.test")
        self.assertIn(f"{msg} ** reject@dest.test R=out T=remote_smtp H=127.0.0.1 [127.0.0.1]: "
                      "SMTP error from remote mail server after pipelined RCPT TO:<reject@dest.test>: "
                      "550 5.1.1 <reject@dest.test>: no such user", daemon.log())

    def test_unreachable_host_defers(self):
        dead = ternlab.free_port()
        daemon = self.relay(f"127.0.0.1::{dead}")
        msg = self.submit(daemon, ["a@dest.test"])
        daemon.wait_log(f"{msg} == a@dest.test")
        self.assertIn(f"{msg} == a@dest.test R=out T=remote_smtp defer (111): Connection refused\n",
                      daemon.log())
        self.assertEqual(daemon.messages(), [msg])

    def test_max_rcpt(self):
        port, out = self.receiver("--pipelining")
        daemon = self.relay(f"127.0.0.1::{port}", "  max_rcpt = 1\n")
        msg = self.submit(daemon, ["a@dest.test", "b@dest.test"])
        got = self.received(out, 2)
        self.assertEqual(sorted(g["rcpt_tos"][0] for g in got), ["a@dest.test", "b@dest.test"])
        daemon.wait_log(f"{msg} Completed")


if __name__ == "__main__":
    ternlab.unittest_main(__name__)
