"""The lecture's socket handlers for speakers and moderators: the stage, looking into a room, moderation.

Each is a module-level function registered with ``@accepts`` in the one ACTIONS
registry (rooms.realtime.protocol), next to who may send it. Stage changes are
written first and broadcast to the whole talk after the write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async

from ..realtime import frames
from ..realtime.groups import room_group, talk_group
from ..realtime.protocol import ANNOUNCEMENT_MAX, MODERATORS, STAFF, accepts, int_field, text_field
from ..realtime.relay import get_relay
from ..refused import Refused
from ..reception.opening import open_reception, opening_message
from .chat import recent_messages
from .models import LectureRoom
from .moderation import delete_message, mute, remove_person
from .stage import end_talk, go_live, pin, set_chat_open, set_slide

if TYPE_CHECKING:
    from ..realtime.consumer import LectureConsumer

# -- speakers and organizers ------------------------------------------------


@accepts("slide.set", STAFF)
async def slide_set(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    slide = int_field(payload, "slide", minimum=1)
    await _stage_change(conn, set_slide, slide)


@accepts("stage.live", STAFF)
async def stage_live(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    await _stage_change(conn, go_live)


@accepts("stage.end", STAFF)
async def stage_end(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    # The end of the talk is the start of the reception (when the organizer set one up):
    # both in one database hop, and the move goes out before the "ended" stage frame,
    # so the attendees' sockets carry the move first.
    def end_and_open() -> tuple[Any, Any]:
        return end_talk(conn.talk), open_reception(conn.talk, conn.participant.user)

    stage, opening = await database_sync_to_async(end_and_open)()
    relay = get_relay()
    if opening is not None:
        await relay.open_reception(conn.talk.pk, opening_message(opening))
    await relay.publish(talk_group(conn.talk.pk), frames.stage(stage))


async def _stage_change(conn: LectureConsumer, verb: Any, *args: Any) -> None:
    stage = await database_sync_to_async(verb)(conn.talk, *args)
    await get_relay().publish(talk_group(conn.talk.pk), frames.stage(stage))


@accepts("room.view", STAFF)
async def room_view(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    room_id = int_field(payload, "room", minimum=1)
    room = await database_sync_to_async(lambda: LectureRoom.objects.filter(pk=room_id, talk=conn.talk).first())()
    if room is None:
        raise Refused("not_found", room=room_id)
    conn.switch_room(room)
    messages = await database_sync_to_async(recent_messages)(room)
    await conn.send_json({"type": "room.viewing", "room": frames.room(room),
                          "messages": [frames.chat_message(m) for m in messages]})

# -- moderators ---------------------------------------------------------------


@accepts("chat.delete", MODERATORS)
async def chat_delete(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    seq = int_field(payload, "id", minimum=1)
    room_id = int_field(payload, "room", minimum=1, default=conn.room.pk)
    message = await database_sync_to_async(delete_message)(conn.talk, room_id, seq, conn.participant)
    if message is None:
        raise Refused("not_found", id=seq)
    await get_relay().publish(room_group(conn.talk.pk, room_id), frames.chat_deleted(message))


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
    await conn.send_json({"type": "person.removed", "registration": registration_id})


@accepts("chat.close", MODERATORS)
async def chat_close(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    await _moderate_stage(conn, set_chat_open, False)


@accepts("chat.open", MODERATORS)
async def chat_open(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    await _moderate_stage(conn, set_chat_open, True)


@accepts("announcement.pin", MODERATORS)
async def announcement_pin(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    body = text_field(payload, "body", ANNOUNCEMENT_MAX, required=False)
    await _moderate_stage(conn, pin, body)


async def _moderate_stage(conn: LectureConsumer, verb: Any, *args: Any) -> None:
    stage = await database_sync_to_async(verb)(conn.talk, *args, conn.participant)
    await get_relay().publish(talk_group(conn.talk.pk), frames.stage(stage))
