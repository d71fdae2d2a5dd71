"""Sealing: a finished talk's never-closed connections get the end they were counted until, minutes unchanged."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from rooms.lecture import watch_times
from rooms.lecture.attendance import attendance_rows
from rooms.lecture.connections import close_attendance
from rooms.models import Attendance, ClosedWatchTime, LectureRoom, Stage
from rooms.tasks import seal_finished_attendance
from tests.factories import make_event, make_talk, register

pytestmark = pytest.mark.django_db


def room_for(starts_in: timedelta, minutes: int = 60) -> LectureRoom:
    talk = make_talk(make_event(registration_opens_at=None), starts_in=starts_in, minutes=minutes)
    return LectureRoom.objects.create(talk=talk, key="all", name_ja="全体", name_en="All")


def attend(room: LectureRoom, registration: Any, joined_at: datetime, left_at: datetime | None) -> Attendance:
    return Attendance.objects.create(talk=room.talk, room=room, registration=registration, joined_at=joined_at,
                                     left_at=left_at)


def minutes(room: LectureRoom) -> dict[int, float]:
    """What the 視聴ログ (and the certificates and exports built on it) show, per registration."""
    return {row["registration_id"]: row["minutes_watched"] for row in attendance_rows(room.talk)}


def stored(room: LectureRoom) -> dict[int, int]:
    return dict(ClosedWatchTime.objects.filter(talk=room.talk).values_list("registration_id", "microseconds"))


@pytest.fixture
def ended_room() -> LectureRoom:
    """A talk whose organizer ended its stage a day ago, with one physician's connection never closed."""
    room = room_for(starts_in=-timedelta(days=1, hours=1))
    start = room.talk.starts_at
    Stage.objects.create(talk=room.talk, state=Stage.State.ENDED, went_live_at=start,
                         ended_at=start + timedelta(minutes=50))
    crashed, left = register(room.talk.event), register(room.talk.event)
    attend(room, crashed, start, start + timedelta(minutes=10))
    attend(room, crashed, start + timedelta(minutes=5), None)
    attend(room, left, start, start + timedelta(minutes=20))
    return room


def test_sealing_ends_an_open_connection_where_it_was_counted_until_and_keeps_minutes(ended_room: LectureRoom) -> None:
    before = minutes(ended_room)
    assert watch_times.seal_finished() == 1
    stage = Stage.objects.get(talk=ended_room.talk)
    assert not Attendance.objects.filter(talk=ended_room.talk, left_at__isnull=True).exists()
    assert Attendance.objects.filter(talk=ended_room.talk, left_at=stage.ended_at).count() == 1
    assert minutes(ended_room) == before
    # The dashboard's summary now holds the crashed physician's 50 minutes, merged once, not per request.
    assert sorted(stored(ended_room).values()) == [20 * 60_000_000, 50 * 60_000_000]


def test_sealing_twice_changes_nothing_more(ended_room: LectureRoom) -> None:
    watch_times.seal_finished()
    rows, summary = list(Attendance.objects.order_by("pk").values_list("pk", "left_at")), stored(ended_room)
    assert watch_times.seal_finished() == 0
    assert list(Attendance.objects.order_by("pk").values_list("pk", "left_at")) == rows
    assert stored(ended_room) == summary


def test_a_consumer_closing_after_the_seal_does_not_change_the_minutes(ended_room: LectureRoom) -> None:
    lingering = Attendance.objects.get(talk=ended_room.talk, left_at__isnull=True)
    watch_times.seal_finished()
    before, summary = minutes(ended_room), stored(ended_room)
    close_attendance(lingering.pk)
    lingering.refresh_from_db()
    assert lingering.left_at == Stage.objects.get(talk=ended_room.talk).ended_at
    assert minutes(ended_room) == before and stored(ended_room) == summary


def test_a_connection_opened_after_the_end_is_sealed_empty_not_backwards(ended_room: LectureRoom) -> None:
    late = register(ended_room.talk.event)
    joined = timezone.now() - timedelta(minutes=1)
    row = attend(ended_room, late, joined, None)
    before = minutes(ended_room)
    watch_times.seal_finished()
    row.refresh_from_db()
    assert row.left_at == joined
    assert minutes(ended_room) == before


def test_talks_not_ended_for_good_are_left_open() -> None:
    live = room_for(starts_in=-timedelta(days=1))
    Stage.objects.create(talk=live.talk, state=Stage.State.LIVE, went_live_at=live.talk.starts_at)
    just_over = room_for(starts_in=-timedelta(hours=2))  # never went live, may still start late
    running = room_for(starts_in=-timedelta(minutes=10))
    for room in (live, just_over, running):
        attend(room, register(room.talk.event), room.talk.starts_at, None)
    assert watch_times.seal_finished() == 0
    assert Attendance.objects.filter(left_at__isnull=True).count() == 3


def test_a_talk_that_never_went_live_is_sealed_at_its_scheduled_end_after_the_grace() -> None:
    room = room_for(starts_in=-(watch_times.SEAL_GRACE + timedelta(hours=2)))
    row = attend(room, register(room.talk.event), room.talk.starts_at, None)
    before = minutes(room)
    assert seal_finished_attendance.apply().get() == 1
    row.refresh_from_db()
    assert row.left_at == room.talk.ends_at
    assert minutes(room) == before
