"""modules/sqllookup/sql_lookup_tests.py: the integration tests of the pgsql and
mysql lookup modules, written once.

SqlLookupTests holds every scenario: it starts one real server per test file
(tests/lib/sqlservers.py), fills a few tables, and drives `tern -C conf -be`
with `modules = pgsql : mysql`. A module's test file (modules/pgsql/
pgsql_lookup_test.py, modules/mysql/mysql_lookup_test.py) subclasses it with
what differs between the two: the server, a few SQL spellings, and the exact
texts Exim 4.96 gives (its NULL rule, its error messages). When the reference
Exim (scripts/exim-ref.sh) is set up, test_same_output_as_exim runs a list of
expansions through both and wants the same bytes.

    python3 modules/pgsql/pgsql_lookup_test.py --tern build/bin/tern [-k name]
"""
import argparse
import os
import pty
import re
import select
import socket
import subprocess
import sys
import termios
import threading
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "lib"))
sys.dont_write_bytecode = True

import sqlservers  # noqa: E402
import ternlab  # noqa: E402

EXIM_REF = os.path.join(REPO, "scripts", "exim-ref.sh")
EXIM_BIN = os.path.join(REPO, "build", "exim-ref", "root", "usr", "sbin", "exim4")


def main(test_class):
    """Runs the tests of `test_class` with --tern taken off the command line."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--tern", required=True, help="the tern binary")
    args, rest = ap.parse_known_args()
    test_class.tern = os.path.abspath(args.tern)
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2)


class BeSession:
    """`tern -be` reading lines from a terminal, so that it answers each line
    before the next is sent (it flushes only when stdin is a terminal): one
    process, one module instance, its connections kept between lines."""

    def __init__(self, tern, conf, stderr_path):
        self.master, slave = pty.openpty()
        attrs = termios.tcgetattr(slave)
        attrs[3] &= ~termios.ECHO  # what is typed is not echoed back
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
        self.stderr = open(stderr_path, "ab")
        self.proc = subprocess.Popen([tern, "-C", conf, "-be"], stdin=slave,
                                     stdout=subprocess.PIPE, stderr=self.stderr,
                                     start_new_session=True)
        os.close(slave)
        self.pending = b""
        self._until_prompt(b"> ", 30)

    def expand(self, line, timeout=60):
        """The output for one line, without its final newline."""
        os.write(self.master, line.encode() + b"\n")
        return self._until_prompt(b"\n> ", timeout).decode(errors="surrogateescape")

    def _until_prompt(self, prompt, timeout):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while not self.pending.endswith(prompt):
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise AssertionError(f"no prompt from tern -be; got {self.pending!r}")
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 65536)
                if not chunk:
                    raise AssertionError(f"tern -be ended; got {self.pending!r}")
                self.pending += chunk
        out, self.pending = self.pending[:-len(prompt)], b""
        return out

    def close(self):
        os.close(self.master)  # end of input: tern exits
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.stderr.close()


class SilentListener:
    """A TCP port that accepts connections and never says a word: a server
    that hangs. Counts the connections it accepted."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.conns = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            self.conns.append(conn)

    def close(self):
        # shutdown() wakes the thread blocked in accept(); close() alone does not.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(5)
        for c in self.conns:
            c.close()


def exim_available():
    return os.path.exists(EXIM_BIN) and os.path.exists(os.path.join(REPO, "build", "exim-ref", ".setup-done"))


class SqlLookupTests(unittest.TestCase):
    """The scenarios; subclasses set the flavour (see the attributes below)."""

    tern = None
    TYPE = None          # "pgsql" or "mysql"
    SERVER = None        # sqlservers.PostgresServer or MariaDBServer
    DISPLAY = None       # "PostgreSQL" / "MySQL" in Exim's server-choice messages

    # ---- what a subclass provides -------------------------------------------

    def sleep_sql(self, seconds):
        raise NotImplementedError

    TRANSPORT_SQL = None  # gives 'tcp' or 'socket' for the connection it runs on
    SESSION_ID_SQL = None  # the server's id of this connection (changes on reconnect)
    NULL_SINGLE = None     # what `select note ... where id=2` (NULL) gives in [$value] or none

    @classmethod
    def grant_fixture(cls):
        """Lets the user `tern` use the tables the superuser made."""

    def refused_text(self, port):
        raise NotImplementedError

    def wrong_password_text(self):
        raise NotImplementedError

    def query_timeout_text(self, query, seconds):
        raise NotImplementedError

    def connect_timeout_text(self, port, seconds):
        raise NotImplementedError

    def hung_text(self, query, seconds):
        """The deferral when the server stops answering during a query."""
        raise NotImplementedError

    # ---- set-up ---------------------------------------------------------------

    @classmethod
    def setUpClass(cls):
        if cls.TYPE is None:
            raise unittest.SkipTest("the base class has no server")
        cls.scratch = ternlab.Scratch(prefix=f"tern-{cls.TYPE}-")
        try:
            cls.db = cls.SERVER(cls.scratch.path)
            cls.db.add_user("tern", "secret", "terndb")
            for statement in (
                    "create table users (id int, name varchar(40), note varchar(80))",
                    "insert into users values (1, 'alice', 'likes \"quotes\"'), (2, 'bob', NULL),"
                    " (3, 'carol', 'has space'), (4, 'dave', ''), (5, 'eve', 'plain')",
                    "create table notes (id int, body text)",
                    "create table counter (n int)",
                    "insert into counter values (0)",
                    "create table parity (n int)"):
                cls.db.sql(statement, database="terndb")
            cls.grant_fixture()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        db = getattr(cls, "db", None)
        if db is not None:
            db.close()
        scratch = getattr(cls, "scratch", None)
        if scratch is not None:
            scratch.close()

    # ---- helpers ------------------------------------------------------------

    def tcp(self, password="secret", database="terndb"):
        return self.db.tcp_item(database, "tern", password)

    def sock(self):
        return self.db.socket_item("terndb", "tern", "secret")

    def conf(self, servers=None, **options):
        """A configuration with both modules; `servers`: items of T_servers."""
        lines = [f"spool_directory = {self.scratch.path}/spool", "modules = pgsql : mysql"]
        if servers is not None:
            lines.append(f"{self.TYPE}_servers = {sqlservers.server_list(*servers)}")
        for name, value in options.items():
            lines.append(f"{self.TYPE}_{name} = {value}")
        path = self.scratch.file(f"tern-{self.id().split('.')[-1]}.conf", "\n".join(lines) + "\n")
        return path

    def be(self, conf, *strings, timeout=120):
        """tern -be with each string as an argument; stdout (exit status
        checked), byte for byte (no newline translation: a CR stays a CR)."""
        p = subprocess.run([self.tern, "-C", conf, "-be", *strings], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.decode(errors="surrogateescape")

    def one(self, conf, string):
        """The output of one expansion, without the final newline."""
        out = self.be(conf, string)
        self.assertTrue(out.endswith("\n"), out)
        return out[:-1]

    def lookup(self, query, opts=""):
        return "${lookup " + self.TYPE + opts + "{" + query + "}}"

    def found_or(self, query, opts=""):
        return "${lookup " + self.TYPE + opts + "{" + query + "}{[$value]}{none}}"

    def defer(self, query, why):
        return f'Failed: lookup of "{query}" gave DEFER: {why}'

    def session(self, conf):
        s = BeSession(self.tern, conf, os.path.join(self.scratch.path, "session.stderr"))
        self.addCleanup(s.close)
        return s

    # ---- results --------------------------------------------------------------

    def test_one_column_one_row_is_the_value(self):
        conf = self.conf([self.tcp()])
        self.assertEqual(self.one(conf, self.lookup("select name from users where id=1")), "alice")

    def test_several_columns_are_name_value_pairs_quoted_as_exim(self):
        conf = self.conf([self.tcp()])
        self.assertEqual(self.one(conf, self.lookup("select id, name, note from users where id=1")),
                         'id=1 name=alice note="likes \\"quotes\\"" ')
        self.assertEqual(self.one(conf, self.lookup("select id, name, note from users where id=3")),
                         'id=3 name=carol note="has space" ')

    def test_several_rows_are_separate_lines(self):
        conf = self.conf([self.tcp()])
        self.assertEqual(self.one(conf, self.lookup("select name from users order by id")),
                         "alice\nbob\ncarol\ndave\neve")
        self.assertEqual(self.one(conf, self.lookup("select id, name from users where id < 3 order by id")),
                         "id=1 name=alice \nid=2 name=bob ")

    def test_null_values(self):
        conf = self.conf([self.tcp()])
        self.assertEqual(self.one(conf, self.found_or("select note from users where id=2")),
                         self.NULL_SINGLE)
        # Several columns: a NULL is an empty value, which is quoted.
        self.assertEqual(self.one(conf, self.lookup("select name, note from users where id=2")),
                         'name=bob note="" ')
        # An empty string is a value (found) in both.
        self.assertEqual(self.one(conf, self.found_or("select note from users where id=4")), "[]")

    def test_no_rows_is_not_found(self):
        conf = self.conf([self.tcp()])
        self.assertEqual(self.one(conf, self.found_or("select name from users where id=99")), "none")
        self.assertEqual(self.one(conf, self.lookup("select name from users where id=99")), "")
        self.assertEqual(self.one(conf, self.found_or("select id, name from users where id=99")), "none")
        # Leading white space is not part of the query (Exim skips it).
        self.assertEqual(self.one(conf, self.found_or("   select name from users where id=5")), "[eve]")

    def test_write_statements_give_the_count_and_are_never_cached(self):
        conf = self.conf([self.tcp()])
        ins = "insert into notes values (100, 'a'), (100, 'b')"
        count = "select count(*) from notes where id=100"
        # The same INSERT twice runs twice; a SELECT after a write is not
        # answered from the cache (Exim empties it after a write).
        out = self.be(conf, self.lookup(count), self.lookup(ins), self.lookup(ins), self.lookup(count),
                      self.lookup("delete from notes where id=100"), self.lookup(count))
        self.assertEqual(out, "0\n2\n2\n4\n4\n0\n")

    def test_a_failing_statement_defers_with_the_servers_text(self):
        conf = self.conf([self.tcp()])
        out = self.one(conf, self.lookup("select nosuchcolumn from users"))
        self.assertTrue(out.startswith(self.defer("select nosuchcolumn from users", "")), out)
        self.assertIn("nosuchcolumn", out)

    # ---- quoting ----------------------------------------------------------------

    HOSTILE = [
        "O'Brien",
        "x'); delete from users; --",
        "' or '1'='1",
        'double "quotes" and \'single\'',
        "semi;colon -- comment /* c */",
        "tab\tand\nnewline\rcr\bbs",
        "back\\slash \\' \\\" end\\",
    ]

    def quoted_literal(self, path):
        """An SQL string literal holding the file's text, quoted by quote_T."""
        return "'${quote_" + self.TYPE + ":${readfile{" + path + "}}}'"

    def test_quoted_hostile_strings_stay_data(self):
        conf = self.conf([self.tcp()])
        for i, text in enumerate(self.HOSTILE):
            with self.subTest(text=text):
                path = self.scratch.file(f"hostile{i}", text)
                literal = self.quoted_literal(path)
                self.assertEqual(self.one(conf, self.lookup(f"insert into notes values ({200 + i}, {literal})")), "1")
                self.assertEqual(self.one(conf, self.lookup(f"select body from notes where id={200 + i}")), text)
                # As a condition it matches exactly the one row.
                self.assertEqual(self.one(conf, self.lookup(f"select count(*) from notes where body = {literal}")), "1")
        self.assertEqual(self.one(conf, self.lookup("select count(*) from users")), "5")

    # ---- servers ------------------------------------------------------------

    def test_unix_socket_and_tcp(self):
        conf = self.conf()
        self.assertEqual(self.one(conf, self.lookup(self.TRANSPORT_SQL, ",servers=" + sqlservers.server_list(self.sock()))), "socket")
        self.assertEqual(self.one(conf, self.lookup(self.TRANSPORT_SQL, ",servers=" + sqlservers.server_list(self.tcp()))), "tcp")

    def test_servers_option_of_the_lookup(self):
        name = f"127.0.0.1:{self.db.port}"
        conf = self.conf([self.tcp()])
        # A bare name picks the item of the main option that starts with it.
        self.assertEqual(self.one(conf, self.lookup("select name from users where id=5",
                                                    ",servers=" + sqlservers.server_list(name))), "eve")
        self.assertEqual(self.one(conf, self.lookup("select 1", ",servers=nohost")),
                         self.defer("select 1", f'{self.DISPLAY} server "nohost" not found in {self.TYPE}_servers'))
        # A full item needs no main option; the first that answers wins.
        bare = self.conf()
        refused = f"127.0.0.1:{ternlab.free_port()}/terndb/tern/secret"
        self.assertEqual(self.one(bare, self.lookup(
            "select name from users where id=1", ",servers=" + sqlservers.server_list(refused, self.tcp(), sep=":"))), "alice")
        self.assertEqual(self.one(bare, self.lookup("select 1")),
                         self.defer("select 1", f"no {self.DISPLAY} servers defined ({self.TYPE}_servers option)"))
        # The older form: servers=...; in front of the query.
        self.assertEqual(self.one(bare, self.lookup(f"servers={sqlservers.server_list(self.tcp())};select name from users where id=3")),
                         "carol")

    def test_first_server_down_the_second_answers(self):
        port = ternlab.free_port()
        down = f"127.0.0.1:{port}/terndb/tern/secret"
        conf = self.conf([down, self.tcp()])
        self.assertEqual(self.one(conf, self.lookup("select name from users where id=2")), "bob")
        # Every server down: the last one's reason.
        conf = self.conf([down])
        self.assertEqual(self.one(conf, self.lookup("select 1")), self.defer("select 1", self.refused_text(port)))

    def test_wrong_password_defers(self):
        conf = self.conf([self.tcp(password="wrong")])
        self.assertEqual(self.one(conf, self.lookup("select 1")), self.defer("select 1", self.wrong_password_text()))

    def test_connection_reused_then_reestablished_after_a_restart(self):
        s = self.session(self.conf([self.tcp()], hold_down="5s"))
        first = s.expand(self.lookup(self.SESSION_ID_SQL + " as a"))
        self.assertRegex(first, r"^\d+$")
        self.assertEqual(s.expand(self.lookup(self.SESSION_ID_SQL + " as b")), first)  # the same connection
        held = (r'^Failed: lookup of "select \'held \d+\'" gave DEFER: ' + self.DISPLAY +
                r' server "127\.0\.0\.1:\d+/terndb/tern" held down for [1-5]s after: ')
        self.db.stop()
        try:
            self.assertEqual(s.expand(self.lookup("select 'down'")),
                             self.defer("select 'down'", self.refused_text(self.db.port)))
            # Within the hold-down the server is not tried again.
            self.assertRegex(s.expand(self.lookup("select 'held 0'")), held)
        finally:
            self.db.start()
        # Back, but held down a few seconds more; then a new connection.
        deadline = time.monotonic() + 20
        for i in range(1, 1000):
            out = s.expand(self.lookup(f"select 'held {i}'"))
            if out == f"held {i}":
                break
            self.assertRegex(out, held)
            self.assertLess(time.monotonic(), deadline, "never reconnected")
            time.sleep(0.5)
        again = s.expand(self.lookup(self.SESSION_ID_SQL + " as c"))
        self.assertRegex(again, r"^\d+$")
        self.assertNotEqual(again, first)

    def test_query_timeout_defers_in_time(self):
        conf = self.conf([self.tcp()], query_timeout="2s")
        query = self.sleep_sql(30)
        start = time.monotonic()
        out = self.be(conf, self.lookup(query), self.lookup("select name from users where id=1"))
        elapsed = time.monotonic() - start
        self.assertEqual(out, self.defer(query, self.query_timeout_text(query, 2)) + "\nalice\n")
        self.assertLess(elapsed, 10, "the timeout is 2s, not the query's 30s")
        self.assertGreaterEqual(elapsed, 2)

    def test_hung_server_query_times_out(self):
        # The server accepted the query and then stopped answering: the
        # client's own deadline ends the wait, the connection is dropped.
        s = self.session(self.conf([self.tcp()], query_timeout="2s"))
        self.assertEqual(s.expand(self.lookup("select name from users where id=1")), "alice")
        self.db.pause()
        try:
            start = time.monotonic()
            out = s.expand(self.lookup("select name from users where id=2"))
            elapsed = time.monotonic() - start
        finally:
            self.db.resume()
        self.assertEqual(out, self.defer("select name from users where id=2",
                                         self.hung_text("select name from users where id=2", 2)))
        self.assertLess(elapsed, 10)
        self.assertEqual(s.expand(self.lookup("select name from users where id=3")), "carol")

    def test_connect_timeout_then_hold_down(self):
        silent = SilentListener()
        self.addCleanup(silent.close)
        item = f"127.0.0.1:{silent.port}/terndb/tern/secret"
        conf = self.conf([item], connect_timeout="1s", hold_down="1m")
        start = time.monotonic()
        out = self.be(conf, self.lookup("select 1"), self.lookup("select 2"))
        elapsed = time.monotonic() - start
        timed_out = self.defer("select 1", self.connect_timeout_text(silent.port, 1))
        self.assertTrue(out.startswith(timed_out + "\n"), out)
        held = out[len(timed_out) + 1:]
        self.assertRegex(held, "^" + re.escape(self.defer("select 2", f'{self.DISPLAY} server "127.0.0.1:{silent.port}/terndb/tern" '))
                         + "held down for (59|60)s after: " + re.escape(self.connect_timeout_text(silent.port, 1) + "\n") + "$")
        self.assertEqual(silent.accepted, 1, "a server held down is not tried")
        self.assertLess(elapsed, 10)

    # ---- the reference --------------------------------------------------------

    # Expansions run through both Exim and tern by test_same_output_as_exim;
    # @T@ is the lookup type, @TCP@/@SOCK@ server items, @TCPNAME@ the TCP
    # server's name (colon doubled), @DOWN@ an item nothing listens on. The
    # wrong password comes first: Exim would reuse a connection opened with
    # the right one (tern does not: see README.md).
    PARITY = [
        "${lookup @T@,servers=@TCPNAME@/terndb/tern/wrong{select 1}}",
        "${lookup @T@{select name from users where id=1}}",
        "${lookup @T@{select id, name, note from users order by id}}",
        "${lookup @T@{select note from users order by id}}",
        "${lookup @T@{select note from users where id=2}{[$value]}{none}}",
        "${lookup @T@{select name, note from users where id=2}}",
        "${lookup @T@{select name from users where id=99}{[$value]}{none}}",
        "${lookup @T@{select id, name from users where id=99}{[$value]}{none}}",
        "${lookup @T@{select nosuchcolumn from users}}",
        "${lookup @T@{insert into parity values (1), (2)}}",
        "${lookup @T@{select sum(n) from parity}} ${lookup @T@{update parity set n=n+1}} ${lookup @T@{select sum(n) from parity}}",
        "${lookup @T@{delete from parity where n > 100}{[$value]}{none}}",
        "${lookup @T@,servers=@TCPNAME@{select name from users where id=3}}",
        "${lookup @T@,servers=nohost{select 1}}",
        "${lookup @T@,servers=@DOWN@{select 1}}",
        "${lookup @T@,servers=@SOCK@{select name from users where id=4}{[$value]}{none}}",
        "${lookup @T@,servers=a/b{select 1}}",
        "${lookup @T@,servers=x/y/z{select 1}}",
        "${lookup @T@{servers=@TCPNAME@;select 5}}",
        "${lookup @T@{servers=;select 5}}",
        "${lookup @T@{servers select 5}}",
        "${lookup @T@{servers=x select 5}}",
        "${lookup @T@{  select name from users where id=5}}",
        "${lookup @T@{}{[$value]}{none}}",
        "${lookup @T@{ }{[$value]}{none}}",
        "${lookup{x}@T@{select 1}}",
        "${lookup partial-@T@{select 1}}",
        "${quote_@T@:it's a \"test\"\\n and \\t \\\\}",
        "${quote_@T@_x:a}",
        "${lookup @T@{select 'a' as x, '\"q' as y, 'has space' as z, '' as v, 'a\"b' as u}}",
        "${lookup @T@{select 'b' as x union all select NULL union all select 'c'}}",
        "${lookup @T@{select NULL as x union all select 'b'}{[$value]}{none}}",
        "${lookup @T@{select NULL as x, NULL as y}}",
        "${lookup @T@{select 1 as a, 2 as a}}",
    ]

    def parity_strings(self):
        fill = {"@T@": self.TYPE, "@TCP@": self.tcp(), "@SOCK@": self.sock(),
                "@DOWN@": f"127.0.0.1::{ternlab.free_port()}/terndb/tern/secret",
                "@TCPNAME@": f"127.0.0.1::{self.db.port}"}
        out = []
        for s in self.PARITY:
            for k, v in fill.items():
                s = s.replace(k, v)
            out.append(s)
        return out

    def test_same_output_as_exim(self):
        if not exim_available():
            self.skipTest("the reference Exim is not set up (scripts/exim-ref.sh setup)")
        strings = self.parity_strings()
        servers = f"{self.TYPE}_servers = {sqlservers.server_list(self.tcp(), self.sock())}\n"
        exim_conf = self.scratch.file("exim.conf", (
            f"spool_directory = {REPO}/build/exim-ref/spool\n"
            f"log_file_path = {REPO}/build/exim-ref/log/%slog\n" + servers), mode=0o644)
        tern_conf = self.scratch.file("tern-parity.conf", (
            f"spool_directory = {self.scratch.path}/spool\nmodules = pgsql : mysql\n" + servers))
        self.db.sql("delete from parity", database="terndb")
        exim = subprocess.run([EXIM_REF, "exim", "-C", exim_conf, "-be", *strings],
                              capture_output=True, text=True, timeout=180)
        self.assertEqual(exim.returncode, 0, exim.stderr)
        self.db.sql("delete from parity", database="terndb")
        tern = self.be(tern_conf, *strings)
        self.maxDiff = None
        self.assertEqual(tern, exim.stdout)
