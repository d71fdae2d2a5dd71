"""The reception tables a physician sat at, with each table's chat, to read again after the close.

The rule is ``rooms.reception.tables.may_read``: a table's chat is for the people who sat
there, also after the reception closed; this module reads it for a page rather
than a socket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from events.models import Registration

from ..lecture.models import ChatMessage, LectureRoom
from .models import Seat

# A table of up to 12 talking for up to two hours stays far below this; the
# cap keeps one page bounded whatever happens.
MESSAGES_PER_TABLE = 2000


@dataclass
class Table:
    room: LectureRoom
    sat_from: datetime
    messages: list[ChatMessage]


def tables_of(registration: Registration) -> list[Table]:
    """Every social room this registration was seated in (each once, first seating first), with its chat."""
    first_seat: dict[int, Seat] = {}
    seats = Seat.objects.filter(registration=registration).select_related("room__talk").order_by("joined_at", "pk")
    for seat in seats:
        first_seat.setdefault(seat.room_id, seat)
    tables = []
    for room_id, seat in first_seat.items():
        messages = list(
            ChatMessage.objects.filter(room_id=room_id, deleted_at__isnull=True).order_by("seq")[:MESSAGES_PER_TABLE]
        )
        tables.append(Table(room=seat.room, sat_from=seat.joined_at, messages=messages))
    return tables
