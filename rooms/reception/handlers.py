"""The reception's socket handlers: opening it, moving between tables and the lobby, cards, the room list.

Each is a module-level function registered with ``@accepts`` in the one ACTIONS
registry (rooms.realtime.protocol), next to who may send it. A handler reads
the frame's fields, runs a verb through rooms.realtime.delivery (which sends
what the verb queued, after its commit) and answers its caller; it broadcasts
nothing itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async

from .. import frames
from ..realtime.delivery import run
from ..realtime.protocol import (
    ANNOUNCEMENT_MAX,
    EVERYONE,
    MODERATORS,
    STAFF,
    accepts,
    allow,
    int_field,
    text_field,
)
from ..refused import Refused
from . import cards, moves
from .media_moderation import mute_at_table
from .opening import open_reception

if TYPE_CHECKING:
    from ..realtime.consumer import LectureConsumer

ATTENDEES = frozenset({"attendee"})


@accepts("reception.open", MODERATORS)
async def reception_open(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    """Open the talk's reception and move everybody, in every process; refused when off or already open."""
    if await run(open_reception, conn.talk, conn.participant.user) is None:
        raise Refused("reception_unavailable")


@accepts("reception.broadcast", STAFF)
async def reception_broadcast(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    body = text_field(payload, "body", ANNOUNCEMENT_MAX)
    await run(moves.announce, conn.talk.pk, body, conn.participant.author)


@accepts("room.leave", ATTENDEES)
async def room_leave(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    """Back to the lobby: the seat is given up; ``room.place`` or ``room.join`` lead back in."""
    if not conn.room.is_table:
        raise Refused("not_in_room")
    # This connection switches at once, so its next action already counts in the new
    # room; the move the verb queued switches every tab (this one too) in every process.
    conn.switch_room(await run(moves.leave_table, conn.talk, conn.participant, conn.room))


@accepts("room.place", ATTENDEES)
async def room_place(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    """A seat in an under-filled room of one's own area (the way back from the lobby)."""
    seat = await run(moves.take_seat, conn.talk, conn.participant, conn.room)
    conn.switch_room(seat.room)


@accepts("room.join", ATTENDEES)
async def room_join(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    room_id = int_field(payload, "room", minimum=1)
    seat = await run(moves.take_seat, conn.talk, conn.participant, conn.room, room_id)
    conn.switch_room(seat.room)


@accepts("card.offer", ATTENDEES)
async def card_offer(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    """Offer one's card to somebody at the same table; they see who offers and decide."""
    to_id = int_field(payload, "to", minimum=1)
    if not await allow(conn.person_key, "card.offer", cards.OFFER_RATE):
        raise Refused("rate_limited", retry_after=cards.OFFER_RATE[1])
    exchange = await run(cards.offer, conn.talk, conn.room, conn.participant.registration, to_id)
    await conn.send_json(frames.card_pending(exchange))


@accepts("card.answer", ATTENDEES)
async def card_answer(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    exchange_id = int_field(payload, "id", minimum=1)
    accept = payload.get("accept")
    if not isinstance(accept, bool):
        raise Refused("bad_field", field="accept")
    await run(cards.answer, conn.talk, exchange_id, conn.participant.registration, accept)


@accepts("reception.rooms", EVERYONE)
async def reception_rooms(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    """Every social room with its occupancy (and, for staff, its regions)."""
    tables = await database_sync_to_async(moves.tables)(conn.talk, conn.participant.is_staff)
    await conn.send_json(frames.reception_rooms(tables))


@accepts("media.mute", MODERATORS)
async def media_mute(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    """Mute (or let speak again) a physician's microphone at a table; Janus enforces it, the table is told."""
    room_id = int_field(payload, "room", minimum=1)
    registration_id = int_field(payload, "registration", minimum=1)
    muted = payload.get("muted")
    if not isinstance(muted, bool):
        raise Refused("bad_field", field="muted")
    await run(mute_at_table, conn.talk, room_id, registration_id, muted, conn.participant)
    if conn.room.pk != room_id:
        # The table hears media.muted; a moderator looking at another room gets it as the confirmation.
        await conn.send_json(frames.media_muted(room_id, registration_id, muted))
