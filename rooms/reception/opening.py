"""Opening the reception (バーチャル懇親会): allocate every connected attendee to a table and seat them, in one transaction.

Like the lecture's verbs, it queues its broadcast (rooms.outbox.OpenReception)
to go out after the commit, whoever opened it: the speaker's end, an
organizer's button or the timed task (rooms.tasks).
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from events.models import Talk

from .. import frames, sql
from ..lecture import watch_times
from ..lecture.models import Attendance, Stage
from ..lecture.stage import broadcast_stage, end_talk
from ..outbox import OpenReception, send_event_on_commit
from ..profiles import Profile
from . import allocation
from .media import opening_stamp, sync_on_commit
from .models import Reception, ReceptionTable, Seat
from .tables import get_or_create_reception


@dataclass
class Opening:
    """A reception just opened: its rooms, who sits where, and when it closes."""

    reception: Reception
    rooms: list[ReceptionTable] = field(default_factory=list)
    seats: dict[int, int] = field(default_factory=dict)  # registration id → room id
    members: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # room id → members


@dataclass(frozen=True)
class Guest:
    """A physician connected when the reception opens: what allocation and the move need, nothing more."""

    registration_id: int
    name: str
    facility_type: str
    specialty: str
    prefecture: str
    prefecture_name: str
    prefecture_name_en: str
    region: str
    region_name: str
    region_name_en: str
    shows_specialty: bool

    def profile(self) -> dict[str, Any]:
        """As table_profile shows a physician."""
        return frames.profile(Profile(
            name=self.name, facility_type=self.facility_type, prefecture=self.prefecture,
            prefecture_name=self.prefecture_name, prefecture_name_en=self.prefecture_name_en, region=self.region,
            registration=self.registration_id, specialty=self.specialty if self.shows_specialty else None,
        ))


def _connected_guests(talk: Talk) -> list[Guest]:
    """Everyone connected to any lecture room of the talk right now (several tabs count once).

    One hand-written SELECT (rooms.sql): the move waits for it, whatever the audience.
    """
    rows = sql.connected_guests(talk.pk, show_specialty_default=False)
    return [Guest(*row[:-1], shows_specialty=bool(row[-1])) for row in rows]


def _room_names(members: list[Guest], number: int) -> tuple[str, str]:
    """Name a room after the prefecture most of its members come from, else their region."""
    prefectures = Counter(g.prefecture for g in members)
    code, n = prefectures.most_common(1)[0] if prefectures else ("", 0)
    if code and n * 2 >= len(members):
        g = next(g for g in members if g.prefecture == code)
        return f"{g.prefecture_name} {number}", f"{g.prefecture_name_en} {number}"
    regions = Counter(g.region for g in members)
    key, n = regions.most_common(1)[0] if regions else ("", 0)
    if key and n * 2 >= len(members):
        g = next(g for g in members if g.region == key)
        return f"{g.region_name} {number}", f"{g.region_name_en} {number}"
    return f"交流 {number}", f"Mixed {number}"


def _insert_seats(seats: list[Seat]) -> None:
    """Unsaved seats in as few statements as the database allows.

    PostgreSQL takes them as arrays in one statement (rooms.sql.insert_seats);
    elsewhere Django's bulk_create, which splits them to fit SQLite's parameter limit.
    """
    if connection.vendor == "postgresql":
        sql.insert_seats(seats)
    else:
        Seat.objects.bulk_create(seats)


def _create_rooms(talk: Talk, rooms: list[ReceptionTable]) -> list[ReceptionTable]:
    """Insert the rooms in one statement; read their ids back where the database cannot return them."""
    created = ReceptionTable.objects.bulk_create(rooms)
    if all(room.pk for room in created):
        return created
    by_key = {r.key: r for r in ReceptionTable.objects.filter(talk=talk)}
    return [by_key[room.key] for room in rooms]


def open_reception(talk: Talk, by: Any = None, now: datetime | None = None) -> Opening | None:
    """Allocate every connected attendee of every lecture room of the talk and seat them.

    Returns None when the reception is off or already opened (so the speaker's
    end, the timed task and an organizer's button can all call this safely).
    """
    now = now or timezone.now()
    with transaction.atomic():
        get_or_create_reception(talk)
        reception = Reception.objects.select_for_update().get(pk=talk.pk)
        if not reception.enabled or reception.opened_at is not None:
            return None
        guests = {f"r{g.registration_id}": g for g in _connected_guests(talk)}
        attendees = [
            allocation.Attendee(key=key, prefecture=g.prefecture, region=g.region,
                                facility_type=g.facility_type, specialty=g.specialty)
            for key, g in guests.items()
        ]
        reception.seed = reception.seed or random.SystemRandom().randrange(1, 2**31)
        groups = allocation.allocate(attendees, reception.strategy, reception.room_size, reception.seed)
        reception.opened_at = now
        reception.opened_by = by if getattr(by, "pk", None) else None
        reception.closes_at = now + timedelta(minutes=reception.duration_minutes)
        reception.save(update_fields=["opened_at", "opened_by", "closes_at", "seed"])
        opening = Opening(reception)
        # A handful of statements whatever the audience: the move waits for this commit.
        tables = [[guests[a.key] for a in group] for group in groups]
        rooms = []
        for number, people in enumerate(tables, start=1):
            name_ja, name_en = _room_names(people, number)
            rooms.append(ReceptionTable(talk=talk, key=f"social-{number}", name_ja=name_ja, name_en=name_en))
        rooms = _create_rooms(talk, rooms)
        seats: list[Seat] = []
        for room, people in zip(rooms, tables, strict=True):
            opening.rooms.append(room)
            opening.members[room.pk] = [g.profile() for g in people]
            for g in people:
                opening.seats[g.registration_id] = room.pk
                seats.append(Seat(room_id=room.pk, registration_id=g.registration_id, placed=Seat.Placed.ALLOCATED,
                                  joined_at=now))
        _insert_seats(seats)
        # The talk is over for everyone moved: their viewing intervals (視聴ログ) end now.
        still_open = Attendance.objects.filter(talk=talk, left_at__isnull=True)
        watching = list(still_open.values_list("registration_id", flat=True).distinct())
        still_open.update(left_at=now)
        watch_times.refresh(talk.pk, watching)
        send_event_on_commit(OpenReception(talk.pk, opening_message(opening)))
        sync_on_commit(talk.pk)
    return opening


def end_and_open(talk: Talk, by: Any = None) -> tuple[Stage, Opening | None]:
    """The end of the talk is the start of its reception (when the organizer set one up).

    The move goes out before the "ended" stage frame, so the attendees' sockets
    carry the move first.
    """
    stage = end_talk(talk, show=False)
    opening = open_reception(talk, by)
    return broadcast_stage(stage), opening


def opening_message(opening: Opening) -> dict[str, Any]:
    """What the opening tells every server process: seats, rooms, members (Relay._on_reception_opened reads it)."""
    reception = opening.reception
    assert reception.closes_at is not None and reception.opened_at is not None
    return {
        "reception": frames.reception(reception),
        "closes_at_epoch": reception.closes_at.timestamp(),
        # Each connection computes its physician's media token from it (rooms.reception.media.details_at).
        "opened_stamp": opening_stamp(reception.opened_at),
        "rooms": {str(room.pk): {"room": frames.room(room), "members": opening.members[room.pk]} for room in opening.rooms},
        "seats": {str(registration_id): room_id for registration_id, room_id in opening.seats.items()},
    }
