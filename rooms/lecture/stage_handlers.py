"""The lecture's socket handlers for speakers and moderators: the stage, looking into a room, moderation.

Each is a module-level function registered with ``@accepts`` in the one ACTIONS
registry (rooms.realtime.protocol), next to who may send it. The verbs queue
what the talk is to see (rooms.outbox); rooms.realtime.delivery sends it after
their commit, so no handler broadcasts anything itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async

from .. import frames
from ..realtime.delivery import run
from ..realtime.protocol import (
    ANNOUNCEMENT_MAX,
    MODERATORS,
    STAFF,
    accepts,
    int_field,
    text_field,
)
from ..reception.media import viewing_details
from ..reception.opening import end_and_open
from ..refused import Refused
from .chat import recent_messages
from .models import LectureRoom
from .moderation import delete_message, mute, remove_person
from .stage import go_live, pin, set_chat_open, set_slide

if TYPE_CHECKING:
    from ..realtime.consumer import LectureConsumer

# -- speakers and organizers ------------------------------------------------


@accepts("slide.set", STAFF)
async def slide_set(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    slide = int_field(payload, "slide", minimum=1)
    await run(set_slide, conn.talk, slide)


@accepts("stage.live", STAFF)
async def stage_live(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    await run(go_live, conn.talk)


@accepts("stage.end", STAFF)
async def stage_end(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    # The end of the talk is the start of the reception: both in one database hop.
    await run(end_and_open, conn.talk, conn.participant.user)


@accepts("room.view", STAFF)
async def room_view(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    room_id = int_field(payload, "room", minimum=1)
    room = await database_sync_to_async(lambda: LectureRoom.objects.filter(pk=room_id, talk=conn.talk).first())()
    if room is None:
        raise Refused("not_found", room=room_id)
    conn.switch_room(room)
    messages = await database_sync_to_async(recent_messages)(room)
    # At a table: the staff member's own token, to listen in on its call (they publish only if they choose).
    media = await database_sync_to_async(viewing_details)(room, conn.participant.user.pk)
    await conn.send_json(frames.room_viewing(room, messages, media))

# -- moderators ---------------------------------------------------------------


@accepts("chat.delete", MODERATORS)
async def chat_delete(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    seq = int_field(payload, "id", minimum=1)
    room_id = int_field(payload, "room", minimum=1, default=conn.room.pk)
    if await run(delete_message, conn.talk, room_id, seq, conn.participant) is None:
        raise Refused("not_found", id=seq)


@accepts("chat.mute", MODERATORS)
async def chat_mute(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    registration_id = int_field(payload, "registration", minimum=1)
    minutes = int_field(payload, "minutes", minimum=1)
    entry = await database_sync_to_async(mute)(conn.talk, registration_id, min(minutes, 24 * 60), conn.participant)
    if entry is None:
        raise Refused("not_found", registration=registration_id)
    await conn.send_json(frames.chat_muted(entry))


@accepts("person.remove", MODERATORS)
async def person_remove(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    registration_id = int_field(payload, "registration", minimum=1)
    removed = await database_sync_to_async(remove_person)(conn.talk, registration_id, conn.participant)
    if not removed:
        raise Refused("not_found", registration=registration_id)
    # Their sockets close through the relay (rooms.realtime.evictions); the moderator gets the confirmation.
    await conn.send_json(frames.person_removed(registration_id))


@accepts("chat.close", MODERATORS)
async def chat_close(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    await run(set_chat_open, conn.talk, False, conn.participant)


@accepts("chat.open", MODERATORS)
async def chat_open(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    await run(set_chat_open, conn.talk, True, conn.participant)


@accepts("announcement.pin", MODERATORS)
async def announcement_pin(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    body = text_field(payload, "body", ANNOUNCEMENT_MAX, required=False)
    await run(pin, conn.talk, body, conn.participant)
