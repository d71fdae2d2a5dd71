"""A physician reads the chat of the reception tables they sat at, also after the close, and no other table's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from rooms.lecture.chat import post_message
from rooms.models import ChatMessage, LectureRoom, Reception
from rooms.participants import Participant
from rooms.reception.seating import choose_room, leave_to_lobby, place
from rooms.reception.tables import table_profile
from tests.factories import make_event, register
from tests.rooms.scenes import as_physician, reception_scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    return reception_scene()


def say(room: LectureRoom, registration, body: str) -> ChatMessage:
    author = {**table_profile(registration), "role": "attendee"}
    return post_message(room, Participant(role="attendee", registration=registration, author=author), body)


def other_table(scene) -> LectureRoom:
    """A second table, where the hospital doctor moves (self-select allowed)."""
    room = LectureRoom.objects.create(talk=scene["talk"], key="social-x", kind=LectureRoom.Kind.SOCIAL,
                                      name_ja="宮城県 9", name_en="Miyagi 9")
    Reception.objects.filter(talk=scene["talk"]).update(allow_self_select=True)
    choose_room(scene["talk"], scene["hospital"], room.pk)
    return room


def page_for(client, scene, registration) -> str:
    as_physician(client, registration)
    response = client.get(f"/events/{scene['event'].slug}/tables/")
    assert response.status_code == 200
    return response.content.decode()


def test_a_physician_reads_their_tables_chat_after_the_close(client, scene):
    say(scene["room"], scene["hospital"], "紹介状はこちらへどうぞ")
    say(scene["room"], scene["clinic"], "<b>ありがとうございます</b>")
    Reception.objects.filter(talk=scene["talk"]).update(closes_at=timezone.now() - timedelta(minutes=1))
    page = page_for(client, scene, scene["clinic"])
    assert scene["room"].name_ja in page
    assert page.index("紹介状はこちらへどうぞ") < page.index("ありがとうございます")
    assert "宮城 病院 · 病院 · 宮城県" in page
    assert "&lt;b&gt;ありがとうございます&lt;/b&gt;" in page and "<b>ありがとうございます" not in page


def test_another_tables_chat_is_not_shown(client, scene):
    say(other_table(scene), scene["hospital"], "別のテーブルの話")
    page = page_for(client, scene, scene["clinic"])
    assert "別のテーブルの話" not in page and "宮城県 9" not in page
    assert "別のテーブルの話" in page_for(client, scene, scene["hospital"])  # but its members read it


def test_a_table_left_for_another_is_still_readable_and_listed_once(client, scene):
    say(scene["room"], scene["clinic"], "最初のテーブルで")
    leave_to_lobby(scene["talk"], scene["clinic"])
    place(scene["talk"], scene["clinic"])  # back to a table of their area
    page = page_for(client, scene, scene["clinic"])
    assert page.count("最初のテーブルで") == 1
    assert page.count(f"· {scene['room'].name_ja}</h2>") == 1


def test_deleted_messages_are_not_shown(client, scene):
    message = say(scene["room"], scene["hospital"], "取り消したメッセージ")
    ChatMessage.objects.filter(pk=message.pk).update(deleted_at=timezone.now())
    assert "取り消したメッセージ" not in page_for(client, scene, scene["clinic"])


def test_a_physician_who_sat_at_no_table_is_told_so(client, scene):
    event = make_event()
    newcomer = register(event, full_name="秋田 新人")
    as_physician(client, newcomer)
    page = client.get(f"/events/{event.slug}/tables/").content.decode()
    assert "まだ懇親会のテーブルに着いていません" in page


def test_the_page_needs_a_join_link_session(client, scene):
    assert client.get(f"/events/{scene['event'].slug}/tables/").status_code == 403


def test_a_physician_of_another_event_cannot_read_these_tables(client, scene):
    say(scene["room"], scene["hospital"], "この会だけの話")
    outsider = register(make_event(), full_name="他会 太郎")
    as_physician(client, outsider)
    response = client.get(f"/events/{scene['event'].slug}/tables/")
    assert response.status_code == 403 and "この会だけの話" not in response.content.decode()
