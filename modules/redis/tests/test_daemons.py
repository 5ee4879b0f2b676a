#!/usr/bin/env python3
"""modules/redis/tests/test_daemons.py: two tern daemons deciding from one Redis.

The shape of a multi-node deployment: two `tern -bdf` daemons on their own
ports, spools and logs, whose acl_smtp_rcpt decides each recipient from
`${lookup redis{...}}` on the same redis-server. The tests speak SMTP to
both and check that
  - a key changed in Redis changes both daemons' RCPT replies at once
    (nothing stale is cached between SMTP sessions);
  - after Redis restarts (its data gone, so an answer proves a new
    connection) both daemons answer from the new server;
  - while Redis is down, RCPT defers with Exim's text for an ACL that
    defers (451 Temporary local problem - please try later), never accepts,
    and the main log says why; once Redis is back both accept again.

    test_daemons.py --tern build/bin/tern [--only NAME]
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "lib"))
import ternlab  # noqa: E402
from harness import main  # noqa: E402
from redis_servers import RedisServer  # noqa: E402

import harness  # noqa: E402

DEFER_451 = (451, ["Temporary local problem - please try later"])


def policy_config(redis, hold_down=None):
    """A daemon's configuration: RCPT accepted when Redis says `accept`
    for the local part, refused with the policy's value otherwise."""
    text = ("modules = redis\n"
            f"redis_servers = 127.0.0.1::{redis.port}//\n"
            "redis_connect_timeout = 2s\n"
            "redis_timeout = 2s\n")
    if hold_down is not None:
        text += f"redis_hold_down = {hold_down}\n"
    return text + (
        "acl_smtp_rcpt = check_rcpt\n"
        "begin acl\n"
        "check_rcpt:\n"
        "  accept  condition = ${if eq{${lookup redis{GET policy:${quote_redis:$local_part}}}}{accept}}\n"
        "  deny    message = policy for $local_part is \"${lookup redis{GET policy:${quote_redis:$local_part}}}\"\n")


def rcpt_reply(daemon, local_part):
    """A fresh SMTP session with `daemon`: the reply to RCPT TO <local_part@test.example>."""
    c = ternlab.SmtpClient(daemon.port, timeout=30)
    try:
        assert c.reply()[0] == 220
        assert c.cmd("EHLO client.example")[0] == 250
        assert c.cmd("MAIL FROM:<sender@client.example>")[0] == 250
        reply = c.cmd(f"RCPT TO:<{local_part}@test.example>")
        assert c.cmd("QUIT")[0] == 221
        return reply
    finally:
        c.close()


class TwoDaemons:
    """Daemons `a` and `b` on one Redis, stopped (also on failure) on exit."""

    def __init__(self, scratch, redis, **config):
        self.daemons = []
        try:
            for name in ("a", "b"):
                self.daemons.append(ternlab.Daemon(harness.TERN, scratch, policy_config(redis, **config),
                                                   name=name))
        except BaseException:
            self.close()
            raise

    def replies(self, local_part):
        return [rcpt_reply(d, local_part) for d in self.daemons]

    def close(self):
        for d in self.daemons:
            d.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        self.close()
        if exc_type is None:  # a clean stop: exit 0, no sanitizer report on stderr
            for d in self.daemons:
                with open(os.path.join(d.dir, "stderr"), errors="replace") as f:
                    stderr = f.read()
                assert d.server.proc.returncode == 0, stderr
                assert "Sanitizer" not in stderr and "runtime error" not in stderr, stderr


def both(reply):
    return [reply, reply]


def wait_until_both_accept(d, local_part, timeout=10):
    """Until both daemons accept `local_part` again (after a hold-down); on
    the way only deferrals, never a refusal."""
    deadline = time.monotonic() + timeout
    while (got := d.replies(local_part)) != both((250, ["Accepted"])):
        assert all(g in ((250, ["Accepted"]), DEFER_451) for g in got), got
        assert time.monotonic() < deadline, f"still {got} {timeout}s after Redis came back"
        time.sleep(0.2)


def test_a_change_in_redis_is_seen_by_both_daemons():
    with ternlab.Scratch() as s, RedisServer(s, "r") as r, TwoDaemons(s, r) as d:
        assert d.replies("alice") == both((550, ['policy for alice is ""'])), d.replies("alice")
        r.cli("SET", "policy:alice", "accept")
        assert d.replies("alice") == both((250, ["Accepted"])), d.replies("alice")
        r.cli("SET", "policy:alice", "on holiday")
        assert d.replies("alice") == both((550, ['policy for alice is "on holiday"']))
        r.cli("SET", "policy:alice", "accept")
        assert d.replies("alice") == both((250, ["Accepted"]))
        # A hostile local part reaches Redis as one quoted argument.
        r.cli("SET", "policy:bad key", "accept")
        assert d.replies('"bad key"') == both((250, ["Accepted"])), d.replies('"bad key"')
        r.cli("DEL", "policy:alice")
        assert d.replies("alice") == both((550, ['policy for alice is ""']))


def test_both_daemons_recover_after_a_redis_restart():
    with ternlab.Scratch() as s, RedisServer(s, "r") as r, TwoDaemons(s, r) as d:
        r.cli("SET", "policy:bob", "accept")
        for _ in range(3):  # both keep their connections for later sessions
            assert d.replies("bob") == both((250, ["Accepted"]))
        assert int(r.info("clients")["connected_clients"]) >= 3  # a's, b's and redis-cli's
        r.restart()  # same port, nothing kept: an answer comes from a new connection
        assert int(r.info("clients")["connected_clients"]) == 1  # redis-cli alone
        assert d.replies("bob") == both((550, ['policy for bob is ""'])), d.replies("bob")
        r.cli("SET", "policy:bob", "accept")
        assert d.replies("bob") == both((250, ["Accepted"]))
        assert int(r.info("clients")["connected_clients"]) >= 3


def test_redis_down_defers_never_accepts():
    with ternlab.Scratch() as s, RedisServer(s, "r") as r, TwoDaemons(s, r, hold_down="2s") as d:
        r.cli("SET", "policy:carol", "accept")
        assert d.replies("carol") == both((250, ["Accepted"]))
        r.stop()
        for _ in range(3):
            t0 = time.monotonic()
            got = d.replies("carol")
            assert got == both(DEFER_451), got
            assert time.monotonic() - t0 < 10, "a refused connection must not wait for a timeout"
        for daemon in d.daemons:
            daemon.wait_log("temporarily rejected RCPT <carol@test.example>")
            assert "REDIS: query failed: Connection refused" in daemon.log(), daemon.log()
        # Back, with the key: once the hold-down (2s) has passed both accept again.
        r.start()
        r.cli("SET", "policy:carol", "accept")
        wait_until_both_accept(d, "carol")


def test_redis_not_answering_defers_within_the_timeout():
    with ternlab.Scratch() as s, RedisServer(s, "r") as r, TwoDaemons(s, r, hold_down="1s") as d:
        r.cli("SET", "policy:dave", "accept")
        assert d.replies("dave") == both((250, ["Accepted"]))
        r.pause()  # connections accepted by the kernel, never answered
        try:
            for daemon in d.daemons:
                t0 = time.monotonic()
                got = rcpt_reply(daemon, "dave")
                took = time.monotonic() - t0
                assert got == DEFER_451, got
                assert 1.5 < took < 10, f"RCPT deferred after {took:.1f}s with redis_timeout = 2s"
        finally:
            r.resume()
        wait_until_both_accept(d, "dave")


if __name__ == "__main__":
    sys.exit(main(globals()))
