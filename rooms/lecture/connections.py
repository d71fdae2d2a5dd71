"""Each connection's Attendance row: opened when a socket is admitted to a lecture room, ended when it goes.

The reports (rooms.lecture.attendance) and the closed minutes kept for the
dashboard (rooms.lecture.watch_times) are read from these rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.utils import timezone

from events.models import Talk

from .. import frames, sql
from ..participants import Participant
from . import watch_times
from .chat import HISTORY, RESUME_LIMIT, ResumeFrom, hello_messages
from .models import Attendance, LectureRoom, Stage
from .questions import QUESTIONS, questions_for
from .rooms import assign_room, room_key_for


@dataclass(frozen=True)
class Entered:
    """A connection's way into a lecture room: the room, its open Attendance row, and what its hello shows."""

    room: LectureRoom
    attendance_id: int | None
    messages: list[dict[str, Any]]  # frames.chat_message: the room's recent history (or what was missed), oldest first
    questions: list[dict[str, Any]]  # frames.question: the talk's questions, most voted first
    after: int | None = None  # the chat id ``messages`` start after when the page resumed in this room; None: history


def enter_lecture(talk: Talk, participant: Participant, stage: Stage, resume: ResumeFrom | None = None) -> Entered:
    """Put a connection in its lecture room (rooms.lecture.rooms.assign_room) and open its attendance.

    On PostgreSQL an attendee's room, attendance, history and questions are one
    statement (rooms.sql.lecture_admission) while the room exists; staff (any
    room, no attendance), a room's first visitor and SQLite take the portable path.
    A reconnecting page that names the room it gets (``resume``) is shown what it
    missed instead of the history, on either path (chat.hello_messages).
    """
    if participant.registration is not None and connection.vendor == "postgresql":
        key = room_key_for(stage, participant.prefecture_code, participant.region_key)
        found = sql.lecture_admission(talk.pk, key, participant.registration.pk, timezone.now(), HISTORY, QUESTIONS,
                                      resume, RESUME_LIMIT)
        if found is not None:
            room, attendance_id, messages, asked, after = found
            return Entered(room, attendance_id,
                           [frames.chat_message_of(room.pk, seq, body, author, sent_at, client_id)
                            for seq, body, author, client_id, sent_at in messages],
                           [frames.question_of(pk, body, author, votes, answered_at is not None, asked_at)
                            for pk, body, author, votes, answered_at, asked_at in asked],
                           after)
    room = assign_room(talk, participant, stage)
    shown, after = hello_messages(room, resume)
    return Entered(room, open_attendance(talk, participant, room), [frames.chat_message(m) for m in shown],
                   [frames.question(q) for q in questions_for(talk)], after)


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
