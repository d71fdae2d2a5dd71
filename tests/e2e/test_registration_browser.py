"""A physician on a phone fills in the Japanese registration form and reaches the confirmation."""

from __future__ import annotations

import re

import pytest

from events.models import Registration
from tests.factories import make_event, make_talk

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True,
         "locale": "ja-JP", "timezone_id": "Asia/Tokyo"}


def fill_in(page, email: str, kana: str = "はちのへ けんいち") -> None:
    page.get_by_label("氏名").fill("八戸 健一")
    page.get_by_label("ふりがな").fill(kana)
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("診療科").select_option("medical_oncology")
    page.get_by_label("施設名").fill("八戸内科クリニック")
    page.get_by_label("診療所・クリニック").check()
    page.get_by_label("勤務先の都道府県").select_option(label="青森県")
    page.get_by_text("私は医療関係者です").click()
    page.get_by_text("プライバシーポリシーに同意します").click()


def test_a_physician_registers_in_japanese_on_a_phone(browser, live_server, mailoutbox, artifacts):
    event = make_event(title="東北 がんゲノム医療 Web講演会", capacity=100)
    make_talk(event, title="がん遺伝子パネル検査の実際")
    context = browser.new_context(**PHONE)
    page = context.new_page()
    page.goto(f"{live_server.url}/events/{event.slug}/")
    page.get_by_role("link", name="参加登録").click()
    assert page.locator("html").get_attribute("lang") == "ja"

    # A first try with a mistake: the field says what is wrong, in Japanese.
    fill_in(page, "kenichi@hachinohe-clinic.example.jp", kana="Hachinohe Kenichi")
    page.get_by_role("button", name="登録する").click()
    kana_error = page.locator("#id_name_kana-errors")
    assert "ひらがな" in kana_error.inner_text() or "カタカナ" in kana_error.inner_text()
    assert Registration.objects.count() == 0
    page.screenshot(path=str(artifacts / "registration-error-phone.png"), full_page=True)

    page.get_by_label("ふりがな").fill("はちのへ けんいち")
    page.get_by_role("button", name="登録する").click()
    page.wait_for_url(re.compile(r"/registered/$"))
    assert "メールをご確認ください" in page.content()
    assert "kenichi@hachinohe-clinic.example.jp" in page.content()
    page.screenshot(path=str(artifacts / "registration-confirmed-phone.png"), full_page=True)

    registration = Registration.objects.get()
    assert registration.status == "approved"
    assert registration.physician.prefecture.code == "02"
    assert registration.physician.facility_type == "clinic"
    assert len(mailoutbox) == 1

    # The join link from the mail opens the lobby in the same phone browser.
    link = re.search(r"http://\S+/join/\S+/", mailoutbox[0].body).group(0)
    link = re.sub(r"^http://[^/]+", live_server.url, link)
    page.goto(link)
    page.wait_for_url(re.compile(r"/lobby/$"))
    assert "がん遺伝子パネル検査の実際" in page.content()
    assert re.search(r"\d\d:\d\d:\d\d", page.locator(".countdown").inner_text())
    page.screenshot(path=str(artifacts / "lobby-phone.png"), full_page=True)
    context.close()


DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "ja-JP", "timezone_id": "Asia/Tokyo"}


@pytest.mark.parametrize(("size", "shape"), [("phone", PHONE), ("desktop", DESKTOP)])
def test_a_visitor_who_registers_too_often_is_told_to_wait_and_a_registered_address_is_not_revealed(
    browser, live_server, mailoutbox, artifacts, settings, size, shape
):
    settings.REGISTRATION_RATE_PER_ADDRESS = "2/minute"
    event = make_event(title="東北 がんゲノム医療 Web講演会", capacity=100)
    make_talk(event, title="がん遺伝子パネル検査の実際")
    context = browser.new_context(**shape)
    page = context.new_page()

    def register_as(email: str) -> None:
        page.goto(f"{live_server.url}/events/{event.slug}/register/")
        fill_in(page, email)
        page.get_by_role("button", name="登録する").click()

    register_as("kenichi@hachinohe-clinic.example.jp")
    page.wait_for_url(re.compile(r"/registered/$"))
    first = page.locator("main").inner_text()
    register_as("kenichi@hachinohe-clinic.example.jp")  # registered already: the same page, a mail instead
    page.wait_for_url(re.compile(r"/registered/$"))
    assert page.locator("main").inner_text() == first
    page.screenshot(path=str(artifacts / f"registration-sent-{size}.png"), full_page=True)
    assert [m.to for m in mailoutbox] == [["kenichi@hachinohe-clinic.example.jp"]] * 2

    register_as("third@hachinohe-clinic.example.jp")
    alert = page.get_by_role("alert")
    assert "登録の送信が多すぎます" in alert.inner_text()
    assert re.search(r"\d{4}/\d\d/\d\d \d\d:\d\d 以降にもう一度お試しください", alert.inner_text())
    assert page.get_by_label("メールアドレス").input_value() == "third@hachinohe-clinic.example.jp"
    page.screenshot(path=str(artifacts / f"registration-too-often-{size}.png"), full_page=True)
    assert Registration.objects.count() == 1
    assert len(mailoutbox) == 2
    context.close()
