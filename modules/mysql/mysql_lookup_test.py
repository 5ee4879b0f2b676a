#!/usr/bin/env python3
"""modules/mysql/mysql_lookup_test.py: the mysql module against a real MariaDB.

The scenarios are modules/sqllookup/sql_lookup_tests.py's; this file gives
MariaDB's SQL spellings and the texts Exim 4.96's mysql lookup prints.

    python3 modules/mysql/mysql_lookup_test.py --tern build/bin/tern [-k name]
"""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sqllookup"))
import sql_lookup_tests as base  # noqa: E402


class MysqlLookup(base.SqlLookupTests):
    TYPE = "mysql"
    SERVER = base.sqlservers.MariaDBServer
    DISPLAY = "MySQL"
    TRANSPORT_SQL = ("select case when host like '127.0.0.1:%' then 'tcp' else 'socket' end"
                     " from information_schema.processlist where id = connection_id()")
    SESSION_ID_SQL = "select connection_id()"
    NULL_SINGLE = "none"  # a NULL in one column adds nothing: no data, not found

    def sleep_sql(self, seconds):
        return f"select sleep({seconds})"

    def refused_text(self, port):
        return "MYSQL connection failed: Can't connect to server on '127.0.0.1' (115)"

    def wrong_password_text(self):
        return "MYSQL connection failed: Access denied for user 'tern'@'127.0.0.1' (using password: YES)"

    def query_timeout_text(self, query, seconds):
        return f"MYSQL: query failed: Lost connection to server during query (mysql_query_timeout is {seconds}s)\n"

    def connect_timeout_text(self, port, seconds):
        return ("MYSQL connection failed: Lost connection to server at 'handshake: reading initial "
                "communication packet', system error: 110")

    def hung_text(self, query, seconds):
        return self.query_timeout_text(query, seconds)

    def test_option_group_and_socket_in_the_item(self):
        # host:port(socket)[group]: the socket wins over the host; an option
        # group that no file defines changes nothing.
        item = f"localhost({self.db.socket_path})[tern_test]/terndb/tern/secret"
        conf = self.conf([item])
        self.assertEqual(self.one(conf, self.lookup(self.TRANSPORT_SQL)), "socket")

    def test_other_statements_give_the_affected_rows(self):
        conf = self.conf([self.tcp()])
        self.assertEqual(self.one(conf, self.found_or("create table if not exists ddl (a int)")), "[0]")
        self.assertEqual(self.one(conf, self.found_or("set @x = 1")), "[0]")


if __name__ == "__main__":
    base.main(MysqlLookup)
