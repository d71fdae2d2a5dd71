"""Each connection's Attendance row: opened when a socket is admitted to a lecture room, ended when it goes.

The reports (rooms.lecture.attendance) and the closed minutes kept for the
dashboard (rooms.lecture.watch_times) are read from these rows.
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

from events.models import Talk

from .. import sql
from ..participants import Participant
from . import watch_times
from .models import Attendance, LectureRoom


def open_attendance(talk: Talk, participant: Participant, room: LectureRoom) -> int | None:
    """The id of the new open interval (None for staff, who have no registration)."""
    if participant.registration is None:
        return None
    if connection.vendor == "postgresql":  # one statement on the join path (rooms.sql)
        return sql.insert_attendance(talk.pk, participant.registration.pk, room.pk, timezone.now())
    return Attendance.objects.create(talk=talk, registration=participant.registration, room=room,
                                     joined_at=timezone.now()).pk


def close_attendance(attendance_id: int) -> None:
    still_open = Attendance.objects.filter(pk=attendance_id, left_at__isnull=True)
    pair = still_open.values_list("talk_id", "registration_id").first()
    if pair is not None and still_open.update(left_at=timezone.now()):
        watch_times.refresh(pair[0], [pair[1]])
