"""The unsubscribe link in every campaign mail: confirmation page, button, and the mail clients' one-click POST."""

from __future__ import annotations

import pytest
from django.test import Client

from campaigns.models import Delivery, OptOut
from campaigns.recipients import recipients
from tests.campaigns.campaign_fixtures import campaign_for, contact, mail_of
from tests.factories import make_event, make_organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery() -> Delivery:
    organization = make_organization("iwate", name="岩手医学会")
    person = contact(organization, "sato@clinic.example.jp")
    mail = mail_of(campaign_for(make_event(organization=organization)))
    return Delivery.objects.create(mail=mail, contact=person, email=person.email, prefecture_id=person.prefecture_id)


def test_the_link_shows_who_is_unsubscribing_from_whom_and_changes_nothing_until_the_button(client, delivery):
    page = client.get(f"/unsubscribe/{delivery.token}/").content.decode()
    assert "配信停止" in page and "岩手医学会" in page and "sato@clinic.example.jp" in page
    assert not OptOut.objects.exists()
    client.cookies["django_language"] = "en"
    assert "Stop all campaign mail from 岩手医学会" in client.get(f"/unsubscribe/{delivery.token}/").content.decode()


def test_the_button_records_the_opt_out_and_the_contact_gets_no_more_campaign_mail(client, delivery):
    response = client.post(f"/unsubscribe/{delivery.token}/")
    assert response.status_code == 200
    assert "配信を停止しました" in response.content.decode()
    opt_out = OptOut.objects.get()
    assert (opt_out.organization, opt_out.email, opt_out.source) == (
        delivery.mail.campaign.organization, "sato@clinic.example.jp", OptOut.Source.LINK)
    assert not recipients(mail_of(delivery.mail.campaign)).exists()


def test_a_mail_clients_one_click_post_works_without_a_csrf_token_and_twice_is_once(delivery):
    client = Client(enforce_csrf_checks=True)
    for _attempt in range(2):
        response = client.post(f"/unsubscribe/{delivery.token}/", "List-Unsubscribe=One-Click",
                               content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200
    assert OptOut.objects.count() == 1


def test_other_organizer_pages_still_require_the_csrf_token(delivery):
    client = Client(enforce_csrf_checks=True)
    assert client.post("/i18n/setlang/", {"language": "en"}).status_code == 403


def test_an_unknown_link_is_a_not_found_page_and_records_nothing(client, delivery):
    for method in (client.get, client.post):
        response = method("/unsubscribe/not-a-real-token/")
        assert response.status_code == 404
        assert "配信停止リンクは見つかりません" in response.content.decode()
    assert not OptOut.objects.exists()
