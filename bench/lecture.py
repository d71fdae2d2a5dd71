"""The lecture-room benchmark: the production shape on this machine, with one command.

    scripts/bench                 # full targets: 2,000 attendees, 60 s of chat at 5/s, burst, saturation
    scripts/bench --smoke         # 50 attendees, a few seconds: asserts delivery, exits 1 on failure
    scripts/bench --help          # every option
    scripts/bench --soak 30       # instead of the timed phases: 30 minutes of talks and receptions (bench/soak.py)

What one run does:

1. creates its own PostgreSQL database (renkei_bench_<pid>), migrates it, and
   seeds an event with one live talk (Stage.room_mode = single) and N approved
   registrations (prefectures varied); picks a Redis key prefix of its own;
2. starts two Daphne processes (server.asgi:application) sharing Redis, no proxy;
3. starts client worker processes (bench/client.py); each attendee opens its
   real join link on its server (attendees alternate between the two), takes
   the session cookie and opens the lecture-room WebSocket;
4. measures: join rate and errors, memory per connection, steady chat
   (--rate messages/s for --duration s), a burst (--burst messages within
   --burst-window s), and saturation (closed loop, --window messages in flight
   per client process); every message must reach every attendee;
5. does the same with a bare ASGI broadcast app on Daphne (bench/bare_app.py:
   no Django, no channel layer) with the same client and N, and prints the ratio;
6. stops every process it started, drops its database, deletes its Redis keys.

CPU is read from /proc (utime + stime) for the Daphne processes, this run's
PostgreSQL backends, Redis and the client workers; memory is VmRSS. Clients
and servers share one machine and one clock: a message's fan-out latency is
the time the last attendee read it minus the time it was sent.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from daphne.endpoints import build_endpoint_description_strings

from bench import probes
from bench.probes import cpu_seconds, machine_busy_seconds, pids_matching, rss_bytes, speed_probe_ms
from bench import soak
from bench.reception import reception_phase
from bench.report import delivery_ok, fmt, median_interval, pct, report, strip_private, verdicts

ROOT = Path(__file__).resolve().parent.parent
PORT_RANGE = (18000, 18999)



def say(*parts: Any) -> None:
    print(*parts, flush=True)


# -- the run -------------------------------------------------------------------


class BenchFailure(Exception):
    pass


class WorkerProc:
    def __init__(self, index: int, log: Path) -> None:
        self.index = index
        self.log = log
        self.proc: asyncio.subprocess.Process | None = None
        self.pid = 0

    async def start(self, env: dict[str, str]) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.client", "--worker", str(self.index),
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=self.log.open("ab"),
            cwd=ROOT, env=env, limit=1 << 27,
        )
        self.pid = self.proc.pid
        line = await asyncio.wait_for(self.proc.stdout.readline(), 60)  # type: ignore[union-attr]
        if not line:
            raise BenchFailure(f"client worker {self.index} did not start (see {self.log})")

    async def call(self, cmd: dict[str, Any], timeout: float) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
        await self.proc.stdin.drain()
        try:
            line = await asyncio.wait_for(self.proc.stdout.readline(), timeout)
        except TimeoutError:
            raise BenchFailure(f"client worker {self.index}: '{cmd['cmd']}' took over {timeout:.0f} s") from None
        if not line:
            raise BenchFailure(f"client worker {self.index} exited (see {self.log})")
        reply = json.loads(line)
        if not reply.get("ok"):
            raise BenchFailure(f"client worker {self.index}: '{cmd['cmd']}' failed: {reply.get('error')}")
        return reply

    async def finish(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        if self.killed:
            await asyncio.wait_for(self.proc.wait(), 10)
            return
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(b'{"cmd": "exit"}\n')
            await self.proc.stdin.drain()
            await asyncio.wait_for(self.proc.wait(), 10)
        except (Exception, asyncio.CancelledError):
            self.stop()
            await asyncio.wait_for(self.proc.wait(), 10)

    killed = False

    def stop(self) -> None:
        self.killed = True
        if self.proc is not None and self.proc.returncode is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.run_id = f"renkei-bench-{os.getpid()}-{secrets.token_hex(3)}"
        self.dbname = f"renkei_bench_{os.getpid()}"
        self.tmp = Path(tempfile.mkdtemp(prefix="renkei-bench-"))
        pg = urlsplit(args.postgres)
        self.pg_server = pg
        self.db_url = urlunsplit((pg.scheme, pg.netloc, "/" + self.dbname, "", ""))
        self.redis_url = args.redis
        self.servers: list[subprocess.Popen[bytes]] = []
        self.workers: list[WorkerProc] = []
        self.db_created = False
        self.talk_id = 0
        self.talk_ids: list[int] = []  # every talk the seed made (the soak goes through them in turn)
        self.tokens: list[str] = []
        self.warm_tokens: list[str] = []
        self.results: dict[str, Any] = {}
        self.failed = False

    # -- environment ---------------------------------------------------------

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": self.db_url,
            "REDIS_URL": self.redis_url,
            "CHANNEL_LAYER_PREFIX": self.run_id,
            "CELERY_KEY_PREFIX": self.run_id + ":",
            "SECRET_KEY": self.secret,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DB_CONN_MAX_AGE": str(self.args.db_conn_max_age),
            "DB_POOL_MAX_SIZE": str(self.args.db_pool_max_size),
            "DEBUG": "0",
            # Only warnings and errors: the JSON access log (a line per request, two per WebSocket:
            # server.logs) costs CPU per join that the bare app does not pay, and the benchmark
            # reads none of it (docs/performance.md, "Issue 13"). --log-level INFO puts it back.
            "LOG_LEVEL": self.args.log_level,
            "RENKEI_DATA_DIR": str(self.tmp / "data"),
            "DJANGO_SETTINGS_MODULE": "server.settings",
            "PYTHONPATH": str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        })
        return env

    secret = secrets.token_urlsafe(50)
    mode = ""  # the app the current chat phase measures

    def _pg_connect(self) -> Any:
        import psycopg

        u = self.pg_server
        return psycopg.connect(dbname="postgres", user=u.username or "postgres", password=u.password or None,
                               host=u.hostname or "127.0.0.1", port=u.port or 5432, connect_timeout=5, autocommit=True)

    def check_services(self) -> None:
        import redis

        problems = []
        try:
            self._pg_connect().close()
        except Exception as exc:
            problems.append(f"PostgreSQL is unreachable at {self.args.postgres}: {exc}")
        try:
            redis.Redis.from_url(self.redis_url, socket_connect_timeout=3).ping()
        except Exception as exc:
            problems.append(f"Redis is unreachable at {self.redis_url}: {exc}")
        host = self.pg_server.hostname or "127.0.0.1"
        if host not in ("127.0.0.1", "localhost") or (urlsplit(self.redis_url).hostname or "") not in ("127.0.0.1", "localhost"):
            problems.append("the benchmark only runs against services on 127.0.0.1")
        if problems:
            raise BenchFailure("; ".join(problems))

    def create_database(self) -> None:
        with self._pg_connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{self.dbname}"')
        self.db_created = True

    def drop_database(self) -> None:
        if self._stats_conn is not None:
            self._stats_conn.close()
            self._stats_conn = None
        if not self.db_created:
            return
        try:
            with self._pg_connect() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.dbname}" WITH (FORCE)')
            self.db_created = False
        except Exception as exc:
            say(f"warning: could not drop database {self.dbname}: {exc}")

    def delete_redis_keys(self) -> int:
        import redis

        try:
            r = redis.Redis.from_url(self.redis_url, socket_connect_timeout=3)
            keys = list(r.scan_iter(match=f"{self.run_id}*", count=1000))
            for i in range(0, len(keys), 500):
                r.delete(*keys[i:i + 500])
            return len(keys)
        except Exception as exc:
            say(f"warning: could not delete Redis keys {self.run_id}*: {exc}")
            return 0

    def run_checked(self, argv: list[str], label: str, timeout: float) -> str:
        started = time.monotonic()
        proc = subprocess.run(argv, cwd=ROOT, env=self.env(), capture_output=True, text=True, timeout=timeout, check=False)
        if proc.returncode != 0:
            raise BenchFailure(f"{label} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        say(f"  {label}: {time.monotonic() - started:.1f} s")
        return proc.stdout

    # -- servers -------------------------------------------------------------

    @staticmethod
    def pick_ports(count: int) -> list[int]:
        lo, hi = PORT_RANGE
        bases = list(range(lo, hi - count, count))
        random.Random(os.getpid()).shuffle(bases)
        for base in bases:
            ok = True
            for port in range(base, base + count):
                with socket.socket() as s:
                    try:
                        s.bind(("127.0.0.1", port))
                    except OSError:
                        ok = False
                        break
            if ok:
                return list(range(base, base + count))
        raise BenchFailure(f"no {count} free ports in {lo}-{hi}")

    def start_servers(self, app: str, ports: list[int], label: str) -> list[subprocess.Popen[bytes]]:
        procs = []
        for port in ports:
            log = (self.tmp / f"{label}-{port}.log").open("ab")
            proc = subprocess.Popen(
                # The listen queue as scripts/web sets it, for Renkei and the bare app alike (Daphne's own is 50).
                [sys.executable, "-m", "daphne", "-e", f"{build_endpoint_description_strings(host='127.0.0.1', port=port)[0]}"
                 f":backlog={self.args.backlog}", app],
                cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            )
            self.servers.append(proc)
            procs.append(proc)
        return procs

    async def wait_ready(self, ports: list[int], procs: list[subprocess.Popen[bytes]]) -> None:
        deadline = time.monotonic() + 60
        for port, proc in zip(ports, procs):
            while True:
                if proc.poll() is not None:
                    raise BenchFailure(f"the server on port {port} exited (see {self.tmp})")
                try:
                    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 2)
                    writer.write(f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
                    status = await asyncio.wait_for(reader.readline(), 20)
                    writer.close()
                    if status.startswith(b"HTTP/1.1 200"):
                        break
                except (TimeoutError, OSError):
                    pass
                if time.monotonic() > deadline:
                    raise BenchFailure(f"the server on port {port} did not answer within 60 s")
                await asyncio.sleep(0.2)

    def stop_servers(self, procs: list[subprocess.Popen[bytes]]) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    # -- sampling ------------------------------------------------------------

    def pg_stats(self) -> tuple[int, int] | None:
        """(sessions opened, transactions) of this run's database, from pg_stat_database.

        PostgreSQL publishes a backend's counts when it goes idle (at most once a
        second), so read these after a pause; the figures are approximate.
        """
        try:
            if self._stats_conn is None:
                self._stats_conn = self._pg_connect()
            row = self._stats_conn.execute(
                "SELECT sessions, xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
                (self.dbname,)).fetchone()
            return (int(row[0]), int(row[1])) if row else None
        except Exception:
            return None

    _stats_conn: Any = None

    def pg_backends(self) -> list[int]:
        """This run's PostgreSQL backends (their process title names the database)."""
        return pids_matching(lambda comm, cmd: comm.startswith("postgres") and f" {self.dbname} " in f" {cmd} ")

    def sample(self, servers: list[subprocess.Popen[bytes]]) -> dict[str, Any]:
        pg = self.pg_backends()
        redis_pids = pids_matching(lambda comm, cmd: comm == "redis-server")
        return {
            "t": time.monotonic(),
            "servers": {p.pid: cpu_seconds(p.pid) or 0.0 for p in servers},
            "rss": {p.pid: rss_bytes(p.pid) or 0 for p in servers},
            "clients": {w.pid: cpu_seconds(w.pid) or 0.0 for w in self.workers},
            "pg": {p: cpu_seconds(p) or 0.0 for p in pg},
            "redis": {p: cpu_seconds(p) or 0.0 for p in redis_pids},
            "machine": machine_busy_seconds(),
            "pg_stats": self.pg_stats(),
        }

    @staticmethod
    def cpu_delta(a: dict[str, Any], b: dict[str, Any], key: str) -> float:
        return sum(v - a[key].get(pid, 0.0) for pid, v in b[key].items())

    def cpu_report(self, a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        wall = max(1e-6, b["t"] - a["t"])
        clients = {pid: (v - a["clients"].get(pid, 0.0)) / wall for pid, v in b["clients"].items()}
        return {
            "wall_s": round(wall, 2),
            "servers_cpu_s": round(self.cpu_delta(a, b, "servers"), 2),
            "servers_cores": round(self.cpu_delta(a, b, "servers") / wall, 2),
            "per_server_cores": [round((v - a["servers"].get(pid, 0.0)) / wall, 2) for pid, v in b["servers"].items()],
            "postgres_cpu_s": round(self.cpu_delta(a, b, "pg"), 2),
            "redis_cpu_s": round(self.cpu_delta(a, b, "redis"), 2),
            "client_cores": [round(v, 2) for v in clients.values()],
            "machine_cores": round((b["machine"] - a["machine"]) / wall, 2),
            "pg_sessions_opened": b["pg_stats"][0] - a["pg_stats"][0] if a["pg_stats"] and b["pg_stats"] else None,
            "client_bound": any(v >= 0.9 for v in clients.values()),
        }

    # -- phases --------------------------------------------------------------

    def split(self, items: list[Any]) -> list[list[Any]]:
        k = len(self.workers)
        return [items[w::k] for w in range(k)]

    async def call_all(self, cmds: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
        return await asyncio.gather(*(w.call(c, timeout) for w, c in zip(self.workers, cmds)))

    async def join_phase(self, ports: list[int], servers: list[subprocess.Popen[bytes]]) -> dict[str, Any]:
        n = len(self.tokens)
        path = f"/ws/talks/{self.talk_id}/"
        # Warm up (imports, connection pools, first-request work) with registrations outside N.
        warm = [[-(i + 1), t, ports[i % len(ports)]] for i, t in enumerate(self.warm_tokens)]
        await self.workers[0].call({"cmd": "join", "items": warm, "path": path, "concurrency": 2, "timeout": 30}, 90)
        await self.workers[0].call({"cmd": "close"}, 60)
        await asyncio.sleep(1.5)
        base = self.sample(servers)
        # Attendee i joins on server i % 2; pairs are spread over the client workers.
        items = [[i, tok, ports[i % len(ports)]] for i, tok in enumerate(self.tokens)]
        k = len(self.workers)
        per_worker = [[it for it in items if (it[0] // len(ports)) % k == w] for w in range(k)]
        conc = max(1, self.args.join_concurrency // k)
        peak_backends = 0

        async def watch_backends() -> None:
            nonlocal peak_backends
            while True:
                peak_backends = max(peak_backends, len(self.pg_backends()))
                await asyncio.sleep(0.25)

        watcher = asyncio.create_task(watch_backends())
        cmds: list[dict[str, Any]] = [{"cmd": "join", "items": p, "path": path, "concurrency": conc, "timeout": 60}
                                      for p in per_worker]
        if self.args.arrival:
            # Open loop: N arrivals at random over --arrival seconds (a Poisson process given its count:
            # uniform times), as physicians open their links at the start of a talk; nobody waits for
            # another's join to finish.
            start_ns = time.time_ns() + 1_000_000_000
            rng = random.Random(self.args.seed)
            at = {it[0]: start_ns + int(rng.uniform(0, self.args.arrival) * 1e9) for it in items}
            for cmd, p in zip(cmds, per_worker):
                cmd["at_ns"] = [at[it[0]] for it in p]
        try:
            replies = await self.call_all(cmds, timeout=120 + n * 0.5 + self.args.arrival)
        finally:
            watcher.cancel()
        after = self.sample(servers)
        joined = sum(r["joined"] for r in replies)
        await asyncio.sleep(2.0)  # presence ticks settle, PostgreSQL publishes its counts; then memory
        settled = self.sample(servers)
        pg_sessions = settled["pg_stats"][0] - base["pg_stats"][0] if base["pg_stats"] and settled["pg_stats"] else None
        errors: dict[str, int] = {}
        for r in replies:
            for key, v in r["errors"].items():
                errors[key] = errors.get(key, 0) + v
        t0 = min(r["t0_ns"] for r in replies)
        t1 = max(r["t1_ns"] for r in replies)
        seconds = (t1 - t0) / 1e9
        lat = [x[0] for r in replies for x in r["latencies"]]
        http = [x[1] for r in replies for x in r["latencies"]]
        ws = [x[0] - x[1] for r in replies for x in r["latencies"]]
        rss_growth = sum(settled["rss"].values()) - sum(base["rss"].values())
        cpu = self.cpu_report(base, after)
        return {
            "attendees": n, "joined": joined, "errors": errors, "error_count": sum(errors.values()),
            "seconds": round(seconds, 2), "joins_per_s": round(joined / seconds, 1) if seconds else None,
            "arrival_s": self.args.arrival or None,
            "join_latency_ms": {"p50": round(pct(lat, 50) * 1000) if lat else None,
                                "p95": round(pct(lat, 95) * 1000) if lat else None,
                                "p99": round(pct(lat, 99) * 1000) if lat else None,
                                "max": round(max(lat) * 1000) if lat else None},
            "join_http_ms_p50": round(pct(http, 50) * 1000) if http else None,
            "join_websocket_ms_p50": round(pct(ws, 50) * 1000) if ws else None,
            "server_cpu_ms_per_join": round(cpu["servers_cpu_s"] * 1000 / joined, 2) if joined else None,
            "machine_cpu_ms_per_join": round(cpu["machine_cores"] * cpu["wall_s"] * 1000 / joined, 2) if joined else None,
            "pg_sessions_per_join": round(pg_sessions / joined, 2) if joined and pg_sessions is not None else None,
            "postgres_backends_peak": peak_backends,
            "cpu": cpu,
            "rss_base_mib": round(sum(base["rss"].values()) / 2**20, 1),
            "rss_joined_mib": round(sum(settled["rss"].values()) / 2**20, 1),
            "kib_per_connection": round(rss_growth / 1024 / joined, 1) if joined else None,
        }

    async def collect(self, sent: list[list[Any]], timeout: float) -> dict[str, Any]:
        cids = [c for c, _ in sent]
        replies = await self.call_all([{"cmd": "collect", "cids": cids, "timeout": timeout, "settle": 0.3}] * len(self.workers),
                                      timeout + 60)
        connected = sum(r["connected"] for r in replies)
        send_ns = dict(sent)

        def counts_of(c: str) -> int:
            return sum(r["stats"][c][0] for r in replies)

        counts = {c: sum(r["stats"][c][0] for r in replies) for c in cids}
        last = {c: max(r["stats"][c][1] for r in replies) for c in cids}
        if os.environ.get("RENKEI_FANOUT_TRACE"):  # per message, for bench/fanout_trace.py
            with open(os.environ["RENKEI_FANOUT_TRACE"] + ".clients", "a") as out:
                for c in cids:
                    ports: dict[str, int] = {}
                    for r in replies:
                        for port, t in r["stats"][c][3].items():
                            ports[port] = max(ports.get(port, 0), t)
                    firsts = [r["stats"][c][2] for r in replies if r["stats"][c][2]]
                    out.write(json.dumps({"cid": c, "sent": send_ns[c], "first": min(firsts, default=0),
                                          "last": last[c], "ports": ports, "count": counts_of(c),
                                          "mode": self.mode}) + "\n")
        complete = [c for c in cids if counts[c] >= connected]
        lat_ms = [(last[c] - send_ns[c]) / 1e6 for c in complete]
        buckets: dict[int, int] = {}
        for r in replies:
            for k, v in r["buckets"].items():
                buckets[int(k)] = buckets.get(int(k), 0) + v
        errors: dict[str, int] = {}
        dropped: dict[str, int] = {}
        for r in replies:
            for k, v in r["errors"].items():
                errors[k] = errors.get(k, 0) + v
            for k, v in r["dropped"].items():
                dropped[k] = dropped.get(k, 0) + v
        deliveries = sum(counts.values())
        short = sum(r["short_sockets"] for r in replies)
        over = sum(r["over_sockets"] for r in replies)
        first_send = min(send_ns.values()) if send_ns else 0
        last_arrival = max(last.values()) if last else 0
        return {
            "messages": len(cids), "connected": connected, "deliveries": deliveries,
            "expected_deliveries": len(cids) * connected,
            "lost_deliveries": sum(max(0, connected - n) for n in counts.values()),
            "duplicate_deliveries": sum(max(0, n - connected) for n in counts.values()),
            "incomplete_messages": len(cids) - len(complete),
            "sockets_missing_messages": short, "sockets_with_extra": over,
            "all_delivered": bool(cids) and len(complete) == len(cids) and short == 0 and over == 0
                             and not any(n > connected for n in counts.values()),
            "latency_ms": {"p50": pct(lat_ms, 50), "p99": pct(lat_ms, 99), "max": max(lat_ms) if lat_ms else None},
            "span_s": (last_arrival - first_send) / 1e9 if cids else 0.0,
            "frames": sum(r["frames"] for r in replies),
            "error_frames": errors, "dropped_sockets": dropped,
            "_send_ns": send_ns, "_last": last, "_complete": set(complete), "_lat": lat_ms, "_buckets": buckets,
        }

    @staticmethod
    def backlog(phase: dict[str, Any], rate: float) -> dict[str, Any]:
        """Outstanding messages (sent, not yet at every attendee) sampled every 0.5 s; latency by thirds."""
        send_ns: dict[str, int] = phase["_send_ns"]
        if not send_ns:
            return {}
        done = {c: phase["_last"][c] for c in phase["_complete"]}
        start, end = min(send_ns.values()), max(send_ns.values())
        series = []
        t = start
        sends = sorted(send_ns.values())
        dones = sorted(done.values())
        i = j = 0
        while t <= end + 2e9:
            while i < len(sends) and sends[i] <= t:
                i += 1
            while j < len(dones) and dones[j] <= t:
                j += 1
            series.append(i - j)
            t += 500_000_000
        third = (end - start) / 3
        thirds = []
        for k in range(3):
            lo, hi = start + k * third, start + (k + 1) * third + (1 if k == 2 else 0)
            lat = [(done[c] - s) / 1e6 for c, s in send_ns.items() if lo <= s < hi and c in done]
            thirds.append(round(statistics.fmean(lat), 1) if lat else None)
        sending = series[: max(1, int((end - start) / 500_000_000) + 1)]
        growth_ok = (
            phase["all_delivered"]
            and max(series) <= max(2, rate * 1.5)
            and (None in thirds or thirds[2] <= thirds[0] * 1.5 + 100)
        )
        return {"max_outstanding": max(series), "outstanding_at_end_of_sending": sending[-1],
                "mean_latency_ms_by_third": thirds, "no_growth": bool(growth_ok)}

    async def chat_phase(self, servers: list[subprocess.Popen[bytes]], mode: str, phase: str, rate: float,
                         count: int, drain: float) -> dict[str, Any]:
        k = len(self.workers)
        a = self.sample(servers)
        start_ns = time.time_ns() + 500_000_000
        cmds = []
        for w in range(k):
            cmds.append({"cmd": "send", "phase": phase, "mode": mode, "rate": rate / k, "offset_s": w / rate,
                         "count": count // k + (1 if w < count % k else 0), "start_at_ns": start_ns,
                         "max_seconds": count / rate * 2 + 30})
        replies = await self.call_all(cmds, timeout=count / rate * 2 + 90)
        sent = [s for r in replies for s in r["sent"]]
        self.mode = mode
        result = await self.collect(sent, drain)
        b = self.sample(servers)
        result["sent_late_max_ms"] = max(r["late_max_ms"] for r in replies)
        result["throttled"] = sum(r["throttled"] for r in replies)
        result["cpu"] = self.cpu_report(a, b)
        span = result["span_s"]
        result["deliveries_per_s"] = round(result["deliveries"] / span, 0) if span > 0 else None
        d = result["deliveries"]
        result["server_cpu_us_per_delivery"] = round(result["cpu"]["servers_cpu_s"] * 1e6 / d, 1) if d else None
        stack = result["cpu"]["servers_cpu_s"] + result["cpu"]["postgres_cpu_s"] + result["cpu"]["redis_cpu_s"]
        result["stack_cpu_us_per_delivery"] = round(stack * 1e6 / d, 1) if d else None
        return result

    def stored_chat_ids(self, after: int = 0) -> list[int]:
        """The chat ids (gap-free per room) the talk's room holds: what every attendee must end up with."""
        import psycopg
        from psycopg import sql as pgsql

        u = self.pg_server
        with psycopg.connect(dbname=self.dbname, user=u.username or "postgres", password=u.password or None,
                             host=u.hostname or "127.0.0.1", port=u.port or 5432, connect_timeout=5,
                             autocommit=True) as conn:
            rows = conn.execute(pgsql.SQL(
                "SELECT m.seq FROM rooms_chatmessage m JOIN rooms_lectureroom r ON r.id = m.room_id"
                " WHERE r.talk_id = %s AND m.seq > %s AND m.deleted_at IS NULL ORDER BY m.seq"),
                (self.talk_id, after)).fetchall()
        return [r[0] for r in rows]

    @staticmethod
    async def listening_after(port: int, since_ns: int, timeout: float = 60.0) -> float | None:
        """Seconds from ``since_ns`` until ``port`` accepts a TCP connection (tried every 50 ms; None: never)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return round((time.time_ns() - since_ns) / 1e9, 2)
        return None

    async def reconnect_phase(self, label: str, app: str, ports: list[int],
                              servers: list[subprocess.Popen[bytes]]) -> dict[str, Any]:
        """Both servers are killed and started again with everyone connected; everyone comes back and resumes.

        Chat flows up to the kill: messages sent in the last moments may be stored but not yet
        written to every socket when the servers die. Every attendee's page reconnects with its
        session (no new join link), naming its room and the last id it saw, as lecture.js does:
        its hello brings what it missed (``resume`` only for more than that holds). Counted: the
        time from the kill until the last attendee had all it missed, and every message the
        room stored that some attendee never received (live, in the hello or by resume). The
        bare app has no resume: there the time until the last hello is measured, and no loss.
        """
        mode = "bare" if label == "bare" else "renkei"
        path = f"/ws/talks/{self.talk_id}/"
        base_id = max(self.stored_chat_ids(), default=0) if mode == "renkei" else 0
        await self.call_all([{"cmd": "reconnect_arm", "mode": mode, "path": path,
                              "timeout": self.args.reconnect_timeout}] * len(self.workers), 30)
        # Chat up to the kill: 2 s at the steady rate, the kill right after the last send.
        k = len(self.workers)
        rate = self.args.rate
        count = max(k, round(rate * 2))
        start_ns = time.time_ns() + 300_000_000
        cmds = [{"cmd": "send", "phase": "r", "mode": mode, "rate": rate / k, "offset_s": w / rate,
                 "count": count // k + (1 if w < count % k else 0), "start_at_ns": start_ns, "max_seconds": 30}
                for w in range(k)]
        await self.call_all(cmds, 60)
        a = self.sample(servers)
        overflows = probes.listen_overflows()
        killed_ns = time.time_ns()
        for proc in servers:
            if proc.poll() is None:
                proc.kill()
        for proc in servers:
            proc.wait(10)
        new = self.start_servers(app, ports, label)
        servers[:] = new
        listening = asyncio.gather(*(self.listening_after(port, killed_ns) for port in ports))
        waited = await self.call_all([{"cmd": "reconnect_wait", "timeout": self.args.reconnect_timeout}] * k,
                                     self.args.reconnect_timeout + 60)
        b = self.sample(servers)
        overflows_after = probes.listen_overflows()
        resumed = sorted(t for r in waited for t in r["resumed_ns"])
        attendees = sum(r["attendees"] for r in waited)
        out: dict[str, Any] = {
            "attendees": attendees, "resumed": len(resumed),
            "sockets_lost": sum(r["lost_sockets"] for r in waited),
            "failed": sum(r["failed"] for r in waited), "attempts": sum(r["attempts"] for r in waited),
            "resumed_hellos": sum(r["resumed_hellos"] for r in waited),  # back from the hello alone (Renkei)
            "all_back_s": round((resumed[-1] - killed_ns) / 1e9, 2) if resumed else None,
            "p50_back_s": round((resumed[len(resumed) // 2] - killed_ns) / 1e9, 2) if resumed else None,
            "server_cpu_ms_per_reconnect": round(self.cpu_delta(a, b, "servers") * 1000 / max(1, len(resumed)), 2),
            "cpu": self.cpu_report(a, b),
            # How many were back by the end of each second after the kill: waves, not a slope, mean dropped connects.
            "back_by_second": [sum(1 for t in resumed if t - killed_ns < s * 1_000_000_000)
                               for s in range(1, int((resumed[-1] - killed_ns) / 1e9) + 2)] if resumed else [],
            # When each restarted server first accepted a connection: the rest of the time is the reconnects' work.
            "listening_after_s": await listening,
            "listen_overflows": (overflows_after - overflows
                                 if overflows is not None and overflows_after is not None else None),
        }
        if mode == "renkei":
            # Chat again once everyone is back: live delivery works on the new servers too.
            start_ns = time.time_ns() + 300_000_000
            for cmd in cmds:
                cmd["start_at_ns"] = start_ns
                cmd["phase"] = "R"
            await self.call_all(cmds, 60)
            await asyncio.sleep(0.5)
            expected = self.stored_chat_ids(base_id)
            checks = await self.call_all([{"cmd": "reconnect_check", "expected": expected, "settle": 2.0}] * k, 90)
            out["messages_stored"] = len(expected)
            out["missing_deliveries"] = sum(c["missing_deliveries"] for c in checks)
            out["sockets_missing_messages"] = sum(c["sockets_missing"] for c in checks)
            out["nothing_lost"] = out["missing_deliveries"] == 0 and out["resumed"] == attendees
        else:
            await self.call_all([{"cmd": "reconnect_check", "expected": []}] * k, 30)
        return out

    async def saturate_phase(self, servers: list[subprocess.Popen[bytes]], mode: str, drain: float) -> dict[str, Any]:
        """Closed loop at growing windows (messages in flight); stop when throughput stops growing by 10 %."""
        steps: list[dict[str, Any]] = []
        best: dict[str, Any] | None = None
        for phase, window in zip("xyzuvq", self.args.windows):
            step = await self.saturate_step(servers, mode, drain, phase, window)
            steps.append({"window_per_client": window, "deliveries_per_s": step["deliveries_per_s"],
                          "messages_per_s": step["messages_per_s"], "all_delivered": step["all_delivered"],
                          "p99_ms": step["latency_ms"]["p99"], "deliveries_per_frame": step["deliveries_per_frame"],
                          "server_cores": step["cpu"]["servers_cores"], "client_cores": step["cpu"]["client_cores"],
                          "throttled": step["throttled"]})
            say(f"    window {window}/client: {step['deliveries_per_s']:.0f} deliveries/s ({step['messages_per_s']} messages sent/s, "
                f"{step['deliveries_per_frame']} deliveries/frame, p99 {fmt(step['latency_ms']['p99'], '.0f')} ms), "
                f"delivered to all: {step['all_delivered']}; server cores {step['cpu']['servers_cores']}, "
                f"client cores {step['cpu']['client_cores']}")
            grew = best is None or step["deliveries_per_s"] > best["deliveries_per_s"] * 1.1
            if best is None or step["deliveries_per_s"] > best["deliveries_per_s"]:
                best = step
            if not grew:
                break
        assert best is not None
        best["steps"] = steps
        # Delivery must hold at every step, not only at the fastest.
        best["all_delivered"] = all(s["all_delivered"] for s in steps)
        return best

    async def saturate_step(self, servers: list[subprocess.Popen[bytes]], mode: str, drain: float, phase: str,
                            window: int) -> dict[str, Any]:
        k = len(self.workers)
        duration = self.args.saturate
        start_ns = time.time_ns() + 300_000_000
        a = self.sample(servers)
        replies = await self.call_all(
            [{"cmd": "saturate", "phase": phase, "mode": mode, "window": window, "duration": duration,
              "start_at_ns": start_ns}] * k, timeout=duration + 90)
        b = self.sample(servers)
        end_ns = time.time_ns()
        sent = [s for r in replies for s in r["sent"]]
        result = await self.collect(sent, drain)
        # Deliveries per wall second, over the whole seconds after a short warm-up.
        warm = min(2.0, duration * 0.2)
        lo = int((start_ns / 1e9) + warm) + 1
        hi = int(end_ns / 1e9)  # exclusive: the second the senders stopped in is partial
        buckets = result["_buckets"]
        if hi > lo:
            per_s = sum(buckets.get(s, 0) for s in range(lo, hi)) / (hi - lo)
        else:
            per_s = result["deliveries"] / max(1e-3, duration)
        in_window = sum(v for s, v in buckets.items() if start_ns / 1e9 - 1 <= s < end_ns / 1e9)
        result["cpu"] = self.cpu_report(a, b)
        result["deliveries_per_s"] = round(per_s, 0)
        result["messages_per_s"] = round(len(sent) / duration, 1)
        result["deliveries_per_frame"] = round(result["deliveries"] / result["frames"], 2) if result["frames"] else None
        result["server_cpu_us_per_delivery"] = (
            round(result["cpu"]["servers_cpu_s"] * 1e6 / in_window, 2) if in_window else None)
        result["throttled"] = sum(r["throttled"] for r in replies)
        result["window_per_client"] = window
        return result

    async def run_app(self, label: str, app: str, ports: list[int], duration: float) -> dict[str, Any]:
        args = self.args
        say(f"\n== {label}: {app} on ports {ports[0]} and {ports[1]}")
        servers = self.start_servers(app, ports, label)
        try:
            await self.wait_ready(ports, servers)
            out: dict[str, Any] = {"app": app, "ports": ports}
            out["join"] = join = await self.join_phase(ports, servers)
            say(f"  joined {join['joined']}/{join['attendees']} in {join['seconds']} s "
                f"({join['joins_per_s']}/s), errors {join['errors'] or 0}; "
                f"memory {join['kib_per_connection']} KiB/connection")
            if join["joined"] == 0:
                raise BenchFailure(f"{label}: no attendee could join (see {self.tmp})")
            if args.soak:  # the soak replaces the timed phases (bench/soak.py)
                out["soak"] = await soak.soak_phase(self, ports, servers)
                end = self.sample(servers)
                out["rss_end_mib"] = round(sum(end["rss"].values()) / 2**20, 1)
                await self.call_all([{"cmd": "close"}] * len(self.workers), 120)
                return out
            mode = "bare" if label == "bare" else "renkei"
            count = max(1, round(args.rate * duration))
            say(f"  steady chat: {count} messages at {args.rate}/s …")
            out["steady"] = steady = await self.chat_phase(servers, mode, "s", args.rate, count, drain=args.drain)
            steady["backlog"] = self.backlog(steady, args.rate)
            self._say_chat("steady", steady)
            say(f"  burst: {args.burst} messages within {args.burst_window} s …")
            out["burst"] = burst = await self.chat_phase(servers, mode, "b", args.burst / args.burst_window,
                                                         args.burst, drain=args.drain)
            self._say_chat("burst", burst)
            if args.reconnect:
                say("  reconnect: both servers killed and started again; everyone comes back and resumes …")
                out["reconnect"] = rc = await self.reconnect_phase(label, app, ports, servers)
                say(f"    back {rc['resumed']}/{rc['attendees']} (sockets lost {rc['sockets_lost']}, hellos that"
                    f" brought what was missed {rc['resumed_hellos']}), the last "
                    f"{fmt(rc['all_back_s'], '.2f')} s after the kill (p50 {fmt(rc['p50_back_s'], '.2f')} s); "
                    f"server CPU {rc['server_cpu_ms_per_reconnect']} ms per reconnect"
                    + (f"; {rc['messages_stored']} messages stored, missing deliveries {rc['missing_deliveries']}"
                       if "messages_stored" in rc else ""))
                say(f"    back by second: {rc['back_by_second']}; connection attempts dropped by a full listen queue "
                    f"(machine-wide): {rc['listen_overflows']}; servers listening again after {rc['listening_after_s']} s")
            if args.saturate > 0:
                say(f"  saturation: {args.saturate} s per step, messages in flight per client process "
                    f"{', '.join(map(str, args.windows))} (until throughput stops growing) …")
                out["saturation"] = await self.saturate_phase(servers, mode, drain=args.drain)
            if label == "renkei" and not args.no_reception:
                say("  reception: the speaker ends the talk; everyone is moved; then rooms chat …")
                out["reception"] = rec = await reception_phase(self, ports, servers)
                say(f"    moved {rec['moved']}/{rec['connected']} into {rec['rooms']} rooms {rec['room_sizes']}; "
                    f"last moved {fmt(rec['move_s_last'], '.3f')} s after the end (p50 {fmt(rec['move_s_p50'], '.3f')} s)")
                if "room_chat" in rec:
                    rc = rec["room_chat"]
                    say(f"    {rc['rooms']} rooms × 1 message/s: {rc['messages']} messages, every message to its room: "
                        f"{rc['every_message_to_its_room']} (missing {rc['missing_deliveries']}, errors {rc['errors'] or 0}); fan-out p99 "
                        f"{fmt(rc['latency_ms']['p99'], '.0f')} ms, max {fmt(rc['latency_ms']['max'], '.0f')} ms")
            end = self.sample(servers)
            out["rss_end_mib"] = round(sum(end["rss"].values()) / 2**20, 1)
            await self.call_all([{"cmd": "close"}] * len(self.workers), 120)
            return out
        finally:
            self.stop_servers(servers)

    async def join_rounds(self, ports: list[int], extra: int) -> None:
        """``--join-rounds``: the join comparison ``extra`` more times, Renkei and the bare app alternately.

        Each round starts both apps' servers afresh and joins everyone, as the first one did. On a
        shared machine one pair swings by a third from run to run (docs/performance.md, "Issue 13:
        the mass reconnect within 15 s"); the verdict then takes the median of the rounds' ratios, and
        calls it met only when the median's 95 % interval (report.median_interval) is under the line.
        """
        apps = (("renkei", "server.asgi:application", ports[:2]), ("bare", "bench.bare_app:app", ports[2:]))
        rounds = [{label: self.results[label]["join"]["server_cpu_ms_per_join"] for label, _, _ in apps}]
        for n in range(2, extra + 2):
            row: dict[str, float] = {}
            for label, app, pair in apps:
                servers = self.start_servers(app, pair, label)
                try:
                    await self.wait_ready(pair, servers)
                    join = await self.join_phase(pair, servers)
                    await self.call_all([{"cmd": "close"}] * len(self.workers), 120)
                finally:
                    self.stop_servers(servers)
                if join["joined"] != join["attendees"]:
                    raise BenchFailure(f"join round {n}, {label}: {join['joined']}/{join['attendees']} joined")
                row[label] = join["server_cpu_ms_per_join"]
            rounds.append(row)
            say(f"  join round {n}: server CPU per join {row['renkei']} vs {row['bare']} ms = "
                f"{row['renkei'] / row['bare']:.2f}×")
        ratios = [r["renkei"] / r["bare"] for r in rounds]
        interval = median_interval(ratios)
        self.results["join_rounds"] = {"rounds": rounds, "ratios": [round(x, 2) for x in ratios],
                                       "median_ratio": round(statistics.median(ratios), 2),
                                       "median_interval": [round(x, 2) for x in interval] if interval else None}

    @staticmethod
    def _say_chat(name: str, r: dict[str, Any]) -> None:
        lat = r["latency_ms"]
        say(f"    {r['messages']} messages × {r['connected']} attendees: delivered to all: {r['all_delivered']} "
            f"(lost {r['lost_deliveries']}, duplicates {r['duplicate_deliveries']}); fan-out p50 {fmt(lat['p50'], '.0f')} ms, "
            f"p99 {fmt(lat['p99'], '.0f')} ms, max {fmt(lat['max'], '.0f')} ms; {fmt(r['deliveries_per_s'], '.0f')} deliveries/s; "
            f"server CPU {fmt(r['server_cpu_us_per_delivery'])} µs/delivery; client cores {r['cpu']['client_cores']}")

    # -- main ----------------------------------------------------------------

    async def main(self) -> None:
        args = self.args
        say(f"renkei bench: {args.attendees} attendees, {args.duration} s at {args.rate} messages/s, "
            f"burst {args.burst} in {args.burst_window} s, saturation {args.saturate} s; "
            f"{args.clients} client processes; logs in {self.tmp}")
        self.check_services()
        say(f"== setup: database {self.dbname}, Redis prefix {self.run_id}")
        self.create_database()
        self.run_checked([sys.executable, "manage.py", "migrate", "--noinput"], "migrate", 600)
        tokens_file = self.tmp / "tokens.json"
        talks = soak.plan(args) if args.soak else {"cycles": 1, "reception_minutes": 20}
        self.run_checked([sys.executable, "-m", "bench.seed", "--attendees", str(args.attendees), "--warm", "4",
                          "--talks", str(talks["cycles"]), "--reception-minutes", str(talks["reception_minutes"]),
                          "--out", str(tokens_file)], f"seed {args.attendees} registrations", 900)
        seeded = json.loads(tokens_file.read_text())
        self.talk_id, self.tokens, self.warm_tokens = seeded["talk_id"], seeded["tokens"], seeded["warm_tokens"]
        self.talk_ids = seeded["talk_ids"]
        self.staff_session = seeded["staff_session"]
        ports = self.pick_ports(4)
        env = self.env()
        try:
            for w in range(args.clients):
                worker = WorkerProc(w, self.tmp / f"client-{w}.log")
                self.workers.append(worker)
                await worker.start(env)
            self.results["renkei"] = await self.run_app("renkei", "server.asgi:application", ports[:2], args.duration)
            if not args.no_bare and not args.soak:
                duration = args.bare_duration if args.bare_duration is not None else args.duration
                self.results["bare"] = await self.run_app("bare", "bench.bare_app:app", ports[2:], duration)
                if args.join_rounds > 1:
                    await self.join_rounds(ports, args.join_rounds - 1)
        except BaseException:  # failed or interrupted: no polite goodbyes
            for worker in self.workers:
                worker.stop()
            raise
        finally:
            for worker in self.workers:  # inside the loop, so their pipes close cleanly
                await worker.finish()

    def machine(self) -> dict[str, Any]:
        mem = 0
        speed = speed_probe_ms()
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    mem = int(line.split()[1]) * 1024
        return {
            "date": datetime.now().astimezone().isoformat(timespec="seconds"),
            "nproc": len(os.sched_getaffinity(0)),
            "memory_gib": round(mem / 2**30, 1),
            "uname": subprocess.run(["uname", "-a"], capture_output=True, text=True, check=False).stdout.strip()
                     or " ".join(platform.uname()),
            "python": platform.python_version(),
            "speed_probe_ms": speed,
            "command": " ".join(["scripts/bench", *sys.argv[1:]]),
        }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="scripts/bench", description="Renkei lecture-room benchmark (see bench/lecture.py).")
    p.add_argument("-n", "--attendees", type=int, default=None, help="simulated attendees (default 2000; smoke 50)")
    p.add_argument("--duration", type=float, default=None, help="seconds of steady chat (default 60; smoke 4)")
    p.add_argument("--rate", type=float, default=5.0, help="steady chat messages per second, whole room (default 5)")
    p.add_argument("--burst", type=int, default=None, help="messages in the burst (default 50; smoke 10)")
    p.add_argument("--burst-window", type=float, default=1.0, help="seconds the burst is spread over (default 1)")
    p.add_argument("--saturate", type=float, default=None, help="seconds of saturation, 0 to skip (default 15; smoke 2)")
    p.add_argument("--window", default=None,
                   help="saturation: messages in flight per client process, a comma list tried in turn "
                        "until deliveries/s stop growing by 10%% (default 16,64,256; smoke 8)")
    p.add_argument("--clients", type=int, default=2, help="client worker processes (default 2)")
    p.add_argument("--join-concurrency", type=int, default=32,
                   help="joins in progress at once, all clients together (default 32; see docs/performance.md)")
    p.add_argument("--arrival", type=float, default=0.0,
                   help="open-loop joins: the attendees arrive at random over this many seconds (a Poisson "
                        "process) instead of --join-concurrency at a time; reports join latency p50/p95/p99")
    p.add_argument("--reconnect", action="store_true", default=None,
                   help="(on in --smoke) after the burst: kill both servers, start them again, and measure how long until "
                        "every attendee is back and resumed, and whether any stored chat message was lost")
    p.add_argument("--backlog", type=int, default=4096,
                   help="each server's listen queue (default 4096, as scripts/web; Daphne's own default is 50)")
    p.add_argument("--reconnect-timeout", type=float, default=90.0,
                   help="seconds the attendees keep trying to come back (default 90)")
    p.add_argument("--seed", type=int, default=13, help="random seed of the arrival times (default 13)")
    p.add_argument("--drain", type=float, default=None, help="seconds to wait for stragglers after each phase (default 30)")
    p.add_argument("--no-bare", action="store_true", help="skip the bare-app comparison")
    p.add_argument("--join-rounds", type=int, default=1,
                   help="compare the joins this many times in all, Renkei and the bare app alternately on fresh "
                        "servers; the joins target takes the median ratio (default 1)")
    p.add_argument("--bare-duration", type=float, default=None, help="steady seconds for the bare app (default: --duration)")
    p.add_argument("--smoke", action="store_true", help="small and quick; asserts delivery, exits 1 on failure")
    p.add_argument("--check-targets", action="store_true", help="exit 1 when a target is missed")
    p.add_argument("--json", help="write all figures to this file")
    p.add_argument("--postgres", default=None,
                   help="PostgreSQL server URL (default: DATABASE_URL's server, else postgres://postgres@127.0.0.1:5432)")
    p.add_argument("--redis", default=None, help="Redis URL (default: REDIS_URL, else redis://127.0.0.1:6379/0)")
    p.add_argument("--db-conn-max-age", type=int, default=60,
                   help="DB_CONN_MAX_AGE for the servers when the pool is off (default 60)")
    p.add_argument("--db-pool-max-size", type=int, default=10,
                   help="DB_POOL_MAX_SIZE for the servers: connections pooled per process (default 10, the "
                        "production setting; 0 turns the pool off and DB_CONN_MAX_AGE applies)")
    p.add_argument("--keep-logs", action="store_true", help="keep the server and client logs")
    p.add_argument("--log-level", default="WARNING",
                   help="LOG_LEVEL of the Renkei servers (default WARNING: no access log lines; INFO as in production)")
    p.add_argument("--no-reception", action="store_true", help="skip the reception phase (the move and room chat)")
    p.add_argument("--soak", type=float, default=0.0, metavar="MINUTES",
                   help="instead of the timed phases: MINUTES of talks, each a lecture (chat, reactions, questions) "
                        "then a reception that closes; counts every message, samples server memory (bench/soak.py)")
    p.add_argument("--soak-chat", type=float, default=2.0, help="soak: lecture chat messages/s, whole room (default 2)")
    p.add_argument("--soak-reactions", type=float, default=5.0, help="soak: reactions/s, whole room (default 5)")
    p.add_argument("--soak-question-every", type=float, default=None,
                   help="soak: seconds between questions asked, whole room (default 20; smoke 3)")
    p.add_argument("--soak-upvotes", type=float, default=1.0, help="soak: question up-votes/s, whole room (default 1)")
    p.add_argument("--soak-tables", type=float, default=None,
                   help="soak: reception tables that say a message each second (default 20; smoke 3)")
    p.add_argument("--soak-cycle", type=float, default=5.0,
                   help="soak: minutes per talk, lecture and reception (default 5; a shorter soak is one talk)")
    p.add_argument("--soak-reception", type=int, default=2,
                   help="soak: whole minutes each reception stays open before its clock closes it (default 2)")
    p.add_argument("--soak-slice", type=float, default=None,
                   help="soak: seconds per counted slice of chat (default 60; smoke 5)")
    p.add_argument("--soak-sample", type=float, default=None,
                   help="soak: seconds between server memory samples (default 10; smoke 2)")
    p.add_argument("--chat-rooms", type=int, default=None, help="reception rooms that chat at once (default 200; smoke 5)")
    p.add_argument("--room-chat", type=float, default=None,
                   help="seconds the reception rooms chat, one message a second each (default 20; smoke 3)")
    args = p.parse_args(argv)
    smoke = args.smoke
    defaults = {"attendees": (2000, 50), "duration": (60.0, 4.0), "burst": (50, 10), "saturate": (15.0, 2.0),
                "window": ("16,64,256", "8"), "drain": (30.0, 15.0), "chat_rooms": (200, 5), "room_chat": (20.0, 3.0),
                "soak_question_every": (20.0, 3.0), "soak_tables": (20.0, 3.0), "soak_slice": (60.0, 5.0),
                "soak_sample": (10.0, 2.0)}
    for name, (full, small) in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, small if smoke else full)
    if args.reconnect is None:
        args.reconnect = smoke and not args.soak  # CI's smoke run checks that everyone comes back and nothing is lost
    args.windows = [int(w) for w in str(args.window).split(",") if w.strip()][:6]
    if not args.windows or min(args.windows) < 1:
        p.error("--window needs positive numbers")
    if args.postgres is None:
        url = os.environ.get("DATABASE_URL", "")
        args.postgres = url if url.startswith("postgres") else "postgres://postgres@127.0.0.1:5432"
    if args.redis is None:
        args.redis = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    if args.soak < 0 or (args.soak and (args.soak_reception < 1 or args.soak_cycle * 60 - args.soak_reception * 60 < 60)):
        p.error("--soak needs positive minutes, and each talk (--soak-cycle) a lecture of at least a minute "
                "besides its reception (--soak-reception, whole minutes)")
    if args.attendees < 2 or args.clients < 1 or args.rate <= 0 or args.burst < 1 or args.duration <= 0:
        p.error("need at least 2 attendees, 1 client, a positive rate, duration and burst")
    if args.join_rounds < 1 or (args.join_rounds > 1 and (args.no_bare or args.soak)):
        p.error("--join-rounds needs a positive count, the bare app and no --soak")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard if hard != resource.RLIM_INFINITY else 1 << 20, 1 << 20)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < args.attendees + 500:
        say(f"warning: the open-file limit ({want}) is low for {args.attendees} attendees")

    def on_term(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    bench = Bench(args)
    budget = 600 + 2 * (args.duration + len(args.windows) * (args.saturate + args.drain) + 3 * args.drain + 240) \
        + args.attendees * 0.1 + 2 * args.arrival + args.soak * 60 * 1.5
    code = 0
    try:
        asyncio.run(asyncio.wait_for(bench.main(), budget))
    except TimeoutError:
        say(f"benchmark stopped: it ran over its time budget of {budget:.0f} s")
        code = 2
    except BenchFailure as exc:
        say(f"benchmark failed: {exc}")
        code = 2
    except KeyboardInterrupt:
        say("benchmark interrupted")
        code = 130
    finally:
        for w in bench.workers:
            w.stop()
        bench.stop_servers(bench.servers)
        bench.drop_database()
        bench.delete_redis_keys()
    results = bench.results
    if "renkei" in results:
        results["machine"] = bench.machine()
        results["params"] = {k: v for k, v in vars(args).items() if k not in ("postgres", "redis")}
        rk, bare = results["renkei"].get("saturation"), results.get("bare", {}).get("saturation")
        if rk and bare and bare.get("deliveries_per_s"):
            results["ratio"] = rk["deliveries_per_s"] / bare["deliveries_per_s"]
        results["targets"] = verdicts(results, args) + soak.verdicts(results)
        say(report(results, args) + soak.report(results))
        problems = delivery_ok(results) + soak.problems(results)
        if problems:
            say("\ndelivery: FAILED\n  " + "\n  ".join(problems))
        else:
            say("\ndelivery: OK — every attendee joined and every message reached every attendee")
        if args.json:
            Path(args.json).write_text(json.dumps(strip_private(results), indent=2, ensure_ascii=False, default=str))
        if code == 0 and problems and args.smoke:
            code = 1
        if code == 0 and args.check_targets and not all(ok for _, ok, _ in results["targets"]):
            code = 1
    if code == 0 and not args.keep_logs:
        shutil.rmtree(bench.tmp, ignore_errors=True)
    elif bench.tmp.exists():
        say(f"logs kept in {bench.tmp}")
    return code


if __name__ == "__main__":
    sys.exit(main())
