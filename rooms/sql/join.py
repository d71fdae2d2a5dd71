"""The join path's reads and its attendance insert, a statement each: the talk with the registrations a
WebSocket admission reads first, and the steps of the portable admission."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection

from events import sql
from events.models import Registration, Talk

from ..lecture.models import Attendance, ChatMessage, LectureRoom, Question
from .columns import EVENT, MESSAGE, QUESTION, RECEPTION, ROOM, STAGE, TALK, q

# --- The join path: docs/performance.md, "Joins, second pass" (the session read, the talk with
# its event and stage, the room, the history and the questions as hand-written SELECTs:
# WebSocket admission 11.4 → 7.9 ms of CPU, Django's query compiler being most of the rest).

ADMISSION_CANDIDATES = 8  # registration ids read with the talk at most (one per join cookie the browser holds)


@cache
def _talk_sql(candidates: int) -> str:
    registrations = ""
    if candidates:
        registrations = f", {sql.admission_columns()}, {sql.event_ends_sql('t.event_id')}"
    return (
        f"SELECT {TALK.sql}, {EVENT.sql}, {STAGE.sql}, {RECEPTION.sql}{registrations} FROM {TALK.table}"
        f" JOIN {EVENT.table} ON e.id = t.event_id LEFT JOIN {STAGE.table} ON s.talk_id = t.id"
        f" LEFT JOIN {RECEPTION.table} ON c.talk_id = t.id"
        + (sql.admission_joins("t.event_id", candidates) if candidates else "")
        + " WHERE t.id = %s"
    )


def talk_with_stage(talk_id: int) -> Talk:
    """The talk with its event, its stage and its reception settings (each when it has one).

    Raises Talk.DoesNotExist.
    """
    return talk_for_admission(talk_id, [])[0]


def talk_for_admission(talk_id: int, registration_ids: Sequence[int]) -> tuple[Talk, dict[int, Registration | None]]:
    """talk_with_stage, and in the same statement each of ``registration_ids`` that belongs to the talk's event.

    A WebSocket admission reads the talk, then the registration its join cookie
    names (events.sql.registration_for_admission): two round trips for every
    admission and every reconnect. The cookie names the registration before the
    talk is read, so here they are one. The registrations come as that function
    gives them (physician, prefecture, ``event_ends_at``, the event: the talk's);
    each id maps to None when it is not a registration of this event. Nothing is
    decided here: events.joinlinks checks them as it checks any it loads.
    More than ADMISSION_CANDIDATES ids: none is read (the caller loads its own).

    Raises Talk.DoesNotExist.
    """
    ids = list(registration_ids) if len(registration_ids) <= ADMISSION_CANDIDATES else []
    rows = sql.fetch(_talk_sql(len(ids)), [*ids, talk_id])
    if not rows:
        raise Talk.DoesNotExist(talk_id)
    talk = _talk_of(iter(rows[0]))
    found: dict[int, Registration | None] = dict.fromkeys(ids)
    if ids:
        skip = len(TALK.fields) + len(EVENT.fields) + len(STAGE.fields) + len(RECEPTION.fields)
        ends_at = Talk._meta.get_field("ends_at")
        for row in rows:
            values = iter(row[skip:])
            registration = sql.admission_registration(values)
            if registration is not None:
                registration.event = talk.event
                registration.event_ends_at = sql.convert(next(values), ends_at)
                found[registration.pk] = registration
    return talk, found


def _talk_of(values: Iterator[Any]) -> Talk:
    talk = sql.build(TALK, values)
    talk.event = sql.build(EVENT, values)
    stage_values = [next(values) for _ in STAGE.fields]
    if stage_values[0] is not None:  # the stage's primary key: NULL when the talk has no stage yet
        stage = sql.build(STAGE, iter(stage_values))
        stage.talk = talk
    reception_values = [next(values) for _ in RECEPTION.fields]
    if reception_values[0] is not None:
        reception = sql.build(RECEPTION, iter(reception_values))
        reception.talk = talk
    else:
        Talk.reception.related.set_cached_value(talk, None)  # known absent: no query on access
    return talk


@cache
def _room_sql() -> str:
    return f"SELECT {ROOM.sql} FROM {ROOM.table} WHERE r.talk_id = %s AND r.{q('key')} = %s"


def room_by_key(talk_id: int, key: str) -> LectureRoom | None:
    rows = sql.fetch(_room_sql(), [talk_id, key])
    return sql.instances(ROOM, rows)[0] if rows else None


def recent_messages(room_id: int, before: int | None, limit: int) -> list[ChatMessage]:
    """The last ``limit`` messages not deleted (before ``before`` when given), oldest first."""
    where = "m.room_id = %s AND m.deleted_at IS NULL" + (" AND m.seq < %s" if before is not None else "")
    params: list[object] = [room_id] + ([before] if before is not None else []) + [limit]
    rows = sql.fetch(f"SELECT {MESSAGE.sql} FROM {MESSAGE.table} WHERE {where} ORDER BY m.seq DESC LIMIT %s", params)
    return list(reversed(sql.instances(MESSAGE, rows)))


@cache
def _questions_sql() -> str:
    return (
        f"SELECT {QUESTION.sql} FROM {QUESTION.table} WHERE q.talk_id = %s"
        " ORDER BY q.votes DESC, q.asked_at ASC, q.id ASC LIMIT %s"
    )


def questions_for(talk_id: int, limit: int) -> list[Question]:
    """The talk's questions, most votes first, then oldest first."""
    return sql.instances(QUESTION, sql.fetch(_questions_sql(), [talk_id, limit]))


def insert_attendance(talk_id: int, registration_id: int, room_id: int, joined_at: datetime) -> int:
    """PostgreSQL: a new open Attendance row, its id back in the same round trip.

    Hand-written because every WebSocket admission inserts one: Model.save()'s
    compiler was a fifth of the admission's CPU (docs/performance.md, "Issue 13").
    """
    fields = [f for f in Attendance._meta.concrete_fields if not f.primary_key]
    values = {"talk_id": talk_id, "registration_id": registration_id, "room_id": room_id,
              "joined_at": joined_at, "left_at": None}
    rows = sql.fetch(_insert_attendance_sql(),
                     [f.get_db_prep_save(values[f.attname], connection) for f in fields])
    return int(rows[0][0])


@cache
def _insert_attendance_sql() -> str:
    fields = [f for f in Attendance._meta.concrete_fields if not f.primary_key]
    return (f"INSERT INTO {q(Attendance._meta.db_table)} ({', '.join(q(f.column) for f in fields)})"
            f" VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id")

