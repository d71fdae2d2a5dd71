"""The reception's socket handlers: opening it, moving between tables and the lobby, cards, the room list.

Each is a module-level function registered with ``@accepts`` in the one ACTIONS
registry (rooms.realtime.protocol), next to who may send it. The helpers that
move a physician's every tab and tell a table who sits there take the
connection too; the consumer calls ``announce_members`` when a physician
sits down on arrival.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async

from ..lecture.chat import recent_messages
from ..lecture.models import LectureRoom
from ..lecture.rooms import assign_room
from ..realtime import frames
from ..realtime.groups import room_group, talk_group
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
from ..realtime.relay import get_relay
from ..refused import Refused
from . import cards
from .opening import open_reception, opening_message
from .seating import choose_room, leave_to_lobby, place
from .tables import members_of, get_or_create_reception, social_rooms

if TYPE_CHECKING:
    from ..realtime.consumer import LectureConsumer

ATTENDEES = frozenset({"attendee"})


@accepts("reception.open", MODERATORS)
async def reception_open(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    """Open the talk's reception and move everybody, in every process; refused when off or already open."""
    opening = await database_sync_to_async(open_reception)(conn.talk, conn.participant.user)
    if opening is None:
        raise Refused("reception_unavailable")
    await get_relay().open_reception(conn.talk.pk, opening_message(opening))


@accepts("reception.broadcast", STAFF)
async def reception_broadcast(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    body = text_field(payload, "body", ANNOUNCEMENT_MAX)
    await get_relay().publish(talk_group(conn.talk.pk), {
        "type": "reception.announcement", "body": body, "author": conn.participant.author,
    })


@accepts("room.leave", ATTENDEES)
async def room_leave(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    """Back to the lobby: the seat is given up; ``room.place`` or ``room.join`` lead back in."""
    if not conn.room.is_table:
        raise Refused("not_in_room")
    old = conn.room

    def leave() -> dict[str, Any]:
        leave_to_lobby(conn.talk, conn.participant.registration)
        lecture = assign_room(conn.talk, conn.participant)
        return {"lecture": lecture, "social": [_occupancy(r) for r in social_rooms(conn.talk)]}

    rooms = await database_sync_to_async(leave)()
    lecture = rooms["lecture"]
    await _move_every_tab(conn, lecture, {"type": "room.left", "room": frames.room(lecture), "rooms": rooms["social"]})
    await announce_members(conn, old)


@accepts("room.place", ATTENDEES)
async def room_place(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    """A seat in an under-filled room of one's own area (the way back from the lobby)."""
    seat = await database_sync_to_async(place)(conn.talk, conn.participant.registration)
    if seat is None:
        raise Refused("reception_closed")
    await _seated(conn, seat, "placed")


@accepts("room.join", ATTENDEES)
async def room_join(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    room_id = int_field(payload, "room", minimum=1)
    seat = await database_sync_to_async(choose_room)(conn.talk, conn.participant.registration, room_id)
    await _seated(conn, seat, "chosen")


async def _seated(conn: LectureConsumer, seat: Any, reason: str) -> None:
    old = conn.room
    room = seat.room

    def room_detail() -> dict[str, Any]:
        return {
            "members": members_of(room),
            "reception": frames.reception(get_or_create_reception(conn.talk)),
            "messages": [frames.chat_message(m) for m in recent_messages(room)],
        }

    detail = await database_sync_to_async(room_detail)()
    await _move_every_tab(conn, room, frames.room_moved(
        frames.room(room), detail["members"], detail["reception"], detail["messages"], reason=reason))
    if old.pk != room.pk:
        await announce_members(conn, old)
        await announce_members(conn, room)


async def _move_every_tab(conn: LectureConsumer, room: LectureRoom, frame: dict[str, Any]) -> None:
    """This physician's connections, here and in other processes, all follow the seat (this one included).

    This one switches at once, so its next action already counts in the new
    room; the relay then switches and tells every tab, this one too.
    """
    conn.switch_room(room)
    await get_relay().move_person(conn.talk.pk, conn.participant.registration.pk, frames.room(room),
                                  frames.encode(frame))


async def announce_members(conn: LectureConsumer, room: LectureRoom) -> None:
    """Tell a reception table who sits at it now (nothing for a lecture room)."""
    if not room.is_table:
        return
    members = await database_sync_to_async(members_of)(room)
    await get_relay().publish(room_group(conn.talk.pk, room.pk), {"type": "room.members", "room": room.pk, "members": members})


@accepts("card.offer", ATTENDEES)
async def card_offer(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    """Offer one's card to somebody at the same table; they see who offers and decide."""
    to_id = int_field(payload, "to", minimum=1)
    if not await allow(conn.person_key, "card.offer", cards.OFFER_RATE):
        raise Refused("rate_limited", retry_after=cards.OFFER_RATE[1])
    registration = conn.participant.registration
    exchange = await database_sync_to_async(cards.offer)(conn.talk, conn.room, registration, to_id)
    await get_relay().publish_to(room_group(conn.talk.pk, conn.room.pk), [to_id], {
        "type": "card.offered", "id": exchange.pk, "from": conn.participant.author,
    })
    await conn.send_json({"type": "card.pending", "id": exchange.pk, "to": to_id})


@accepts("card.answer", ATTENDEES)
async def card_answer(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    exchange_id = int_field(payload, "id", minimum=1)
    accept = payload.get("accept")
    if not isinstance(accept, bool):
        raise Refused("bad_field", field="accept")
    exchange = await database_sync_to_async(cards.answer)(conn.talk, exchange_id, conn.participant.registration, accept)
    relay = get_relay()
    group = room_group(conn.talk.pk, exchange.room_id)
    if accept:
        # Each side gets the other's card, and only now.
        await relay.publish_to(group, [exchange.offered_by_id], {"type": "card.exchanged", "id": exchange.pk,
                                                                 "card": exchange.to_card})
        await relay.publish_to(group, [exchange.offered_to_id], {"type": "card.exchanged", "id": exchange.pk,
                                                                 "card": exchange.from_card})
    else:
        await relay.publish_to(group, [exchange.offered_by_id], {"type": "card.declined", "id": exchange.pk})


@accepts("reception.rooms", EVERYONE)
async def reception_rooms(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    """Every social room with its occupancy (and, for staff, its regions)."""
    staff = conn.participant.is_staff

    def occupancy() -> list[dict[str, Any]]:
        return [_occupancy(r, with_regions=staff) for r in social_rooms(conn.talk)]

    await conn.send_json({"type": "reception.rooms", "rooms": await database_sync_to_async(occupancy)()})


def _occupancy(room: LectureRoom, with_regions: bool = False) -> dict[str, Any]:
    entry = {**frames.room(room), "seated": getattr(room, "seated", None)}
    if with_regions:
        entry["members"] = members_of(room)
    return entry
