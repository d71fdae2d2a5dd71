"""APPI rights: a physician sees, downloads and deletes their data; organizers' retention periods purge old detail.

Deletion and purging must leave every number the organizers' dashboards show
unchanged: each test computes them before and after.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from campaigns import privacy
from campaigns.analytics import event_dashboard
from campaigns.campaign_analytics import campaign_dashboard
from campaigns.models import Contact, Delivery, OptOut
from events.models import Event, Physician
from regions.models import Prefecture
from rooms.lecture.watch_times import refresh
from rooms.models import Attendance, CardExchange, ChatMessage, ClosedWatchTime, LectureRoom, ModerationLog, Seat
from rooms.profiles import Profile
from rooms.reception import cards
from tests.campaigns.campaign_scenes import deliver, make_campaign, make_mail
from tests.factories import make_event, make_talk, register
from tests.rooms.scenes import as_physician, reception_scene

pytestmark = pytest.mark.django_db

CLINIC_EMAIL = "iwate.clinic@example.jp"


def _watched(talk: Any, registration: Any, minutes: int) -> None:
    start = talk.starts_at
    room = LectureRoom.objects.filter(talk=talk, kind=LectureRoom.Kind.LECTURE).first()
    Attendance.objects.create(talk=talk, registration=registration, room=room, joined_at=start,
                              left_at=start + timedelta(minutes=minutes))


@pytest.fixture
def scene() -> dict[str, Any]:
    """The reception scene, with watched minutes, an accepted card exchange, chat, and a campaign that mailed both."""
    s = reception_scene()
    clinic, hospital = s["clinic"], s["hospital"]
    Physician.objects.filter(pk=clinic.physician_id).update(email=CLINIC_EMAIL, medical_registration_number="123456")
    clinic.physician.refresh_from_db()
    Attendance.objects.filter(talk=s["talk"]).update(left_at=s["talk"].ends_at)
    for registration in (clinic, hospital):
        _watched(s["talk"], registration, 40)
        refresh(s["talk"].pk, [registration.pk])
    exchange = cards.offer(s["talk"], s["room"], clinic, hospital.pk)
    cards.answer(s["talk"], exchange.pk, hospital, accept=True)
    for registration, body in ((clinic, "盛岡で紹介先を探しています"), (hospital, "仙台からです")):
        author = {**Profile.of(registration).__dict__, "role": "attendee"}
        s["room"].last_seq += 1
        ChatMessage.objects.create(room=s["room"], seq=s["room"].last_seq, registration=registration,
                                   author=author, body=body)
    LectureRoom.objects.filter(pk=s["room"].pk).update(last_seq=s["room"].last_seq)
    campaign = make_campaign(s["event"])
    mail = make_mail(campaign)
    deliver(mail, CLINIC_EMAIL, "03", clicks=1)
    deliver(mail, hospital.physician.email, "04")
    Contact.objects.create(organization=s["event"].organization, email=CLINIC_EMAIL, full_name="岩手 診療所",
                           prefecture=Prefecture.objects.get(code="03"))
    s["campaign"] = campaign
    return s


def numbers(s: dict[str, Any]) -> dict[str, Any]:
    """Everything the organizers' statistics show for the scene's event."""
    event = Event.objects.get(pk=s["event"].pk)
    return {"event": asdict(event_dashboard(event)), "campaign": asdict(campaign_dashboard(s["campaign"])),
            "pairs": cards.pair_counts(s["talk"]), "seats": Seat.objects.filter(room__talk=s["talk"]).count()}


def url(s: dict[str, Any], tail: str = "") -> str:
    return f"/events/{s['event'].slug}/my-data/{tail}"


def test_the_download_holds_the_physicians_data_and_nobody_elses(client: Client, scene: dict[str, Any]) -> None:
    as_physician(client, scene["clinic"])
    response = client.get(f"/events/{scene['event'].slug}/my-data.json")
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    assert data["physician"]["email"] == CLINIC_EMAIL and data["physician"]["full_name"] == "岩手 診療所"
    assert [m["body"] for m in data["chat_messages"]] == ["盛岡で紹介先を探しています"]
    assert data["campaign_contacts"][0]["email"] == CLINIC_EMAIL and data["campaign_mails"][0]["clicks"] == 1
    assert len(data["viewing_log"]) == 2 and len(data["card_exchanges"]) == 1
    text = response.content.decode()
    assert "宮城 病院" not in text and "仙台からです" not in text and scene["hospital"].physician.email not in text


def test_the_my_data_page_reads_in_japanese_and_links_the_download_and_deletion(client: Client, scene) -> None:
    as_physician(client, scene["clinic"])
    lobby = client.get(f"/events/{scene['event'].slug}/lobby/").content.decode()
    assert url(scene) in lobby
    page = client.get(url(scene)).content.decode()
    assert "岩手 診療所" in page and CLINIC_EMAIL in page and "盛岡で紹介先を探しています" in page
    assert "宮城 病院" not in page and "仙台からです" not in page
    assert "my-data.json" in page and url(scene, "delete/") in page


def test_without_the_physicians_own_link_nobody_sees_or_deletes_their_data(client: Client, scene) -> None:
    for path in (url(scene), f"/events/{scene['event'].slug}/my-data.json", url(scene, "delete/")):
        assert client.get(path).status_code == 403
    assert client.post(url(scene, "delete/")).status_code == 403
    # The other physician's link shows the other physician, and deleting erases only them.
    as_physician(client, scene["hospital"])
    assert "岩手 診療所" not in client.get(url(scene)).content.decode()
    client.post(url(scene, "delete/"))
    assert Physician.objects.get(pk=scene["clinic"].physician_id).full_name == "岩手 診療所"
    assert Physician.objects.get(pk=scene["hospital"].physician_id).erased_at is not None


def test_deleting_needs_a_confirmation_with_a_csrf_token(scene) -> None:
    client = Client(enforce_csrf_checks=True)
    as_physician(client, scene["clinic"])
    page = client.get(url(scene, "delete/")).content.decode()
    assert "元に戻せません" in page and "退会したユーザー" in page
    assert client.post(url(scene, "delete/")).status_code == 403
    assert Physician.objects.get(pk=scene["clinic"].physician_id).erased_at is None


def test_after_deletion_the_name_and_email_are_gone_and_others_see_the_placeholder(client: Client, scene) -> None:
    before = numbers(scene)
    as_physician(client, scene["clinic"])
    done = client.post(url(scene, "delete/"))
    assert done.status_code == 200 and "削除しました" in done.content.decode()
    # Idempotent: clicking again shows the same answer and changes nothing.
    assert client.post(url(scene, "delete/")).status_code == 200
    assert privacy.erase_physician(scene["clinic"].physician_id) is False

    with connection.cursor() as cursor:
        for table in ("events_physician", "campaigns_contact", "campaigns_delivery", "rooms_chatmessage",
                      "rooms_cardexchange"):
            cursor.execute(f"SELECT * FROM {table}")
            dump = repr(cursor.fetchall())
            assert "岩手 診療所" not in dump and CLINIC_EMAIL not in dump and "123456" not in dump, table
    assert OptOut.objects.filter(email=CLINIC_EMAIL, organization=scene["event"].organization).exists()
    # The join link no longer opens anything.
    assert client.get(f"/events/{scene['event'].slug}/lobby/").status_code == 403

    neighbour = Client()
    as_physician(neighbour, scene["hospital"])
    tables = neighbour.get(f"/events/{scene['event'].slug}/tables/").content.decode()
    assert "退会したユーザー" in tables and "盛岡で紹介先を探しています" in tables and "仙台からです" in tables
    neighbour.cookies["django_language"] = "en"
    assert "Deleted user" in neighbour.get(f"/events/{scene['event'].slug}/tables/").content.decode()
    assert cards.collected(scene["hospital"].physician_id) == []
    assert numbers(scene) == before


def test_the_retention_task_purges_old_events_detail_and_keeps_recent_ones_and_the_numbers(scene, caplog) -> None:
    organization = scene["event"].organization
    organization.retention_days = 30
    organization.save()
    recent = make_event(title="最近の講演会", organization=organization)
    recent_talk = make_talk(recent, starts_in=timedelta(days=10))  # 21 days before "later"
    recent_room = LectureRoom.objects.create(talk=recent_talk, key="all", name_ja="全員", name_en="Everyone")
    recent_reg = register(recent, full_name="秋田 医師")
    Attendance.objects.create(talk=recent_talk, registration=recent_reg, room=recent_room,
                              joined_at=recent_talk.starts_at, left_at=recent_talk.ends_at)
    ChatMessage.objects.create(room=recent_room, seq=1, registration=recent_reg, author={"name": "秋田 医師"}, body="最近")
    ModerationLog.objects.create(talk=scene["talk"], action="chat.delete", details={"seq": 1})
    before = numbers(scene)

    assert privacy.purge_expired_details() == 0  # the scene's talk ended minutes ago: within 30 days
    later = timezone.now() + timedelta(days=31)
    with caplog.at_level(logging.INFO, logger="campaigns.privacy"):
        assert privacy.purge_expired_details(later) == 1
        assert privacy.purge_expired_details(later) == 0  # safe to repeat

    talk = scene["talk"]
    assert not ChatMessage.objects.filter(room__talk=talk).exists()
    assert not Attendance.objects.filter(talk=talk).exists() and not ModerationLog.objects.filter(talk=talk).exists()
    assert ClosedWatchTime.objects.filter(talk=talk).count() == 3  # the minutes the dashboard counts
    assert ChatMessage.objects.filter(room=recent_room).count() == 1
    assert Attendance.objects.filter(talk=recent_talk).count() == 1
    assert numbers(scene) == before
    assert Event.objects.get(pk=scene["event"].pk).details_purged_at is not None

    [record] = [r for r in caplog.records if r.getMessage().startswith("event details purged")]
    logged = repr(record.__dict__)
    assert record.chat_messages == 2 and record.event == scene["event"].pk
    for personal in ("岩手 診療所", "宮城 病院", CLINIC_EMAIL, "盛岡で紹介先", scene["hospital"].physician.email):
        assert personal not in logged


def test_an_event_of_an_organization_without_a_retention_period_is_kept(scene) -> None:
    assert privacy.purge_expired_details(timezone.now() + timedelta(days=3650)) == 0
    assert ChatMessage.objects.filter(room__talk=scene["talk"]).count() == 2


def test_a_deletion_that_fails_halfway_leaves_everything_as_it_was(scene, monkeypatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(privacy.CardSettings.objects, "filter", broken)  # a late step of the erasure
    with pytest.raises(RuntimeError):
        privacy.erase_physician(scene["clinic"].physician_id)
    physician = Physician.objects.get(pk=scene["clinic"].physician_id)
    assert physician.full_name == "岩手 診療所" and physician.erased_at is None
    assert Contact.objects.filter(email=CLINIC_EMAIL).exists()
    assert not OptOut.objects.filter(email=CLINIC_EMAIL).exists()
    assert ChatMessage.objects.get(registration=scene["clinic"]).author["name"] == "岩手 診療所"
    assert [c["card"]["name"] for c in cards.collected(scene["hospital"].physician_id)] == ["岩手 診療所"]


def test_a_chat_line_written_while_the_sockets_closed_is_scrubbed_afterwards(scene) -> None:
    privacy.erase_physician(scene["clinic"].physician_id)
    # As if a closing tab still wrote with the author it knew.
    room = scene["room"]
    ChatMessage.objects.create(room=room, seq=room.last_seq + 1, registration=scene["clinic"],
                               author={"name": "岩手 診療所", "prefecture": "03"}, body="遅れて届いた一言")
    from campaigns.tasks import scrub_erased_authors

    assert scrub_erased_authors(scene["clinic"].physician_id) == 1
    assert ChatMessage.objects.get(body="遅れて届いた一言").author == {"name": "退会したユーザー", "deleted": True}
    assert privacy.scrub_erased(scene["hospital"].physician_id) == 0  # nobody else is touched
