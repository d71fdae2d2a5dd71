"""The lookups every joining attendee and every chat message run, written as SQL (see events.sql for why).

Each returns the same model instances its ORM form did; tests in
tests/rooms/test_reads.py hold them to the ORM's answers.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from django.db import connection

from events import sql
from events.models import Event, Talk

from ..models import ChatMessage, LectureRoom, Mute, Question, Reception, Stage

HISTORY = 50
QUESTIONS = 200

_TALK = sql.columns(Talk, "t")
_EVENT = sql.columns(Event, "e")
_STAGE = sql.columns(Stage, "s")
_RECEPTION = sql.columns(Reception, "c")
_ROOM = sql.columns(LectureRoom, "r")
_MESSAGE = sql.columns(ChatMessage, "m")
_QUESTION = sql.columns(Question, "q")


@cache
def _talk_sql() -> str:
    return (
        f"SELECT {_TALK.sql}, {_EVENT.sql}, {_STAGE.sql}, {_RECEPTION.sql} FROM {_TALK.table}"
        f" JOIN {_EVENT.table} ON e.id = t.event_id LEFT JOIN {_STAGE.table} ON s.talk_id = t.id"
        f" LEFT JOIN {_RECEPTION.table} ON c.talk_id = t.id"
        " WHERE t.id = %s"
    )


def talk_with_stage(talk_id: int) -> Talk:
    """The talk with its event, its stage and its reception settings (each when it has one).

    Raises Talk.DoesNotExist.
    """
    rows = sql.fetch(_talk_sql(), [talk_id])
    if not rows:
        raise Talk.DoesNotExist(talk_id)
    values = iter(rows[0])
    talk = sql.build(_TALK, values)
    talk.event = sql.build(_EVENT, values)
    stage_values = [next(values) for _ in _STAGE.fields]
    if stage_values[0] is not None:  # the stage's primary key: NULL when the talk has no stage yet
        stage = sql.build(_STAGE, iter(stage_values))
        stage.talk = talk
    reception_values = [next(values) for _ in _RECEPTION.fields]
    if reception_values[0] is not None:
        reception = sql.build(_RECEPTION, iter(reception_values))
        reception.talk = talk
    else:
        Talk.reception.related.set_cached_value(talk, None)  # known absent: no query on access
    return talk


def reception_or_none(talk: Talk) -> Reception | None:
    try:
        return talk.reception
    except Reception.DoesNotExist:
        return None


@cache
def _room_sql() -> str:
    return f"SELECT {_ROOM.sql} FROM {_ROOM.table} WHERE r.talk_id = %s AND r.{connection.ops.quote_name('key')} = %s"


def room_by_key(talk_id: int, key: str) -> LectureRoom | None:
    rows = sql.fetch(_room_sql(), [talk_id, key])
    return sql.instances(_ROOM, rows)[0] if rows else None


def recent_messages(room_id: int, before: int | None = None, limit: int = HISTORY) -> list[ChatMessage]:
    """The last ``limit`` messages not deleted (before ``before`` when given), oldest first."""
    where = "m.room_id = %s AND m.deleted_at IS NULL" + (" AND m.seq < %s" if before is not None else "")
    params: list[object] = [room_id] + ([before] if before is not None else []) + [limit]
    rows = sql.fetch(f"SELECT {_MESSAGE.sql} FROM {_MESSAGE.table} WHERE {where} ORDER BY m.seq DESC LIMIT %s", params)
    return list(reversed(sql.instances(_MESSAGE, rows)))


@cache
def _questions_sql() -> str:
    return (
        f"SELECT {_QUESTION.sql} FROM {_QUESTION.table} WHERE q.talk_id = %s"
        " ORDER BY q.votes DESC, q.asked_at ASC, q.id ASC LIMIT %s"
    )


def questions_for(talk_id: int, limit: int = QUESTIONS) -> list[Question]:
    """The talk's questions, most votes first, then oldest first."""
    return sql.instances(_QUESTION, sql.fetch(_questions_sql(), [talk_id, limit]))


def next_seq(room_id: int) -> int:
    """Take the room's next chat id (call inside a transaction: the row stays locked until the commit)."""
    table = connection.ops.quote_name(LectureRoom._meta.db_table)
    rows = sql.fetch(f"UPDATE {table} SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq", [room_id])
    return int(rows[0][0])


def mute_and_recent_chat(talk_id: int, registration_id: int | None, user_id: int | None,
                         now: datetime, since: datetime) -> tuple[bool, int]:
    """Whether the person is muted in the talk now, and how many chat messages they sent in it since ``since``."""
    ops = connection.ops
    now_db, since_db = ops.adapt_datetimefield_value(now), ops.adapt_datetimefield_value(since)
    rows = sql.fetch(
        f"SELECT (SELECT COUNT(*) FROM {Mute._meta.db_table} u"
        "         WHERE u.talk_id = %s AND u.registration_id = %s AND u.until > %s),"
        f" ({recent_chat_count(registration_id is not None, '%s', '%s', '%s')})",
        [talk_id, registration_id, now_db, registration_id if registration_id is not None else user_id, since_db,
         talk_id],
    )
    muted, recent = rows[0]
    return bool(muted), int(recent)


def recent_chat_count(by_registration: bool, author: str, since: str, talk: str) -> str:
    """SQL counting an author's chat messages in a talk since a time (the placeholders are the caller's).

    It starts from the author's recent messages (index chat_by_*_recent) and looks up
    each one's room: joining the talk's rooms instead made PostgreSQL probe every room,
    hundreds once a reception opens.
    """
    column = "registration_id" if by_registration else "user_id"
    return (
        f"SELECT COUNT(*) FROM {ChatMessage._meta.db_table} m WHERE m.{column} = {author} AND m.sent_at >= {since}"
        f" AND (SELECT r.talk_id FROM {LectureRoom._meta.db_table} r WHERE r.id = m.room_id) = {talk}"
    )
