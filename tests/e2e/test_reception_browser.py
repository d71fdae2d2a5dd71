"""Several physicians watch a talk end, land without a reload at a table of their own area, and exchange cards."""

from __future__ import annotations

import pytest

from events.joinlinks import join_url
from regions.models import Prefecture
from rooms.models import CardSettings, Reception, Stage
from tests.e2e.shapes import PHONE, open_console, server_env
from tests.factories import make_event, make_staff, make_talk, register
from tests.servers import daphne

pytestmark = [pytest.mark.e2e, pytest.mark.services]


def test_physicians_are_moved_to_tables_of_their_area_when_the_talk_ends(browser, postgres_url, redis_url, artifacts):
    event = make_event(title="東北 肺がん Web講演会")
    talk = make_talk(event, title="ドライバー遺伝子と治療選択")
    Stage.objects.create(talk=talk, room_mode=Stage.RoomMode.REGION, state=Stage.State.LIVE)
    Reception.objects.create(talk=talk, room_size=3)
    speaker = make_staff("speaker1", "speaker")
    speaker.set_password("pw-for-the-speaker")
    speaker.save()
    talk.speakers.add(speaker)
    iwate, tokyo = Prefecture.objects.get(code="03"), Prefecture.objects.get(code="13")
    people = [register(event, full_name=f"岩手 医師{n}", prefecture=iwate) for n in range(3)]
    people += [register(event, full_name=f"東京 医師{n}", prefecture=tokyo, facility_type="hospital") for n in range(3)]
    CardSettings.objects.create(physician=people[2].physician, show_specialty=True)  # only she shows her specialty
    env = server_env(postgres_url, redis_url)
    with daphne(env) as base:
        pages = []
        for person in people:
            page = browser.new_context(**PHONE).new_page()
            page.goto(base + "/" + join_url(person).split("/", 3)[3])
            page.get_by_role("link", name="講演ルームに入る").first.click()
            page.wait_for_selector("text=接続しました")
            pages.append(page)
        desk = open_console(browser, base, talk.pk, "speaker1", "pw-for-the-speaker")
        urls = [page.url for page in pages]

        desk.click('[data-action="end"]')

        for page, area in zip(pages, ["岩手県"] * 3 + ["東京都"] * 3, strict=True):
            page.wait_for_selector(f"[data-reception-title]:has-text('{area}')")
            members = page.locator("[data-reception-members] li")
            assert members.count() == 3
            assert all(area in text for text in members.all_inner_texts())
            assert page.locator("[data-reception-timer]").inner_text().startswith("残り時間")
            assert not page.locator(".stream").is_visible()
        assert [page.url for page in pages] == urls  # no reload, no navigation
        pages[0].wait_for_selector("[data-presence]:has-text('3 人が参加中 / 全ルーム 6')")  # the table, then everyone
        shown = [text for text in pages[0].locator("[data-reception-members] li").all_inner_texts() if "内科" in text]
        assert len(shown) == 1 and "岩手 医師2" in shown[0]

        pages[0].fill("[data-chat-input]", "盛岡で開業しています")
        pages[0].click("[data-chat-form] button")
        for page in pages[1:3]:
            page.locator("[data-messages] li .body").filter(has_text="盛岡で開業しています").wait_for()
        # The Tokyo table never sees it. Proved after markers sent later through the Tokyo table (its own
        # line) and the whole talk (the console's broadcast): once both show, a leaked line would show too.
        pages[3].fill("[data-chat-input]", "東京から参加しています")
        pages[3].click("[data-chat-form] button")
        desk.fill("[data-broadcast-input]", "あと10分で終了します")
        desk.click("[data-broadcast-form] button")
        pages[3].locator("[data-messages] li .body").filter(has_text="東京から参加しています").wait_for()
        pages[3].wait_for_selector("[data-reception-announcement]:has-text('あと10分で終了します')")
        assert pages[3].locator("[data-messages] li .body").filter(has_text="盛岡で開業しています").count() == 0

        # 名刺交換: one offers, the other accepts, and only then both hold each other's card.
        pages[0].click(f"[data-offer-to='{people[1].pk}']")
        pages[1].wait_for_selector("[data-card-offer]:has-text('岩手 医師0')")
        assert pages[0].locator("[data-card-list] li").count() == 0
        pages[1].click("[data-action='card-accept']")
        pages[0].wait_for_selector("[data-card-list] li:has-text('岩手 医師1')")
        pages[1].wait_for_selector("[data-card-list] li:has-text('岩手 医師0')")
        assert pages[2].locator("[data-card-list] li").count() == 0

        desk.locator("[data-reception-rooms] li").nth(1).wait_for()
        assert not desk.locator("[data-action='open-reception']").is_visible()  # it opens once
        assert not desk.locator("[data-action='end']").is_visible() and not desk.locator("[data-action='live']").is_visible()
        pages[0].screenshot(path=str(artifacts / "reception-physician-phone.png"), full_page=True)
        desk.screenshot(path=str(artifacts / "reception-speaker-console.png"), full_page=True)
        for page in [*pages, desk]:
            page.context.close()
