#!/usr/bin/env python3
"""sdk/tests/hooks_test.py: the after-DATA and router-precondition hook points, end to end.

The example module sdk/examples/hello (built in this tree) loaded into a real
daemon on loopback:
- its after-DATA hook tags recipients (from an X-Hello-Tag: header), notes
  each one's position and the body's size (read through data_fd); the tags
  are kept in the -H file, and its router precondition sends each recipient
  to the router whose hello_tag matches: with immediate delivery, and with a
  queue run after the daemon has stopped (the data came back from the spool);
- a subject it refuses gets acl_smtp_data's 550, one it defers 451, one that
  overruns the hook's deadline 451, with Exim's reject log lines; nothing of
  a refused message stays on the spool and the session goes on.

    hooks_test.py --tern build/bin/tern --module build/sdk/examples/hello/hello.so
"""
import glob
import os
import re
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "lib"))
import ternlab  # noqa: E402

TERN = MODULE = None

CONF = """\
modules = {module}
qualify_domain = test.example
acl_smtp_rcpt = accept

begin routers

team:
  driver = redirect
  local_parts = team
  data = dave@test.example

red:
  driver = accept
  hello_tag = red
  transport = red_box
  headers_add = X-Hello-Seen: red ${{hello_rcpt_data{{hello_rcpt}}}} ${{hello_rcpt_data{{hello_body_bytes}}}}

blue:
  driver = accept
  hello_tag = blue
  transport = blue_box
  headers_add = X-Hello-Seen: blue ${{hello_rcpt_data{{hello_rcpt}}}} ${{hello_rcpt_data{{hello_body_bytes}}}}

plain:
  driver = accept
  transport = plain_box
  headers_add = X-Hello-Seen: plain ${{hello_rcpt_data{{hello_rcpt}}}}

begin transports

red_box:
  driver = appendfile
  directory = {mail}/red/$local_part
  maildir_format
  user = nobody

blue_box:
  driver = appendfile
  directory = {mail}/blue/$local_part
  maildir_format
  user = nobody

plain_box:
  driver = appendfile
  directory = {mail}/plain/$local_part
  maildir_format
  user = nobody
"""

BODY = "line one\nline two, a little longer\n"


def read(path):
    with open(path) as f:
        return f.read()


def message(subject, tags="", rcpts=()):
    head = f"From: a@client.example\nSubject: {subject}\n"
    if tags:
        head += f"X-Hello-Tag: {tags}\n"
    return head + "\n" + BODY


class HookCase(unittest.TestCase):
    def start(self, deliver):
        self.scratch = ternlab.Scratch()
        self.addCleanup(self.scratch.close)
        self.mail = os.path.join(self.scratch.path, "mail")
        os.makedirs(self.mail)
        os.chmod(self.mail, 0o1777)
        module = os.path.join(self.scratch.path, "hello.so")
        shutil.copy(MODULE, module)
        os.chmod(module, 0o755)
        self.daemon = ternlab.Daemon(TERN, self.scratch, CONF.format(module=module, mail=self.mail),
                                     deliver=deliver)
        self.addCleanup(self.daemon.close)
        return self.daemon

    def client(self):
        c = ternlab.SmtpClient(self.daemon.port, timeout=20)
        self.addCleanup(c.close)
        self.assertEqual(c.reply()[0], 220)
        self.assertEqual(c.cmd("EHLO client.example")[0], 250)
        return c

    def send(self, c, rcpts, text):
        self.assertEqual(c.cmd("MAIL FROM:<a@client.example>")[0], 250)
        for r in rcpts:
            self.assertEqual(c.cmd(f"RCPT TO:<{r}>")[0], 250, r)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send(text.replace("\n", "\r\n") + ".\r\n")
        return c.reply()

    def delivered(self, router, user):
        files = glob.glob(os.path.join(self.mail, router, user, "new", "*"))
        return [read(f) for f in files]

    def where(self, user):
        return sorted(r for r in ("red", "blue", "plain") if self.delivered(r, user))

    def spool_files(self):
        found = []
        for root, _dirs, files in os.walk(os.path.join(self.daemon.spool, "input")):
            found += files
        return found


class Routing(HookCase):
    RCPTS = ["alice@test.example", "bob@test.example", "carol@test.example", "team@test.example"]
    TAGS = "alice@test.example=red carol@test.example=blue team@test.example=red"

    def check_delivered(self):
        self.assertEqual(self.where("alice"), ["red"])
        self.assertEqual(self.where("bob"), ["plain"])
        self.assertEqual(self.where("carol"), ["blue"])
        self.assertEqual(self.where("dave"), ["red"])  # a redirect's child reads team's data
        body_bytes = len(BODY)
        seen = {u: re.findall(r"^X-Hello-Seen: (.*)$", self.delivered(self.where(u)[0], u)[0], re.M)
                for u in ("alice", "bob", "carol", "dave")}
        self.assertEqual(seen, {"alice": [f"red 1/4 {body_bytes}"], "bob": ["plain 2/4"],
                                "carol": [f"blue 3/4 {body_bytes}"], "dave": [f"red 4/4 {body_bytes}"]})

    def test_immediate_delivery_routes_by_the_hooks_tags(self):
        d = self.start(deliver=True)
        c = self.client()
        code, lines = self.send(c, self.RCPTS, message("hi", self.TAGS))
        self.assertEqual(code, 250, lines)
        msg = lines[0].split("id=")[1]
        d.wait_log(f"{msg} Completed", timeout=30)
        self.check_delivered()

    def test_the_tags_survive_a_restart_on_the_spool(self):
        d = self.start(deliver=False)
        c = self.client()
        code, lines = self.send(c, self.RCPTS, message("hi", self.TAGS))
        self.assertEqual(code, 250, lines)
        msg = lines[0].split("id=")[1]
        c.cmd("QUIT")
        header = d.read(msg, "H")
        self.assertIn("\n-tern_rcpt_0 hello_body_bytes=%d hello_rcpt=1/4 hello_tag=red\n" % len(BODY), header)
        self.assertIn("\n-tern_rcpt_1 hello_body_bytes=%d hello_rcpt=2/4\n" % len(BODY), header)
        self.assertEqual(d.stop(), 0)
        p = ternlab.run_tern(TERN, ["-C", d.config, "-q"])
        self.assertEqual(p.returncode, 0, p.stderr)
        ternlab.wait_for(lambda: f"{msg} Completed" in d.log(), 30, "the queue run")
        self.check_delivered()
        self.assertEqual(d.messages(), [])

    def test_address_testing_runs_the_precondition_without_data(self):
        d = self.start(deliver=False)
        p = ternlab.run_tern(TERN, ["-C", d.config, "-bt", "alice@test.example"])
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("router = plain, transport = plain_box", p.stdout)


class Refusals(HookCase):
    def refused(self, subject, want_code, want_text, want_log):
        d = self.start(deliver=False)
        c = self.client()
        code, lines = self.send(c, ["alice@test.example"], message(subject))
        self.assertEqual((code, lines), (want_code, [want_text]))
        d.wait_log(f"H=(client.example) [127.0.0.1] F=<a@client.example> {want_log}", "reject")
        self.assertEqual(self.spool_files(), [])  # neither -D nor -H, nor a temporary file
        # The session goes on: the next message is accepted.
        code, lines = self.send(c, ["alice@test.example"], message("fine"))
        self.assertEqual(code, 250, lines)
        self.assertEqual(len(d.messages()), 1)
        return d

    def test_a_refused_subject_is_550_as_a_data_acl_deny(self):
        self.refused("hello-reject please", 550, "hello: this subject is not welcome",
                     'rejected after DATA: module hello: subject "hello-reject please" refused')

    def test_a_deferred_subject_is_451_with_its_text(self):
        self.refused("hello-defer", 451, "hello: not now, try again later",
                     "temporarily rejected after DATA: hello: not now, try again later")

    def test_an_overrun_is_451_and_stalls_nobody(self):
        d = self.start(deliver=False)
        slow = self.client()
        self.assertEqual(slow.cmd("MAIL FROM:<a@client.example>")[0], 250)
        self.assertEqual(slow.cmd("RCPT TO:<alice@test.example>")[0], 250)
        self.assertEqual(slow.cmd("DATA")[0], 354)
        started = time.monotonic()
        slow.send(message("hello-slow").replace("\n", "\r\n") + ".\r\n")
        # While the hook sleeps, other sessions are served.
        other = self.client()
        code, lines = self.send(other, ["bob@test.example"], message("quick"))
        self.assertEqual(code, 250, lines)
        code, lines = slow.reply()
        elapsed = time.monotonic() - started
        self.assertEqual((code, lines), (451, ["Temporary local problem - please try later"]))
        self.assertGreaterEqual(elapsed, 0.9)
        self.assertLess(elapsed, 2.9)  # the deadline (1 s), not the hook's 3 s
        d.wait_log("temporarily rejected after DATA: module hello: timeout after 1000 ms", "reject")
        self.assertEqual(len(d.messages()), 1)


if __name__ == "__main__":
    ternlab.unittest_main(__name__, extra_paths=("module",))
