#!/usr/bin/env python3
"""modules/events/tests/test_events.py: event_action on the events the SMTP side raises.

The daemon (and -bh) of this tree with `modules = events:pgsql`, a real
PostgreSQL on loopback (tests/lib/sqlservers.py) written to by
event_action, and the logs. Exim 4.96 behaviour where it has it: a failing
event_action expansion goes to the main and the panic log as
"failed to expand event_action <event> in main: <error>" followed by an
empty line, and the session goes on as if the result were empty.

Run: python3 modules/events/tests/test_events.py --tern build/bin/tern
"""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "lib"))
import sqlservers  # noqa: E402
import ternlab  # noqa: E402
from doc_example import DOC_EXAMPLE  # noqa: E402

TERN = None
SCRATCH = None
PG = None

# Every event the SMTP side raised, with its data and the client, as one row.
RECORD = ("event_action = ${lookup pgsql{INSERT INTO events VALUES ("
          "E'${quote_pgsql:$event_name}', E'${quote_pgsql:$event_data}', "
          "E'${quote_pgsql:$sender_host_address}')}}\n")




def setUpModule():
    global SCRATCH, PG
    SCRATCH = ternlab.Scratch()
    PG = sqlservers.PostgresServer(SCRATCH.path)
    PG.add_user("tern", "secret", database="terndb")
    PG.sql("create table events (name text, data text, client text)", database="terndb")
    PG.sql("grant all on events to tern", database="terndb")
    PG.sql("create table deliveries (sd text, sl text, dd text, dl text, ip text, host text, id text)",
           database="terndb")
    PG.sql("grant all on deliveries to tern", database="terndb")
    PG.sql("create function record_Delivery(text, text, text, text, text, text, text) returns int as "
           "$$ insert into deliveries values ($1, $2, $3, $4, $5, $6, $7); select 1 $$ language sql",
           database="terndb")


def tearDownModule():
    PG.close()
    SCRATCH.close()


def rows():
    out = PG.sql("select name || '|' || data || '|' || client from events order by name, data",
                 database="terndb")
    return [line for line in out.splitlines() if line]


class Reception(unittest.TestCase):
    def setUp(self):
        PG.sql("delete from events", database="terndb")
        self.scratch = ternlab.Scratch()
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.close()
        self.scratch.close()

    def daemon(self, body, modules="events : pgsql"):
        d = ternlab.Daemon(TERN, self.scratch,
                           f"modules = {modules}\n"
                           f"pgsql_servers = {sqlservers.server_list(PG.tcp_item('terndb', 'tern', 'secret'))}\n"
                           "log_selector = +smtp_syntax_error +smtp_protocol_error\n"
                           "acl_smtp_rcpt = accept\n" + body,
                           name=f"tern{len(self.daemons)}")
        self.daemons.append(d)
        return d

    def session(self, daemon, lines, source="127.0.0.1"):
        c = ternlab.SmtpClient(daemon.port, source=source)
        try:
            c.reply()
            return [c.cmd(line) for line in lines]
        finally:
            c.close()

    def test_syntax_and_protocol_errors_write_rows(self):
        d = self.daemon(RECORD)
        replies = self.session(d, ["EHLO client.example", "FOO bar", "RCPT TO:<a@b.example>",
                                   "MAIL FROM:<bad", "QUIT"], source="127.0.0.7")
        self.assertEqual([r[0] for r in replies], [250, 500, 503, 501, 221])
        d.wait_log("SMTP syntax error in \"MAIL FROM:<bad\"")
        self.assertEqual(rows(), [
            "smtp:fail:protocol|sender not yet given|127.0.0.7",
            'smtp:fail:syntax|"@" or "." expected after "bad"|127.0.0.7',
            "smtp:fail:syntax|unrecognized command|127.0.0.7",
        ])
        log = d.log()
        self.assertIn('SMTP syntax error in "FOO bar" H=(client.example) [127.0.0.7] unrecognized command\n', log)
        self.assertIn('SMTP protocol error in "RCPT TO:<a@b.example>" H=(client.example) [127.0.0.7] '
                      "sender not yet given\n", log)
        self.assertIn('SMTP syntax error in "MAIL FROM:<bad" H=(client.example) [127.0.0.7] '
                      '"@" or "." expected after "bad"\n', log)
        self.assertEqual(d.log("panic"), "")

    def test_numeric_comparison_fails_as_in_exim(self):
        # The documentation's example compares with "=": every expansion fails.
        d = self.daemon("event_action = ${if = {smtp:fail:syntax}{$event_name}"
                        "{${lookup pgsql{INSERT INTO events VALUES ('x', 'y', 'z')}}}{}}\n")
        replies = self.session(d, ["EHLO client.example", "FOO", "NOOP", "QUIT"])
        self.assertEqual([r[0] for r in replies], [250, 500, 250, 221])
        line = ('failed to expand event_action smtp:fail:syntax in main: '
                'integer expected but "smtp:fail:syntax" found\n\n')
        d.wait_log(line)
        d.wait_log(line, which="panic")
        self.assertEqual(rows(), [])

    def test_eq_comparison_writes_only_its_event(self):
        d = self.daemon("event_action = ${if eq {smtp:fail:protocol}{$event_name}"
                        "{${lookup pgsql{INSERT INTO events VALUES ('$event_name', '$event_data', "
                        "'$sender_host_address')}}}{}}\n")
        self.session(d, ["EHLO client.example", "FOO", "DATA", "QUIT"])
        ternlab.wait_for(lambda: rows(), 10, "a row")
        self.assertEqual(rows(), ["smtp:fail:protocol|valid RCPT command must precede DATA|127.0.0.1"])

    def test_failed_tls_handshake_raises_tls_fail_connect(self):
        d = self.daemon(RECORD + "tls_advertise_hosts = *\n")
        c = ternlab.SmtpClient(d.port)
        try:
            c.reply()
            c.cmd("EHLO client.example")
            self.assertEqual(c.cmd("STARTTLS")[0], 220)
            c.send(b"this is not a TLS ClientHello\r\n" * 4)
            c.closed()
        finally:
            c.close()
        ternlab.wait_for(lambda: any(r.startswith("tls:fail:connect|") for r in rows()), 10,
                         f"tls:fail:connect; main log:\n{d.log()}")
        [row] = [r for r in rows() if r.startswith("tls:fail:connect|")]
        self.assertTrue(row.endswith("|127.0.0.1"), row)
        d.wait_log("TLS error on connection from (client.example) [127.0.0.1] ")
        self.assertIn(row.split("|")[1], d.log())  # the event's data is the logged error

    def test_without_the_module_the_option_names_it(self):
        conf = self.scratch.file("nomod.conf", "event_action = ${if eq{$event_name}{x}{}}\n")
        r = ternlab.run_tern(TERN, ["-C", conf, "-bV"])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(f'{conf}:1: option "event_action" belongs to module "events", which is not loaded: '
                      'add it to "modules"', r.stderr)

    def test_bh_shows_the_failure_lines(self):
        conf = self.scratch.file("bh.conf", f"spool_directory = {self.scratch.path}/spool\n"
                                            "primary_hostname = mx.test.example\n"
                                            "modules = events\n"
                                            "event_action = ${if = {a}{$event_name}{}{}}\n")
        r = subprocess.run([TERN, "-C", conf, "-bh", "10.0.0.1"], input=b"EHLO x\r\nFOO\r\nQUIT\r\n",
                           capture_output=True, timeout=30)
        self.assertIn(b"500 unrecognized command\r\n", r.stdout)
        self.assertIn(b'LOG: failed to expand event_action smtp:fail:syntax in main: '
                      b'integer expected but "a" found\n', r.stderr)


class Delivery(unittest.TestCase):
    """The transport's event_action on msg:delivery and the main one on msg:complete, in a
    delivery the daemon starts after the 250."""

    def setUp(self):
        PG.sql("delete from deliveries", database="terndb")
        self.scratch = ternlab.Scratch()
        os.chmod(self.scratch.path, 0o755)
        self.mail = os.path.join(self.scratch.path, "mail")
        os.makedirs(self.mail)
        os.chmod(self.mail, 0o777)  # the transport writes as nobody
        self.daemon = None

    def tearDown(self):
        if self.daemon:
            self.daemon.close()
        self.scratch.close()

    def deliver(self, transport_action, main_action=""):
        self.daemon = ternlab.Daemon(
            TERN, self.scratch,
            "modules = events : pgsql\n"
            f"pgsql_servers = {sqlservers.server_list(PG.tcp_item('terndb', 'tern', 'secret'))}\n"
            "acl_smtp_rcpt = accept\n" + main_action +
            "begin routers\nlocal:\n  driver = accept\n  transport = t1\n"
            "begin transports\nt1:\n  driver = appendfile\n  maildir_format\n"
            f"  directory = {self.mail}/$local_part\n  create_directory\n  user = nobody\n  " + transport_action,
            deliver=True)
        c = ternlab.SmtpClient(self.daemon.port)
        try:
            c.reply()
            c.cmd("EHLO client.example")
            c.cmd("MAIL FROM:<Sender@Origin.example>")
            c.cmd("RCPT TO:<User@dest.example>")
            c.cmd("DATA")
            c.send(b"Subject: events\r\n\r\nhello\r\n.\r\n")
            code, lines = c.reply()
            self.assertEqual(code, 250)
            msg_id = lines[0].split("id=")[1]
        finally:
            c.close()
        self.daemon.wait_log(f"{msg_id} Completed", timeout=20)
        return msg_id

    def test_documentation_example_with_numeric_comparison_fails_as_exim(self):
        msg_id = self.deliver(DOC_EXAMPLE.replace("{CMP}", "="),
                              "event_action = ${if = {msg:complete}{$event_name}{yes}{}}\n")
        d = self.daemon
        delivery = (f"{msg_id} failed to expand event_action msg:delivery in t1: "
                    'integer expected but "msg:delivery" found\n\n')
        complete = (f"{msg_id} failed to expand event_action msg:complete in main: "
                    'integer expected but "msg:complete" found\n\n')
        d.wait_log(complete)
        main = d.log()
        # Exim's order: the => line, its event, Completed, then msg:complete.
        self.assertRegex(main, rf"{msg_id} => user <User@dest.example> R=local T=t1\n"
                               rf".*{msg_id} failed to expand event_action msg:delivery in t1")
        self.assertLess(main.index(delivery), main.index(f"{msg_id} Completed"))
        self.assertIn(delivery, d.log("panic"))
        self.assertIn(complete, d.log("panic"))
        self.assertEqual(PG.sql("select count(*) from deliveries", database="terndb").strip(), "0")
        self.assertEqual(len(os.listdir(os.path.join(self.mail, "user", "new"))), 1)  # delivered all the same

    def test_documentation_example_with_eq_writes_the_row(self):
        msg_id = self.deliver(DOC_EXAMPLE.replace("{CMP}", "eq"))
        rows = PG.sql("select sd || '|' || sl || '|' || dd || '|' || dl || '|' || ip || '|' || host || '|' || id "
                      "from deliveries", database="terndb").splitlines()
        self.assertEqual(rows, [f"Origin.example|sender|dest.example|user|||{msg_id}"])
        self.assertEqual(self.daemon.log("panic"), "")


if __name__ == "__main__":
    ternlab.unittest_main(__name__)
