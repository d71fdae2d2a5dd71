"""The campaign dashboard page and its downloads: who may see them, what they show and what the files hold."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from campaigns.models import Attribution
from regions.models import Prefecture
from tests.campaigns.campaign_scenes import deliver, make_campaign, make_mail
from tests.factories import register, rival_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def rivals() -> dict[str, Any]:
    """Alice's society runs a campaign for her event: three addresses in Iwate and Tokyo, two registered."""
    scene = rival_events()
    campaign = make_campaign(scene["mine"], slug="alice-autumn", name="秋の講演会ご案内")
    mail = make_mail(campaign)
    iwate = register(scene["mine"], email="iwate@clinic.example.jp", prefecture=Prefecture.objects.get(code="03"))
    register(scene["mine"], email="tokyo@clinic.example.jp", prefecture=Prefecture.objects.get(code="13"))
    clicked = deliver(mail, "iwate@clinic.example.jp", "03", clicks=1)
    deliver(mail, "tokyo@clinic.example.jp", "13")
    deliver(mail, "nobody@clinic.example.jp", "13", sent=False)
    Attribution.objects.create(registration=iwate, campaign=campaign, delivery=clicked)
    their_campaign = make_campaign(scene["theirs"], slug="bob-autumn", name="ボブの案内")
    return {**scene, "campaign": campaign, "their_campaign": their_campaign}


def page_url(campaign: Any, query: str = "") -> str:
    return reverse("dashboard:campaign", args=[campaign.pk]) + query


def export_url(campaign: Any, dataset: str, extension: str, query: str = "") -> str:
    return reverse("dashboard:campaign_export", args=[campaign.pk, dataset, extension]) + query


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_member_of_the_organization_sees_the_campaigns_funnel(rivals: dict[str, Any]) -> None:
    response = signed_in(rivals["alice"]).get(page_url(rivals["campaign"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "キャンペーン ダッシュボード" in page and "秋の講演会ご案内" in page
    assert 'data-total="targeted">3<' in page and 'data-total="mailed">2<' in page
    assert 'data-total="clicked">1<' in page and 'data-total="registered">2<' in page
    assert "岩手県" in page.split('id="dashboard-data"')[0]
    assert "vendor/echarts/echarts.min.js" in page and 'data-table="shortage"' in page
    assert "このキャンペーンのメール" in page


def test_the_page_is_in_english_for_an_english_speaking_member(rivals: dict[str, Any]) -> None:
    client = signed_in(rivals["alice"])
    client.cookies["django_language"] = "en"
    page = client.get(page_url(rivals["campaign"])).content.decode()
    assert "Campaign dashboard" in page and "Targeted" in page and "Iwate" in page


@pytest.mark.parametrize("who", ["bob", "speaker"])
def test_anyone_outside_the_organization_gets_not_found(rivals: dict[str, Any], who: str) -> None:
    client = signed_in(rivals[who])
    assert client.get(page_url(rivals["campaign"])).status_code == 404
    assert client.get(export_url(rivals["campaign"], "prefectures", "csv")).status_code == 404


def test_another_organizations_campaign_and_a_missing_one_look_the_same(rivals: dict[str, Any]) -> None:
    client = signed_in(rivals["alice"])
    theirs = client.get(page_url(rivals["their_campaign"]))
    missing = client.get("/organizer/campaigns/999999/dashboard/")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content


def test_nobody_signed_in_is_sent_to_sign_in(rivals: dict[str, Any]) -> None:
    for address in (page_url(rivals["campaign"]), export_url(rivals["campaign"], "daily", "xlsx")):
        response = Client().get(address)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login") + "?next=")


def test_the_event_dashboard_and_the_organizations_page_link_to_it(rivals: dict[str, Any]) -> None:
    client = signed_in(rivals["alice"])
    link = page_url(rivals["campaign"])
    event_page = client.get(reverse("dashboard:event", args=[rivals["mine"].slug])).content.decode()
    assert link in event_page and page_url(rivals["their_campaign"]) not in event_page
    organizations = client.get(reverse("campaigns:organizations")).content.decode()
    assert link in organizations and "ボブの案内" not in organizations


def test_the_prefecture_download_is_utf8_with_a_bom_and_every_stage(rivals: dict[str, Any]) -> None:
    response = signed_in(rivals["alice"]).get(export_url(rivals["campaign"], "prefectures", "csv"))
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    assert f'filename="{rivals["campaign"].slug}-prefectures.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:5] == ["コード", "都道府県", "医師少数県", "対象", "送信済み"]
    assert len(rows) == 1 + 47
    tokyo = next(row for row in rows if row[0] == "13")
    # targeted 2, mailed 1 (50.0 %), clicked 0 (0.0 %), registered 1 (100.0 % of mailed)
    assert tokyo[3:10] == ["2", "1", "50.0", "0", "0.0", "1", "100.0"]


@pytest.mark.parametrize("dataset", ["regions", "shortage", "sources", "daily"])
def test_every_table_downloads_as_shift_jis_and_excel(rivals: dict[str, Any], dataset: str) -> None:
    client = signed_in(rivals["alice"])
    sjis = client.get(export_url(rivals["campaign"], dataset, "csv", "?encoding=cp932"))
    assert sjis.status_code == 200 and not sjis.content.startswith(b"\xef\xbb\xbf")
    text = sjis.content.decode("cp932")
    workbook = load_workbook(io.BytesIO(client.get(export_url(rivals["campaign"], dataset, "xlsx")).content))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows and len(rows) == len(text.strip().splitlines())
    if dataset == "sources":
        assert ("このキャンペーンのメール", 1) in rows and ("キャンペーンもタグもなし", 1) in rows


def test_an_unknown_download_is_not_found(rivals: dict[str, Any]) -> None:
    client = signed_in(rivals["alice"])
    assert client.get(export_url(rivals["campaign"], "contacts", "csv")).status_code == 404
    assert client.get(export_url(rivals["campaign"], "daily", "pdf")).status_code == 404


def test_a_superuser_sees_every_campaign(rivals: dict[str, Any]) -> None:
    from django.contrib.auth.models import User

    root = User.objects.create_superuser("root", password="pw-root")
    assert signed_in(root).get(page_url(rivals["their_campaign"])).status_code == 200
