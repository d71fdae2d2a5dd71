"""A physician sees their viewing log and prints their attendance certificates; organizers open them; nobody else.

The fixture's intervals are computed by hand: a talk of 60 minutes; the
physician's first tab watched minutes 0–30, a second tab 20–45 (the overlap
counts once: 0–45), and a reconnect at 50 whose close was never recorded
counts until the talk's end at 60: 45 + 10 = 55 minutes.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from campaigns.certificates import certificate_number
from rooms.models import Attendance, LectureRoom
from tests.factories import make_event, make_organization, make_staff, make_talk, register
from tests.rooms.scenes import as_physician

pytestmark = pytest.mark.django_db


def certificate_scene() -> dict[str, Any]:
    """An event of 東北医学会 whose two talks ended yesterday; 岩手 watched the first (55 min) and not the second."""
    organizer = make_staff("org", "organizer")
    speaker = make_staff("sato", "speaker")
    speaker.last_name, speaker.first_name = "佐藤", "一郎"
    speaker.save()
    event = make_event(title="東北 肺がん Web講演会", organization=make_organization("tohoku", name="東北医学会"))
    event.organizers.add(organizer)
    # 15:30 UTC is 00:30 of the next day in Japan: the certificate must print the Japanese date.
    starts_at = (timezone.now() - timedelta(days=2)).replace(hour=15, minute=30, second=0, microsecond=0)
    talk = make_talk(event, title="肺がん薬物療法の最前線", starts_at=starts_at, ends_at=starts_at + timedelta(minutes=60))
    talk.speakers.add(speaker)
    second = make_talk(event, title="第2部 症例検討", starts_at=starts_at + timedelta(minutes=70),
                       ends_at=starts_at + timedelta(minutes=130))
    room = LectureRoom.objects.create(talk=talk, key="all", name_ja="全員", name_en="Everyone")
    physician = register(event, full_name="岩手 太郎", facility_name="盛岡内科クリニック")
    neighbour = register(event, full_name="宮城 花子")
    minute = timedelta(minutes=1)
    for start, end in ((0, 30), (20, 45), (50, None)):
        Attendance.objects.create(talk=talk, room=room, registration=physician, joined_at=starts_at + start * minute,
                                  left_at=None if end is None else starts_at + end * minute)
    Attendance.objects.create(talk=talk, room=room, registration=neighbour, joined_at=starts_at,
                              left_at=starts_at + 5 * minute)
    return {"event": event, "talk": talk, "second": second, "physician": physician, "neighbour": neighbour,
            "organizer": organizer, "speaker": speaker, "starts_at": starts_at}


@pytest.fixture
def scene() -> dict[str, Any]:
    return certificate_scene()


def certificate_url(registration, talk) -> str:
    return f"/certificates/{registration.pk}/{talk.pk}/"


def text(response) -> str:
    return response.content.decode()


def test_the_viewing_log_shows_each_talk_with_overlapping_tabs_counted_once(client, scene):
    as_physician(client, scene["physician"])
    page = text(client.get(f"/events/{scene['event'].slug}/viewing/"))
    rows = dict(re.findall(r'data-talk="(\d+)".*?data-minutes>([^<]*)<', page, re.S))
    assert rows == {str(scene["talk"].pk): "55 分", str(scene["second"].pk): "0 分"}
    assert certificate_url(scene["physician"], scene["talk"]) in page
    assert certificate_url(scene["physician"], scene["second"]) not in page
    assert "未視聴" in page


def test_the_lobby_links_to_the_viewing_log(client, scene):
    as_physician(client, scene["physician"])
    assert f'href="/events/{scene["event"].slug}/viewing/"' in text(client.get(f"/events/{scene['event'].slug}/lobby/"))


def test_the_viewing_log_needs_a_join_link_session(client, scene):
    assert client.get(f"/events/{scene['event'].slug}/viewing/").status_code == 403


def test_the_certificate_states_who_watched_what_when_and_for_how_long(client, scene):
    as_physician(client, scene["physician"])
    response = client.get(certificate_url(scene["physician"], scene["talk"]))
    assert response.status_code == 200
    page = text(response)
    japan_date = (scene["starts_at"] + timedelta(hours=9)).date()
    for expected in ("受講証明書", "岩手 太郎 殿", "盛岡内科クリニック", "肺がん薬物療法の最前線", "佐藤 一郎",
                     "東北 肺がん Web講演会", "東北医学会", "55 分",
                     f"{japan_date.year}年{japan_date.month}月{japan_date.day}日 00:30–01:30",
                     certificate_number(scene["physician"].pk, scene["talk"].pk)):
        assert expected in page, expected


def test_the_certificate_number_is_stable_and_differs_per_physician_and_talk(client, scene):
    as_physician(client, scene["physician"])
    url = certificate_url(scene["physician"], scene["talk"])
    first = re.search(r"data-number>([^<]+)<", text(client.get(url))).group(1)
    assert first == re.search(r"data-number>([^<]+)<", text(client.get(url))).group(1)
    assert re.fullmatch(r"RK-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}", first)
    others = {certificate_number(scene["neighbour"].pk, scene["talk"].pk),
              certificate_number(scene["physician"].pk, scene["second"].pk)}
    assert first not in others and len(others) == 2


def test_a_talk_not_attended_gets_a_message_instead_of_a_certificate(client, scene):
    as_physician(client, scene["physician"])
    response = client.get(certificate_url(scene["physician"], scene["second"]))
    page = text(response)
    assert response.status_code == 200
    assert "「第2部 症例検討」の受講証明書は発行できません" in page and "data-number" not in page


def test_the_page_is_in_english_when_chosen(client, scene):
    as_physician(client, scene["physician"])
    client.cookies["django_language"] = "en"
    page = text(client.get(certificate_url(scene["physician"], scene["talk"])))
    assert "Certificate of attendance" in page and "55 min" in page


def not_found(response) -> bool:
    return response.status_code == 404 and "この受講証明書は表示できません" in text(response)


def test_another_physicians_certificate_and_unknown_ids_answer_404_alike(client, scene):
    as_physician(client, scene["neighbour"])
    assert client.get(certificate_url(scene["neighbour"], scene["talk"])).status_code == 200  # their own opens
    assert not_found(client.get(certificate_url(scene["physician"], scene["talk"])))
    assert not_found(client.get(f"/certificates/999999/{scene['talk'].pk}/"))
    assert not_found(client.get(f"/certificates/{scene['neighbour'].pk}/999999/"))
    other_talk = make_talk(make_event(title="別の会"), title="別の講演")
    assert not_found(client.get(certificate_url(scene["neighbour"], other_talk)))


def test_without_a_session_the_certificate_answers_404(client, scene):
    assert not_found(client.get(certificate_url(scene["physician"], scene["talk"])))


def test_a_physician_of_another_event_cannot_open_this_events_certificates(client, scene):
    outsider = register(make_event(), full_name="他会 太郎")
    as_physician(client, outsider)
    assert not_found(client.get(certificate_url(scene["physician"], scene["talk"])))


def test_the_events_organizer_opens_a_physicians_certificate_from_the_registration_page(client, scene):
    client.force_login(scene["organizer"])
    admin_page = text(client.get(f"/admin/events/registration/{scene['physician'].pk}/change/"))
    url = certificate_url(scene["physician"], scene["talk"])
    assert f'href="{url}"' in admin_page and "55 分" in admin_page
    page = text(client.get(url))
    assert "岩手 太郎 殿" in page and certificate_number(scene["physician"].pk, scene["talk"].pk) in page


def test_other_organizers_and_speakers_cannot_open_certificates(client, scene):
    stranger = make_staff("bob", "organizer")
    make_event(title="Bob の講演会").organizers.add(stranger)
    for user in (stranger, scene["speaker"]):
        client.force_login(user)
        assert not_found(client.get(certificate_url(scene["physician"], scene["talk"])))
