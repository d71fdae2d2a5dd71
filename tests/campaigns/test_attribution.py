"""Click tracking and attribution: what a click stores, and how a registration learns where it came from."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns import attribution
from campaigns.models import Attribution, Delivery
from events.models import Registration
from tests.campaigns.campaign_scenes import deliver, make_campaign, make_mail
from tests.factories import form_data, make_event, make_organization

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene() -> dict[str, Any]:
    event = make_event(registration_opens_at=None)
    campaign = make_campaign(event, slug="autumn-invite")
    delivery = deliver(make_mail(campaign), "hanako@hospital.example.jp", "02")
    return {"event": event, "campaign": campaign, "delivery": delivery}


def click(client: Client, delivery: Delivery, **headers: str) -> Any:
    return client.get(f"/c/{delivery.token}/", headers=headers)


def register_through_the_form(client: Client, event: Any, **overrides: str) -> Registration:
    data = form_data(**overrides)
    response = client.post(reverse("events:register", args=[event.slug]), data)
    assert response.status_code == 302, response.content.decode()[:500]
    return Registration.objects.get(event=event, physician__email=data["email"])


def test_the_tracking_link_counts_the_click_and_goes_to_the_event_page(scene: dict[str, Any]) -> None:
    response = click(Client(), scene["delivery"])
    assert response.status_code == 302
    assert response["Location"] == reverse("events:event", args=[scene["event"].slug])
    delivery = Delivery.objects.get(pk=scene["delivery"].pk)
    assert delivery.clicks == 1 and delivery.first_clicked_at is not None


def test_a_later_click_adds_to_the_count_and_keeps_the_first_time(scene: dict[str, Any]) -> None:
    click(Client(), scene["delivery"])
    first = Delivery.objects.get(pk=scene["delivery"].pk).first_clicked_at
    click(Client(), scene["delivery"])
    click(Client(), scene["delivery"])
    delivery = Delivery.objects.get(pk=scene["delivery"].pk)
    assert delivery.clicks == 3 and delivery.first_clicked_at == first


def test_a_click_stores_nothing_about_the_visitor(scene: dict[str, Any]) -> None:
    before = Delivery.objects.filter(pk=scene["delivery"].pk).values().get()
    response = click(Client(REMOTE_ADDR="203.0.113.7"), scene["delivery"], user_agent="Mozilla/5.0 (iPhone)")
    after = Delivery.objects.filter(pk=scene["delivery"].pk).values().get()
    changed = {name for name in after if after[name] != before[name]}
    assert changed == {"clicks", "first_clicked_at"}
    assert "203.0.113.7" not in str(after.values()) and "iPhone" not in str(after.values())
    # The browser keeps ids only: the address is not in the cookie.
    cookie = response.cookies[attribution.COOKIE]
    assert "hanako" not in cookie.value and cookie["httponly"] and cookie["max-age"] == attribution.MAX_AGE


@pytest.mark.parametrize("headers", [{"sec_purpose": "prefetch"}, {"purpose": "prefetch"}, {"x_moz": "prefetch"}])
def test_a_declared_prefetch_is_sent_on_without_counting(scene: dict[str, Any], headers: dict[str, str]) -> None:
    response = click(Client(), scene["delivery"], **{k.replace("_", "-"): v for k, v in headers.items()})
    assert response.status_code == 302
    assert Delivery.objects.get(pk=scene["delivery"].pk).clicks == 0
    assert attribution.COOKIE not in response.cookies


def test_a_head_request_is_not_a_click(scene: dict[str, Any]) -> None:
    response = Client().head(f"/c/{scene['delivery'].token}/")
    assert response.status_code == 302
    assert Delivery.objects.get(pk=scene["delivery"].pk).clicks == 0


def test_an_unknown_token_is_the_ordinary_not_found(scene: dict[str, Any]) -> None:
    response = Client().get("/c/not-a-real-token/")
    assert response.status_code == 404
    assert "Traceback" not in response.content.decode() and "Delivery" not in response.content.decode()


def test_a_registration_after_a_click_is_attributed_to_the_mail_and_its_campaign(scene: dict[str, Any]) -> None:
    client = Client()
    click(client, scene["delivery"])
    registration = register_through_the_form(client, scene["event"])
    assert registration.attribution.delivery == scene["delivery"]
    assert registration.attribution.campaign == scene["campaign"]
    assert registration.attribution.utm_source == ""


def test_a_registration_without_any_link_has_no_attribution(scene: dict[str, Any]) -> None:
    registration = register_through_the_form(Client(), scene["event"])
    assert not Attribution.objects.filter(registration=registration).exists()


def test_a_tagged_visit_attributes_the_registration_to_the_campaign_with_that_slug(scene: dict[str, Any]) -> None:
    client = Client()
    page = reverse("events:event", args=[scene["event"].slug])
    long_source = "n" * 150
    assert client.get(page, {"utm_source": long_source, "utm_medium": " email ",
                             "utm_campaign": "autumn-invite"}).status_code == 200
    registration = register_through_the_form(client, scene["event"])
    found = registration.attribution
    assert found.campaign == scene["campaign"] and found.delivery is None
    assert found.utm_source == "n" * 100 and found.utm_medium == "email" and found.utm_campaign == "autumn-invite"


def test_the_first_touch_of_the_visit_wins(scene: dict[str, Any]) -> None:
    client = Client()
    page = reverse("events:event", args=[scene["event"].slug])
    client.get(page, {"utm_source": "newsletter", "utm_campaign": "autumn-invite"})
    client.get(page, {"utm_source": "twitter", "utm_campaign": "spring"})
    click(client, scene["delivery"])
    registration = register_through_the_form(client, scene["event"])
    assert registration.attribution.utm_source == "newsletter"
    assert registration.attribution.delivery is None
    # The click itself still counted.
    assert Delivery.objects.get(pk=scene["delivery"].pk).clicks == 1


def test_an_unknown_utm_campaign_is_kept_as_tags_without_a_campaign(scene: dict[str, Any]) -> None:
    client = Client()
    client.get(reverse("events:register", args=[scene["event"].slug]),
               {"utm_source": "society-site", "utm_campaign": "no-such-campaign"})
    registration = register_through_the_form(client, scene["event"])
    assert registration.attribution.campaign is None
    assert (registration.attribution.utm_source, registration.attribution.utm_campaign) == (
        "society-site", "no-such-campaign")


def test_another_organizations_campaign_slug_is_not_this_events_campaign(scene: dict[str, Any]) -> None:
    other_event = make_event(organization=make_organization("other-society"), registration_opens_at=None)
    make_campaign(other_event, slug="shared-name")
    client = Client()
    client.get(reverse("events:event", args=[scene["event"].slug]), {"utm_campaign": "shared-name"})
    registration = register_through_the_form(client, scene["event"])
    assert registration.attribution.campaign is None and registration.attribution.utm_campaign == "shared-name"


def test_a_touch_counts_only_for_the_event_it_was_made_on(scene: dict[str, Any]) -> None:
    elsewhere = make_event(organization=scene["event"].organization, registration_opens_at=None)
    client = Client()
    click(client, scene["delivery"])
    registration = register_through_the_form(client, elsewhere)
    assert not Attribution.objects.filter(registration=registration).exists()


def test_registering_again_writes_no_new_attribution(scene: dict[str, Any]) -> None:
    client = Client()
    click(client, scene["delivery"])
    registration = register_through_the_form(client, scene["event"], email="taro@clinic.example.jp")
    again = Client()
    again.get(reverse("events:event", args=[scene["event"].slug]), {"utm_source": "twitter"})
    register_through_the_form(again, scene["event"], email="taro@clinic.example.jp")
    assert Attribution.objects.filter(registration__event=scene["event"]).count() == 1
    assert Attribution.objects.get(registration=registration).delivery == scene["delivery"]


def test_a_forged_cookie_is_ignored(scene: dict[str, Any]) -> None:
    client = Client()
    client.cookies[attribution.COOKIE] = '{"%s": {"d": %d}}' % (scene["event"].slug, scene["delivery"].pk)
    registration = register_through_the_form(client, scene["event"])
    assert not Attribution.objects.filter(registration=registration).exists()
