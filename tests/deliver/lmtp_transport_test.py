#!/usr/bin/env python3
"""tests/deliver/lmtp_transport_test.py: the lmtp transport against a real Dovecot LMTP server.

Dovecot (Debian's dovecot-lmtpd) runs from a scratch directory with a
passwd-file of three users (one with a 10-byte quota) and its LMTP listener on
a Unix socket. tern receives messages with -bs (queue_only) and delivers them
with -qf as root, the transport running as nobody:

- one message for bob, amy, an unknown user and the user over quota, in one
  batch: bob and amy delivered with Dovecot's replies as C=, the unknown user
  refused at RCPT, the full mailbox refused after the data, each on its own;
- the same server reached through a command (`command`, whose standard input
  and output are the connection);
- a socket that does not exist, and a command that never answers (timeout).

The log lines expected are what Exim 4.96 wrote with the same configuration
against the same Dovecot (scripts/exim-ref.sh; Dovecot's session ids in C=
vary, so they are matched as \\S+). The mailboxes must hold the message, dots
and all.

Run: python3 tests/deliver/lmtp_transport_test.py --tern build/bin/tern
"""
import glob
import os
import re
import shutil
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import ternlab  # noqa: E402

TERN = None
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"

UNIX_PIPE = """import os, select, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
while True:
    ready, _, _ = select.select([0, s], [], [])
    if 0 in ready:
        d = os.read(0, 65536)
        if d:
            s.sendall(d)
        else:
            s.shutdown(socket.SHUT_WR)
    if s in ready:
        d = s.recv(65536)
        if not d:
            break
        os.write(1, d)
"""

EXPECTED = [
    r'=> bob <bob@test\.example> R=r_lmtp T=t_lmtp C="250 2\.0\.0 <bob@test\.example> \S+ Saved"',
    r'-> amy <amy@test\.example> R=r_lmtp T=t_lmtp C="250 2\.0\.0 <amy@test\.example> \S+ Saved"',
    re.escape("** unknown@test.example R=r_lmtp T=t_lmtp: LMTP error after RCPT TO:<unknown@test.example>: "
              "550 5.1.1 <unknown@test.example> User doesn't exist: unknown@test.example"),
    re.escape("** full@test.example R=r_lmtp T=t_lmtp: LMTP error after end of data: "
              "552 5.2.2 <full@test.example> Quota exceeded (mailbox for user is full)"),
    r'=> bob <bob@cmd\.example> R=r_cmd T=t_cmd C="250 2\.0\.0 <bob@cmd\.example> \S+ Saved"',
    re.escape("== nosock@test.example R=r_nosock T=t_nosock defer (-1): Failed to connect to socket "
              "DIR/nosuch for t_nosock transport: No such file or directory"),
    re.escape("== sleep@test.example R=r_sleep T=t_sleep defer (-1): LMTP timeout after initial connection"),
]


def dovecot_config(d):
    return f"""base_dir = {d}/dovecot
log_path = {d}/dovecot.log
protocols = lmtp
ssl = no
auth_username_format = %n
mail_location = maildir:~/Maildir
mail_plugins = quota
plugin {{
  quota = maildir:User quota
}}
userdb {{
  driver = passwd-file
  args = {d}/users
}}
passdb {{
  driver = passwd-file
  args = {d}/users
}}
service lmtp {{
  unix_listener lmtp {{
    mode = 0666
  }}
}}
"""


def tern_config(d):
    return f"""spool_directory = {d}/spool
log_file_path = {d}/log/%slog
primary_hostname = mx.test.example
qualify_domain = test.example
queue_only = true
acl_smtp_rcpt = accept
begin routers
# The senders' bounces (Exim's wording is tested elsewhere) go nowhere.
r_bounces:
  driver = redirect
  domains = a.example
  data = :blackhole:
r_nosock:
  driver = accept
  local_parts = nosock
  transport = t_nosock
r_sleep:
  driver = accept
  local_parts = sleep
  transport = t_sleep
r_cmd:
  driver = accept
  domains = cmd.example
  transport = t_cmd
r_lmtp:
  driver = accept
  transport = t_lmtp
begin transports
t_lmtp:
  driver = lmtp
  socket = {d}/dovecot/lmtp
  batch_max = 10
  user = nobody
t_nosock:
  driver = lmtp
  socket = {d}/nosuch
  user = nobody
t_sleep:
  driver = lmtp
  command = /bin/sleep 10
  timeout = 1s
  user = nobody
t_cmd:
  driver = lmtp
  # The system Python: the command runs as nobody, who may not reach the test's own.
  command = /usr/bin/python3 {d}/unixpipe.py {d}/dovecot/lmtp
  user = nobody
begin retry
* * F,1h,10m
"""


def lmtp_ready(path):
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(2)
            s.connect(path)
            return s.recv(100).startswith(b"220")
    except OSError:
        return False


def message(recipients):
    lines = ["MAIL FROM:<s@a.example>"] + [f"RCPT TO:<{r}>" for r in recipients]
    lines += ["DATA", "Subject: lmtp test", "", "first line", "..dot line", "."]
    return "".join(line + "\r\n" for line in lines)


class LmtpTransport(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = ternlab.Scratch()
        d = cls.scratch.path
        os.chmod(d, 0o755)
        for sub in ("spool", "log", "mail"):
            os.makedirs(os.path.join(d, sub))
        os.chmod(os.path.join(d, "log"), 0o777)
        os.chmod(os.path.join(d, "mail"), 0o777)
        cls.scratch.file("users", "".join(
            f"{u}:{{PLAIN}}x:65534:65534::{d}/mail/{u}::{extra}\n"
            for u, extra in (("bob", ""), ("amy", ""), ("full", "userdb_quota_rule=*:storage=10B"))))
        cls.scratch.file("unixpipe.py", UNIX_PIPE)
        dovecot_conf = cls.scratch.file("dovecot.conf", dovecot_config(d))
        cls.dovecot = ternlab.Server([DOVECOT, "-F", "-c", dovecot_conf], log_path=os.path.join(d, "dovecot.out"))
        try:
            ternlab.wait_for(lambda: lmtp_ready(os.path.join(d, "dovecot", "lmtp")), 30, "Dovecot's LMTP socket")
            conf = cls.scratch.file("tern.conf", tern_config(d))
            session = "HELO client.example\r\n" + message(
                ["bob@test.example", "amy@test.example", "unknown@test.example", "full@test.example"])
            session += message(["bob@cmd.example"]) + message(["nosock@test.example"]) + message(["sleep@test.example"])
            r = ternlab.run_tern(TERN, ["-C", conf, "-bs"], stdin=session + "QUIT\r\n")
            assert r.returncode == 0, r.stderr
            cls.accepted = re.findall(r"^250 OK id=", r.stdout, re.M)
            cls.queue_run = ternlab.run_tern(TERN, ["-C", conf, "-qf"], timeout=120)
        finally:
            cls.dovecot.stop()
        with open(os.path.join(d, "log", "mainlog")) as f:
            cls.log = f.read()

    @classmethod
    def tearDownClass(cls):
        cls.scratch.close()

    def delivery_lines(self):
        out = []
        for line in self.log.splitlines():
            fields = line.split(" ", 3)
            bounce = fields[-1].startswith("=> :blackhole: <s@a.example>")
            if len(fields) == 4 and fields[3][:2] in ("=>", "->", "**", "==") and not bounce:
                out.append(fields[3].replace(self.scratch.path, "DIR"))
        return out

    def test_log_lines_are_exims(self):
        self.assertEqual(len(self.accepted), 4)
        self.assertEqual(self.queue_run.returncode, 0, self.queue_run.stderr)
        got = self.delivery_lines()
        for pattern in EXPECTED:
            self.assertTrue(any(re.fullmatch(pattern, line) for line in got), f"{pattern}\nnot in\n" + "\n".join(got))
        self.assertEqual(len(got), len(EXPECTED), "\n".join(got))

    def test_the_mailboxes_hold_the_message(self):
        def mails(user):
            return sorted(glob.glob(os.path.join(self.scratch.path, "mail", user, "Maildir", "new", "*")))
        self.assertEqual(len(mails("bob")), 2)  # through the socket and through the command
        self.assertEqual(len(mails("amy")), 1)
        self.assertEqual(mails("full"), [])
        with open(mails("amy")[0]) as f:
            text = f.read()
        self.assertIn("Subject: lmtp test\n", text)
        self.assertTrue(text.endswith("\nfirst line\n.dot line\n"), repr(text[-60:]))

    def test_deferred_messages_stay_queued(self):
        spool = os.path.join(self.scratch.path, "spool", "input")
        headers = [f for _, _, files in os.walk(spool) for f in files if f.endswith("-H")]
        self.assertEqual(len(headers), 2)  # nosock and sleep


if __name__ == "__main__":
    ternlab.unittest_main(__name__)
