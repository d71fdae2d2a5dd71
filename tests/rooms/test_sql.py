"""The hand-written statements (rooms.sql) give what the ORM gives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from rooms import sql
from rooms.lecture.chat import HISTORY, messages_after, post_message
from rooms.lecture.chat_rules import active_mutes
from rooms.lecture.questions import QUESTIONS, ask_question
from rooms.lecture.rooms import room_for
from rooms.lecture.stage import prefetched_or_created_stage
from rooms.models import Attendance, ChatMessage, LectureRoom, Question, ReceptionTable, Seat, Stage
from rooms.participants import Participant
from tests.factories import make_event, make_talk, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def talk():
    return make_talk(make_event(), starts_in=timedelta(minutes=-5))


def _attendee(talk) -> Participant:
    registration = register(talk.event)
    return Participant(role="attendee", registration=registration, author={"name": "岩手 太郎"},
                       prefecture_code="03")


def test_a_talk_arrives_with_its_event_and_stage_and_needs_no_more_queries(talk, django_assert_num_queries):
    Stage.objects.create(talk=talk, state=Stage.State.LIVE, current_slide=3)
    with django_assert_num_queries(1):
        loaded = sql.talk_with_stage(talk.pk)
        assert loaded.event.slug == talk.event.slug
        assert loaded.stage.current_slide == 3
        assert loaded.stage.talk is loaded
        assert loaded.starts_at == talk.starts_at


def test_a_talk_without_a_stage_gets_one_on_first_use(talk):
    loaded = sql.talk_with_stage(talk.pk)
    assert prefetched_or_created_stage(loaded).state == Stage.State.SCHEDULED


def test_an_unknown_talk_is_does_not_exist():
    from events.models import Talk

    with pytest.raises(Talk.DoesNotExist):
        sql.talk_with_stage(999_999)


def test_history_is_the_last_messages_oldest_first_without_deleted_ones(talk):
    room = room_for(talk, "all")
    person = _attendee(talk)
    for n in range(1, 8):
        post_message(room, person, f"message {n}")
    ChatMessage.objects.filter(room=room, seq=6).update(deleted_at=timezone.now())
    assert [m.seq for m in sql.recent_messages(room.pk, None, limit=3)] == [4, 5, 7]
    assert [m.seq for m in sql.recent_messages(room.pk, before=4, limit=2)] == [2, 3]
    first = sql.recent_messages(room.pk, None, HISTORY)[0]
    orm = ChatMessage.objects.get(room=room, seq=1)
    assert (first.body, first.author, first.sent_at) == (orm.body, orm.author, orm.sent_at)
    assert isinstance(first.author, dict)


def test_questions_come_most_voted_first_then_oldest_first(talk):
    room = room_for(talk, "all")
    person = _attendee(talk)
    asked = [ask_question(talk, room, person, f"question {n}") for n in range(3)]
    Question.objects.filter(pk=asked[2].pk).update(votes=2)
    assert [q.body for q in sql.questions_for(talk.pk, QUESTIONS)] == ["question 2", "question 0", "question 1"]
    assert sql.questions_for(talk.pk, QUESTIONS)[0].author["name"] == "岩手 太郎"


def test_a_room_is_found_by_its_key_or_not_at_all(talk):
    room = room_for(talk, "all")
    assert sql.room_by_key(talk.pk, "all") == room
    assert sql.room_by_key(talk.pk, "03") is None


def _needs_postgresql() -> None:
    if connection.vendor != "postgresql":
        pytest.fail("This test needs PostgreSQL: set DATABASE_URL (run the README's test command).")


def test_taking_the_next_chat_id_writes_the_room_counter(talk):
    room = room_for(talk, "all")
    with transaction.atomic():
        assert [sql.take_next_seq(room.pk) for _ in range(3)] == [1, 2, 3]
    room.refresh_from_db()
    assert room.last_seq == 3


def test_a_compiled_rule_names_each_parameter_after_its_marker():
    markers = sql.chat._MARKERS
    text = sql.named(active_mutes(markers["talk"], markers["registration"], markers["now"]).values("pk"))
    assert all(f"%({name})s" in text for name in ("talk", "registration", "now"))
    assert "%s" not in text


def test_a_rule_built_from_values_other_than_the_markers_is_refused():
    with pytest.raises(ValueError, match="markers"):
        sql.named(active_mutes(1, 2, timezone.now()).values("pk"))


@pytest.mark.services
def test_the_one_statement_chat_write_stores_every_column_as_the_orm_reads_it(talk):
    _needs_postgresql()
    room = room_for(talk, "all")
    person = _attendee(talk)
    now = timezone.now()
    unsaved = ChatMessage(room=room, registration=person.registration, author={"name": "岩手 太郎", "note": "😀"},
                          body="こんにちは", client_id="c-9", sent_at=now)
    with transaction.atomic():
        message = sql.post_chat_checked(talk.pk, unsaved, now - timedelta(seconds=10), 3)
    assert message is not None and message.seq == 1 and not message._state.adding
    stored = ChatMessage.objects.get(pk=message.pk)
    assert (stored.room_id, stored.seq, stored.registration_id, stored.user_id, stored.author, stored.body,
            stored.client_id, stored.sent_at, stored.deleted_at) == (
        room.pk, 1, person.registration.pk, None, {"name": "岩手 太郎", "note": "😀"}, "こんにちは", "c-9", now, None)


@pytest.mark.services
def test_the_one_statement_chat_write_posts_nothing_past_the_limit(talk):
    _needs_postgresql()
    room = room_for(talk, "all")
    person = _attendee(talk)
    now = timezone.now()
    for _ in range(2):
        unsaved = ChatMessage(room=room, registration=person.registration, author={}, body="x", sent_at=now)
        assert sql.post_chat_checked(talk.pk, unsaved, now - timedelta(seconds=10), 2) is not None
    unsaved = ChatMessage(room=room, registration=person.registration, author={}, body="x", sent_at=now)
    assert sql.post_chat_checked(talk.pk, unsaved, now - timedelta(seconds=10), 2) is None
    room.refresh_from_db()
    assert (room.last_seq, ChatMessage.objects.filter(room=room).count()) == (2, 2)


@pytest.mark.services
def test_seats_inserted_as_arrays_are_the_rows_bulk_create_makes(talk):
    _needs_postgresql()
    tables = ReceptionTable.objects.bulk_create(
        [ReceptionTable(talk=talk, key=f"social-{n}", name_ja=str(n), name_en=str(n)) for n in (1, 2)])
    people = [register(talk.event) for _ in range(3)]
    now = timezone.now()
    seats = [Seat(room=tables[n % 2], registration=p, placed=Seat.Placed.ALLOCATED, joined_at=now)
             for n, p in enumerate(people)]
    sql.insert_seats(seats)
    sql.insert_seats(seats[:1])  # one seat: every column the same for all
    Seat.objects.bulk_create([Seat(room=tables[0], registration=people[0], placed=Seat.Placed.LATE, joined_at=now)])
    rows = list(Seat.objects.order_by("id").values_list("room_id", "registration_id", "placed", "joined_at", "left_at"))
    assert rows == [
        (tables[0].pk, people[0].pk, "allocated", now, None),
        (tables[1].pk, people[1].pk, "allocated", now, None),
        (tables[0].pk, people[2].pk, "allocated", now, None),
        (tables[0].pk, people[0].pk, "allocated", now, None),
        (tables[0].pk, people[0].pk, "late", now, None),
    ]


def test_connected_guests_are_the_physicians_in_lecture_rooms_once_each(talk):
    lecture = room_for(talk, "all")
    table = ReceptionTable.objects.create(talk=talk, key="social-1", name_ja="1", name_en="1")
    here, at_table, gone = register(talk.event), register(talk.event), register(talk.event)
    now = timezone.now()
    for registration, room, left_at in [(here, lecture, None), (here, lecture, None), (at_table, table, None),
                                        (gone, lecture, now)]:
        Attendance.objects.create(talk=talk, registration=registration, room=room, joined_at=now, left_at=left_at)
    rows = sql.connected_guests(talk.pk, show_specialty_default=False)
    assert [row[0] for row in rows] == [here.pk]
    assert rows[0][1] == here.physician.full_name and not rows[0][-1]  # SQLite says 0 for false


@pytest.mark.services
def test_an_attendance_opened_in_one_statement_is_the_row_the_orm_reads(talk, django_assert_num_queries):
    _needs_postgresql()
    room = room_for(talk, "all")
    person = _attendee(talk)
    joined = timezone.now()
    with django_assert_num_queries(1):
        pk = sql.insert_attendance(talk.pk, person.registration.pk, room.pk, joined)
    row = Attendance.objects.get(pk=pk)
    assert (row.talk_id, row.registration_id, row.room_id, row.joined_at, row.left_at) == (
        talk.pk, person.registration.pk, room.pk, joined, None)


def _chatting(talk, count: int, deleted: int) -> tuple[LectureRoom, Participant]:
    """The talk's one room with ``count`` messages (every other with a client id), the ``deleted``-th removed."""
    room = room_for(talk, "all")
    person = _attendee(talk)
    for n in range(1, count + 1):
        post_message(room, person, f"message {n} 😀", client_id=f"c-{n}" if n % 2 else "")
    ChatMessage.objects.filter(room=room, seq=deleted).update(deleted_at=timezone.now())
    return room, person


def _chat_frames(room: LectureRoom, rows: list[list]) -> list[dict]:
    """The admission's message rows as the hello's frames."""
    from rooms import frames

    return [frames.chat_message_of(room.pk, seq, body, author, sent_at, client_id)
            for seq, body, author, client_id, sent_at in rows]


@pytest.mark.services
def test_the_one_statement_admission_is_the_room_attendance_history_and_questions_the_orm_gives(
        talk, django_assert_num_queries):
    _needs_postgresql()
    from rooms import frames

    room, person = _chatting(talk, 5, deleted=3)
    ChatMessage.objects.filter(room=room, seq=4).update(sent_at=timezone.now().replace(microsecond=0))
    asked = [ask_question(talk, room, person, f"question {n}") for n in range(3)]
    Question.objects.filter(pk=asked[1].pk).update(votes=4, answered_at=timezone.now())
    joined = timezone.now()
    with django_assert_num_queries(1):
        found = sql.lecture_admission(talk.pk, "all", person.registration.pk, joined, history=3, questions=2)
    assert found is not None
    loaded, attendance_id, messages, questions, after = found
    assert loaded == room and (loaded.key, loaded.kind, loaded.name_ja) == (room.key, room.kind, room.name_ja)
    row = Attendance.objects.get(pk=attendance_id)
    assert (row.talk_id, row.registration_id, row.room_id, row.joined_at, row.left_at) == (
        talk.pk, person.registration.pk, room.pk, joined, None)
    assert _chat_frames(room, messages) == [frames.chat_message(m) for m in sql.recent_messages(room.pk, None, 3)]
    assert [frames.question_of(pk, body, author, votes, answered_at is not None, asked_at)
            for pk, body, author, votes, answered_at, asked_at in questions] == [
        frames.question(q) for q in sql.questions_for(talk.pk, 2)]
    assert [m[0] for m in messages] == [2, 4, 5] and questions[0][0] == asked[1].pk
    assert after is None  # no resume point given: the history


@pytest.mark.services
def test_the_one_statement_admission_of_a_page_back_in_its_room_gives_what_messages_after_gives(
        talk, django_assert_num_queries):
    _needs_postgresql()
    from rooms import frames

    room, person = _chatting(talk, 8, deleted=4)
    joined = timezone.now()
    with django_assert_num_queries(1):
        found = sql.lecture_admission(talk.pk, "all", person.registration.pk, joined, HISTORY, QUESTIONS,
                                      resume=(room.pk, 2), resume_limit=4)
    assert found is not None
    loaded, attendance_id, messages, _, after = found
    assert loaded == room and after == 2  # the page's last chat id: what the messages follow
    assert _chat_frames(room, messages) == [frames.chat_message(m) for m in messages_after(room, 2, limit=4)]
    assert [m[0] for m in messages] == [3, 5, 6, 7]  # oldest first, none deleted, at most the limit
    row = Attendance.objects.get(pk=attendance_id)
    assert (row.registration_id, row.room_id, row.joined_at, row.left_at) == (person.registration.pk, room.pk,
                                                                               joined, None)


@pytest.mark.services
def test_the_one_statement_admission_of_a_page_naming_another_room_gives_the_history(talk, django_assert_num_queries):
    _needs_postgresql()
    from rooms import frames

    room, person = _chatting(talk, 5, deleted=1)
    elsewhere = room_for(talk, "03")
    with django_assert_num_queries(1):
        found = sql.lecture_admission(talk.pk, "all", person.registration.pk, timezone.now(), 3, QUESTIONS,
                                      resume=(elsewhere.pk, 1), resume_limit=500)
    assert found is not None
    loaded, _, messages, _, after = found
    assert loaded == room and after is None
    assert _chat_frames(room, messages) == [frames.chat_message(m) for m in sql.recent_messages(room.pk, None, 3)]
    assert [m[0] for m in messages] == [3, 4, 5]


@pytest.mark.services
def test_the_one_statement_admission_to_a_room_not_made_yet_is_none_and_writes_nothing(talk):
    _needs_postgresql()
    room_for(talk, "all")
    person = _attendee(talk)
    assert sql.lecture_admission(talk.pk, "03", person.registration.pk, timezone.now(), HISTORY, QUESTIONS) is None
    assert not Attendance.objects.exists()


def test_the_registration_a_join_cookie_names_comes_with_the_talk_in_one_statement_as_its_own_read_gives_it(
        talk, django_assert_num_queries):
    from events.sql import registration_for_admission

    registration = register(talk.event)
    elsewhere = register(make_event())
    with django_assert_num_queries(1):
        loaded, found = sql.talk_for_admission(talk.pk, [registration.pk, elsewhere.pk, 999_999])
        assert loaded.event.slug == talk.event.slug
        assert set(found) == {registration.pk, elsewhere.pk, 999_999}
        assert found[elsewhere.pk] is None and found[999_999] is None  # not of this talk's event
        got = found[registration.pk]
        assert got is not None and got.event is loaded.event
        assert got.physician.prefecture.name_ja  # its physician and prefecture, read with it
    alone = registration_for_admission(registration.pk)
    assert alone is not None
    for name in ("pk", "status", "language", "join_nonce", "join_revoked_at", "event_id", "event_ends_at"):
        assert getattr(got, name) == getattr(alone, name), name
    assert (got.physician.full_name, got.physician.prefecture.code) == (
        alone.physician.full_name, alone.physician.prefecture.code)


def test_a_browser_with_more_join_cookies_than_are_read_with_the_talk_gets_none_read(talk):
    ids = [register(talk.event).pk for _ in range(sql.ADMISSION_CANDIDATES + 1)]
    loaded, found = sql.talk_for_admission(talk.pk, ids)
    assert loaded.pk == talk.pk and found == {}
