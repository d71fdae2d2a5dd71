"""Every time in every frame follows one rule: ISO 8601 in Japan time, with the +09:00 offset.

A client shows a time as the frame gives it (the lecture page prints sent_at's
hours and minutes); a talk at 19:00 must not be announced at 10:00 because one
field came in UTC.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from channels.db import database_sync_to_async

from regions.models import Prefecture
from rooms.models import Reception, Stage
from tests.factories import make_event, make_staff, make_talk, register

pytestmark = [pytest.mark.django_db(transaction=True)]

JAPAN_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?\+09:00")
LOOKS_LIKE_A_TIME = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d")


@database_sync_to_async
def setup_talk():
    event = make_event()
    talk = make_talk(event)
    Stage.objects.create(talk=talk, room_mode="region", state=Stage.State.LIVE)
    Reception.objects.create(talk=talk)
    iwate = [register(event, full_name=f"岩手 医師{n}", prefecture=Prefecture.objects.get(code="03")) for n in range(3)]
    organizer = make_staff("org", "organizer")
    event.organizers.add(organizer)
    speaker = make_staff("spk", "speaker")
    talk.speakers.add(speaker)
    return talk, iwate, organizer, speaker


def recording(client: Any, frames: list[dict[str, Any]]) -> Any:
    """Keep every frame the client receives (hello included), batches unpacked."""
    frames.append(client.hello)
    receive = client.ws.receive_from

    async def receive_and_keep(timeout: float = 1) -> str:
        text = await receive(timeout)
        frame = json.loads(text)
        frames.extend(frame["messages"] if frame["type"] == "batch" else [frame])
        return text

    client.ws.receive_from = receive_and_keep
    return client


def times_in(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """(path, value) of every field that is a time: named *_at or until, or a string that looks like a date and time."""
    found: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            here = f"{path}.{key}"
            if (key.endswith("_at") or key == "until") and not isinstance(inner, (dict, list)):
                found.append((here, inner))
            else:
                found.extend(times_in(inner, here))
    elif isinstance(value, list):
        for n, inner in enumerate(value):
            found.extend(times_in(inner, f"{path}[{n}]"))
    elif isinstance(value, str) and LOOKS_LIKE_A_TIME.match(value):
        found.append((path, value))
    return found


async def test_every_time_in_the_frames_of_a_lecture_and_its_reception_is_japan_time(connect):
    talk, (a_reg, b_reg, late_reg), organizer, speaker = await setup_talk()
    frames: list[dict[str, Any]] = []
    a = recording(await connect(talk, a_reg), frames)
    b = recording(await connect(talk, b_reg), frames)
    org = recording(await connect(talk, user=organizer), frames)
    spk = recording(await connect(talk, user=speaker), frames)

    # The lecture: chat, a question, moderation, catching up.
    await a.send({"type": "chat.send", "body": "よろしくお願いします"})
    await b.recv_until("chat.message")
    await a.send({"type": "question.ask", "body": "EGFR陰性の場合は？"})
    await spk.recv_until("question")
    await org.send({"type": "chat.mute", "registration": b_reg.pk, "minutes": 5})
    await org.recv_until("chat.muted")
    await org.send({"type": "room.view", "room": a.hello["room"]["id"]})
    await org.recv_until("room.viewing")
    await b.send({"type": "resume", "after": 0})
    await b.recv_until("resume")
    await b.send({"type": "chat.history", "before": 2})
    await b.recv_until("chat.history")
    # Someone arriving now sees the chat and the questions in hello.
    recording(await connect(talk, late_reg), frames)

    # The reception: the end of the talk moves everyone to a table.
    await spk.send({"type": "stage.end"})
    await a.recv_until("room.moved")
    await org.recv_until("reception.opened")
    await a.send({"type": "chat.send", "body": "はじめまして"})
    await a.recv_until("chat.message")
    # Coming back during the reception: hello for the seat, with the reception's times.
    await a.close()
    recording(await connect(talk, a_reg), frames)

    times = [found for frame in frames for found in times_in(frame)]
    assert {path.rsplit(".", 1)[-1] for path, _ in times} >= {
        "starts_at", "ends_at", "sent_at", "asked_at", "until", "opened_at", "closes_at"}
    assert {frame["type"] for frame in frames} >= {
        "hello", "chat.message", "question", "chat.muted", "room.viewing", "resume", "chat.history",
        "room.moved", "reception.opened"}
    not_japan = [(path, value) for path, value in times
                 if value is not None and not (isinstance(value, str) and JAPAN_TIME.fullmatch(value))]
    assert not_japan == []
