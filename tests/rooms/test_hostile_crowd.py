"""Thirteen sockets in three talks throw 10,000 generated frames at the server at once, and it holds.

Talk A has two regional lecture rooms (Tohoku and Kanto, two physicians each)
and its organizer; talk B, of another society, one room with two physicians;
talk C's reception is open, its six physicians seated at two tables. Every one
of them sends, concurrently with the others, frames that Hypothesis generates
from the protocol's registry (rooms.realtime.protocol.ACTIONS and the field table
of tests/rooms/frame_fuzz.py): well-formed frames of the types their role may
send, with real ids of every talk's rooms and registrations and small ids besides;
the same types with hostile values; types their role may not send; types that
do not exist; unreadable text and binary frames. After each frame the client
sends a probe (a frame of an unknown type, answered at once), so the frames the
socket says in between are its answer to that frame alone.

The server must:
- answer every frame with at most one error frame, and with exactly one where
  the frame cannot be accepted (unreadable, unknown type, not the sender's role);
- give a frame that asks for something (``resume``, ``chat.history``,
  ``room.view``, …) either its answer or an error, and deliver every chat
  message it accepted from a physician to their own room;
- keep every socket open, and keep serving the others: a newcomer's message
  still reaches each room at the end;
- never send a client anything of another talk (each talk's titles, names and
  bodies carry its mark, ⟦A⟧, ⟦B⟧, ⟦C⟧), nor a physician in a lecture room chat
  of another room (bodies carry the room as well, ⟦A.tohoku⟧), nor a talk
  without staff the effect of a moderator's action.

The sockets are the in-process Channels communicator on the real ASGI
application, with the test's database and channel layer (Redis in the services
pass): ten thousand frames through real Daphne sockets would take minutes here.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from regions.models import Prefecture
from rooms.models import Attendance, LectureRoom, Reception, Stage
from rooms.realtime.protocol import ACTIONS, ERRORS, ID_MAX, MAX_FRAME, REACTIONS
from rooms.reception.opening import open_reception
from tests.factories import make_event, make_organization, make_staff, make_talk, register
from tests.rooms.frame_fuzz import FIELDS, NOT_AN_ID, UNREADABLE, frames_of, untyped_frames

pytestmark = [pytest.mark.django_db(transaction=True)]

FRAMES_WANTED = 10_000
PER_CLIENT = 8  # frames each client sends per generated example
PROBE = "probe~"  # a type no handler has: answered with unknown_type at once, naming it
TAG = re.compile(r"⟦([A-Z])(?:\.([a-z]+))?⟧")
READ_TIMEOUT = 60.0  # seconds for the next frame: generous, the machine is shared
# What only a moderator's action sends: talks without staff (B, C) must never hear it.
MODERATION_EFFECTS = {"stage", "chat.deleted", "chat.muted", "media.muted", "person.removed",
                      "reception.announcement", "reception.opened"}
# Message types answered to the sender directly when accepted: type → the answer's type.
DIRECT = {"resume": "resume", "chat.history": "chat.history", "reception.rooms": "reception.rooms",
          "room.view": "room.viewing", "chat.mute": "chat.muted", "card.offer": "card.pending",
          "person.remove": "person.removed"}
ROOM_FRAMES = ("hello", "room.moved", "room.left", "room.viewing")  # the room they name is the client's now
CHAT_LISTS = ("hello", "resume", "chat.history", "room.moved", "room.viewing")  # carry chat messages


@dataclass
class Fuzzed:
    """One fuzzed socket and what the test learnt from everything it received."""

    name: str
    talk: str  # "A", "B" or "C": the mark its talk's data carries
    role: str
    client: Any
    room_label: str | None  # the lecture room of a physician who never changes rooms (A, B); None for others
    room_id: int
    ids: dict[str, list[int]] = field(default_factory=dict)  # field name → ids to draw from ("" for any other)
    entered: set[int] = field(default_factory=set)
    chat_rooms: set[int] = field(default_factory=set)
    accepted_chats: set[str] = field(default_factory=set)
    received_chats: set[str] = field(default_factory=set)
    sent: int = 0

    @property
    def tag(self) -> str:
        return f"⟦{self.talk}.{self.room_label}⟧" if self.room_label else f"⟦{self.talk}⟧"


@database_sync_to_async
def build_scene() -> dict[str, Any]:
    """Talks A and B (reception off: nobody there changes rooms unless staff looks in) and C (reception open)."""
    def prefecture(code: str) -> Prefecture:
        return Prefecture.objects.get(code=code)

    scene: dict[str, Any] = {}
    for mark, codes in (("A", ("03", "02", "13", "14")), ("B", ("03", "04"))):
        event = make_event(organization=make_organization(f"society-{mark.lower()}"), title=f"⟦{mark}⟧ 講演会")
        talk = make_talk(event, title=f"⟦{mark}⟧ 講演")
        Stage.objects.create(talk=talk)  # one lecture room per region
        Reception.objects.create(talk=talk, enabled=False)
        scene[mark] = (talk, [register(event, full_name=f"⟦{mark}⟧ 医師{n}", prefecture=prefecture(code))
                              for n, code in enumerate(codes)])
    organizer = make_staff("crowd-organizer", "organizer")
    scene["A"][0].event.organizers.add(organizer)
    scene["organizer"] = organizer
    event = make_event(organization=make_organization("society-c"), title="⟦C⟧ 懇親会つき講演会")
    talk = make_talk(event, title="⟦C⟧ 講演", starts_in=timedelta(minutes=-70), minutes=60)
    Reception.objects.create(talk=talk, room_size=3)
    lobby = LectureRoom.objects.create(talk=talk, key="all", name_ja="⟦C⟧ 全員", name_en="⟦C⟧ Everyone")
    guests = [register(event, full_name=f"⟦C⟧ 医師{n}", prefecture=prefecture(code))
              for n, code in enumerate(("03", "03", "03", "04", "04", "04"))]
    for guest in guests:
        Attendance.objects.create(talk=talk, registration=guest, room=lobby, joined_at=timezone.now())
    assert len(open_reception(talk).rooms) == 2
    scene["C"] = (talk, guests)
    return scene


@database_sync_to_async
def known_ids(moderator: bool) -> dict[str, list[int]]:
    """Ids a well-formed frame's field draws from: every talk's rooms or registrations, or small ids.

    Small ids are chat messages' (numbered per room), early questions' and card offers'; a
    moderator's registrations leave talk A's out (see frames_for).
    """
    from events.models import Registration

    rooms = sorted(LectureRoom.objects.values_list("pk", flat=True))
    people = sorted(pk for pk, title in Registration.objects.values_list("pk", "event__talks__title")
                    if not (moderator and title.startswith("⟦A⟧")))
    small = [*range(1, 12), NOT_AN_ID]
    return {"room": rooms, "registration": people, "to": people, "": sorted({*small, *rooms, *people})}


@database_sync_to_async
def rooms_of_talks() -> dict[str, set[int]]:
    rooms: dict[str, set[int]] = {}
    for pk, title in LectureRoom.objects.values_list("pk", "talk__title"):
        rooms.setdefault(title[1], set()).add(pk)
    return rooms


# ---------------------------------------------------------------- the frames


def well_formed(message_type: str, ids: dict[str, list[int]], tag: str) -> st.SearchStrategy[dict[str, Any]]:
    """A frame of ``message_type`` with every required field of the right kind (texts carry the sender's mark)."""
    text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1, max_size=40).map(
        lambda body: f"{tag} {body}")
    values = {"text": text, "bool": st.booleans(), "emoji": st.sampled_from(REACTIONS)}

    def value(name: str, kind: str) -> st.SearchStrategy[Any]:
        if kind != "int":
            return values[kind]
        known = st.sampled_from(ids.get(name, ids[""]))
        return st.one_of(known, known, known, st.integers(1, ID_MAX))

    required, optional = {}, {}
    for name, kind in FIELDS[message_type].items():
        if kind.startswith("optional "):
            optional[name] = value(name, kind.removeprefix("optional "))
        else:
            required[name] = value(name, kind)
    return st.fixed_dictionaries(required, optional=optional).map(lambda frame: {**frame, "type": message_type})


def frames_for(fuzzed: Fuzzed) -> st.SearchStrategy[tuple[str, Any]]:
    """What one client throws: ("valid", frame) reaches its handler; the others are meant to be refused."""
    mine = sorted(t for t, action in ACTIONS.items() if fuzzed.role in action.roles)
    theirs = sorted(set(ACTIONS) - set(mine))
    # A random id in a moderator's hostile frame may be one of the fuzzed physicians': muting them
    # would silence the room's marks, removing them rightly ends their socket. Their well-formed
    # frames draw from ids without them (fuzzed.ids), so those types are fuzzed there.
    hostile_types = [t for t in mine if t not in ("chat.mute", "person.remove")]
    valid = st.sampled_from(mine).flatmap(lambda t: well_formed(t, fuzzed.ids, fuzzed.tag))
    raw = (st.sampled_from([frame for frame, _code in UNREADABLE])
           | st.text(st.characters(codec="utf-8"), max_size=60) | st.binary(max_size=60))
    return st.one_of(
        st.tuples(st.just("valid"), valid),
        st.tuples(st.just("valid"), valid),
        st.tuples(st.just("hostile"), st.sampled_from(hostile_types).flatmap(frames_of)),
        st.tuples(st.just("hostile"), st.sampled_from(hostile_types).flatmap(frames_of)),
        st.tuples(st.just("forbidden"), st.sampled_from(theirs).flatmap(lambda t: well_formed(t, fuzzed.ids, fuzzed.tag))),
        st.tuples(st.just("untyped"), untyped_frames),
        st.tuples(st.just("raw"), raw),
    )


def refusal_expected(fuzzed: Fuzzed, kind: str, frame: Any) -> str | None:
    """The error code a frame must get whatever the state of the talk, or None when it may be accepted.

    "any" for a raw frame that is no acceptable message: some code of ERRORS, exactly once.
    """
    if kind == "raw":
        try:
            size = len(frame) if isinstance(frame, bytes) else len(frame.encode("utf-8", "surrogatepass"))
            payload = json.loads(frame)
        except (ValueError, RecursionError):
            return "any"
        if size > MAX_FRAME or not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
            return "any"
        frame = payload
    if frame["type"] not in ACTIONS:
        return "unknown_type"
    if fuzzed.role not in ACTIONS[frame["type"]].roles:
        return "forbidden"
    return None


# ---------------------------------------------------------------- what comes back


def observe(fuzzed: Fuzzed, frame: dict[str, Any]) -> None:
    """Check one received frame for another talk's or room's data and learn the client's rooms and chat."""
    text = json.dumps(frame, ensure_ascii=False)
    for talk, room in TAG.findall(text):
        assert talk == fuzzed.talk, f"{fuzzed.name} received talk {talk}'s data: {text[:300]}"
    if fuzzed.talk != "A":
        assert frame["type"] not in MODERATION_EFFECTS, f"{fuzzed.name} heard another talk's moderator: {text[:300]}"
    if frame["type"] in ROOM_FRAMES:
        fuzzed.entered.add(frame["room"]["id"])
    messages = [frame] if frame["type"] == "chat.message" else (
        frame.get("messages", []) if frame["type"] in CHAT_LISTS else [])
    for message in messages:
        fuzzed.chat_rooms.add(message["room"])
        if message.get("client_id"):
            fuzzed.received_chats.add(message["client_id"])
        if fuzzed.room_label is not None:
            assert message["room"] == fuzzed.room_id, f"{fuzzed.name} received another room's chat: {message}"
            for _talk, room in TAG.findall(message["body"]):
                assert room in ("", fuzzed.room_label), f"{fuzzed.name} received another room's chat: {message}"


async def received(fuzzed: Fuzzed) -> list[dict[str, Any]]:
    """The next frames the socket sends (a batch unpacked); a closed socket fails the test."""
    output = await fuzzed.client.ws.receive_output(timeout=READ_TIMEOUT)
    assert output["type"] == "websocket.send", f"{fuzzed.name}'s socket closed: {output}"
    output["text"].encode("utf-8")  # a lone surrogate here would kill the real connection
    frame = json.loads(output["text"])
    frames = frame["messages"] if frame["type"] == "batch" else [frame]
    for inner in frames:
        observe(fuzzed, inner)
    return frames


async def send_raw(fuzzed: Fuzzed, frame: str | bytes) -> None:
    # As the server receives it (the communicator's send_to refuses empty frames).
    await fuzzed.client.ws.send_input({"type": "websocket.receive",
                                       "bytes" if isinstance(frame, bytes) else "text": frame})


async def exchange(fuzzed: Fuzzed, frames: list[tuple[str, Any]]) -> None:
    """Send each frame followed by a probe, then check the answers between the probes' answers."""
    sent = []
    for n, (kind, frame) in enumerate(frames):
        if kind == "valid" and frame["type"] == "chat.send":
            frame = {**frame, "client_id": f"{fuzzed.name}:{fuzzed.sent}"}
        await send_raw(fuzzed, frame if kind == "raw" else json.dumps(frame))
        await send_raw(fuzzed, json.dumps({"type": f"{PROBE}{n}"}))
        fuzzed.sent += 1
        sent.append((kind, frame))
    answers: list[list[dict[str, Any]]] = [[] for _ in frames]
    n = 0
    while n < len(frames):
        for reply in await received(fuzzed):
            if reply["type"] == "error" and str(reply.get("received", "")).startswith(PROBE):
                assert reply["received"] == f"{PROBE}{n}", (fuzzed.name, reply)
                n += 1
            else:
                answers[n].append(reply)
    for (kind, frame), answer in zip(sent, answers):
        errors = [reply for reply in answer if reply["type"] == "error"]
        shown = repr(frame)[:300]
        assert len(errors) <= 1, f"{fuzzed.name}: {len(errors)} errors for one frame {shown}: {errors}"
        for error in errors:
            assert error["code"] in ERRORS and error["message"], (fuzzed.name, shown, error)
        expected = refusal_expected(fuzzed, kind, frame)
        if expected is not None:
            assert errors, f"{fuzzed.name}: no error for {shown}"
            assert expected == "any" or errors[0]["code"] == expected, (fuzzed.name, shown, errors)
        elif not errors and frame["type"] in DIRECT:
            assert DIRECT[frame["type"]] in {reply["type"] for reply in answer}, (
                f"{fuzzed.name}: neither an answer nor an error for {shown}: {answer}")
        if kind == "valid" and frame["type"] == "chat.send" and not errors:
            fuzzed.accepted_chats.add(frame["client_id"])


async def answers_a_probe(fuzzed: Fuzzed) -> None:
    await send_raw(fuzzed, json.dumps({"type": "resume", "after": NOT_AN_ID}))
    while not any(reply["type"] == "resume" and reply["after"] == NOT_AN_ID for reply in await received(fuzzed)):
        pass


# ---------------------------------------------------------------- the test


async def test_ten_thousand_generated_frames_from_three_talks_at_once_are_each_answered_and_nothing_leaks(
        connect):
    scene = await build_scene()
    crowd: list[Fuzzed] = []
    for mark in ("A", "B", "C"):
        talk, people = scene[mark]
        for n, registration in enumerate(people):
            client = await connect(talk, registration)
            room = client.hello["room"]
            fixed = mark != "C"  # in A and B nobody moves a physician; in C they move between tables
            crowd.append(Fuzzed(f"{mark}-{room['key']}-{n}", mark, "attendee", client,
                                room["key"] if fixed else None, room["id"]))
    organizer = Fuzzed("A-organizer", "A", "organizer", await connect(scene["A"][0], user=scene["organizer"]),
                       None, 0)
    organizer.room_id = organizer.client.hello["room"]["id"]
    crowd.append(organizer)
    assert {f.room_label for f in crowd if f.talk == "A" and f.room_label} == {"tohoku", "kanto"}
    for fuzzed in crowd:
        observe(fuzzed, fuzzed.client.hello)
    for fuzzed in crowd:
        fuzzed.ids = await known_ids(fuzzed.role == "organizer")

    loop = asyncio.get_running_loop()
    examples = -(-FRAMES_WANTED // (PER_CLIENT * len(crowd)))

    # Generated only (no shrinking): each example changes the talks' state, so neither a smaller one
    # nor Hypothesis's replay of the failing one would meet the same server; the first failure is
    # kept and raised as it happened (the assertion names the frame). Hypothesis drives the sockets
    # from a thread of its own, as it runs synchronously.
    failures: list[BaseException] = []

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.tuples(*(st.lists(frames_for(f), min_size=PER_CLIENT, max_size=PER_CLIENT) for f in crowd)))
    def throw(per_client: tuple[list[tuple[str, Any]], ...]) -> None:
        async def at_once() -> None:
            async with asyncio.TaskGroup() as group:  # one client's failure stops the others
                for fuzzed, frames in zip(crowd, per_client):
                    group.create_task(exchange(fuzzed, frames))
        if failures:
            return
        try:
            asyncio.run_coroutine_threadsafe(at_once(), loop).result(timeout=600)
        except BaseException as failure:  # noqa: BLE001 (raised below, after Hypothesis stops)
            failures.append(failure.exceptions[0] if isinstance(failure, BaseExceptionGroup) else failure)

    await asyncio.to_thread(throw)
    if failures:
        raise failures[0]
    assert sum(f.sent for f in crowd) >= FRAMES_WANTED

    # Still served: the organizer reopens the chat the fuzz may have closed, and a newcomer's message
    # reaches every physician of each lecture room, after everything the room said before it.
    await send_raw(organizer, json.dumps({"type": "chat.open"}))
    await answers_a_probe(organizer)
    for mark, code, label in (("A", "03", "tohoku"), ("A", "13", "kanto"), ("B", "04", "tohoku")):
        talk = scene[mark][0]
        newcomer = await database_sync_to_async(lambda: register(  # noqa: B023 (called at once)
            talk.event, full_name=f"⟦{mark}⟧ 新人", prefecture=Prefecture.objects.get(code=code)))()
        poster = await connect(talk, newcomer)
        assert poster.hello["room"]["key"] == label
        await poster.send({"type": "chat.send", "body": f"⟦{mark}.{label}⟧ まだ聞こえますか", "client_id": "last"})
        for fuzzed in crowd:
            if fuzzed.talk == mark and fuzzed.room_label == label:
                fuzzed.received_chats.discard("last")
                while "last" not in fuzzed.received_chats:
                    await received(fuzzed)
                missing = fuzzed.accepted_chats - fuzzed.received_chats
                assert not missing, f"{fuzzed.name} never received its accepted messages {sorted(missing)[:5]}"
    for fuzzed in crowd:
        await answers_a_probe(fuzzed)
    rooms = await rooms_of_talks()
    for fuzzed in crowd:
        assert fuzzed.entered <= rooms[fuzzed.talk], f"{fuzzed.name} was let into another talk's room"
        assert fuzzed.chat_rooms <= rooms[fuzzed.talk], f"{fuzzed.name} received another talk's chat"
        if fuzzed.room_label is None:
            assert fuzzed.chat_rooms <= fuzzed.entered, f"{fuzzed.name} received chat of a room it never entered"
    # The marks were there to be leaked: each lecture room heard its physicians.
    for fuzzed in crowd:
        if fuzzed.room_label is not None:
            assert fuzzed.received_chats - {"last"}, f"no chat of {fuzzed.name}'s room got through the fuzz"
