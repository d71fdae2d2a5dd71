"""The WebSocket admission alone, in one process: CPU and SQL statements per admission.

``python -m bench.admission [-n 300] [--history 50] [--questions 20]`` creates its own
PostgreSQL database (renkei_bench_admit_<pid>), migrates it, seeds one live talk
(bench.seed), opens every attendee's join link through ``server.asgi.application``
(not timed), then admits each attendee's lecture WebSocket through the same
application, one after the other, up to its ``hello``, and prints the process's CPU,
the admission thread's own CPU and the statements sent per admission
(docs/performance.md, "Issue 13"). The sockets stay open until the end, as in a mass
join. ``--compare-parts`` also times the attendee's four portable statements against
rooms.sql.lecture_admission, alternating, in one thread. Run it from a worktree of the code to
measure (``PYTHONPATH`` that worktree) to compare two versions on the same machine
minutes apart; the database and the Redis keys are removed afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def prepare(args: argparse.Namespace, name: str, tmp: Path) -> dict[str, Any]:
    import psycopg

    parts = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    os.environ.update({
        "DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}")),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
        "CHANNEL_LAYER_PREFIX": name, "CELERY_KEY_PREFIX": name + ":",
        "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1,localhost", "DEBUG": "0",
        "LOG_LEVEL": "WARNING", "DB_POOL_MAX_SIZE": "10", "RENKEI_DATA_DIR": str(tmp / "data"),
        "DJANGO_SETTINGS_MODULE": "server.settings",
    })
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput"], check=True, stdout=subprocess.DEVNULL)
    out = tmp / "tokens.json"
    subprocess.run([sys.executable, "-m", "bench.seed", "--attendees", str(args.n), "--warm", str(args.warm),
                    "--out", str(out)], check=True)
    return json.loads(out.read_text())


def drop(name: str) -> None:
    import psycopg

    parts = urlsplit(os.environ["DATABASE_URL"])
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Statements:
    """Counts every statement sent on any connection (each thread has its own)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


async def join_cookie(application: Any, token: str) -> str:
    from channels.testing import HttpCommunicator

    http = HttpCommunicator(application, "GET", f"/join/{token}/", headers=[(b"host", b"localhost")])
    response = await http.get_response(timeout=30)
    cookies = [value.decode().split(";")[0] for key, value in response["headers"] if key.lower() == b"set-cookie"]
    assert response["status"] in (200, 302), response["status"]
    assert cookies, f"the join link set no cookie (status {response['status']})"
    return "; ".join(cookies)


async def admit(application: Any, talk_id: int, cookie: str) -> Any:
    from channels.testing import WebsocketCommunicator

    ws = WebsocketCommunicator(application, f"/ws/talks/{talk_id}/",
                               headers=[(b"origin", b"http://localhost"), (b"host", b"localhost"),
                                        (b"cookie", cookie.encode())])
    connected, _ = await ws.connect(timeout=30)
    assert connected
    frame = json.loads(await ws.receive_from(timeout=30))
    assert frame["type"] == "hello", frame["type"]
    return ws


async def run(args: argparse.Namespace, seeded: dict[str, Any]) -> dict[str, Any]:
    from asgiref.sync import sync_to_async
    from django.db.backends.signals import connection_created

    from server.asgi import application

    statements = Statements()

    def counted(sender: Any, connection: Any, **kwargs: Any) -> None:
        if statements not in connection.execute_wrappers:
            connection.execute_wrappers.append(statements)

    connection_created.connect(counted, weak=False)
    profiles = _profiled() if args.profile else None
    in_thread = _thread_cpu()
    talk_id = seeded["talk_id"]
    warm = [await join_cookie(application, t) for t in seeded["warm_tokens"]]
    cookies = [await join_cookie(application, t) for t in seeded["tokens"]]
    sockets = [await admit(application, talk_id, c) for c in warm[:1]]  # creates the room
    if args.history or args.questions:
        await sync_to_async(history, thread_sensitive=True)(talk_id, args.history, args.questions)
    sockets += [await admit(application, talk_id, c) for c in warm[1:]]
    await asyncio.sleep(0.5)  # let the pool fill and the relay settle before timing
    if profiles:
        profiles[0].enable()
    cpu, wall, counts = [], [], []
    in_thread.clear()
    for cookie in cookies:
        before_statements, started, started_wall = statements.count, time.process_time(), time.perf_counter()
        sockets.append(await admit(application, talk_id, cookie))
        cpu.append(time.process_time() - started)
        wall.append(time.perf_counter() - started_wall)
        counts.append(statements.count - before_statements)
    if profiles:
        profiles[0].disable()
        _print_profiles(profiles)
    for ws in sockets:
        await ws.disconnect()
    parts = (await sync_to_async(compare_parts, thread_sensitive=True)(talk_id)) if args.compare_parts else {}
    return {"n": len(cpu), "cpu_ms_mean": 1000 * statistics.fmean(cpu), "cpu_ms_median": 1000 * statistics.median(cpu),
            "wall_ms_median": 1000 * statistics.median(wall),
            "admit_thread_ms_mean": 1000 * statistics.fmean(in_thread[-len(cpu):]),
            "admit_thread_ms_median": 1000 * statistics.median(in_thread[-len(cpu):]), "statements_mean": statistics.fmean(counts),
            "statements_max": max(counts), "history": args.history, "questions": args.questions, **parts}


def _thread_cpu() -> list[float]:
    """The CPU time of each admission's own thread (LectureConsumer._admit_now: the statements, identify, the hello)."""
    from rooms.realtime.consumer import LectureConsumer

    spent: list[float] = []
    admit_now = LectureConsumer._admit_now

    def timed(self: Any, *a: Any, **kw: Any) -> Any:
        started = time.thread_time()
        try:
            return admit_now(self, *a, **kw)
        finally:
            spent.append(time.thread_time() - started)

    LectureConsumer._admit_now = timed  # type: ignore[method-assign]
    return spent


def _profiled() -> list[Any]:
    """cProfile of the event loop's thread, and of the admission's own thread (LectureConsumer._admit_now)."""
    import cProfile

    from rooms.realtime.consumer import LectureConsumer

    loop, admission = cProfile.Profile(), cProfile.Profile()
    admit_now = LectureConsumer._admit_now

    def profiled(self: Any, *a: Any, **kw: Any) -> Any:
        admission.enable()  # the admissions run one at a time: one profiler is enough
        try:
            return admit_now(self, *a, **kw)
        finally:
            admission.disable()

    LectureConsumer._admit_now = profiled  # type: ignore[method-assign]
    return [loop, admission]


def _print_profiles(profiles: list[Any]) -> None:
    import pstats

    for title, profile in zip(("event loop", "admission thread"), profiles, strict=True):
        print(f"--- {title}", file=sys.stderr)
        pstats.Stats(profile, stream=sys.stderr).sort_stats("cumulative").print_stats(45)
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(25)


def compare_parts(talk_id: int, rounds: int = 10, calls: int = 100) -> dict[str, float]:
    """The attendee's room, attendance, history and questions: four statements and model instances
    (room_by_key, insert_attendance, recent_messages, questions_for) against rooms.sql.lecture_admission,
    in alternating rounds in this thread; CPU ms per call, the median round of each."""
    from django.utils import timezone

    from events.models import Registration
    from rooms import frames, sql
    from rooms.lecture.chat import HISTORY
    from rooms.lecture.questions import QUESTIONS

    registration = Registration.objects.order_by("pk").first()
    assert registration is not None

    def four() -> None:
        room = sql.room_by_key(talk_id, "all")
        assert room is not None
        sql.insert_attendance(talk_id, registration.pk, room.pk, timezone.now())
        [frames.chat_message(m) for m in sql.recent_messages(room.pk, None, HISTORY)]
        [frames.question(q) for q in sql.questions_for(talk_id, QUESTIONS)]

    def one() -> None:
        found = sql.lecture_admission(talk_id, "all", registration.pk, timezone.now(), HISTORY, QUESTIONS)
        assert found is not None
        room, _, messages, asked, _ = found
        [frames.chat_message_of(room.pk, seq, body, author, sent_at, client_id)
         for seq, body, author, client_id, sent_at in messages]
        [frames.question_of(pk, body, author, votes, answered_at is not None, asked_at)
         for pk, body, author, votes, answered_at, asked_at in asked]

    spent: dict[str, list[float]] = {"four_statements_ms": [], "one_statement_ms": []}
    for _ in range(rounds):
        for label, part in (("four_statements_ms", four), ("one_statement_ms", one)):
            started = time.thread_time()
            for _ in range(calls):
                part()
            spent[label].append(1000 * (time.thread_time() - started) / calls)
    return {label: statistics.median(values) for label, values in spent.items()}


def history(talk_id: int, messages: int, questions: int) -> None:
    """Chat history and questions in the talk's room, written as the chat would have."""
    from django.db.models import F
    from django.utils import timezone

    from rooms.models import ChatMessage, LectureRoom, Question

    room = LectureRoom.objects.get(talk_id=talk_id, key="all")
    author = {"name": "ベンチ 医師", "facility_type": "clinic", "prefecture": "13", "prefecture_name": "東京都",
              "prefecture_name_en": "Tokyo", "region": "kanto", "role": "attendee"}
    for n in range(messages):
        LectureRoom.objects.filter(pk=room.pk).update(last_seq=F("last_seq") + 1)
        ChatMessage.objects.create(room=room, seq=n + 1, author=author, body=f"質問があります {n}",
                                   sent_at=timezone.now())
    for n in range(questions):
        Question.objects.create(talk_id=talk_id, room=room, author=author, body=f"ご講演について {n}", votes=n % 5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="admissions timed (default 300)")
    parser.add_argument("--warm", type=int, default=20, help="admissions before timing (default 20)")
    parser.add_argument("--history", type=int, default=0, help="chat messages in the room before timing")
    parser.add_argument("--questions", type=int, default=0, help="questions in the talk before timing")
    parser.add_argument("--compare-parts", action="store_true",
                        help="also time the attendee's four admission statements against the one (this branch only)")
    parser.add_argument("--profile", action="store_true", help="print cProfile tables (not for timing)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    name = f"renkei_bench_admit_{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        try:
            seeded = prepare(args, name, Path(tmp))
            import django

            django.setup()
            # channels.testing's HTTP client leaves Django's disconnect listeners pending: nothing to report.
            logging.getLogger("asyncio").setLevel(logging.CRITICAL)
            result = asyncio.run(run(args, seeded))
        finally:
            from django.db import connections

            connections.close_all()
            drop(name)
            _forget_redis(name)
    result["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
    print(json.dumps(result))
    if args.json:
        Path(args.json).write_text(json.dumps(result))


def _forget_redis(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)


if __name__ == "__main__":
    main()
