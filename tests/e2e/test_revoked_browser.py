"""A physician's open lecture rooms say why they closed, and stop, when their link is revoked or they are removed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings

from events.joinlinks import join_url
from rooms.models import Stage
from tests.e2e.shapes import DESK, PHONE, open_console, server_env
from tests.factories import make_event, make_staff, make_talk, register
from tests.servers import daphne

pytestmark = [pytest.mark.e2e, pytest.mark.services]

DESKTOP = {**DESK, "viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def room(browser: Any, postgres_url: str, redis_url: str) -> Iterator[dict[str, Any]]:
    """A live talk; one physician in its lecture room on a phone (Japanese) and on a desktop (English)."""
    event = make_event(title="東北 肺がん Web講演会")
    talk = make_talk(event, title="ドライバー遺伝子と治療選択")
    Stage.objects.create(talk=talk, state=Stage.State.LIVE)
    event.organizers.add(make_staff("org", "organizer"))
    physician = register(event, full_name="岩手 太郎")
    join = "/" + join_url(physician).split("/", 3)[3]
    with daphne(server_env(postgres_url, redis_url)) as base:
        phone = browser.new_context(**PHONE).new_page()
        phone.goto(base + join)
        phone.get_by_role("link", name="講演ルームに入る").first.click()
        phone.wait_for_selector("text=接続しました")
        sockets: list[Any] = []
        phone.on("websocket", lambda ws: sockets.append(ws))
        desk_context = browser.new_context(**DESKTOP)
        desk_context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base}])
        desk = desk_context.new_page()
        desk.goto(base + join)
        desk.goto(f"{base}/talks/{talk.pk}/")
        desk.wait_for_selector("text=Connected")
        yield {"base": base, "talk": talk, "physician": physician, "phone": phone, "desk": desk,
               "new_sockets": sockets}
        for page in (phone, desk):
            page.context.close()


def assert_closed_with(room: dict[str, Any], japanese: str, english: str) -> None:
    """Both pages show why, in their language, with every form disabled, and neither tries to reconnect."""
    phone, desk = room["phone"], room["desk"]
    for page, text in ((phone, japanese), (desk, english)):
        banner = page.locator("[data-closed]")
        banner.wait_for(state="visible", timeout=5000)
        assert banner.inner_text().startswith(text)
        assert page.locator("[data-chat-input]").is_disabled()
        assert page.locator("[data-chat-form] button").is_disabled()
    assert phone.locator("[data-conn]").inner_text() == "切断されました"
    assert desk.locator("[data-conn]").inner_text() == "Disconnected"
    # A retry would come within a second (the back-off's first step is 0.5–1 s): none comes. Waited
    # on the page's own clock, scheduled after the close was handled: its timers fire in order of
    # their due time, so a retry due within 1 s would have opened its socket before this 2.5 s
    # timer (a margin of 1.5 s) fires, and Playwright reports that socket before the result.
    phone.evaluate("() => new Promise((done) => setTimeout(done, 2500))")
    assert room["new_sockets"] == []
    assert phone.locator("[data-conn]").inner_text() == "切断されました"


def test_a_link_revoked_in_the_admin_closes_the_physicians_open_pages_with_a_message(browser, room, artifacts):
    admin = browser.new_context(**DESKTOP).new_page()
    admin.goto(f"{room['base']}/admin/login/?next=/admin/events/registration/")
    admin.fill("#id_username", "org")
    admin.fill("#id_password", "pw-org")
    admin.click("input[type=submit]")
    admin.check(f"input[name=_selected_action][value='{room['physician'].pk}']")
    admin.select_option("select[name=action]", "revoke_links")
    admin.click("button[name=index]")
    admin.wait_for_selector("text=参加用URLを無効にしました")
    assert_closed_with(room, "参加用URLが無効になりました（主催者が取り消しました）。",
                       "Your join link is no longer valid: the organizer has revoked it.")
    room["phone"].screenshot(path=str(artifacts / "revoked-link-phone.png"), full_page=True)
    room["desk"].screenshot(path=str(artifacts / "revoked-link-desktop-en.png"), full_page=True)
    admin.context.close()


def test_a_moderator_removes_a_physician_from_the_console_and_their_pages_say_so(browser, room, artifacts):
    desk = open_console(browser, room["base"], room["talk"].pk, "org", "pw-org")
    room["phone"].fill("[data-chat-input]", "よろしくお願いします")
    room["phone"].click("[data-chat-form] button")
    message = desk.locator("[data-messages] li").filter(has_text="よろしくお願いします")
    desk.on("dialog", lambda dialog: dialog.accept())
    message.get_by_role("button", name="退出させる").click()
    assert_closed_with(room, "モデレーターの判断により、この講演会から退出となりました。",
                       "A moderator has removed you from this event.")
    room["phone"].screenshot(path=str(artifacts / "removed-phone.png"), full_page=True)
    desk.screenshot(path=str(artifacts / "removed-console.png"), full_page=True)
    desk.context.close()
