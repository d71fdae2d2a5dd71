"""Campaigns, their mails and deliveries in the organizers' console: each organizer sees their organizations' only."""

from __future__ import annotations

import pytest

from campaigns.models import Campaign, CampaignMail, Delivery
from tests.campaigns.campaign_fixtures import campaign_for, contact, mail_of
from tests.factories import make_event, make_organization, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    alice, bob = make_staff("alice", "organizer"), make_staff("bob", "organizer")
    scene = {}
    for slug, user in (("iwate", alice), ("miyagi", bob)):
        organization = make_organization(slug, user, name=f"{slug} 医学会")
        campaign = campaign_for(make_event(organization=organization), slug=f"{slug}-autumn")
        mail = mail_of(campaign, subject=f"{slug} のご案内")
        person = contact(organization, f"doctor@{slug}.example.jp")
        delivery = Delivery.objects.create(mail=mail, contact=person, email=person.email,
                                           prefecture_id=person.prefecture_id)
        scene[slug] = {"user": user, "campaign": campaign, "mail": mail, "delivery": delivery}
    return scene


def test_an_organizer_lists_only_their_organizations_campaigns_mails_and_deliveries(client, scene):
    client.force_login(scene["iwate"]["user"])
    for path, mine, theirs in (("/admin/campaigns/campaign/", "iwate-autumn", "miyagi-autumn"),
                               ("/admin/campaigns/campaignmail/", "iwate のご案内", "miyagi のご案内"),
                               ("/admin/campaigns/delivery/", "doctor@iwate", "doctor@miyagi")):
        page = client.get(path).content.decode()
        assert mine in page and theirs not in page, path


def test_another_organizations_campaign_mail_or_delivery_cannot_be_opened(client, scene):
    client.force_login(scene["iwate"]["user"])
    theirs = scene["miyagi"]
    for path in (f"/admin/campaigns/campaign/{theirs['campaign'].pk}/change/",
                 f"/admin/campaigns/campaignmail/{theirs['mail'].pk}/change/",
                 f"/admin/campaigns/delivery/{theirs['delivery'].pk}/change/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"] == "/admin/", path


def test_deliveries_are_read_only_and_a_campaign_cannot_take_another_organizations_audience(client, scene):
    client.force_login(scene["iwate"]["user"])
    mine = scene["iwate"]
    assert client.get("/admin/campaigns/delivery/add/").status_code == 403
    page = client.get(f"/admin/campaigns/delivery/{mine['delivery'].pk}/change/").content.decode()
    assert 'name="status"' not in page
    response = client.post("/admin/campaigns/campaign/add/", {
        "event": mine["campaign"].event_id, "audience": scene["miyagi"]["campaign"].audience_id,
        "name": "他組織の対象", "slug": "other",
        "mails-TOTAL_FORMS": "0", "mails-INITIAL_FORMS": "0", "mails-MIN_NUM_FORMS": "0", "mails-MAX_NUM_FORMS": "1000"})
    assert response.status_code == 200 and not Campaign.objects.filter(slug="other").exists()
    assert CampaignMail.objects.count() == 2
