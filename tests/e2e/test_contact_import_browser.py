"""An organizer imports a cp932 contact list from a phone and from a laptop: upload, preview, confirm."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings

from campaigns.models import Contact
from tests.campaigns.files import contact_row, write_csv
from tests.e2e.shapes import DESK, PHONE
from tests.factories import make_organization, make_staff

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def signed_in(browser: Any, base: str, shape: dict[str, Any]) -> Any:
    context = browser.new_context(**shape)
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "ja", "url": base}])
    page = context.new_page()
    page.goto(f"{base}/organizer/iwate/contacts/import/")  # sends her to sign in, then back
    page.fill("#id_username", "hanako")
    page.fill("#id_password", "pw-hanako")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/organizer/iwate/contacts/import/$"))
    return page


@pytest.mark.parametrize("shape_name", ["phone", "desk"])
def test_an_organizer_previews_every_rejected_row_then_confirms(browser, live_server, artifacts, tmp_path, shape_name):
    shape = {"phone": PHONE, "desk": DESK}[shape_name]
    make_organization("iwate", make_staff("hanako", "organizer"), name="岩手医学会")
    path = write_csv(tmp_path / "名簿.csv", [contact_row(1), contact_row(2, email="メール不明"),
                                            contact_row(3, prefecture="ムー大陸"), contact_row(4), contact_row(1)])
    page = signed_in(browser, live_server.url, shape)
    page.screenshot(path=str(artifacts / f"contact-import-{shape_name}.png"), full_page=True)
    assert "連絡先リストの取り込み" in page.inner_text("h1")

    page.set_input_files("#id_file", str(path))
    page.click("main button[type=submit]")
    page.wait_for_selector("[data-counts]")
    page.screenshot(path=str(artifacts / f"contact-import-preview-{shape_name}.png"), full_page=True)
    assert page.inner_text("[data-count=imported]") == "2"
    assert page.inner_text("[data-count=merged]") == "1"
    rejected = page.inner_text("[data-rejected]")
    assert "ムー大陸" in rejected and "メール不明" in rejected
    assert page.evaluate("document.documentElement.scrollWidth") <= shape["viewport"]["width"]
    assert not Contact.objects.exists()

    page.click("text=3 行を取り込む")
    page.wait_for_selector("[data-summary]")
    page.screenshot(path=str(artifacts / f"contact-import-done-{shape_name}.png"), full_page=True)
    assert "新規 2 件、統合 1 件、不採用 2 件" in page.inner_text("[data-summary]")
    assert Contact.objects.count() == 2
    page.click("text=所属組織")
    page.wait_for_url(re.compile(r"/organizer/$"))
    page.screenshot(path=str(artifacts / f"organizer-organizations-{shape_name}.png"), full_page=True)
    assert "岩手医学会" in page.inner_text("main") and "2" in page.inner_text("main td.num")
