"""PostgreSQL refuses connections for 10 s during a talk: a chat line sent meanwhile is answered with a
clear error frame on a socket that stays open, nothing is half-written, and the same socket chats
again once the database is back, without anyone restarting anything."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import translation

from regions.models import Prefecture
from rooms.lecture.models import ChatMessage, LectureRoom
from rooms.models import Stage
from rooms.realtime.protocol import ERRORS
from tests.conftest import delete_redis_keys
from tests.factories import make_event, make_talk, register
from tests.faults import Attendee, PostgresProxy
from tests.rooms.conftest import cookies_for
from tests.servers import daphne
from tests.waiting import until

pytestmark = pytest.mark.services

OUTAGE = 10.0  # seconds the database refuses connections


def server_log(log: Path) -> str:
    return log.read_text(errors="replace")[-6000:]


@pytest.mark.parametrize("pool", ["4", "0"], ids=["pooled", "unpooled"])
def test_while_the_database_refuses_connections_chat_answers_an_error_and_resumes_by_itself(postgres_url, redis_url,
                                                                                          tmp_path, pool):
    talk = make_talk(make_event())
    Stage.objects.create(talk=talk, room_mode=Stage.RoomMode.SINGLE, state=Stage.State.LIVE)
    iwate = Prefecture.objects.get(code="03")
    people = [register(talk.event, full_name=f"岩手 {n}", prefecture=iwate) for n in range(2)]
    cookies = [cookies_for(p) for p in people]
    db = connection.settings_dict
    prefix = f"renkei-test-{uuid.uuid4().hex[:8]}"
    log = tmp_path / "daphne.log"
    with PostgresProxy(db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432)) as proxy:
        env = {"DATABASE_URL": f"postgres://{db['USER']}@127.0.0.1:{proxy.port}/{db['NAME']}",
               "REDIS_URL": redis_url, "CHANNEL_LAYER_PREFIX": prefix, "CELERY_KEY_PREFIX": prefix + ":",
               "SECRET_KEY": settings.SECRET_KEY, "ALLOWED_HOSTS": "127.0.0.1", "DEBUG": "0",
               "DB_POOL_MAX_SIZE": pool, "DB_POOL_TIMEOUT": "3", "DB_CONN_MAX_AGE": "60", "LOG_FORMAT": "text"}
        with daphne(env, log=log) as base:

            async def scenario() -> None:
                speaker, listener = tabs = [Attendee(base, talk.pk, cookie) for cookie in cookies]
                for tab in tabs:
                    tab.start()
                try:
                    await until(lambda: all(tab.hellos for tab in tabs), "both tabs to be greeted",
                                detail=lambda: f"{[t.closes for t in tabs]}\n" + server_log(log))
                    await speaker.send({"type": "chat.send", "body": "障害の前"})
                    await until(lambda: all("障害の前" in tab.shown.values() for tab in tabs), "the first line")

                    proxy.refuse()
                    down = time.monotonic()
                    await speaker.send({"type": "chat.send", "body": "障害の最中", "client_id": "during"})
                    error = await until(lambda: next(iter(speaker.of_type("error")), None),
                                        "an error frame for the line sent while the database is away",
                                        timeout=OUTAGE, detail=lambda: server_log(log))
                    assert time.monotonic() - down < OUTAGE, "the error came only after the database was back"
                    assert error["code"] == "unavailable" and error["received"] == "chat.send"
                    # A sentence in the physician's language (they registered in Japanese), not a code.
                    with translation.override("ja"):
                        assert error["message"] == str(ERRORS["unavailable"]) != "unavailable"
                    await asyncio.sleep(max(0.0, OUTAGE - (time.monotonic() - down)))  # the rest of the outage
                    assert speaker.open and speaker.closes == [] and listener.closes == [], "a socket was dropped"

                    proxy.accept()
                    # The same socket, never reconnected: the line goes through as soon as the database answers.
                    await speaker.send({"type": "chat.send", "body": "復旧後"})
                    await until(lambda: all("復旧後" in tab.shown.values() for tab in tabs),
                                "a line sent after the outage to reach both tabs", timeout=15,
                                detail=lambda: f"{speaker.frames[-5:]}\n" + server_log(log))
                    assert speaker.hellos == listener.hellos == 1 and speaker.closes == listener.closes == []
                finally:
                    for tab in tabs:
                        await tab.stop()

            asyncio.run(scenario())
    delete_redis_keys(redis_url, prefix)
    # Nothing half-written: the refused line is nowhere, and the room's counter matches its messages.
    lines = list(ChatMessage.objects.filter(room__talk=talk).order_by("seq").values_list("seq", "body"))
    assert lines == [(1, "障害の前"), (2, "復旧後")]
    assert LectureRoom.objects.get(talk=talk).last_seq == 2
