"""Timed room work: open the reception at the talk's end time when nobody ended the talk; seal finished talks."""

from __future__ import annotations

from datetime import datetime, timedelta

from celery import shared_task
from django.utils import timezone

from events.models import Talk

from .lecture import watch_times
from .reception import media
from .reception.opening import open_reception

# A talk that ended longer ago than this had its chance: no reception opens for an empty house.
LATE_LIMIT = timedelta(minutes=30)


def due_talks(now: datetime | None = None) -> list[Talk]:
    now = now or timezone.now()
    return list(
        Talk.objects.filter(ends_at__lte=now, ends_at__gt=now - LATE_LIMIT)
        .exclude(reception__enabled=False)
        .exclude(reception__opened_at__isnull=False)
    )


@shared_task
def open_due_receptions() -> int:
    """Run every minute by beat: open each due reception (the verb moves its attendees after the commit)."""
    return sum(open_reception(talk) is not None for talk in due_talks())


@shared_task
def seal_finished_attendance() -> int:
    """Run by beat: close the connections of talks that have ended for good (rooms.lecture.watch_times' sealing rule)."""
    return watch_times.seal_finished()


@shared_task
def sync_media() -> int:
    """Run by beat: Janus's rooms and tokens follow the database (rooms.reception.media.sync_all)."""
    return media.sync_all()
