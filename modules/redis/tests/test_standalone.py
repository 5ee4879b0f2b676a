#!/usr/bin/env python3
"""modules/redis/tests/test_standalone.py: the redis lookup against real redis-servers.

Each test starts the redis-server(s) it needs on free loopback ports and
drives `tern -C conf -be` with `modules = redis`: replies of every type in
Exim's format, error replies and refused connections as DEFER with Exim's
texts, quoting, passwords, ACL users, database numbers, Unix sockets,
failover to the next server (down or not answering), a failed server held
down (retried later, not at every lookup), a server restarted under a
running tern, and two tern processes sharing one Redis (two daemons:
test_daemons.py).

    test_standalone.py --tern build/bin/tern [--only NAME]
"""
import contextlib
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "lib"))
import harness  # noqa: E402
import ternlab  # noqa: E402
from redis_servers import RedisServer  # noqa: E402
from harness import BePeer, be, main, write_conf  # noqa: E402



def servers_item(r, db="", password=""):
    """r's item in redis_servers: the port's colon doubled, both slashes."""
    return f"127.0.0.1::{r.port}/{db}/{password}"


@contextlib.contextmanager
def servers_holding_k(s, *names):
    """Running redis-servers `names`, each with k = "from <name>"."""
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(RedisServer(s, name)) for name in names]
        for name, r in zip(names, servers):
            r.cli("SET", "k", f"from {name}")
        yield servers


def test_replies_in_exims_format():
    with ternlab.Scratch() as s, RedisServer(s, "r") as r:
        r.cli("SET", "k", "value one")
        r.cli("SET", "empty", "")
        r.cli("HSET", "h", "f", "field value")
        r.cli("RPUSH", "l", "a", "b", "c")
        r.cli("SADD", "set", "only")
        r.cli("SET", "n", "41")
        conf = write_conf(s, "tern.conf", servers_item(r))
        cases = [
            ("${lookup redis{GET k}}", "value one"),
            ("${lookup redis{HGET h f}}", "field value"),
            # nil: a successful lookup with an empty value
            ("${lookup redis{GET missing}{found<$value>}{NONE}}", "found<>"),
            ("${lookup redis{HGET h nofield}{found<$value>}{NONE}}", "found<>"),
            ("${lookup redis{GET empty}{found<$value>}{NONE}}", "found<>"),
            # integers: true/false
            ("${lookup redis{EXISTS k}}", "true"),
            ("${lookup redis{EXISTS missing}}", "false"),
            ("${lookup redis{SISMEMBER set only}}", "true"),
            ("${lookup redis{INCR n}}", "true"),
            # status replies: their text
            ("${lookup redis{TYPE h}}", "hash"),
            ("${lookup redis{PING}}", "PONG"),
            # arrays: newline-joined; integers inside are numbers; nil
            # elements leave an empty line after the first value
            ("${lookup redis{LRANGE l 0 -1}}", "a\nb\nc"),
            ("${lookup redis{MGET k missing n}}", "value one\n\n42"),
            ("${lookup redis{MGET missing k}}", "value one"),
            ("${lookup redis{HGETALL h}}", "f\nfield value"),
            ("${lookup redis{SMISMEMBER set only other}}", "1\n0"),
            # an array with nothing in it is "not found"
            ("${lookup redis{KEYS nomatch*}{yes}{no}}", "no"),
            ("${lookup redis{MGET missing1 missing2}{yes}{no}}", "no"),
            ("${lookup redis{LRANGE nolist 0 -1}{yes}{no}}", "no"),
            # one level of nested arrays, after a newline of its own
            ("${lookup redis{EVAL return\\{'x',\\{1,'y'\\}\\} 0}}", "x\n\n1\ny"),
            # ${lookup} without yes/no strings gives the value
            ("<${lookup redis{GET missing}}>", "<>"),
        ]
        with BePeer(conf) as p:  # one process for all (tern's start is slow under ASan)
            for expr, want in cases:
                got = p.expand(expr)
                assert got == want, f"{expr}: got {got!r}, want {want!r}"
        assert be(conf, "${lookup redis{GET k}}") == "value one"  # -be with an argument


def test_error_replies_defer():
    with ternlab.Scratch() as s, RedisServer(s, "r") as r:
        conf = write_conf(s, "tern.conf", servers_item(r))
        got = be(conf, "${lookup redis{NOSUCHCOMMAND x}}")
        assert got == ('Failed: lookup of "NOSUCHCOMMAND x" gave DEFER: REDIS: lookup result failed: '
                       "ERR unknown command 'NOSUCHCOMMAND', with args beginning with: 'x' \n"), got
        r.cli("SET", "str", "x")
        got = be(conf, "${lookup redis{HGET str f}}")
        assert got == ('Failed: lookup of "HGET str f" gave DEFER: REDIS: lookup result failed: '
                       "WRONGTYPE Operation against a key holding the wrong kind of value\n"), got
        # An empty query fails before the module is asked (Exim's search_find).
        assert be(conf, "${lookup redis{  }{yes}{no}}") == "no"


def test_requirepass():
    with ternlab.Scratch() as s, RedisServer(s, "r", config_lines=["requirepass s3cret"],
                                             password="s3cret") as r:
        r.cli("SET", "k", "guarded")
        no_password = write_conf(s, "none.conf", servers_item(r))
        got = be(no_password, "${lookup redis{GET k}}")
        assert got == ('Failed: lookup of "GET k" gave DEFER: '
                       "REDIS: lookup result failed: NOAUTH Authentication required.\n"), got
        right = write_conf(s, "right.conf", servers_item(r, password="s3cret"))
        assert be(right, "${lookup redis{GET k}}") == "guarded"
        wrong = write_conf(s, "wrong.conf", servers_item(r, password="nope"))
        got = be(wrong, "${lookup redis{GET k}}")
        assert got == ('Failed: lookup of "GET k" gave DEFER: REDIS Authentication failed: '
                       "WRONGPASS invalid username-password pair or user is disabled.\n"), got
        # `hide` keeps the password from -bP for all but root, as in Exim.
        item = servers_item(r, password="s3cret")
        hidden = s.file("hidden.conf", f"modules = redis\nhide redis_servers = {item}\n")
        assert be(hidden, "${lookup redis{GET k}}") == "guarded"
        p = ternlab.run_tern(harness.TERN, ["-C", hidden, "-bP", "redis_servers"])
        assert p.stdout == f"redis_servers = {item}\n", p.stdout
        p = subprocess.run([harness.TERN, "-C", hidden, "-bP", "redis_servers"], capture_output=True, text=True,
                           user="nobody", timeout=60)
        assert p.stdout == "redis_servers = <value not displayable>\n", (p.stdout, p.stderr)


def test_password_for_a_server_without_one():
    # Exim ignores AUTH's reply, so a password for a server that has none
    # works there; it works here too.
    with ternlab.Scratch() as s, RedisServer(s, "r") as r:
        r.cli("SET", "k", "open")
        conf = write_conf(s, "tern.conf", servers_item(r, password="unused"))
        assert be(conf, "${lookup redis{GET k}}") == "open"


def test_acl_user():
    acl = ["user default off",
           "user alice on >alicepw ~* &* +@all",
           "user bob on >bobpw ~public:* +get"]
    with ternlab.Scratch() as s, RedisServer(s, "r", config_lines=acl, user="alice", password="alicepw") as r:
        r.cli("SET", "public:motd", "hello")
        r.cli("SET", "secret", "hidden")
        alice = write_conf(s, "alice.conf", servers_item(r, password="alice::alicepw"))
        assert be(alice, "${lookup redis{GET secret}}") == "hidden"
        bob = write_conf(s, "bob.conf", servers_item(r, password="bob::bobpw"))
        assert be(bob, "${lookup redis{GET public:motd}}") == "hello"
        got = be(bob, "${lookup redis{GET secret}}")
        assert got.startswith('Failed: lookup of "GET secret" gave DEFER: REDIS: lookup result failed: '
                              "NOPERM"), got
        bad = write_conf(s, "bad.conf", servers_item(r, password="alice::wrong"))
        got = be(bad, "${lookup redis{GET secret}}")
        assert got == ('Failed: lookup of "GET secret" gave DEFER: REDIS Authentication failed: '
                       "WRONGPASS invalid username-password pair or user is disabled.\n"), got
        nobody = write_conf(s, "nobody.conf", servers_item(r))
        got = be(nobody, "${lookup redis{GET secret}}")
        assert got.endswith("gave DEFER: REDIS: lookup result failed: NOAUTH Authentication required.\n"), got


def test_database_number():
    with ternlab.Scratch() as s, RedisServer(s, "r") as r:
        r.cli("-n", "3", "SET", "k", "in three")
        r.cli("SET", "k", "in zero")
        three = write_conf(s, "three.conf", servers_item(r, db="3"))
        assert be(three, "${lookup redis{GET k}}") == "in three"
        zero = write_conf(s, "zero.conf", servers_item(r, db="0"))
        assert be(zero, "${lookup redis{GET k}}") == "in zero"
        default = write_conf(s, "default.conf", servers_item(r))
        assert be(default, "${lookup redis{GET k}}") == "in zero"
        got = be(write_conf(s, "bad.conf", servers_item(r, db="99")), "${lookup redis{GET k}}")
        assert got == ('Failed: lookup of "GET k" gave DEFER: REDIS: Selecting database=99 failed: '
                       "ERR DB index is out of range\n"), got
        # A lookup's own SELECT does not leak into the next lookup of the
        # same process: its connection is closed after it.
        with BePeer(three) as p:
            assert p.expand("${lookup redis{SELECT 0}}") == "OK"
            assert p.expand("${lookup redis{GET k}}") == "in three"


def test_unix_socket():
    with ternlab.Scratch() as s, RedisServer(s, "r") as r:
        r.cli("SET", "k", "via socket")
        conf = write_conf(s, "tern.conf", f"({r.socket})//")
        assert be(conf, "${lookup redis{GET k}}") == "via socket"


def test_quoting_hostile_keys():
    hostile = ["with space", "back\\slash", "tab\there", "new\nline", "trailing\\", "{braces}",
               "dollar$sign", "quote\"s'", "  lead and trail  ", "colon:semi;comma,"]
    with ternlab.Scratch() as s, RedisServer(s, "r") as r:
        conf = write_conf(s, "tern.conf", servers_item(r))
        with BePeer(conf) as p:
            for i, key in enumerate(hostile):
                r.cli("SET", key, f"value {i}")
                path = s.file(f"key{i}", key)  # untrusted data reaches the lookup as is
                got = p.expand(f"${{lookup redis{{GET ${{quote_redis:${{readfile{{{path}}}}}}}}}}}")
                assert got == f"value {i}", f"{key!r}: got {got!r}"
        # Unquoted, the key with a space is two arguments: Redis refuses GET.
        path = s.file("unquoted", "with space")
        got = be(conf, f"${{lookup redis{{GET ${{readfile{{{path}}}}}}}}}")
        assert "wrong number of arguments" in got, got
        # The quoting itself, as Exim's: backslash before white space and backslash.
        assert be(conf, "${quote_redis:a b\\\\c}") == "a\\ b\\\\c"
        got = be(conf, "${quote_redis_x:a}")
        assert got == 'Failed: "x" unrecognized after "${quote_redis"', got


def test_servers_option_and_old_syntax():
    with ternlab.Scratch() as s, servers_holding_k(s, "a", "b") as (a, b):
        conf = write_conf(s, "tern.conf", f"{servers_item(a)} : {servers_item(b, password='')}")
        assert be(conf, "${lookup redis{GET k}}") == "from a"
        assert be(conf, f"${{lookup redis,servers={servers_item(b)}{{GET k}}}}") == "from b"
        # A name without slashes picks the item of redis_servers that starts with it.
        assert be(conf, f"${{lookup redis,servers=127.0.0.1::{b.port}{{GET k}}}}") == "from b"
        got = be(conf, "${lookup redis,servers=127.0.0.9{GET k}}")
        assert got == ('Failed: lookup of "GET k" gave DEFER: '
                       'Redis server "127.0.0.9" not found in redis_servers'), got
        # Exim's older syntax, in the query.
        got = be(conf, f"${{lookup redis{{servers=127.0.0.1::{b.port};GET k}}}}",
                 stderr="tern: redis: WARNING: obsolete syntax used for lookup\n")
        assert got == "from b", got
        unset = write_conf(s, "unset.conf", None)
        got = be(unset, "${lookup redis{GET k}}")
        assert got == ('Failed: lookup of "GET k" gave DEFER: '
                       "no Redis servers defined (redis_servers option)"), got
        assert be(unset, f"${{lookup redis,servers={servers_item(a)}{{GET k}}}}") == "from a"


def test_incomplete_server_data():
    with ternlab.Scratch() as s:
        for servers, want in [
            ("127.0.0.1::6379/0", "incomplete Redis server data: 127.0.0.1:6379"),
            ("127.0.0.1::6379/secret", "incomplete Redis server data: 127.0.0.1:6379"),
            ("127.0.0.1::6379", 'Redis server "127.0.0.1:6379" not found in redis_servers'),
            ("a/b/0/", "unexpected slash in Redis server hostname: a/b"),
            ("127.0.0.1::99999//", "bad port in Redis server data: 127.0.0.1:99999"),
        ]:
            got = be(write_conf(s, "tern.conf", servers), "${lookup redis{GET k}}")
            assert got == f'Failed: lookup of "GET k" gave DEFER: {want}', f"{servers}: {got!r}"
        # An incomplete item stops the search (Exim's defer_break), even if
        # a good server follows.
        with RedisServer(s, "r") as r:
            r.cli("SET", "k", "v")
            got = be(write_conf(s, "t2.conf", f"127.0.0.1::1/0 : {servers_item(r)}"),
                     "${lookup redis{GET k}}")
            assert got.endswith("gave DEFER: incomplete Redis server data: 127.0.0.1:1"), got


def test_failover_to_the_next_server():
    with ternlab.Scratch() as s, servers_holding_k(s, "second") as (second,):
        dead = ternlab.free_port()  # nothing listens there
        conf = write_conf(s, "tern.conf", f"127.0.0.1::{dead}// : {servers_item(second)}")
        assert be(conf, "${lookup redis{GET k}}") == "from second"
        # An error reply does not move on: it is the answer.
        got = be(conf, "${lookup redis{HGET k f}}")
        assert "WRONGTYPE" in got, got
        # All down: DEFER with the last server's reason.
        second.stop()
        got = be(conf, "${lookup redis{GET k}}")
        assert got == 'Failed: lookup of "GET k" gave DEFER: REDIS: query failed: Connection refused\n', got


def test_failover_when_a_server_does_not_answer():
    with ternlab.Scratch() as s, servers_holding_k(s, "first", "second") as (first, second):
        conf = write_conf(s, "tern.conf", f"{servers_item(first)} : {servers_item(second)}",
                          "redis_timeout = 1s\n")
        assert be(conf, "${lookup redis{GET k}}") == "from first"
        first.pause()  # accepts connections (the kernel does), answers nothing
        try:
            t0 = time.monotonic()
            assert be(conf, "${lookup redis{GET k}}") == "from second"
            took = time.monotonic() - t0
            # At least the timeout; the rest is tern's start (slow under ASan and load).
            assert 0.9 < took < 8, f"failover took {took:.2f}s with redis_timeout = 1s"
            only_first = write_conf(s, "first.conf", servers_item(first), "redis_timeout = 1s\n")
            t0 = time.monotonic()
            got = be(only_first, "${lookup redis{GET k}}")
            took = time.monotonic() - t0
            assert got == 'Failed: lookup of "GET k" gave DEFER: REDIS: query failed: no reply within 1s\n', got
            assert 0.9 < took < 8, took
        finally:
            first.resume()


def test_connection_kept_and_reopened_after_a_restart():
    with ternlab.Scratch() as s, RedisServer(s, "r") as r:
        r.cli("SET", "k", "before")
        conf = write_conf(s, "tern.conf", servers_item(r), "redis_hold_down = 5s\n")
        with BePeer(conf) as p:
            before = r.connections_received()
            for i in range(20):
                assert p.expand(f"${{lookup redis{{GET k{i}}}{{found}}{{none}}}}") == "found"
            # one connection for the twenty lookups (and one for redis-cli INFO)
            opened = r.connections_received() - before
            assert opened == 2, opened
            assert p.expand("${lookup redis{GET k}}") == "before"
            r.restart()  # same port, empty data
            r.cli("SET", "k", "after")
            assert p.expand("${lookup redis,cache=no_rd{GET k}}") == "after"
            r.stop()
            got = p.expand("${lookup redis,cache=no_rd{GET k}}")
            assert got == 'Failed: lookup of "GET k" gave DEFER: REDIS: query failed: Connection refused\n', got
            r.start()
            r.cli("SET", "k", "back")
            # Held down after the refusal: not tried again before 5s have passed.
            got = p.expand("${lookup redis,cache=no_rd{GET k}}")
            assert re.fullmatch('Failed: lookup of "GET k" gave DEFER: '
                                f'Redis server "127.0.0.1:{r.port}" held down for [1-5]s after: '
                                'REDIS: query failed: Connection refused\n', got), got
            ternlab.wait_for(lambda: p.expand("${lookup redis,cache=no_rd{GET k}}") == "back",
                             timeout=10, what="the lookup to reach the restarted server")


def test_a_failed_server_is_retried_later_not_at_every_lookup():
    with ternlab.Scratch() as s, servers_holding_k(s, "first", "second") as (first, second):
        conf = write_conf(s, "tern.conf", f"{servers_item(first)} : {servers_item(second)}",
                          "redis_timeout = 1s\nredis_hold_down = 3s\n")
        with BePeer(conf) as p:
            assert p.expand("${lookup redis,cache=no_rd{GET k}}") == "from first"
            first.pause()  # mute: each attempt would wait redis_timeout
            try:
                t0 = time.monotonic()
                assert p.expand("${lookup redis,cache=no_rd{GET k}}") == "from second"
                assert time.monotonic() - t0 >= 0.9
                # Held down: the next lookups go straight to the second server.
                t0 = time.monotonic()
                for _ in range(10):
                    assert p.expand("${lookup redis,cache=no_rd{GET k}}") == "from second"
                took = time.monotonic() - t0
                assert took < 0.9, f"ten lookups took {took:.2f}s: the mute server was tried again"
            finally:
                first.resume()
            # Once the hold-down has passed, the first server is tried (and answers) again.
            ternlab.wait_for(lambda: p.expand("${lookup redis,cache=no_rd{GET k}}") == "from first",
                             timeout=10, what="the first server to be used again")
        # Both held down: the lookup defers at once, naming the last one's reason.
        only_down = write_conf(s, "down.conf", f"127.0.0.1::{ternlab.free_port()}//", "redis_hold_down = 60s\n")
        with BePeer(only_down) as p:
            first_try = p.expand("${lookup redis{GET k}}")
            assert first_try.endswith("REDIS: query failed: Connection refused\n"), first_try
            again = p.expand("${lookup redis{GET k}}")
            assert "held down for 60s after: REDIS: query failed: Connection refused" in again, again


def test_two_processes_share_one_redis():
    # Written against Peer, so that the same test can drive two daemons.
    with ternlab.Scratch() as s, RedisServer(s, "r") as r:
        conf = write_conf(s, "tern.conf", servers_item(r))
        with BePeer(conf) as a, BePeer(conf) as b:
            assert a.expand("${lookup redis{SET shared one}}") == "OK"
            assert b.expand("${lookup redis{GET shared}}") == "one"
            assert b.expand("${lookup redis{SET shared two}}") == "OK"
            assert a.expand("${lookup redis,cache=no_rd{GET shared}}") == "two"
            r.cli("SET", "shared", "three")  # a change made by someone else
            assert a.expand("${lookup redis,cache=no_rd{GET shared}}") == "three"
            assert b.expand("${lookup redis,cache=no_rd{GET shared}}") == "three"
            assert a.expand("${lookup redis{INCR counter}}") == "true"
            assert b.expand("${lookup redis{INCR counter}}") == "true"
            assert r.cli("GET", "counter") == "2"


if __name__ == "__main__":
    sys.exit(main(globals()))
