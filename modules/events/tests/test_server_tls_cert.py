#!/usr/bin/env python3
"""modules/events/tests/test_server_tls_cert.py: tls:cert on the receiving side.

A tern daemon asks SMTP clients for a certificate (tls_verify_hosts or
tls_try_verify_hosts, tls_verify_certificates naming the client's own,
self-signed) and its main event_action answers tls:cert. Python's smtplib
connects with STARTTLS and that certificate. As Exim: the event sees the
depth as $event_data and the certificate as $tls_in_peercert; an empty
answer leaves the certificate verified (CV=yes on the <= line); a non-empty
one is logged ("SSL verify denied by event-action") and refuses it: under
tls_try_verify_hosts the session goes on unverified (CV=no), under
tls_verify_hosts the TLS session fails. tern raises the events once the
handshake is done, on its ACL threads, not from inside OpenSSL's callback,
so a refusal under tls_verify_hosts closes the connection just after the
handshake instead of failing it.

Run: python3 modules/events/tests/test_server_tls_cert.py --tern build/bin/tern
"""
import os
import smtplib
import ssl
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests", "lib"))
import ternlab  # noqa: E402

TERN = None


class ServerTlsCert(unittest.TestCase):
    def setUp(self):
        self.scratch = ternlab.Scratch()
        self.daemons = []
        self.pems = {}
        for who, cn in (("server", "mx.test.example"), ("client", "client.test.example")):
            cert, key = (os.path.join(self.scratch.path, f"{who}-{x}.pem") for x in ("cert", "key"))
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                            "-subj", f"/CN={cn}", "-keyout", key, "-out", cert], check=True, capture_output=True)
            os.chmod(key, 0o644)
            self.pems[who] = (cert, key)

    def tearDown(self):
        for d in self.daemons:
            d.close()
        self.scratch.close()

    def daemon(self, verify_option, answer):
        cert, key = self.pems["server"]
        client_cert, _ = self.pems["client"]
        d = ternlab.Daemon(TERN, self.scratch,
                           "modules = events\n"
                           "acl_smtp_rcpt = accept\n"
                           f"tls_certificate = {cert}\ntls_privatekey = {key}\n"
                           f"tls_verify_certificates = {client_cert}\n{verify_option} = *\n"
                           "event_action = ${if eq{$event_name}{tls:cert}"
                           "{${acl{log_cert}{$event_data}}" + answer + "}}\n"
                           "begin acl\n"
                           "log_cert:\n  accept logwrite = tls:cert depth=$acl_arg1 cert=$tls_in_peercert\n",
                           name=f"tern{len(self.daemons)}")
        self.daemons.append(d)
        return d

    def send(self, daemon):
        """One message over STARTTLS with the client's certificate."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.load_cert_chain(*self.pems["client"])
        with smtplib.SMTP("127.0.0.1", daemon.port, timeout=20) as s:
            s.ehlo("client.test.example")
            s.starttls(context=ctx)
            s.ehlo("client.test.example")
            s.sendmail("a@client.test.example", ["b@dest.example"], "Subject: tls\r\n\r\nbody\r\n")

    def test_empty_answer_keeps_the_certificate_verified(self):
        d = self.daemon("tls_verify_hosts", "")
        self.send(d)
        d.wait_log(" <= a@client.test.example ")
        self.assertIn("tls:cert depth=0 cert=<cert>\n", d.log())
        [line] = [l for l in d.log().splitlines() if " <= " in l]
        self.assertIn(" CV=yes ", line)

    def test_answer_leaves_it_unverified_when_trying(self):
        d = self.daemon("tls_try_verify_hosts", "no")
        self.send(d)
        d.wait_log(" <= a@client.test.example ")
        self.assertIn("SSL verify denied by event-action: depth=0 cert=/CN=client.test.example: no\n", d.log())
        [line] = [l for l in d.log().splitlines() if " <= " in l]
        self.assertIn(" CV=no ", line)

    def test_answer_refuses_the_session_when_required(self):
        d = self.daemon("tls_verify_hosts", "no")
        with self.assertRaises((smtplib.SMTPServerDisconnected, ConnectionError, ssl.SSLError)):
            self.send(d)
        d.wait_log("SSL verify denied by event-action: depth=0 cert=/CN=client.test.example: no\n")
        d.wait_log("TLS error on connection from")
        self.assertNotIn(" <= ", d.log())
        self.assertEqual(d.messages(), [])


if __name__ == "__main__":
    ternlab.unittest_main(__name__)
