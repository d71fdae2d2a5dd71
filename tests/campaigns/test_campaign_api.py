"""The campaign endpoints of the API: the organization's campaigns and one campaign's funnel, never another's."""

from __future__ import annotations

from typing import Any

import pytest

from campaigns.models import Attribution
from campaigns.services import do_create_api_token
from regions.models import Prefecture
from tests.campaigns.campaign_scenes import deliver, make_campaign, make_mail
from tests.campaigns.test_api import CAMPAIGN_ENDPOINTS, get
from tests.factories import make_event, make_organization, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene() -> dict[str, Any]:
    """Iwate's society: two campaigns for one event (three addresses mailed, one registered); Miyagi's: one."""
    iwate = make_organization("iwate", name="岩手医学会")
    miyagi = make_organization("miyagi", name="宮城医学会")
    event = make_event(slug="tohoku-2026", organization=iwate, registration_opens_at=None)
    campaign = make_campaign(event, slug="tohoku-autumn", name="秋のご案内")
    make_campaign(event, slug="tohoku-winter", name="冬のご案内")
    mail = make_mail(campaign)
    clicked = deliver(mail, "iwate@clinic.example.jp", "03", clicks=1)
    deliver(mail, "morioka@clinic.example.jp", "03")
    deliver(mail, "sendai@clinic.example.jp", "04", sent=False)
    registration = register(event, email="iwate@clinic.example.jp", prefecture=Prefecture.objects.get(code="03"))
    Attribution.objects.create(registration=registration, campaign=campaign, delivery=clicked)
    theirs = make_campaign(make_event(slug="miyagi-only", organization=miyagi), slug="miyagi-secret")
    _token, secret = do_create_api_token(iwate, "Salesforce")
    return {"campaign": campaign, "theirs": theirs, "secret": secret}


@pytest.mark.parametrize("endpoint", CAMPAIGN_ENDPOINTS)
def test_without_a_token_the_campaign_endpoints_answer_401(client, scene: dict[str, Any], endpoint: str) -> None:
    response = get(client, endpoint.format(campaign_id=scene["campaign"].pk), None)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert "秋のご案内" not in response.content.decode()


def test_the_campaign_list_holds_only_the_tokens_organizations_campaigns(client, scene: dict[str, Any]) -> None:
    body = get(client, "/api/v1/campaigns/?limit=1", scene["secret"]).json()
    assert body["count"] == 2 and body["next"] == 1 and len(body["items"]) == 1
    rest = get(client, "/api/v1/campaigns/?offset=1", scene["secret"]).json()
    slugs = {item["slug"] for item in body["items"] + rest["items"]}
    assert slugs == {"tohoku-autumn", "tohoku-winter"}
    assert {item["event"] for item in body["items"]} == {"tohoku-2026"}
    assert body["items"][0]["created_at"].endswith("+09:00")


def test_the_funnel_gives_every_stage_per_prefecture_and_the_total(client, scene: dict[str, Any]) -> None:
    response = get(client, f"/api/v1/campaigns/{scene['campaign'].pk}/funnel/", scene["secret"])
    assert response.status_code == 200
    body = response.json()
    assert len(body["prefectures"]) == 47
    iwate = next(row for row in body["prefectures"] if row["key"] == "03")
    stages = ("targeted", "mailed", "clicked", "registered", "attended", "reception", "cards")
    assert [iwate[stage] for stage in stages] == [2, 2, 1, 1, 0, 0, 0]
    assert iwate["registered_rate"] == pytest.approx(0.5) and iwate["shortage"] is True
    assert [body["total"][stage] for stage in stages] == [3, 2, 1, 1, 0, 0, 0]


def test_another_organizations_campaign_is_404_like_one_that_does_not_exist(client, scene: dict[str, Any]) -> None:
    theirs = get(client, f"/api/v1/campaigns/{scene['theirs'].pk}/funnel/", scene["secret"])
    nowhere = get(client, "/api/v1/campaigns/999999/funnel/", scene["secret"])
    assert theirs.status_code == nowhere.status_code == 404
    assert theirs.json() == nowhere.json()
