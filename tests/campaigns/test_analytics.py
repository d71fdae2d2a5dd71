"""The regional dashboard's funnel, counted in SQL, against numbers worked out by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns import analytics
from campaigns.analytics import DEFAULT_MIN_MINUTES, FunnelRow, event_dashboard, physicians_in, reach_per_1000
from events.models import Registration
from regions.models import Prefecture
from rooms.lecture.attendance import minutes_watched
from rooms.models import Attendance, CardExchange, LectureRoom, Seat
from tests.factories import make_event, make_talk, register

pytestmark = pytest.mark.django_db

# Talk A ran 13:00–14:00 UTC, talk B 15:00–16:00, both well before NOW.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
A_START = datetime(2026, 11, 10, 13, 0, tzinfo=UTC)
B_START = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)


def at(start: datetime, minutes: float) -> datetime:
    return start + timedelta(minutes=minutes)


def pref(code: str) -> Prefecture:
    return Prefecture.objects.get(code=code)


@pytest.fixture
def scene() -> dict[str, Any]:
    """Seven physicians of one event; what each did is written beside them (threshold 10 minutes).

    Iwate (03, shortage): three registered; two attended, both sat at a table and exchanged cards.
    Tokyo (13): two counted (a third cancelled); both attended, one sat down, no card accepted.
    Aomori (02, shortage): one registered, never came.
    """
    event = make_event(registration_opens_at=None)
    talk_a = make_talk(event, starts_at=A_START, ends_at=at(A_START, 60))
    talk_b = make_talk(event, starts_at=B_START, ends_at=at(B_START, 60))
    room_a = LectureRoom.objects.create(talk=talk_a, key="all", name_ja="全体", name_en="All")
    room_b = LectureRoom.objects.create(talk=talk_b, key="all", name_ja="全体", name_en="All")
    table = LectureRoom.objects.create(talk=talk_a, key="t1", kind=LectureRoom.Kind.SOCIAL, name_ja="1", name_en="1")

    def attend(registration: Registration, room: LectureRoom, start: datetime, a: float, b: float | None) -> None:
        Attendance.objects.create(talk=room.talk, room=room, registration=registration, joined_at=at(start, a),
                                  left_at=None if b is None else at(start, b))

    iwate = [register(event, prefecture=pref("03")) for _ in range(3)]
    tokyo = [register(event, prefecture=pref("13")) for _ in range(3)]
    aomori = register(event, prefecture=pref("02"))

    # Iwate 1: two tabs overlapping, 0–8 and 5–12: 12 minutes, not 15.
    attend(iwate[0], room_a, A_START, 0, 8)
    attend(iwate[0], room_a, A_START, 5, 12)
    # Iwate 2: 4 minutes of talk A and 7 of talk B: 11 over the event.
    attend(iwate[1], room_a, A_START, 0, 4)
    attend(iwate[1], room_b, B_START, 0, 7)
    # Iwate 3: 9 minutes, and sat at a table anyway: below the threshold, so not in the funnel past "registered".
    attend(iwate[2], room_a, A_START, 0, 9)
    # Tokyo 1: joined 15 minutes before the end and the close was never recorded: counts until the talk's end.
    attend(tokyo[0], room_a, A_START, 45, None)
    # Tokyo 2: 30 minutes, sat down, offered a card that was declined.
    attend(tokyo[1], room_a, A_START, 0, 30)
    # Tokyo 3 watched the whole talk but cancelled: counted nowhere.
    attend(tokyo[2], room_a, A_START, 0, 60)
    Registration.objects.filter(pk=tokyo[2].pk).update(status=Registration.Status.CANCELLED)
    # A zero-length and a backwards interval cover nothing.
    attend(aomori, room_a, A_START, 20, 20)
    attend(aomori, room_a, A_START, 30, 25)

    for registration in (iwate[0], iwate[1], iwate[2], tokyo[1]):
        Seat.objects.create(room=table, registration=registration, joined_at=at(A_START, 61))
    CardExchange.objects.create(talk=talk_a, room=table, offered_by=iwate[0], offered_to=iwate[1],
                                state=CardExchange.State.ACCEPTED)
    CardExchange.objects.create(talk=talk_a, room=table, offered_by=tokyo[1], offered_to=iwate[2],
                                state=CardExchange.State.DECLINED)

    # Somebody else's event in Iwate: never counted here.
    other = make_event(registration_opens_at=None)
    other_talk = make_talk(other, starts_at=A_START, ends_at=at(A_START, 60))
    other_room = LectureRoom.objects.create(talk=other_talk, key="all", name_ja="全体", name_en="All")
    stranger = register(other, prefecture=pref("03"))
    Attendance.objects.create(talk=other_talk, room=other_room, registration=stranger, joined_at=A_START,
                              left_at=at(A_START, 60))
    return {"event": event, "iwate": iwate, "tokyo": tokyo, "aomori": aomori}


def counts(row: FunnelRow) -> tuple[int, int, int, int]:
    return row.registered, row.attended, row.reception, row.cards


def by_key(rows: list[FunnelRow]) -> dict[str, FunnelRow]:
    return {row.key: row for row in rows}


def test_the_funnel_per_prefecture_matches_the_hand_count(scene: dict[str, Any]) -> None:
    prefectures = by_key(event_dashboard(scene["event"], now=NOW).prefectures)
    assert counts(prefectures["03"]) == (3, 2, 2, 1 + 1)
    assert counts(prefectures["13"]) == (2, 2, 1, 0)
    assert counts(prefectures["02"]) == (1, 0, 0, 0)
    assert counts(prefectures["01"]) == (0, 0, 0, 0)
    assert len(prefectures) == 47


def test_regions_and_the_total_add_up_their_prefectures(scene: dict[str, Any]) -> None:
    dashboard = event_dashboard(scene["event"], now=NOW)
    regions = by_key(dashboard.regions)
    assert counts(regions["tohoku"]) == (4, 2, 2, 2)
    assert counts(regions["kanto"]) == (2, 2, 1, 0)
    assert counts(dashboard.total) == (6, 4, 3, 2)
    assert [region.key for region in dashboard.regions][:2] == ["hokkaido", "tohoku"]


def test_each_rate_is_the_stage_over_the_stage_before(scene: dict[str, Any]) -> None:
    total = event_dashboard(scene["event"], now=NOW).total
    assert total.attended_rate == pytest.approx(4 / 6)
    assert total.reception_rate == pytest.approx(3 / 4)
    assert total.cards_rate == pytest.approx(2 / 3)
    assert analytics.as_percent(total.attended_rate) == "66.7%"
    assert by_key(event_dashboard(scene["event"], now=NOW).prefectures)["01"].attended_rate is None


def test_a_higher_threshold_leaves_out_shorter_viewers(scene: dict[str, Any]) -> None:
    prefectures = by_key(event_dashboard(scene["event"], min_minutes=12, now=NOW).prefectures)
    # Iwate 1 watched exactly 12 minutes (counted, with their card); Iwate 2 watched 11 (no longer counted).
    assert counts(prefectures["03"]) == (3, 1, 1, 1)
    assert counts(prefectures["13"]) == (2, 2, 1, 0)
    # One minute lets Iwate 3 (9 minutes) in, and so their seat; their card was declined. Aomori's
    # connections covered no time at all.
    lowest = by_key(event_dashboard(scene["event"], min_minutes=1, now=NOW).prefectures)
    assert counts(lowest["03"]) == (3, 3, 3, 2)
    assert counts(lowest["02"]) == (1, 0, 0, 0)


def test_registrations_per_day_put_shortage_prefectures_beside_the_rest(scene: dict[str, Any]) -> None:
    iwate, tokyo = scene["iwate"], scene["tokyo"]
    day = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)  # 12:00 in Japan
    Registration.objects.filter(pk__in=[iwate[0].pk, tokyo[0].pk]).update(created_at=day)
    Registration.objects.filter(pk__in=[iwate[1].pk, iwate[2].pk, tokyo[1].pk, scene["aomori"].pk]).update(
        created_at=day + timedelta(days=2))
    # 16:00 UTC is already the next day in Japan.
    Registration.objects.filter(pk=tokyo[2].pk).update(created_at=day + timedelta(hours=13))
    daily = event_dashboard(scene["event"], now=NOW).daily
    assert daily == [(date(2026, 11, 1), 1, 1), (date(2026, 11, 2), 0, 0), (date(2026, 11, 3), 3, 1)]


def test_the_dashboard_takes_three_queries_whatever_the_audience(scene: dict[str, Any],
                                                                 django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(3):
        event_dashboard(scene["event"], now=NOW)
    for _ in range(5):
        register(scene["event"], prefecture=pref("05"))
    with django_assert_num_queries(3):
        event_dashboard(scene["event"], now=NOW)


def test_an_event_without_talks_has_registrants_and_nobody_attended() -> None:
    event = make_event(registration_opens_at=None)
    register(event, prefecture=pref("03"))
    assert counts(event_dashboard(event).total) == (1, 0, 0, 0)
    assert DEFAULT_MIN_MINUTES == 10


def test_reach_is_registrants_per_thousand_physicians_of_the_prefecture() -> None:
    iwate = pref("03")
    # 2020 census 1,210,534 people × 223.8 physicians per 100,000 = 2,709.175092 physicians.
    assert iwate.population == 1_210_534
    assert physicians_in(iwate) == pytest.approx(2709.175092)
    assert reach_per_1000(13, physicians_in(iwate)) == pytest.approx(4.7985086)


def test_every_prefecture_has_a_population_so_the_dashboard_shows_reach() -> None:
    event = make_event(registration_opens_at=None)
    register(event, prefecture=pref("03"))
    dashboard = event_dashboard(event)
    assert dashboard.has_reach
    assert all(row.physicians for row in dashboard.prefectures)
    tohoku = next(row for row in dashboard.regions if row.key == "tohoku")
    assert tohoku.physicians == pytest.approx(sum(physicians_in(p) for p in Prefecture.objects.filter(region="tohoku")))
    assert tohoku.reach == pytest.approx(1000 / tohoku.physicians)


def test_without_a_population_there_is_no_reach_rather_than_a_guess() -> None:
    iwate = pref("03")
    iwate.population = None
    assert physicians_in(iwate) is None
    assert reach_per_1000(13, None) is None
    assert FunnelRow(key="03", name_ja="岩手県", name_en="Iwate", registered=13).reach is None


intervals = st.lists(
    st.tuples(st.integers(0, 120), st.integers(-5, 90), st.booleans()), min_size=1, max_size=6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spans=intervals)
def test_sql_minutes_agree_with_the_attendance_log(spans: list[tuple[int, int, bool]]) -> None:
    """The SQL union of intervals says "attended" exactly when rooms.lecture.attendance's Python union reaches the threshold."""
    Registration.objects.all().delete()
    event = make_event(registration_opens_at=None)
    talk = make_talk(event, starts_at=A_START, ends_at=at(A_START, 90))
    room = LectureRoom.objects.create(talk=talk, key="all", name_ja="全体", name_en="All")
    registration = register(event, prefecture=pref("03"))
    rows = []
    for start, length, still_open in spans:
        joined = at(A_START, start)
        left = None if still_open else joined + timedelta(minutes=length)
        rows.append((joined, left))
        Attendance.objects.create(talk=talk, room=room, registration=registration, joined_at=joined, left_at=left)
    watched = minutes_watched(rows, now=talk.ends_at)
    for threshold in (1, 10, 30, 60):
        expected = 1 if watched >= threshold else 0
        assert event_dashboard(event, min_minutes=threshold, now=NOW).total.attended == expected, (threshold, watched)
