"""Seats while the reception is open: a late arrival placed at a fitting table, a chosen table, back to the lobby.

Like the lecture's verbs, every verb runs in its own transaction and returns
what is to be broadcast; the socket handlers broadcast after the commit.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from events.models import Registration, Talk
from regions.models import Prefecture

from ..lecture.models import LectureRoom
from ..refused import Refused
from .media import sync_on_commit
from .models import Reception, ReceptionTable, Seat


def current_seat(talk: Talk, registration: Registration) -> Seat | None:
    return (
        Seat.objects.filter(room__talk=talk, registration=registration, left_at__isnull=True)
        .select_related("room")
        .first()
    )


def _sit(talk: Talk, registration: Registration, room: LectureRoom, placed: str, now: datetime) -> Seat:
    open_seats = Seat.objects.filter(room__talk=talk, registration=registration, left_at__isnull=True)
    changed = {room.pk, *open_seats.values_list("room_id", flat=True)}
    open_seats.update(left_at=now)
    seat = Seat.objects.create(room=room, registration=registration, placed=placed, joined_at=now)
    sync_on_commit(talk.pk, changed)  # after the writes: outside a transaction it runs at once
    return seat


def place(talk: Talk, registration: Registration, now: datetime | None = None,
          reception: Reception | None = None) -> Seat | None:
    """The seat of a physician while the reception is open: theirs, or one in an under-filled room of their area.

    None when the reception is not open (or there are no rooms yet).
    """
    now = now or timezone.now()
    reception = reception or Reception.objects.filter(pk=talk.pk).first()
    if reception is None or not reception.is_open(now):
        return None
    with transaction.atomic():
        seat = current_seat(talk, registration)
        if seat is not None:
            return seat
        best = _best_table(talk, registration.physician.prefecture)
        if best is None:
            return None
        return _sit(talk, registration, best, Seat.Placed.LATE, now)


def _best_table(talk: Talk, prefecture: Prefecture) -> ReceptionTable | None:
    """For a late arrival: a table with someone of the same prefecture, then region, then the emptiest.

    One query for every table's occupants, however many tables the reception has.
    """
    rooms = {room.pk: room for room in ReceptionTable.objects.filter(talk=talk)}
    if not rooms:
        return None
    occupants: dict[int, list[tuple[str, str]]] = {pk: [] for pk in rooms}
    seated = Seat.objects.filter(room__in=list(rooms), left_at__isnull=True).values_list(
        "room_id", "registration__physician__prefecture_id", "registration__physician__prefecture__region_id"
    )
    for room_id, code, region in seated:
        occupants[room_id].append((code, region))

    def fit(pk: int) -> tuple[int, int, int]:
        people = occupants[pk]
        area = 0 if any(c == prefecture.code for c, _ in people) else 1 if any(
            r == prefecture.region_id for _, r in people) else 2
        return (area, len(people), pk)

    return rooms[min(rooms, key=fit)]


def choose_room(talk: Talk, registration: Registration, room_id: int, now: datetime | None = None) -> Seat:
    """An attendee moves to another room with space, when the organizer allows it."""
    now = now or timezone.now()
    reception = Reception.objects.filter(pk=talk.pk).first()
    if reception is None or not reception.is_open(now):
        raise Refused("reception_closed")
    if not reception.allow_self_select:
        raise Refused("forbidden")
    with transaction.atomic():
        room = ReceptionTable.objects.select_for_update().filter(pk=room_id, talk=talk).first()
        if room is None:
            raise Refused("not_found", room=room_id)
        seated = Seat.objects.filter(room=room, left_at__isnull=True).exclude(registration=registration).count()
        if seated >= reception.room_size:
            raise Refused("room_full", room=room_id)
        return _sit(talk, registration, room, Seat.Placed.CHOSEN, now)


def leave_to_lobby(talk: Talk, registration: Registration, now: datetime | None = None) -> None:
    open_seats = Seat.objects.filter(room__talk=talk, registration=registration, left_at__isnull=True)
    changed = set(open_seats.values_list("room_id", flat=True))
    open_seats.update(left_at=now or timezone.now())
    sync_on_commit(talk.pk, changed)
