#!/usr/bin/env python3
"""tests/deliver/run_deliver_tests.py: delivery end to end, compared with Exim 4.96.

exim/ holds what the reference Exim did with deliver.conf.in, aliases and
message.smtp (make_expectations.sh made it): the message it spooled, its log
lines, its -bp, the Maildir and mbox files it wrote, its -bt and -bv output.
The tests make tern do the same and compare:

- the same spool files delivered by `tern -M` (one mailbox over quota), then
  `tern -qf`: log lines, -bp, Maildir and mbox bytes (the mbox "From " line's
  date is the only thing allowed to differ: it is the time of delivery);
- a daemon receiving the message over SMTP and delivering it at once;
- `kill -9` of a delivery part-way, then another attempt: nothing twice,
  nothing lost (the -J journal);
- -bt and -bv for every address in addresses.txt.

Run: python3 tests/deliver/run_deliver_tests.py --tern build/bin/tern [-k pattern]
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import ternlab  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EXIM = os.path.join(HERE, "exim")
TERN = None
FROM_LINE = re.compile(r"^From (\S+) \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$", re.M)


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def exim_id():
    return read(os.path.join(EXIM, "id")).strip()


def log_lines(text, directory):
    """Main log lines without their time stamps, the scratch directory as DIR."""
    return [line[20:].replace(directory, "DIR") for line in text.splitlines()]


def mbox_dates_out(text):
    return FROM_LINE.sub(r"From \1 DATE", text)


class Scratch:
    """A directory laid out as deliver.conf.in expects; mailboxes writable by nobody."""

    def __init__(self, conf_lines_to_drop=()):
        self.scratch = ternlab.Scratch()
        self.dir = self.scratch.path
        os.chmod(self.dir, 0o755)
        for d in ("spool", "log"):
            os.makedirs(os.path.join(self.dir, d))
        for d in ("mail", "mbox"):
            os.makedirs(os.path.join(self.dir, d))
            os.chmod(os.path.join(self.dir, d), 0o1777)
        shutil.copy(os.path.join(HERE, "aliases"), os.path.join(self.dir, "aliases"))
        conf = read(os.path.join(HERE, "deliver.conf.in")).replace("DIR", self.dir)
        conf = "\n".join(line for line in conf.splitlines()
                         if not any(line.startswith(p) for p in conf_lines_to_drop)) + "\n"
        self.conf_text = conf
        self.conf = self.scratch.file("deliver.conf", conf)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def tern(self, *args, **kw):
        return ternlab.run_tern(TERN, ["-C", self.conf, *args], **kw)

    def mainlog(self):
        try:
            return read(self.path("log", "mainlog"))
        except FileNotFoundError:
            return ""

    def maildir_files(self, user):
        return sorted(glob.glob(self.path("mail", user, "new", "*")))

    def close(self):
        self.scratch.close()


class SameAsExim(unittest.TestCase):
    def setUp(self):
        self.s = Scratch()
        self.addCleanup(self.s.close)

    def spool_exim_message(self):
        """Exim's spool files, received now (retry rules time out a message older than
        their last cutoff, as Exim's do)."""
        msg = exim_id()
        os.makedirs(self.s.path("spool", "input"))
        for part in "HD":
            shutil.copy(os.path.join(EXIM, f"{msg}-{part}"), self.s.path("spool", "input", f"{msg}-{part}"))
        h = self.s.path("spool", "input", f"{msg}-H")
        lines = read(h).split("\n")
        lines[3] = f"{int(time.time())} 0"
        with open(h, "w") as f:
            f.write("\n".join(lines))
        return msg

    def wait_for_bounce(self, msg):
        """The failure report for gone@test.example: spooled from <> and delivered at once;
        its recipient (the sender, in an unrouteable domain) fails, so it is frozen."""
        ternlab.wait_for(lambda: "Frozen (delivery error message)" in self.s.mainlog(), 30, "the bounce's delivery")
        m = re.search(r"(\S+) <= <> R=" + re.escape(msg) + r" U=\S+ P=local S=\d+$", self.s.mainlog(), re.M)
        self.assertTrue(m, self.s.mainlog())
        bounce = m.group(1)
        body = read(self.s.path("spool", "input", f"{bounce}-D"))
        self.assertIn("A message that you sent could not be delivered to one or more of its\n"
                      "recipients. This is a permanent error. The following address(es) failed:\n\n"
                      "  gone@test.example\n    no longer here\n", body)
        return bounce

    def test_exim_message_delivered_deferred_and_queued_as_exim(self):
        msg = self.spool_exim_message()
        open(self.s.path("full"), "w").close()  # bob's and dave's mailboxes are over quota
        r = self.s.tern("-M", msg)
        self.assertEqual(r.returncode, 0, r.stderr)
        bounce = self.wait_for_bounce(msg)
        ours = [line for line in log_lines(self.s.mainlog(), self.s.dir) if line.startswith(msg)]
        self.assertEqual(ours, read(os.path.join(EXIM, "attempt1.log")).splitlines())
        # The deferred addresses stay: -bp as Exim shows the message after that attempt.
        bp = self.s.tern("-bp").stdout
        block = next(b for b in bp.split("\n\n") if f" {msg} " in b) + "\n\n"
        self.assertEqual(re.sub(r"^ *\d+[mhd] ", "AGE ", block, flags=re.M), read(os.path.join(EXIM, "bp.txt")))
        self.assertRegex(bp, re.escape(bounce) + r" <> \*\*\* frozen \*\*\*\n +sender@client.example\n")
        self.assertEqual(self.s.tern("-bpc").stdout, "2\n")
        # The journal was merged into the -H: nothing left beside it.
        self.assertFalse(glob.glob(self.s.path("spool", "input", "*-J")))

        os.unlink(self.s.path("full"))
        before = len(self.s.mainlog())
        r = self.s.tern("-qf")
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = [line for line in log_lines(self.s.mainlog()[before:], self.s.dir) if line.startswith(msg)]
        self.assertEqual(lines, read(os.path.join(EXIM, "attempt2.log")).splitlines())
        # -qf does not thaw the frozen bounce: it is all that is left.
        self.assertIn(f"{bounce} Message is frozen", self.s.mainlog()[before:])
        self.assertEqual(sorted(os.listdir(self.s.path("spool", "input"))), [f"{bounce}-D", f"{bounce}-H"])

        for user in ("alice", "carol"):
            files = self.s.maildir_files(user)
            self.assertEqual(len(files), 1, user)
            self.assertEqual(read(files[0], "rb"), read(os.path.join(EXIM, "mail", user), "rb"), user)
            self.assertEqual(os.stat(files[0]).st_mode & 0o777, 0o600)
            self.assertTrue(re.fullmatch(r"\d+\.M\d+P\d+\.test\.example", os.path.basename(files[0])))
        for user in ("bob", "dave"):
            ours = read(self.s.path("mbox", user))
            self.assertEqual(mbox_dates_out(ours), mbox_dates_out(read(os.path.join(EXIM, "mbox", user))), user)
            self.assertRegex(ours.splitlines()[0], FROM_LINE)

    def test_address_test_and_verify_as_exim(self):
        for mode in ("-bt", "-bv"):
            expected = read(os.path.join(EXIM, f"{mode}.txt"))
            got = ""
            for address in read(os.path.join(HERE, "addresses.txt")).split():
                r = self.s.tern(mode, address)
                got += f"{mode} {address}\n{r.stdout.replace(self.s.dir, 'DIR')}rc={r.returncode}\n"
            self.assertEqual(got, expected)


class Daemon(unittest.TestCase):
    def test_daemon_receives_over_smtp_and_delivers_at_once(self):
        s = Scratch()
        self.addCleanup(s.close)
        body = "\n".join(line for line in s.conf_text.splitlines()
                         if not line.startswith(("spool_directory", "log_file_path", "primary_hostname")))
        body = body.replace(s.dir, os.path.join(s.dir, "tern")) + "\n"
        d = ternlab.Daemon(TERN, s.scratch, body, deliver=True)
        self.addCleanup(d.close)
        top = d.dir
        os.chmod(top, 0o755)
        for sub in ("mail", "mbox"):
            os.makedirs(os.path.join(top, sub), exist_ok=True)
            os.chmod(os.path.join(top, sub), 0o1777)
        shutil.copy(os.path.join(HERE, "aliases"), os.path.join(top, "aliases"))
        c = ternlab.SmtpClient(d.port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply()[0], 220)
        data = read(os.path.join(HERE, "message.smtp")).split("\n")
        i = data.index("DATA")
        for line in data[:i]:
            self.assertEqual(c.cmd(line)[0], 250, line)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send("".join(line + "\r\n" for line in data[i + 1:data.index(".")]) + ".\r\n")
        code, lines = c.reply()
        self.assertEqual(code, 250)
        msg = lines[0].split("id=")[1]
        d.wait_log(f"{msg} Completed", timeout=30)
        d.wait_log("Frozen (delivery error message)", timeout=30)  # the bounce for gone@
        log = [line[20:] for line in d.log().splitlines() if f" {msg} " in line and "<=" not in line]
        exim = [line.replace(exim_id(), msg) for line in read(os.path.join(EXIM, "attempt1.log")).splitlines()]
        # Without a full mailbox, bob and dave are delivered at the first attempt.
        exim = [re.sub(r"== (\w+)@test.example (<\S+>) (R=\S+ T=\S+) defer.*", r"=> \1 \2 \3", line) for line in exim]
        self.assertEqual(log, exim + [f"{msg} Completed"])
        bounces = d.messages()
        self.assertEqual(len(bounces), 1)
        self.assertRegex(d.log(), re.escape(bounces[0]) + r" <= <> R=" + re.escape(msg) + " ")

        # What reception added differs (Received:, Message-Id:, Date:); the rest is Exim's.
        def comparable(text):
            text = re.sub(r"^Received: .*\n(?:[ \t].*\n)*", "", text, flags=re.M)
            text = re.sub(r"^(Message-Id|Date): .*\n", "", text, flags=re.M)
            return mbox_dates_out(text)
        for user in ("alice", "carol"):
            files = sorted(glob.glob(os.path.join(top, "mail", user, "new", "*")))
            self.assertEqual(len(files), 1)
            self.assertEqual(comparable(read(files[0])), comparable(read(os.path.join(EXIM, "mail", user))))
        for user in ("bob", "dave"):
            self.assertEqual(comparable(read(os.path.join(top, "mbox", user))),
                             comparable(read(os.path.join(EXIM, "mbox", user))))


class Journal(unittest.TestCase):
    def test_kill_part_way_never_delivers_twice(self):
        s = Scratch()
        self.addCleanup(s.close)
        msg = SameAsExim.spool_exim_message(self_with(s))
        # bob's mailbox is locked by someone else: the delivery waits there (lock_retries
        # times lock_interval) after alice's Maildir delivery is journalled.
        lock = s.path("mbox", "bob.lock")
        open(lock, "w").close()
        p = subprocess.Popen([TERN, "-C", s.conf, "-M", msg], start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            ternlab.wait_for(lambda: "=> alice" in s.mainlog(), 20, "alice's delivery")
            journal = glob.glob(s.path("spool", "input", f"{msg}-J"))
            self.assertTrue(journal)
            done = read(journal[0]).split("\n")
            self.assertIn("alice@test.example", done)
        finally:
            os.killpg(p.pid, signal.SIGKILL)  # the delivery process and its local-delivery child
            p.wait()
        self.assertEqual(len(s.maildir_files("alice")), 1)
        os.unlink(lock)
        r = s.tern("-M", msg)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(f"{msg} Completed", s.mainlog())
        for user in ("alice", "carol"):
            self.assertEqual(len(s.maildir_files(user)), 1, user)
        for user in ("bob", "dave"):
            self.assertEqual(read(s.path("mbox", user)).count("\nSubject: test\n"), 1, user)
        self.assertEqual(s.mainlog().count("=> alice "), 1)
        self.assertFalse(os.listdir(s.path("spool", "input")))


def self_with(scratch):
    """A stand-in `self` for SameAsExim.spool_exim_message on another scratch."""
    class Holder:
        pass
    h = Holder()
    h.s = scratch
    return h


if __name__ == "__main__":
    ternlab.unittest_main(__name__)
