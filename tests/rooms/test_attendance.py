"""The attendance log (視聴ログ): minutes watched as a union of connections, the rows, and the CSV download."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from tests.rooms.scenes import as_physician
from events.models import Registration, Talk
from regions.models import Prefecture
from rooms.lecture.attendance import (
    attendance_rows,
    merge_intervals,
    minutes_watched,
    open_until,
)
from rooms.lecture.chat import post_message
from rooms.lecture.exports import COLUMNS
from rooms.lecture.questions import ask_question
from rooms.lecture.rooms import room_for
from rooms.models import Attendance, ChatMessage, LectureRoom, Stage
from rooms.participants import Participant
from tests.factories import make_event, make_staff, make_talk, register

T0 = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)  # 19:00 in Japan


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def span(start: float, end: float | None) -> tuple[datetime, datetime | None]:
    return at(start), (at(end) if end is not None else None)




# --- merge_intervals and minutes_watched: pure, no database ---------------------------------------


def test_overlapping_tabs_count_once():
    assert merge_intervals([span(0, 30), span(10, 40)]) == [(at(0), at(40))]
    assert minutes_watched([span(0, 30), span(10, 40)]) == 40


def test_a_nested_interval_adds_nothing():
    assert merge_intervals([span(0, 60), span(15, 20)]) == [(at(0), at(60))]
    assert minutes_watched([span(0, 60), span(15, 20)]) == 60


def test_the_gap_of_a_reconnect_is_not_counted():
    assert merge_intervals([span(0, 20), span(25, 50)]) == [(at(0), at(20)), (at(25), at(50))]
    assert minutes_watched([span(0, 20), span(25, 50)]) == 45


def test_a_reconnect_at_the_same_instant_is_one_stay():
    assert merge_intervals([span(0, 20), span(20, 50)]) == [(at(0), at(50))]


def test_unsorted_input_gives_the_same_union():
    shuffled = [span(40, 45), span(0, 10), span(5, 15), span(44, 50)]
    assert merge_intervals(shuffled) == [(at(0), at(15)), (at(40), at(50))]
    assert minutes_watched(shuffled) == 25


def test_zero_length_and_backwards_intervals_cover_nothing():
    assert merge_intervals([span(5, 5)]) == []
    assert merge_intervals([span(10, 5)]) == []
    assert minutes_watched([span(5, 5), span(10, 5)]) == 0
    assert minutes_watched([]) == 0
    assert minutes_watched([span(0, 10), span(3, 3)]) == 10


def test_an_open_interval_counts_up_to_now():
    assert minutes_watched([span(0, None)], now=at(25)) == 25
    # Another tab still open swallows the closed one it overlaps.
    assert minutes_watched([span(0, 10), span(5, None)], now=at(30)) == 30
    # Opened after "now" (a talk's end, say): nothing.
    assert minutes_watched([span(40, None)], now=at(30)) == 0


def test_now_defaults_to_the_current_time():
    joined = timezone.now() - timedelta(minutes=5)
    assert 5 <= minutes_watched([(joined, None)]) < 5.5


def test_minutes_are_fractional():
    assert minutes_watched([(T0, T0 + timedelta(seconds=90))]) == 1.5


# --- properties -----------------------------------------------------------------------------------

offsets = st.integers(min_value=0, max_value=24 * 3600 * 1_000_000)  # microseconds into a day
lengths = st.integers(min_value=0, max_value=3 * 3600 * 1_000_000)
intervals_strategy = st.lists(
    st.tuples(offsets, lengths).map(
        lambda t: (T0 + timedelta(microseconds=t[0]), T0 + timedelta(microseconds=t[0] + t[1]))
    ),
    max_size=30,
)


def length(interval: tuple[datetime, datetime]) -> float:
    return (interval[1] - interval[0]).total_seconds() / 60


@given(intervals_strategy)
def test_the_union_is_never_more_than_the_sum(intervals):
    assert minutes_watched(intervals) <= sum((e - s for s, e in intervals), timedelta()).total_seconds() / 60


@given(intervals_strategy.filter(bool))
def test_the_union_is_never_less_than_the_longest_interval(intervals):
    assert minutes_watched(intervals) >= max(length(i) for i in intervals)


@given(st.data())
def test_the_union_does_not_depend_on_the_order(data):
    intervals = data.draw(intervals_strategy)
    shuffled = data.draw(st.permutations(intervals))
    assert merge_intervals(shuffled) == merge_intervals(intervals)
    assert minutes_watched(shuffled) == minutes_watched(intervals)


@given(intervals_strategy)
def test_the_merged_intervals_are_sorted_disjoint_and_stable(intervals):
    merged = merge_intervals(intervals)
    assert all(s < e for s, e in merged)
    assert all(a[1] < b[0] for a, b in pairwise(merged))
    assert merge_intervals(merged) == merged
    # Every instant an input covers is covered by the union.
    for s, e in intervals:
        if e > s:
            assert any(ms <= s and e <= me for ms, me in merged)


# --- where an open connection stops counting -------------------------------------------------------


@pytest.mark.django_db
def test_open_connections_stop_counting_when_the_talk_ends():
    talk = make_talk(make_event(), starts_at=at(0), ends_at=at(60))
    # No stage yet (never went live): the scheduled end, once it has passed.
    assert open_until(talk, now=at(30)) == at(30)
    assert open_until(talk, now=at(90)) == at(60)
    stage = Stage.objects.create(talk=talk, state=Stage.State.LIVE, went_live_at=at(0))
    # Live and overrunning: still counting.
    assert open_until(talk, now=at(75), stage=stage) == at(75)
    stage.state, stage.ended_at = Stage.State.ENDED, at(80)
    assert open_until(talk, now=at(200), stage=stage) == at(80)


# --- attendance_rows --------------------------------------------------------------------------------


def participant(registration: Registration) -> Participant:
    physician = registration.physician
    return Participant(
        role="attendee", registration=registration,
        author={"name": physician.full_name, "facility_type": physician.facility_type,
                "prefecture": physician.prefecture_id, "role": "attendee"},
        prefecture_code=physician.prefecture_id,
    )


def attend(talk: Talk, room: LectureRoom, registration: Registration, start: float, end: float | None) -> None:
    Attendance.objects.create(
        talk=talk, registration=registration, room=room, joined_at=at(start), left_at=at(end) if end is not None else None
    )


@pytest.fixture
def scene() -> dict[str, Any]:
    organizer = make_staff("org", "organizer")
    other_organizer = make_staff("other", "organizer")
    event = make_event(title="東北 肺がん Web講演会")
    event.organizers.add(organizer)
    other_event = make_event(title="別の講演会")
    other_event.organizers.add(other_organizer)
    talk = make_talk(event, title="ドライバー遺伝子と治療選択", starts_at=at(0), ends_at=at(60))
    other_talk = make_talk(event, title="次の講演", starts_at=at(70), ends_at=at(130))
    Stage.objects.create(talk=talk, state=Stage.State.ENDED, went_live_at=at(0), ended_at=at(65))
    iwate = register(event, full_name="岩手 太郎", name_kana="いわて たろう", prefecture=Prefecture.objects.get(code="03"))
    aomori = register(event, full_name="青森 花子", name_kana="あおもり はなこ", prefecture=Prefecture.objects.get(code="02"))
    akita = register(event, full_name="秋田 次郎", name_kana="あきた じろう", prefecture=Prefecture.objects.get(code="05"))
    absent = register(event, full_name="欠席 三郎", name_kana="けっせき さぶろう")
    room = room_for(talk, "all")
    other_room = room_for(other_talk, "all")
    return {
        "organizer": organizer, "other_organizer": other_organizer, "event": event, "talk": talk,
        "other_talk": other_talk, "iwate": iwate, "aomori": aomori, "akita": akita, "absent": absent,
        "room": room, "other_room": other_room,
    }


@pytest.mark.django_db
def test_rows_merge_each_physicians_connections_and_count_what_they_did(scene):
    talk, room, iwate, aomori = scene["talk"], scene["room"], scene["iwate"], scene["aomori"]
    # 岩手: two tabs (0-30, 10-40), then a reconnect after a gap (45-55).
    attend(talk, room, iwate, 0, 30)
    attend(talk, room, iwate, 10, 40)
    attend(talk, room, iwate, 45, 55)
    # 青森: one connection whose close was never recorded: counts until the stage ended (65).
    attend(talk, room, aomori, 20, None)
    # The next talk's attendance is not this talk's.
    attend(scene["other_talk"], scene["other_room"], iwate, 70, 130)

    you, her = participant(iwate), participant(aomori)
    for body in ("よろしくお願いします", "ありがとうございました"):
        post_message(room, you, body)
    removed = post_message(room, you, "宣伝です")
    ChatMessage.objects.filter(pk=removed.pk).update(deleted_at=timezone.now())
    post_message(room, her, "質問があります")
    ask_question(talk, room, you, "EGFR 陰性の場合は?")
    ask_question(talk, room, you, "高齢者では?")
    ask_question(talk, room, her, "費用は?")
    # Staff messages have no registration; other talks' messages and questions are not counted here.
    organizer = Participant(role="organizer", user=scene["organizer"], author={"name": "主催"})
    post_message(room, organizer, "まもなく開始します")
    post_message(scene["other_room"], you, "次の講演でも")
    ask_question(scene["other_talk"], scene["other_room"], you, "別の講演への質問")

    rows = attendance_rows(talk, now=at(24 * 60))
    assert [r["full_name"] for r in rows] == ["青森 花子", "岩手 太郎"]  # prefecture 02 before 03; no absentee
    by_name = {r["full_name"]: r for r in rows}

    mine = by_name["岩手 太郎"]
    assert mine["first_joined_at"] == at(0)
    assert mine["last_left_at"] == at(55)
    assert mine["minutes_watched"] == 50.0
    assert mine["connections"] == 3
    assert mine["chat_messages"] == 2
    assert mine["questions"] == 2
    assert mine["prefecture_code"] == "03"
    assert mine["prefecture"] == "岩手県"
    assert mine["region"] == "東北"
    assert mine["email"] == iwate.physician.email
    assert mine["facility_type"] == "clinic"

    hers = by_name["青森 花子"]
    assert hers["first_joined_at"] == at(20)
    assert hers["last_left_at"] is None
    assert hers["minutes_watched"] == 45.0
    assert hers["connections"] == 1
    assert hers["chat_messages"] == 1
    assert hers["questions"] == 1


@pytest.mark.django_db
def test_an_open_connection_counts_until_now_while_the_talk_is_live(scene):
    talk, room, akita = scene["talk"], scene["room"], scene["akita"]
    Stage.objects.filter(talk=talk).update(state=Stage.State.LIVE, ended_at=None)
    attend(talk, room, akita, 10, None)
    attend(talk, room, akita, 12, 20)
    # Past the scheduled end, but the stage is still live: the minutes keep counting.
    (row,) = attendance_rows(talk, now=at(70) + timedelta(seconds=20))
    assert row["minutes_watched"] == 60.3  # 60 min 20 s, to one decimal
    assert row["last_left_at"] is None
    assert row["connections"] == 2


@pytest.mark.django_db
def test_rows_are_ordered_by_prefecture_then_kana(scene):
    talk, room, event = scene["talk"], scene["room"], scene["event"]
    iwate = Prefecture.objects.get(code="03")
    # In code-point order 渡 comes before 阿; in 五十音 order あべ comes before わたなべ.
    later = register(event, full_name="渡辺 一郎", name_kana="わたなべ いちろう", prefecture=iwate)
    sooner = register(event, full_name="阿部 一郎", name_kana="あべ いちろう", prefecture=iwate)
    for registration in (later, scene["akita"], sooner, scene["iwate"]):
        attend(talk, room, registration, 0, 10)
    names = [(r["prefecture_code"], r["name_kana"]) for r in attendance_rows(talk, now=at(100))]
    assert names == [("03", "あべ いちろう"), ("03", "いわて たろう"), ("03", "わたなべ いちろう"), ("05", "あきた じろう")]


@pytest.mark.django_db
def test_someone_who_only_chatted_is_listed_with_no_minutes(scene):
    talk, room, akita = scene["talk"], scene["room"], scene["akita"]
    ask_question(talk, room, participant(akita), "資料はいただけますか")
    (row,) = attendance_rows(talk, now=at(100))
    assert (row["full_name"], row["minutes_watched"], row["connections"], row["questions"]) == ("秋田 次郎", 0, 0, 1)
    assert row["first_joined_at"] is None and row["last_left_at"] is None


@pytest.mark.django_db
def test_the_number_of_queries_does_not_grow_with_the_audience(scene, django_assert_num_queries):
    talk, room, event = scene["talk"], scene["room"], scene["event"]
    attend(talk, room, scene["iwate"], 0, 10)
    with django_assert_num_queries(5):
        assert len(attendance_rows(talk, now=at(100))) == 1
    for n in range(12):
        registration = register(event, full_name=f"医師 {n}")
        attend(talk, room, registration, n, n + 5)
        post_message(room, participant(registration), "こんにちは")
        ask_question(talk, room, participant(registration), "質問")
    with django_assert_num_queries(5):
        assert len(attendance_rows(talk, now=at(100))) == 13


# --- the CSV download --------------------------------------------------------------------------------


def url(talk: Talk) -> str:
    return f"/talks/{talk.pk}/attendance.csv"


def read_csv(response) -> tuple[str, list[list[str]]]:
    text = response.content.decode("utf-8")
    return text, list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


@pytest.mark.django_db
def test_the_events_organizer_downloads_the_csv(client, scene):
    talk, room, iwate = scene["talk"], scene["room"], scene["iwate"]
    attend(talk, room, iwate, 0, 30)
    attend(talk, room, iwate, 10, 40.5)
    post_message(room, participant(iwate), "よろしくお願いします")
    client.force_login(scene["organizer"])
    response = client.get(url(talk))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="attendance-talk-{talk.pk}.csv"'
    text, rows = read_csv(response)
    assert text.startswith("\ufeff")
    assert rows[0] == COLUMNS == [
        "full_name", "name_kana", "email", "facility_name", "facility_type", "specialty", "prefecture_code",
        "prefecture", "region", "underserved_prefecture", "first_joined_at", "last_left_at", "minutes_watched",
        "connections", "chat_messages", "questions",
    ]
    assert len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["full_name"] == "岩手 太郎"
    assert row["email"] == iwate.physician.email
    assert row["prefecture_code"] == "03"
    assert row["prefecture"] == "岩手県"
    assert row["region"] == "東北"
    assert row["underserved_prefecture"] == "yes"  # 岩手 is a physician-shortage prefecture
    assert row["first_joined_at"] == "2025-06-01T19:00:00+09:00"  # Japan time, like the registrations export
    assert row["last_left_at"] == "2025-06-01T19:40:30+09:00"
    assert row["minutes_watched"] == "40.5"
    assert (row["connections"], row["chat_messages"], row["questions"]) == ("2", "1", "0")


@pytest.mark.django_db
def test_user_typed_cells_that_look_like_formulas_are_defused(client, scene):
    talk, room = scene["talk"], scene["room"]
    sneaky = register(
        scene["event"], full_name="=HYPERLINK(\"http://evil.example\",\"x\")", name_kana="+1+1",
        facility_name="@SUM(A1:A9)", email="-2+3@clinic.example.jp",
    )
    attend(talk, room, sneaky, 0, 10)
    client.force_login(scene["organizer"])
    _text, rows = read_csv(client.get(url(talk)))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["full_name"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert row["name_kana"] == "'+1+1"
    assert row["facility_name"] == "'@SUM(A1:A9)"
    assert row["email"] == "'-2+3@clinic.example.jp"


@pytest.mark.django_db
def test_a_facility_name_starting_with_a_tab_is_defused_too(client, scene):
    # A tab or carriage return first is read as the start of a formula by some spreadsheets (OWASP).
    talk, room = scene["talk"], scene["room"]
    attend(talk, room, register(scene["event"], facility_name="\t=1+1 クリニック"), 0, 10)
    client.force_login(scene["organizer"])
    _text, rows = read_csv(client.get(url(talk)))
    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["facility_name"] == "'\t=1+1 クリニック"


@pytest.mark.django_db
def test_an_organizer_of_another_event_is_refused(client, scene):
    attend(scene["talk"], scene["room"], scene["iwate"], 0, 10)
    client.force_login(scene["other_organizer"])
    response = client.get(url(scene["talk"]))
    assert response.status_code == 404  # as if there were no such talk
    assert "岩手".encode() not in response.content


@pytest.mark.django_db
def test_a_speaker_of_the_talk_is_refused(client, scene):
    speaker = make_staff("spk", "speaker")
    scene["talk"].speakers.add(speaker)
    client.force_login(speaker)
    assert client.get(url(scene["talk"])).status_code == 403


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_admin_sign_in(client, scene):
    response = client.get(url(scene["talk"]))
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next=/talks/{scene['talk'].pk}/attendance.csv"
    # Before sign-in a missing talk looks the same as an existing one.
    assert client.get("/talks/999999/attendance.csv").status_code == 302


@pytest.mark.django_db
def test_a_physician_admitted_by_join_link_is_refused(client, scene):
    as_physician(client, scene["iwate"])
    response = client.get(url(scene["talk"]))
    assert response.status_code == 403


@pytest.mark.django_db
def test_a_missing_talk_is_404_for_an_organizer_and_post_is_not_allowed(client, scene):
    client.force_login(scene["organizer"])
    assert client.get("/talks/999999/attendance.csv").status_code == 404
    assert client.post(url(scene["talk"])).status_code == 405
