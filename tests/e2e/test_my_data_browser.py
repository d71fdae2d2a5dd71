"""A physician opens 「自分のデータ」 from the lobby on a phone, reads it, and deletes their data after confirming."""

from __future__ import annotations

import re
from typing import Any

import pytest

from events.joinlinks import join_url
from events.models import Physician
from tests.campaigns.test_privacy import scene as privacy_scene  # noqa: F401  (the fixture)
from tests.e2e.shapes import PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_physician_reads_and_deletes_their_data_on_a_phone(browser, live_server, artifacts, privacy_scene):
    s = privacy_scene
    page: Any = browser.new_context(**PHONE).new_page()
    page.goto(live_server.url + "/" + join_url(s["clinic"]).split("/", 3)[3])
    page.get_by_role("link", name="自分のデータ", exact=True).click()
    page.wait_for_url(re.compile(r"/my-data/$"))
    assert "岩手 診療所" in page.inner_text("main") and "盛岡で紹介先を探しています" in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    page.screenshot(path=str(artifacts / "my-data-ja-phone.png"), full_page=True)
    page.get_by_role("link", name="自分のデータを削除する…").click()
    page.wait_for_url(re.compile(r"/my-data/delete/$"))
    assert "この操作は元に戻せません。" in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["viewport"]["width"]
    page.screenshot(path=str(artifacts / "my-data-delete-ja-phone.png"), full_page=True)
    page.get_by_role("button", name="English").click()
    page.get_by_role("heading", name="Delete my data").wait_for()
    assert "shown as “Deleted user”" in page.inner_text("main")
    page.screenshot(path=str(artifacts / "my-data-delete-en-phone.png"), full_page=True)
    page.get_by_role("button", name="Delete my data now").click()
    page.get_by_role("heading", name="Your data has been deleted").wait_for()
    assert Physician.objects.get(pk=s["clinic"].physician_id).erased_at is not None
