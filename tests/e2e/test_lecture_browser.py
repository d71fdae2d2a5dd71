"""A physician on a phone and the speaker at a desk, in two browsers, in one talk."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from events.joinlinks import join_url
from rooms.lecture.sample_pdf import make_pdf
from rooms.lecture.stage import approve_slides, replace_slides
from rooms.models import Stage
from tests.e2e.shapes import PHONE, open_console, server_env
from tests.factories import make_event, make_staff, make_talk, register
from tests.servers import daphne

pytestmark = [pytest.mark.e2e, pytest.mark.services]


def test_chat_reaches_the_console_and_the_next_slide_reaches_the_phone(browser, postgres_url, redis_url, artifacts):
    event = make_event(title="東北 肺がん Web講演会")
    talk = make_talk(event, title="ドライバー遺伝子と治療選択")
    Stage.objects.create(talk=talk, room_mode=Stage.RoomMode.REGION)
    organizer = make_staff("org", "organizer")
    event.organizers.add(organizer)
    speaker: User = make_staff("speaker1", "speaker")
    speaker.set_password("pw-for-the-speaker")
    speaker.save()
    talk.speakers.add(speaker)
    replace_slides(talk, "slides.pdf", make_pdf(["Title", "Driver genes", "Referral"]), 3)
    approve_slides(talk, organizer)
    physician = register(event, full_name="岩手 太郎")
    env = server_env(postgres_url, redis_url)
    with daphne(env) as base:
        doctor = browser.new_context(**PHONE).new_page()
        doctor.goto(base + "/" + join_url(physician).split("/", 3)[3])
        doctor.get_by_role("link", name="講演ルームに入る").first.click()
        doctor.wait_for_selector("text=接続しました")

        desk = open_console(browser, base, talk.pk, "speaker1", "pw-for-the-speaker")
        desk.click('[data-action="live"]')
        desk.locator('[data-action="live"]').wait_for(state="hidden")  # live once; "end" is what remains
        assert desk.locator('[data-action="end"]').is_visible()

        doctor.fill("[data-chat-input]", "<b>太字</b>にはなりません")
        doctor.click("[data-chat-form] button")
        message = desk.locator("[data-messages] li .body").filter(has_text="にはなりません")
        message.wait_for()
        assert message.inner_text() == "<b>太字</b>にはなりません"
        assert desk.locator("[data-messages] b").count() == 0
        assert "岩手 太郎" in desk.locator("[data-messages] li .who").first.inner_text()

        desk.click('[data-action="slide-next"]')
        doctor.wait_for_selector("[data-slide-caption]:has-text('スライド 2 / 3')")
        doctor.wait_for_selector("canvas[data-rendered-page='2']")
        assert desk.locator("[data-slide-caption]").inner_text() == "スライド 2 / 3"

        doctor.wait_for_selector("[data-presence]:has-text('1 人が参加中')")
        doctor.screenshot(path=str(artifacts / "lecture-physician-phone.png"), full_page=True)
        desk.screenshot(path=str(artifacts / "lecture-speaker-console.png"), full_page=True)
        doctor.context.close()
        desk.context.close()
