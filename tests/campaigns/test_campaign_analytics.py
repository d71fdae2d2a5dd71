"""A campaign's funnel, counted in SQL, against numbers worked out by hand.

The event is test_analytics' scene (threshold 10 minutes); the campaign on top of it:

| address        | pref | mail                       | registration (scene)          | why counted as registered   |
|----------------|------|----------------------------|-------------------------------|-----------------------------|
| iwate[0]       | 03   | sent, clicked; reminder too| attended, seated, cards       | targeted (and its click)    |
| iwate[1]       | 03   | sent                       | attended, seated, cards       | targeted                    |
| iwate[2]       | 03   | —                          | 9 minutes: not attended       | utm_campaign = the slug     |
| x1             | 03   | sent, clicked              | —                             |                             |
| x2             | 03   | failed                     | —                             |                             |
| tokyo[0]       | 13   | sent, clicked              | attended, not seated          | targeted                    |
| tokyo[1]       | 13   | —                          | attended, seated, no cards    | utm_campaign = the slug     |
| tokyo[2]       | 13   | sent, clicked              | cancelled                     | (not counted)               |
| x4             | 13   | sent                       | —                             |                             |
| aomori         | 02   | failed                     | never came                    | targeted                    |
| x3             | 02   | sent                       | —                             |                             |
| x5             | 02   | follow-up mail only        | —                             | (not an invitation)         |

Iwate 03: targeted 4, mailed 3, clicked 2, registered 3, attended 2, reception 2, cards 2.
Tokyo 13: 3, 3, 2, 2, 2, 1, 0.  Aomori 02: 2, 1, 0, 1, 0, 0, 0.
Total: 9, 7, 4, 6, 4, 3, 2 — every stage different.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns.analytics import CAMPAIGN_STAGES, FunnelRow
from campaigns.campaign_analytics import campaign_dashboard
from campaigns.models import Attribution, CampaignMail
from tests.campaigns.campaign_scenes import deliver, make_campaign, make_mail
from tests.campaigns.test_analytics import NOW, scene  # noqa: F401  (the event's fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def campaign_scene(scene: dict[str, Any]) -> dict[str, Any]:  # noqa: F811
    event = scene["event"]
    iwate, tokyo, aomori = scene["iwate"], scene["tokyo"], scene["aomori"]
    campaign = make_campaign(event, slug="tohoku-autumn")
    invitation = make_mail(campaign)
    reminder = make_mail(campaign, CampaignMail.Kind.REMINDER)
    follow_up = make_mail(campaign, CampaignMail.Kind.ATTENDED)

    def email(registration: Any) -> str:
        return registration.physician.email

    clicked = deliver(invitation, email(iwate[0]), "03", clicks=2)
    deliver(reminder, email(iwate[0]), "03")
    deliver(invitation, email(iwate[1]), "03")
    deliver(invitation, "x1@example.jp", "03", clicks=1)
    deliver(invitation, "x2@example.jp", "03", sent=False)
    deliver(invitation, email(tokyo[0]), "13", clicks=1)
    deliver(invitation, email(tokyo[2]), "13", clicks=1)
    deliver(invitation, "x4@example.jp", "13")
    deliver(invitation, email(aomori), "02", sent=False)
    deliver(invitation, "x3@example.jp", "02")
    deliver(follow_up, "x5@example.jp", "02", clicks=1)

    Attribution.objects.create(registration=iwate[0], campaign=campaign, delivery=clicked)
    for registration in (iwate[2], tokyo[1]):
        Attribution.objects.create(registration=registration, campaign=campaign, utm_source="newsletter",
                                   utm_campaign="tohoku-autumn")
    Attribution.objects.create(registration=tokyo[0], utm_source="twitter", utm_campaign="unknown-tag")
    # Another campaign of the same event claims nothing of this one's.
    other = make_campaign(event, slug="other")
    deliver(make_mail(other), "y@example.jp", "03", clicks=1)
    return {**scene, "campaign": campaign}


def counts(row: FunnelRow) -> tuple[int, ...]:
    return tuple(getattr(row, stage) for stage in CAMPAIGN_STAGES)


def test_the_campaign_funnel_per_prefecture_matches_the_hand_count(campaign_scene: dict[str, Any]) -> None:
    prefectures = {row.key: row for row in campaign_dashboard(campaign_scene["campaign"], now=NOW).prefectures}
    assert counts(prefectures["03"]) == (4, 3, 2, 3, 2, 2, 2)
    assert counts(prefectures["13"]) == (3, 3, 2, 2, 2, 1, 0)
    assert counts(prefectures["02"]) == (2, 1, 0, 1, 0, 0, 0)
    assert counts(prefectures["01"]) == (0,) * 7


def test_regions_the_total_and_shortage_against_the_rest_add_up(campaign_scene: dict[str, Any]) -> None:
    dashboard = campaign_dashboard(campaign_scene["campaign"], now=NOW)
    assert counts(dashboard.total) == (9, 7, 4, 6, 4, 3, 2)
    regions = {row.key: row for row in dashboard.regions}
    assert counts(regions["tohoku"]) == (6, 4, 2, 4, 2, 2, 2)
    assert counts(regions["kanto"]) == (3, 3, 2, 2, 2, 1, 0)
    shortage, rest = dashboard.comparison
    assert counts(shortage) == (6, 4, 2, 4, 2, 2, 2) and counts(rest) == (3, 3, 2, 2, 2, 1, 0)


def test_registration_is_a_rate_of_the_addresses_mailed(campaign_scene: dict[str, Any]) -> None:
    total = campaign_dashboard(campaign_scene["campaign"], now=NOW).total
    assert total.rate("mailed") == pytest.approx(7 / 9)
    assert total.rate("clicked") == pytest.approx(4 / 7)
    assert total.rate("registered") == pytest.approx(6 / 7)
    assert total.rate("attended") == pytest.approx(4 / 6)
    assert total.rate("targeted") is None


def test_registrations_per_day_are_the_campaigns_only(campaign_scene: dict[str, Any]) -> None:
    daily = campaign_dashboard(campaign_scene["campaign"], now=NOW).daily
    assert [(shortage, rest) for _day, shortage, rest in daily] == [(4, 2)]


def test_the_events_registrations_are_broken_down_by_source(campaign_scene: dict[str, Any]) -> None:
    sources = campaign_dashboard(campaign_scene["campaign"], now=NOW).sources
    assert [(source.kind, source.value, source.count) for source in sources] == [
        ("utm", "newsletter", 2), ("campaign", "", 1), ("utm", "twitter", 1), ("none", "", 2)]


def test_the_dashboard_takes_a_fixed_number_of_queries(campaign_scene: dict[str, Any]) -> None:
    campaign = campaign_scene["campaign"]
    campaign.event  # noqa: B018  (loaded by the page's own query)
    with CaptureQueriesContext(connection) as queries:
        campaign_dashboard(campaign, now=NOW)
    assert len(queries) == 5


def test_the_event_dashboard_keeps_its_four_stages(campaign_scene: dict[str, Any]) -> None:
    from campaigns.analytics import event_dashboard

    dashboard = event_dashboard(campaign_scene["event"], now=NOW)
    assert dashboard.stages == ("registered", "attended", "reception", "cards")
    assert (dashboard.total.registered, dashboard.total.attended) == (6, 4)
