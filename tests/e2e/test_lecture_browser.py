"""A physician on a phone and the speaker at a desk, in two browsers, in one talk."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.contrib.auth.models import User

from events.joinlinks import join_url
from rooms import services
from rooms.models import Stage
from rooms.sample_pdf import make_pdf
from tests.factories import make_event, make_staff, make_talk, register
from tests.servers import daphne

pytestmark = [pytest.mark.e2e, pytest.mark.services]

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "locale": "ja-JP", "timezone_id": "Asia/Tokyo"}
DESK = {"viewport": {"width": 1280, "height": 900}, "locale": "ja-JP", "timezone_id": "Asia/Tokyo"}


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
    services.replace_slides(talk, "slides.pdf", make_pdf(["Title", "Driver genes", "Referral"]), 3)
    services.approve_slides(talk, organizer)
    physician = register(event, full_name="岩手 太郎")
    env = {"DATABASE_URL": postgres_url, "REDIS_URL": redis_url, "SECRET_KEY": settings.SECRET_KEY,
           "CHANNEL_LAYER_PREFIX": f"renkei-test-{uuid.uuid4().hex[:8]}", "ALLOWED_HOSTS": "127.0.0.1",
           "DEBUG": "0", "DB_CONN_MAX_AGE": "0", "MEDIA_ROOT": str(settings.MEDIA_ROOT)}
    with daphne(env) as base:
        doctor = browser.new_context(**PHONE).new_page()
        doctor.goto(base + "/" + join_url(physician).split("/", 3)[3])
        doctor.get_by_role("link", name="講演ルームに入る").first.click()
        doctor.wait_for_selector("text=接続しました")

        desk = browser.new_context(**DESK).new_page()
        desk.goto(f"{base}/admin/login/?next=/talks/{talk.pk}/console/")
        desk.fill("#id_username", "speaker1")
        desk.fill("#id_password", "pw-for-the-speaker")
        desk.click("input[type=submit]")
        desk.wait_for_selector("text=接続しました")
        desk.click('[data-action="live"]')

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
