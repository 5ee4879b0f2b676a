#!/usr/bin/env python3
"""modules/redis/tests/test_cluster.py: the redis lookup against a real Redis Cluster.

Three masters made with `redis-cli --cluster create` on free loopback ports.
tern knows only the first node (redis_servers lists one); it must find keys
on every slot range (MOVED, then routing by the slot map it learned), follow
ASK during a slot migration, take the map's change after a resharding
(MOVED), and carry on after a master fails over to its replica. Redis's own
error counters (INFO errorstats) show which redirections were sent.

    test_cluster.py --tern build/bin/tern [--only NAME]
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "tests", "lib"))
import harness  # noqa: E402
import ternlab  # noqa: E402
from redis_servers import RedisCluster, key_slot  # noqa: E402
from harness import BePeer, be, main, write_conf  # noqa: E402



def conf_for(scratch, cluster, nodes=None, extra=""):
    nodes = nodes or cluster.nodes[:1]
    return write_conf(scratch, "tern.conf", " : ".join(f"127.0.0.1::{n.port}//" for n in nodes), extra)


def test_keys_on_every_slot_range():
    with ternlab.Scratch() as s, RedisCluster(s) as c:
        first = c.nodes[0]
        keys = {n.port: c.keys_on(n, 3) for n in c.nodes}
        for port, ks in keys.items():
            for k in ks:
                c.node_on(port).cli("SET", k, f"{k} on {port}")
        conf = conf_for(s, c)
        # Braces in a query are escaped in Exim's expansion syntax: \{user42\}.
        # A fresh process per lookup: each learns the map from a MOVED.
        for port, ks in keys.items():
            assert be(conf, f"${{lookup redis{{GET {ks[0]}}}}}") == f"{ks[0]} on {port}"
        # One process: the first MOVED teaches it the whole map, after which
        # every command goes straight to its slot's master.
        with BePeer(conf) as p:
            moved = first.error_count("MOVED")
            for port, ks in keys.items():
                for k in ks:
                    assert p.expand(f"${{lookup redis{{GET {k}}}}}") == f"{k} on {port}"
            assert first.error_count("MOVED") - moved == 1, first.error_count("MOVED") - moved
            for n in c.nodes:
                assert n.error_count("MOVED") == (0 if n is not first else first.error_count("MOVED"))
            # Hash tags keep keys together; multi-key commands then work.
            tag_owner = c.node_on(c.owner_port(key_slot("user42")))
            tag_owner.cli("SET", "{user42}.name", "Ann")
            tag_owner.cli("SET", "{user42}.mail", "ann@example.org")
            got = p.expand("${lookup redis{MGET \\{user42\\}.name \\{user42\\}.mail}}")
            assert got == "Ann\nann@example.org", got
            # Keys in different slots: Redis says CROSSSLOT, the lookup defers.
            a, b = keys[c.nodes[0].port][0], keys[c.nodes[1].port][0]
            got = p.expand(f"${{lookup redis{{MGET {a} {b}}}}}")
            assert "CROSSSLOT" in got and "gave DEFER" in got, got
            # A command without a key goes to the listed server.
            assert p.expand("${lookup redis{PING}}") == "PONG"
            # EVAL routes by its first key.
            k = keys[c.nodes[2].port][0]
            got = p.expand(f"${{lookup redis{{EVAL ${{quote_redis:return redis.call('GET',KEYS[1])}} 1 {k}}}}}")
            assert got == f"{k} on {c.nodes[2].port}", got


def test_ask_during_migration_then_moved():
    with ternlab.Scratch() as s, RedisCluster(s) as c:
        slot = key_slot("{mig}")
        src = c.node_on(c.owner_port(slot))
        dst = next(n for n in c.nodes if n is not src)
        src.cli("SET", "{mig}.moved", "went to dst")
        src.cli("SET", "{mig}.stays", "still on src")
        conf = conf_for(s, c, nodes=c.nodes)
        with BePeer(conf) as p:
            # Learn the map first (a key elsewhere gives the first MOVED).
            other = c.keys_on(dst, 1)[0]
            dst.cli("SET", other, "x")
            for n in c.nodes:
                for k in c.keys_on(n, 1, prefix="warm"):
                    p.expand(f"${{lookup redis{{GET {k}}}}}")
            c.begin_migration(slot, src, dst)
            c.migrate_key(src, dst, "{mig}.moved")
            ask = src.error_count("ASK")
            got = p.expand("${lookup redis{GET \\{mig\\}.moved}}")
            assert got == "went to dst", got
            assert src.error_count("ASK") - ask == 1
            assert p.expand("${lookup redis{GET \\{mig\\}.stays}}") == "still on src"
            assert src.error_count("ASK") - ask == 1  # served by src itself
            # A fresh process during the migration too.
            assert be(conf, "${lookup redis{GET \\{mig\\}.moved}}") == "went to dst"

            c.migrate_key(src, dst, "{mig}.stays")
            c.finish_migration(slot, dst)
            moved = src.error_count("MOVED")
            # The old map says src: src answers MOVED, tern follows and
            # updates its map; the next lookup of the slot goes to dst directly.
            assert p.expand("${lookup redis,cache=no_rd{GET \\{mig\\}.stays}}") == "still on src"
            assert src.error_count("MOVED") - moved == 1
            assert p.expand("${lookup redis,cache=no_rd{GET \\{mig\\}.moved}}") == "went to dst"
            assert src.error_count("MOVED") - moved == 1


def failover(how):
    """A master with a replica goes away (`how`: "kill" or "pause"); lookups
    of its keys defer, none waiting longer than the timeout, until the
    cluster has promoted the replica, then succeed."""
    with ternlab.Scratch() as s, RedisCluster(s, node_timeout_ms=1000) as c:
        victim = c.nodes[2]
        replica = c.add_replica(victim)
        keys = c.keys_on(victim, 2)
        for k in keys:
            victim.cli("SET", k, f"{k} value")
        ternlab.wait_for(lambda: replica.cli("DBSIZE") == str(len(keys)), what="the replica to hold the keys")
        timeout = 2
        conf = conf_for(s, c, extra=f"redis_timeout = {timeout}s\nredis_connect_timeout = {timeout}s\n")
        with BePeer(conf) as p:
            assert p.expand(f"${{lookup redis{{GET {keys[0]}}}}}") == f"{keys[0]} value"
            victim.kill() if how == "kill" else victim.pause()
            t0 = time.monotonic()
            failures, recovered_at = 0, None
            while time.monotonic() - t0 < 30:
                l0 = time.monotonic()
                got = p.expand(f"${{lookup redis,cache=no_rd{{GET {keys[0]}}}}}")
                took = time.monotonic() - l0
                # The timeout, a CLUSTER SLOTS and a retry; slack for ASan and load.
                assert took < timeout + 2, f"a lookup took {took:.2f}s during the failover"
                if got == f"{keys[0]} value":
                    recovered_at = time.monotonic() - t0
                    break
                assert "gave DEFER" in got, got
                failures += 1
                time.sleep(0.1)
            assert recovered_at is not None, "lookups never recovered after the failover"
            # The cluster needs node_timeout (1s) and an election.
            assert recovered_at < 15, recovered_at
            assert replica.info("replication")["role"] == "master"
            assert p.expand(f"${{lookup redis{{GET {keys[1]}}}}}") == f"{keys[1]} value"
            print(f"    {how}: {failures} deferred lookups, served again after {recovered_at:.1f}s")


def test_master_killed_fails_over():
    failover("kill")


def test_master_hung_fails_over():
    failover("pause")


if __name__ == "__main__":
    sys.exit(main(globals()))
