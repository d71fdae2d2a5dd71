"""Over real Redis, two Daphne processes share a room: chat crosses between them, and a
physician who drops and comes back on the other process gets everything once, in order."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable

import pytest
import websockets
from django.conf import settings

from events.joinlinks import join_url
from regions.models import Prefecture
from rooms.models import Stage
from tests.conftest import delete_redis_keys
from tests.factories import make_event, make_talk, register
from tests.rooms.markers import chat, question, received_before, types
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


def frames_of(ws) -> Callable[[float], Awaitable[dict]]:
    """A ``recv(timeout)`` for received_before: the socket's frames one by one, batches unpacked."""
    buffer: list[dict] = []

    async def recv(timeout: float) -> dict:
        while not buffer:
            frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            buffer.extend(frame["messages"] if frame["type"] == "batch" else [frame])
        return buffer.pop(0)

    return recv


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



def test_the_reception_moves_attendees_on_both_processes_and_room_chat_crosses(postgres_url, redis_url):
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from events.sessions import SessionStore
    from rooms.models import Reception
    from tests.factories import make_staff

    event = make_event()
    talk = make_talk(event)
    Stage.objects.create(talk=talk, room_mode=Stage.RoomMode.REGION, state=Stage.State.LIVE)
    Reception.objects.create(talk=talk, room_size=3)
    iwate = Prefecture.objects.get(code="03")
    tokyo = Prefecture.objects.get(code="13")
    people = [register(event, full_name=f"岩手 {n}", prefecture=iwate) for n in range(3)]
    people += [register(event, full_name=f"東京 {n}", prefecture=tokyo) for n in range(3)]
    speaker = make_staff("spk", "speaker")
    talk.speakers.add(speaker)
    store = SessionStore()
    store[SESSION_KEY], store[BACKEND_SESSION_KEY] = str(speaker.pk), "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = speaker.get_session_auth_hash()
    store.create()
    prefix = f"renkei-test-{uuid.uuid4().hex[:8]}"
    env = {"DATABASE_URL": postgres_url, "REDIS_URL": redis_url, "CHANNEL_LAYER_PREFIX": prefix,
           "SECRET_KEY": settings.SECRET_KEY, "ALLOWED_HOSTS": "127.0.0.1", "DEBUG": "0", "DB_CONN_MAX_AGE": "0"}
    with daphne(env) as one, daphne(env) as two:
        # Alternate processes, so every table has people on both.
        bases = [one if n % 2 == 0 else two for n in range(len(people))]
        cookies = [session_cookie(base, "/" + join_url(p).split("/", 3)[3]) for base, p in zip(bases, people, strict=True)]

        async def scenario():
            def connect(base, cookie):
                ws_url = base.replace("http", "ws") + f"/ws/talks/{talk.pk}/"
                return websockets.connect(ws_url, origin=base, additional_headers={"Cookie": cookie})

            sockets = [await connect(base, cookie) for base, cookie in zip(bases, cookies, strict=True)]
            try:
                for ws in sockets:
                    await frames_until(ws, "hello")
                async with connect(two, f"sessionid={store.session_key}") as staff:
                    await frames_until(staff, "hello")
                    await staff.send(json.dumps({"type": "stage.end"}))
                    moved = [(await frames_until(ws, "room.moved"))[0] for ws in sockets]
                rooms = [m["room"]["id"] for m in moved]
                assert len(set(rooms[:3])) == 1 and len(set(rooms[3:])) == 1 and rooms[0] != rooms[3]
                await sockets[0].send(json.dumps({"type": "chat.send", "body": "一号機の岩手から"}))
                for ws in sockets[1:3]:  # the Iwate table, on both processes
                    assert (await frames_until(ws, "chat.message"))[0]["body"] == "一号機の岩手から"
                # The Tokyo table hears nothing of it: its own line (its table) and question (the talk),
                # sent after, come back with no chat before them.
                tokyo = sockets[3]
                await tokyo.send(json.dumps({"type": "chat.send", "body": "二号機の東京から"}))
                await tokyo.send(json.dumps({"type": "question.ask", "body": "東京からの質問です"}))
                earlier = await received_before(frames_of(tokyo), (chat("二号機の東京から"), question("東京からの質問です")))
                assert "chat.message" not in types(earlier)
            finally:
                for ws in sockets:
                    await ws.close()

        asyncio.run(scenario())
    delete_redis_keys(redis_url, prefix)


def test_question_and_reaction_limits_hold_across_two_server_processes(postgres_url, redis_url):
    """One physician, one tab on each process: the fourth question and the 21st reaction are refused
    wherever they are sent, with an error frame, and that socket keeps chatting."""
    talk = make_talk(make_event())
    Stage.objects.create(talk=talk, room_mode=Stage.RoomMode.SINGLE)
    iwate = register(talk.event, full_name="岩手 太郎", prefecture=Prefecture.objects.get(code="03"))
    prefix = f"renkei-test-{uuid.uuid4().hex[:8]}"
    env = dict(DATABASE_URL=postgres_url, REDIS_URL=redis_url, CHANNEL_LAYER_PREFIX=prefix,
               SECRET_KEY=settings.SECRET_KEY, ALLOWED_HOSTS="127.0.0.1", DEBUG="0", DB_CONN_MAX_AGE="0")
    with daphne(env) as one, daphne(env) as two:
        cookie = session_cookie(one, "/" + join_url(iwate).split("/", 3)[3])

        def connect(base):
            return websockets.connect(base.replace("http", "ws") + f"/ws/talks/{talk.pk}/", origin=base,
                                      additional_headers={"Cookie": cookie})

        async def scenario():
            async def settled(ws):  # a socket's frames are handled in order: this answer comes after them
                await ws.send(json.dumps({"type": "chat.history", "before": 1}))
                await frames_until(ws, "chat.history")

            async with connect(one) as a, connect(two) as b:
                await frames_until(a, "hello")
                await frames_until(b, "hello")
                for n in range(3):
                    await a.send(json.dumps({"type": "question.ask", "body": f"一号機の質問 {n}"}))
                    await frames_until(a, "question")
                await b.send(json.dumps({"type": "question.ask", "body": "二号機からの4つ目"}))
                error = (await frames_until(b, "error"))[0]
                assert (error["code"], error["received"]) == ("rate_limited", "question.ask")

                for _ in range(20):
                    await a.send(json.dumps({"type": "reaction.send", "emoji": "👏"}))
                await settled(a)
                await b.send(json.dumps({"type": "reaction.send", "emoji": "👏"}))
                error = (await frames_until(b, "error"))[0]
                assert (error["code"], error["received"]) == ("rate_limited", "reaction.send")

                await b.send(json.dumps({"type": "chat.send", "body": "二号機はまだ話せます"}))
                assert (await frames_until(a, "chat.message"))[0]["body"] == "二号機はまだ話せます"

        asyncio.run(scenario())
    # The counters were written under this test's own prefix, and only there.
    import redis

    assert redis.Redis.from_url(redis_url).keys(f"{prefix}:ratelimit:*")
    delete_redis_keys(redis_url, prefix)
