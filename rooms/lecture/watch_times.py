"""ClosedWatchTime, the per-(registration, talk) length of the union of closed connections, kept in line with Attendance.

One function recomputes it from the rows, with rooms.lecture.attendance.watched() —
the same union the 視聴ログ and the certificates use — so the summary cannot
count minutes differently from them. It is called by every writer of
Attendance (see ClosedWatchTime) and, over whole talks, by the migration that
created the table and by the dashboard benchmark after seeding with SQL.

Rule (sealing): once a talk has ended for good, its still-open connections
(a crashed server process never recorded their close) are sealed by
``seal_finished()`` (run by beat): ``left_at`` becomes exactly the moment they
were counted until (rooms.lecture.attendance.open_until), so minutes watched stay the
same in the 視聴ログ, certificates, exports and dashboard, and the dashboard has
no open rows left to merge for that talk. A talk has ended for good when its
stage was ended (an ended stage cannot go live again), or, when its stage
never went live, ``SEAL_GRACE`` after its scheduled end (a late start is
still possible before that). A consumer still connected when its row is
sealed closes harmlessly later: every closing writer only updates rows whose
``left_at`` is NULL, so a sealed row keeps its end and nothing counts twice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from itertools import groupby
from operator import itemgetter
from typing import Any

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.signals import post_save
from django.utils import timezone

from events.models import Talk

from .attendance import open_until, watched
from .models import Attendance, ClosedWatchTime, Stage

MICROSECOND = timedelta(microseconds=1)
BATCH = 5000
# Registrations per query: well inside SQLite's limit on parameters.
CHUNK = 1000
# How long after its scheduled end a talk whose stage never went live may still start late.
SEAL_GRACE = timedelta(hours=6)


def refresh(talk_id: int, registration_ids: Iterable[int]) -> None:
    """Recompute the closed watch time of these registrations in one talk.

    Two queries per thousand registrations (three when a pair lost its last
    closed row): a reception opening closes everybody's connection at once.
    """
    ids = sorted(set(registration_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        rows = (Attendance.objects.filter(talk_id=talk_id, registration_id__in=chunk, left_at__isnull=False)
                .values_list("registration_id", "joined_at", "left_at"))
        _store(ClosedWatchTime, talk_id, chunk, _totals(rows))


def rebuild(talk_ids: Iterable[int], attendance_model: Any = Attendance,
            summary_model: Any = ClosedWatchTime) -> int:
    """Recompute every pair of these talks from scratch, streaming the rows; returns the pairs stored.

    Takes the model classes so that a data migration can pass its historical models.
    """
    stored = 0
    for talk_id in talk_ids:
        summary_model.objects.filter(talk_id=talk_id).delete()
        rows = (attendance_model.objects.filter(talk_id=talk_id, left_at__isnull=False)
                .order_by("registration_id").values_list("registration_id", "joined_at", "left_at"))
        batch: list[Any] = []
        # Sorted by registration: one physician's intervals at a time, not the talk's million in memory.
        for registration_id, own in groupby(rows.iterator(chunk_size=BATCH), key=itemgetter(0)):
            total = watched((joined_at, left_at) for _id, joined_at, left_at in own)
            batch.append(summary_model(talk_id=talk_id, registration_id=registration_id,
                                       microseconds=total // MICROSECOND))
            if len(batch) >= BATCH:
                summary_model.objects.bulk_create(batch)
                stored += len(batch)
                batch = []
        summary_model.objects.bulk_create(batch)
        stored += len(batch)
    return stored


def sealable_talks(now: datetime | None = None) -> list[Talk]:
    """Talks that have ended for good and still have open connections (see the module's sealing rule)."""
    now = now or timezone.now()
    still_open = Attendance.objects.filter(talk_id=OuterRef("pk"), left_at__isnull=True)
    ended = Q(stage__state=Stage.State.ENDED, stage__ended_at__isnull=False)
    never_live = (Q(stage__isnull=True) | Q(stage__state=Stage.State.SCHEDULED)) & Q(ends_at__lte=now - SEAL_GRACE)
    return list(Talk.objects.filter(ended | never_live).filter(Exists(still_open)))


def seal(talk: Talk, now: datetime | None = None) -> int:
    """Close ``talk``'s open connections where they stop counting; returns the registrations refreshed.

    The caller checks that the talk has ended for good (``sealable_talks``).
    A connection opened after that moment covers no time: it ends where it
    began, never before (a negative interval in the 視聴ログ would puzzle).
    """
    stage = Stage.objects.filter(talk_id=talk.pk).first()
    until = open_until(talk, now, stage)
    rows = list(Attendance.objects.filter(talk_id=talk.pk, left_at__isnull=True)
                .values_list("pk", "registration_id", "joined_at"))
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start:start + CHUNK]
        with transaction.atomic():
            # left_at__isnull again: a consumer that closed its row meanwhile keeps its own end.
            chunk_open = Attendance.objects.filter(pk__in=[pk for pk, _r, _j in chunk], left_at__isnull=True)
            chunk_open.filter(joined_at__lt=until).update(left_at=until)
            chunk_open.update(left_at=F("joined_at"))
            refresh(talk.pk, [registration_id for _pk, registration_id, _j in chunk])
    return len({registration_id for _pk, registration_id, _j in rows})


def seal_finished(now: datetime | None = None) -> int:
    """Seal every talk that has ended for good; returns the talks sealed. Safe to repeat."""
    talks = sealable_talks(now)
    for talk in talks:
        seal(talk, now)
    return len(talks)


def _totals(rows: Iterable[tuple[int, datetime, datetime]]) -> dict[int, timedelta]:
    intervals: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for registration_id, joined_at, left_at in rows:
        intervals[registration_id].append((joined_at, left_at))
    # Every interval is closed, so watched()'s "now" is never used.
    return {registration_id: watched(own) for registration_id, own in intervals.items()}


def _store(summary_model: Any, talk_id: int, ids: list[int], totals: dict[int, timedelta]) -> None:
    with transaction.atomic():
        gone = [registration_id for registration_id in ids if registration_id not in totals]
        if gone:
            summary_model.objects.filter(talk_id=talk_id, registration_id__in=gone).delete()
        summary_model.objects.bulk_create(
            [summary_model(talk_id=talk_id, registration_id=registration_id, microseconds=total // MICROSECOND)
             for registration_id, total in totals.items()],
            update_conflicts=True, unique_fields=["talk", "registration"], update_fields=["microseconds"],
        )


def _saved(sender: Any, instance: Attendance, created: bool, raw: bool = False, **kwargs: Any) -> None:
    # A connection opening (the join path) adds no closed interval: no query.
    if raw or (created and instance.left_at is None):
        return
    refresh(instance.talk_id, [instance.registration_id])


def connect() -> None:
    post_save.connect(_saved, sender=Attendance, dispatch_uid="rooms.lecture.watch_times")
