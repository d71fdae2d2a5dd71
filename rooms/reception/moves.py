"""A physician's moves while the reception is open, as the socket asks for them, with what they tell others.

The seats themselves are rooms.reception.seating's; these verbs add what
follows a move, queued for after the commit (rooms.outbox): every tab of the
physician follows the seat (a seat belongs to the person, not to the tab that
asked), and the tables they left and joined hear who sits there now.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from events.models import Talk

from .. import frames
from ..lecture.chat import recent_messages
from ..lecture.models import LectureRoom
from ..lecture.rooms import assign_room
from ..outbox import MovePerson, ToRoom, ToTalk, send_event_on_commit
from ..participants import Participant
from ..refused import Refused
from .media import details as media_details, sync_on_commit
from .models import Seat
from .seating import choose_room, leave_to_lobby, place
from .tables import get_or_create_reception, members_of, social_rooms


def leave_table(talk: Talk, participant: Participant, table: LectureRoom) -> LectureRoom:
    """Back to the lobby: the seat is given up, every tab goes to the physician's lecture room (returned)."""
    registration = participant.registration
    assert registration is not None
    leave_to_lobby(talk, registration)
    lecture = assign_room(talk, participant)
    _move(talk, registration.pk, lecture, frames.room_left(lecture, tables(talk)))
    tell_members(talk.pk, table)
    return lecture


def take_seat(talk: Talk, participant: Participant, current: LectureRoom, room_id: int | None = None) -> Seat:
    """A seat at the chosen table (``room_id``), else at an under-filled one of one's own area; every tab follows."""
    registration = participant.registration
    assert registration is not None
    if room_id is None:
        seat = place(talk, registration)
        if seat is None:
            raise Refused("reception_closed")
        reason = "placed"
    else:
        seat = choose_room(talk, registration, room_id)
        reason = "chosen"
    room = seat.room
    reception = get_or_create_reception(talk)
    messages = [frames.chat_message(m) for m in recent_messages(room)]
    moved = frames.room_moved(frames.room(room), members_of(room), frames.reception(reception), messages,
                              reason=reason)
    _move(talk, registration.pk, room, frames.with_media(moved, media_details(reception, room.pk, registration.pk)))
    if current.pk != room.pk:
        tell_members(talk.pk, current)
        tell_members(talk.pk, room)
    return seat


def leave_for_good(event_id: int, registration_id: int) -> None:
    """A physician no longer admitted to the event gives up their reception seats; each table sees them leave."""
    seats = list(Seat.objects.filter(room__talk__event_id=event_id, registration_id=registration_id,
                                     left_at__isnull=True).select_related("room"))
    Seat.objects.filter(pk__in=[s.pk for s in seats]).update(left_at=timezone.now())
    for seat in seats:
        tell_members(seat.room.talk_id, seat.room)
    for talk_id in {seat.room.talk_id for seat in seats}:
        sync_on_commit(talk_id, {seat.room_id for seat in seats if seat.room.talk_id == talk_id})


def _move(talk: Talk, registration_id: int, room: LectureRoom, frame: dict[str, Any]) -> None:
    send_event_on_commit(MovePerson(talk.pk, registration_id, frames.room(room), frame))


def tell_members(talk_id: int, room: LectureRoom) -> None:
    """A reception table hears who sits at it now (nothing for a lecture room)."""
    if room.is_table:
        send_event_on_commit(ToRoom(talk_id, room.pk, frames.room_members(room.pk, members_of(room))))


def announce(talk_id: int, body: str, author: dict[str, Any]) -> None:
    """A speaker's or organizer's word to everyone at the reception (no record: it is said, not stored)."""
    send_event_on_commit(ToTalk(talk_id, frames.reception_announcement(body, author)))


def tables(talk: Talk, with_members: bool = False) -> list[dict[str, Any]]:
    """Every reception table with how many sit there (and, for staff, who)."""
    return [frames.occupancy(r, members_of(r) if with_members else None) for r in social_rooms(talk)]
