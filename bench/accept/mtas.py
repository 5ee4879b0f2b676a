"""bench/accept/mtas.py: the SMTP servers the accept, memory and relay benchmarks run.

tern, Exim 4.96 and Postfix 3.7 (both extracted from Debian's packages, not
installed), each configured in its own scratch directory to listen on one
loopback port and either to queue every message durably without delivering it
(accept, memory) or to relay every message at once to a counting smtp-sink on
another loopback port (relay: Daemon.relay_to); and Postfix's smtp-sink, which
stores nothing (the ceiling). Also the client, smtp-source. Used by
bench/accept/run.py, bench/memory/run.py and bench/relay/run.py.

Every server is a ternlab.Server (own process group, stopped on close);
start() raises Unavailable with a one-line reason when a server cannot run.
bench/accept/harness.py builds them (Toolbox) and runs them (run_all).
"""
import contextlib
import glob
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import ternlab  # noqa: E402  (tests/lib: free ports, scratch dirs, servers)

HELO_NAME = "client.example"        # not the servers' name: Exim looks up a HELO that claims to be it
SENDER = "sender@client.example"
RECIPIENT = "rcpt@remote.example"   # not local to any server: relayed, no local-user check
SERVER_NAME = "bench.example"


class Unavailable(Exception):
    """A server that cannot run here; the message is the reason, one line."""


def _tool_path(script):
    """Run scripts/<script> setup (idempotent) and return what `path` prints."""
    path = os.path.join(ROOT, "scripts", script)
    subprocess.run([path, "setup"], check=True, stdout=subprocess.DEVNULL)
    return subprocess.run([path, "path"], check=True, stdout=subprocess.PIPE, text=True).stdout.strip()


class PostfixTools:
    """The extracted postfix package: smtp-source, smtp-sink, Postfix itself."""

    def __init__(self):
        self.root = _tool_path("bench-tools.sh")
        self.libs = os.path.join(self.root, "usr/lib/postfix")
        self.env = dict(os.environ, LD_LIBRARY_PATH=self.libs)

    def sbin(self, name):
        return os.path.join(self.root, "usr/sbin", name)

    def daemon(self, name):
        return os.path.join(self.root, "usr/lib/postfix/sbin", name)

    def version(self):
        out = subprocess.run([self.sbin("postconf"), "-d", "-h", "mail_version"], env=self.env,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
        return out.strip() or "?"

    def smtp_source(self, port, messages, sessions, size, reuse=True):
        """The client's command line: `messages` of `size` payload bytes over `sessions`."""
        argv = [self.sbin("smtp-source"), "-M", HELO_NAME, "-f", SENDER, "-t", RECIPIENT,
                "-l", str(size), "-m", str(messages), "-s", str(sessions)]
        if reuse:
            argv.append("-d")   # each session sends its messages over one connection
        return argv + [f"127.0.0.1:{port}"]


def listening(port):
    """True when a socket listens on 127.0.0.1:port (read from /proc, no connection made)."""
    want = f"0100007F:{port:04X}"
    with contextlib.suppress(OSError):
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if fields[1] == want and fields[3] == "0A":
                    return True
    return False


def count_files(pattern_list):
    return sum(len(glob.glob(p)) for p in pattern_list)


class Daemon:
    """One server under test in workdir, on 127.0.0.1:port, for `max_connections` clients."""

    name = "?"
    stores = True   # smtp-sink stores nothing

    def __init__(self, workdir, port, max_connections):
        self.dir = workdir
        self.port = port
        self.max_connections = max_connections
        self.server = None
        self.relay = None   # the counting Sink every message goes to (relay_to), else none
        os.makedirs(workdir, exist_ok=True)

    def relay_to(self, sink):
        """Deliver every message at once to `sink` (started before this server, stopped after)."""
        self.relay = sink

    def argv(self):
        raise NotImplementedError

    def prepare(self):
        """Write the configuration and directories (before argv() runs)."""

    def queued(self):
        """Messages on the spool now (None for a server that stores nothing)."""
        return None

    def start(self, timeout=30.0):
        if self.relay is not None:
            self.relay.start(timeout)
        self.prepare()
        self.server = ternlab.Server(self.argv(), log_path=os.path.join(self.dir, "server.out"),
                                     env=self.env(), cwd=self.dir)
        deadline = time.monotonic() + timeout
        while not listening(self.port):
            if not self.server.alive():
                raise Unavailable(self.exit_reason())
            if time.monotonic() > deadline:
                self.stop()
                raise Unavailable(f"not listening on 127.0.0.1:{self.port} after {timeout:.0f}s")
            time.sleep(0.05)

    def env(self):
        return None

    def exit_reason(self):
        rc = self.server.proc.returncode
        self.server.stop()
        with open(os.path.join(self.dir, "server.out"), errors="replace") as f:
            lines = [ln.strip() for ln in f if ln.strip()]
        return f"exited with status {rc}: {lines[-1] if lines else 'no output'}"

    def pid(self):
        return self.server.proc.pid

    def stop(self):
        if self.server is not None:
            self.server.stop()
        if self.relay is not None:
            self.relay.stop()


def exim_style_config(spool, log, max_connections, relay_port=None):
    """The configuration of tern and Exim: accept any recipient, no lookups; queue only,
    or with relay_port every recipient relayed at once to 127.0.0.1:relay_port."""
    if relay_port is None:
        delivery = """# accept and store, never deliver
queue_only = true
"""
    else:
        delivery = """# deliver every message at once (the default), also after the tenth of a
# connection: Exim queues those for the next queue run otherwise (default 10)
smtp_accept_queue_per_connection = 0
"""
    return f"""# written by bench/accept/mtas.py
primary_hostname = {SERVER_NAME}
spool_directory = {spool}
log_file_path = {log}/%slog
{delivery}# no DNS or ident for the client, no TLS
host_lookup =
rfc1413_hosts =
rfc1413_query_timeout = 0s
tls_advertise_hosts =
keep_environment =
# the benchmark's clients: many at once, many messages per connection
smtp_accept_max = {max_connections}
smtp_accept_max_per_connection = 0
acl_smtp_rcpt = accept_any

begin acl

accept_any:
  accept
""" + ("" if relay_port is None else relay_config(relay_port))


def relay_config(port):
    """Routers and transports of tern and Exim for the relay benchmark: everything to the sink.

    127.0.0.1 is this host: Exim would freeze the message (self = freeze) and its smtp
    transport refuse the host (no allow_localhost); the sink listens on another port.
    """
    return f"""
begin routers

to_sink:
  driver = manualroute
  route_list = * 127.0.0.1
  self = send
  transport = to_sink

begin transports

to_sink:
  driver = smtp
  port = {port}
  allow_localhost
"""


class EximLike(Daemon):
    """tern or Exim: Exim's command line, the configuration above, an Exim spool."""

    def __init__(self, workdir, port, max_connections, binary):
        super().__init__(workdir, port, max_connections)
        self.binary = os.path.abspath(binary)

    def prepare(self):
        for sub in ("spool", "log"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self.conf = os.path.join(self.dir, f"{self.name}.conf")
        with open(self.conf, "w") as f:
            f.write(exim_style_config(os.path.join(self.dir, "spool"), os.path.join(self.dir, "log"),
                                      self.max_connections, self.relay.port if self.relay else None))
        os.chmod(self.conf, 0o644)   # Exim wants -C files root-owned, not group/world writable

    def argv(self):
        return [self.binary, "-bdf", "-C", self.conf, "-oX", f"127.0.0.1.{self.port}"]

    def version(self):
        """The third word of -bV's first line: "tern version 0.1.0 ...", "Exim version 4.96 ..."."""
        out = subprocess.run([self.binary, "-C", self.conf, "-bV"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True).stdout.split()
        return out[2] if len(out) > 2 and out[1] == "version" else "?"

    def queued(self):
        spool = os.path.join(self.dir, "spool", "input")
        return count_files([f"{spool}/*-H", f"{spool}/*/*-H"])   # flat or split spool


class Tern(EximLike):
    name = "tern"

    def prepare(self):
        if not os.access(self.binary, os.X_OK):
            raise Unavailable(f"no tern binary at {self.binary}")
        super().prepare()

    def exit_reason(self):
        reason = super().exit_reason()
        return "daemon not in this build" if "not in this build" in reason else reason


class TernWithListener(Tern):
    """tern with bench/hooks' module loaded: one no-op listener on every event (issue 3's
    hook overhead: the ratio to plain tern in the same run)."""
    name = "tern_listener"

    def prepare(self):
        super().prepare()
        built = os.path.join(os.path.dirname(self.binary), "..", "lib", "tern", "bench-modules", "noop_listener.so")
        if not os.path.exists(built):
            raise Unavailable("no noop_listener.so: cmake --build build --target noop_listener")
        module = os.path.join(self.dir, "noop_listener.so")   # root-owned, 0755: as the loader wants
        shutil.copy(built, module)
        os.chmod(module, 0o755)
        with open(self.conf) as f:
            text = f.read()
        with open(self.conf, "w") as f:
            f.write(f"modules = {module}\n" + text)


class Exim(EximLike):
    name = "exim"

    def prepare(self):
        super().prepare()
        # a delivery re-execs Exim (-Mc) at exim_path, by default /usr/sbin/exim4: not installed here
        with open(self.conf) as f:
            text = f.read()
        with open(self.conf, "w") as f:
            f.write(f"exim_path = {self.binary}\n" + text)
        # Exim started as root with -C gives up root for its user: it owns the spool and log
        subprocess.run(["chown", "Debian-exim:Debian-exim", os.path.join(self.dir, "spool"),
                        os.path.join(self.dir, "log")], check=True)


class FromPostfixPackage(Daemon):
    """A server run from the extracted postfix package (its libraries need LD_LIBRARY_PATH)."""

    def __init__(self, workdir, port, max_connections, tools):
        super().__init__(workdir, port, max_connections)
        self.tools = tools

    def env(self):
        return self.tools.env

    def version(self):
        return self.tools.version()


class Postfix(FromPostfixPackage):
    """Postfix's master in the foreground with its own config and queue directories.

    Mail is kept by the HOLD action (smtpd_client_restrictions = check_client_access
    static:HOLD): cleanup writes and fsyncs the queue file as for any message and
    files it in the hold queue, which the queue manager never schedules. Nothing is
    delivered or deferred, and no queue manager work competes with the accepts.
    """
    name = "postfix"

    def prepare(self):
        t, d = self.tools, self.dir
        self.conf = os.path.join(d, "conf")
        for sub in ("conf", "queue", "data"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        subprocess.run(["chown", "postfix", os.path.join(d, "data")], check=True)
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(f"""# written by bench/accept/mtas.py
compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
daemon_directory = {t.root}/usr/lib/postfix/sbin
command_directory = {t.root}/usr/sbin
shlib_directory = {t.libs}
meta_directory = {t.root}/etc/postfix
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME LD_LIBRARY_PATH={t.libs}
mail_owner = postfix
setgid_group = postdrop
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
myhostname = {SERVER_NAME}
mydomain = {SERVER_NAME}
mydestination =
mynetworks = 127.0.0.0/8
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
local_recipient_maps =
biff = no
smtpd_peername_lookup = no
{self.keep_or_relay()}
""")
        maxproc = str(self.max_connections) if self.max_connections > 100 else "-"
        with open(os.path.join(t.root, "usr/share/postfix/master.cf.dist")) as src, \
                open(os.path.join(self.conf, "master.cf"), "w") as out:
            for line in src:
                fields = line.split()
                if line[:1].strip() and not line.startswith("#") and len(fields) >= 8:
                    if fields[:2] == ["smtp", "inet"]:
                        fields[0], fields[6] = f"127.0.0.1:{self.port}", maxproc
                    fields[4] = "n"   # no chroot: the scratch queue has no chroot files
                    line = " ".join(fields) + "\n"
                out.write(line)
        # creates the queue directories (post-install create-missing) and checks the setup
        check = subprocess.run([t.sbin("postfix"), "-c", self.conf, "check"], env=t.env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if check.returncode != 0:
            lines = check.stdout.strip().splitlines() or ["no output"]
            raise Unavailable(f"postfix check failed: {lines[-1]}")

    def keep_or_relay(self):
        """main.cf: keep every message (HOLD) or relay it to the sink (relayhost)."""
        if self.relay is None:
            return "smtpd_client_restrictions = check_client_access static:HOLD"
        return f"relayhost = [127.0.0.1]:{self.relay.port}"

    def argv(self):
        return [self.tools.daemon("master"), "-c", self.conf, "-d"]

    def queued(self):
        """Queue files in every queue a message can be in (hold is where they go)."""
        queue = os.path.join(self.dir, "queue")
        return sum(len(files) for q in ("hold", "incoming", "active", "deferred")
                   for _, _, files in os.walk(os.path.join(queue, q)))

    def exit_reason(self):
        reason = super().exit_reason()
        log = os.path.join(self.dir, "maillog")
        if os.path.exists(log):
            with open(log, errors="replace") as f:
                fatal = [ln.strip() for ln in f if "fatal" in ln]
            if fatal:
                return fatal[-1]
        return reason


class Sink(FromPostfixPackage):
    """smtp-sink: answers every command and throws the message away.

    counting: with -c, smtp-sink writes its running counters ("sess=2 quit=1 mesg=57\r",
    flushed after every message) to its output, which received() reads.
    """
    name = "smtp-sink"
    stores = False

    def __init__(self, workdir, port, max_connections, tools, counting=False):
        super().__init__(workdir, port, max_connections, tools)
        self.counting = counting

    def argv(self):
        limit = str(max(256, self.max_connections))   # -m: connections served at once (default 256)
        return [self.tools.sbin("smtp-sink"), "-u", "postfix", "-m", limit] + (["-c"] if self.counting else []) + [
            f"127.0.0.1:{self.port}", limit]

    def received(self):
        """Messages received so far (the last mesg= counter; 0 before the first)."""
        with open(os.path.join(self.dir, "server.out"), "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 256))
            counters = re.findall(rb"mesg=(\d+)", f.read())
        return int(counters[-1]) if counters else 0


def exim_binary():
    """The reference Exim 4.96 (scripts/exim-ref.sh)."""
    return _tool_path("exim-ref.sh")
