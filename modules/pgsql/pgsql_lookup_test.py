#!/usr/bin/env python3
"""modules/pgsql/pgsql_lookup_test.py: the pgsql module against a real PostgreSQL 15.

The scenarios are modules/sqllookup/sql_lookup_tests.py's; this file gives
PostgreSQL's SQL spellings and the texts Exim 4.96's pgsql lookup prints.

    python3 modules/pgsql/pgsql_lookup_test.py --tern build/bin/tern [-k name]
"""
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "sqllookup"))
import sql_lookup_tests as base  # noqa: E402


class PgsqlLookup(base.SqlLookupTests):
    TYPE = "pgsql"
    SERVER = base.sqlservers.PostgresServer
    DISPLAY = "PostgreSQL"
    TRANSPORT_SQL = "select case when inet_client_addr() is null then 'socket' else 'tcp' end"
    SESSION_ID_SQL = "select pg_backend_pid()"
    NULL_SINGLE = "[]"  # a NULL is an empty value, and the row counts

    @classmethod
    def grant_fixture(cls):
        cls.db.sql("grant all on all tables in schema public to tern", database="terndb")

    def sleep_sql(self, seconds):
        return f"select pg_sleep({seconds})"

    def refused_text(self, port):
        return (f'PGSQL connection failed: connection to server at "127.0.0.1", port {port} failed: '
                "Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?\n")

    def wrong_password_text(self):
        return (f'PGSQL connection failed: connection to server at "127.0.0.1", port {self.db.port} failed: '
                'FATAL:  password authentication failed for user "tern"\n')

    def query_timeout_text(self, query, seconds):
        return f"PGSQL: query failed: ERROR:  canceling statement due to statement timeout\n (PGRES_FATAL_ERROR) ({query})\n"

    def connect_timeout_text(self, port, seconds):
        return (f'PGSQL connection failed: connection to server at "127.0.0.1", port {port} failed: '
                f"timeout expired after {seconds}s\n")

    def hung_text(self, query, seconds):
        return f"PGSQL: query failed: no answer within {seconds + 1}s (pgsql_query_timeout is {seconds}s) ({query})\n"

    # quote_pgsql writes \n, \t, \\ ... as escapes, which PostgreSQL reads in
    # E'...' strings; in a standard '...' string they stay as written, but a
    # quote is still a quote doubled: data, never SQL.
    def quoted_literal(self, path):
        return "E" + super().quoted_literal(path)

    def test_standard_strings_keep_injections_as_data(self):
        conf = self.conf([self.tcp()])
        for i, text in enumerate(["x'); delete from users; --", "' or '1'='1", "O'Brien"]):
            with self.subTest(text=text):
                literal = base.SqlLookupTests.quoted_literal(self, self.scratch.file(f"plain{i}", text))
                self.assertEqual(self.one(conf, self.lookup(f"select {literal}")), text)
        self.assertEqual(self.one(conf, self.lookup("select count(*) from users")), "5")

    def test_commands_without_a_count_fail(self):
        # Exim: PQcmdTuples is empty for CREATE, SET...: no data, not found.
        conf = self.conf([self.tcp()])
        self.assertEqual(self.one(conf, self.found_or("create table if not exists ddl (a int)")), "none")
        self.assertEqual(self.one(conf, self.found_or("set search_path = public")), "none")


if __name__ == "__main__":
    base.main(PgsqlLookup)
