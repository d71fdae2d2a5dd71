"""The regional dashboard page and its downloads: who may see them, and what the files hold."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from campaigns.dashboard_exports import Table, csv_response, xlsx_response
from events.models import Registration
from regions.models import Prefecture
from tests.factories import make_staff, register, rival_events

pytestmark = pytest.mark.django_db


@pytest.fixture
def rivals() -> dict[str, Any]:
    scene = rival_events()
    for code in ("03", "03", "13"):
        register(scene["mine"], prefecture=Prefecture.objects.get(code=code))
    register(scene["theirs"], prefecture=Prefecture.objects.get(code="47"))
    return scene


def dashboard_url(event: Any, **query: Any) -> str:
    return reverse("dashboard:event", args=[event.slug]) + ("?" + "&".join(f"{k}={v}" for k, v in query.items())
                                                           if query else "")


def export_url(event: Any, dataset: str, extension: str, query: str = "") -> str:
    return reverse("dashboard:event_export", args=[event.slug, dataset, extension]) + query


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_organizer_sees_the_dashboard_of_their_event(rivals: dict[str, Any]) -> None:
    response = signed_in(rivals["alice"]).get(dashboard_url(rivals["mine"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "地域別ダッシュボード" in page
    assert 'data-total="registered">3<' in page
    assert "岩手県" in page and "沖縄県" not in page.split('id="dashboard-data"')[0]
    assert "vendor/echarts/echarts.min.js" in page


def test_the_page_is_in_english_for_an_english_speaking_organizer(rivals: dict[str, Any]) -> None:
    client = signed_in(rivals["alice"])
    client.cookies["django_language"] = "en"
    page = client.get(dashboard_url(rivals["mine"])).content.decode()
    assert "Regional dashboard" in page and "Iwate" in page


@pytest.mark.parametrize("who", ["bob", "speaker"])
def test_an_organizer_of_another_event_or_a_speaker_gets_not_found(rivals: dict[str, Any], who: str) -> None:
    client = signed_in(rivals[who])
    assert client.get(dashboard_url(rivals["mine"])).status_code == 404
    assert client.get(export_url(rivals["mine"], "prefectures", "csv")).status_code == 404


def test_a_missing_event_and_somebody_elses_get_the_same_answer(rivals: dict[str, Any]) -> None:
    client = signed_in(rivals["alice"])
    theirs = client.get(dashboard_url(rivals["theirs"]))
    missing = client.get("/organizer/events/no-such-event/dashboard/")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.content == missing.content


def test_nobody_signed_in_is_sent_to_sign_in_and_back(rivals: dict[str, Any]) -> None:
    url = dashboard_url(rivals["mine"])
    for address in (url, export_url(rivals["mine"], "daily", "xlsx")):
        response = Client().get(address)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login") + "?next=")


def test_a_superuser_sees_every_event(rivals: dict[str, Any]) -> None:
    from django.contrib.auth.models import User

    root = User.objects.create_superuser("root", password="pw-root")
    assert signed_in(root).get(dashboard_url(rivals["theirs"])).status_code == 200


def test_a_threshold_that_is_not_a_number_of_minutes_shows_an_error_and_the_default(rivals: dict[str, Any]) -> None:
    page = signed_in(rivals["alice"]).get(dashboard_url(rivals["mine"], min_minutes="0")).content.decode()
    assert 'class="errors"' in page
    assert "10 分" in page or "10分" in page


def test_the_page_takes_the_same_number_of_queries_for_a_larger_audience(
        rivals: dict[str, Any], django_assert_num_queries: Any) -> None:
    client = signed_in(rivals["alice"])
    client.get(dashboard_url(rivals["mine"]))  # sessions and language settle on the first request
    # Session, user, the event, the dashboard's three, then the event's campaigns (linked from the page).
    with django_assert_num_queries(7):
        client.get(dashboard_url(rivals["mine"]))
    for _ in range(10):
        register(rivals["mine"], prefecture=Prefecture.objects.get(code="05"))
    with django_assert_num_queries(7):
        client.get(dashboard_url(rivals["mine"]))


def test_the_prefecture_download_is_excel_ready_utf8_with_a_bom(rivals: dict[str, Any]) -> None:
    response = signed_in(rivals["alice"]).get(export_url(rivals["mine"], "prefectures", "csv", "?min_minutes=5"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="' + rivals["mine"].slug + '-prefectures.csv"' in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["コード", "都道府県", "医師少数県", "登録者"]
    assert "視聴（5分以上）" in rows[0][4]
    assert len(rows) == 1 + 47
    iwate = next(row for row in rows if row[0] == "03")
    assert iwate[1:4] == ["岩手県", "はい", "2"]


def test_the_page_and_the_downloads_show_registrants_per_thousand_physicians(rivals: dict[str, Any]) -> None:
    # Iwate: 2 registrants; 1,210,534 people (2020 census) × 223.8 per 100,000 = 2,709.2 physicians → 0.74.
    client = signed_in(rivals["alice"])
    page = client.get(dashboard_url(rivals["mine"])).content.decode()
    assert "医師1,000人あたりの登録者数" in page
    assert "reference data does not have yet" not in page and "data-reach-note" not in page
    iwate_row = page.split('<th scope="row">岩手県')[1].split("</tr>")[0]
    assert '<td class="num">0.74</td>' in iwate_row
    response = client.get(export_url(rivals["mine"], "prefectures", "csv"))
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][-1] == "医師1,000人あたりの登録者数"
    iwate = next(row for row in rows if row[0] == "03")
    assert iwate[-1] == "0.74"
    sheet = load_workbook(io.BytesIO(client.get(export_url(rivals["mine"], "prefectures", "xlsx")).content),
                          read_only=True).active
    iwate_cells = next(row for row in sheet.iter_rows(values_only=True) if row[0] == "03")
    assert iwate_cells[-1] == 0.74


def test_the_shift_jis_download_decodes_as_cp932(rivals: dict[str, Any]) -> None:
    response = signed_in(rivals["alice"]).get(export_url(rivals["mine"], "regions", "csv", "?encoding=cp932"))
    assert response.status_code == 200
    assert not response.content.startswith(b"\xef\xbb\xbf")
    text = response.content.decode("cp932")
    assert "東北" in text and "合計" in text


def test_an_unknown_download_is_not_found(rivals: dict[str, Any]) -> None:
    client = signed_in(rivals["alice"])
    assert client.get(export_url(rivals["mine"], "contacts", "csv")).status_code == 404
    assert client.get(export_url(rivals["mine"], "daily", "pdf")).status_code == 404
    assert client.get(export_url(rivals["mine"], "daily", "csv", "?encoding=latin-1")).status_code == 404


def test_the_xlsx_download_opens_with_numbers_as_numbers(rivals: dict[str, Any]) -> None:
    Registration.objects.filter(event=rivals["mine"]).update(created_at="2026-11-01T03:00:00+00:00")
    response = signed_in(rivals["alice"]).get(export_url(rivals["mine"], "daily", "xlsx"))
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0] == ("日付", "医師少数都道府県", "その他の都道府県", "合計")
    assert rows[1] == ("2026-11-01", 2, 1, 3)


def test_a_cell_that_looks_like_a_formula_stays_text_in_both_formats() -> None:
    data = Table(title="t", header=["name", "n"], rows=[['=HYPERLINK("http://evil.example","x")', -3],
                                                       ["@SUM(A1)", 4], ["\tx", 5]])
    text = csv_response(data, "t").content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1] == ["'=HYPERLINK(\"http://evil.example\",\"x\")", "-3"]
    assert rows[2][0] == "'@SUM(A1)" and rows[3][0] == "'\tx"
    sheet = load_workbook(io.BytesIO(xlsx_response(data, "t").content)).active
    assert sheet["A2"].value == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert sheet["A2"].data_type == "s"
    assert sheet["B2"].value == -3


def test_staff_without_a_role_in_the_event_get_not_found(rivals: dict[str, Any]) -> None:
    other = make_staff("carol", "organizer")
    assert signed_in(other).get(dashboard_url(rivals["mine"])).status_code == 404
