"""The speaker's and organizer's console in Chromium: what each role is offered, errors, layout, the admin's links."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from rooms.lecture.chat import post_message
from rooms.lecture.rooms import assign_room
from rooms.lecture.sample_pdf import make_pdf
from rooms.lecture.stage import approve_slides, replace_slides
from rooms.models import Stage
from rooms.participants import Participant, public_profile
from tests.e2e.shapes import PHONE, server_env
from tests.factories import make_event, make_staff, make_talk, register
from tests.servers import daphne

pytestmark = [pytest.mark.e2e, pytest.mark.services]

DESK = {"viewport": {"width": 1280, "height": 800}, "locale": "ja-JP", "timezone_id": "Asia/Tokyo"}
ORGANIZER_ONLY = ["チャットを閉じる", "固定表示", "今すぐ懇親会を開始"]


def console_talk(approved: bool = True) -> Any:
    event = make_event(title="東北 肺がん Web講演会")
    talk = make_talk(event, title="ドライバー遺伝子と治療選択")
    Stage.objects.create(talk=talk, room_mode=Stage.RoomMode.REGION)
    talk.organizer = make_staff("org", "organizer")
    event.organizers.add(talk.organizer)
    talk.speaker = make_staff("spk", "speaker")
    talk.speakers.add(talk.speaker)
    replace_slides(talk, "slides.pdf", make_pdf(["Title", "Driver genes", "Referral"]), 3)
    if approved:
        approve_slides(talk, talk.organizer)
    return talk


def sign_in(browser: Any, base: str, username: str, shape: dict[str, Any], next_path: str = "") -> Any:
    """A staff member's page after the admin's sign-in form (make_staff's password is pw-<name>)."""
    page = browser.new_context(**shape).new_page()
    page.goto(f"{base}/admin/login/" + (f"?next={next_path}" if next_path else ""))
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("input[type=submit]")
    page.wait_for_load_state()
    return page


def open_console(browser: Any, base: str, talk: Any, username: str, shape: dict[str, Any] = DESK) -> Any:
    page = sign_in(browser, base, username, shape, f"/talks/{talk.pk}/console/")
    page.wait_for_selector("text=接続しました")
    return page


def chat_from(registration: Any, body: str) -> None:
    """A physician's chat message in their room, written as the socket would."""
    prefecture = registration.physician.prefecture
    physician = Participant(role="attendee", registration=registration,
                            author={**public_profile(registration), "role": "attendee"},
                            prefecture_code=prefecture.code)
    talk = registration.event.talks.get()
    post_message(assign_room(talk, physician), physician, body)


def test_a_speaker_is_offered_no_organizer_control_and_an_organizer_all_of_them(browser, postgres_url, redis_url, artifacts):
    talk = console_talk()
    chat_from(register(talk.event, full_name="岩手 太郎"), "よろしくお願いします")
    with daphne(server_env(postgres_url, redis_url)) as base:
        speaker = open_console(browser, base, talk, "spk")
        speaker.locator("[data-messages] li").first.wait_for()
        for name in ORGANIZER_ONLY + ["削除", "10分間ミュート"]:
            assert speaker.get_by_role("button", name=name).count() == 0, name
        for name in ["次のスライド", "配信を開始する", "全ルームに送信"]:
            assert speaker.get_by_role("button", name=name).is_visible(), name
        speaker.screenshot(path=str(artifacts / "console-speaker-desk.png"), full_page=True)

        organizer = open_console(browser, base, talk, "org")
        organizer.locator("[data-messages] li").first.wait_for()
        for name in ORGANIZER_ONLY + ["削除", "10分間ミュート", "次のスライド"]:
            assert organizer.get_by_role("button", name=name).first.is_visible(), name
        speaker.context.close()
        organizer.context.close()


def test_an_error_disappears_when_the_next_action_succeeds(browser, postgres_url, redis_url, artifacts):
    talk = console_talk(approved=False)
    with daphne(server_env(postgres_url, redis_url)) as base:
        page = open_console(browser, base, talk, "spk")
        error = page.locator("[data-error]")
        page.get_by_role("button", name="次のスライド").click()
        expect(error).to_have_text("スライドはまだ主催者に承認されていません。")
        page.screenshot(path=str(artifacts / "console-error-shown.png"))

        page.fill("[data-chat-input]", "準備できました")
        page.click("[data-chat-form] button")
        page.locator("[data-messages] li .body", has_text="準備できました").wait_for()
        # The error used to stay for its full five seconds, whatever happened next.
        expect(error).to_be_hidden(timeout=2000)

        page.get_by_role("button", name="次のスライド").click()
        expect(error).to_be_visible()  # refused again: said again
        page.context.close()


def _geometry(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box


def _settled(page: Any) -> None:
    """Wait until the console's layout stops moving (the slide is drawn by pdf.js after connecting).

    Boxes are measured one call at a time: a slide drawn between two calls moved
    everything below it by its height, and a field and its button seemed apart.
    """
    # The slide box appears with the stage frame and takes its height once pdf.js has drawn the page.
    page.wait_for_function("""() => {
        const figure = document.querySelector("[data-slide-figure]");
        const canvas = document.querySelector("[data-slide-canvas]");
        return !figure.hidden && (canvas.width !== 300 || canvas.height !== 150);  // no longer the blank default
    }""", timeout=30_000)
    page.wait_for_function("""() => {
        const top = document.querySelector("[data-broadcast-form]").getBoundingClientRect().top + scrollY;
        const same = window.__lastTop === top;
        window.__lastTop = top;
        return same;
    }""", polling=300, timeout=15_000)


def _placeholder_fits(page: Any, selector: str) -> bool:
    return page.eval_on_selector(selector, """(input) => {
        const style = getComputedStyle(input);
        const context = document.createElement("canvas").getContext("2d");
        context.font = style.font;
        const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
        return context.measureText(input.placeholder).width <= room;
    }""")


@pytest.mark.parametrize("shape, name", [(PHONE, "phone"), (DESK, "desk")])
def test_the_console_fields_use_the_full_width_and_line_up_with_their_buttons(
        browser, postgres_url, redis_url, artifacts, tmp_path, shape, name):
    talk = console_talk()
    with daphne(server_env(postgres_url, redis_url)) as base:
        page = open_console(browser, base, talk, "org", shape)
        width = shape["viewport"]["width"]
        _settled(page)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

        for form in ["[data-broadcast-form]", "[data-pin-form]"]:
            row = _geometry(page, form)
            field, button = _geometry(page, f"{form} input"), _geometry(page, f"{form} button")
            assert _placeholder_fits(page, f"{form} input"), form
            assert abs(field["x"] - row["x"]) <= 1 and abs(button["x"] + button["width"] - (row["x"] + row["width"])) <= 1
            if width < 600:
                # A phone: the field takes the card's width, its button the same width under it.
                assert field["width"] > 300, (form, field)
                assert abs(button["x"] - field["x"]) <= 1 and abs(button["width"] - field["width"]) <= 1
                assert button["y"] >= field["y"] + field["height"]
            else:
                # A desk: field and button share one row, the field taking what the button leaves.
                assert field["width"] > 450, (form, field)
                assert abs(button["y"] - field["y"]) <= 1 and abs(button["height"] - field["height"]) <= 1
                assert field["x"] + field["width"] < button["x"]
        select = _geometry(page, "[data-room-select]")
        assert select["width"] > (300 if width < 600 else 450)

        # The file picker speaks the page's language and names the file chosen.
        pick = page.locator(".file-pick")
        expect(pick).to_have_text("PDFを選択")
        expect(page.locator("[data-file-name]")).to_have_text("ファイルが選択されていません")
        assert _geometry(page, "[data-file-input]")["width"] <= 1  # the browser's English button is not shown
        pdf = tmp_path / "第2版スライド.pdf"
        pdf.write_bytes(make_pdf(["Revised"]))
        with page.expect_file_chooser() as chooser:
            pick.click()
        chooser.value.set_files(str(pdf))
        expect(page.locator("[data-file-name]")).to_have_text("第2版スライド.pdf")
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.locator(".console-slides").scroll_into_view_if_needed()
        page.screenshot(path=str(artifacts / f"console-organizer-{name}.png"), full_page=True)
        page.get_by_role("button", name="アップロード", exact=True).click()  # the styled picker's file is what is sent
        expect(page.locator(".console-slides")).to_contain_text("全1ページ。")
        page.context.close()


def test_the_admin_links_the_console_and_the_speaker_gets_there(browser, postgres_url, redis_url, artifacts):
    talk = console_talk()
    past = make_talk(talk.event, title="先月の講演", starts_in=timedelta(days=-30))
    past.speakers.add(talk.speaker)
    others = make_talk(talk.event, title="他の演者の講演")
    others.speakers.add(make_staff("spk2", "speaker"))
    with daphne(server_env(postgres_url, redis_url)) as base:
        page = sign_in(browser, base, "spk", DESK)
        # Where staff land after signing in: their next talks, each with its console.
        mine = page.locator("#staff-talks")
        expect(mine).to_contain_text("あなたの講演")
        expect(mine).to_contain_text("ドライバー遺伝子と治療選択")
        expect(mine).not_to_contain_text("他の演者の講演")
        expect(mine).not_to_contain_text("先月の講演")
        expect(mine.get_by_role("link", name="コンソールを開く")).to_have_attribute("href", f"/talks/{talk.pk}/console/")
        page.screenshot(path=str(artifacts / "admin-index-speaker.png"), full_page=True)
        page.set_viewport_size(PHONE["viewport"])
        page.reload()
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(artifacts / "admin-index-speaker-phone.png"), full_page=True)
        page.set_viewport_size(DESK["viewport"])

        page.goto(f"{base}/admin/events/talk/")
        row = page.locator("#result_list tr", has_text="ドライバー遺伝子と治療選択")
        expect(row.get_by_role("link", name="コンソールを開く")).to_have_attribute("href", f"/talks/{talk.pk}/console/")
        page.screenshot(path=str(artifacts / "admin-talks-speaker.png"), full_page=True)

        page.goto(f"{base}/admin/events/talk/{talk.pk}/change/")
        page.screenshot(path=str(artifacts / "admin-talk-speaker.png"), full_page=True)
        page.locator(".object-tools").get_by_role("link", name="コンソールを開く").click()
        page.wait_for_selector("text=接続しました")
        assert page.url == f"{base}/talks/{talk.pk}/console/"
        page.context.close()
