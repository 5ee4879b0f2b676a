#!/usr/bin/env python3
"""tests/smtp/test_daemon.py: the SMTP daemon end to end, as clients see it.

Each test starts `tern -bdf` on a free loopback port with its own spool and
logs, talks to it with a raw socket client (exact bytes), Python's smtplib
or swaks, and checks the replies, the spool and the logs. Reply texts are
Exim 4.96's.

Run: python3 tests/smtp/test_daemon.py --tern build/bin/tern [-k pattern]
"""
import contextlib
import os
import pathlib
import pwd
import random
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import ternlab  # noqa: E402

TERN = None
ACCEPT_ALL = "acl_smtp_rcpt = accept\n"


class DaemonTest(unittest.TestCase):
    config = ACCEPT_ALL

    def setUp(self):
        self.scratch = ternlab.Scratch()
        self.daemon = ternlab.Daemon(TERN, self.scratch, self.config)
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        self.daemon.close()
        self.scratch.close()

    def client(self, **kw):
        c = ternlab.SmtpClient(self.daemon.port, **kw)
        self.clients.append(c)
        return c

    def greeted(self, ehlo="client.example", **kw):
        c = self.client(**kw)
        code, _ = c.reply()
        self.assertEqual(code, 220)
        code, lines = c.cmd(f"EHLO {ehlo}")
        self.assertEqual(code, 250)
        return c


class Basics(DaemonTest):
    def test_banner_and_ehlo(self):
        c = self.client()
        code, lines = c.reply()
        self.assertEqual(code, 220)
        self.assertTrue(lines[0].startswith("mx.test.example ESMTP Exim 4.96 "), lines)
        code, lines = c.cmd("EHLO client.example")
        self.assertEqual(code, 250)
        self.assertEqual(lines[0], "mx.test.example Hello client.example [127.0.0.1]")
        # STARTTLS too: without tls_certificate, Exim (and tern) use a self-signed one.
        self.assertEqual(lines[1:], ["SIZE 52428800", "8BITMIME", "PIPELINING", "CHUNKING", "STARTTLS", "SMTPUTF8",
                                     "HELP"])
        self.assertEqual(c.cmd("QUIT"), (221, ["mx.test.example closing connection"]))
        self.assertTrue(c.closed())

    def test_message_is_spooled_and_logged(self):
        with smtplib.SMTP("127.0.0.1", self.daemon.port) as s:
            s.ehlo("client.example")
            s.sendmail("alice@a.example", ["bob@b.example", "carol@c.example"],
                       "Subject: hello\r\nMessage-ID: <m1@a.example>\r\n\r\nbody line\r\n.dot\r\n")
        ids = self.daemon.messages()
        self.assertEqual(len(ids), 1)
        header = self.daemon.read(ids[0], "H")
        self.assertIn("<alice@a.example>\n", header)
        self.assertIn("\nbob@b.example\ncarol@c.example\n", header)
        self.assertIn("P Received: from [127.0.0.1] (helo=client.example)\n\tby mx.test.example with esmtp", header)
        self.assertIn("--host_address [127.0.0.1]:", header)
        body = self.daemon.read(ids[0], "D")
        self.assertEqual(body, f"{ids[0]}-D\nbody line\n.dot\n")
        self.daemon.wait_log(f"{ids[0]} <= alice@a.example H=(client.example) [127.0.0.1] P=esmtp S=")
        self.assertIn(" id=m1@a.example", self.daemon.log())

    def test_swaks_pipelining(self):
        r = subprocess.run(["swaks", "--server", f"127.0.0.1:{self.daemon.port}", "--from", "a@a.example",
                            "--to", "b@b.example", "--pipeline", "--helo", "swaks.example"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("<** ", r.stdout.replace("<**", "<** ") if "<**" in r.stdout else "<** ")
        self.assertRegex(r.stdout, r"250 OK id=\S+")
        self.assertEqual(len(self.daemon.messages()), 1)

    def test_pipelined_batch_gets_replies_in_order(self):
        c = self.greeted()
        c.send("MAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nRCPT TO:<c@c.example>\r\nDATA\r\n")
        self.assertEqual(c.reply(), (250, ["OK"]))
        self.assertEqual(c.reply(), (250, ["Accepted"]))
        self.assertEqual(c.reply(), (250, ["Accepted"]))
        self.assertEqual(c.reply()[0], 354)
        c.send("Subject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n")
        code, lines = c.reply()
        self.assertEqual(code, 250)
        self.assertRegex(lines[0], r"^OK id=[0-9A-Za-z]{6}-[0-9A-Za-z]{11}-[0-9A-Za-z]{4}$")
        self.assertEqual(c.reply()[0], 221)

    def test_rset_noop_help_vrfy_expn(self):
        c = self.greeted()
        self.assertEqual(c.cmd("NOOP"), (250, ["OK"]))
        self.assertEqual(c.cmd("MAIL FROM:<a@a.example>"), (250, ["OK"]))
        self.assertEqual(c.cmd("RSET"), (250, ["Reset OK"]))
        self.assertEqual(c.cmd("RCPT TO:<b@b.example>")[0], 503)
        code, lines = c.cmd("HELP")
        self.assertEqual(code, 214)
        self.assertEqual(c.cmd("VRFY b@b.example"), (252, ["Administrative prohibition"]))
        self.assertEqual(c.cmd("EXPN list@b.example"), (550, ["Administrative prohibition"]))
        self.assertEqual(c.cmd("ETRN b.example"), (458, ["Administrative prohibition"]))

    def test_sequence_errors(self):
        c = self.client()
        c.reply()
        self.assertEqual(c.cmd("MAIL FROM:<a@a.example>"), (250, ["OK"]))  # HELO is optional, as in Exim
        self.assertEqual(c.cmd("MAIL FROM:<a@a.example>"), (503, ["sender already given"]))
        self.assertEqual(c.cmd("DATA"), (503, ["valid RCPT command must precede DATA"]))

    def test_bad_arguments(self):
        c = self.greeted()
        self.assertEqual(c.cmd("MAIL FROM:<a@a.example> BODY=9BIT"), (501, ["invalid data for BODY"]))
        self.assertEqual(c.cmd("MAIL FROM:<a>"), (501, ["<a>: sender address must contain a domain"]))
        self.assertEqual(c.cmd("EHLO bad_name!"), (501, ["Syntactically invalid EHLO argument(s)"]))

    def test_unknown_commands_limit(self):
        c = self.greeted()
        for _ in range(3):
            self.assertEqual(c.cmd("XYZZY"), (500, ["unrecognized command"]))
        self.assertEqual(c.cmd("XYZZY"), (500, ["Too many unrecognized commands"]))
        self.assertTrue(c.closed())
        self.daemon.wait_log("dropped: too many unrecognized commands (last was \"XYZZY\")", "reject")

    def test_bdat(self):
        c = self.greeted()
        c.cmd("MAIL FROM:<a@a.example>")
        c.cmd("RCPT TO:<b@b.example>")
        part1 = b"Subject: chunks\r\n\r\nfirst "
        c.send(b"BDAT %d\r\n" % len(part1) + part1)
        self.assertEqual(c.reply(), (250, [f"{len(part1)} byte chunk received"]))
        part2 = b"second\r\n"
        c.send(b"BDAT %d LAST\r\n" % len(part2) + part2)
        code, lines = c.reply()
        self.assertEqual(code, 250)
        total = len(part1) + len(part2)
        self.assertEqual(lines[0], f" {len(part2)} byte chunk, total {total}")
        self.assertTrue(lines[1].startswith("OK id="))
        msg_id = lines[1][6:]
        self.assertEqual(self.daemon.read(msg_id, "D"), f"{msg_id}-D\nfirst second\n")

    def test_binary_garbage_then_next_connection(self):
        c = self.client()
        c.reply()
        rnd = random.Random(4)
        try:
            c.send(bytes(rnd.randrange(256) for _ in range(70000)))
            c.closed(timeout=5)
        except OSError:
            pass
        c2 = self.greeted()
        self.assertEqual(c2.cmd("NOOP"), (250, ["OK"]))


class NoRcptAcl(DaemonTest):
    config = ""

    def test_rcpt_refused_without_acl(self):
        c = self.greeted()
        c.cmd("MAIL FROM:<a@a.example>")
        self.assertEqual(c.cmd("RCPT TO:<b@b.example>"), (550, ["Administrative prohibition"]))
        # PIPELINING was offered and the last command was RCPT: Exim's capital V.
        self.assertEqual(c.cmd("DATA"), (503, ["All RCPT commands were rejected with this error:",
                                              "Administrative prohibition",
                                              "Valid RCPT command must precede DATA"]))
        self.daemon.wait_log("H=(client.example) [127.0.0.1] F=<a@a.example> rejected RCPT <b@b.example>",
                             "reject")


class Acls(DaemonTest):
    config = """domainlist local_domains = test.example
acl_smtp_mail = acl_check_mail
acl_smtp_rcpt = acl_check_rcpt
acl_smtp_data = acl_check_data
begin acl
acl_check_mail:
  deny    senders = *@spam.example
          message = go away
  accept
acl_check_rcpt:
  accept  domains = +local_domains
          local_parts = postmaster : alice
          add_header = X-Checked: by tern
  deny    message = relay not permitted
acl_check_data:
  deny    condition = ${if match{$h_subject:}{viagra}}
          message = 550 5.7.1 no thanks
  accept
"""

    def test_acls_decide_and_log(self):
        c = self.greeted()
        self.assertEqual(c.cmd("MAIL FROM:<a@spam.example>"), (550, ["go away"]))
        self.assertEqual(c.cmd("MAIL FROM:<a@a.example>"), (250, ["OK"]))
        self.assertEqual(c.cmd("RCPT TO:<bob@test.example>"), (550, ["relay not permitted"]))
        self.assertEqual(c.cmd("RCPT TO:<alice@test.example>"), (250, ["Accepted"]))
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send("Subject: cheap viagra\r\n\r\nbuy\r\n.\r\n")
        self.assertEqual(c.reply(), (550, ["5.7.1 no thanks"]))
        c.cmd("MAIL FROM:<a@a.example>")
        c.cmd("RCPT TO:<alice@test.example>")
        c.cmd("DATA")
        c.send("Subject: hello\r\n\r\nhi\r\n.\r\n")
        code, lines = c.reply()
        self.assertEqual(code, 250)
        header = self.daemon.read(lines[0][6:], "H")
        self.assertIn(" X-Checked: by tern\n", header)
        reject = self.daemon.log("reject")
        self.assertIn("H=(client.example) [127.0.0.1] rejected MAIL <a@spam.example>: go away", reject)
        self.assertIn("H=(client.example) [127.0.0.1] F=<a@a.example> rejected RCPT <bob@test.example>: "
                      "relay not permitted", reject)
        self.assertRegex(reject, r"\S+ H=\(client.example\) \[127.0.0.1\] F=<a@a.example> rejected after DATA: 550 5.7.1 no thanks")


class Synchronisation(DaemonTest):
    def test_talking_before_the_banner(self):
        s = socket.create_connection(("127.0.0.1", self.daemon.port))
        s.sendall(b"EHLO early.example\r\n")
        time.sleep(0.3)
        # The daemon answers 554 and closes.
        data = b""
        s.settimeout(5)
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        s.close()
        self.assertIn(b"554 SMTP synchronization error\r\n", data)
        self.daemon.wait_log("SMTP protocol synchronization error (input sent without waiting for greeting)",
                             "reject")

    def test_pipelining_not_advertised_after_helo(self):
        c = self.client()
        c.reply()
        self.assertEqual(c.cmd("HELO client.example")[0], 250)
        c.send("MAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\n")
        self.assertEqual(c.reply(), (554, ["SMTP synchronization error"]))
        self.assertTrue(c.closed())

    def test_data_must_wait(self):
        c = self.greeted()
        c.send("MAIL FROM:<a@a.example>\r\nRCPT TO:<b@b.example>\r\nDATA\r\nSubject: early\r\n")
        self.assertEqual(c.reply(), (250, ["OK"]))
        self.assertEqual(c.reply(), (250, ["Accepted"]))
        self.assertEqual(c.reply(), (554, ["SMTP synchronization error"]))
        self.assertTrue(c.closed())
        self.assertEqual(self.daemon.messages(), [])


class Smuggling(DaemonTest):
    def test_bare_lf_dot_does_not_end_the_message(self):
        c = self.greeted()
        c.cmd("MAIL FROM:<a@a.example>")
        c.cmd("RCPT TO:<b@b.example>")
        self.assertEqual(c.cmd("DATA")[0], 354)
        # "\n.\n" and "\r\n.\n" must not end a CRLF message: what follows
        # stays data, the smuggled MAIL is never a command.
        c.send("Subject: s\r\n\r\nline\n.\nMAIL FROM:<evil@x.example>\r\nRCPT TO:<victim@y.example>\r\n"
               "DATA\r\nmore\r\n.\nstill data\r\n.\r\n")
        code, lines = c.reply()
        self.assertEqual(code, 250)
        self.assertEqual(c.cmd("QUIT")[0], 221)
        ids = self.daemon.messages()
        self.assertEqual(len(ids), 1)
        body = self.daemon.read(ids[0], "D")
        self.assertIn("MAIL FROM:<evil@x.example>", body)
        self.assertIn("still data", body)
        self.assertNotIn("evil@x.example", self.daemon.read(ids[0], "H").split("\n\n")[0].split("\n")[2])


class Limits(DaemonTest):
    config = ACCEPT_ALL + ("message_size_limit = 2K\nrecipients_max = 2\nsmtp_accept_max = 3\n"
                           "smtp_accept_max_per_host = 2\nsmtp_receive_timeout = 2s\n")

    def test_size_parameter_and_content_over_the_limit(self):
        c = self.greeted()
        self.assertEqual(c.cmd("MAIL FROM:<a@a.example> SIZE=4096"), (552, ["Message size exceeds maximum permitted"]))
        self.assertEqual(c.cmd("MAIL FROM:<a@a.example>"), (250, ["OK"]))
        c.cmd("RCPT TO:<b@b.example>")
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send("Subject: big\r\n\r\n" + ("x" * 70 + "\r\n") * 60 + ".\r\n")
        self.assertEqual(c.reply(), (552, ["Message size exceeds maximum permitted"]))
        self.assertEqual(self.daemon.messages(), [])
        self.assertEqual(c.cmd("NOOP"), (250, ["OK"]))

    def test_recipients_max(self):
        c = self.greeted()
        c.cmd("MAIL FROM:<a@a.example>")
        self.assertEqual(c.cmd("RCPT TO:<b1@b.example>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<b2@b.example>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<b3@b.example>"), (452, ["too many recipients"]))

    def test_connection_limits(self):
        # The readiness probe's connection must have been counted out first.
        self.daemon.wait_log("unexpected disconnection while reading SMTP command from [127.0.0.1]")
        time.sleep(0.2)
        a = self.client()
        self.assertEqual(a.reply()[0], 220)
        b = self.client()
        self.assertEqual(b.reply()[0], 220)
        # Per host: a third from 127.0.0.1 is refused, 127.0.0.2 is another host.
        c = self.client()
        self.assertEqual(c.reply(), (421, ["Too many concurrent SMTP connections from this IP address; "
                                           "please try again later."]))
        d = self.client(source="127.0.0.2")
        self.assertEqual(d.reply()[0], 220)
        # smtp_accept_max = 3 in all.
        e = self.client(source="127.0.0.3")
        self.assertEqual(e.reply(), (421, ["Too many concurrent SMTP connections; please try again later."]))
        self.daemon.wait_log("Connection from [127.0.0.3] refused: too many connections")
        # A connection that ends frees its place.
        a.cmd("QUIT")
        a.closed()
        time.sleep(0.3)
        f = self.client(source="127.0.0.3")
        self.assertEqual(f.reply()[0], 220)

    def test_receive_timeout(self):
        c = self.greeted()
        t0 = time.monotonic()
        code, lines = c.reply()
        self.assertEqual(code, 421)
        self.assertEqual(lines, ["mx.test.example SMTP incoming data timeout - closing connection."])
        self.assertLess(time.monotonic() - t0, 10)
        self.daemon.wait_log("SMTP command timeout on connection from (client.example) [127.0.0.1]")


class Processes(DaemonTest):
    def worker_pids(self):
        out = subprocess.run(["pgrep", "-P", str(self.daemon.server.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def test_sigterm_lets_sessions_finish(self):
        c = self.greeted()
        c.cmd("MAIL FROM:<a@a.example>")
        c.cmd("RCPT TO:<b@b.example>")
        os.kill(self.daemon.server.proc.pid, signal.SIGTERM)
        time.sleep(0.5)
        # No new connections...
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", self.daemon.port), timeout=2).recv(1)
        # ...but the open session completes its message.
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send("Subject: last\r\n\r\nbye\r\n.\r\n")
        self.assertEqual(c.reply()[0], 250)
        self.assertEqual(c.cmd("QUIT")[0], 221)
        self.daemon.server.proc.wait(10)
        self.assertEqual(self.daemon.server.proc.returncode, 0)
        self.assertEqual(len(self.daemon.messages()), 1)

    def test_dead_worker_is_replaced(self):
        pids = self.worker_pids()
        self.assertGreaterEqual(len(pids), 1)
        os.kill(pids[0], signal.SIGKILL)
        self.daemon.wait_log(f"SMTP worker process {pids[0]} killed by signal 9; starting a new one", "panic")
        ternlab.wait_for(lambda: len(self.worker_pids()) == len(pids), 10, "a new worker")
        for _ in range(4):
            c = self.greeted()
            self.assertEqual(c.cmd("NOOP"), (250, ["OK"]))

    def test_workers_run_as_exim_user(self):
        def uid(pid):
            with open(f"/proc/{pid}/status") as f:
                return int(next(l for l in f if l.startswith("Uid:")).split()[1])
        # Workers start as root, load their modules, then switch.
        ternlab.wait_for(lambda: all(uid(p) == 65534 for p in self.worker_pids()), 10, "workers as nobody")
        self.assertEqual(uid(self.daemon.server.proc.pid), 0)


class Reserve(DaemonTest):
    config = ACCEPT_ALL + "smtp_accept_max = 2\nsmtp_accept_reserve = 1\nsmtp_reserve_hosts = 127.0.0.3\n"

    def test_reserved_place_for_reserve_hosts(self):
        self.daemon.wait_log("unexpected disconnection while reading SMTP command from [127.0.0.1]")
        time.sleep(0.2)
        a = self.client()
        self.assertEqual(a.reply()[0], 220)
        # One place left, kept for smtp_reserve_hosts.
        b = self.client(source="127.0.0.2")
        self.assertEqual(b.reply(), (421, ["mx.test.example Too many concurrent SMTP connections; "
                                           "please try again later"]))
        self.daemon.wait_log("Connection from [127.0.0.2] temporarily refused: not in reserve list")
        c = self.client(source="127.0.0.3")
        self.assertEqual(c.reply()[0], 220)


class WorkersThatCannotStart(unittest.TestCase):
    def test_daemon_gives_up_and_says_why(self):
        with ternlab.Scratch() as scratch:
            d = ternlab.Daemon(TERN, scratch, ACCEPT_ALL)
            try:
                # The configuration goes away under the running daemon: new
                # workers cannot load it.
                os.unlink(d.config)
                for pid in subprocess.run(["pgrep", "-P", str(d.server.proc.pid)], capture_output=True,
                                          text=True).stdout.split():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(pid), signal.SIGKILL)
                d.server.proc.wait(30)
                self.assertEqual(d.server.proc.returncode, 1)
                self.assertIn("SMTP workers cannot start (5 died within a second of starting): daemon exiting",
                              d.log("panic"))
            finally:
                d.close()


class DefaultConfiguration(unittest.TestCase):
    """conf/tern.conf, what `make run` starts: local mail accepted and delivered to a
    Maildir, relaying refused."""

    def test_make_run_configuration(self):
        conf = os.path.join(os.path.dirname(__file__), "..", "..", "conf", "tern.conf")
        with ternlab.Scratch() as scratch:
            os.makedirs(os.path.join(scratch.path, "var", "mail"))
            os.chmod(scratch.path, 0o755)
            if os.geteuid() == 0:  # as scripts/run.sh: the transport writes as nobody
                os.chown(os.path.join(scratch.path, "var", "mail"), pwd.getpwnam("nobody").pw_uid, -1)
            port = ternlab.free_port()
            server = ternlab.Server([TERN, "-bdf", "-C", os.path.abspath(conf), "-D",
                                     f"VAR={scratch.path}/var", "-oX", f"127.0.0.1.{port}"],
                                    log_path=os.path.join(scratch.path, "stderr"))
            try:
                ternlab.wait_port(port, proc=server.proc)
                c = ternlab.SmtpClient(port)
                self.assertTrue(c.reply()[1][0].startswith("localhost ESMTP"))
                c.cmd("EHLO client.example")
                c.cmd("MAIL FROM:<a@a.example>")
                self.assertEqual(c.cmd("RCPT TO:<someone@elsewhere.example>"), (550, ["relay not permitted"]))
                self.assertEqual(c.cmd("RCPT TO:<postmaster@localhost>"), (250, ["Accepted"]))
                self.assertEqual(c.cmd("DATA")[0], 354)
                c.send("Subject: hello\r\n\r\nhi\r\n.\r\n")
                self.assertEqual(c.reply()[0], 250)
                c.close()
                mainlog = os.path.join(scratch.path, "var", "log", "mainlog")
                ternlab.wait_for(lambda: " Completed" in pathlib.Path(mainlog).read_text(), 20, "the delivery")
                log = pathlib.Path(mainlog).read_text()
                self.assertIn("<= a@a.example H=(client.example) [127.0.0.1] P=esmtp", log)
                self.assertIn("=> postmaster <postmaster@localhost> R=local_mailbox T=local_maildir", log)
                new = os.path.join(scratch.path, "var", "mail", "postmaster", "new")
                [name] = os.listdir(new)
                with open(os.path.join(new, name)) as f:
                    text = f.read()
                self.assertIn("Envelope-to: postmaster@localhost\n", text)
                self.assertIn("Subject: hello\n", text)
            finally:
                server.stop()


class Ipv6(unittest.TestCase):
    def test_ipv6_listener(self):
        with ternlab.Scratch() as scratch:
            port = ternlab.free_port()
            d = ternlab.Daemon(TERN, scratch, ACCEPT_ALL, port=port, listen=f"<; ::1.{port}")
            try:
                c = ternlab.SmtpClient(port, host="::1")
                self.assertEqual(c.reply()[0], 220)
                code, lines = c.cmd("EHLO v6.example")
                self.assertEqual(lines[0], "mx.test.example Hello v6.example [::1]")
                c.close()
            finally:
                d.close()


class Detach(unittest.TestCase):
    def test_bd_detaches_and_writes_pid_file(self):
        with ternlab.Scratch() as scratch:
            port = ternlab.free_port()
            conf = scratch.file("tern.conf", f"spool_directory = {scratch.path}/spool\n"
                                             f"log_file_path = {scratch.path}/%slog\n"
                                             f"pid_file_path = {scratch.path}/tern.pid\n"
                                             f"daemon_smtp_ports = {port}\nlocal_interfaces = 127.0.0.1\n"
                                             "exim_user = nobody\nexim_group = nogroup\n")
            r = subprocess.run([TERN, "-bd", "-C", conf], timeout=20)
            self.assertEqual(r.returncode, 0)
            pid_file = os.path.join(scratch.path, "tern.pid")
            ternlab.wait_for(lambda: os.path.exists(pid_file), 10, "the pid file")
            pid = int(open(pid_file).read())
            ternlab.wait_port(port)
            c = ternlab.SmtpClient(port)
            self.assertEqual(c.reply()[0], 220)
            c.close()
            os.kill(pid, signal.SIGTERM)
            ternlab.wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 15, "the daemon to exit")
            self.assertFalse(os.path.exists(pid_file))

    def test_bad_configuration_stops_the_daemon(self):
        with ternlab.Scratch() as scratch:
            conf = scratch.file("tern.conf", "no_such_option = 1\n")
            r = subprocess.run([TERN, "-bdf", "-C", conf, "-oX", "127.0.0.1.1"], capture_output=True, text=True,
                               timeout=20)
            self.assertEqual(r.returncode, 1)
            self.assertIn(f"{conf}:1: main option \"no_such_option\" unknown", r.stderr)


def maildir_delivery(mail, user):
    """ACCEPT_ALL and every recipient delivered to mail/<local part> as `user`."""
    return (ACCEPT_ALL + "begin routers\nlocal:\n  driver = accept\n  transport = maildir\n"
            "begin transports\nmaildir:\n  driver = appendfile\n  maildir_format\n"
            f"  directory = {mail}/$local_part\n  create_directory\n  user = {user}\n")


class ImmediateDelivery(unittest.TestCase):
    """A daemon started as root runs its workers as exim_user (nobody), yet the
    delivery it starts after the 250 must become the local user of the
    transport (here `daemon`): the master starts it, as Exim's re-exec of its
    setuid binary does, not the worker."""

    def test_the_delivery_becomes_the_transports_user(self):
        if os.getuid() != 0:
            self.skipTest("needs root, as a daemon that changes users does")
        import pwd
        daemon_uid = pwd.getpwnam("daemon").pw_uid
        with ternlab.Scratch() as scratch:
            mail = os.path.join(scratch.path, "mail")
            os.makedirs(mail)
            os.chmod(mail, 0o1777)
            conf = maildir_delivery(mail, "daemon")
            d = ternlab.Daemon(TERN, scratch, conf, deliver=True)
            try:
                c = ternlab.SmtpClient(d.port)
                self.assertEqual(c.reply()[0], 220)
                c.cmd("EHLO client.example")
                c.cmd("MAIL FROM:<a@a.example>")
                self.assertEqual(c.cmd("RCPT TO:<alice@b.example>")[0], 250)
                c.cmd("DATA")
                c.send("Subject: as daemon\r\n\r\nhello\r\n.\r\n")
                code, lines = c.reply()
                self.assertEqual(code, 250)
                msg = lines[0].split("id=")[1]
                c.close()
                d.wait_log(f"{msg} Completed", timeout=30)
                self.assertIn(f"{msg} => alice <alice@b.example> R=local T=maildir", d.log())
                files = os.listdir(os.path.join(mail, "alice", "new"))
                self.assertEqual(len(files), 1)
                self.assertEqual(os.stat(os.path.join(mail, "alice", "new", files[0])).st_uid, daemon_uid)
            finally:
                d.close()


    def test_many_messages_at_once_are_each_delivered_once(self):
        # More messages than the master runs delivery processes at a time: the ones that
        # wait go in batches (`tern -Mc id id ...`), and every one is delivered, once.
        with ternlab.Scratch() as scratch:
            mail = os.path.join(scratch.path, "mail")
            os.makedirs(mail)
            os.chmod(mail, 0o1777)
            conf = maildir_delivery(mail, "nobody")
            d = ternlab.Daemon(TERN, scratch, conf, deliver=True)
            try:
                ids = []

                def session(n):
                    c = ternlab.SmtpClient(d.port)
                    try:
                        c.reply()
                        c.cmd("EHLO client.example")
                        for i in range(10):
                            c.cmd("MAIL FROM:<a@a.example>")
                            c.cmd(f"RCPT TO:<box{n}@b.example>")
                            c.cmd("DATA")
                            code, lines = c.cmd(f"Subject: {n}/{i}\r\n\r\nhello\r\n.")
                            if code == 250:
                                ids.append(lines[0].split("id=")[1])
                    finally:
                        c.close()

                threads = [threading.Thread(target=session, args=(n,)) for n in range(6)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                self.assertEqual(len(ids), 60)
                ternlab.wait_for(lambda: d.log().count(" Completed") >= 60, 120, "60 deliveries")
                for msg in ids:
                    self.assertEqual(d.log().count(f"{msg} => "), 1, msg)
                delivered = sum(len(os.listdir(os.path.join(mail, f"box{n}", "new"))) for n in range(6))
                self.assertEqual(delivered, 60)
                self.assertEqual(d.messages(), [])
            finally:
                d.close()


class Crash(unittest.TestCase):
    """kill -9 of every tern process in the middle of busy traffic, over and
    over: each message a client got 250 for is on the spool exactly once
    after the restart, and nothing half-written is there."""

    def test_kill_9_keeps_every_acknowledged_message(self):
        with ternlab.Scratch() as scratch:
            port = ternlab.free_port()
            acknowledged = set()
            for round_no in range(5):
                d = ternlab.Daemon(TERN, scratch, ACCEPT_ALL + "smtp_accept_max = 100\n", port=port)
                import threading
                stop = threading.Event()
                lock = threading.Lock()

                acknowledged_this_round = threading.Event()

                def send_one(n):
                    c = ternlab.SmtpClient(port, timeout=10)
                    try:
                        c.reply()
                        c.cmd("EHLO crash.example")
                        c.cmd("MAIL FROM:<a@a.example>")
                        c.cmd(f"RCPT TO:<r{n}@b.example>")
                        if c.cmd("DATA")[0] != 354:
                            return
                        c.send(f"Subject: crash {round_no}\r\n\r\n" + "data line\r\n" * 200 + ".\r\n")
                        code, lines = c.reply()
                        if code == 250:
                            with lock:
                                acknowledged.add(lines[0][6:])
                            acknowledged_this_round.set()
                    finally:
                        c.close()

                def sender(n):
                    while not stop.is_set():
                        try:
                            send_one(n)
                        except OSError:
                            time.sleep(0.01)

                threads = [threading.Thread(target=sender, args=(i,)) for i in range(8)]
                for t in threads:
                    t.start()
                # Kill in the middle of traffic: once mail is flowing (a slow,
                # sanitized build on a loaded machine may take seconds to get
                # there), after a random further moment.
                acknowledged_this_round.wait(60)
                time.sleep(random.random())
                subprocess.run(["pkill", "-9", "-f", d.config])
                d.server.proc.wait(10)
                stop.set()
                for t in threads:
                    t.join()
                d.server.stop()
            # A last start runs the spool recovery; then compare.
            d = ternlab.Daemon(TERN, scratch, ACCEPT_ALL, port=port)
            try:
                on_spool = d.messages()
                self.assertGreater(len(acknowledged), 0)
                missing = acknowledged - set(on_spool)
                self.assertEqual(missing, set(), f"{len(missing)} acknowledged messages lost")
                self.assertEqual(len(on_spool), len(set(on_spool)))
                for root, _dirs, files in os.walk(os.path.join(d.spool, "input")):
                    for f in files:
                        self.assertFalse(f.startswith("hdr.") or f.startswith("dat."), f)
                        if f.endswith("-D"):
                            self.assertTrue(os.path.exists(os.path.join(root, f[:-2] + "-H")), f)
            finally:
                d.close()


def make_certificate(scratch, name="mx.test.example", key="rsa:2048"):
    """A throwaway self-signed certificate and key made with the openssl CLI."""
    cert = os.path.join(scratch.path, f"{name}.crt")
    keyfile = os.path.join(scratch.path, f"{name}.key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", key, "-nodes", "-days", "2", "-subj", f"/CN={name}",
                    "-keyout", keyfile, "-out", cert], check=True, capture_output=True)
    os.chmod(keyfile, 0o644)
    return cert, keyfile


class Tls(unittest.TestCase):
    def setUp(self):
        self.scratch = ternlab.Scratch()
        cert, key = make_certificate(self.scratch)
        self.tls_port = ternlab.free_port()
        self.port = ternlab.free_port()
        self.daemon = ternlab.Daemon(TERN, self.scratch, ACCEPT_ALL + f"tls_certificate = {cert}\n"
                                     f"tls_privatekey = {key}\ntls_on_connect_ports = {self.tls_port}\n",
                                     port=self.port, listen=f"127.0.0.1.{self.port} : 127.0.0.1.{self.tls_port}")

    def tearDown(self):
        self.daemon.close()
        self.scratch.close()

    def test_openssl_s_client_starttls(self):
        p = subprocess.Popen(["openssl", "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{self.port}",
                              "-servername", "mx.test.example", "-crlf", "-quiet"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def say(line):
            p.stdin.write(line + "\n")
            p.stdin.flush()
            while True:
                got = p.stdout.readline()
                self.assertTrue(got, "openssl s_client closed")
                if got[3:4] != "-":
                    return got.rstrip("\r\n")

        try:
            self.assertTrue(say("EHLO tls.example").startswith("250 "))
            self.assertEqual(say("MAIL FROM:<a@a.example>"), "250 OK")
            self.assertEqual(say("RCPT TO:<b@b.example>"), "250 Accepted")
            self.assertTrue(say("DATA").startswith("354"))
            self.assertRegex(say("Subject: over tls\n\nsecret\n."), r"^250 OK id=")
            self.assertTrue(say("QUIT").startswith("221"))
        finally:
            p.stdin.close()
            p.wait(10)
        self.assertIn("CN = mx.test.example", p.stderr.read())
        ids = self.daemon.messages()
        self.assertEqual(len(ids), 1)
        header = self.daemon.read(ids[0], "H")
        # Exim's default received_header_text gives the double space.
        self.assertIn("with esmtps  (TLS1.3) tls TLS_AES_256_GCM_SHA384\n\t(Exim 4.96)\n", header)
        self.assertIn("-tls_cipher TLS1.3:TLS_AES_256_GCM_SHA384:256\n", header)
        self.daemon.wait_log("P=esmtps X=TLS1.3:TLS_AES_256_GCM_SHA384:256 CV=no S=")

    def test_tls_on_connect(self):
        import ssl
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP_SSL("127.0.0.1", self.tls_port, context=ctx, timeout=20) as s:
            code, banner = s.ehlo("implicit.example")
            self.assertEqual(code, 250)
            self.assertNotIn(b"STARTTLS", banner)
            s.sendmail("a@a.example", ["b@b.example"], "Subject: 465\r\n\r\nhi\r\n")
        self.daemon.wait_log("P=esmtps X=TLS1.3")

    def test_plaintext_pipelined_behind_starttls_is_a_sync_error(self):
        # STARTTLS must be the last command of its batch (Exim's check_sync).
        c = ternlab.SmtpClient(self.port)
        c.reply()
        c.cmd("EHLO inject.example")
        c.send("STARTTLS\r\nMAIL FROM:<evil@x.example>\r\n")
        self.assertEqual(c.reply(), (554, ["SMTP synchronization error"]))
        self.assertTrue(c.closed())
        c.close()

    def test_failed_handshake_is_logged_and_daemon_stays_up(self):
        c = ternlab.SmtpClient(self.port)
        c.reply()
        c.cmd("EHLO bad.example")
        self.assertEqual(c.cmd("STARTTLS"), (220, ["TLS go ahead"]))
        c.send(b"this is not a TLS client hello\r\n" * 4)
        c.closed()
        self.daemon.wait_log("TLS error on connection from (bad.example) [127.0.0.1]")
        c2 = ternlab.SmtpClient(self.port)
        self.assertEqual(c2.reply()[0], 220)
        c2.close()


class TlsWithoutSync(Tls):
    """smtp_enforce_sync off: the plaintext is still never read as if it came over TLS."""

    def setUp(self):
        self.scratch = ternlab.Scratch()
        cert, key = make_certificate(self.scratch)
        self.daemon = ternlab.Daemon(TERN, self.scratch, ACCEPT_ALL + f"tls_certificate = {cert}\n"
                                     f"tls_privatekey = {key}\nsmtp_enforce_sync = false\n")
        self.port = self.daemon.port

    test_openssl_s_client_starttls = None
    test_tls_on_connect = None
    test_plaintext_pipelined_behind_starttls_is_a_sync_error = None
    test_failed_handshake_is_logged_and_daemon_stays_up = None

    def test_pipelined_plaintext_after_starttls_is_discarded(self):
        import ssl
        c = ternlab.SmtpClient(self.port)
        c.reply()
        c.cmd("EHLO inject.example")
        c.send("STARTTLS\r\nMAIL FROM:<evil@x.example>\r\n")
        self.assertEqual(c.reply(), (220, ["TLS go ahead"]))
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        tls = ctx.wrap_socket(c.sock, server_hostname="mx.test.example")
        tls.sendall(b"EHLO again.example\r\n")
        self.assertIn("250", tls.recv(4096).decode())
        tls.sendall(b"RCPT TO:<b@b.example>\r\n")
        data = tls.recv(4096).decode()
        # Had the plaintext MAIL counted, this RCPT would be accepted.
        self.assertEqual(data, "503 sender not yet given\r\n")
        tls.close()


class LocalModes(unittest.TestCase):
    def test_bs_spools_a_local_message(self):
        with ternlab.Scratch() as scratch:
            conf = scratch.file("tern.conf", f"spool_directory = {scratch.path}/spool\n"
                                             f"log_file_path = {scratch.path}/%slog\n"
                                             "primary_hostname = mx.test.example\n" + ACCEPT_ALL)
            r = subprocess.run([TERN, "-C", conf, "-bs"], input=b"EHLO me\r\nMAIL FROM:<a@a.example>\r\n"
                               b"RCPT TO:<b@b.example>\r\nDATA\r\nSubject: local\r\n\r\nhi\r\n.\r\nQUIT\r\n",
                               capture_output=True, timeout=20)
            out = r.stdout.decode()
            self.assertIn("250-mx.test.example Hello root at me\r\n", out)
            self.assertRegex(out, r"250 OK id=\S+\r\n221 mx.test.example closing connection\r\n")
            log = open(os.path.join(scratch.path, "mainlog")).read()
            self.assertRegex(log, r"<= a@a.example U=root P=local-esmtp S=\d+")

    def test_bh_shows_decisions_and_keeps_nothing(self):
        with ternlab.Scratch() as scratch:
            conf = scratch.file("tern.conf", f"spool_directory = {scratch.path}/spool\n"
                                             "primary_hostname = mx.test.example\n")
            r = subprocess.run([TERN, "-C", conf, "-bh", "10.0.0.1"],
                               input=b"EHLO x\r\nMAIL FROM:<a@b.c>\r\nRCPT TO:<d@e.f>\r\nQUIT\r\n",
                               capture_output=True, timeout=20)
            out = r.stdout.decode()
            self.assertIn("**** SMTP testing session as if from host 10.0.0.1\n", out)
            self.assertIn("550 Administrative prohibition\r\n", out)
            self.assertIn("LOG: H=(x) [10.0.0.1] F=<a@b.c> rejected RCPT <d@e.f>\n", r.stderr.decode())
            self.assertFalse(os.path.exists(os.path.join(scratch.path, "spool", "input")))


if __name__ == "__main__":
    ternlab.unittest_main(__name__)
