"""ClosedWatchTime: every writer of the viewing log keeps each physician's closed minutes per talk in line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rooms.lecture import watch_times
from rooms.lecture.attendance import watched
from rooms.lecture.connections import close_attendance
from rooms.models import Attendance, ClosedWatchTime, LectureRoom
from tests.factories import make_event, make_talk, register

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def room() -> LectureRoom:
    talk = make_talk(make_event(registration_opens_at=None))
    return LectureRoom.objects.create(talk=talk, key="all", name_ja="全体", name_en="All")


def minutes_stored(room: LectureRoom, registration: Any) -> float | None:
    row = ClosedWatchTime.objects.filter(talk=room.talk, registration=registration).first()
    return None if row is None else row.microseconds / 60_000_000


def attend(room: LectureRoom, registration: Any, start: float, end: float | None) -> Attendance:
    return Attendance.objects.create(talk=room.talk, room=room, registration=registration, joined_at=at(start),
                                     left_at=None if end is None else at(end))


def test_two_overlapping_tabs_are_stored_as_their_union(room: LectureRoom) -> None:
    physician = register(room.talk.event)
    attend(room, physician, 0, 8)
    attend(room, physician, 5, 12)
    assert minutes_stored(room, physician) == 12


def test_a_connection_opening_writes_nothing_more(room: LectureRoom, django_assert_num_queries: Any) -> None:
    physician = register(room.talk.event)
    with django_assert_num_queries(1):  # the INSERT of the attendance row, nothing for the summary
        attend(room, physician, 0, None)
    assert minutes_stored(room, physician) is None


def test_closing_a_connection_stores_its_minutes(room: LectureRoom) -> None:
    physician = register(room.talk.event)
    attend(room, physician, 0, 30)
    still_open = Attendance.objects.create(talk=room.talk, room=room, registration=physician,
                                           joined_at=datetime.now(UTC) - timedelta(minutes=5))
    assert minutes_stored(room, physician) == 30
    close_attendance(still_open.pk)
    assert minutes_stored(room, physician) == pytest.approx(35, abs=0.1)
    close_attendance(still_open.pk)  # closing twice changes nothing
    assert minutes_stored(room, physician) == pytest.approx(35, abs=0.1)


def test_refreshing_many_physicians_at_once_goes_chunk_by_chunk(room: LectureRoom,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(watch_times, "CHUNK", 2)
    people = [register(room.talk.event) for _ in range(5)]
    for n, physician in enumerate(people):
        Attendance.objects.bulk_create([Attendance(talk=room.talk, room=room, registration=physician,
                                                   joined_at=at(0), left_at=at(n + 1))])  # no signal: bulk
    assert not ClosedWatchTime.objects.exists()
    watch_times.refresh(room.talk.pk, [p.pk for p in people])
    assert [minutes_stored(room, p) for p in people] == [1, 2, 3, 4, 5]


def test_a_physician_without_closed_connections_has_no_row_after_a_refresh(room: LectureRoom) -> None:
    physician = register(room.talk.event)
    attend(room, physician, 0, 10)
    Attendance.objects.filter(registration=physician).update(left_at=None)
    watch_times.refresh(room.talk.pk, [physician.pk])
    assert minutes_stored(room, physician) is None


def test_rebuilding_a_talk_gives_what_the_writers_kept(room: LectureRoom) -> None:
    people = [register(room.talk.event) for _ in range(3)]
    for n, physician in enumerate(people):
        attend(room, physician, 0, 10 + n)
        attend(room, physician, 5 + n, 20)
        attend(room, physician, 40, None)
    kept = sorted(ClosedWatchTime.objects.values_list("registration_id", "microseconds"))
    ClosedWatchTime.objects.all().delete()
    assert watch_times.rebuild([room.talk.pk]) == 3
    assert sorted(ClosedWatchTime.objects.values_list("registration_id", "microseconds")) == kept


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spans=st.lists(st.tuples(st.integers(0, 120), st.integers(-5, 90), st.booleans()), min_size=1, max_size=6))
def test_the_stored_minutes_are_always_the_union_of_the_closed_connections(
        room: LectureRoom, spans: list[tuple[int, int, bool]]) -> None:
    ClosedWatchTime.objects.all().delete()
    Attendance.objects.all().delete()
    physician = register(room.talk.event)
    rows = [attend(room, physician, start, None if later else start + length) for start, length, later in spans]
    # The ones left open close afterwards, one by one, as their sockets go.
    for row in rows:
        if row.left_at is None:
            close_attendance(row.pk)
    closed = [(row.joined_at, row.left_at) for row in Attendance.objects.filter(registration=physician)]
    expected = watched(closed) / timedelta(microseconds=1)
    assert ClosedWatchTime.objects.get(registration=physician).microseconds == expected
