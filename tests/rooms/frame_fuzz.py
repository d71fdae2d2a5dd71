"""Frames for fuzzing the lecture-room socket: the hostile ones, the field table, and Hypothesis strategies.

Shared by tests/rooms/test_hostile_frames.py (one client, every field) and
tests/rooms/test_hostile_crowd.py (several clients in several talks at once).
"""

from __future__ import annotations

import math
from typing import Any

from hypothesis import strategies as st

NOT_AN_ID = 999_999  # a well-formed id of nothing: the base frames are valid but change nothing

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


# Arbitrary JSON (surrogates, NUL, huge and non-finite numbers included), often one of the values known to hurt.
any_text = st.text(st.characters(exclude_categories=()))
NASTY = sorted({repr(v): v for kind in WRONG.values() for v in kind if v is not NESTED}.values(), key=repr)
json_values = st.sampled_from(NASTY + [0, 1, 2, NOT_AN_ID, "👏"]) | st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True) | any_text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
extra_fields = st.dictionaries(st.text(max_size=8), json_values, max_size=2)


def frames_of(message_type: str) -> st.SearchStrategy[dict[str, Any]]:
    """Frames of a type with any, some or none of its fields, each of any value, and maybe more fields."""
    fields = st.fixed_dictionaries({}, optional={name: json_values for name in FIELDS[message_type]})
    return st.builds(lambda extra, given: {**extra, **given, "type": message_type}, extra_fields, fields)


# Frames of any type that is no message type at all, with a few fields.
untyped_frames = st.builds(lambda message_type, extra: {**extra, "type": message_type},
                           any_text.filter(lambda t: len(t) < 20), extra_fields)
