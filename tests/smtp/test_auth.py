#!/usr/bin/env python3
"""tests/smtp/test_auth.py: SMTP AUTH end to end, server and client side.

The server side: `tern -bdf` with plaintext (PLAIN, LOGIN) and cram_md5
authenticators, driven by a raw socket client (exact replies), Python's smtplib
(also after STARTTLS) and swaks; the replies, the `<=` and `authenticator
failed` log lines, the spool's -host_auth/-auth_id/-auth_sender, acl_smtp_auth,
`authenticated =`, MAIL's AUTH=, server_advertise_condition and the auth:fail
event (events module). `-bh` prints the exchange as Exim 4.96 does (the
expected lines below are the reference Exim's own output for the same input).

The client side: a second tern daemon relays through the smtp transport with
hosts_require_auth / hosts_try_auth to the first one, which relays only for
authenticated clients: `=>` with A=, and the deferral when the password is wrong.

Run: python3 tests/smtp/test_auth.py --tern build/bin/tern [-k pattern]
"""
import base64
import hmac
import os
import re
import shutil
import smtplib
import ssl
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
import ternlab  # noqa: E402

TERN = None

AUTHENTICATORS = """
begin authenticators
plain:
  driver = plaintext
  public_name = PLAIN
  server_prompts = :
  server_condition = ${if and {{eq{$auth2}{u1}}{eq{$auth3}{pw1}}}}
  server_set_id = $auth2
login:
  driver = plaintext
  public_name = LOGIN
  server_prompts = Username:: : Password::
  server_condition = ${if and {{eq{$auth1}{u1}}{eq{$auth2}{pw1}}}}
  server_set_id = $auth1
cram:
  driver = cram_md5
  public_name = CRAM-MD5
  server_secret = ${if eq{$auth1}{u1}{secret1}fail}
  server_set_id = $auth1
"""

RELAY_ONLY_AUTHENTICATED = """acl_smtp_rcpt = acl_rcpt
begin acl
acl_rcpt:
  accept authenticated = *
         message = relayed for $authenticated_id
  deny   message = relay not permitted
"""


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


class AuthTest(unittest.TestCase):
    config = RELAY_ONLY_AUTHENTICATED + AUTHENTICATORS

    def setUp(self):
        self.scratch = ternlab.Scratch()
        self.daemons = []
        self.clients = []

    def tearDown(self):
        for c in self.clients:
            c.close()
        for d in self.daemons:
            d.close()
        self.scratch.close()

    def daemon(self, config=None, **kw):
        d = ternlab.Daemon(TERN, self.scratch, self.config if config is None else config,
                           name=f"tern{len(self.daemons)}", **kw)
        self.daemons.append(d)
        return d

    def greeted(self, daemon):
        c = ternlab.SmtpClient(daemon.port)
        self.clients.append(c)
        self.assertEqual(c.reply()[0], 220)
        code, lines = c.cmd("EHLO client.example")
        self.assertEqual(code, 250)
        return c, lines


class ServerSide(AuthTest):
    def test_ehlo_advertises_the_mechanisms(self):
        _, lines = self.greeted(self.daemon())
        self.assertIn("AUTH PLAIN LOGIN CRAM-MD5", lines)
        self.assertLess(lines.index("AUTH PLAIN LOGIN CRAM-MD5"), lines.index("CHUNKING"))

    def test_plain_then_relay_logged_with_A_and_spooled(self):
        d = self.daemon()
        c, _ = self.greeted(d)
        self.assertEqual(c.cmd("MAIL FROM:<a@client.example>"), (250, ["OK"]))
        self.assertEqual(c.cmd("RCPT TO:<x@far.example>"), (550, ["relay not permitted"]))
        self.assertEqual(c.cmd("RSET")[0], 250)
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0u1\0pw1")), (235, ["Authentication succeeded"]))
        self.assertEqual(c.cmd("MAIL FROM:<a@client.example> AUTH=a+2Bb@client.example"), (250, ["OK"]))
        self.assertEqual(c.cmd("RCPT TO:<x@far.example>"), (250, ["relayed for u1"]))
        self.assertEqual(c.cmd("DATA")[0], 354)
        code, lines = c.cmd("Subject: hi\r\n\r\nbody\r\n.")
        self.assertEqual(code, 250)
        msg = lines[0].split("id=")[1]
        self.assertRegex(d.log(), re.escape(msg) + r" <= a@client.example H=\(client.example\) \[127.0.0.1\] "
                         r"P=esmtpa A=plain:u1 S=\d+")
        header = d.read(msg, "H")
        self.assertIn("\n-host_auth plain\n-host_auth_pubname PLAIN\n", header)
        self.assertIn("--auth_id u1\n", header)
        self.assertIn("--auth_sender a+b@client.example\n", header)
        self.assertEqual(c.cmd("AUTH LOGIN"), (503, ["already authenticated"]))

    def test_login_prompts_cancel_and_success(self):
        c, _ = self.greeted(self.daemon())
        self.assertEqual(c.cmd("AUTH LOGIN"), (334, ["VXNlcm5hbWU6"]))
        self.assertEqual(c.cmd(b64("u1")), (334, ["UGFzc3dvcmQ6"]))
        self.assertEqual(c.cmd("*"), (501, ["Authentication cancelled"]))
        self.assertEqual(c.cmd("AUTH LOGIN " + b64("u1")), (334, ["UGFzc3dvcmQ6"]))
        self.assertEqual(c.cmd(b64("pw1")), (235, ["Authentication succeeded"]))

    def test_cram_md5(self):
        d = self.daemon()
        c, _ = self.greeted(d)
        code, [challenge] = c.cmd("AUTH CRAM-MD5")
        self.assertEqual(code, 334)
        text = base64.b64decode(challenge)
        self.assertRegex(text.decode(), r"^<\d+\.\d+@mx\.test\.example>$")
        digest = hmac.new(b"secret1", text, "md5").hexdigest()
        self.assertEqual(c.cmd(b64(f"u1 {digest}")), (235, ["Authentication succeeded"]))
        code, [challenge] = self.greeted(d)[0].cmd("AUTH CRAM-MD5")
        wrong = hmac.new(b"secret2", base64.b64decode(challenge), "md5").hexdigest()
        self.assertEqual(self.clients[-1].cmd(b64(f"u1 {wrong}")), (535, ["Incorrect authentication data"]))
        d.wait_log("cram authenticator failed for (client.example) [127.0.0.1]: "
                   "535 Incorrect authentication data (set_id=u1)")

    def test_failures_and_protocol_errors(self):
        d = self.daemon("log_selector = +smtp_protocol_error +smtp_syntax_error\n" + self.config)
        c, _ = self.greeted(d)
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0u1\0bad")), (535, ["Incorrect authentication data"]))
        self.assertEqual(c.cmd("AUTH FOO"), (504, ["FOO authentication mechanism not supported"]))
        self.assertEqual(c.cmd("AUTH PL/AIN"), (501, ["invalid character in authentication mechanism name"]))
        self.assertEqual(c.cmd("AUTH PLAIN !!!"), (501, ["Invalid base64 data"]))
        line = "plain authenticator failed for (client.example) [127.0.0.1]: " \
               "535 Incorrect authentication data (set_id=u1)"
        d.wait_log(line)
        d.wait_log(line, which="reject")
        d.wait_log('SMTP protocol error in "AUTH FOO" H=(client.example) [127.0.0.1] '
                   'FOO authentication mechanism not supported')
        d.wait_log('SMTP syntax error in "AUTH PL/AIN" H=(client.example) [127.0.0.1] '
                   'invalid character in authentication mechanism name')
        c2, _ = self.greeted(d)
        self.assertEqual(c2.cmd("MAIL FROM:<a@b.example>")[0], 250)
        self.assertEqual(c2.cmd("AUTH PLAIN"), (503, ["not permitted in mail transaction"]))
        c3 = ternlab.SmtpClient(d.port)
        self.clients.append(c3)
        c3.reply()
        self.assertEqual(c3.cmd("HELO client.example")[0], 250)
        self.assertEqual(c3.cmd("AUTH PLAIN " + b64("\0u1\0pw1")), (503, ["AUTH command used when not advertised"]))

    def test_mail_auth_ignored_without_authentication(self):
        d = self.daemon("acl_smtp_rcpt = accept\n" + AUTHENTICATORS)
        c, _ = self.greeted(d)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.example> AUTH=x+40y.example")[0], 250)
        d.wait_log("ignoring AUTH=x+40y.example from H=(client.example) [127.0.0.1] (client not authenticated)")

    def test_acl_smtp_auth_refuses(self):
        d = self.daemon("acl_smtp_auth = acl_auth\nacl_smtp_rcpt = accept\nbegin acl\nacl_auth:\n"
                        "  deny condition = ${if eq{${uc:$smtp_command_argument}}{CRAM-MD5}}\n"
                        "       message = not that one\n  accept\n" + AUTHENTICATORS)
        c, _ = self.greeted(d)
        self.assertEqual(c.cmd("AUTH CRAM-MD5"), (503, ["not that one"]))
        d.wait_log("H=(client.example) [127.0.0.1] rejected AUTH CRAM-MD5: not that one", which="reject")
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0u1\0pw1"))[0], 235)

    def test_advertised_only_over_tls_and_smtplib_login(self):
        cond = "  server_advertise_condition = ${if def:tls_in_cipher}\n"
        config = RELAY_ONLY_AUTHENTICATED + AUTHENTICATORS.replace("  server_set_id = $auth2\n",
                                                                   "  server_set_id = $auth2\n" + cond)
        d = self.daemon(config)
        _, lines = self.greeted(d)
        self.assertIn("AUTH LOGIN CRAM-MD5", lines)  # PLAIN only over TLS
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with smtplib.SMTP("127.0.0.1", d.port, timeout=10) as s:
            s.ehlo("client.example")
            s.starttls(context=ctx)
            s.ehlo("client.example")
            self.assertIn("PLAIN", s.esmtp_features["auth"].split())
            s.login("u1", "pw1")  # smtplib prefers CRAM-MD5 (no secret for it here), then PLAIN
            s.sendmail("a@client.example", ["x@far.example"], "Subject: tls\r\n\r\nbody\r\n")
        self.assertRegex(d.log(), r"<= a@client.example H=\(client.example\) \[127.0.0.1\] P=esmtpsa "
                                  r"X=\S+ CV=no A=(plain|login):u1 S=\d+")

    @unittest.skipUnless(shutil.which("swaks"), "swaks not installed")
    def test_swaks_with_and_without_starttls(self):
        d = self.daemon()
        for tls in ([], ["-tls"]):
            r = subprocess.run(["swaks", "--server", "127.0.0.1", "--port", str(d.port), "--from", "a@client.example",
                                "--to", "x@far.example", "--auth", "LOGIN", "--auth-user", "u1",
                                "--auth-password", "pw1", "--helo", "client.example", *tls],
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertRegex(r.stdout, r"<[-~] +235 Authentication succeeded\n")
        self.assertEqual(len(re.findall(r"P=esmtps?a .*A=login:u1", d.log())), 2, d.log())

    def test_auth_fail_event_is_logged(self):
        d = self.daemon("modules = events\n"
                        "event_action = ${if eq{$event_name}{auth:fail}{event $sender_host_authenticated: $event_data}}\n"
                        + RELAY_ONLY_AUTHENTICATED + AUTHENTICATORS)
        c, _ = self.greeted(d)
        self.assertEqual(c.cmd("AUTH PLAIN " + b64("\0u1\0nope"))[0], 535)
        d.wait_log("event plain: 535 Incorrect authentication data\n")


class HostChecking(unittest.TestCase):
    """-bh: the ACL and authenticator trace as the reference Exim 4.96 prints it."""

    def test_bh_trace(self):
        with ternlab.Scratch() as scratch:
            conf = scratch.file("tern.conf", f"spool_directory = {scratch.path}/spool\n"
                                             "primary_hostname = ref.example\n" + RELAY_ONLY_AUTHENTICATED
                                + AUTHENTICATORS)
            r = subprocess.run([TERN, "-C", conf, "-bh", "10.0.0.1"],
                               input="EHLO x\r\nAUTH PLAIN AHUxAHB3Mg==\r\nAUTH LOGIN dTE=\r\ncHcx\r\n"
                                     "MAIL FROM:<a@b> AUTH=x+40y\r\nRCPT TO:<c@d>\r\nQUIT\r\n",
                               capture_output=True, text=True, timeout=20)
            want_err = [
                ">>> plain authenticator server_condition:", ">>>   $auth1 = ", ">>>   $auth2 = u1",
                ">>>   $auth3 = pw2", ">>>   $1 = ", ">>>   $2 = u1", ">>>   $3 = pw2", ">>> expanded string: ",
                "LOG: plain authenticator failed for (x) [10.0.0.1]: 535 Incorrect authentication data (set_id=u1)",
                ">>> login authenticator server_condition:", ">>>   $auth1 = u1", ">>>   $auth2 = pw1",
                ">>>   $1 = u1", ">>>   $2 = pw1", ">>> expanded string: true",
                ">>> check authenticated = *", '>>> login in "*"? yes (matched "*")']
            err = [l for l in r.stderr.splitlines() if "host in" not in l and "helo_lookup" not in l]
            pos = 0
            for line in want_err:
                self.assertIn(line, err[pos:], r.stderr)
                pos = err.index(line, pos) + 1
            self.assertIn("535 Incorrect authentication data\n334 UGFzc3dvcmQ6\n235 Authentication succeeded\n"
                          "250 OK\n250 relayed for u1\n", r.stdout)


class ClientSide(AuthTest):
    """tern's smtp transport authenticating to a tern daemon that relays only then."""

    def relay(self, target_port, client_send, options="  hosts_require_auth = *\n"):
        config = ("modules = events\nacl_smtp_rcpt = accept\n"
                  "begin routers\nout:\n  driver = manualroute\n"
                  f"  route_list = * 127.0.0.1::{target_port}\n  transport = remote_smtp\n"
                  "begin transports\nremote_smtp:\n  driver = smtp\n" + options +
                  "begin retry\n*   *   F,1h,1m\n"
                  "begin authenticators\n"
                  "plain_out:\n  driver = plaintext\n  public_name = PLAIN\n"
                  f"  client_send = {client_send}\n  client_set_id = u1\n"
                  "cram_out:\n  driver = cram_md5\n  public_name = CRAM-MD5\n"
                  "  client_name = u1\n  client_secret = ${if eq{$host_port}{0}{x}fail}\n")
        return self.daemon(config, deliver=True)

    def submit(self, daemon):
        c = ternlab.SmtpClient(daemon.port)
        self.clients.append(c)
        self.assertEqual(c.reply()[0], 220)
        self.assertEqual(c.cmd("EHLO client.example")[0], 250)
        self.assertEqual(c.cmd("MAIL FROM:<a@client.example>")[0], 250)
        self.assertEqual(c.cmd("RCPT TO:<x@far.example>")[0], 250)
        self.assertEqual(c.cmd("DATA")[0], 354)
        code, lines = c.cmd("Subject: relayed\r\n\r\nbody\r\n.")
        self.assertEqual(code, 250)
        return lines[0].split("id=")[1]

    def test_delivery_authenticates(self):
        target = self.daemon()
        relay = self.relay(target.port, "^u1^pw1")
        msg = self.submit(relay)
        relay.wait_log(f"{msg} Completed")
        self.assertRegex(relay.log(), re.escape(msg) + r" => x@far.example R=out T=remote_smtp "
                         r"H=127.0.0.1 \[127.0.0.1\] X=\S+ CV=no A=plain_out:u1 K C=\"250- \d+ byte chunk")
        target.wait_log("A=plain:u1")
        self.assertRegex(target.log(), r"<= a@client.example H=\(mx.test.example\) \[127.0.0.1\] "
                                       r"P=esmtpsa X=\S+ CV=no A=plain:u1 K S=\d+")

    def test_wrong_password_defers(self):
        target = self.daemon()
        # The transport's auth:fail event (Exim 4.97): its non-empty answer is logged.
        relay = self.relay(target.port, "^u1^wrong", options="  hosts_require_auth = *\n"
                           "  event_action = ${if eq{$event_name}{auth:fail}"
                           "{client event $sender_host_authenticated: $event_data}}\n")
        msg = self.submit(relay)
        relay.wait_log(f"{msg} == x@far.example")
        self.assertIn("authentication required but authentication attempt(s) failed", relay.log())
        # Exim's client-side line, with the message's id, then the event's answer.
        self.assertIn(f"{msg} plain_out authenticator failed H=127.0.0.1 [127.0.0.1] "
                      "535 Incorrect authentication data\n", relay.log())
        self.assertIn(f"{msg} client event plain_out: 535 Incorrect authentication data\n", relay.log())
        target.wait_log("plain authenticator failed for (mx.test.example) [127.0.0.1]: "
                        "535 Incorrect authentication data (set_id=u1)")

    def test_try_auth_goes_on_unauthenticated(self):
        target = self.daemon("acl_smtp_rcpt = accept\n" + AUTHENTICATORS)
        relay = self.relay(target.port, "^u1^wrong", options="  hosts_try_auth = *\n")
        msg = self.submit(relay)
        relay.wait_log(f"{msg} Completed")
        self.assertRegex(relay.log(), re.escape(msg) + r" => x@far.example R=out T=remote_smtp "
                         r"H=127.0.0.1 \[127.0.0.1\] X=\S+ CV=no K C=")


def exim_ref():
    """argv prefix for the reference Exim 4.96 (scripts/exim-ref.sh), or None when it is
    not set up or we are not root (it accepts -C only from root)."""
    script = os.environ.get("TERN_EXIM_REF") or os.path.join(os.path.dirname(__file__), "..", "..", "scripts",
                                                               "exim-ref.sh")
    if os.geteuid() != 0 or not os.path.exists(script):
        return None
    r = subprocess.run([script, "path"], capture_output=True, text=True)
    if r.returncode != 0 or not os.path.exists(r.stdout.strip()):
        return None
    return [script, "exim"]


@unittest.skipUnless(exim_ref(), "the reference Exim (scripts/exim-ref.sh setup) is not available, or not root")
class AgainstExim(AuthTest):
    """tern's client against Exim 4.96's server, and Exim's client against tern's server:
    the same authenticators, the same log lines on both sides."""

    SERVER = "acl_smtp_rcpt = acl_rcpt\nbegin acl\nacl_rcpt:\n  accept authenticated = *\n" \
             "  deny message = relay not permitted\n" + AUTHENTICATORS

    def client_config(self, port, cram_secret, plain_password):
        return ("begin routers\nout:\n  driver = manualroute\n"
                f"  route_list = * 127.0.0.1::{port}\n  transport = remote_smtp\n  self = send\n"
                "begin transports\nremote_smtp:\n  driver = smtp\n  hosts_require_auth = *\n"
                "  hosts_avoid_tls = *\n  allow_localhost\n"
                "begin retry\n*  *  F,1h,1m\n"
                "begin authenticators\n"
                "cram_out:\n  driver = cram_md5\n  public_name = CRAM-MD5\n  client_name = u1\n"
                f"  client_secret = {cram_secret}\n  client_set_id = u1\n"
                "plain_out:\n  driver = plaintext\n  public_name = PLAIN\n"
                f"  client_send = ^u1^{plain_password}\n  client_set_id = u1\n")

    def exim_dir(self, name, config):
        d = os.path.join(self.scratch.path, name)
        for sub in ("", "spool", "log"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
            shutil.chown(os.path.join(d, sub), "Debian-exim", "Debian-exim")
        conf = os.path.join(d, "exim.conf")
        with open(conf, "w") as f:
            f.write(f"spool_directory = {d}/spool\nlog_file_path = {d}/log/%slog\n"
                    "primary_hostname = exim.example\nkeep_environment =\n" + config)
        os.chmod(conf, 0o644)
        return d, conf

    def exim_log(self, d):
        try:
            with open(os.path.join(d, "log", "mainlog")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def test_tern_client_exim_server(self):
        port = ternlab.free_port()
        d, conf = self.exim_dir("exim-server", "queue_only\n" + self.SERVER)
        exim = ternlab.Server(exim_ref() + ["-C", conf, "-bdf", "-oX", f"127.0.0.1.{port}"],
                              log_path=os.path.join(d, "stderr"))
        try:
            ternlab.wait_port(port, proc=exim.proc)
            for name, secret, password in (("cram_out", "secret1", "pw1"), ("plain_out", "wrong", "pw1")):
                relay = self.daemon("acl_smtp_rcpt = accept\n" + self.client_config(port, secret, password),
                                    deliver=True)
                msg = ClientSide.submit(self, relay)
                relay.wait_log(f"{msg} Completed")
                self.assertRegex(relay.log(), re.escape(msg) + r" => x@far.example R=out T=remote_smtp "
                                 r"H=127.0.0.1 \[127.0.0.1\] A=" + name + r":u1 K C=")
            ternlab.wait_for(lambda: self.exim_log(d).count("P=esmtpa") == 2, 10, "two messages at Exim")
            log = self.exim_log(d)
            self.assertRegex(log, r"<= a@client.example H=\(mx.test.example\) \[127.0.0.1\] P=esmtpa A=cram:u1 ")
            self.assertRegex(log, r"<= a@client.example H=\(mx.test.example\) \[127.0.0.1\] P=esmtpa A=plain:u1 ")
            self.assertIn("cram authenticator failed for (mx.test.example) [127.0.0.1]: "
                          "535 Incorrect authentication data (set_id=u1)", log)
        finally:
            exim.stop()

    def test_exim_client_tern_server(self):
        target = self.daemon(self.SERVER)
        d, conf = self.exim_dir("exim-client", "queue_only\n" + self.client_config(target.port, "wrong", "pw1"))
        r = subprocess.run(exim_ref() + ["-C", conf, "-odq", "-f", "a@exim.example", "x@far.example"],
                           input="Subject: from exim\n\nbody\n", capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        ids = [f[:-2] for f in os.listdir(os.path.join(d, "spool", "input")) if f.endswith("-H")]
        self.assertEqual(len(ids), 1)
        subprocess.run(exim_ref() + ["-C", conf, "-M", ids[0]], capture_output=True, timeout=60)
        log = self.exim_log(d)
        self.assertIn("cram_out authenticator failed H=127.0.0.1 [127.0.0.1] 535 Incorrect authentication data", log)
        self.assertRegex(log, r"=> x@far.example R=out T=remote_smtp H=127.0.0.1 \[127.0.0.1\] A=plain_out:u1 ")
        target.wait_log("cram authenticator failed for (exim.example) [127.0.0.1]: "
                        "535 Incorrect authentication data (set_id=u1)")
        self.assertRegex(target.log(), r"<= a@exim.example H=\(exim.example\) \[127.0.0.1\] P=esmtpa A=plain:u1 ")


if __name__ == "__main__":
    ternlab.unittest_main(__name__)
