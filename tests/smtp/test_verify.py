#!/usr/bin/env python3
"""tests/smtp/test_verify.py: the ACLs' address and host verification, end to end.

`verify = recipient` and `verify = sender` route the address through the
configuration's routers in verify mode ($verify_mode R or S, as Exim), and the
replies, log lines and $address_data are Exim's: a redirect's `:fail:` text, a
`:defer:` text passed to the client, "Unrouteable address", the sender
verification's three-line 550 and its 451, and the drop after too many errors
with its C= list. -bv, -bvs and -bt show the same routing. The expected lines
are the reference Exim 4.96's own output for the same configuration and input
(scripts/exim-ref.sh; when it is available the test runs it too and checks it
still says the same).

`verify = helo` and `verify = reverse_host_lookup` look the client up in the
DNS (here /etc/hosts, which the resolver reads as the system's does): a daemon
on 127.0.0.1 finds "localhost", which then appears in $sender_host_name, the
log line's H= and the Received: header.

Run: python3 tests/smtp/test_verify.py --tern build/bin/tern [-k pattern]
"""
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import ternlab  # noqa: E402

TERN = None

ROUTING = r"""acl_smtp_rcpt = rcpt
acl_smtp_mail = mail
begin acl
mail:
  accept verify = sender
rcpt:
  accept verify = recipient
         message = data=$address_data
begin routers
fails:
  driver = redirect
  local_parts = fail
  allow_fail
  data = :fail: vm=[$verify_mode] says no
defers:
  driver = redirect
  local_parts = defer
  allow_defer
  data = :defer: vm=[$verify_mode] later
two:
  driver = redirect
  local_parts = two
  data = ok@b.c, ok2@b.c
one:
  driver = redirect
  local_parts = one
  data = fail@b.c
ok:
  driver = accept
  local_parts = ok : ok2
  condition = ${if eq{$sender_host_address}{10.9.9.9}{no}{yes}}
  address_data = ad-$verify_mode-$local_part
  transport = t
begin transports
t:
  driver = appendfile
  file = /dev/null
"""

# What Exim 4.96 prints for -bv / -bvs / -bt with ROUTING, and its exit status.
ADDRESS_TESTS = [
    (["-bv", "fail@b.c"], "fail@b.c failed to verify: vm=[R] says no\n", 2),
    (["-bv", "defer@b.c"], "defer@b.c cannot be resolved at this time: vm=[R] later\n", 1),
    (["-bv", "two@b.c"], "two@b.c verified\n", 0),
    (["-bv", "one@b.c"], "one@b.c failed to verify: vm=[R] says no\n", 2),
    (["-bv", "ok@b.c"], "ok@b.c verified\n", 0),
    (["-bv", "unknown@b.c"], "unknown@b.c failed to verify: Unrouteable address\n", 2),
    (["-bvs", "defer@b.c"], "defer@b.c cannot be resolved at this time: vm=[S] later\n", 1),
    (["-bvs", "fail@b.c"], "fail@b.c failed to verify: vm=[S] says no\n", 2),
    (["-bt", "fail@b.c"], "fail@b.c is undeliverable: vm=[R] says no\n", 2),
]

RECIPIENTS_IN = ("HELO x\r\nMAIL FROM:<ok@b.c>\r\nRCPT TO:<ok@b.c>\r\nRCPT TO:<fail@b.c>\r\n"
                 "RCPT TO:<defer@b.c>\r\nRCPT TO:<unknown@b.c>\r\nRCPT TO:<one@b.c>\r\nRCPT TO:<two@b.c>\r\n"
                 "QUIT\r\n")
RECIPIENTS_OUT = """\
LOG: H=(x) [1.2.3.4] F=<ok@b.c> rejected RCPT <fail@b.c>: vm=[R] says no
LOG: H=(x) [1.2.3.4] F=<ok@b.c> temporarily rejected RCPT <defer@b.c>: vm=[R] later
LOG: H=(x) [1.2.3.4] F=<ok@b.c> rejected RCPT <unknown@b.c>: Unrouteable address
LOG: H=(x) [1.2.3.4] F=<ok@b.c> rejected RCPT <one@b.c>: vm=[R] says no
250 test.example Hello x [1.2.3.4]
250 OK
250 data=ad-R-ok
550 vm=[R] says no
451 vm=[R] later
550 Unrouteable address
550 vm=[R] says no
250 data=
221 test.example closing connection
"""

# A sender that fails, then more RCPTs than smtp_max_synprot_errors allows.
SENDER_FAIL_IN = ("HELO x\r\nMAIL FROM:<fail@b.c>\r\n" + "RCPT TO:<ok@b.c>\r\n" * 4 + "QUIT\r\n")
SENDER_FAIL_OUT = """\
LOG: H=(x) [1.2.3.4] sender verify fail for <fail@b.c>: vm=[S] says no
LOG: H=(x) [1.2.3.4] rejected MAIL <fail@b.c>: Sender verify failed
LOG: SMTP call from (x) [1.2.3.4] dropped: too many syntax or protocol errors (last command was "RCPT TO:<ok@b.c>",  C=HELO,MAIL,RCPT,RCPT,RCPT,RCPT)
250 test.example Hello x [1.2.3.4]
550-Verification failed for <fail@b.c>
550-vm=[S] says no
550 Sender verify failed
503 sender not yet given
503 sender not yet given
503 sender not yet given
503-sender not yet given
503 Too many syntax or protocol errors
"""

SENDER_DEFER_IN = "HELO x\r\nMAIL FROM:<defer@b.c>\r\nMAIL FROM:<unknown@b.c>\r\nQUIT\r\n"
SENDER_DEFER_OUT = """\
LOG: H=(x) [1.2.3.4] sender verify defer for <defer@b.c>: vm=[S] later
LOG: H=(x) [1.2.3.4] temporarily rejected MAIL <defer@b.c>: Could not complete sender verify
LOG: H=(x) [1.2.3.4] sender verify fail for <unknown@b.c>: Unrouteable address
LOG: H=(x) [1.2.3.4] rejected MAIL <unknown@b.c>: Sender verify failed
250 test.example Hello x [1.2.3.4]
451 Temporary local problem - please try later
550-Verification failed for <unknown@b.c>
550-Unrouteable address
550 Sender verify failed
221 test.example closing connection
"""

# A router condition that reads a session variable ($sender_host_address).
SESSION_VARIABLE_IN = "HELO x\r\nMAIL FROM:<<>>\r\nRCPT TO:<ok@b.c>\r\nQUIT\r\n".replace("<<>>", "<>")
SESSION_VARIABLE_OUT = """\
LOG: H=(x) [10.9.9.9] F=<> rejected RCPT <ok@b.c>: Unrouteable address
250 test.example Hello x [10.9.9.9]
250 OK
550 Unrouteable address
221 test.example closing connection
"""


def exim_ref():
    """argv prefix for the reference Exim 4.96, or None when it is not available."""
    script = os.environ.get("TERN_EXIM_REF") or os.path.join(os.path.dirname(__file__), "..", "..", "scripts",
                                                               "exim-ref.sh")
    if os.geteuid() != 0 or not os.path.exists(script):
        return None
    if subprocess.run([script, "path"], capture_output=True).returncode != 0:
        return None
    return [script, "exim"]


def session_lines(output):
    """The -bh output without the banner, the debug trace and the date."""
    return "".join(line + "\n" for line in output.splitlines()
                   if line and not line.startswith((">>>", "****", "220 ")))


class Routing(unittest.TestCase):
    def setUp(self):
        self.scratch = ternlab.Scratch()
        self.conf = self.scratch.file("tern.conf", f"primary_hostname = test.example\n"
                                                   f"spool_directory = {self.scratch.path}/spool\n"
                                                   f"log_file_path = {self.scratch.path}/%slog\n" + ROUTING)

    def tearDown(self):
        self.scratch.close()

    def run_both(self, args, stdin=None):
        """tern's result, after checking the reference Exim's is the same when it can run."""
        tern = subprocess.run([TERN, "-C", self.conf] + args, input=stdin, capture_output=True, text=True,
                              timeout=60)
        ref = exim_ref()
        if ref:
            d = os.path.join(self.scratch.path, "exim")
            os.makedirs(os.path.join(d, "spool"), exist_ok=True)
            shutil.chown(os.path.join(d, "spool"), "Debian-exim", "Debian-exim")
            conf = os.path.join(d, "exim.conf")
            with open(conf, "w") as f:
                f.write(f"primary_hostname = test.example\nspool_directory = {d}/spool\n"
                        f"log_file_path = {d}/%slog\n" + ROUTING)
            exim = subprocess.run(ref + ["-C", conf] + args, input=stdin, capture_output=True, text=True,
                                  timeout=60)
            if args[0] == "-bh":
                self.assertEqual(session_lines(exim.stdout + exim.stderr),
                                 session_lines(tern.stdout + tern.stderr))
            else:
                self.assertEqual((exim.stdout, exim.returncode), (tern.stdout, tern.returncode))
        return tern

    def test_address_tests_show_the_verify_mode(self):
        for args, out, status in ADDRESS_TESTS:
            with self.subTest(args=args):
                r = self.run_both(args)
                self.assertEqual((r.stdout, r.returncode), (out, status), r.stderr)

    def bh(self, ip, stdin, expected):
        r = self.run_both(["-bh", ip], stdin)
        # Log lines go to stderr, replies to stdout: compare each in order.
        got = session_lines(r.stdout + r.stderr)
        log = [l for l in expected.splitlines() if l.startswith("LOG:")]
        replies = [l for l in expected.splitlines() if not l.startswith("LOG:")]
        self.assertEqual([l for l in got.splitlines() if l.startswith("LOG:")], log, r.stdout + r.stderr)
        self.assertEqual([l for l in got.splitlines() if not l.startswith("LOG:")], replies, r.stdout)

    def test_recipients(self):
        self.bh("1.2.3.4", RECIPIENTS_IN, RECIPIENTS_OUT)

    def test_sender_failure_then_the_drop(self):
        self.bh("1.2.3.4", SENDER_FAIL_IN, SENDER_FAIL_OUT)

    def test_sender_deferral(self):
        self.bh("1.2.3.4", SENDER_DEFER_IN, SENDER_DEFER_OUT)

    def test_routers_see_the_session(self):
        self.bh("10.9.9.9", SESSION_VARIABLE_IN, SESSION_VARIABLE_OUT)


HOSTS = r"""acl_smtp_helo = helo
acl_smtp_rcpt = rcpt
begin acl
helo:
  warn  verify = helo
        logwrite = helo verified: $sender_helo_name
  accept
rcpt:
  require verify = reverse_host_lookup
  accept  verify = recipient
          message = name=$sender_host_name full=$sender_fullhost
begin routers
ok:
  driver = accept
  transport = t
begin transports
t:
  driver = appendfile
  file = /dev/null
"""


class Daemon(unittest.TestCase):
    def setUp(self):
        self.scratch = ternlab.Scratch()
        self.daemons, self.clients = [], []

    def tearDown(self):
        for c in self.clients:
            c.close()
        for d in self.daemons:
            d.close()
        self.scratch.close()

    def client(self, config):
        d = ternlab.Daemon(TERN, self.scratch, config, name=f"tern{len(self.daemons)}")
        self.daemons.append(d)
        c = ternlab.SmtpClient(d.port)
        self.clients.append(c)
        self.assertEqual(c.reply()[0], 220)
        return d, c

    def test_replies_over_tcp_and_the_drop_is_sent_before_closing(self):
        d, c = self.client(ROUTING)
        # HELO: without PIPELINING offered, every RCPT after a refused MAIL counts as an error
        # (after EHLO Exim takes them for pipelined commands: last_was_rej_mail).
        self.assertEqual(c.cmd("HELO x")[0], 250)
        self.assertEqual(c.cmd("MAIL FROM:<ok@b.c>"), (250, ["OK"]))
        self.assertEqual(c.cmd("RCPT TO:<ok@b.c>"), (250, ["data=ad-R-ok"]))
        self.assertEqual(c.cmd("RCPT TO:<nobody@b.c>"), (550, ["Unrouteable address"]))
        self.assertEqual(c.cmd("RCPT TO:<defer@b.c>"), (451, ["vm=[R] later"]))
        self.assertEqual(c.cmd("RSET")[0], 250)
        self.assertEqual(c.cmd("MAIL FROM:<fail@b.c>"),
                         (550, ["Verification failed for <fail@b.c>", "vm=[S] says no", "Sender verify failed"]))
        for _ in range(3):
            self.assertEqual(c.cmd("RCPT TO:<ok@b.c>"), (503, ["sender not yet given"]))
        self.assertEqual(c.cmd("RCPT TO:<ok@b.c>"), (503, ["sender not yet given", "Too many syntax or protocol errors"]))
        self.assertTrue(c.closed())
        d.wait_log('dropped: too many syntax or protocol errors (last command was "RCPT TO:<ok@b.c>",  '
                   'C=HELO,MAIL,RCPT,RCPT,RCPT,RSET,MAIL,RCPT,RCPT,RCPT,RCPT)', which="reject")

    def test_host_name_from_the_reverse_lookup(self):
        d, c = self.client(HOSTS)
        self.assertEqual(c.cmd("EHLO [127.0.0.1]")[0], 250)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.c>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<r@b.c>"), (250, ["name=localhost full=localhost [127.0.0.1]"]))
        self.assertEqual(c.cmd("DATA")[0], 354)
        code, _ = c.cmd("Subject: s\r\n\r\nbody\r\n.")
        self.assertEqual(code, 250)
        d.wait_log("<= a@b.c H=localhost [127.0.0.1] ")
        self.assertIn("helo verified: [127.0.0.1]", d.log())
        (msg,) = d.messages()
        self.assertIn("Received: from localhost ([127.0.0.1])", d.read(msg))

    def test_helo_name_verified_by_its_address(self):
        d, c = self.client(HOSTS)
        self.assertEqual(c.cmd("HELO localhost")[0], 250)
        d.wait_log("helo verified: localhost")
        self.assertEqual(c.cmd("QUIT")[0], 221)
        d2, c2 = self.client(HOSTS)
        self.assertEqual(c2.cmd("HELO nowhere.invalid")[0], 250)
        self.assertEqual(c2.cmd("QUIT")[0], 221)
        self.assertNotIn("helo verified", d2.log())


if __name__ == "__main__":
    ternlab.unittest_main(__name__)
