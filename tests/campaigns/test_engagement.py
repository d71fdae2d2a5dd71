"""The engagement score per physician and event, on a hand-computed fixture.

Two talks of 60 minutes each: 120 minutes scheduled.

- 岩手 watched 55 minutes of the first talk (two tabs and an unclosed reconnect,
  see test_certificates), wrote 2 chat messages (one more deleted by a
  moderator), asked 1 question, sat at a reception table and exchanged 3 cards
  (two offered and accepted, one received and accepted; a declined offer does
  not count): 50 × 55/120 = 22.9 + 6 + 5 + 15 + 10 (3 × 5 capped at 10) = 58.9 → 59.
- 宮城 watched 5 minutes, wrote 7 messages, asked 3 questions, and is one of
  岩手's accepted cards: 50 × 5/120 = 2.1 + 15 (capped) + 10 (capped) + 0 + 5 = 32.1 → 32.
- A third physician registered and never came: 0.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.engagement import Engagement, engagement, engagement_of
from rooms.models import CardExchange, ChatMessage, LectureRoom, Question, Seat
from tests.campaigns.test_certificates import certificate_scene
from tests.factories import register

pytestmark = pytest.mark.django_db


def chat(room, registration, n: int, deleted: bool = False) -> None:
    for _ in range(n):
        room.last_seq += 1
        room.save()
        ChatMessage.objects.create(room=room, seq=room.last_seq, registration=registration, author={}, body="よろしく",
                                   deleted_at=timezone.now() if deleted else None)


@pytest.fixture
def scene():
    scene = certificate_scene()
    talk = scene["talk"]
    room = LectureRoom.objects.get(talk=talk, key="all")
    table = LectureRoom.objects.create(talk=talk, key="t1", kind=LectureRoom.Kind.SOCIAL, name_ja="1", name_en="1")
    iwate, miyagi = scene["physician"], scene["neighbour"]
    others = [register(scene["event"], full_name=f"福島 {n}") for n in range(3)]
    scene["absent"] = others[2]
    chat(room, iwate, 2)
    chat(room, iwate, 1, deleted=True)
    chat(table, miyagi, 7)
    Question.objects.create(talk=talk, room=room, registration=iwate, author={}, body="質問です")
    for _ in range(3):
        Question.objects.create(talk=talk, room=room, registration=miyagi, author={}, body="質問")
    Seat.objects.create(room=table, registration=iwate, joined_at=talk.ends_at)
    accepted = CardExchange.State.ACCEPTED
    CardExchange.objects.create(talk=talk, room=table, offered_by=iwate, offered_to=miyagi, state=accepted)
    CardExchange.objects.create(talk=talk, room=table, offered_by=iwate, offered_to=others[0], state=accepted)
    CardExchange.objects.create(talk=talk, room=table, offered_by=others[1], offered_to=iwate, state=accepted)
    CardExchange.objects.create(talk=talk, room=table, offered_by=iwate, offered_to=others[2],
                                state=CardExchange.State.DECLINED)
    return scene


def test_each_part_is_counted_and_capped_as_the_docs_say(scene):
    scores = engagement(scene["event"], now=timezone.now())
    iwate, miyagi = scores[scene["physician"].pk], scores[scene["neighbour"].pk]
    assert (iwate.minutes_watched, iwate.minutes_scheduled, iwate.chat_messages, iwate.questions,
            iwate.reception_joined, iwate.cards_exchanged) == (55, 120, 2, 1, True, 3)
    assert iwate.score == 59
    assert (miyagi.minutes_watched, miyagi.chat_messages, miyagi.questions, miyagi.reception_joined,
            miyagi.cards_exchanged) == (5, 7, 3, False, 1)
    assert miyagi.score == 32
    assert scores[scene["absent"].pk].score == 0
    assert len(scores) == scene["event"].registrations.count()


def test_one_physicians_score_is_the_same_as_in_the_whole_events(scene):
    assert engagement_of(scene["physician"]).score == 59


def test_the_score_is_counted_in_a_fixed_number_of_queries(scene, django_assert_num_queries):
    with django_assert_num_queries(9):
        engagement(scene["event"])


def test_watching_stops_at_the_talks_end_and_is_capped_at_the_scheduled_minutes(scene):
    a_day_later = engagement_of(scene["physician"], now=timezone.now() + timedelta(days=1))
    assert a_day_later.minutes_watched == 55 and a_day_later.score == 59  # the unclosed connection stopped at the end
    assert Engagement(1, 200, 120, 0, 0, False, 0).score == 50


def test_the_organizer_sees_the_score_on_the_registration_page(client, scene):
    client.force_login(scene["organizer"])
    page = client.get(f"/admin/events/registration/{scene['physician'].pk}/change/").content.decode()
    assert "エンゲージメントスコア" in page and "59 / 100" in page


def test_the_organizer_exports_the_selected_scores_as_csv_for_marketing_tools(client, scene):
    from events.models import Physician

    Physician.objects.filter(pk=scene["neighbour"].physician_id).update(full_name="=HYPERLINK(\"http://evil\")")
    client.force_login(scene["organizer"])
    ids = [scene["physician"].pk, scene["neighbour"].pk, scene["absent"].pk]
    response = client.post("/admin/events/registration/", {"action": "export_engagement", "_selected_action": ids})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = {row["email"]: row for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))}
    assert len(rows) == 3
    iwate = rows[scene["physician"].physician.email]
    assert (iwate["minutes_watched"], iwate["reception_joined"], iwate["cards_exchanged"],
            iwate["engagement_score"]) == ("55", "yes", "3", "59")
    assert rows[scene["neighbour"].physician.email]["full_name"].startswith("'=")
    assert rows[scene["absent"].physician.email]["engagement_score"] == "0"


def test_another_organizer_cannot_export_this_events_scores(client, scene):
    from tests.factories import make_event, make_staff

    stranger = make_staff("bob", "organizer")
    make_event(title="Bob の講演会").organizers.add(stranger)
    client.force_login(stranger)
    response = client.post("/admin/events/registration/",
                           {"action": "export_engagement", "_selected_action": [scene["physician"].pk]})
    assert scene["physician"].physician.email not in response.content.decode("utf-8")
