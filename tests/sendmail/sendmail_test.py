#!/usr/bin/env python3
"""tests/sendmail/sendmail_test.py: the sendmail interface end to end (core/deliver/submission.cpp).

- Every case of cases.py is submitted to tern as it was to the reference Exim 4.96 (whose
  outcome make_expectations.py recorded in exim/): exit status, standard error, log
  lines, the -H (sender, options, non-recipients, recipients, header lines with their
  types) and the -D must be the same, time stamps and message ids aside.
- Delivery: -odi delivers before tern exits (the mbox bytes checked), -odq leaves the
  message for -bp and a queue run, the default (-odb) delivers in the background,
  queue_only and queue_only_override; -t's Bcc: reaches its recipient but no mailbox.
- tern called as `sendmail` and `mailq` (links to it).
- An untrusted caller (nobody): -f ignored unless untrusted_set_sender allows it, <>
  always allowed, its Sender: header replaced by one naming the caller (Exim's
  documented rules: the reference Exim cannot be run as another user here).

Run: python3 tests/sendmail/sendmail_test.py --tern build/bin/tern [-k pattern]
"""
import os
import pwd
import re
import shutil
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
import cases  # noqa: E402
import normalize  # noqa: E402
import ternlab  # noqa: E402

TERN = None
NOBODY = pwd.getpwnam("nobody")


def read(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


class Site:
    """A scratch directory laid out as sendmail.conf.in expects; mailboxes writable by nobody."""

    def __init__(self, extra_conf="", owner=None):
        self.scratch = ternlab.Scratch()
        self.dir = self.scratch.path
        os.chmod(self.dir, 0o755)
        for d in ("spool", "log", "mbox"):
            os.makedirs(os.path.join(self.dir, d))
            if owner:
                os.chown(os.path.join(self.dir, d), owner.pw_uid, owner.pw_gid)
        os.chmod(os.path.join(self.dir, "mbox"), 0o1777)
        conf = extra_conf + read(os.path.join(HERE, "sendmail.conf.in")).replace("DIR", self.dir)
        self.conf = self.scratch.file("sendmail.conf", conf, mode=0o644)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def tern(self, *args, stdin="", program=None, user=None):
        argv = [program or TERN, "-C", self.conf, *args]
        if user:
            argv = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--clear-groups"] + argv
        return subprocess.run(argv, input=stdin.encode(), capture_output=True, timeout=60)

    def log(self):
        path = self.path("log", "mainlog")
        return read(path) if os.path.exists(path) else ""

    def queued(self):
        return sorted(f[:-2] for f in os.listdir(self.path("spool", "input")) if f.endswith("-H")) \
            if os.path.isdir(self.path("spool", "input")) else []

    def header_file(self, msg_id):
        return read(self.path("spool", "input", msg_id + "-H"))

    def mbox(self, user):
        path = self.path("mbox", user)
        return read(path) if os.path.exists(path) else None

    def close(self):
        self.scratch.close()


class EximComparison(unittest.TestCase):
    """Each case of cases.py, tern against what Exim 4.96 did."""

    def check(self, name, args, stdin):
        site = Site()
        try:
            r = site.tern("-odq", *args, stdin=stdin)
            got = normalize.outcome(site.dir, r.returncode, r.stderr.decode())
            want = read(os.path.join(HERE, "exim", name + ".txt"))
            self.assertEqual(got, want, name)
        finally:
            site.close()

    def test_accepted(self):
        for name, (args, stdin) in cases.CASES.items():
            with self.subTest(name):
                self.check(name, args, stdin)

    def test_refused(self):
        for name, (args, stdin) in cases.ERRORS.items():
            with self.subTest(name):
                self.check(name, args, stdin)


MBOX_PLAIN = """From root@test.example DATE
Received: from root by test.example with local (Exim 4.96)
\t(envelope-from <root@test.example>)
\tid ID
\tfor bob@test.example;
\tDATE
Subject: hi
Message-Id: <EID@test.example>
From: root <root@test.example>
Date: DATE

body

"""
MBOX_FROM_DATE = re.compile(r"^From (\S+) \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$", re.M)


def mbox_normalized(text, msg_id):
    text = MBOX_FROM_DATE.sub(r"From \1 DATE", text)
    return normalize.DATE.sub("DATE", text.replace(msg_id, "ID"))


def received_id(log):
    m = re.search(r" (\S+) <= ", log)
    return m.group(1) if m else None


class Delivery(unittest.TestCase):
    def setUp(self):
        self.site = Site()

    def tearDown(self):
        self.site.close()

    def test_odi_delivers_before_exit(self):
        r = self.site.tern("-odi", "bob", stdin="Subject: hi\n\nbody\n.\nafter\n")
        self.assertEqual((r.returncode, r.stderr), (0, b""))
        log = self.site.log()
        msg_id = received_id(log)
        self.assertIn(f"{msg_id} => bob <bob@test.example> R=mbox T=mbox_delivery\n", log)
        self.assertIn(f"{msg_id} Completed\n", log)
        self.assertEqual(self.site.queued(), [])
        self.assertEqual(mbox_normalized(self.site.mbox("bob"), msg_id), MBOX_PLAIN)

    def test_odq_queues(self):
        r = self.site.tern("-odq", "bob", stdin="Subject: hi\n\nbody\n")
        self.assertEqual(r.returncode, 0)
        msg_id = received_id(self.site.log())
        self.assertEqual(self.site.queued(), [msg_id])
        self.assertIsNone(self.site.mbox("bob"))
        bp = self.site.tern("-bp").stdout.decode()
        self.assertRegex(bp, rf"^ *0m +\d+ {msg_id} <root@test.example>\n +bob@test.example\n\n$")
        self.assertEqual(self.site.tern("-q").returncode, 0)
        self.assertEqual(self.site.queued(), [])
        self.assertEqual(mbox_normalized(self.site.mbox("bob"), msg_id), MBOX_PLAIN.replace("\n.\nafter", ""))

    def test_default_delivers_in_background(self):
        r = self.site.tern("bob", stdin="Subject: hi\n\nbody\n")
        self.assertEqual((r.returncode, r.stderr), (0, b""))
        msg_id = received_id(self.site.log())
        ternlab.wait_for(lambda: f"{msg_id} Completed" in self.site.log(), 20, "the background delivery")
        self.assertEqual(mbox_normalized(self.site.mbox("bob"), msg_id), MBOX_PLAIN)

    def test_bcc_recipient_gets_no_bcc_line(self):
        stdin = "To: alice\nCc: carol\nBcc: eve\nSubject: t\n\nbody\n"
        r = self.site.tern("-odi", "-t", "bob", stdin=stdin)
        self.assertEqual((r.returncode, r.stderr), (0, b""))
        self.assertIsNone(self.site.mbox("bob"))  # the argument is removed by -t
        for user in ("alice", "carol", "eve"):
            box = self.site.mbox(user)
            self.assertIsNotNone(box, user)
            self.assertIn("To: alice@test.example\nCc: carol@test.example\nSubject: t\n", box)
            self.assertNotIn("Bcc", box)
            self.assertNotIn("eve", box)

    def test_dot_with_and_without_i(self):
        for args, body in ((["-odq"], "one\n"), (["-odq", "-i"], "one\n.\ntwo\n"), (["-odq", "-oi"], "one\n.\ntwo\n")):
            site = Site()
            try:
                self.assertEqual(site.tern(*args, "bob", stdin="Subject: d\n\none\n.\ntwo\n").returncode, 0)
                [msg_id] = site.queued()
                self.assertEqual(read(site.path("spool", "input", msg_id + "-D")), f"{msg_id}-D\n{body}", args)
            finally:
                site.close()


class QueueOnly(unittest.TestCase):
    def run_with(self, conf, *args):
        site = Site(conf)
        try:
            self.assertEqual(site.tern(*args, "bob", stdin="Subject: q\n\nbody\n").returncode, 0)
            return bool(site.queued()), site.mbox("bob") is not None
        finally:
            site.close()

    def test_queue_only(self):
        self.assertEqual(self.run_with("queue_only\n"), (True, False))
        self.assertEqual(self.run_with("queue_only\n", "-odi"), (False, True))  # -odi overrides it
        self.assertEqual(self.run_with("queue_only\nqueue_only_override = false\n", "-odi"), (True, False))

    def test_queue_only_load(self):
        # Above queue_only_load nothing is delivered at once, even with -odi (a load average of
        # exactly 0.000 would deliver: not while this test's own processes run).
        site = Site("queue_only_load = 0\n")
        try:
            self.assertEqual(site.tern("-odi", "bob", stdin="Subject: q\n\nbody\n").returncode, 0)
            self.assertEqual((len(site.queued()), site.mbox("bob")), (1, None))
            self.assertRegex(site.log(), r"\n\S+ \S+ no immediate delivery: load average \d+\.\d\d\n")
        finally:
            site.close()
        site = Site("queue_only_load = 1000\n")
        try:
            self.assertEqual(site.tern("-odi", "bob", stdin="Subject: q\n\nbody\n").returncode, 0)
            self.assertEqual(site.queued(), [])
            self.assertIsNotNone(site.mbox("bob"))
        finally:
            site.close()


class ProgramNames(unittest.TestCase):
    def test_sendmail_and_mailq(self):
        site = Site()
        try:
            sendmail = site.path("sendmail")
            mailq = site.path("mailq")
            os.symlink(TERN, sendmail)
            os.symlink(TERN, mailq)
            r = site.tern("-odi", "-oem", "-om", "-t", program=sendmail, stdin="To: alice\nSubject: s\n\nbody\n")
            self.assertEqual((r.returncode, r.stderr), (0, b""))
            self.assertIn("Subject: s\n", site.mbox("alice"))
            r = site.tern("-odq", "-oi", "bob", program=sendmail, stdin="Subject: s\n\n.\n")
            self.assertEqual(r.returncode, 0)
            [msg_id] = site.queued()
            listing = subprocess.run([mailq, "-C", site.conf], capture_output=True, text=True, timeout=30)
            self.assertRegex(listing.stdout, rf"{msg_id} <root@test.example>\n +bob@test.example\n")
        finally:
            site.close()


class UntrustedCaller(unittest.TestCase):
    """tern run as nobody: not root, not exim_user, not in trusted_users."""

    def submit(self, conf, *args, stdin="Subject: u\n\nbody\n"):
        site = Site(conf, owner=NOBODY)
        try:
            r = site.tern("-odq", *args, "bob", stdin=stdin, user=NOBODY)
            self.assertEqual((r.returncode, r.stderr), (0, b""))
            [msg_id] = site.queued()
            h = site.header_file(msg_id)
            # Header lines' first lines, each as (type letter, text): "038S Sender: ..."
            typed = [(line[3], line[5:]) for line in h.split("\n\n", 1)[1].splitlines() if re.match(r"\d{3}. ", line)]
            headers = [text for _, text in typed]
            return h.splitlines()[2], site.log(), headers, typed
        finally:
            site.close()

    def test_f_ignored(self):
        sender, log, headers, _ = self.submit("", "-f", "other@else.example")
        self.assertEqual(sender, "<nobody@test.example>")
        self.assertRegex(log, r"<= nobody@test.example U=nobody P=local S=\d+\n")
        self.assertIn("From: nobody <nobody@test.example>", headers)

    def test_f_empty_allowed(self):
        sender, log, _, _ = self.submit("", "-f", "<>")
        self.assertEqual(sender, "<>")
        self.assertRegex(log, r"<= <> U=nobody P=local S=\d+\n")

    def test_untrusted_set_sender(self):
        conf = "untrusted_set_sender = *@else.example\n"
        sender, _, headers, _ = self.submit(conf, "-f", "other@else.example", "-F", "Nob Ody")
        self.assertEqual(sender, "<other@else.example>")
        # From: names the envelope sender; it is not the caller's, so Sender: says who sent.
        self.assertIn("From: Nob Ody <other@else.example>", headers)
        self.assertIn("Sender: Nob Ody <nobody@test.example>", headers)
        sender, _, _, _ = self.submit(conf, "-f", "x@elsewhere.example")
        self.assertEqual(sender, "<nobody@test.example>")

    def test_sender_header_replaced(self):
        stdin = "From: Someone <someone@else.example>\nSender: x@y\nSubject: u\n\nbody\n"
        _, _, headers, types = self.submit("", stdin=stdin)
        self.assertIn(("*", "Sender: x@y"), types)  # kept on the spool only, not sent
        self.assertIn("Sender: nobody <nobody@test.example>", headers)
        # A From: that is the caller's own address needs no Sender:.
        _, _, headers, _ = self.submit("", stdin="From: nobody@test.example\n\nbody\n")
        self.assertFalse(any(h.startswith("Sender:") for h in headers), headers)


if __name__ == "__main__":
    ternlab.unittest_main(__name__)
