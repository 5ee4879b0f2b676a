"""core/log/testdata/exim_capture/capture.py: drive the reference Exim 4.96 through SMTP sessions.

Prints, per scenario, the replies the client got and the lines Exim added to its main,
reject and panic logs. Started by run.sh (root, private network and mount namespace, its
own resolver and /etc/hosts); not a test: its output is the ground truth the unit tests
quote. Usage: capture.py WORKDIR 'log_selector' ['extra main options, \\n between']
Environment: ONLY=scenario,scenario runs a subset.
"""
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
EXIM_REF = os.path.join(HERE, "../../../../scripts/exim-ref.sh")

out = os.path.abspath(sys.argv[1])
sel = sys.argv[2]
extra = sys.argv[3] if len(sys.argv) > 3 else ""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


for d in ("spool", "log", "mail"):
    os.makedirs(os.path.join(out, d))
pw = pwd.getpwnam("Debian-exim")
for d in ("spool", "log", "mail"):
    os.chown(os.path.join(out, d), pw.pw_uid, pw.pw_gid)
port, sink_port, closed = free_port(), free_port(), free_port()
conf = open(os.path.join(HERE, "exim.conf.in")).read()
conf = (conf.replace("@DIR@", out).replace("@SEL@", sel).replace("@EXTRA@", extra.replace("\\n", "\n"))
        .replace("@SINK@", str(sink_port)).replace("@CLOSED@", str(closed)))
conf_path = os.path.join(out, "exim.conf")
with open(conf_path, "w") as f:
    f.write(conf)
os.chmod(conf_path, 0o644)

sink = subprocess.Popen([sys.executable, os.path.join(HERE, "sink.py"), str(sink_port),
                         os.path.join(out, "cert.pem"), os.path.join(out, "key.pem")])
daemon = subprocess.Popen([EXIM_REF, "exim", "-C", conf_path, "-bdf", "-oX", str(port)],
                          stderr=open(os.path.join(out, "daemon.err"), "w"))
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        break
    except OSError:
        time.sleep(0.1)
time.sleep(0.5)

mainlog = os.path.join(out, "log", "mainlog")
rejectlog = os.path.join(out, "log", "rejectlog")
paniclog = os.path.join(out, "log", "paniclog")


def size(p):
    try:
        return os.path.getsize(p)
    except OSError:
        return 0


class Client:
    def __init__(self, src="127.0.0.3", wait_banner=True):
        self.s = socket.socket()
        self.s.bind((src, 0))
        self.s.connect(("127.0.0.1", port))
        self.f = self.s.makefile("rb")
        self.banner = self.reply() if wait_banner else None

    def reply(self):
        lines = []
        while True:
            l = self.f.readline()
            if not l:
                lines.append("<EOF>")
                break
            l = l.decode(errors="replace").rstrip("\r\n")
            lines.append(l)
            if len(l) < 4 or l[3] != "-":
                break
        return lines

    def send(self, data):
        self.s.sendall(data.encode() if isinstance(data, str) else data)

    def cmd(self, line):
        self.send(line + "\r\n")
        return self.reply()

    def starttls(self):
        r = self.cmd("STARTTLS")
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        self.s = ctx.wrap_socket(self.s, server_hostname="ref.example")
        self.f = self.s.makefile("rb")
        return r

    def close(self):
        self.s.close()


def message(subject="Hello world", msgid="<m1@sender.example>", extra_headers="", body="Body line\r\n"):
    h = "From: Alice <alice@sender.example>\r\nTo: bob@local.example\r\n"
    if subject is not None:
        h += f"Subject: {subject}\r\n"
    if msgid:
        h += f"Message-ID: {msgid}\r\n"
    return h + extra_headers + "\r\n" + body


def transaction(c, sender, rcpts, msg, mailargs=""):
    r = [c.cmd(f"MAIL FROM:<{sender}>{mailargs}")]
    for x in rcpts:
        r.append(c.cmd(f"RCPT TO:<{x}>"))
    r.append(c.cmd("DATA"))
    if r[-1][0].startswith("354"):
        c.send(msg + ".\r\n")
        r.append(c.reply())
    return r



def session(src="127.0.0.3", tls=False, auth=False, helo="EHLO client.example"):
    """A connection after EHLO; with tls after STARTTLS and EHLO again; with auth after
    AUTH PLAIN as u1 (password "secret")."""
    c = Client(src)
    c.cmd(helo)
    if tls:
        c.starttls()
        c.cmd(helo)
    if auth:
        c.cmd("AUTH PLAIN AHUxAHNlY3JldA==")  # \0u1\0secret
    return c


def commands(*lines, **kw):
    """A session, these commands, QUIT: the replies to the commands."""
    c = session(**kw)
    r = [c.cmd(line) for line in lines]
    c.cmd("QUIT")
    return r


def in_data(partial):
    """A session in the DATA phase, with `partial` sent."""
    c = session()
    c.cmd("MAIL FROM:<alice@sender.example>")
    c.cmd("RCPT TO:<bob@local.example>")
    c.cmd("DATA")
    if partial:
        c.send(partial)
    return c


def lose(c):
    time.sleep(0.3)
    c.close()


def reset(c):
    """Close with a TCP RST (SO_LINGER 0)."""
    import struct
    c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()


def simple(src="127.0.0.3", helo="EHLO client.example", sender="alice@sender.example",
           rcpts=("bob@local.example",), msg=None, mailargs=""):
    c = Client(src)
    c.cmd(helo)
    r = transaction(c, sender, rcpts, msg or message(), mailargs)
    c.cmd("QUIT")
    c.close()
    return r


scenarios = []


def scenario(f):
    scenarios.append(f)
    return f


@scenario
def plain_local():
    return simple()


@scenario
def helo_localhost_verified():
    return simple(src="127.0.0.1", helo="HELO localhost")


@scenario
def ehlo_other_verified():
    return simple(src="127.0.0.1", helo="EHLO other.example")


@scenario
def name_not_verified():
    return simple(src="127.0.0.6", helo="EHLO fake.example")


@scenario
def lookup_failed():
    return simple(src="127.0.0.5")


@scenario
def remote_tls_two_rcpts():
    return simple(rcpts=("carol@remote.example", "dave@remote.example"))


@scenario
def remote_failures():
    return simple(rcpts=("rej550@remote.example", "tmp451@remote.example", "x@nowhere.example",
                         "y@fail.example"))


@scenario
def two_messages_one_connection():
    c = Client()
    c.cmd("EHLO client.example")
    r = transaction(c, "alice@sender.example", ["bob@local.example"], message(subject="first"))
    r += transaction(c, "alice@sender.example", ["carol@remote.example"], message(subject="second", msgid="<m2@sender.example>"))
    c.cmd("QUIT")
    return r


@scenario
def pipelined_transaction():
    c = Client()
    c.cmd("EHLO client.example")
    c.send("MAIL FROM:<alice@sender.example>\r\nRCPT TO:<bob@local.example>\r\nDATA\r\n")
    r = [c.reply(), c.reply(), c.reply()]
    c.send(message(subject="pipelined") + ".\r\n")
    r.append(c.reply())
    c.cmd("QUIT")
    return r


@scenario
def bdat_transaction():
    c = Client()
    c.cmd("EHLO client.example")
    r = [c.cmd("MAIL FROM:<alice@sender.example>"), c.cmd("RCPT TO:<bob@local.example>")]
    m = message(subject="chunked")
    c.send(f"BDAT {len(m)} LAST\r\n" + m)
    r.append(c.reply())
    c.cmd("QUIT")
    return r


@scenario
def tls_auth():
    c = session(tls=True, auth=True)
    r = transaction(c, "alice@sender.example", ["bob@local.example"], message(subject="tls auth"))
    c.cmd("QUIT")
    return r


@scenario
def auth_plain_text():
    c = session(auth=True)
    r = transaction(c, "alice@sender.example", ["bob@local.example"], message(subject="auth"))
    c.cmd("QUIT")
    return r


@scenario
def auth_failed():
    return commands("AUTH PLAIN AHUxAHdyb25n")  # \0u1\0wrong


@scenario
def tls_only():
    c = session(tls=True)
    r = transaction(c, "alice@sender.example", ["bob@local.example"], message(subject="tls"))
    c.cmd("QUIT")
    return r


@scenario
def rcpt_rejections():
    return commands("MAIL FROM:<alice@sender.example>", "RCPT TO:<nobody@local.example>",
                    "RCPT TO:<x@other.example>", "RCPT TO:<later@local.example>", "RSET")


@scenario
def mail_rejected():
    return commands("MAIL FROM:<bad@sender.example>")


@scenario
def data_rejected():
    return simple(rcpts=[f"r{i}@local.example" for i in range(1, 7)],
                  msg=message(subject="please reject-me", extra_headers="X-Extra: one\r\n  folded\r\n"))


@scenario
def data_rejected_one_rcpt():
    return simple(rcpts=["r1@local.example"], msg=message(subject="reject-me too"))


@scenario
def connection_rejected():
    c = Client(src="127.0.0.2")
    r = c.cmd("QUIT")
    return [c.banner, r]


@scenario
def sync_error_greeting():
    c = Client(src="127.0.0.4", wait_banner=False)
    c.send("EHLO early.example\r\n")
    r = c.reply()
    r2 = c.reply()
    return [r, r2]


@scenario
def pipelining_sync_error():
    c = Client()
    c.cmd("HELO client.example")
    c.send("MAIL FROM:<alice@sender.example>\r\nRCPT TO:<bob@local.example>\r\n")
    r = [c.reply(), c.reply()]
    return r


@scenario
def command_timeout():
    c = session()
    time.sleep(4)
    return c.reply()


@scenario
def data_timeout():
    c = in_data("Subject: partial\r\n\r\nsome")
    time.sleep(4)
    return c.reply()


@scenario
def lost_after_ehlo():
    session().close()


@scenario
def lost_before_helo():
    c = Client()
    c.close()


@scenario
def lost_in_data():
    lose(in_data("Subject: partial\r\n\r\nsome"))


@scenario
def lost_after_rcpt():
    c = session()
    c.cmd("MAIL FROM:<alice@sender.example>")
    c.cmd("RCPT TO:<bob@local.example>")
    c.close()


@scenario
def syntax_errors():
    c = Client()
    c.cmd("EHLO client.example")
    r = [c.cmd("FOO bar"), c.cmd("MAIL FROM:<broken"), c.cmd("BAR"), c.cmd("BAZ \"quoted\"")]
    r.append(c.reply())
    return r


@scenario
def protocol_errors():
    return commands("RCPT TO:<bob@local.example>", "DATA")


@scenario
def no_mail_quit():
    return commands("NOOP")


@scenario
def incomplete_quit():
    return commands("MAIL FROM:<alice@sender.example>", "RCPT TO:<bob@local.example>",
                    "RCPT TO:<carol@local.example>")


@scenario
def too_big():
    return simple(msg=message(subject="big", body=("x" * 70 + "\r\n") * 400))


@scenario
def eightbit_and_subject_quoting():
    subj = 'He said "hi" =?utf-8?q?caf=C3=A9?= \\ back'
    return simple(msg=message(subject=subj), mailargs=" BODY=8BITMIME")


@scenario
def seven_bit_no_msgid_no_subject():
    return simple(msg=message(subject=None, msgid=None), mailargs=" BODY=7BIT")


@scenario
def bounce_sender():
    return simple(sender="")


@scenario
def etrn():
    return commands("ETRN other.example")


@scenario
def too_many_nonmail():
    c = Client()
    r = [c.cmd("EHLO client.example") for _ in range(12)]
    return r


@scenario
def tls_garbage():
    c = Client()
    c.cmd("EHLO client.example")
    c.cmd("STARTTLS")
    c.send(b"\x16\x03\x01\x00\x05hello-not-tls\r\n")
    time.sleep(0.5)
    c.close()


@scenario
def local_bm():
    p = subprocess.run([EXIM_REF, "exim", "-C", conf_path, "-odi", "-f", "local@sender.example",
                        "bob@local.example"], input=message(subject="local").replace("\r\n", "\n"),
                       capture_output=True, text=True)
    return [p.returncode, p.stderr]


@scenario
def local_bs():
    p = subprocess.run([EXIM_REF, "exim", "-C", conf_path, "-odi", "-bs"],
                       input="EHLO me\r\nMAIL FROM:<ls@sender.example>\r\nRCPT TO:<bob@local.example>\r\n"
                             "DATA\r\n" + message(subject="bs") + ".\r\nQUIT\r\n",
                       capture_output=True, text=True)
    return [p.returncode, p.stdout[-200:]]


@scenario
def tls_auth_rcpt_reject():
    c = session(tls=True, auth=True)
    r = [c.cmd("MAIL FROM:<alice@sender.example>"), c.cmd("RCPT TO:<nobody@local.example>"),
         c.cmd("RCPT TO:<bob@local.example>"), c.cmd("DATA")]
    c.send(message(subject="reject-me tls") + ".\r\n")
    r.append(c.reply())
    c.cmd("QUIT")
    return r


@scenario
def sync_greeting_long():
    c = Client(src="127.0.0.4", wait_banner=False)
    c.send("EHLO a-rather-long-hostname-for-the-sync-test.example\r\nMAIL FROM:<x@y>\r\n")
    return [c.reply(), c.reply()]


@scenario
def pipelining_sync_long():
    c = Client()
    c.cmd("HELO client.example")
    c.send("MAIL FROM:<alice@sender.example>\r\nRCPT TO:<bob-with-a-long-local-part@local.example>\r\nDATA\r\n")
    return [c.reply(), c.reply()]


@scenario
def rst_after_ehlo():
    reset(session())


@scenario
def rst_after_mail():
    c = session()
    c.cmd("MAIL FROM:<alice@sender.example>")
    reset(c)


@scenario
def tls_command_timeout():
    c = session(tls=True)
    time.sleep(4)
    return c.reply()


@scenario
def helo_ip_literal():
    return simple(helo="EHLO [127.0.0.3]")


@scenario
def folded_long_subject():
    subj = "A folded\r\n\tsubject line that is rather long " + "x" * 90 + " end"
    return simple(msg=message(subject=subj, msgid='<"quoted id"@sender.example>'))


@scenario
def sighup_style_rset_incomplete():
    return commands("MAIL FROM:<alice@sender.example>", "RSET", "MAIL FROM:<>",
                    "RCPT TO:<bob@local.example>")


@scenario
def sync_greeting_300():
    c = Client(src="127.0.0.4", wait_banner=False)
    c.send("EHLO " + "".join(chr(97 + i % 26) for i in range(300)) + "\r\n")
    return [c.reply(), c.reply()]


@scenario
def pipelining_sync_300():
    c = Client()
    c.cmd("HELO client.example")
    c.send("MAIL FROM:<alice@sender.example>\r\nRCPT TO:<" + "".join(chr(97 + i % 26) for i in range(300)) + "@local.example>\r\n")
    return [c.reply(), c.reply()]


@scenario
def redirected():
    return simple(rcpts=("list@alias.example",))


@scenario
def local_bs_history():
    """Run with smtp_accept_max_nonmail = 100: the C= list after more than 20 commands."""
    cmds = "EHLO x\r\n" + "NOOP\r\nRSET\r\nHELP\r\n" * 8 + "VRFY a\r\nEXPN b\r\nETRN c\r\nBOGUS\r\nQUIT\r\n"
    p = subprocess.run([EXIM_REF, "exim", "-C", conf_path, "-bs"], input=cmds,
                       capture_output=True, text=True)
    return [p.returncode]


@scenario
def local_bs_errors():
    cmds = ("HELO x\r\nMAIL FROM:<bad@x>\r\nRCPT TO:<nobody@local.example>\r\n"
            "RCPT TO:<r@local.example>\r\nDATA\r\nSubject: s\r\n\r\nbody\r\n.\r\n"
            "ONE\r\nTWO\r\nTHREE\r\nbody\r\nQUIT\r\n")
    p = subprocess.run([EXIM_REF, "exim", "-C", conf_path, "-odq", "-bs"], input=cmds,
                       capture_output=True, text=True)
    return [p.returncode]


@scenario
def tls_auth_no_mail():
    c = session(tls=True, auth=True)
    return c.cmd("QUIT")


@scenario
def sender_verify_fails():
    return commands("MAIL FROM:<x@unrouteable.example>", "RCPT TO:<bob@local.example>")


@scenario
def lost_in_header():
    lose(in_data("Subject: partial\r\n"))


@scenario
def lost_mid_header_line():
    lose(in_data("Subject: part"))


@scenario
def lost_right_after_data():
    lose(in_data(""))


def quiet():
    last = None
    for _ in range(60):
        cur = (size(mainlog), size(rejectlog), size(paniclog))
        if cur == last:
            return
        last = cur
        time.sleep(0.5)


try:
    only = os.environ.get("ONLY")
    for sc in scenarios:
        if only and sc.__name__ not in only.split(","):
            continue
        quiet()
        m0, r0, p0 = size(mainlog), size(rejectlog), size(paniclog)
        try:
            res = sc()
        except Exception as e:  # noqa
            res = f"EXC {e!r}"
        time.sleep(1.0)
        quiet()
        print(f"##### {sc.__name__}  replies: {res!r}")
        for name, path, off in (("main", mainlog, m0), ("reject", rejectlog, r0), ("panic", paniclog, p0)):
            if size(path) > off:
                with open(path, "rb") as f:
                    f.seek(off)
                    for line in f.read().decode(errors="replace").splitlines():
                        print(f"[{name}] {line}")
        sys.stdout.flush()
finally:
    daemon.terminate()
    sink.terminate()
    daemon.wait()
    sink.wait()
