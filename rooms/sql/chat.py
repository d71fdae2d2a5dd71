"""The chat write's statements: the next chat id, and on PostgreSQL the checks and the insert as one."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from events import sql

from ..lecture.models import ChatMessage, LectureRoom
from .columns import q


def take_next_seq(room_id: int) -> int:
    """A write: take the room's next chat id (inside a transaction: the row stays locked until the commit).

    Hand-written because the ORM cannot return the value an UPDATE set: its
    ``update()`` and then a read would be two round trips for every message of
    the portable path, where this is one.
    """
    rows = sql.fetch(
        f"UPDATE {q(LectureRoom._meta.db_table)} SET last_seq = last_seq + 1 WHERE id = %s RETURNING last_seq",
        [room_id],
    )
    return int(rows[0][0])


_MARKERS: dict[str, Any] = {
    # Values no real row has, one per parameter, to find each parameter's place in a compiled queryset.
    "talk": -7_000_001, "registration": -7_000_002, "user": -7_000_003,
    "now": datetime(1901, 1, 1, 1, 1, 1, tzinfo=UTC), "since": datetime(1902, 2, 2, 2, 2, 2, tzinfo=UTC),
}
_PLACEHOLDER = re.compile(r"(?<!%)%s")


def named(queryset: QuerySet[Any]) -> str:
    """A queryset built from ``_MARKERS`` as SQL whose parameters are named (``%(talk)s``).

    This is how the one-statement chat write states no rule of its own: it
    embeds the very querysets the portable path runs (rooms.lecture.chat_rules).
    """
    text, params = queryset.query.sql_with_params()
    adapted = {name: connection.ops.adapt_datetimefield_value(marker) if isinstance(marker, datetime) else marker
               for name, marker in _MARKERS.items()}
    names = []
    for param in params:
        matches = [name for name, marker in adapted.items() if marker == param]
        if len(matches) != 1:
            raise ValueError(f"parameter {param!r} is not exactly one of the markers")
        names.append(matches[0])
    pieces = _PLACEHOLDER.split(text)
    assert len(pieces) == len(names) + 1, "a parameter placeholder the compiler did not count"
    return pieces[0] + "".join(f"%({name})s{piece}" for name, piece in zip(names, pieces[1:], strict=True))


@cache
def _chat_statement(by_registration: bool) -> str:
    from ..lecture import chat_rules  # the rules sit with the chat feature, which imports this module

    registration = _MARKERS["registration"] if by_registration else None
    user = None if by_registration else _MARKERS["user"]
    muted = named(chat_rules.active_mutes(_MARKERS["talk"], registration, _MARKERS["now"]).values("pk"))
    recent = named(chat_rules.recent_messages_by(_MARKERS["talk"], registration, user, _MARKERS["since"])
                   .values("pk"))
    inserted = [f for f in ChatMessage._meta.concrete_fields if not f.primary_key]
    values = ", ".join("seq.last_seq" if f.attname == "seq" else f"%(f_{f.attname})s" for f in inserted)
    return (
        "WITH allowed AS ("
        f"  SELECT 1 WHERE NOT EXISTS ({muted}) AND (SELECT COUNT(*) FROM ({recent}) recent) < %(limit)s"
        "), seq AS ("
        f"  UPDATE {q(LectureRoom._meta.db_table)} SET last_seq = last_seq + 1"
        "   WHERE id = %(room)s AND EXISTS (SELECT 1 FROM allowed) RETURNING last_seq"
        ")"
        f" INSERT INTO {q(ChatMessage._meta.db_table)} ({', '.join(q(f.column) for f in inserted)})"
        f" SELECT {values} FROM seq RETURNING id, seq"
    )


def post_chat_checked(talk_id: int, message: ChatMessage, since: datetime, limit: int) -> ChatMessage | None:
    """PostgreSQL: the mute and rate checks, the next id and the insert as one statement.

    ``message`` is unsaved, its ``sent_at`` set; it comes back saved, or None
    when the author is muted or over the limit (the caller tells which).
    Hand-written because the ORM cannot make a data-modifying CTE, and
    docs/performance.md ("Receptions: the move and 200 rooms chatting") records
    why one statement: a reception's tables send hundreds of messages a second,
    and the ORM path took five round trips each.
    """
    params: dict[str, Any] = {
        "talk": talk_id, "room": message.room_id, "registration": message.registration_id,
        "user": message.user_id, "now": message.sent_at, "since": since, "limit": limit,
    }
    for f in ChatMessage._meta.concrete_fields:
        if not f.primary_key and f.attname != "seq":
            params[f"f_{f.attname}"] = f.get_db_prep_save(getattr(message, f.attname), connection)
    rows = sql.fetch(_chat_statement(message.registration_id is not None), params)
    if not rows:
        return None
    message.id, message.seq = rows[0]
    message._state.adding = False
    return message
