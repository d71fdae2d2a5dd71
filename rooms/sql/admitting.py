"""An attendee's way into a lecture room in one statement: the room, a new open attendance, the hello's chat
and questions (rooms.sql.join has each step as a statement of its own)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection

from events import sql

from ..lecture.models import Attendance, ChatMessage, LectureRoom, Question
from .columns import MESSAGE, QUESTION, ROOM, q

# The columns of the frames a newcomer's hello carries (frames.chat_message_of, frames.question_of), in that order.
_HELLO_MESSAGE = ("seq", "body", "author", "client_id", "sent_at")
_HELLO_QUESTION = ("id", "body", "author", "votes", "answered_at", "asked_at")


def _picked(model: type[Any], names: Sequence[str], alias: str | None = None) -> str:
    quoted = [q(model._meta.get_field(name).column) for name in names]
    return ", ".join(f"{alias}.{c}" if alias else c for c in quoted)


def _hello_chat(tail: str) -> str:
    """A room's chat (``r``) as one JSON text, oldest first; ``tail`` picks which messages (none deleted)."""
    return (
        f"(SELECT json_agg(json_build_array({_picked(ChatMessage, _HELLO_MESSAGE)}) ORDER BY m.seq)::text FROM ("
        f"  SELECT {_picked(ChatMessage, _HELLO_MESSAGE, 'm')} FROM {MESSAGE.table}"
        f"   WHERE m.room_id = r.id AND m.deleted_at IS NULL {tail}) m)"
    )


@cache
def _lecture_admission_sql(resume: bool) -> str:
    inserted = [f for f in Attendance._meta.concrete_fields if not f.primary_key]
    history = _hello_chat("ORDER BY m.seq DESC LIMIT %(history)s")
    if resume:
        # Only the branch taken runs (each is a subplan of the room's row; EXPLAIN ANALYZE shows the other
        # "never executed"): a page naming another room than the one it gets costs the history alone.
        history = (f"CASE WHEN r.id = %(after_room)s"
                   f" THEN {_hello_chat('AND m.seq > %(after)s ORDER BY m.seq LIMIT %(resume)s')}"
                   f" ELSE {history} END")
    return (
        f"WITH room AS (SELECT {ROOM.sql} FROM {ROOM.table} WHERE r.talk_id = %(talk)s AND r.{q('key')} = %(key)s),"
        f" attendance AS (INSERT INTO {q(Attendance._meta.db_table)} ({', '.join(q(f.column) for f in inserted)})"
        f"  SELECT {', '.join('room.id' if f.attname == 'room_id' else f'%(f_{f.attname})s' for f in inserted)}"
        "  FROM room RETURNING id)"
        f" SELECT {ROOM.sql}, (SELECT id FROM attendance),"
        # History and questions as one JSON text each: parsed in one call, no model instance per row.
        f" {history},"
        f" (SELECT json_agg(json_build_array({_picked(Question, _HELLO_QUESTION)})"
        "   ORDER BY q.votes DESC, q.asked_at ASC, q.id ASC)::text FROM ("
        f"  SELECT {_picked(Question, _HELLO_QUESTION, 'q')} FROM {QUESTION.table} WHERE q.talk_id = %(talk)s"
        "   ORDER BY q.votes DESC, q.asked_at ASC, q.id ASC LIMIT %(questions)s) q)"
        " FROM room r"
    )


def lecture_admission(talk_id: int, key: str, registration_id: int, joined_at: datetime, history: int,
                      questions: int, resume: tuple[int, int] | None = None, resume_limit: int = 0,
                      ) -> tuple[LectureRoom, int, list[list[Any]], list[list[Any]], int | None] | None:
    """PostgreSQL: an attendee's way into the lecture room ``key``, in one statement.

    The room; a new open Attendance row's id; the room's last ``history`` chat
    messages, oldest first, none deleted (each ``_HELLO_MESSAGE``'s values); the
    talk's first ``questions`` questions, most votes then oldest first (each
    ``_HELLO_QUESTION``'s); the chat id the messages start after when they are the
    resumed ones (below), else None.
    None, and nothing written, when the room does not exist yet. Hand-written
    because every WebSocket admission runs it: as four statements with a model
    instance per message and question it cost 0.8–3.5 ms of CPU, as this one
    0.4–1.2 ms (docs/performance.md, "Issue 13", "The admission in one
    statement"); each part answers what room_by_key, insert_attendance,
    recent_messages (or messages_after) and questions_for answer (tests/rooms/test_sql.py).

    ``resume`` (a room id, the last chat id a reconnecting page has): when the room
    is that one, the messages are instead its first ``resume_limit`` after that id,
    none deleted, as rooms.lecture.chat.messages_after gives them, and the last
    value is that id. In the same statement because after a server restart thousands
    of pages come back at once: the history they already have was read for nothing,
    and their own ``resume`` was one more statement and frame each.
    """
    params: dict[str, Any] = {"talk": talk_id, "key": key, "history": history, "questions": questions}
    if resume is not None:
        params.update(after_room=resume[0], after=resume[1], resume=resume_limit)
    values = {"talk_id": talk_id, "registration_id": registration_id, "joined_at": joined_at, "left_at": None}
    for f in Attendance._meta.concrete_fields:
        if f.attname in values:
            params[f"f_{f.attname}"] = f.get_db_prep_save(values[f.attname], connection)
    rows = sql.fetch(_lecture_admission_sql(resume is not None), params)
    if not rows:
        return None
    row = iter(rows[0])
    room = sql.build(ROOM, row)
    attendance_id, messages, asked = next(row), next(row), next(row)
    messages = json.loads(messages) if messages else []
    asked = json.loads(asked) if asked else []
    for message in messages:  # JSON has no timestamps: PostgreSQL writes ISO 8601 with the offset
        message[4] = datetime.fromisoformat(message[4])
    for question in asked:
        question[4] = datetime.fromisoformat(question[4]) if question[4] is not None else None
        question[5] = datetime.fromisoformat(question[5])
    after = resume[1] if resume is not None and room.pk == resume[0] else None
    return room, int(attendance_id), messages, asked, after
