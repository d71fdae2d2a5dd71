"""Redis dies during a talk and comes back: the two server processes recover by themselves, the
attendees' tabs reconnect and resume, nothing stored is lost, and chat flows again within 10 s."""

from __future__ import annotations

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection

from regions.models import Prefecture
from rooms.lecture.models import ChatMessage
from rooms.models import Stage
from rooms.realtime.protocol import RECONNECT
from tests.faults import Attendee
from tests.redis_server import RedisServer
from tests.factories import make_event, make_talk, register
from tests.rooms.conftest import cookies_for
from tests.servers import daphne
from tests.waiting import until

pytestmark = pytest.mark.services

RECOVERY = 10.0  # seconds from Redis answering again to chat flowing between the processes


def stored_lines(talk_id: int) -> dict[int, str]:
    """Called on a thread of its own: its connection is closed, or it would keep the test database from being dropped."""
    try:
        return dict(ChatMessage.objects.filter(room__talk_id=talk_id).order_by("seq").values_list("seq", "body"))
    finally:
        connection.close()


def stored_lines_now(talk_id: int) -> set[str]:
    """From the event loop: the test's own thread reads the database, as Django requires of sync code."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return set(pool.submit(stored_lines, talk_id).result().values())


def server_logs(logs: list[Path]) -> str:
    return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-6000:]}" for log in logs)


def test_after_redis_restarts_mid_talk_chat_flows_again_within_ten_seconds_and_nothing_is_lost(postgres_url,
                                                                                             tmp_path):
    talk = make_talk(make_event())
    Stage.objects.create(talk=talk, room_mode=Stage.RoomMode.SINGLE, state=Stage.State.LIVE)
    iwate = Prefecture.objects.get(code="03")
    people = [register(talk.event, full_name=f"岩手 {n}", prefecture=iwate) for n in range(4)]
    cookies = [cookies_for(p) for p in people]
    with RedisServer(tmp_path / "redis") as own_redis:
        prefix = f"renkei-test-{uuid.uuid4().hex[:8]}"
        env = {"DATABASE_URL": postgres_url, "REDIS_URL": own_redis.url, "CHANNEL_LAYER_PREFIX": prefix,
               "CELERY_KEY_PREFIX": prefix + ":", "SECRET_KEY": settings.SECRET_KEY, "ALLOWED_HOSTS": "127.0.0.1",
               "DEBUG": "0", "DB_CONN_MAX_AGE": "0", "LOG_FORMAT": "text"}
        logs = [tmp_path / "daphne-1.log", tmp_path / "daphne-2.log"]
        with daphne(env, log=logs[0]) as one, daphne(env, log=logs[1]) as two:
            bases = [one, two, one, two]

            async def scenario() -> None:
                tabs = [Attendee(base, talk.pk, cookie) for base, cookie in zip(bases, cookies, strict=True)]
                for tab in tabs:
                    tab.start()
                try:
                    await until(lambda: all(tab.hellos for tab in tabs), "every tab to be greeted")
                    await tabs[0].send({"type": "chat.send", "body": "停止前"})
                    await until(lambda: all(1 in tab.shown for tab in tabs), "the first line on both processes")

                    own_redis.kill()
                    # Redis is away, the database is not: a line sent now is stored (and reaches everyone later).
                    await tabs[1].send({"type": "chat.send", "body": "停止中"})
                    await until(lambda: "停止中" in stored_lines_now(talk.pk), "the line sent without Redis to be stored")

                    own_redis.start()
                    back = time.monotonic()
                    # Each process notices what it missed and has its tabs reconnect (RECONNECT); then a line
                    # crosses between the processes: all within RECOVERY of Redis answering.
                    await until(lambda: all(tab.hellos >= 2 and tab.open for tab in tabs),
                                "every tab to be told to reconnect, and to be connected again", timeout=RECOVERY,
                                detail=lambda: f"closes: {[t.closes for t in tabs]}\n" + server_logs(logs))
                    sender, receiver = tabs[2], tabs[3]  # one on each process
                    sent = len(sender.frames)

                    def crossed() -> bool:
                        return "再開後" in receiver.shown.values() and "再開後" in sender.shown.values()

                    await sender.send({"type": "chat.send", "body": "再開後"})
                    await until(crossed, "a line sent after the restart to reach both processes",
                                timeout=max(0.1, RECOVERY - (time.monotonic() - back)),
                                detail=lambda: f"sender's frames since: {sender.frames[sent:]}\n" + server_logs(logs))
                    await sender.send({"type": "chat.send", "body": "さらに一言"})
                    await until(lambda: all("さらに一言" in tab.shown.values() for tab in tabs),
                                "a second line to reach every tab")

                    # Questions are counted against their rate limit in Redis: that client came back too.
                    await sender.send({"type": "question.ask", "body": "再起動後の質問です"})
                    await until(lambda: any(q.get("body") == "再起動後の質問です" for q in receiver.of_type("question")),
                                "a question asked after the restart to reach the other process",
                                detail=lambda: f"{sender.of_type('error')}\n" + server_logs(logs))

                    stored = await sync_to_async(stored_lines)(talk.pk)
                    for tab in tabs:
                        # Nothing stored is lost and nothing shows twice: each tab shows exactly what was stored.
                        await until(lambda tab=tab: tab.shown == stored, "every stored line on every tab",
                                    detail=lambda tab=tab: f"shown {tab.shown}, stored {stored}")
                    assert list(stored) == list(range(1, len(stored) + 1)), "ids have a gap"
                    assert set(stored.values()) == {"停止前", "停止中", "再開後", "さらに一言"}
                    # Told to reconnect, not turned away: each tab's socket closed with RECONNECT, none for good.
                    assert all(RECONNECT in tab.closes and not tab.closed_for_good for tab in tabs), \
                        [t.closes for t in tabs]
                    # And each came back in one round trip: its hello took up where its chat stopped.
                    assert all(tab.resumed_hellos for tab in tabs), [t.resumed_hellos for t in tabs]
                finally:
                    for tab in tabs:
                        await tab.stop()

            asyncio.run(scenario())
