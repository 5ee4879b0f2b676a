#!/usr/bin/env python3
"""modules/events/tests/test_seed_example.py: the documentation's event_action example
against real PostgreSQL and MariaDB, message after message, and a database that stops.

The example of reference/000_*.txt ("Event Actions"), with `eq` so that it
works, records each delivery through a PostgreSQL function; the same
transport written for MySQL records it with an INSERT through the mysql
lookup. A tern daemon (modules events, pgsql, mysql) receives three messages
for each database, one of them from a sender whose local part holds a quote
(o'brien: quote_pgsql doubles it, quote_mysql escapes it), and delivers them
at once: three rows in each database with exactly the values Exim would
write, one msg:complete per message in the log.

Then PostgreSQL is stopped: a router whose condition needs it defers the
message ("lookup of ... gave DEFER"), which stays on the spool; when the
server is back, a queue run delivers it and its row is written.

Run: python3 modules/events/tests/test_seed_example.py --tern build/bin/tern
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "lib"))
import sqlservers  # noqa: E402
import ternlab  # noqa: E402
from doc_example import DOC_EXAMPLE  # noqa: E402

TERN = None

# The documentation's example with `eq` (the `=` form fails as in Exim: test_events.py).
PG_ACTION = DOC_EXAMPLE.replace("{CMP}", "eq")

MYSQL_ACTION = """event_action = ${if eq {msg:delivery}{$event_name} \\
{${lookup mysql {INSERT INTO deliveries VALUES ( \\
    '${quote_mysql:$sender_address_domain}',\\
    '${quote_mysql:${lc:$sender_address_local_part}}', \\
    '${quote_mysql:$domain}', \\
    '${quote_mysql:${lc:$local_part}}', \\
    '${quote_mysql:$host_address}', \\
    '${quote_mysql:${lc:$host}}', \\
    '${quote_mysql:$message_exim_id}')}} \\
} {}}
"""

COLUMNS = "sd text, sl text, dd text, dl text, ip text, host text, id text"
ROW = "concat_ws('|', sd, sl, dd, dl, ip, host, id)"


class SeedExample(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.scratch = ternlab.Scratch()
        cls.pg = sqlservers.PostgresServer(cls.scratch.path)
        cls.maria = None
        try:
            cls.pg.add_user("tern", "secret", database="terndb")
            cls.pg.sql(f"create table deliveries ({COLUMNS})", database="terndb")
            cls.pg.sql("grant all on deliveries to tern", database="terndb")
            cls.pg.sql("create table completes (id text)", database="terndb")
            cls.pg.sql("grant all on completes to tern", database="terndb")
            cls.pg.sql("create function record_Delivery(text, text, text, text, text, text, text) returns int as "
                       "$$ insert into deliveries values ($1, $2, $3, $4, $5, $6, $7); select 1 $$ language sql",
                       database="terndb")
            cls.maria = sqlservers.MariaDBServer(cls.scratch.path)
            cls.maria.add_user("tern", "secret", database="terndb")
            cls.maria.sql(f"create table deliveries ({COLUMNS})", database="terndb")
            cls.mail = os.path.join(cls.scratch.path, "mail")
            os.makedirs(cls.mail)
            os.chmod(cls.mail, 0o1777)
            mailbox = (f"  driver = appendfile\n  maildir_format\n  directory = {cls.mail}/$local_part\n"
                       "  create_directory\n  user = nobody\n")
            config = (
                "modules = events : pgsql : mysql\n"
                f"pgsql_servers = {sqlservers.server_list(cls.pg.tcp_item('terndb', 'tern', 'secret'))}\n"
                f"mysql_servers = {sqlservers.server_list(cls.maria.socket_item('terndb', 'tern', 'secret'))}\n"
                "acl_smtp_rcpt = accept\n"
                "event_action = ${if eq {msg:complete}{$event_name}"
                "{${lookup pgsql{INSERT INTO completes VALUES ('${quote_pgsql:$message_exim_id}')}}}{}}\n"
                "begin routers\n"
                "needs_pg:\n  driver = accept\n  domains = check.example\n"
                "  condition = ${lookup pgsql{SELECT 1}{yes}{no}}\n  transport = t_pg\n"
                "to_pg:\n  driver = accept\n  domains = pg.example\n  transport = t_pg\n"
                "to_mysql:\n  driver = accept\n  domains = my.example\n  transport = t_mysql\n"
                "begin transports\n"
                f"t_pg:\n{mailbox}  {PG_ACTION}"
                f"t_mysql:\n{mailbox}  {MYSQL_ACTION}"
                "begin retry\n* * F,1h,10m\n")
            cls.daemon = ternlab.Daemon(TERN, cls.scratch, config, deliver=True)
        except BaseException:
            cls.close_servers()
            raise

    @classmethod
    def close_servers(cls):
        for server in (cls.maria, cls.pg):
            if server:
                server.close()
        cls.scratch.close()

    @classmethod
    def tearDownClass(cls):
        cls.daemon.close()
        cls.close_servers()

    def send(self, sender, recipient):
        c = ternlab.SmtpClient(self.daemon.port)
        try:
            c.reply()
            c.cmd("EHLO client.example")
            self.assertEqual(c.cmd(f"MAIL FROM:<{sender}>")[0], 250)
            self.assertEqual(c.cmd(f"RCPT TO:<{recipient}>")[0], 250)
            c.cmd("DATA")
            c.send("Subject: seed example\r\n\r\nhello\r\n.\r\n")
            code, lines = c.reply()
            self.assertEqual(code, 250)
            return lines[0].split("id=")[1]
        finally:
            c.close()

    def deliver_three(self, domain):
        sent = [("Alice@Origin.example", f"Bob@{domain}"), ("o'brien@irish.example", f"carol@{domain}"),
                ("dave@origin.example", f"Dave.Smith@{domain}")]
        ids = [self.send(s, r) for s, r in sent]
        for msg_id in ids:
            self.daemon.wait_log(f"{msg_id} Completed", timeout=30)
        return ids

    @staticmethod
    def expected(domain, ids):
        return sorted([f"Origin.example|alice|{domain}|bob|||{ids[0]}",
                       f"irish.example|o'brien|{domain}|carol|||{ids[1]}",
                       f"origin.example|dave|{domain}|dave.smith|||{ids[2]}"])

    def rows(self, server, domain):
        out = server.sql(f"select {ROW} from deliveries where dd = '{domain}'", database="terndb")
        return sorted(line for line in out.splitlines() if line)

    def test_postgresql_gets_a_row_per_delivery(self):
        ids = self.deliver_three("pg.example")
        self.assertEqual(self.rows(self.pg, "pg.example"), self.expected("pg.example", ids))
        self.assert_complete_once(ids)

    def test_mariadb_gets_a_row_per_delivery(self):
        ids = self.deliver_three("my.example")
        self.assertEqual(self.rows(self.maria, "my.example"), self.expected("my.example", ids))
        self.assert_complete_once(ids)

    def assert_complete_once(self, ids):
        log = self.daemon.log()

        def completes():
            return self.pg.sql("select id from completes", database="terndb").split()

        # msg:complete is raised after the "Completed" line: its row comes a moment later.
        ternlab.wait_for(lambda: all(m in completes() for m in ids), 30, "a msg:complete row per message")
        completes = completes()
        for msg_id in ids:
            self.assertEqual(log.count(f"{msg_id} Completed"), 1)
            self.assertEqual(completes.count(msg_id), 1)  # the main event_action's msg:complete
        self.assertEqual(self.daemon.log("panic"), "")

    def test_a_stopped_database_defers_and_nothing_is_lost(self):
        self.pg.stop()
        try:
            msg_id = self.send("eve@origin.example", "frank@check.example")
            self.daemon.wait_log(f"{msg_id} == frank@check.example defer", timeout=30)
            self.assertIn('in needs_pg router: lookup of "SELECT 1" gave DEFER: PGSQL connection failed',
                          self.daemon.log())
            self.assertIn(msg_id, self.daemon.messages())
            self.assertNotIn(f"{msg_id} Completed", self.daemon.log())
        finally:
            self.pg.start()
        r = ternlab.run_tern(TERN, ["-C", self.daemon.config, "-qf"], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.daemon.wait_log(f"{msg_id} Completed", timeout=30)
        self.assertNotIn(msg_id, self.daemon.messages())
        self.assertEqual(self.rows(self.pg, "check.example"),
                         [f"origin.example|eve|check.example|frank|||{msg_id}"])
        self.assert_complete_once([msg_id])


if __name__ == "__main__":
    ternlab.unittest_main(__name__)
