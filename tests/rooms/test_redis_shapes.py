"""Two server processes share a talk through the channel layer's other Redis shapes (README, "Redis:
sharding and Sentinel"): several Redis servers, each talk on the one its name hashes to, and a
master found through Redis Sentinel."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable

import pytest
import redis
import websockets
from channels_redis.utils import _consistent_hash
from django.conf import settings

from rooms.models import Stage
from rooms.realtime.groups import talk_group
from tests.conftest import delete_redis_keys
from tests.factories import make_event, make_talk, register
from tests.redis_server import redis_server, sentinel
from tests.rooms.conftest import cookies_for
from tests.rooms.test_two_processes import frames_until
from tests.servers import daphne

pytestmark = [pytest.mark.services, pytest.mark.e2e]


def env_for(postgres_url: str, prefix: str, **redis: str) -> dict[str, str]:
    return {"DATABASE_URL": postgres_url, "CHANNEL_LAYER_PREFIX": prefix, "SECRET_KEY": settings.SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1", "DEBUG": "0", "DB_CONN_MAX_AGE": "0", **redis}


def chat_crosses(env: dict[str, str], talk_id: int, keys: list[str], watch: Callable[[], None]) -> None:
    """One physician on each process: each one's line reaches the other. ``watch`` is called while both
    processes are still subscribed to the talk."""
    with daphne(env) as one, daphne(env) as two:
        async def scenario():
            def connect(base, key):
                return websockets.connect(base.replace("http", "ws") + f"/ws/talks/{talk_id}/", origin=base,
                                          additional_headers={"Cookie": key})

            async with connect(one, keys[0]) as a, connect(two, keys[1]) as b:
                await frames_until(a, "hello")
                await frames_until(b, "hello")
                await a.send(json.dumps({"type": "chat.send", "body": "一号機から"}))
                assert (await frames_until(b, "chat.message"))[0]["body"] == "一号機から"
                await b.send(json.dumps({"type": "chat.send", "body": "二号機から"}))
                bodies = [m["body"] for m in await frames_until(a, "chat.message", count=2)]
                assert bodies == ["一号機から", "二号機から"]
                await asyncio.to_thread(watch)

        asyncio.run(scenario())


def subscribed(url: str, prefix: str) -> set[str]:
    client = redis.Redis.from_url(url)
    try:
        return {name.decode() for name in client.pubsub_channels(f"{prefix}*")}
    finally:
        client.close()


def test_a_talk_is_carried_by_the_redis_its_name_hashes_to_when_redis_url_names_several(
        postgres_url, redis_url, tmp_path):
    prefix = f"renkei-test-{uuid.uuid4().hex[:8]}"
    event = make_event()
    # A talk whose group lands on the second Redis (the test's own), as channels_redis hashes it.
    talk = make_talk(event)
    while _consistent_hash(f"{prefix}__group__{talk_group(talk.pk)}", 2) != 1:
        talk = make_talk(event)
    Stage.objects.create(talk=talk, room_mode=Stage.RoomMode.SINGLE)
    keys = [cookies_for(register(event)) for _ in range(2)]
    with redis_server(tmp_path / "shard") as (own_url, _port):
        env = env_for(postgres_url, prefix, REDIS_URL=f"{redis_url},{own_url}")
        seen: dict[str, set[str]] = {}

        def watch_subscriptions():
            seen["shared"], seen["own"] = subscribed(redis_url, prefix), subscribed(own_url, prefix)

        chat_crosses(env, talk.pk, keys, watch_subscriptions)
        group = f"{prefix}__group__{talk_group(talk.pk)}"
        assert group in seen["own"] and group not in seen["shared"], seen
    delete_redis_keys(redis_url, prefix)


def test_two_processes_share_a_talk_through_a_master_found_by_redis_sentinel(postgres_url, redis_url, tmp_path):
    prefix = f"renkei-test-{uuid.uuid4().hex[:8]}"
    event = make_event()
    talk = make_talk(event)
    Stage.objects.create(talk=talk, room_mode=Stage.RoomMode.SINGLE)
    keys = [cookies_for(register(event)) for _ in range(2)]
    with redis_server(tmp_path / "master") as (master_url, master_port), \
            sentinel(tmp_path / "sentinel", master_port, "renkei-test") as sentinel_port:
        # REDIS_URL stays the suite's Redis (Celery, rate limits); the channel layer asks the sentinel.
        env = env_for(postgres_url, prefix, REDIS_URL=redis_url, REDIS_SENTINELS=f"127.0.0.1:{sentinel_port}",
                      REDIS_SENTINEL_MASTER="renkei-test")
        seen: dict[str, set[str]] = {}
        chat_crosses(env, talk.pk, keys, lambda: seen.update(master=subscribed(master_url, prefix),
                                                                      shared=subscribed(redis_url, prefix)))
        group = f"{prefix}__group__{talk_group(talk.pk)}"
        assert group in seen["master"] and not seen["shared"], seen
    delete_redis_keys(redis_url, prefix)
