"""The chat rules give the same answer through the one-statement PostgreSQL write and the portable ORM path.

Each case builds its own talk twice and sends one message through each path;
both must post (with the same chat id) or refuse for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from events.models import Talk
from rooms.lecture.chat import post_message, send_chat
from rooms.lecture.rooms import room_for
from rooms.lecture.stage import get_or_create_stage
from rooms.models import ChatMessage, LectureRoom, Mute
from rooms.participants import Participant
from rooms.refused import Refused
from tests.factories import make_event, make_staff, make_talk, register

pytestmark = pytest.mark.django_db

LIMIT = (3, 10.0)  # three messages per ten seconds


@dataclass
class Scene:
    talk: Talk
    room: LectureRoom
    person: Participant


def _attendee(talk: Talk) -> Participant:
    return Participant(role="attendee", registration=register(talk.event), author={"name": "岩手 太郎"})


def _staff(talk: Talk) -> Participant:
    user = make_staff(f"staff-{talk.pk}", "organizer")
    return Participant(role="organizer", user=user, author={"name": "事務局"})


def _table(talk: Talk) -> LectureRoom:
    return LectureRoom.objects.create(talk=talk, key="social-1", kind=LectureRoom.Kind.SOCIAL, name_ja="岩手 1",
                                      name_en="Iwate 1")


def _close_chat(scene: Scene) -> None:
    stage = get_or_create_stage(scene.talk)
    stage.chat_open = False
    stage.save(update_fields=["chat_open"])


def _mute(until: timedelta, other_talk: bool = False) -> Callable[[Scene], None]:
    def arrange(scene: Scene) -> None:
        talk = make_talk(scene.talk.event) if other_talk else scene.talk
        Mute.objects.create(talk=talk, registration=scene.person.registration, until=timezone.now() + until)
    return arrange


def _sent(count: int, ago: timedelta = timedelta(seconds=1), where: str = "elsewhere in the talk") -> Callable[[Scene], None]:
    def arrange(scene: Scene) -> None:
        talk = make_talk(scene.talk.event) if where == "another talk" else scene.talk
        room, _ = LectureRoom.objects.get_or_create(talk=talk, key="elsewhere",
                                                    defaults={"name_ja": "他", "name_en": "Elsewhere"})
        for _ in range(count):
            message = post_message(room, scene.person, "earlier")
            ChatMessage.objects.filter(pk=message.pk).update(sent_at=timezone.now() - ago)
    return arrange


@dataclass(frozen=True)
class Case:
    name: str
    expected: str  # "posted" or the refusal's code
    staff: bool = False
    table: bool = False
    arrange: Callable[[Scene], None] | None = None


CASES = [
    Case("an attendee in an open lecture chat", "posted"),
    Case("an attendee in a closed lecture chat", "chat_closed", arrange=_close_chat),
    Case("staff in a closed lecture chat", "posted", staff=True, arrange=_close_chat),
    Case("an attendee at a reception table while the lecture chat is closed", "posted", table=True,
         arrange=_close_chat),
    Case("a muted attendee", "muted", arrange=_mute(timedelta(minutes=5))),
    Case("a muted attendee at a reception table", "muted", table=True, arrange=_mute(timedelta(minutes=5))),
    Case("an attendee whose mute ran out", "posted", arrange=_mute(timedelta(seconds=-1))),
    Case("an attendee muted in another talk only", "posted", arrange=_mute(timedelta(minutes=5), other_talk=True)),
    Case("an attendee one under the limit", "posted", arrange=_sent(2)),
    Case("an attendee at the limit, counted over every room of the talk", "rate_limited", arrange=_sent(3)),
    Case("an attendee at the limit at a table", "rate_limited", table=True, arrange=_sent(3)),
    Case("an attendee whose messages are older than the window", "posted", arrange=_sent(3, timedelta(seconds=30))),
    Case("an attendee at the limit in another talk only", "posted", arrange=_sent(3, where="another talk")),
    Case("staff at the limit", "rate_limited", staff=True, arrange=_sent(3)),
]


def _outcome(case: Case, one_statement: bool) -> tuple[str, int | None]:
    talk = make_talk(make_event(), starts_in=timedelta(minutes=-5))
    person = _staff(talk) if case.staff else _attendee(talk)
    room = _table(talk) if case.table else room_for(talk, "all")
    scene = Scene(talk, room, person)
    if case.arrange is not None:
        case.arrange(scene)
    try:
        message = send_chat(talk, room, person, "こんにちは", "c-1", LIMIT, one_statement=one_statement)
    except Refused as refused:
        return refused.code, None
    stored = ChatMessage.objects.get(pk=message.pk)
    assert (stored.seq, stored.body, stored.author, stored.client_id) == (message.seq, "こんにちは", person.author, "c-1")
    return "posted", message.seq


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_portable_path_posts_or_refuses_as_the_rules_say(case: Case) -> None:
    assert _outcome(case, one_statement=False)[0] == case.expected


@pytest.mark.services
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_postgresql_statement_and_the_portable_path_agree(case: Case) -> None:
    if connection.vendor != "postgresql":
        pytest.fail("This test needs PostgreSQL: set DATABASE_URL (run the README's test command).")
    statement, portable = _outcome(case, one_statement=True), _outcome(case, one_statement=False)
    assert statement == portable
    assert statement[0] == case.expected
