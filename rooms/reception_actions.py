"""The reception's WebSocket actions, mixed into the lecture consumer.

They register in the one ACTIONS registry (rooms.realtime.protocol) like every other
message type; each declares who may send it next to its handler.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async

from .lecture.chat import recent_messages
from .lecture.rooms import assign_room
from .models import LectureRoom
from .realtime import frames
from .realtime.groups import room_group, talk_group
from .reception import cards
from .reception.opening import open_reception, opening_message
from .reception.seating import choose_room, leave_to_lobby, place
from .reception.tables import members_of, reception_of, social_rooms
from .realtime.protocol import (
    ANNOUNCEMENT_MAX,
    EVERYONE,
    MODERATORS,
    STAFF,
    Refusal,
    accepts,
    allow,
    int_field,
    text_field,
)
from .realtime.relay import get_relay

ATTENDEES = frozenset({"attendee"})


class ReceptionActions:
    # Provided by the consumer; annotations only, since a stub method here
    # could come before the real one in the MRO and shadow it.
    person: str
    talk: Any
    room: LectureRoom
    participant: Any
    send_json: Callable[[dict[str, Any]], Awaitable[None]]

    async def open_reception(self) -> bool:
        """Open the talk's reception and move everybody, in every process; False when off or already open."""
        by = self.participant.user
        opening = await database_sync_to_async(open_reception)(self.talk, by)
        if opening is None:
            return False
        await get_relay().open_reception(self.talk.pk, opening_message(opening))
        return True

    @accepts("reception.open", MODERATORS)
    async def reception_open(self, payload: dict[str, Any]) -> None:
        if not await self.open_reception():
            raise Refusal("reception_unavailable")

    @accepts("reception.broadcast", STAFF)
    async def reception_broadcast(self, payload: dict[str, Any]) -> None:
        body = text_field(payload, "body", ANNOUNCEMENT_MAX)
        await get_relay().publish(talk_group(self.talk.pk), {
            "type": "reception.announcement", "body": body, "author": self.participant.author,
        })

    @accepts("room.leave", ATTENDEES)
    async def room_leave(self, payload: dict[str, Any]) -> None:
        """Back to the lobby: the seat is given up; ``room.place`` or ``room.join`` lead back in."""
        if self.room.kind != LectureRoom.Kind.SOCIAL:
            raise Refusal("not_in_room")
        old = self.room
        rooms = await database_sync_to_async(self._leave)()
        lecture = rooms["lecture"]
        await self._move_every_tab(lecture, {"type": "room.left", "room": frames.room(lecture), "rooms": rooms["social"]})
        await self._announce_members(old)

    def _leave(self) -> dict[str, Any]:
        registration = self.participant.registration
        leave_to_lobby(self.talk, registration)
        lecture = assign_room(self.talk, self.participant)
        return {"lecture": lecture, "social": [_occupancy(r) for r in social_rooms(self.talk)]}

    @accepts("room.place", ATTENDEES)
    async def room_place(self, payload: dict[str, Any]) -> None:
        """A seat in an under-filled room of one's own area (the way back from the lobby)."""
        seat = await database_sync_to_async(place)(self.talk, self.participant.registration)
        if seat is None:
            raise Refusal("reception_closed")
        await self._seated(seat, "placed")

    @accepts("room.join", ATTENDEES)
    async def room_join(self, payload: dict[str, Any]) -> None:
        room_id = int_field(payload, "room", minimum=1)
        seat = await database_sync_to_async(choose_room)(self.talk, self.participant.registration, room_id)
        await self._seated(seat, "chosen")

    async def _seated(self, seat: Any, reason: str) -> None:
        old = self.room
        room = seat.room
        detail = await database_sync_to_async(self._room_detail)(room)
        await self._move_every_tab(room, frames.room_moved(
            frames.room(room), detail["members"], detail["reception"], detail["messages"], reason=reason))
        if old.pk != room.pk:
            await self._announce_members(old)
            await self._announce_members(room)

    def _room_detail(self, room: LectureRoom) -> dict[str, Any]:
        reception = reception_of(self.talk)
        return {
            "members": members_of(room),
            "reception": frames.reception(reception),
            "messages": [frames.chat_message(m) for m in recent_messages(room)],
        }

    async def _move_every_tab(self, room: LectureRoom, frame: dict[str, Any]) -> None:
        """This physician's connections, here and in other processes, all follow the seat (this one included).

        This one switches at once, so its next action already counts in the new
        room; the relay then switches and tells every tab, this one too.
        """
        self._switch(room)
        await get_relay().move_person(self.talk.pk, self.participant.registration.pk, frames.room(room),
                                      frames.encode(frame))

    def _enter(self, room: dict[str, Any]) -> None:
        """Switch to a room as frames.room() describes it (no database read)."""
        self._switch(LectureRoom(pk=room["id"], talk_id=self.talk.pk, key=room["key"], kind=room["kind"],
                                 name_ja=room["name"], name_en=room["name_en"]))

    def _switch(self, room: LectureRoom) -> None:
        """This connection now hears ``room`` instead of its current one (no channel-layer work: see groups.carrier)."""
        get_relay().switch(room_group(self.talk.pk, self.room.pk), room_group(self.talk.pk, room.pk), self)  # type: ignore[arg-type]
        self.room = room

    async def _announce_members(self, room: LectureRoom) -> None:
        if room.kind != LectureRoom.Kind.SOCIAL:
            return
        members = await database_sync_to_async(members_of)(room)
        await get_relay().publish(room_group(self.talk.pk, room.pk), {"type": "room.members", "room": room.pk, "members": members})

    @accepts("card.offer", ATTENDEES)
    async def card_offer(self, payload: dict[str, Any]) -> None:
        """Offer one's card to somebody at the same table; they see who offers and decide."""
        to_id = int_field(payload, "to", minimum=1)
        if not await allow(self.person, "card.offer", cards.OFFER_RATE):
            raise Refusal("rate_limited", retry_after=cards.OFFER_RATE[1])
        registration = self.participant.registration
        exchange = await database_sync_to_async(cards.offer)(self.talk, self.room, registration, to_id)
        await get_relay().publish_to(room_group(self.talk.pk, self.room.pk), [to_id], {
            "type": "card.offered", "id": exchange.pk, "from": self.participant.author,
        })
        await self.send_json({"type": "card.pending", "id": exchange.pk, "to": to_id})

    @accepts("card.answer", ATTENDEES)
    async def card_answer(self, payload: dict[str, Any]) -> None:
        exchange_id = int_field(payload, "id", minimum=1)
        accept = payload.get("accept")
        if not isinstance(accept, bool):
            raise Refusal("bad_field", field="accept")
        exchange = await database_sync_to_async(cards.answer)(self.talk, exchange_id, self.participant.registration, accept)
        relay = get_relay()
        group = room_group(self.talk.pk, exchange.room_id)
        if accept:
            # Each side gets the other's card, and only now.
            await relay.publish_to(group, [exchange.offered_by_id], {"type": "card.exchanged", "id": exchange.pk,
                                                                     "card": exchange.to_card})
            await relay.publish_to(group, [exchange.offered_to_id], {"type": "card.exchanged", "id": exchange.pk,
                                                                     "card": exchange.from_card})
        else:
            await relay.publish_to(group, [exchange.offered_by_id], {"type": "card.declined", "id": exchange.pk})

    @accepts("reception.rooms", EVERYONE)
    async def reception_rooms(self, payload: dict[str, Any]) -> None:
        """Every social room with its occupancy (and, for staff, its regions)."""
        staff = self.participant.is_staff

        def occupancy() -> list[dict[str, Any]]:
            return [_occupancy(r, with_regions=staff) for r in social_rooms(self.talk)]

        await self.send_json({"type": "reception.rooms", "rooms": await database_sync_to_async(occupancy)()})


def _occupancy(room: LectureRoom, with_regions: bool = False) -> dict[str, Any]:
    entry = {**frames.room(room), "seated": getattr(room, "seated", None)}
    if with_regions:
        entry["members"] = members_of(room)
    return entry
