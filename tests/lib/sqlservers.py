"""tests/lib/sqlservers.py: throwaway PostgreSQL 15 and MariaDB servers for tests.

Each server gets its own directory under a scratch directory (ternlab.Scratch),
listens on 127.0.0.1 on a free port and on a Unix socket in that directory,
and is stopped by close() (or the `with` block) whatever happens. Start-up
costs a few seconds (initdb, mariadb-install-db): share one server per test
file. Durability is switched off; nothing here is for keeping data.

    with ternlab.Scratch() as scratch, sqlservers.PostgresServer(scratch.path) as pg:
        pg.add_user("tern", "secret", database="terndb")
        pg.sql("create table t (a int)", database="terndb")
        pg.tcp_item("terndb", "tern", "secret")     # 127.0.0.1:PORT/terndb/tern/secret
        pg.socket_item("terndb", "tern", "secret")  # (DIR/.s.PGSQL.PORT)/terndb/tern/secret
        pg.stop(); pg.start()                       # same data, same port
        pg.pause(); pg.resume()                     # a hung server (SIGSTOP), and back

    with sqlservers.MariaDBServer(scratch.path) as my:   # the same methods
        my.socket_item(...)                              # (DIR/mysqld.sock)/terndb/tern/secret

sql() runs as the superuser over the Unix socket (trusted: no password);
the users made by add_user() log in with their password, over TCP too.
PostgreSQL refuses to run as root: when the tests run as root (CI), the
cluster runs as the `postgres` system user (or `nobody`) and its directory
is chowned to it. MariaDB runs as the caller (`--user=root` when root).
The item helpers give server items as Exim writes them (`host:port/db/user/
password`); server_list() joins items into an Exim list (colons doubled).
"""
import os
import pwd
import shutil
import signal
import subprocess
import time

import ternlab

PG_BIN = "/usr/lib/postgresql/15/bin"


def server_list(*items, sep=" : "):
    """Items joined into an Exim colon list, their own colons doubled. In a
    lookup's options (`pgsql,servers=...`) white space ends the lookup type's
    name: pass sep=":" there."""
    return sep.join(item.replace(":", "::") for item in items)


def _unprivileged_user():
    """The user a server that refuses root runs as, or None (not root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root, and there is neither a postgres nor a nobody user")


def _chown_tree(path, user):
    entry = pwd.getpwnam(user)
    for root, dirs, files in os.walk(path):
        os.chown(root, entry.pw_uid, entry.pw_gid)
        for name in dirs + files:
            os.chown(os.path.join(root, name), entry.pw_uid, entry.pw_gid)


def _descendants(root):
    """The process ids below `root` (from /proc)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _tail(path, lines=30):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


class _SqlServer:
    """What both servers share: start/stop around one data directory."""

    name = "sql"

    def __init__(self, scratch_dir):
        self.dir = os.path.join(scratch_dir, self.name)
        os.makedirs(self.dir)
        self.port = ternlab.free_port()
        self.log_path = os.path.join(self.dir, "server.log")
        self.server = None
        try:
            self._initialise()
            self.start()
        except BaseException:
            self.close()
            raise

    def start(self, timeout=60.0):
        """Starts the server (again) on the same data, port and socket."""
        if self.server is not None and self.server.alive():
            return
        self.server = ternlab.Server(self._server_argv(), log_path=self.log_path, cwd=self.dir,
                                     user=self._run_user())
        deadline = time.monotonic() + timeout
        while not self._ready():
            if not self.server.alive():
                raise RuntimeError(f"{self.name} exited at start-up:\n{_tail(self.log_path)}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} not ready after {timeout}s:\n{_tail(self.log_path)}")
            time.sleep(0.05)

    def stop(self):
        """Stops the server, closing its clients' connections."""
        if self.server is not None:
            self.server.stop(sig=self._stop_signal)
            self.server = None

    def pause(self):
        """Freezes the server (SIGSTOP to it and its children: PostgreSQL's
        backends have process groups of their own): the kernel still accepts
        connections, nothing answers them; resume() thaws it."""
        self._signal_tree(signal.SIGSTOP)

    def resume(self):
        self._signal_tree(signal.SIGCONT)

    def _signal_tree(self, sig):
        root = self.server.proc.pid
        os.kill(root, sig)  # first: a stopped server starts no new children
        for pid in _descendants(root):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass

    def close(self):
        self.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def tcp_item(self, database, user, password, host="127.0.0.1"):
        """A server item for the TCP listener: host:port/db/user/password."""
        return f"{host}:{self.port}/{database}/{user}/{password}"

    def _run(self, argv, what, user=None, timeout=120):
        p = subprocess.run(argv, capture_output=True, text=True, cwd=self.dir, user=user,
                           timeout=timeout)
        if p.returncode != 0:
            raise RuntimeError(f"{what} failed ({p.returncode}):\n{p.stdout}{p.stderr}")
        return p.stdout


class PostgresServer(_SqlServer):
    """A PostgreSQL 15 cluster: superuser `postgres` (trusted on the socket),
    password logins (scram-sha-256) over TCP."""

    name = "postgresql"
    _stop_signal = signal.SIGINT  # fast shutdown: does not wait for idle clients

    def _initialise(self):
        self.data = os.path.join(self.dir, "data")
        self.socket_dir = os.path.join(self.dir, "sock")
        os.makedirs(self.socket_dir)
        self.user = _unprivileged_user()
        if self.user:
            _chown_tree(self.dir, self.user)
        self._run([os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U", "postgres",
                   "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync",
                   "--no-instructions", "-E", "UTF8", "--locale=C"], "initdb", user=self.user)

    def _run_user(self):
        return self.user

    def _server_argv(self):
        return [os.path.join(PG_BIN, "postgres"), "-D", self.data, "-k", self.socket_dir,
                "-p", str(self.port), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                "-c", "full_page_writes=off", "-c", "synchronous_commit=off",
                "-c", "max_connections=40", "-c", "shared_buffers=16MB"]

    def _ready(self):
        p = subprocess.run([os.path.join(PG_BIN, "pg_isready"), "-q", "-h", self.socket_dir,
                            "-p", str(self.port)], capture_output=True)
        return p.returncode == 0

    @property
    def socket_path(self):
        return os.path.join(self.socket_dir, f".s.PGSQL.{self.port}")

    def socket_item(self, database, user, password):
        """A server item for the Unix socket, as Exim writes it: (path)/db/user/password."""
        return f"({self.socket_path})/{database}/{user}/{password}"

    def sql(self, statement, database="postgres"):
        """Runs SQL as the superuser; returns the rows, one per line, columns |-separated."""
        return self._run([os.path.join(PG_BIN, "psql"), "-X", "-q", "-A", "-t",
                          "-v", "ON_ERROR_STOP=1", "-h", self.socket_dir, "-p", str(self.port),
                          "-U", "postgres", "-d", database, "-c", statement], "psql")

    def add_user(self, user, password, database):
        """A login role with a password, owning a new database."""
        self.sql(f"create role {user} login password '{password}'")
        self.sql(f"create database {database} owner {user}")


class MariaDBServer(_SqlServer):
    """A MariaDB server: `root` without a password on the socket, password
    logins for the users of add_user() (from anywhere)."""

    name = "mariadb"
    _stop_signal = signal.SIGTERM  # a clean shutdown that closes client connections

    def _initialise(self):
        self.data = os.path.join(self.dir, "data")
        self.socket_path = os.path.join(self.dir, "mysqld.sock")
        self.tmp = os.path.join(self.dir, "tmp")
        os.makedirs(self.tmp)
        argv = [shutil.which("mariadb-install-db") or "mariadb-install-db", "--no-defaults",
                f"--datadir={self.data}", "--auth-root-authentication-method=normal",
                "--skip-test-db", "--skip-name-resolve",
                # Its own temporary files: two installs at once in the shared /tmp collided
                # ("Unknown table 'mysql.tmp_user_sys'").
                f"--tmpdir={self.tmp}"]
        if os.geteuid() == 0:
            argv.append("--user=root")
        self._run(argv, "mariadb-install-db")

    def _run_user(self):
        return None

    def _server_argv(self):
        argv = [shutil.which("mariadbd") or "/usr/sbin/mariadbd", "--no-defaults",
                f"--datadir={self.data}", f"--socket={self.socket_path}", f"--port={self.port}",
                "--bind-address=127.0.0.1", "--skip-name-resolve",
                f"--pid-file={os.path.join(self.dir, 'mariadbd.pid')}",
                f"--log-error={self.log_path}", f"--tmpdir={self.tmp}",
                "--innodb-buffer-pool-size=16M", "--innodb-flush-log-at-trx-commit=0",
                "--max-connections=40"]
        if os.geteuid() == 0:
            argv.append("--user=root")
        return argv

    def _ready(self):
        p = subprocess.run(self._client_argv() + ["-e", "select 1"], capture_output=True)
        return p.returncode == 0

    def _client_argv(self, database=None):
        argv = [shutil.which("mariadb") or "mariadb", "--no-defaults", "-S", self.socket_path,
                "-u", "root", "-N", "-B"]
        return argv + ([database] if database else [])

    def socket_item(self, database, user, password):
        """A server item for the Unix socket, as Exim writes it: (path)/db/user/password."""
        return f"({self.socket_path})/{database}/{user}/{password}"

    def sql(self, statement, database=None):
        """Runs SQL as root; returns the rows, one per line, columns tab-separated."""
        return self._run(self._client_argv(database) + ["-e", statement], "mariadb")

    def add_user(self, user, password, database):
        """A user with a password (from any host), with every right on a new database."""
        self.sql(f"create database {database}; "
                 f"create user '{user}'@'%' identified by '{password}'; "
                 f"create user '{user}'@'localhost' identified by '{password}'; "
                 f"grant all on {database}.* to '{user}'@'%'; "
                 f"grant all on {database}.* to '{user}'@'localhost'")
