"""Timed room work: open the reception at the talk's end time when nobody ended the talk; seal finished talks."""

from __future__ import annotations

from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from celery import shared_task
from channels.layers import get_channel_layer
from django.utils import timezone

from events.models import Talk

from .lecture import watch_times
from .realtime.groups import talk_group
from .realtime.relay import opening_event
from .reception.opening import open_reception, opening_message

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
    """Run every minute by beat: open each due reception and move its attendees, in every server process."""
    opened = 0
    layer = get_channel_layer()
    for talk in due_talks():
        opening = open_reception(talk)
        if opening is None:
            continue
        opened += 1
        async_to_sync(layer.group_send)(talk_group(talk.pk), opening_event(talk.pk, opening_message(opening)))
    return opened


@shared_task
def seal_finished_attendance() -> int:
    """Run by beat: close the connections of talks that have ended for good (rooms.lecture.watch_times' sealing rule)."""
    return watch_times.seal_finished()
