"""The hand-written statements (rooms.sql) give what the ORM gives."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from rooms import sql
from rooms.lecture.chat import HISTORY, post_message
from rooms.lecture.questions import QUESTIONS, ask_question
from rooms.lecture.rooms import room_for
from rooms.lecture.stage import prefetched_or_created_stage
from rooms.models import ChatMessage, Question, Stage
from rooms.participants import Participant
from tests.factories import make_event, make_talk, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def talk():
    return make_talk(make_event(), starts_in=timedelta(minutes=-5))


def _attendee(talk) -> Participant:
    registration = register(talk.event)
    return Participant(role="attendee", registration=registration, author={"name": "岩手 太郎"},
                       prefecture_code="03", region_key="tohoku")


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
