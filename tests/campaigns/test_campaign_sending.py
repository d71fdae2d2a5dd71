"""Sending a campaign mail (tasks run in-process): who receives it, what it says, and that nobody gets it twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail as outbox
from django.utils import timezone

from campaigns import sending
from campaigns.links import unsubscribe_url
from campaigns.mail_content import message_id
from campaigns.models import CampaignMail, Delivery, OptOut
from tests.campaigns.campaign_fixtures import (
    campaign_for, contact, finished_event, mail_of, opt_out, segment_fixture,
)
from tests.factories import make_event, make_organization, make_talk

pytestmark = pytest.mark.django_db(transaction=True)
Kind = CampaignMail.Kind


def received() -> list[str]:
    return sorted(to.split("@")[0] for message in outbox.outbox for to in message.to)


@pytest.fixture
def invited():
    organization = make_organization()
    event = make_event(organization=organization)
    make_talk(event)
    for name in ("sato", "suzuki"):
        contact(organization, f"{name}@clinic.example.jp")
    contact(organization, "unconsented@clinic.example.jp", consent=False)
    contact(organization, "left@clinic.example.jp")
    opt_out(organization, "left@clinic.example.jp")
    return mail_of(campaign_for(event))


def test_an_invitation_goes_once_to_each_consented_contact_and_never_to_an_opted_out_one(invited):
    assert sending.do_send_now(invited) == 2
    assert received() == ["sato", "suzuki"]
    invited.refresh_from_db()
    assert invited.status == CampaignMail.Status.SENT and invited.finished_at is not None
    assert set(invited.deliveries.values_list("status", flat=True)) == {Delivery.Status.SENT}


def test_starting_the_same_send_twice_writes_and_sends_nothing_twice(invited):
    sending.do_send_now(invited)
    assert sending.start_sending(invited.pk) == 0
    with pytest.raises(sending.CannotSend):
        sending.do_send_now(invited)
    assert invited.deliveries.count() == 2 and len(outbox.outbox) == 2


@pytest.fixture
def fixed_only(monkeypatch):
    """Starting a send fixes the recipients but queues no batch: the test runs the batches itself."""
    monkeypatch.setattr(sending, "queue_batches", lambda mail_id, count: None)


def test_an_opt_out_after_the_recipients_were_fixed_still_stops_the_mail(invited, fixed_only):
    sending.start_sending(invited.pk)
    OptOut.objects.create(organization=invited.campaign.organization, email="SATO@clinic.example.jp")
    sending.send_batch(invited.pk)
    assert received() == ["suzuki"]
    stopped = invited.deliveries.get(email="sato@clinic.example.jp")
    assert stopped.status == Delivery.Status.FAILED and "opted out" in stopped.error


def test_a_campaign_mail_carries_the_links_the_sender_line_and_one_click_unsubscribe_headers(invited):
    invited.materials_url = "https://slides.example.jp/autumn.pdf"
    invited.save()
    sending.do_send_now(invited)
    message = next(m for m in outbox.outbox if m.to == ["sato@clinic.example.jp"])
    delivery = invited.deliveries.get(email="sato@clinic.example.jp")
    body = message.body
    assert message.subject == "秋の Web 講演会のご案内"
    assert body.startswith("先生方各位")
    assert f"/c/{delivery.token}/" in body and f"/unsubscribe/{delivery.token}/" in body
    assert "https://slides.example.jp/autumn.pdf" in body
    organization = invited.campaign.organization
    assert organization.postal_address in body and organization.contact_email in body
    # Japanese first, English below.
    assert body.index("配信停止") < body.index("no more mail")
    headers = message.message()
    assert headers["List-Unsubscribe"] == (f"<{unsubscribe_url(delivery)}>, "
                                           f"<mailto:{organization.contact_email}?subject=unsubscribe>")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Message-ID"] == message_id(delivery)
    assert headers["Reply-To"] == organization.contact_email


def test_a_follow_up_cannot_go_before_the_event_has_ended():
    organization = make_organization()
    event = make_event(organization=organization)
    make_talk(event, starts_in=timedelta(days=1))
    contact(organization, "sato@clinic.example.jp")
    follow_up = mail_of(campaign_for(event), Kind.ATTENDED)
    with pytest.raises(sending.CannotSend):
        sending.do_send_now(follow_up)
    with pytest.raises(sending.CannotSend):
        sending.do_schedule(follow_up, timezone.now() + timedelta(hours=1))
    assert outbox.outbox == [] and not follow_up.deliveries.exists()


@pytest.mark.parametrize(("kind", "expected"), [
    (Kind.ATTENDED, ["brief", "full"]),
    (Kind.NO_SHOW, ["absent", "peek"]),
    (Kind.LEFT_EARLY, ["brief"]),
    (Kind.RECEPTION, ["full"]),
    (Kind.REMINDER, ["stranger"]),
])
def test_each_follow_up_and_the_reminder_reach_only_their_consented_segment(kind, expected):
    scene = segment_fixture()
    sending.do_send_now(mail_of(scene["campaign"], kind, materials_url="https://slides.example.jp/a.pdf"))
    assert received() == expected


def test_a_scheduled_mail_goes_when_its_time_has_come_and_respects_opt_outs(invited):
    at = timezone.now() + timedelta(hours=1)
    sending.do_schedule(invited, at)
    assert sending.start_due_mails(now=at - timedelta(minutes=1)) == []
    opt_out(invited.campaign.organization, "suzuki@clinic.example.jp")
    from campaigns.tasks import send_due_campaign_mails

    assert sending.start_due_mails(now=at) == [invited.pk]
    send_due_campaign_mails()  # the beat's next run: nothing new to start, nothing stalled
    assert received() == ["sato"]
    invited.refresh_from_db()
    assert invited.status == CampaignMail.Status.SENT


def test_a_scheduled_follow_up_after_the_event_reaches_its_segment_only():
    scene = segment_fixture()
    follow_up = mail_of(scene["campaign"], Kind.RECEPTION)
    at = timezone.now() + timedelta(minutes=5)
    sending.do_schedule(follow_up, at)
    sending.start_due_mails(now=at)
    assert received() == ["full"]


def test_a_cancelled_schedule_never_sends(invited):
    at = timezone.now() + timedelta(hours=1)
    sending.do_schedule(invited, at)
    sending.do_cancel(invited)
    assert sending.start_due_mails(now=at + timedelta(minutes=1)) == []
    assert outbox.outbox == []
    with pytest.raises(sending.CannotSend):
        sending.do_send_now(invited)


def test_a_delivery_whose_worker_died_is_sent_by_the_next_batch_once_its_claim_is_stale(invited, settings,
                                                                                         monkeypatch):
    queue = sending.queue_batches
    monkeypatch.setattr(sending, "queue_batches", lambda mail_id, count: None)
    sending.start_sending(invited.pk)
    monkeypatch.setattr(sending, "queue_batches", queue)
    claimed = sending.claim(invited.pk, 1)  # a worker claims one row and dies
    assert sending.send_batch(invited.pk) == 1  # the other row; the claimed one is not stale yet
    assert received() == ["sato"] or received() == ["suzuki"]
    assert sending.resume_stalled_mails() == []
    # The claim grows stale (as if CAMPAIGN_CLAIM_STALE_SECONDS had passed since the worker died).
    Delivery.objects.filter(pk__in=claimed).update(
        claimed_at=timezone.now() - timedelta(seconds=settings.CAMPAIGN_CLAIM_STALE_SECONDS + 1))
    assert sending.resume_stalled_mails() == [invited.pk]
    assert received() == ["sato", "suzuki"]
    invited.refresh_from_db()
    assert invited.status == CampaignMail.Status.SENT


def test_a_mail_with_no_sendable_recipient_finishes_at_once():
    event, _talk = finished_event()
    campaign = campaign_for(event)
    contact(campaign.organization, "unconsented@clinic.example.jp", consent=False)
    mail = mail_of(campaign)
    assert sending.do_send_now(mail) == 0
    mail.refresh_from_db()
    assert mail.status == CampaignMail.Status.SENT and outbox.outbox == []
