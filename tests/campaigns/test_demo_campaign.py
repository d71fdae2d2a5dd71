"""The demo's finished Tohoku campaign: full dashboards on first start, the same on every start, lawful mail."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from campaigns.analytics import event_dashboard
from campaigns.audiences import audience_contacts
from campaigns.demo import AUDIENCE_NAME, CAMPAIGN_SLUG, DAYS_AGO, load_finished_campaign
from campaigns.demo_event import FINISHED_SLUG
from campaigns.models import DEMO_ORGANIZATION_SLUG, Attribution, Campaign, CampaignMail, Contact, Delivery, OptOut
from campaigns.services import ensure_demo_organization
from events.models import Event, Registration
from regions.models import Prefecture
from rooms.models import Attendance, CardExchange, Seat

pytestmark = pytest.mark.django_db

TOHOKU_SHORTAGE = ("02", "03", "05", "06", "07")


def load_demo() -> None:
    call_command("load_demo", stdout=StringIO())


def numbers() -> dict[str, Any]:
    """What an organizer would count in the finished campaign, prefecture by prefecture where it matters."""
    event = Event.objects.get(slug=FINISHED_SLUG)
    dashboard = event_dashboard(event)
    return {
        "campaigns": Campaign.objects.filter(slug=CAMPAIGN_SLUG).count(),
        "contacts": Contact.objects.filter(organization__slug=DEMO_ORGANIZATION_SLUG).count(),
        "opt_outs": OptOut.objects.count(),
        "mails": sorted(CampaignMail.objects.filter(campaign__event=event).values_list("kind", "status")),
        "deliveries": Delivery.objects.filter(mail__campaign__event=event).count(),
        "clicked": Delivery.objects.filter(mail__campaign__event=event, first_clicked_at__isnull=False).count(),
        "attributions": Attribution.objects.filter(registration__event=event).count(),
        "intervals": Attendance.objects.filter(talk__event=event).count(),
        "seats": Seat.objects.filter(room__talk__event=event).count(),
        "cards": CardExchange.objects.filter(talk__event=event).count(),
        "funnel": [(row.key, row.registered, row.attended, row.reception, row.cards) for row in dashboard.prefectures],
        "daily": [(shortage, rest) for _day, shortage, rest in dashboard.daily],
    }


def test_loading_the_demo_twice_leaves_one_finished_campaign_and_the_same_numbers():
    load_demo()
    first = numbers()
    load_demo()
    assert numbers() == first
    assert first["campaigns"] == 1
    assert first["contacts"] >= 300
    assert [kind for kind, status in first["mails"] if status == CampaignMail.Status.SENT] == sorted(
        CampaignMail.Kind.values)


def test_a_demo_loaded_months_ago_is_made_again_weeks_ago_with_the_same_numbers():
    organizer = User.objects.create(username="organizer-of-the-demo")
    speaker = User.objects.create(username="speaker-of-the-demo")
    organization = ensure_demo_organization(organizer)
    load_finished_campaign(organization, organizer, speaker, now=timezone.now() - timedelta(days=120))
    old = numbers()
    campaign = load_finished_campaign(organization, organizer, speaker)
    new = numbers()
    # The reception's tables are formed from registration ids, which a rebuild does not reuse: who sat
    # with whom may differ, how many sat and exchanged cards does not.
    for drawn in (old, new):
        drawn["funnel"] = [row[:-1] for row in drawn["funnel"]]
    assert new == old, "the same seed draws the same demo"
    ended = campaign.event.talks.get().ends_at
    assert timezone.now() - timedelta(days=DAYS_AGO + 1) < ended < timezone.now() - timedelta(days=DAYS_AGO - 1)


def test_the_finished_event_dashboard_is_full_in_tohoku_with_more_reach_in_its_shortage_prefectures():
    load_demo()
    event = Event.objects.get(slug=FINISHED_SLUG)
    assert all(talk.ends_at < timezone.now() for talk in event.talks.all())
    rows = {row.key: row for row in event_dashboard(event).prefectures}
    for code in (*TOHOKU_SHORTAGE, "04"):
        row = rows[code]
        assert row.registered > 0 and row.attended > 0 and row.reception > 0 and row.cards > 0, row
    assert sum(row.registered for row in rows.values() if row.key not in (*TOHOKU_SHORTAGE, "04")) > 0, \
        "a few came from elsewhere in Japan"

    def per_contact(codes: tuple[str, ...]) -> float:
        """Registrants per contact on the organization's list: the campaign's reach there."""
        contacts = Contact.objects.filter(organization=event.organization, prefecture_id__in=codes).count()
        return sum(rows[code].registered for code in codes) / contacts

    assert per_contact(TOHOKU_SHORTAGE) > per_contact(("04",))
    elsewhere = tuple(code for code in rows if code not in (*TOHOKU_SHORTAGE, "04"))
    assert per_contact(TOHOKU_SHORTAGE) > 2 * per_contact(elsewhere)
    assert len(event_dashboard(event).daily) >= 14, "registrations came in over weeks"


def test_the_organizer_sees_the_finished_event_on_the_dashboard_page(client):
    load_demo()
    client.force_login(User.objects.get(username="organizer"))
    response = client.get(f"/organizer/events/{FINISHED_SLUG}/dashboard/")
    assert response.status_code == 200
    total = Registration.objects.filter(event__slug=FINISHED_SLUG, status=Registration.Status.APPROVED).count()
    assert f'data-total="registered">{total}<' in response.content.decode().replace(" ", "")


def test_demo_mail_goes_only_to_the_audience_with_consent_and_without_opt_out():
    load_demo()
    campaign = Campaign.objects.get(slug=CAMPAIGN_SLUG)
    assert campaign.audience.name == AUDIENCE_NAME
    deliveries = Delivery.objects.filter(mail__campaign=campaign)
    mailed = set(deliveries.values_list("contact_id", flat=True))
    allowed = set(audience_contacts(campaign.audience).sendable().values_list("pk", flat=True))
    assert mailed and mailed <= allowed
    assert set(deliveries.values_list("prefecture__designation", flat=True)) == {Prefecture.Designation.SHORTAGE}
    targeted = audience_contacts(campaign.audience)
    without_consent = targeted.filter(consent_date__isnull=True)
    opted_out = targeted.filter(email__in=OptOut.objects.values("email"))
    assert without_consent.exists() and opted_out.exists(), "the demo shows whom the law keeps out"
    assert not deliveries.filter(contact__in=without_consent).exists()
    assert not deliveries.filter(contact__in=opted_out).exists()
    assert set(deliveries.values_list("status", flat=True)) == {Delivery.Status.SENT}


def test_the_demo_reminder_skips_registrants_and_follow_ups_reach_their_segment():
    load_demo()
    campaign = Campaign.objects.get(slug=CAMPAIGN_SLUG)
    reminder = campaign.mails.get(kind=CampaignMail.Kind.REMINDER)
    registered_before = Registration.objects.filter(event=campaign.event, created_at__lt=reminder.started_at)
    assert registered_before.exists()
    assert not reminder.deliveries.filter(email__in=registered_before.values("physician__email")).exists()
    seated = Registration.objects.filter(event=campaign.event, seats__isnull=False).values("physician__email")
    reception = campaign.mails.get(kind=CampaignMail.Kind.RECEPTION).deliveries
    assert reception.exists() and not reception.exclude(email__in=seated).exists()
    no_show = campaign.mails.get(kind=CampaignMail.Kind.NO_SHOW).deliveries
    assert no_show.exists() and not no_show.filter(email__in=seated).exists()
    # Registrations came through the mails' links, a society's newsletter, and no link at all.
    attributions = Attribution.objects.filter(registration__event=campaign.event)
    assert attributions.filter(delivery__mail__campaign=campaign).exists()
    assert attributions.filter(delivery=None, campaign=campaign, utm_source="society-newsletter").exists()
    assert Registration.objects.filter(event=campaign.event, attribution__isnull=True).exists()
    clicked = Delivery.objects.filter(mail__campaign=campaign, first_clicked_at__isnull=False)
    assert clicked.exists() and not clicked.filter(first_clicked_at__lt=F("sent_at")).exists()
