"""The Celery worker is killed (SIGKILL) in the middle of the timed reception opening: after a new
worker starts, the reception opens exactly once: every attendee seated once, one move each.

The kill point is made certain without a hook in the code: the test holds the reception's row lock
(the opening's ``SELECT … FOR UPDATE``), waits until PostgreSQL shows the worker's transaction waiting
for it, kills the worker there, and only then lets go. (The campaign send's kill test is
tests/campaigns/test_campaign_worker.py.)
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import uuid
from datetime import timedelta

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from regions.models import Prefecture
from rooms.models import Reception, Seat, Stage
from tests.conftest import delete_redis_keys
from tests.factories import make_event, make_talk, register
from tests.faults import Attendee
from tests.rooms.conftest import cookies_for
from tests.servers import ROOT, daphne, terminate
from tests.waiting import until, wait_until

pytestmark = pytest.mark.services

# Celery's INFO line when the task returns: how many receptions that run opened.
OPENED = re.compile(r"Task rooms\.tasks\.open_due_receptions\[[^\]]+\] succeeded in \S+: (\d+)")


class Worker:
    """A Celery worker process whose output is read as it comes (a test waits on a line, never sleeps)."""

    def __init__(self, env: dict[str, str], *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "server", "worker", "--pool=solo", "--without-gossip",
             "--without-mingle", "--without-heartbeat", "--loglevel=INFO", *extra],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self.reader.start()

    def text(self) -> str:
        return "".join(self.lines)

    def openings(self) -> list[int]:
        return [int(n) for n in OPENED.findall(self.text())]

    def stop(self) -> None:
        if self.proc.poll() is None:
            terminate(self.proc, timeout=20)
        self.reader.join(timeout=10)


def waiting_for_the_lock(dsn: str, table: str) -> bool:
    """True when another session's statement on ``table`` waits for a lock (the worker's opening, held by the test)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
            (f'%FROM "{table}"%FOR UPDATE%',),
        ).fetchone()
    return bool(row and row[0])


def test_a_worker_killed_inside_the_timed_opening_leaves_the_reception_to_open_exactly_once(postgres_url,
                                                                                               redis_url, tmp_path):
    from rooms.tasks import open_due_receptions
    from server.celery import app

    event = make_event()
    # The talk ended a minute ago and nobody ended it: the timed task is what opens its reception.
    talk = make_talk(event, starts_in=timedelta(minutes=-61), minutes=60)
    Stage.objects.create(talk=talk, room_mode=Stage.RoomMode.SINGLE, state=Stage.State.LIVE)
    Reception.objects.create(talk=talk, room_size=3)
    iwate = Prefecture.objects.get(code="03")
    people = [register(event, full_name=f"岩手 {n}", prefecture=iwate) for n in range(5)]
    cookies = [cookies_for(p) for p in people]
    prefix = f"renkei-test-{uuid.uuid4().hex[:8]}"
    celery_prefix = os.environ.get("CELERY_KEY_PREFIX", "")
    env = {**os.environ, "DATABASE_URL": postgres_url, "REDIS_URL": redis_url, "CHANNEL_LAYER_PREFIX": prefix,
           "SECRET_KEY": settings.SECRET_KEY, "ALLOWED_HOSTS": "127.0.0.1", "DEBUG": "0", "DB_CONN_MAX_AGE": "0"}
    lock = psycopg.connect(postgres_url)  # the test's own session, holding the reception's row
    first = second = None
    with daphne(env, log=tmp_path / "daphne.log") as base:
        async def scenario() -> list[Attendee]:
            nonlocal first, second
            tabs = [Attendee(base, talk.pk, cookie) for cookie in cookies]
            for tab in tabs:
                tab.start()
            try:
                await until(lambda: all(tab.hellos for tab in tabs), "every attendee to be in the lecture room")
                await asyncio.to_thread(
                    lock.execute, f'SELECT 1 FROM "{Reception._meta.db_table}" WHERE talk_id = %s FOR UPDATE',
                    (talk.pk,))
                app.conf.task_always_eager = False
                open_due_receptions.delay()  # as beat queues it at the end time
                first = Worker(env)
                await until(lambda: waiting_for_the_lock(postgres_url, Reception._meta.db_table),
                            "the worker's opening to wait inside its transaction", detail=first.text)
                os.kill(first.proc.pid, signal.SIGKILL)
                await asyncio.to_thread(first.proc.wait, 10)
                await asyncio.to_thread(lock.rollback)
                assert not await asyncio.to_thread(seated, talk.pk), "the killed opening left seats behind"
                assert all(not tab.of_type("room.moved") for tab in tabs)

                # A new worker, with beat inside it queueing the opening every second, as the beat process would.
                second = Worker({**env, "BEAT_INTERVAL_SECONDS": "1"}, "-B", "-s", str(tmp_path / "beat-schedule"))
                await until(lambda: all(tab.of_type("room.moved") for tab in tabs), "every attendee to be moved",
                            timeout=60, detail=second.text)
                # Later runs find it open and do nothing: wait for two of them, then count.
                await until(lambda: len(second.openings()) >= 3, "two more runs of the opening after it opened",
                            detail=second.text)
                assert sorted(second.openings())[-1] == 1 and sum(second.openings()) == 1
                return tabs
            finally:
                app.conf.task_always_eager = True
                for tab in tabs:
                    await tab.stop()

        try:
            tabs = asyncio.run(scenario())
        finally:
            lock.close()
            for worker in (first, second):
                if worker is not None:
                    worker.stop()
            delete_redis_keys(redis_url, prefix)
            delete_redis_keys(redis_url, celery_prefix)
    # Exactly once: one seat per attendee, one move each (to that seat), and one opening recorded.
    seats = dict(Seat.objects.filter(room__talk=talk).values_list("registration_id", "room_id"))
    assert sorted(seats) == sorted(p.pk for p in people)
    assert Seat.objects.filter(room__talk=talk).count() == len(people)
    for person, tab in zip(people, tabs, strict=True):
        moves = tab.of_type("room.moved")
        assert len(moves) == 1 and moves[0]["room"]["id"] == seats[person.pk]
    assert Reception.objects.get(pk=talk.pk).opened_at is not None


def seated(talk_id: int) -> bool:
    try:
        return Seat.objects.filter(room__talk_id=talk_id).exists()
    finally:
        connection.close()
