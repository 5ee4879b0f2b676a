#!/usr/bin/env python3
"""tests/deliver/retry_bounce_test.py: retries, bounces and queue control end to end.

Through tern's command line (and its daemon), with real receivers on loopback (a
closed port, aiosmtpd refusing a recipient), compared with what Exim 4.96 does: the
texts below were taken from the reference Exim (scripts/exim-ref.sh) running the same
configuration.

- a refused host: "defer (111)", then "retry time not reached for any host" on -q,
  another try on -qf, "retry timeout exceeded" past the rule's cutoff, and the bounce;
- a local quota failure: "Retry time not yet reached" on -q;
- a delay warning (delay_warning) in Exim's words;
- -brt for a table of rules and errors;
- the failure report for a 550 from a remote host, byte for byte but for its ids,
  dates and boundary, and parsed as RFC 3464; headers only over
  bounce_return_size_limit;
- -Mf, -Mt, -Mrm, -Mg, -Mar, -Mmd: their output and log lines, -bp's "*** frozen ***";
- a bounce that fails is frozen, then ignore_bounce_errors_after, timeout_frozen_after
  and auto_thaw;
- the daemon's periodic queue runs (-bd -q1s).

Run: python3 tests/deliver/retry_bounce_test.py --tern build/bin/tern [-k pattern]
"""
import email
import email.policy
import glob
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import ternlab  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SYSTEM_PYTHON = "/usr/bin/python3"
TERN = None

CONFIG = """\
primary_hostname = test.example
qualify_domain = test.example
domainlist local_domains = test.example
spool_directory = DIR/spool
log_file_path = DIR/log/%slog
acl_smtp_rcpt = accept
queue_only
MAIN
begin routers
static:
  driver = manualroute
  domains = remote.example
  route_list = remote.example 127.0.0.1::PORT
  transport = remote_smtp
fail:
  driver = redirect
  domains = +local_domains
  local_parts = gone : other
  allow_fail
  data = :fail: no such user here
senders:
  driver = accept
  domains = client.example
  transport = maildir
mbox:
  driver = accept
  domains = +local_domains
  transport = mbox_delivery
begin transports
remote_smtp:
  driver = smtp
  hosts_avoid_tls = *
maildir:
  driver = appendfile
  directory = DIR/mail/$local_part
  maildir_format
  user = nobody
mbox_delivery:
  driver = appendfile
  file = DIR/mbox/$local_part
  user = nobody
  quota = ${if exists{DIR/full}{1}{0}}
begin retry
RETRY
"""

INTRO = ("This message was created automatically by mail delivery software.\n\n"
         "A message that you sent could not be delivered to one or more of its\n"
         "recipients. This is a permanent error. The following address(es) failed:\n\n")


class Setup:
    """A scratch directory, a configuration and the commands on it."""

    def __init__(self, test, port=0, retry="*   *   F,1h,1m", main=""):
        self.scratch = ternlab.Scratch()
        test.addCleanup(self.scratch.close)
        self.dir = self.scratch.path
        os.chmod(self.dir, 0o755)
        for d in ("mail", "mbox"):
            os.makedirs(os.path.join(self.dir, d))
            os.chmod(os.path.join(self.dir, d), 0o1777)
        text = CONFIG.replace("MAIN", main).replace("RETRY", retry).replace("PORT", str(port or 9))
        self.conf = self.scratch.file("tern.conf", text.replace("DIR", self.dir))

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def tern(self, *args):
        return ternlab.run_tern(TERN, ["-C", self.conf, *args])

    def submit(self, rcpts, sender="sender@client.example", body="body line\r\n"):
        cmds = f"HELO x\r\nMAIL FROM:<{sender}>\r\n" + "".join(f"RCPT TO:<{r}>\r\n" for r in rcpts)
        cmds += "DATA\r\nSubject: test\r\nFrom: sender@client.example\r\n\r\n" + body + ".\r\nQUIT\r\n"
        r = ternlab.run_tern(TERN, ["-C", self.conf, "-bs"], stdin=cmds)
        m = re.search(r"250 OK id=(\S+)", r.stdout)
        assert m, r.stdout + r.stderr
        return m.group(1)

    def log(self):
        try:
            with open(self.path("log", "mainlog")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def queue_run(self, msg, flags=""):
        """One -q run; the lines it logged for `msg`."""
        before = len(self.log())
        self.tern("-q" + flags)
        return self.lines(msg, before)

    def lines(self, msg, since=0):
        """Main log lines of one message, without time stamp and id."""
        n = len(msg) + 1
        return [line[20 + n:] for line in self.log()[since:].splitlines() if line[20:].startswith(msg + " ")]

    def bounce_delivered(self, count=1):
        """The failure reports delivered to the sender's Maildir."""
        pattern = self.path("mail", "sender", "new", "*")
        ternlab.wait_for(lambda: len(glob.glob(pattern)) >= count, 30, "the bounce in the sender's Maildir")
        out = []
        for f in sorted(glob.glob(pattern), key=os.path.getmtime):
            with open(f) as h:
                out.append(h.read())
        return out

    def scratch_header(self, msg):
        with open(self.path("spool", "input", f"{msg}-H")) as f:
            return f.read()

    def messages(self):
        return sorted(f[:-2] for f in os.listdir(self.path("spool", "input")) if f.endswith("-H"))


def report_body(text):
    """A delivered bounce's body with its boundary as B."""
    headers, body = text.split("\n\n", 1)
    boundary = re.search(r"boundary=(\S+)", headers).group(1)
    return headers, body.replace(boundary, "B")


class Retry(unittest.TestCase):
    def test_refused_host_waits_for_its_retry_time_then_times_out(self):
        port = ternlab.free_port()  # nothing listens: connection refused
        s = Setup(self, port=port, retry="*   *   F,6s,3s")
        msg = s.submit(["x@remote.example"])
        start = time.time()
        self.assertEqual(s.tern("-M", msg).returncode, 0)
        self.assertEqual(s.lines(msg)[-1], "== x@remote.example R=static T=remote_smtp defer (111): Connection refused")
        with open(s.path("spool", "db", "retry.tern")) as f:
            record = f.read().split("\t")
        self.assertEqual(record[0], f"T:127.0.0.1:127.0.0.1:{port}")
        self.assertEqual(record[5:], ["111", "0", "Connection refused\n"])
        self.assertEqual(int(record[3]) - int(record[2]), 3)  # F,6s,3s: the next try 3s later

        before = len(s.log())
        s.tern("-q")  # not yet: Exim's text, nothing tried
        self.assertEqual(s.lines(msg, before), ["== x@remote.example R=static T=remote_smtp defer (-54): "
                                                "retry time not reached for any host for 'remote.example'"])
        before = len(s.log())
        s.tern("-qf")  # forced: tried again
        self.assertIn("== x@remote.example R=static T=remote_smtp defer (111): Connection refused",
                      s.lines(msg, before))
        self.assertEqual(s.messages(), [msg])

        time.sleep(max(0.0, start + 7.5 - time.time()))  # past the 6s cutoff and the next try
        before = len(s.log())
        s.tern("-q")
        lines = s.lines(msg, before)
        self.assertEqual(lines[-3:], ["== x@remote.example R=static T=remote_smtp defer (111): Connection refused",
                                      "** x@remote.example: retry timeout exceeded", "Completed"])
        self.assertRegex(s.log(), r" <= <> R=" + msg + r" U=\S+ P=local S=\d+\n")
        headers, body = report_body(s.bounce_delivered()[0])
        self.assertIn("\nX-Failed-Recipients: x@remote.example\n", "\n" + headers)
        self.assertTrue(body.startswith("--B\nContent-type: text/plain; charset=us-ascii\n\n" + INTRO +
                                        "  x@remote.example\n    retry timeout exceeded\n\n--B\n"), body)

    def test_local_quota_waits_for_its_retry_time(self):
        s = Setup(self, retry="*   quota   F,1h,10m\n*   *   F,1h,1m")
        open(s.path("full"), "w").close()
        msg = s.submit(["bob@test.example"])
        s.tern("-M", msg)
        self.assertEqual(s.lines(msg)[-1], "== bob@test.example R=mbox T=mbox_delivery defer (-22): mailbox is full "
                         f"(MTA-imposed quota exceeded while writing to {s.path('mbox', 'bob')})")
        before = len(s.log())
        s.tern("-q")
        self.assertEqual(s.lines(msg, before),
                         ["== bob@test.example R=mbox T=mbox_delivery defer (-53): Retry time not yet reached"])
        os.unlink(s.path("full"))
        s.tern("-qf")  # forced, and the mailbox has room again: delivered, the record deleted
        self.assertEqual(s.lines(msg)[-2:], ["=> bob <bob@test.example> R=mbox T=mbox_delivery", "Completed"])
        with open(s.path("spool", "db", "retry.tern")) as f:
            self.assertEqual(f.read(), "")

    def test_delay_warning_as_exim(self):
        s = Setup(self, port=ternlab.free_port(), retry="*   *   F,1h,1s", main="delay_warning = 3s : 1h")
        msg = s.submit(["x@remote.example"])
        s.tern("-M", msg)
        time.sleep(4)
        s.tern("-q")
        text = s.bounce_delivered()[0]
        headers, body = report_body(text)
        self.assertIn(f"\nSubject: Warning: message {msg} delayed 0 minutes\n", "\n" + headers + "\n")
        date = re.search(r"^\d{3}. Date: (.*)$", s.scratch_header(msg), re.M).group(1)
        # Exim 4.96's text for the same message.
        self.assertEqual(body.split("--B\nContent-type: text/rfc822-headers\n\n")[0],
                         "--B\nContent-type: text/plain; charset=us-ascii\n\n"
                         "This message was created automatically by mail delivery software.\n"
                         "A message that you sent has not yet been delivered to one or more of its\n"
                         "recipients after more than 0 minutes on the queue on test.example.\n\n"
                         f"The message identifier is:     {msg}\n"
                         "The subject of the message is: test\n"
                         f"The date of the message is:    {date}\n\n"
                         "The address to which the message has not yet been delivered is:\n\n"
                         "  x@remote.example\n\n"
                         "No action is required on your part. Delivery attempts will continue for\n"
                         "some time, and this warning may be repeated at intervals if the message\n"
                         "remains undelivered. Eventually the mail delivery software will give up,\n"
                         "and when that happens, the message will be returned to you.\n\n"
                         "--B\nContent-type: message/delivery-status\n\n"
                         "Reporting-MTA: dns; test.example\n\n"
                         "Action: delayed\nFinal-Recipient: rfc822;x@remote.example\nStatus: 4.0.0\n\n")
        self.assertTrue(body.endswith("\n\n\n--B--\n"), body)
        self.assertEqual(s.scratch_header(msg).split("\n")[3].split(" ")[1], "1")  # the -H's warning count
        s.tern("-qf")  # the next is due after 1h
        self.assertEqual(len(re.findall(r" <= <> R=" + msg, s.log())), 1)

    def test_brt_names_the_rule_as_exim(self):
        rules = ("*.slow.example  rcpt_45x  F,1h,10m\n"
                 "*.slow.example  rcpt_4xx  G,2h,5m,1.25\n"
                 "alice@test.example quota_7d F,1d,1h\n"
                 "test.example    quota  F,2h,15m; G,16h,1h,1.5; F,4d,6h\n"
                 "mx.example      refused_MX  F,30m,5m\n"
                 "a.example       timeout_connect_A  H,1d,10m,2\n"
                 "b.example       timeout  F,2h,3m\n"
                 "c.example       auth_failed  F,1h,1m\n"
                 "*               *   F,2h,15m; G,16h,1h,1.5; F,4d,6h")
        s = Setup(self, retry=rules)
        default = "Retry rule: *  *  F,2h,15m; G,16h,1h,1.5; F,4d,6h; "
        # Exim 4.96's answers for the same rules.
        cases = {
            ("x.slow.example", "rcpt_451"): "Retry rule: *.slow.example  *  F,1h,10m; ",
            ("x.slow.example", "rcpt_432"): "Retry rule: *.slow.example  *  G,2h,5m,1.25; ",
            ("x.slow.example", "rcpt_4xx"): "Retry rule: *.slow.example  *  G,2h,5m,1.25; ",
            ("alice@test.example", "quota_8d"): "Retry rule: alice@test.example  quota_1w  F,1d,1h; ",
            ("alice@test.example", "quota"): "Retry rule: test.example  quota  F,2h,15m; G,16h,1h,1.5; F,4d,6h; ",
            ("mx.example", "refused_MX"): "Retry rule: mx.example  refused_MX  F,30m,5m; ",
            ("mx.example", "refused"): default,
            ("a.example", "timeout_connect_A"): "Retry rule: a.example  timeout_connect_A  H,1d,10m; ",
            ("b.example", "timeout"): "Retry rule: b.example  timeout  F,2h,3m; ",
            ("c.example", "auth_failed"): "Retry rule: c.example  auth_failed  F,1h,1m; ",
            ("c.example",): default,
        }
        for args, want in cases.items():
            self.assertEqual(s.tern("-brt", *args).stdout, want + "\n", args)
        r = s.tern("-brt", "x.example", "nonsense")
        self.assertEqual(r.stdout, 'unknown or malformed retry error name "nonsense"\n')
        bad = Setup(self, retry="*  *  F,2h")
        r = bad.tern("-brt", "x.example")
        self.assertEqual(r.returncode, 1)
        self.assertIn('malformed retry rule "F,2h"', r.stderr)


class Bounce(unittest.TestCase):
    def receiver(self, scratch):
        port = ternlab.free_port()
        out = os.path.join(scratch.path, "recv")
        os.makedirs(out)
        server = ternlab.Server([SYSTEM_PYTHON, os.path.join(HERE, "aiosmtpd_receiver.py"),
                                 "--port", str(port), "--out", out], log_path=out + ".log")
        self.addCleanup(server.stop)
        ternlab.wait_port(port, proc=server.proc)
        return port

    def test_remote_refusal_reported_as_exim(self):
        s = Setup(self)
        port = self.receiver(s.scratch)
        s = Setup(self, port=port)
        msg = s.submit(["reject@remote.example", "list@test.example", "gone@test.example"])
        s.tern("-M", msg)
        refusal = "SMTP error from remote mail server after RCPT TO:<reject@remote.example>: " \
                  "550 5.1.1 <reject@remote.example>: no such user"
        self.assertIn(f"** reject@remote.example R=static T=remote_smtp H=127.0.0.1 [127.0.0.1]: {refusal}",
                      s.lines(msg))
        text = s.bounce_delivered()[0]
        headers, body = report_body(text)
        hdr = headers.split("\n")
        start = hdr.index("X-Failed-Recipients: reject@remote.example,")
        self.assertEqual(hdr[start:start + 9], [
            "X-Failed-Recipients: reject@remote.example,",
            "  gone@test.example",
            "Auto-Submitted: auto-replied",
            "From: Mail Delivery System <Mailer-Daemon@test.example>",
            "To: sender@client.example",
            f"References: <E{msg}@test.example>",
            hdr[start + 6],
            "MIME-Version: 1.0",
            "Subject: Mail delivery failed: returning message to sender"])
        self.assertRegex(hdr[start + 6], r"^Content-Type: multipart/report; report-type=delivery-status; "
                                         r"boundary=\d+-eximdsn-\d+$")
        returned = body.split("Content-type: message/rfc822\n\n", 1)[1]
        self.assertEqual(body.split("Content-type: message/rfc822\n\n", 1)[0],
                         "--B\nContent-type: text/plain; charset=us-ascii\n\n" + INTRO +
                         "  reject@remote.example\n"
                         "    host 127.0.0.1 [127.0.0.1]\n"
                         "    SMTP error from remote mail server after RCPT TO:<reject@remote.example>:\n"
                         "    550 5.1.1 <reject@remote.example>: no such user\n"
                         "  gone@test.example\n"
                         "    no such user here\n\n"
                         "--B\nContent-type: message/delivery-status\n\n"
                         "Reporting-MTA: dns; test.example\n\n"
                         "Action: failed\nFinal-Recipient: rfc822;gone@test.example\nStatus: 5.0.0\n\n"
                         "Action: failed\nFinal-Recipient: rfc822;reject@remote.example\nStatus: 5.0.0\n"
                         "Remote-MTA: dns; 127.0.0.1\n"
                         "Diagnostic-Code: smtp; 550 5.1.1 <reject@remote.example>: no such user\n\n"
                         "--B\n")
        self.assertTrue(returned.startswith("Return-path: <sender@client.example>\nReceived: "), returned)
        self.assertTrue(returned.endswith("\n\nbody line\n\n--B--\n"), returned)
        # RFC 3464 as a mail reader sees it.
        m = email.message_from_string(text, policy=email.policy.default)
        self.assertEqual(m.get_content_type(), "multipart/report")
        parts = list(m.iter_parts())
        self.assertEqual([p.get_content_type() for p in parts],
                         ["text/plain", "message/delivery-status", "message/rfc822"])
        self.assertEqual(parts[2].get_content().get("Subject"), "test")
        # The report's own reception, as Exim logs a bounce: <= <> R=<failed message>.
        self.assertRegex(s.log(), r" <= <> R=" + msg + r" U=\S+ P=local S=\d+\n")

    def test_large_message_returns_headers_only(self):
        s = Setup(self, main="bounce_return_size_limit = 1K")
        msg = s.submit(["gone@test.example"], body=("y" * 70 + "\r\n") * 300)
        s.tern("-M", msg)
        headers, body = report_body(s.bounce_delivered()[0])
        tail = body.split("--B\nContent-type: text/rfc822-headers\n\n", 1)[1]
        self.assertTrue(tail.startswith("Return-path: <sender@client.example>\n"), tail)
        self.assertTrue(tail.endswith("\nX-Exim-DSN-Information: Due to administrative limits only headers are "
                                      "returned\n\n\n--B--\n"), tail)
        self.assertNotIn("yyyy", tail)


class QueueControl(unittest.TestCase):
    def test_freeze_thaw_remove_give_up_as_exim(self):
        s = Setup(self)
        a, b, c = (s.submit(["x@remote.example", "y@remote.example"]) for _ in range(3))
        self.assertEqual(s.tern("-Mf", a).stdout, f"Message {a} is now frozen\n")
        self.assertEqual(s.tern("-Mf", a).stdout, f"Message {a} is already frozen\n")
        self.assertRegex(s.tern("-bp").stdout, re.escape(a) + r" <sender@client.example> \*\*\* frozen \*\*\*\n")
        before = len(s.log())
        s.tern("-q")
        self.assertEqual(s.lines(a, before), ["Message is frozen"])
        self.assertEqual(s.tern("-Mt", a).stdout, f"Message {a} is no longer frozen\n")
        self.assertEqual(s.tern("-Mt", a).stdout, f"Message {a} is not frozen\n")
        self.assertEqual(s.tern("-Mrm", b).stdout, f"Message {b} has been removed\n")
        self.assertEqual(s.tern("-Mrm", b).stdout, f"Message {b} has been removed or did not exist\n")
        self.assertEqual(s.tern("-Mar", a, "z@remote.example").stdout, f"Message {a} has been modified\n")
        self.assertEqual(s.tern("-Mmd", a, "y@remote.example").stdout, f"Message {a} has been modified\n")
        bp = s.tern("-bp").stdout
        self.assertIn(f"{a} <sender@client.example>\n          x@remote.example\n"
                      "        D y@remote.example\n          z@remote.example\n", bp)
        s.tern("-Mg", c)
        who = "root" if os.getuid() == 0 else os.environ.get("USER", "")
        self.assertEqual(s.lines(a)[1:], [f"frozen by {who}", "Message is frozen", f"unfrozen by {who}",
                                      f"recipient <z@remote.example> added by {who}",
                                      f"address <y@remote.example> marked delivered by {who}"])
        self.assertEqual(s.lines(b)[-2:], [f"removed by {who}", "Completed"])
        self.assertEqual(s.lines(c)[-2:], [f"cancelled by {who}", "Completed"])
        _, body = report_body(s.bounce_delivered()[0])  # -Mg: every recipient, no reason given
        self.assertIn(INTRO + "  y@remote.example\n  x@remote.example\n\n--B\n", body)
        ternlab.wait_for(lambda: s.messages() == [a], 10, "the bounce's delivery to end")


class Frozen(unittest.TestCase):
    def bounce_to_nowhere(self, s):
        msg = s.submit(["other@test.example"], sender="")
        s.tern("-M", msg)
        self.assertEqual(s.lines(msg)[1:], ["** other@test.example R=fail: no such user here",
                                            "Frozen (delivery error message)"])
        self.assertIn(f"{msg} <> *** frozen ***\n          other@test.example\n", s.tern("-bp").stdout)
        return msg

    def test_failed_bounce_frozen_then_ignored(self):
        # The time is counted from the bounce's arrival: long enough that the first queue run
        # comes before it even in a sanitized build on a loaded machine.
        wait = 20
        s = Setup(self, main=f"ignore_bounce_errors_after = {wait}s")
        arrived = time.monotonic()
        msg = self.bounce_to_nowhere(s)
        first = s.queue_run(msg)
        if time.monotonic() - arrived < wait - 1:
            self.assertEqual(first, ["Message is frozen"])
        time.sleep(max(0.0, arrived + wait + 1 - time.monotonic()))
        self.assertEqual(s.queue_run(msg), ["Unfrozen by errmsg timer",
                                                "** other@test.example R=fail: no such user here",
                                                "other@test.example: error ignored", "Completed"])

    def test_timeout_frozen_after_cancels(self):
        s = Setup(self, main="timeout_frozen_after = 5s")
        msg = self.bounce_to_nowhere(s)
        other = s.submit(["x@remote.example"])
        s.tern("-Mf", other)
        time.sleep(6)
        before = len(s.log())
        s.tern("-q")
        self.assertEqual(s.lines(msg, before), ["cancelled by timeout_frozen_after", "Completed"])
        self.assertEqual(s.lines(other, before), ["cancelled by timeout_frozen_after", "Completed"])
        _, body = report_body(s.bounce_delivered()[0])
        self.assertIn(INTRO + "  x@remote.example\n\n--B\n", body)

    def test_auto_thaw(self):
        wait = 15  # from the freezing; the first queue run must come before it, even when slow
        s = Setup(self, main=f"auto_thaw = {wait}s")
        msg = s.submit(["bob@test.example"])
        frozen = time.monotonic()
        s.tern("-Mf", msg)
        first = s.queue_run(msg)
        if time.monotonic() - frozen < wait - 1:
            self.assertEqual(first, ["Message is frozen"])
        time.sleep(max(0.0, frozen + wait + 1 - time.monotonic()))
        self.assertEqual(s.queue_run(msg), ["Unfrozen by auto-thaw", "=> bob <bob@test.example> R=mbox T=mbox_delivery",
                                                "Completed"])


class DaemonQueueRuns(unittest.TestCase):
    def test_daemon_starts_a_queue_runner_every_interval(self):
        scratch = ternlab.Scratch()
        self.addCleanup(scratch.close)
        mbox = os.path.join(scratch.path, "mbox")
        os.makedirs(mbox)
        os.chmod(scratch.path, 0o755)
        os.chmod(mbox, 0o1777)
        body = ("acl_smtp_rcpt = accept\nqueue_run_max = 1\nbegin routers\nlocal:\n  driver = accept\n"
                "  transport = mbox_delivery\nbegin transports\nmbox_delivery:\n  driver = appendfile\n"
                f"  file = {mbox}/$local_part\n  user = nobody\n")
        d = ternlab.Daemon(TERN, scratch, body, extra_args=("-q1s",))  # queue_only: only runners deliver
        self.addCleanup(d.close)
        d.wait_log("Start queue run", timeout=10)
        self.assertRegex(d.log(), r"daemon started: pid=\d+, -q1s, ")
        c = ternlab.SmtpClient(d.port)
        self.addCleanup(c.close)
        self.assertEqual(c.reply()[0], 220)
        for line in ("HELO x", "MAIL FROM:<a@client.example>", "RCPT TO:<bob@mx.test.example>"):
            self.assertEqual(c.cmd(line)[0], 250, line)
        self.assertEqual(c.cmd("DATA")[0], 354)
        c.send("Subject: queued\r\n\r\nhello\r\n.\r\n")
        code, lines = c.reply()
        self.assertEqual(code, 250)
        msg = lines[0].split("id=")[1]
        d.wait_log(f"{msg} Completed", timeout=15)
        self.assertIn(f"{msg} => bob <bob@mx.test.example> R=local T=mbox_delivery", d.log())
        with open(os.path.join(mbox, "bob")) as f:
            self.assertIn("Subject: queued\n", f.read())
        # Runs keep coming, each its own process.
        pids = set(re.findall(r"Start queue run: pid=(\d+)", d.log()))
        ternlab.wait_for(lambda: len(set(re.findall(r"Start queue run: pid=(\d+)", d.log()))) > len(pids) + 1, 10,
                         "more queue runs")


if __name__ == "__main__":
    ternlab.unittest_main(__name__)
