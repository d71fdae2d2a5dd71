"""The organizer builds an audience on a phone and sees, before sending, how many it reaches on the map of Japan."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
from django.core.management import call_command

from campaigns.audiences import audience_size
from campaigns.models import DEMO_ORGANIZATION_SLUG, Audience, Contact, OptOut, Organization
from events.management.commands.load_demo import ORGANIZER
from regions.models import Prefecture, Region
from tests.e2e.shapes import DESK, PHONE, map_painted, organizer_page

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LAPTOP = {**DESK, "viewport": {"width": 1280, "height": 800}}
AUDIENCES = f"/organizer/{DEMO_ORGANIZATION_SLUG}/audiences/"
MAP_PAINTED = map_painted("#audience-map")


def demo_contacts() -> Organization:
    """The demo organization with contacts in Tohoku, Kanto and Osaka: most sendable, a quarter without consent."""
    call_command("load_demo", stdout=io.StringIO())
    organization = Organization.objects.get(slug=DEMO_ORGANIZATION_SLUG)
    # The demo's own list (its finished campaign's 400) would blur the counts this test computes by hand.
    organization.contacts.all().delete()
    codes = ["02", "03", "03", "03", "04", "05", "07", "07", "13", "13", "13", "13", "13", "14", "11", "27"]
    for n, code in enumerate(codes):
        consent = {"consent_date": date(2026, 4, 1), "consent_source": "学会ウェブサイト"} if n % 4 else {}
        Contact.objects.create(organization=organization, email=f"doctor{n}@example.jp", full_name=f"医師 {n}",
                               prefecture=Prefecture.objects.get(code=code), **consent)
    OptOut.objects.create(organization=organization, email="doctor5@example.jp")
    return organization


def sign_in(browser: Any, base: str, shape: dict[str, Any], language: str, path: str) -> Any:
    return organizer_page(browser, base, shape, language, path, ORGANIZER)


def map_drawn(page: Any) -> None:
    page.wait_for_selector("#audience-map canvas", timeout=10_000)
    page.wait_for_function(MAP_PAINTED, timeout=10_000)
    assert not page.locator("#audience-map").get_attribute("data-error")
    box = page.locator("#audience-map canvas").first.bounding_box()
    assert box["width"] > 300 and box["height"] > 300


def test_the_organizer_builds_an_audience_on_a_phone_and_sees_its_map(browser, live_server, artifacts):
    demo_contacts()
    page = sign_in(browser, live_server.url, PHONE, "ja", f"{AUDIENCES}new/")
    page.fill("#id_name", "東北と東京の先生方")
    page.get_by_label("東北", exact=True).check()
    page.locator("summary", has_text="関東").click()
    page.get_by_label("東京都", exact=True).check()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "audience-form-ja-phone.png"), full_page=True)
    page.get_by_role("button", name="配信対象を保存").click()
    page.wait_for_url(re.compile(r"/audiences/\d+/$"))
    map_drawn(page)

    audience = Audience.objects.get(name="東北と東京の先生方")
    size = audience_size(audience)
    # 8 in Tohoku and 5 in Tokyo; every fourth has no consent, one opted out.
    assert (size.targeted, size.sendable) == (13, 8)
    assert page.locator("[data-total=targeted]").inner_text() == "13"
    assert page.locator("[data-total=sendable]").inner_text() == "8"
    assert "岩手県" in page.locator("[data-table=prefectures]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(artifacts / "audience-ja-phone.png"), full_page=True)
    page.locator("#audience-map").screenshot(path=str(artifacts / "audience-ja-phone-map.png"))
    page.context.close()


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_audience_page_on_a_laptop(browser, live_server, artifacts, language):
    organization = demo_contacts()
    audience = Audience.objects.create(organization=organization, name="医師少数県の先生方", shortage_only=True)
    audience.regions.set(Region.objects.filter(key__in=["tohoku", "kanto"]))
    page = sign_in(browser, live_server.url, LAPTOP, language, f"{AUDIENCES}{audience.pk}/")
    map_drawn(page)
    text = page.locator("main").inner_text()
    assert ("都道府県別の対象者数" if language == "ja" else "Targeted contacts by prefecture") in text
    assert page.locator("[data-total=targeted]").inner_text() == str(audience_size(audience).targeted)
    assert "東京" not in page.locator("[data-table=prefectures]").inner_text()  # Tokyo is not short of physicians
    page.screenshot(path=str(artifacts / f"audience-{language}-desk.png"), full_page=True)
    page.goto(f"{live_server.url}{AUDIENCES}")
    assert "医師少数県の先生方" in page.locator("[data-table=audiences]").inner_text()
    page.screenshot(path=str(artifacts / f"audiences-{language}-desk.png"), full_page=True)
    page.context.close()
