"""Whatever a client sends, the lecture-room socket answers with one ``error`` frame and stays open.

A physician's socket must survive a broken or malicious client: unreadable
frames get ``bad_json`` / ``bad_frame``, wrong fields ``bad_field`` (or ``empty``
/ ``too_long``), and afterwards the same socket still chats.
"""

from __future__ import annotations

import asyncio
import json
import math
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

pytestmark = [pytest.mark.django_db(transaction=True)]

NOT_AN_ID = 999_999  # a well-formed id of nothing: the base frames are valid but change nothing


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


DEEP = "[" * 5000 + "]" * 5000

# (frame as sent, the code it must get)
UNREADABLE: list[tuple[str | bytes, str]] = [
    (DEEP, "bad_json"),
    ('{"a":' * 5000 + "1" + "}" * 5000, "bad_json"),
    ("[" * 60000, "bad_json"),
    ('{"type":"chat.send","body":' + "[" * 5000 + "]" * 5000 + "}", "bad_json"),
    ("[" * 70000, "too_large"),
    ("", "bad_json"),
    ("{", "bad_json"),
    ('{"type":"chat.send","body":"ok"', "bad_json"),
    ("\x00", "bad_json"),
    ("\ufeff{\"type\":\"chat.send\",\"body\":\"ok\"}", "bad_json"),
    ("9" * 5000, "bad_json"),  # more digits than Python turns into an int
    ('{"type":"resume","after":' + "9" * 5000 + "}", "bad_json"),
    # binary frames: invalid UTF-8, and the same bad cases as bytes
    (b"\xff\xfe\xfd", "bad_json"),
    (b'{"type":"chat.send","body":"\xc3\x28"}', "bad_json"),
    (b"", "bad_json"),
    (DEEP.encode(), "bad_json"),
    (b"\x00" * 70000, "too_large"),
    # readable, but not a frame
    ("1e400", "bad_frame"),
    ("NaN", "bad_frame"),
    ("-Infinity", "bad_frame"),
    ("null", "bad_frame"),
    ("true", "bad_frame"),
    ('"chat.send"', "bad_frame"),
    ("[]", "bad_frame"),
    ("{}", "bad_frame"),
    ('{"type":null}', "bad_frame"),
    ('{"type":1}', "bad_frame"),
    ('{"type":["chat.send"]}', "bad_frame"),
    ('{"type":{"type":"chat.send"}}', "bad_frame"),
    ('{"type":"chat.send","type":null}', "bad_frame"),  # duplicate keys: the last one counts
    # no such type
    ('{"type":"chat.send","type":"nope"}', "unknown_type"),
    ('{"type":"' + "x" * 60000 + '"}', "unknown_type"),
    ('{"type":"\\ud800"}', "unknown_type"),
    ('{"type":"\\u0000"}', "unknown_type"),
    ('{"type":""}', "unknown_type"),
    ('{"type":"__init__"}', "unknown_type"),
    ('{"type":"receive"}', "unknown_type"),
    ('{"type":"websocket.disconnect"}', "unknown_type"),
    ('{"type":"constructor"}', "unknown_type"),
    # readable frames of a known type with unusable values
    ('{"type":"chat.send","body":1e400}', "bad_field"),
    ('{"type":"chat.send","body":NaN}', "bad_field"),
    ('{"type":"chat.send","body":"\\u0000"}', "bad_field"),
    ('{"type":"chat.send","body":"a\\u0000b"}', "bad_field"),
    ('{"type":"chat.send","body":"\\ud800"}', "bad_field"),
    ('{"type":"chat.send","body":"ok","client_id":"\\udfff"}', "bad_field"),
    ('{"type":"chat.send","body":' + "[" * 300 + "]" * 300 + "}", "bad_field"),
    ('{"type":"chat.send","body":"' + "x" * 60000 + '"}', "too_long"),
    ('{"type":"chat.send","body":"ok","body":null}', "bad_field"),
    ('{"type":"resume","after":NaN}', "bad_field"),
    ('{"type":"resume","after":Infinity}', "bad_field"),
    ('{"type":"resume","after":1e400}', "bad_field"),
    ('{"type":"resume","after":' + "9" * 4000 + "}", "bad_field"),
    ('{"type":"resume","after":18446744073709551616}', "bad_field"),
    ('{"type":"chat.history","before":-1e400}', "bad_field"),
    ('{"type":"question.upvote","id":99999999999999999999}', "bad_field"),
    ('{"type":"reaction.send","emoji":["👏"]}', "bad_field"),
    ('{"type":"reaction.send","emoji":{"👏":1}}', "bad_field"),
]


async def test_unreadable_and_hostile_frames_each_get_one_error_and_the_socket_still_chats(connect):
    talk, iwate, _ = await setup_talk()
    a = await connect(talk, iwate)
    for frame, code in UNREADABLE:
        # As the server receives it (the communicator's send_to refuses empty frames).
        await a.ws.send_input({"type": "websocket.receive", "bytes" if isinstance(frame, bytes) else "text": frame})
        assert error_code(await answers(a)) == code, frame[:80]
    await still_chats(a, "まだ話せます")


# Every accepted message type with its fields, and a frame of it that is valid but changes nothing.
FIELDS: dict[str, dict[str, str]] = {
    "chat.send": {"body": "text", "client_id": "optional text"},
    "resume": {"after": "int"},
    "chat.history": {"before": "int"},
    "question.ask": {"body": "text"},
    "question.upvote": {"id": "int"},
    "reaction.send": {"emoji": "emoji"},
    "question.answer": {"id": "int", "answered": "optional bool"},
    "slide.set": {"slide": "int"},
    "stage.live": {},
    "stage.end": {},
    "room.view": {"room": "int"},
    "chat.delete": {"id": "int", "room": "optional int"},
    "chat.mute": {"registration": "int", "minutes": "int"},
    "person.remove": {"registration": "int"},
    "media.mute": {"room": "int", "registration": "int", "muted": "bool"},
    "chat.close": {},
    "chat.open": {},
    "announcement.pin": {"body": "optional text"},
    "reception.open": {},
    "reception.broadcast": {"body": "text"},
    "reception.rooms": {},
    "room.leave": {},
    "room.place": {},
    "room.join": {"room": "int"},
    "card.offer": {"to": "int"},
    "card.answer": {"id": "int", "accept": "bool"},
}
BASE = {"text": "x", "optional text": "x", "int": NOT_AN_ID, "optional int": NOT_AN_ID, "bool": True,
        "optional bool": True, "emoji": "👏"}
NESTED: Any = "x"
for _ in range(300):
    NESTED = [NESTED]
WRONG_ANYWHERE = [None, [], {}, ["x"], {"$gt": 0}, NESTED, math.nan, math.inf]
WRONG = {
    "int": [True, False, "1", "", 1.5, -1, 2**53, 2**64, 10**100, 10**3999, -math.inf],
    "bool": [1, 0, "true", "", 1.5],
    "text": [1, 0, True, 1.5, "x" * 1001, "\x00", "a\x00b", "\ud800", "\udc00x", "   "],
    "emoji": [1, True, "", "x", "👏👏", "\ud800", "\x00"],
}
WRONG["optional int"] = WRONG["int"]
WRONG["optional bool"] = WRONG["bool"]
WRONG["optional text"] = [v for v in WRONG["text"] if v != "   "]  # blank is a valid optional text


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


# Arbitrary JSON (surrogates, NUL, huge and non-finite numbers included), often one of the values known to hurt.
any_text = st.text(st.characters(exclude_categories=()))
NASTY = sorted({repr(v): v for kind in WRONG.values() for v in kind if v is not NESTED}.values(), key=repr)
json_values = st.sampled_from(NASTY + [0, 1, 2, NOT_AN_ID, "👏"]) | st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
# Types that change the whole talk with no field to check are left out: the fuzz is about the fields.
# person.remove is left out too: a random id may hit the fuzzed physician, whose removal
# rightly ends their socket (its field is checked by the wrong-value test above).
FUZZED_TYPES = sorted(t for t, fields in FIELDS.items() if fields and t != "person.remove")
extra_fields = st.dictionaries(st.text(max_size=8), json_values, max_size=2)


def frames_of(message_type: str) -> st.SearchStrategy[dict[str, Any]]:
    """Frames of a type with any, some or none of its fields, each of any value, and maybe more fields."""
    fields = st.fixed_dictionaries({}, optional={name: json_values for name in FIELDS[message_type]})
    return st.builds(lambda extra, given: {**extra, **given, "type": message_type}, extra_fields, fields)


typed_frames = st.sampled_from(FUZZED_TYPES).flatmap(frames_of)
untyped_frames = st.builds(lambda message_type, extra: {**extra, "type": message_type},
                           any_text.filter(lambda t: len(t) < 20), extra_fields)
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
