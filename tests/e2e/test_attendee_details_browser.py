"""The small things a physician and an organizer notice: the start date, a talk without slides,
the chat box's hint, and the reception report on a phone and at a desk."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from events.joinlinks import join_url
from rooms.models import Reception
from rooms.reception import cards
from tests.e2e.shapes import PHONE, open_console, server_env
from tests.factories import make_event, make_staff, make_talk, register
from tests.rooms.scenes import reception_scene
from tests.servers import daphne

pytestmark = [pytest.mark.e2e, pytest.mark.services]

TOKYO = ZoneInfo("Asia/Tokyo")
# The brief's desk: a 1280 x 800 laptop screen.
DESK_800 = {"viewport": {"width": 1280, "height": 800}, "locale": "ja-JP", "timezone_id": "Asia/Tokyo"}


def next_sunday_7pm() -> datetime:
    """19:00 Japan time on a Sunday at least a day ahead: a date and weekday the page must spell out."""
    today = timezone.now().astimezone(TOKYO).date() + timedelta(days=1)
    sunday = today + timedelta(days=(6 - today.weekday()) % 7)
    return datetime(sunday.year, sunday.month, sunday.day, 19, 0, tzinfo=TOKYO)


def organizer(username: str, event: Any) -> User:
    user = make_staff(username, "organizer")
    user.set_password(f"pw-for-{username}")
    user.save()
    event.organizers.add(user)
    return user


def enter_room(browser: Any, base: str, registration: Any, shape: dict[str, Any]) -> Any:
    page = browser.new_context(**shape).new_page()
    page.goto(base + "/" + join_url(registration).split("/", 3)[3])
    page.get_by_role("link", name="講演ルームに入る").first.click()
    page.wait_for_selector("text=接続しました")
    return page


def test_before_the_talk_the_room_gives_the_date_shows_no_empty_slide_and_the_chat_box_always_says_what_to_do(
    browser, postgres_url, redis_url, artifacts
):
    starts = next_sunday_7pm()
    event = make_event(title="東北 肺がん Web講演会")
    talk = make_talk(event, title="ドライバー遺伝子と治療選択", starts_in=starts - timezone.now())
    organizer("org1", event)
    on_phone, at_desk = register(event, full_name="岩手 太郎"), register(event, full_name="宮城 花子")
    with daphne(server_env(postgres_url, redis_url)) as base:
        phone = enter_room(browser, base, on_phone, PHONE)
        desk = enter_room(browser, base, at_desk, DESK_800)
        phone.screenshot(path=str(artifacts / "details-lecture-before-phone.png"), full_page=True)
        desk.screenshot(path=str(artifacts / "details-lecture-before-desk.png"))
        for page in (phone, desk):
            before = page.locator("[data-before]").inner_text()
            assert f"{starts.month}月{starts.day}日(日) 19:00" in before
            # No slides were uploaded: no empty white box where they would be.
            assert not page.locator("figure.slide").is_visible()
            assert page.locator("[data-chat-input]").get_attribute("placeholder") == "メッセージを入力"

        console = open_console(browser, base, talk.pk, "org1", "pw-for-org1")
        console.click('[data-action="chat-toggle"]')
        phone.wait_for_selector("[data-chat-input][placeholder='現在チャットは閉じられています。']:disabled")
        phone.screenshot(path=str(artifacts / "details-lecture-chat-closed-phone.png"), full_page=True)
        console.click('[data-action="chat-toggle"]')
        phone.wait_for_selector("[data-chat-input][placeholder='メッセージを入力']:enabled")

        english = browser.new_context(**PHONE)
        english.add_cookies([{"name": "django_language", "value": "en", "url": base}])
        page = english.new_page()
        page.goto(base + "/" + join_url(on_phone).split("/", 3)[3])
        page.goto(f"{base}/talks/{talk.pk}/")
        page.wait_for_selector("text=Connected")
        assert f"Sun {starts.day} {starts:%b} 19:00" in page.locator("[data-before]").inner_text()
        assert page.locator("[data-chat-input]").get_attribute("placeholder") == "Write a message"
        for context in (phone.context, desk.context, console.context, english):
            context.close()


def staff_page(browser: Any, base: str, shape: dict[str, Any], username: str, password: str, path: str) -> Any:
    page = browser.new_context(**shape).new_page()
    page.goto(f"{base}/admin/login/?next={path}")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}{path}")
    return page


def test_the_reception_report_reads_well_on_a_phone_and_at_a_desk_and_says_when_nothing_happened_yet(
    browser, postgres_url, redis_url, artifacts
):
    scene = reception_scene()
    exchange = cards.offer(scene["talk"], scene["room"], scene["clinic"], scene["hospital"].pk)
    cards.answer(scene["talk"], exchange.pk, scene["hospital"], accept=True)
    scene["organizer"].set_password("pw-for-org")
    scene["organizer"].save()
    later = make_talk(scene["event"], title="次の講演", starts_in=next_sunday_7pm() - timezone.now())
    Reception.objects.create(talk=later)
    report = f"/talks/{scene['talk'].pk}/reception/"
    with daphne(server_env(postgres_url, redis_url)) as base:
        for name, shape in (("phone", PHONE), ("desk", DESK_800)):
            page = staff_page(browser, base, shape, "org", "pw-for-org", report)
            table = page.locator("table.table").first
            header = table.locator("thead th").first
            # A table across the page, its rows divided by lines: not a loose grid of bare text.
            content = page.locator("main").evaluate("m => m.clientWidth - parseFloat(getComputedStyle(m).paddingLeft) * 2")
            assert table.bounding_box()["width"] >= content * 0.95
            assert header.evaluate("th => getComputedStyle(th).borderBottomWidth") == "1px"
            assert page.evaluate("document.documentElement.scrollWidth") <= shape["viewport"]["width"]
            assert "から開催中" in page.locator("[data-report-state]").inner_text()
            assert page.locator("table.table").nth(1).locator("tbody tr").all_inner_texts() == ["診療所・クリニック · 岩手県\t病院 · 宮城県\t1"]
            page.screenshot(path=str(artifacts / f"details-reception-report-{name}.png"), full_page=True)

            page.goto(f"{base}/talks/{later.pk}/reception/")
            waiting = page.locator("[data-report-state='not-open']")
            assert f"{later.ends_at.astimezone(TOKYO).day}日(日) 20:00" in waiting.inner_text()
            assert page.locator("table").count() == 0
            page.screenshot(path=str(artifacts / f"details-reception-report-not-open-{name}.png"), full_page=True)

            page.goto(f"{base}/privacy/")
            assert "氏名・施設区分（病院または診療所）・都道府県は常に表示されます" in page.locator("[data-privacy-shares]").inner_text()
            assert page.evaluate("document.documentElement.scrollWidth") <= shape["viewport"]["width"]
            page.screenshot(path=str(artifacts / f"details-privacy-{name}.png"), full_page=True)
            page.context.close()
