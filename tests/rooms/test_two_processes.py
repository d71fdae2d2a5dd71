"""Over real Redis, two Daphne processes share a room: chat crosses between them, and a
physician who drops and comes back on the other process gets everything once, in order."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
import websockets
from django.conf import settings

from events.joinlinks import join_url
from regions.models import Prefecture
from rooms.models import Stage
from tests.conftest import delete_redis_keys
from tests.factories import make_event, make_talk, register
from tests.servers import daphne, session_cookie

pytestmark = [pytest.mark.services, pytest.mark.e2e]


async def frames_until(ws, wanted, count=1, timeout=10):
    got = []
    async def read():
        while len(got) < count:
            frame = json.loads(await ws.recv())
            for f in frame["messages"] if frame["type"] == "batch" else [frame]:
                if f["type"] == wanted:
                    got.append(f)
    await asyncio.wait_for(read(), timeout)
    return got


def test_chat_crosses_between_two_server_processes_and_resume_fills_the_gap(postgres_url, redis_url):
    event = make_event()
    talk = make_talk(event)
    Stage.objects.create(talk=talk, room_mode=Stage.RoomMode.REGION)
    iwate = register(event, full_name="岩手 太郎", prefecture=Prefecture.objects.get(code="03"))
    akita = register(event, full_name="秋田 花子", prefecture=Prefecture.objects.get(code="05"))
    prefix = f"renkei-test-{uuid.uuid4().hex[:8]}"
    env = {"DATABASE_URL": postgres_url, "REDIS_URL": redis_url, "CHANNEL_LAYER_PREFIX": prefix,
           "SECRET_KEY": settings.SECRET_KEY, "ALLOWED_HOSTS": "127.0.0.1", "DEBUG": "0", "DB_CONN_MAX_AGE": "0"}
    with daphne(env) as one, daphne(env) as two:
        cookie_a = session_cookie(one, "/" + join_url(iwate).split("/", 3)[3])
        cookie_b = session_cookie(two, "/" + join_url(akita).split("/", 3)[3])

        async def scenario():
            def connect(base, cookie):
                ws_url = base.replace("http", "ws") + f"/ws/talks/{talk.pk}/"
                return websockets.connect(ws_url, origin=base, additional_headers={"Cookie": cookie})

            async with connect(one, cookie_a) as a, connect(two, cookie_b) as b:
                hello_a = (await frames_until(a, "hello"))[0]
                hello_b = (await frames_until(b, "hello"))[0]
                assert hello_a["room"]["key"] == hello_b["room"]["key"] == "tohoku"
                await a.send(json.dumps({"type": "chat.send", "body": "一号機から"}))
                got = (await frames_until(b, "chat.message"))[0]
                assert got["body"] == "一号機から" and got["author"]["name"] == "岩手 太郎"
                await b.send(json.dumps({"type": "chat.send", "body": "二号機から"}))
                bodies = [f["body"] for f in await frames_until(a, "chat.message", count=2)]
                assert bodies == ["一号機から", "二号機から"]
                last_seen = got["id"] + 1
            # Akita drops; Iwate keeps chatting; Akita returns on the *other* process.
            async with connect(one, cookie_a) as a:
                await frames_until(a, "hello")
                for n in range(3):
                    await a.send(json.dumps({"type": "chat.send", "body": f"留守中 {n}"}))
                await frames_until(a, "chat.message", count=3)
            async with connect(one, cookie_b) as b:
                hello = (await frames_until(b, "hello"))[0]
                await b.send(json.dumps({"type": "resume", "after": last_seen}))
                resumed = (await frames_until(b, "resume"))[0]
                ids = [m["id"] for m in resumed["messages"]]
                assert ids == [last_seen + 1, last_seen + 2, last_seen + 3]
                assert [m["body"] for m in resumed["messages"]] == ["留守中 0", "留守中 1", "留守中 2"]
                # Together with hello's history: every message once, in order.
                seen = sorted({m["id"] for m in hello["messages"]} | set(ids))
                assert seen == list(range(1, last_seen + 4))

        asyncio.run(scenario())
    delete_redis_keys(redis_url, prefix)

