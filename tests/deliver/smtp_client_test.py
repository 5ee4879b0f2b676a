#!/usr/bin/env python3
"""tests/deliver/smtp_client_test.py: the SMTP client against real receivers on loopback.

The client is driven through build/bin/smtp_send (core/deliver/tools), one
message (or several over one connection) to one host; the receivers are
Python's aiosmtpd (tests/deliver/aiosmtpd_receiver.py, under the system
Python with Debian's python3-aiosmtpd), Postfix's smtp-sink (from
scripts/bench-tools.sh) and a tern daemon with STARTTLS, CHUNKING and DSN.
What the receivers got is checked byte for byte; what the client reports
is checked against Exim 4.96's texts.

Run: python3 tests/deliver/smtp_client_test.py --smtp-send build/bin/smtp_send --tern build/bin/tern
"""
import glob
import json
import os
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import ternlab  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
SMTP_SEND = None
TERN = None
SYSTEM_PYTHON = "/usr/bin/python3"

MESSAGE = ("From: sender@client.test\n"
           "To: a@dest.test\n"
           "Subject: smtp client test\n"
           "\n"
           "first line\n"
           ".a line starting with a dot\n"
           "..two dots\n"
           ".\n"
           "last line\n")
# What a receiver that undoes dot-stuffing must hold: the same with CRLF.
MESSAGE_CRLF = MESSAGE.replace("\n", "\r\n")


class Sent:
    """smtp_send's report, parsed."""

    def __init__(self, proc):
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.open = None
        self.logs = []
        self.rcpts = []        # (message number, address, outcome, code, text)
        self.host_errors = []
        self.caps = []
        for line in proc.stdout.splitlines():
            kind, _, rest = line.partition(" ")
            if kind == "open":
                self.open = rest
            elif kind == "log":
                self.logs.append(rest)
            elif kind == "caps":
                self.caps = rest.split()
            elif kind == "rcpt":
                m, addr, outcome, code, text = (rest.split(" ", 4) + [""])[:5]
                self.rcpts.append((int(m), addr, outcome, int(code), text))
            elif kind == "host_error":
                self.host_errors.append(rest)

    def outcome(self, addr, message=1):
        for m, a, outcome, code, text in self.rcpts:
            if a == addr and m == message:
                return outcome, code, text
        raise KeyError(addr)


class ClientTest(unittest.TestCase):
    def setUp(self):
        self.scratch = ternlab.Scratch()
        self.servers = []
        self.message_file = self.scratch.file("message", MESSAGE)

    def tearDown(self):
        for s in self.servers:
            s.stop()
        self.scratch.close()

    # --- receivers -------------------------------------------------------

    def aiosmtpd(self, *args, host="127.0.0.1"):
        port = ternlab.free_port(host)
        out = os.path.join(self.scratch.path, f"aiosmtpd-{port}")
        os.makedirs(out)
        server = ternlab.Server([SYSTEM_PYTHON, os.path.join(HERE, "aiosmtpd_receiver.py"),
                                 "--host", host, "--port", str(port), "--out", out, *args],
                                log_path=out + ".log")
        self.servers.append(server)
        ternlab.wait_port(port, host=host, proc=server.proc)
        return port, out

    def received(self, out, count=1):
        ternlab.wait_for(lambda: len(glob.glob(os.path.join(out, "*.json"))) >= count, 10,
                         f"{count} message(s) at the receiver")
        files = sorted(glob.glob(os.path.join(out, "*.json")))
        return [json.load(open(f)) for f in files]

    def smtp_sink(self, *args):
        subprocess.run([os.path.join(REPO, "scripts", "bench-tools.sh"), "setup"], check=True,
                       stdout=subprocess.DEVNULL)
        root = subprocess.run([os.path.join(REPO, "scripts", "bench-tools.sh"), "path"],
                              check=True, capture_output=True, text=True).stdout.strip()
        port = ternlab.free_port()
        dump = os.path.join(self.scratch.path, f"sink-{port}")
        os.makedirs(dump)
        os.chmod(dump, 0o777)
        env = dict(os.environ, LD_LIBRARY_PATH=os.path.join(root, "usr/lib/postfix"))
        server = ternlab.Server([os.path.join(root, "usr/sbin/smtp-sink"), "-u", "nobody",
                                 "-d", dump + "/%M.", *args, f"127.0.0.1:{port}", "10"],
                                log_path=dump + ".log", env=env)
        self.servers.append(server)
        ternlab.wait_port(port, proc=server.proc)
        return port, dump

    def certificate(self, cn="mx.test.example"):
        cert = os.path.join(self.scratch.path, "cert.pem")
        key = os.path.join(self.scratch.path, "key.pem")
        if not os.path.exists(cert):
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                            "-subj", f"/CN={cn}", "-addext", f"subjectAltName=DNS:{cn}",
                            "-keyout", key, "-out", cert], check=True, capture_output=True)
            os.chmod(key, 0o644)  # the daemon reads it as exim_user
        return cert, key

    def tern_daemon(self, extra=""):
        cert, key = self.certificate()
        config = ("acl_smtp_rcpt = accept\n"
                  "tls_advertise_hosts = *\n"
                  f"tls_certificate = {cert}\n"
                  f"tls_privatekey = {key}\n"
                  "dsn_advertise_hosts = *\n"
                  "chunking_advertise_hosts = *\n" + extra)
        daemon = ternlab.Daemon(TERN, self.scratch, config, name=f"tern-{len(self.servers)}")
        self.servers.append(daemon)
        return daemon

    # --- the client ------------------------------------------------------

    def send(self, port, *args, to=("a@dest.test",), host="127.0.0.1", sender="sender@client.test",
             message=None, timeout=60):
        argv = [SMTP_SEND, "--host", host, "--port", str(port), "--from", sender,
                "--message", message or self.message_file, "--helo", "client.test"]
        for t in to:
            argv += ["--to", t]
        argv += list(args)
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return Sent(proc)


class Plain(ClientTest):
    def test_aiosmtpd_delivery_dot_stuffing_and_crlf(self):
        port, out = self.aiosmtpd()
        sent = self.send(port, to=["a@dest.test", "b@dest.test"])
        self.assertEqual(sent.open, "ok H=127.0.0.1 [127.0.0.1]", sent.stdout)
        self.assertEqual(sent.outcome("a@dest.test"), ("delivered", 250, "250 2.0.0 Ok: queued as M1"))
        self.assertEqual(sent.outcome("b@dest.test")[0], "delivered")
        [got] = self.received(out)
        self.assertEqual(got["mail_from"], "sender@client.test")
        self.assertEqual(got["rcpt_tos"], ["a@dest.test", "b@dest.test"])
        self.assertEqual(got["data"], MESSAGE_CRLF)
        self.assertEqual(got["helo"], "client.test")
        self.assertIn(f"SIZE={len(MESSAGE) + 1024}", got["mail_options"])

    def test_smtp_sink_pipelining_offered_and_used(self):
        port, dump = self.smtp_sink()
        sent = self.send(port, to=["a@dest.test", "b@dest.test"])
        self.assertIn("pipelining", sent.caps)
        self.assertEqual(sent.outcome("a@dest.test")[:2], ("delivered", 250))
        self.assertEqual(sent.outcome("b@dest.test")[:2], ("delivered", 250))

    def test_pipelining_on_and_off(self):
        port, out = self.aiosmtpd("--pipelining")
        sent = self.send(port, to=["a@dest.test", "b@dest.test"])
        self.assertIn("pipelining", sent.caps)
        self.assertEqual(sent.outcome("a@dest.test")[0], "delivered")
        self.assertTrue(self.received(out)[0]["rcpt_pipelined"], "RCPTs went with MAIL")
        sent = self.send(port, "--no-pipelining", to=["a@dest.test", "b@dest.test"])
        self.assertEqual(sent.outcome("a@dest.test")[0], "delivered")
        self.assertFalse(self.received(out, 2)[1]["rcpt_pipelined"], "RCPTs waited for MAIL's reply")
        # A server that does not offer it never gets pipelined commands.
        port2, out2 = self.aiosmtpd()
        sent = self.send(port2, to=["a@dest.test", "b@dest.test"])
        self.assertNotIn("pipelining", sent.caps)
        self.assertFalse(self.received(out2)[0]["rcpt_pipelined"])

    def test_max_rcpt_splits_transactions(self):
        port, out = self.aiosmtpd("--pipelining")
        rcpts = [f"r{i}@dest.test" for i in range(5)]
        sent = self.send(port, "--max-rcpt", "2", to=rcpts)
        for r in rcpts:
            self.assertEqual(sent.outcome(r)[0], "delivered", sent.stdout)
        got = self.received(out, 3)
        self.assertEqual([g["rcpt_tos"] for g in got], [rcpts[0:2], rcpts[2:4], rcpts[4:5]])
        self.assertEqual(sent.outcome("r0@dest.test")[2], "250 2.0.0 Ok: queued as M1")
        self.assertEqual(sent.outcome("r4@dest.test")[2], "250 2.0.0 Ok: queued as M3")

    def test_connection_reuse_for_several_messages(self):
        port, out = self.aiosmtpd("--pipelining")
        sent = self.send(port, "--messages", "3")
        self.assertEqual([r[2] for r in sent.rcpts], ["delivered"] * 3, sent.stdout)
        got = self.received(out, 3)
        self.assertEqual(len({g["client_port"] for g in got}), 1, "one connection for all three")
        self.assertEqual([g["rcpt_tos"] for g in got], [["a@dest.test"]] * 3)

    def test_interface_sets_source_address(self):
        port, out = self.aiosmtpd()
        sent = self.send(port, "--interface", "127.0.0.2", "--interface", "::1")
        self.assertEqual(sent.outcome("a@dest.test")[0], "delivered", sent.stdout)
        self.assertEqual(self.received(out)[0]["peer"], "127.0.0.2")

    def test_ipv6(self):
        port, out = self.aiosmtpd(host="::1")
        sent = self.send(port, host="::1")
        self.assertEqual(sent.open, "ok H=::1 [::1]", sent.stdout)
        self.assertEqual(sent.outcome("a@dest.test")[0], "delivered", sent.stdout)
        self.assertEqual(self.received(out)[0]["peer"], "::1")


class Refusals(ClientTest):
    def test_rcpt_5xx_fails_and_4xx_defers_that_recipient(self):
        port, out = self.aiosmtpd("--pipelining")
        sent = self.send(port, to=["ok@dest.test", "reject@dest.test", "later@dest.test"])
        self.assertEqual(sent.outcome("ok@dest.test")[0], "delivered")
        self.assertEqual(sent.outcome("reject@dest.test"), (
            "failed", 550, "SMTP error from remote mail server after pipelined "
            "RCPT TO:<reject@dest.test>: 550 5.1.1 <reject@dest.test>: no such user"))
        self.assertEqual(sent.outcome("later@dest.test"), (
            "deferred", 451, "SMTP error from remote mail server after pipelined "
            "RCPT TO:<later@dest.test>: 451 4.3.0 <later@dest.test>: try again later"))
        self.assertEqual(self.received(out)[0]["rcpt_tos"], ["ok@dest.test"])
        self.assertEqual(sent.host_errors, [])

    def test_all_rcpts_refused_sends_no_data(self):
        port, out = self.aiosmtpd()
        sent = self.send(port, to=["reject@dest.test"])
        self.assertEqual(sent.outcome("reject@dest.test")[0], "failed")
        time.sleep(0.3)
        self.assertEqual(glob.glob(os.path.join(out, "*.json")), [])

    def test_mail_4xx_defers_everything_as_a_host_problem(self):
        port, out = self.aiosmtpd()
        sent = self.send(port, sender="busy@client.test", to=["a@dest.test", "b@dest.test"])
        text = ("SMTP error from remote mail server after MAIL FROM:<busy@client.test> "
                f"SIZE={len(MESSAGE) + 1024}: 452 4.3.1 Insufficient system storage")
        self.assertEqual(sent.outcome("a@dest.test"), ("deferred", 452, text))
        self.assertEqual(sent.outcome("b@dest.test"), ("deferred", 452, text))
        self.assertEqual(sent.host_errors, [text])

    def test_connection_refused(self):
        port = ternlab.free_port()
        sent = self.send(port)
        self.assertEqual(sent.open, "defer Connection refused")

    def test_slow_receiver_command_timeout(self):
        port, out = self.aiosmtpd("--slow-rcpt", "3")
        start = time.monotonic()
        sent = self.send(port, "--command-timeout", "1")
        self.assertLess(time.monotonic() - start, 2.8)
        self.assertEqual(sent.outcome("a@dest.test"),
                         ("deferred", 0, "SMTP timeout after RCPT TO:<a@dest.test>"))
        self.assertEqual(sent.host_errors, ["SMTP timeout after RCPT TO:<a@dest.test>"])

    def test_connect_timeout(self):
        # A listening socket whose backlog is full never completes the handshake.
        with socket.socket() as lsock:
            lsock.bind(("127.0.0.1", 0))
            lsock.listen(0)
            port = lsock.getsockname()[1]
            fillers = []
            try:
                for _ in range(8):
                    s = socket.socket()
                    s.setblocking(False)
                    s.connect_ex(("127.0.0.1", port))
                    fillers.append(s)
                time.sleep(0.2)
                start = time.monotonic()
                sent = self.send(port, "--connect-timeout", "1")
                elapsed = time.monotonic() - start
            finally:
                for s in fillers:
                    s.close()
        self.assertEqual(sent.open, "defer Connection timed out")
        self.assertLess(elapsed, 5)

    def test_receiver_disappears_after_data(self):
        port, out = self.aiosmtpd("--drop-at-data")
        sent = self.send(port)
        outcome, code, text = sent.outcome("a@dest.test")
        self.assertEqual(outcome, "deferred", sent.stdout)
        self.assertEqual(text, "Remote host closed connection in response to end of data")

    def test_receiver_disappears_mid_data(self):
        # A raw receiver that takes a part of the data and then drops the connection.
        big = self.scratch.file("big", MESSAGE + ("x" * 998 + "\n") * 8000)
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        port = lsock.getsockname()[1]
        got = {"data": 0}

        def serve():
            conn, _ = lsock.accept()
            f = conn.makefile("rb")
            conn.sendall(b"220 raw ESMTP\r\n")
            for line in f:
                cmd = line.strip().upper()
                if cmd.startswith(b"EHLO"):
                    conn.sendall(b"250 raw\r\n")
                elif cmd.startswith(b"MAIL") or cmd.startswith(b"RCPT"):
                    conn.sendall(b"250 OK\r\n")
                elif cmd == b"DATA":
                    conn.sendall(b"354 go\r\n")
                    got["data"] = len(f.read(100000))
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    conn.close()
                    return
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        try:
            sent = self.send(port, message=big)
        finally:
            t.join(5)
            lsock.close()
        self.assertEqual(got["data"], 100000)
        outcome, code, text = sent.outcome("a@dest.test")
        self.assertEqual(outcome, "deferred", sent.stdout)
        self.assertTrue(text.startswith("send() to 127.0.0.1 [127.0.0.1] failed: ") or
                        text == "Remote host closed connection in response to end of data", text)
        self.assertEqual(sent.host_errors, [text])


class Tls(ClientTest):
    def test_starttls_without_verification(self):
        daemon = self.tern_daemon()
        sent = self.send(daemon.port, "--verify", "try")
        self.assertRegex(sent.open, r"^ok H=127\.0\.0\.1 \[127\.0\.0\.1\] X=TLS1\.3:\S+:\d+ CV=no$")
        self.assertEqual(sent.outcome("a@dest.test")[0], "delivered", sent.stdout)
        daemon.wait_log("<= sender@client.test")
        self.assertRegex(daemon.log(), r"<= sender@client.test H=\(client.test\) \[127.0.0.1\] P=esmtps X=TLS1.3:\S+ CV=no")

    def test_verified_with_the_servers_certificate(self):
        daemon = self.tern_daemon()
        cert, _ = self.certificate()
        sent = self.send(daemon.port, "--verify", "require", "--ca", cert,
                         "--verify-name", "mx.test.example", "--require-tls")
        self.assertRegex(sent.open, r" X=TLS1\.3:\S+ CV=yes$")
        self.assertEqual(sent.outcome("a@dest.test")[0], "delivered", sent.stdout)

    def test_client_certificate(self):
        cert, key = self.certificate()
        port, out = self.aiosmtpd("--tls", cert, key, "--client-ca", cert)
        sent = self.send(port, "--cert", cert, "--key", key, "--verify", "try")
        self.assertEqual(sent.outcome("a@dest.test")[0], "delivered", sent.stdout)
        got = self.received(out)[0]
        self.assertTrue(got["tls"])
        self.assertEqual(got["peer_cn"], "mx.test.example")
        # Without one, that server drops the connection (with TLS 1.3 the
        # client learns it only at its first read after the handshake).
        sent = self.send(port, "--verify", "try", "--require-tls")
        self.assertIn(sent.open, ("defer Remote host closed connection in response to EHLO client.test",
                                  "defer TLS session: (SSL_connect): TCP connection closed by peer"),
                      sent.stdout)
        time.sleep(0.2)
        self.assertEqual(len(glob.glob(os.path.join(out, "*.json"))), 1)

    def test_failed_verification_required_tls_defers(self):
        daemon = self.tern_daemon()
        sent = self.send(daemon.port, "--verify", "require", "--require-tls")
        self.assertTrue(sent.open.startswith("defer TLS session: (SSL_connect): error:"), sent.stdout)
        self.assertIn("certificate verify failed", sent.open)
        time.sleep(0.3)
        self.assertEqual(daemon.messages(), [])

    def test_wrong_hostname_fails_verification(self):
        daemon = self.tern_daemon()
        cert, _ = self.certificate()
        sent = self.send(daemon.port, "--verify", "require", "--ca", cert,
                         "--verify-name", "other.example", "--require-tls")
        self.assertTrue(sent.open.startswith("defer TLS session: "), sent.stdout)

    def test_failed_verification_not_required_goes_on_in_clear(self):
        # Exim's tls_tempfail_tryclear: a host not in hosts_require_tls.
        daemon = self.tern_daemon()
        sent = self.send(daemon.port, "--verify", "require")
        self.assertEqual(sent.open, "ok H=127.0.0.1 [127.0.0.1]", sent.stdout)
        self.assertTrue(any(l.startswith("TLS session: (SSL_connect): error:") and
                            l.endswith(": delivering unencrypted to 127.0.0.1 [127.0.0.1] "
                                       "(not in hosts_require_tls)") for l in sent.logs), sent.logs)
        self.assertEqual(sent.outcome("a@dest.test")[0], "delivered")
        daemon.wait_log("<= sender@client.test")
        self.assertIn(" P=esmtp ", daemon.log())

    def test_require_tls_against_a_server_without_starttls(self):
        port, out = self.aiosmtpd()
        sent = self.send(port, "--require-tls")
        self.assertEqual(sent.open,
                         "defer a TLS session is required, but the server did not offer TLS support")

    def test_avoid_tls(self):
        daemon = self.tern_daemon()
        sent = self.send(daemon.port, "--avoid-tls")
        self.assertEqual(sent.open, "ok H=127.0.0.1 [127.0.0.1]")
        self.assertIn("starttls", sent.caps)
        self.assertEqual(sent.outcome("a@dest.test")[0], "delivered")

    def test_aiosmtpd_starttls(self):
        cert, key = self.certificate()
        port, out = self.aiosmtpd("--tls", cert, key)
        sent = self.send(port, "--verify", "try")
        self.assertRegex(sent.open, r" X=TLS1\.3:\S+ CV=no$")
        self.assertTrue(self.received(out)[0]["tls"])


class TernReceiver(ClientTest):
    def test_chunking_with_bdat(self):
        daemon = self.tern_daemon()
        sent = self.send(daemon.port, "--avoid-tls")
        self.assertIn("chunking", sent.caps)
        outcome, code, text = sent.outcome("a@dest.test")
        self.assertEqual((outcome, code), ("delivered", 250), sent.stdout)
        self.assertRegex(text, r"^250- \d+ byte chunk, total \d+\\n250 OK id=\S+$")
        daemon.wait_log("<= sender@client.test")
        [msg_id] = daemon.messages()
        self.assertEqual(daemon.read(msg_id, "D"), f"{msg_id}-D\n" + MESSAGE.split("\n\n", 1)[1])
        self.assertRegex(daemon.log(), r"P=esmtp K ")

    def test_data_when_chunking_not_tried(self):
        daemon = self.tern_daemon()
        sent = self.send(daemon.port, "--avoid-tls", "--no-chunking")
        self.assertEqual(sent.outcome("a@dest.test")[0], "delivered")
        daemon.wait_log("<= sender@client.test")
        self.assertNotRegex(daemon.log(), r"P=esmtp K ")
        [msg_id] = daemon.messages()
        self.assertEqual(daemon.read(msg_id, "D"), f"{msg_id}-D\n" + MESSAGE.split("\n\n", 1)[1])

    def test_dsn_parameters_passed(self):
        # smtp-sink offers DSN and writes each command's arguments into its dump.
        port, dump = self.smtp_sink()
        sent = self.send(port, "--ret", "HDRS", "--envid", "env+2Bid",
                         to=["a@dest.test;SUCCESS,DELAY;rfc822;orig@dest.test", "b@dest.test"])
        self.assertIn("dsn", sent.caps)
        self.assertEqual(sent.outcome("a@dest.test")[0], "delivered", sent.stdout)
        ternlab.wait_for(lambda: glob.glob(os.path.join(dump, "*")), 10, "the dump")
        time.sleep(0.2)
        [path] = glob.glob(os.path.join(dump, "*"))
        with open(path) as f:
            text = f.read()
        self.assertIn("X-Mail-Args: <sender@client.test> RET=HDRS ENVID=env+2Bid\n", text)
        self.assertIn("X-Rcpt-Args: <a@dest.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;orig@dest.test\n"
                      "X-Rcpt-Args: <b@dest.test>\n", text)
        # (smtp-sink adds a newline of its own at the end of the dump.)
        self.assertTrue(text.endswith("\n\n" + MESSAGE.split("\n\n", 1)[1] + "\n"), text)

    def test_dsn_not_sent_to_a_server_without_it(self):
        port, out = self.aiosmtpd()
        sent = self.send(port, "--ret", "HDRS", "--envid", "x", to=["a@dest.test;SUCCESS;rfc822;a@dest.test"])
        self.assertEqual(sent.outcome("a@dest.test")[0], "delivered", sent.stdout)
        got = self.received(out)[0]
        self.assertEqual(got["mail_options"], [f"SIZE={len(MESSAGE) + 1024}"])
        self.assertEqual(got["rcpt_options"], [])


if __name__ == "__main__":
    ternlab.unittest_main(__name__, extra_paths=("smtp-send",))
