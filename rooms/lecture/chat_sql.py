"""The chat write on PostgreSQL: the mute and rate checks, the next id and the insert in one statement.

A reception with hundreds of tables chatting sends hundreds of messages a second;
PostgreSQL's work per statement, not Python's, was then the limit (about 0.5 ms of
its CPU per statement here, docs/performance.md). The ORM path took five round
trips per message (BEGIN, the checks, the counter, the insert, COMMIT); this is
one. It is the same rules as rooms.lecture.chat.send_chat's other path, which SQLite
(the embedded default) keeps: the room's counter row is locked by the UPDATE, so
ids stay gap-free per room across every server process.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

from django.db import connection

from .models import ChatMessage, LectureRoom, Mute
from .reads import recent_chat_count


@cache
def _statement(by_registration: bool) -> str:
    return (
        "WITH allowed AS ("
        f"  SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM {Mute._meta.db_table} u"
        "     WHERE u.talk_id = %(talk)s AND u.registration_id = %(registration)s AND u.until > %(now)s)"
        f"  AND ({recent_chat_count(by_registration, '%(author)s', '%(since)s', '%(talk)s')}) < %(limit)s"
        "), seq AS ("
        f"  UPDATE {LectureRoom._meta.db_table} SET last_seq = last_seq + 1"
        "   WHERE id = %(room)s AND EXISTS (SELECT 1 FROM allowed) RETURNING last_seq"
        ")"
        f" INSERT INTO {ChatMessage._meta.db_table}"
        " (room_id, seq, registration_id, user_id, author, body, client_id, sent_at)"
        " SELECT %(room)s, seq.last_seq, %(registration)s, %(user)s, %(author_json)s, %(body)s, %(client_id)s, %(now)s"
        " FROM seq RETURNING id, seq"
    )


def post_checked(talk_id: int, room_id: int, registration_id: int | None, user_id: int | None,
                 author: dict[str, Any], body: str, client_id: str, now: datetime, since: datetime,
                 limit: int) -> ChatMessage | None:
    """The new message, or None when the author is muted or over the limit (the caller tells which)."""
    params = {
        "talk": talk_id, "room": room_id, "registration": registration_id, "user": user_id,
        "author": registration_id if registration_id is not None else user_id,
        "author_json": json.dumps(author, ensure_ascii=False), "body": body, "client_id": client_id,
        "now": now, "since": since, "limit": limit,
    }
    with connection.cursor() as cursor:
        cursor.execute(_statement(registration_id is not None), params)
        row = cursor.fetchone()
    if row is None:
        return None
    message = ChatMessage(id=row[0], room_id=room_id, seq=row[1], registration_id=registration_id, user_id=user_id,
                          author=author, body=body, client_id=client_id, sent_at=now)
    message._state.adding = False
    return message
