"""The attendance log (視聴ログ): who watched a talk, for how long, and how they took part.

Every WebSocket connection leaves one ``Attendance`` row (joined_at, left_at).
A physician with two tabs open, or whose train goes through a tunnel, leaves
several rows that overlap or follow each other; adding their lengths would
count the same minutes twice. Minutes watched is therefore the length of the
*union* of a physician's intervals.

``merge_intervals`` and ``minutes_watched`` are pure (no database) so that they
can be tested exhaustively; ``attendance_rows`` reads the database with a fixed
number of queries, however many physicians attended.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, QuerySet
from django.utils import timezone

from events.models import Registration, Talk

from .models import Attendance, ChatMessage, Question, Stage

Interval = tuple[datetime, datetime]
OpenInterval = tuple[datetime, datetime | None]


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of ``intervals`` as sorted, disjoint intervals.

    Input order does not matter (connections close in any order). Intervals
    that overlap or touch are merged: a reconnect that opens the instant the
    old socket closed is one uninterrupted stay. Intervals of zero or negative
    length (a connection refused at once, or a clock step) cover no time and
    are dropped rather than allowed to produce a negative total.
    """
    merged: list[Interval] = []
    for start, end in sorted((s, e) for s, e in intervals if e > s):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def watched(intervals: Iterable[OpenInterval], now: datetime | None = None) -> timedelta:
    """Total time covered by ``intervals``; an open interval (end ``None``) runs until ``now``.

    Kept as a timedelta (exact microseconds) so that sums and comparisons are
    exact; ``minutes_watched`` converts once at the end.
    """
    until = now if now is not None else timezone.now()
    closed = [(start, end if end is not None else until) for start, end in intervals]
    return sum((end - start for start, end in merge_intervals(closed)), timedelta())


def minutes_watched(intervals: Iterable[OpenInterval], now: datetime | None = None) -> float:
    """Minutes covered by the union of ``intervals``; an open interval runs until ``now``.

    ``now`` defaults to the current time. Callers that know the talk has ended
    pass its end instead, so that a connection whose close was never recorded
    (a crashed server process) does not keep accruing minutes for ever.
    """
    return watched(intervals, now).total_seconds() / 60


def open_until(talk: Talk, now: datetime | None = None, stage: Stage | None = None) -> datetime:
    """Where a still-open connection stops counting: ``now``, or the talk's end once it has ended.

    The talk has ended when the organizer ended its stage (``Stage.ended_at``);
    a talk whose stage never went live counts as ended at its scheduled
    ``ends_at``. A live stage running past ``ends_at`` has not ended: talks
    overrun, and the people still watching are watching.
    """
    now = now if now is not None else timezone.now()
    end: datetime | None = None
    if stage is not None and stage.ended_at is not None:
        end = stage.ended_at
    elif stage is None or stage.state != Stage.State.LIVE:
        end = talk.ends_at
    return min(now, end) if end is not None else now


def attendance_rows(talk: Talk, now: datetime | None = None) -> list[dict[str, Any]]:
    """One row per registration that joined ``talk`` (or chatted or asked in it), for the 視聴ログ.

    Registered physicians who never connected are left out: the registrations
    export lists everyone who registered, this log lists who came.

    Each row has the physician's current details, ``first_joined_at``,
    ``last_left_at`` (``None`` while any of their connections is still open,
    or when its close was never recorded), ``minutes_watched`` (union of their
    connections, rounded to 0.1), ``connections`` (WebSocket connections
    opened), ``chat_messages`` (sent and not deleted by a moderator) and
    ``questions`` (asked in this talk).

    Five queries whatever the audience size: the stage, the attendance rows,
    the chat and question counts grouped by registration, and the
    registrations with their physician, prefecture and region. Rows are sorted
    in Python by prefecture code, then name in kana (which sorts in 五十音
    order, unlike kanji), then full name, so the order is the same on SQLite
    and PostgreSQL whatever the database collation.
    """
    stage = Stage.objects.filter(talk_id=talk.pk).first()
    until = open_until(talk, now, stage)

    intervals: dict[int, list[OpenInterval]] = defaultdict(list)
    for registration_id, joined_at, left_at in (
        Attendance.objects.filter(talk_id=talk.pk).values_list("registration_id", "joined_at", "left_at")
    ):
        intervals[registration_id].append((joined_at, left_at))

    chat_messages: QuerySet[ChatMessage] = ChatMessage.objects.filter(
        room__talk_id=talk.pk, registration__isnull=False, deleted_at__isnull=True
    )
    asked: QuerySet[Question] = Question.objects.filter(talk_id=talk.pk, registration__isnull=False)
    chats = _count_by_registration(chat_messages)
    questions = _count_by_registration(asked)

    # Exists() rather than pk__in=[…]: no parameter list that grows with the audience.
    took_part = (
        Exists(Attendance.objects.filter(talk_id=talk.pk, registration=OuterRef("pk")))
        | Exists(chat_messages.filter(registration=OuterRef("pk")))
        | Exists(asked.filter(registration=OuterRef("pk")))
    )
    registrations = Registration.objects.filter(took_part).select_related("physician__prefecture__region")

    rows: list[dict[str, Any]] = []
    for registration in registrations:
        physician = registration.physician
        prefecture = physician.prefecture
        own = intervals.get(registration.pk, [])
        still_open = any(left_at is None for _joined, left_at in own)
        rows.append(
            {
                "registration_id": registration.pk,
                "full_name": physician.full_name,
                "name_kana": physician.name_kana,
                "email": physician.email,
                "facility_name": physician.facility_name,
                "facility_type": physician.facility_type,
                "specialty": physician.specialty,
                "prefecture_code": prefecture.code,
                "prefecture": prefecture.name_ja,
                "region": prefecture.region.name_ja,
                "underserved_prefecture": prefecture.is_underserved,
                "first_joined_at": min((joined for joined, _left in own), default=None),
                "last_left_at": None if still_open else max((left for _joined, left in own if left), default=None),
                "minutes_watched": round(minutes_watched(own, now=until), 1),
                "connections": len(own),
                "chat_messages": chats.get(registration.pk, 0),
                "questions": questions.get(registration.pk, 0),
            }
        )
    rows.sort(key=lambda r: (r["prefecture_code"], r["name_kana"], r["full_name"], r["registration_id"]))
    return rows


def _count_by_registration(queryset: QuerySet[Any]) -> dict[int, int]:
    """``{registration id: number of rows}`` in one GROUP BY query (``order_by()`` keeps the grouping clean)."""
    grouped = queryset.order_by().values("registration_id").annotate(n=Count("pk"))
    return dict(grouped.values_list("registration_id", "n"))
