"""A physician opens their viewing log from the lobby and prints a certificate to PDF, on a phone and at a desk."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from pypdf import PdfReader

from campaigns.certificates import certificate_number
from events.joinlinks import join_url
from tests.campaigns.test_certificates import certificate_scene
from tests.e2e.shapes import DESK, PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LAPTOP = {**DESK, "viewport": {"width": 1280, "height": 800}}
A4_POINTS = (595.3, 841.9)  # 210 x 297 mm at 72 points per inch


@pytest.mark.parametrize("shape,name", [(PHONE, "phone"), (LAPTOP, "desk")])
def test_a_physician_prints_the_certificate_of_a_talk_they_watched(browser, live_server, artifacts, shape, name):
    scene = certificate_scene()
    number = certificate_number(scene["physician"].pk, scene["talk"].pk)
    page: Any = browser.new_context(**shape).new_page()
    page.goto(live_server.url + "/" + join_url(scene["physician"]).split("/", 3)[3])
    page.get_by_role("link", name="視聴履歴・受講証明書").click()
    page.wait_for_url(re.compile(r"/viewing/$"))
    log = page.locator("table.viewing-log")
    assert "55 分" in log.inner_text() and "未視聴" in log.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= shape["viewport"]["width"]
    page.screenshot(path=str(artifacts / f"viewing-log-ja-{name}.png"), full_page=True)

    log.get_by_role("link", name="受講証明書").click()
    page.wait_for_selector("[data-certificate]")
    sheet = page.locator(".certificate").inner_text()
    for expected in ("受講証明書", "岩手 太郎 殿", "肺がん薬物療法の最前線", "東北医学会", "55 分", number):
        assert expected in sheet, expected
    assert page.get_by_role("button", name="印刷・PDFで保存").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= shape["viewport"]["width"]
    page.screenshot(path=str(artifacts / f"certificate-ja-{name}.png"), full_page=True)

    # Printed as the page's own CSS asks (@page A4): one A4 page, the certificate alone (no header,
    # language switch or buttons). Chromium rounds the page to whole pixels: within 2 points.
    printed_pdf = page.pdf(prefer_css_page_size=True, print_background=True)
    pdf = PdfReader(io.BytesIO(printed_pdf))
    assert len(pdf.pages) == 1
    box = pdf.pages[0].mediabox
    assert abs(float(box.width) - A4_POINTS[0]) < 2 and abs(float(box.height) - A4_POINTS[1]) < 2
    printed = pdf.pages[0].extract_text()
    assert number in printed and "Renkei 連携" not in printed and "English" not in printed
    (artifacts / f"certificate-ja-{name}.pdf").write_bytes(printed_pdf)
    page.emulate_media(media="print")
    page.set_viewport_size({"width": 794, "height": 1123})  # A4 at 96 dpi: what the PDF holds, to look at
    page.screenshot(path=str(artifacts / f"certificate-ja-{name}-print.png"))

    # English one click away: the same certificate, the same number.
    page.emulate_media(media="screen")
    page.set_viewport_size(shape["viewport"])
    page.get_by_role("button", name="English").click()
    page.wait_for_selector("text=Certificate of attendance")
    sheet = page.locator(".certificate").inner_text()
    assert "岩手 太郎, M.D." in sheet and "55 min" in sheet and number in sheet
    page.screenshot(path=str(artifacts / f"certificate-en-{name}.png"), full_page=True)
    page.context.close()


@pytest.mark.parametrize("shape,name", [(PHONE, "phone"), (LAPTOP, "desk")])
def test_the_organizer_opens_a_physicians_certificate_from_the_registration_page(
    browser, live_server, artifacts, shape, name
):
    scene = certificate_scene()
    page: Any = browser.new_context(**shape).new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/events/registration/{scene['physician'].pk}/change/")
    page.fill("#id_username", "org")
    page.fill("#id_password", "pw-org")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/change/$"))
    field = page.locator(".field-viewing_log")
    assert "55 分" in field.inner_text() and "0 分" in field.inner_text()
    assert "/ 100" in page.locator(".field-engagement_score").inner_text()
    page.screenshot(path=str(artifacts / f"certificate-admin-ja-{name}.png"), full_page=True)
    field.get_by_role("link", name="受講証明書").click()
    page.wait_for_selector("[data-certificate]")
    assert "岩手 太郎 殿" in page.locator(".certificate").inner_text()
    assert page.get_by_role("link", name="申込みに戻る").is_visible()
    page.context.close()
