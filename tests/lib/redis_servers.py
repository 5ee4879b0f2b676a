"""tests/lib/redis_servers.py: real redis-server processes for integration tests.

RedisServer starts one redis-server on a free loopback port (and a Unix
socket) in a scratch directory, with nothing persisted, and can stop,
restart (same port), pause (SIGSTOP: connections are accepted by the kernel
but never answered) and resume it. RedisCluster builds a cluster of masters
with `redis-cli --cluster create`, and knows the slot map, how to move a
slot (MIGRATING/IMPORTING, MIGRATE, SETSLOT NODE) and how to add a replica.
redis-cli talks to them; key_slot() is Redis Cluster's slot of a key.
"""
import os
import signal
import subprocess
import time

import ternlab


def crc16(data: bytes) -> int:
    """CRC16-CCITT (XMODEM), as Redis Cluster hashes keys."""
    crc = 0
    for b in data:
        crc ^= b << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return crc


def key_slot(key: str) -> int:
    """The cluster slot of `key`, hash tags included."""
    k = key.encode()
    s = k.find(b"{")
    if s != -1:
        e = k.find(b"}", s + 1)
        if e != -1 and e != s + 1:
            k = k[s + 1:e]
    return crc16(k) & 16383


class RedisServer:
    """One redis-server on 127.0.0.1:<port> and <dir>/redis.sock."""

    def __init__(self, scratch, name, port=None, extra_args=(), config_lines=(), password=None,
                 user=None):
        self.name = name
        self.dir = os.path.join(scratch.path, name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or ternlab.free_port()
        self.socket = os.path.join(self.dir, "redis.sock")
        self.extra_args = list(extra_args)
        self.password = password  # what redis-cli authenticates with
        self.user = user
        self.conf = os.path.join(self.dir, "redis.conf")
        with open(self.conf, "w") as f:
            f.write("".join(line + "\n" for line in config_lines))
        self.server = None

    def argv(self):
        return ["redis-server", self.conf, "--port", str(self.port), "--bind", "127.0.0.1",
                "--unixsocket", self.socket, "--unixsocketperm", "700", "--dir", self.dir,
                "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--protected-mode", "no", "--logfile", ""] + self.extra_args

    def start(self):
        self.server = ternlab.Server(self.argv(), log_path=os.path.join(self.dir, "redis.log"))
        ternlab.wait_port(self.port, proc=self.server.proc)
        def answers():
            out = self.cli("PING", check=False)
            return out == "PONG" or "NOAUTH" in out  # up, perhaps wanting a password
        ternlab.wait_for(answers, what=f"redis {self.name} answering PING")
        return self

    def stop(self):
        if self.server:
            self.resume()
            self.server.stop()
            self.server = None

    def kill(self):
        """SIGKILL: a crash, no goodbye to clients or to the cluster."""
        if self.server:
            self.resume()
            self.server.stop(sig=signal.SIGKILL)
            self.server = None

    def restart(self):
        """Stop and start again on the same port (the data is gone: nothing is saved)."""
        self.stop()
        return self.start()

    def pause(self):
        os.killpg(self.server.proc.pid, signal.SIGSTOP)

    def resume(self):
        if self.server and self.server.alive():
            os.killpg(self.server.proc.pid, signal.SIGCONT)

    def cli(self, *args, check=True, cluster=False):
        """redis-cli against this server; its output, without the final newline."""
        argv = ["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), "--no-auth-warning"]
        if cluster:
            argv.append("-c")
        if self.user:
            argv += ["--user", self.user]
        if self.password:
            argv += ["-a", self.password]
        p = subprocess.run(argv + [str(a) for a in args], capture_output=True, text=True, timeout=30)
        out = p.stdout.rstrip("\n")
        if check and (p.returncode != 0 or out.startswith("(error)") or out.startswith("ERR")):
            raise RuntimeError(f"redis-cli {' '.join(map(str, args))} on {self.name}: {out} {p.stderr}")
        return out

    def info(self, section):
        """INFO <section> as a dict."""
        out = {}
        for line in self.cli("INFO", section).splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.split(":", 1)
                out[k] = v.strip()
        return out

    def error_count(self, prefix):
        """How many error replies starting with `prefix` (MOVED, ASK, NOAUTH...) it sent."""
        v = self.info("errorstats").get("errorstat_" + prefix)
        return int(v.split("=")[1]) if v else 0

    def connections_received(self):
        return int(self.info("stats")["total_connections_received"])

    def node_id(self):
        return self.cli("CLUSTER", "MYID")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


class RedisCluster:
    """A Redis Cluster of `masters` nodes (no replicas until add_replica)."""

    def __init__(self, scratch, masters=3, node_timeout_ms=1000):
        self.scratch = scratch
        self.node_timeout_ms = node_timeout_ms
        self.nodes = [self._node(f"node{i}") for i in range(masters)]

    def _node(self, name):
        bus_port = ternlab.free_port()  # not port + 10000, which may not exist
        node = RedisServer(self.scratch, name, extra_args=[
            "--cluster-enabled", "yes",
            "--cluster-config-file", os.path.join(self.scratch.path, name, "nodes.conf"),
            "--cluster-node-timeout", str(self.node_timeout_ms),
            "--cluster-port", str(bus_port),
            "--cluster-require-full-coverage", "no"])
        node.bus_port = bus_port
        return node

    def start(self):
        for n in self.nodes:
            n.start()
        p = subprocess.run(["redis-cli", "--cluster", "create"] +
                           [f"127.0.0.1:{n.port}" for n in self.nodes] +
                           ["--cluster-replicas", "0", "--cluster-yes"],
                           capture_output=True, text=True, timeout=60)
        if p.returncode != 0:
            raise RuntimeError(f"cluster create failed: {p.stdout}{p.stderr}")
        self.wait_agreed()
        return self

    def stop(self):
        for n in self.nodes:
            n.stop()

    def alive_nodes(self):
        return [n for n in self.nodes if n.server]

    def ranges(self, via=None):
        """[(first slot, last slot, master port)] as `via` (a live node) sees them."""
        via = via or self.alive_nodes()[0]
        out = []
        for line in via.cli("CLUSTER", "NODES").splitlines():
            f = line.split()
            if "master" not in f[2] or "fail" in f[2]:
                continue
            port = int(f[1].split("@")[0].rsplit(":", 1)[1])
            for r in f[8:]:
                if not r.startswith("["):  # "[slot->-id]": a migration in progress
                    a, _, b = r.partition("-")
                    out.append((int(a), int(b or a), port))
        return out

    def owner_port(self, slot, via=None):
        return next((port for a, b, port in self.ranges(via) if a <= slot <= b), None)

    def node_on(self, port):
        return next(n for n in self.nodes if n.port == port)

    def wait_agreed(self, timeout=60):
        """Until every live node reports cluster_state:ok and the same owners."""
        def agreed():
            nodes = self.alive_nodes()
            if any(n.cli("CLUSTER", "INFO", check=False).find("cluster_state:ok") < 0 for n in nodes):
                return False
            views = {tuple(self.owner_port(s, via=n) for s in (0, 5000, 10000, 16383)) for n in nodes}
            return len(views) == 1 and None not in next(iter(views))
        ternlab.wait_for(agreed, timeout=timeout, what="the cluster to agree on its slots")

    def keys_on(self, node, count, prefix="k"):
        """`count` keys whose slots `node` serves."""
        ranges = [(a, b) for a, b, port in self.ranges() if port == node.port]
        keys, i = [], 0
        while len(keys) < count:
            k = f"{prefix}{i}"
            if any(a <= key_slot(k) <= b for a, b in ranges):
                keys.append(k)
            i += 1
        return keys

    def begin_migration(self, slot, src, dst):
        dst.cli("CLUSTER", "SETSLOT", slot, "IMPORTING", src.node_id())
        src.cli("CLUSTER", "SETSLOT", slot, "MIGRATING", dst.node_id())

    def migrate_key(self, src, dst, key):
        out = src.cli("MIGRATE", "127.0.0.1", dst.port, key, 0, 5000)
        if out != "OK":
            raise RuntimeError(f"MIGRATE {key}: {out}")

    def finish_migration(self, slot, dst):
        for n in self.alive_nodes():
            n.cli("CLUSTER", "SETSLOT", slot, "NODE", dst.node_id())
        ternlab.wait_for(lambda: all(self.owner_port(slot, via=n) == dst.port for n in self.alive_nodes()),
                         what=f"slot {slot} to move")

    def add_replica(self, master):
        """A new node replicating `master`, synced; returns it."""
        r = self._node(f"replica{len(self.nodes)}")
        self.nodes.append(r)
        r.start()
        r.cli("CLUSTER", "MEET", "127.0.0.1", master.port, master.bus_port)
        ternlab.wait_for(lambda: master.node_id() in r.cli("CLUSTER", "NODES"), what="the replica to meet")
        ternlab.wait_for(lambda: r.cli("CLUSTER", "REPLICATE", master.node_id(), check=False) == "OK",
                         what="CLUSTER REPLICATE")
        ternlab.wait_for(lambda: r.info("replication").get("master_link_status") == "up",
                         what="the replica to sync")
        return r

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
