"""Whatever a client sends, the lecture-room socket answers with one ``error`` frame and stays open.

A physician's socket must survive a broken or malicious client: unreadable
frames get ``bad_json`` / ``bad_frame``, wrong fields ``bad_field`` (or ``empty``
/ ``too_long``), and afterwards the same socket still chats.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regions.models import Prefecture
from rooms.models import Stage
from rooms.realtime.protocol import ACTIONS, ERRORS
from tests.factories import make_event, make_staff, make_talk, register
from tests.rooms.frame_fuzz import (BASE, FIELDS, NOT_AN_ID, UNREADABLE, WRONG, WRONG_ANYWHERE, frames_of,
                                    untyped_frames)

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def setup_talk():
    event = make_event()
    talk = make_talk(event)
    Stage.objects.create(talk=talk)
    iwate = register(event, full_name="岩手 太郎", prefecture=Prefecture.objects.get(code="03"))
    organizer = make_staff("org", "organizer")
    event.organizers.add(organizer)
    return talk, iwate, organizer


async def answers(client: Any, deadline: float = 10) -> list[dict[str, Any]]:
    """Every frame up to the answer of a ``resume`` probe: what the socket said to what came before it.

    Each frame must be valid UTF-8 text (what a browser can receive); a closed
    socket or an exception in the consumer fails here.
    """
    await client.ws.send_to(text_data=json.dumps({"type": "resume", "after": NOT_AN_ID}))
    got: list[dict[str, Any]] = []
    stop = time.monotonic() + deadline
    while True:
        output = await client.ws.receive_output(timeout=max(0.1, stop - time.monotonic()))
        assert output["type"] == "websocket.send", f"the socket closed: {output}"
        text = output["text"]
        text.encode("utf-8")  # a lone surrogate here would kill the real connection
        frame = json.loads(text)
        for inner in frame["messages"] if frame["type"] == "batch" else [frame]:
            if inner["type"] == "resume" and inner["after"] == NOT_AN_ID:
                return got
            if inner["type"] not in ("presence", "reactions"):
                got.append(inner)


def error_code(replies: list[dict[str, Any]]) -> str:
    assert len(replies) == 1 and replies[0]["type"] == "error", replies
    assert replies[0]["code"] in ERRORS
    assert replies[0]["message"]
    return replies[0]["code"]


async def still_chats(client: Any, body: str) -> None:
    """The socket sends a chat message and gets it back (after the room's earlier ones)."""
    await client.send({"type": "chat.send", "body": body})
    while (await client.recv_until("chat.message"))["body"] != body:
        pass


async def test_unreadable_and_hostile_frames_each_get_one_error_and_the_socket_still_chats(connect):
    talk, iwate, _ = await setup_talk()
    a = await connect(talk, iwate)
    for frame, code in UNREADABLE:
        # As the server receives it (the communicator's send_to refuses empty frames).
        await a.ws.send_input({"type": "websocket.receive", "bytes" if isinstance(frame, bytes) else "text": frame})
        assert error_code(await answers(a)) == code, frame[:80]
    await still_chats(a, "まだ話せます")


async def test_a_database_error_while_handling_a_frame_is_one_error_and_the_socket_still_chats(connect, monkeypatch):
    # Found by tests/rooms/test_hostile_crowd.py: on SQLite, concurrent chat writers lock each
    # other out, and the OperationalError closed the socket of the physician whose write lost.
    from django.db import OperationalError

    from rooms.lecture import chat_handlers

    talk, iwate, _ = await setup_talk()
    a = await connect(talk, iwate)

    def locked(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(chat_handlers, "send_chat", locked)
    await a.send({"type": "chat.send", "body": "届きますか"})
    replies = await answers(a)
    assert error_code(replies) == "unavailable" and replies[0]["received"] == "chat.send"
    monkeypatch.undo()
    await still_chats(a, "また話せます")


def test_the_table_of_fields_covers_every_accepted_message_type():
    assert set(FIELDS) == set(ACTIONS)


async def test_a_wrong_value_in_any_field_of_any_message_type_is_refused_naming_the_field(connect):
    talk, iwate, organizer = await setup_talk()
    attendee = await connect(talk, iwate)
    staff = await connect(talk, user=organizer)
    tried = 0
    for message_type, fields in FIELDS.items():
        client = staff if "organizer" in ACTIONS[message_type].roles else attendee
        base = {"type": message_type, **{name: BASE[kind] for name, kind in fields.items()}}
        for name, kind in fields.items():
            for value in WRONG_ANYWHERE + WRONG[kind]:
                await client.ws.send_to(text_data=json.dumps({**base, name: value}))
                replies = await answers(client)
                assert error_code(replies) in ("bad_field", "empty", "too_long"), (message_type, name, value)
                assert replies[0]["field"] == name
                assert replies[0]["received"] == message_type
                tried += 1
    assert tried > 300
    await still_chats(attendee, "まだ話せます")
    await still_chats(staff, "スタッフも話せます")


# Types that change the whole talk with no field to check are left out: the fuzz is about the fields.
# person.remove is left out too: a random id may hit the fuzzed physician, whose removal
# rightly ends their socket (its field is checked by the wrong-value test above).
FUZZED_TYPES = sorted(t for t, fields in FIELDS.items() if fields and t != "person.remove")
typed_frames = st.sampled_from(FUZZED_TYPES).flatmap(frames_of)
# Mostly frames of the accepted types, so most reach a handler; each with who sends it.
fuzzed_frames = st.tuples(st.one_of(typed_frames, typed_frames, typed_frames, untyped_frames), st.booleans())


async def test_random_frames_of_every_type_never_break_the_socket(connect):
    talk, iwate, organizer = await setup_talk()
    attendee = await connect(talk, iwate)
    staff = await connect(talk, user=organizer)
    loop = asyncio.get_running_loop()

    def sender(frame: dict[str, Any], coin: bool) -> Any:
        """Someone who may send the frame's type, so that it reaches its handler."""
        roles = ACTIONS[frame["type"]].roles if frame["type"] in ACTIONS else frozenset()
        if "attendee" in roles and "organizer" not in roles:
            return attendee
        if "organizer" in roles and "attendee" not in roles:
            return staff
        return staff if coin else attendee

    async def exchange(frames: list[tuple[dict[str, Any], bool]]) -> None:
        for frame, coin in frames:
            await sender(frame, coin).ws.send_to(text_data=json.dumps(frame))
        for client in (attendee, staff):
            for reply in await answers(client):
                if reply["type"] == "error":
                    assert reply["code"] in ERRORS, reply

    # Hypothesis drives the sockets from a thread of its own (it runs, and shrinks, synchronously).
    @settings(max_examples=150, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(fuzzed_frames, min_size=1, max_size=8))
    def throw(frames: list[tuple[dict[str, Any], bool]]) -> None:
        asyncio.run_coroutine_threadsafe(exchange(frames), loop).result(timeout=60)

    await asyncio.to_thread(throw)
    # The fuzzed physician's socket still carries the room's chat (from someone the fuzz cannot have muted).
    akita = await database_sync_to_async(
        lambda: register(talk.event, full_name="秋田 花子", prefecture=Prefecture.objects.get(code="05")))()
    other = await connect(talk, akita)
    await still_chats(other, "聞こえますか")
    assert (await attendee.recv_until("chat.message"))["body"] == "聞こえますか"
