"""The organizer's campaign pages: create a campaign, add mails, send, schedule, cancel, watch the counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail as outbox
from django.utils import timezone

from campaigns.models import Audience, Campaign, CampaignMail
from tests.campaigns.campaign_fixtures import contact, opt_out
from tests.factories import make_event, make_organization, make_staff, make_talk

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def scene():
    alice, bob = make_staff("alice", "organizer"), make_staff("bob", "organizer")
    iwate = make_organization("iwate", alice, name="岩手医学会")
    miyagi = make_organization("miyagi", bob, name="宮城医学会")
    event = make_event(organization=iwate, title="岩手の秋の講演会")
    make_talk(event)
    theirs = make_event(organization=miyagi, title="宮城の講演会")
    for name in ("sato", "suzuki", "takahashi"):
        contact(iwate, f"{name}@clinic.example.jp")
    opt_out(iwate, "takahashi@clinic.example.jp")
    return {"alice": alice, "bob": bob, "iwate": iwate, "miyagi": miyagi, "event": event, "theirs": theirs,
            "audience": Audience.objects.create(organization=iwate, name="岩手の全員"),
            "their_audience": Audience.objects.create(organization=miyagi, name="宮城の全員")}


def create_campaign(client, scene, **overrides) -> object:
    data = {"name": "秋の案内", "slug": "autumn", "event": scene["event"].pk, "audience": scene["audience"].pk}
    data.update(overrides)
    return client.post("/organizer/iwate/campaigns/new/", data)


def test_an_organizer_creates_a_campaign_adds_the_invitation_sends_it_and_sees_the_counts(client, scene):
    client.force_login(scene["alice"])
    assert "/organizer/iwate/campaigns/" in client.get("/organizer/").content.decode()
    response = create_campaign(client, scene)
    assert response.status_code == 302 and response["Location"] == "/organizer/iwate/campaigns/autumn/"
    response = client.post("/organizer/iwate/campaigns/autumn/mails/new/", {
        "kind": "invitation", "subject": "秋の講演会のご案内", "body": "ご案内します。", "materials_url": "",
        "scheduled_at": ""})
    assert response.status_code == 302
    mail = CampaignMail.objects.get()
    client.post(f"/organizer/iwate/campaigns/autumn/mails/{mail.pk}/send/")
    assert sorted(m.to[0] for m in outbox.outbox) == ["sato@clinic.example.jp", "suzuki@clinic.example.jp"]
    progress = client.get("/organizer/iwate/campaigns/autumn/progress.json").json()
    assert progress["mails"] == [{"id": mail.pk, "status": "sent", "status_label": "送信済み",
                                  "sent": 2, "failed": 0, "remaining": 0}]
    page = client.get("/organizer/iwate/campaigns/autumn/").content.decode()
    assert "秋の講演会のご案内" in page and 'data-field="sent">2<' in page
    assert "/organizer/iwate/campaigns/autumn/" in client.get("/organizer/iwate/campaigns/").content.decode()


def test_another_organizations_event_audience_or_campaign_cannot_be_used_or_seen(client, scene):
    client.force_login(scene["alice"])
    response = create_campaign(client, scene, event=scene["theirs"].pk, audience=scene["their_audience"].pk)
    assert response.status_code == 400 and not Campaign.objects.exists()
    theirs = Campaign.objects.create(event=scene["theirs"], audience=scene["their_audience"], name="宮城", slug="m")
    mail = CampaignMail.objects.create(campaign=theirs, kind="invitation", subject="s", body="b")
    assert client.get("/organizer/miyagi/campaigns/").status_code == 404
    assert client.get("/organizer/miyagi/campaigns/m/").status_code == 404
    assert client.get("/organizer/iwate/campaigns/m/").status_code == 404
    assert client.get("/organizer/miyagi/campaigns/m/progress.json").status_code == 404
    assert client.post(f"/organizer/miyagi/campaigns/m/mails/{mail.pk}/send/").status_code == 404
    assert outbox.outbox == []


def test_a_duplicate_address_name_is_a_field_error_in_japanese(client, scene):
    client.force_login(scene["alice"])
    create_campaign(client, scene)
    response = create_campaign(client, scene, name="もう一つ")
    assert response.status_code == 400
    assert "この組織の別のキャンペーンがこのアドレス名を使っています。" in response.content.decode()
    assert Campaign.objects.count() == 1


def test_scheduling_a_mail_then_cancelling_it_sends_nothing(client, scene):
    client.force_login(scene["alice"])
    create_campaign(client, scene)
    at = timezone.localtime(timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    client.post("/organizer/iwate/campaigns/autumn/mails/new/", {
        "kind": "invitation", "subject": "予約", "body": "本文", "scheduled_at": at})
    mail = CampaignMail.objects.get()
    client.post(f"/organizer/iwate/campaigns/autumn/mails/{mail.pk}/schedule/")
    mail.refresh_from_db()
    assert mail.status == CampaignMail.Status.SCHEDULED
    client.post(f"/organizer/iwate/campaigns/autumn/mails/{mail.pk}/cancel/")
    mail.refresh_from_db()
    assert mail.status == CampaignMail.Status.CANCELLED
    response = client.post(f"/organizer/iwate/campaigns/autumn/mails/{mail.pk}/send/")
    assert response.status_code == 400 and "取り消されています" in response.content.decode()
    assert outbox.outbox == []


def test_a_follow_up_before_the_event_is_refused_with_the_reason(client, scene):
    client.force_login(scene["alice"])
    create_campaign(client, scene)
    response = client.post("/organizer/iwate/campaigns/autumn/mails/new/", {
        "kind": "attended", "subject": "ご参加ありがとうございました", "body": "資料です。",
        "materials_url": "https://slides.example.jp/a.pdf", "scheduled_at": ""})
    mail = CampaignMail.objects.get()
    response = client.post(f"/organizer/iwate/campaigns/autumn/mails/{mail.pk}/send/")
    assert response.status_code == 400
    assert "フォローアップメールは講演会の後に送ります" in response.content.decode()
    assert outbox.outbox == []


def test_a_sent_mail_can_no_longer_be_edited(client, scene):
    client.force_login(scene["alice"])
    create_campaign(client, scene)
    client.post("/organizer/iwate/campaigns/autumn/mails/new/", {"kind": "invitation", "subject": "件名", "body": "本文"})
    mail = CampaignMail.objects.get()
    client.post(f"/organizer/iwate/campaigns/autumn/mails/{mail.pk}/send/")
    response = client.post(f"/organizer/iwate/campaigns/autumn/mails/{mail.pk}/",
                           {"kind": "invitation", "subject": "変更", "body": "本文"})
    assert response.status_code == 400
    mail.refresh_from_db()
    assert mail.subject == "件名"


def test_anonymous_visitors_are_sent_to_sign_in(client, scene):
    response = client.get("/organizer/iwate/campaigns/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
