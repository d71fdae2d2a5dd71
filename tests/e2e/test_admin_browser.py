"""An organizer's admin on a 1,280 px laptop: every label in their language, tables that fit.

The organizer runs two events (so the registration list needs its event
column), each with talks, and a few dozen physicians registered.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings

from events.models import Event
from regions.models import Prefecture
from tests.e2e.shapes import DESK, PHONE
from tests.factories import make_event, make_staff, make_talk, register

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NAMES = ["佐々木 陽子", "鈴木 大輔", "長谷川 健一郎", "阿部 美咲"]

# What the Japanese pages must say, and the raw English field names and choice values they must not.
JA = {
    "event_labels": ["アドレス名", "タイトル", "主催者", "対象地域", "対象都道府県", "定員", "承認方式", "演者", "開始日時"],
    "event_raw": ["Slug", "Organizers", "Target regions", "Target prefectures", "Speakers"],
    "headers": ["医師", "講演会", "ステータス", "都道府県", "施設区分", "登録日時"],
    "values": ["診療所・クリニック", "病院", "岩手県", "承認済み"],
    "filters": ["講演会 で絞り込む", "施設区分 で絞り込む"],
    "list_raw": ["EVENT", "Event", "PHYSICIAN FACILITY TYPE", "Physician facility type", "event で絞り込む"],
    "registration_labels": ["講演会", "医師", "言語", "医療関係者であることの申告", "プライバシーポリシー同意日時",
                            "参加リンク無効化日時"],
    "registration_values": ["日本語"],
}
EN = {
    "event_labels": ["Address name", "Title", "Organizers", "Target regions", "Target prefectures", "Capacity",
                     "Approval", "Speakers", "Starts at"],
    "event_raw": ["Slug"],
    "headers": ["Physician", "Event", "Status", "Prefecture", "Facility type", "Registered at"],
    "values": ["Clinic", "Hospital", "Iwate", "Approved"],
    "filters": ["By event", "By facility type"],
    "list_raw": ["Physician facility type", "PHYSICIAN FACILITY TYPE"],
    "registration_labels": ["Event", "Physician", "Language", "Declared a healthcare professional",
                            "Agreed to the privacy policy at", "Join link revoked at"],
    "registration_values": ["Japanese"],
}


def organizer_scene() -> dict[str, Any]:
    organizer = make_staff("hanako", "organizer")
    speaker = make_staff("sato", "speaker")
    event = make_event(title="東北 がんゲノム医療 Web講演会シリーズ 2026", capacity=300,
                       approval_mode=Event.ApprovalMode.AUTOMATIC)
    second = make_event(title="北東北 在宅医療と病診連携 Web講演会 2026")
    for e in (event, second):
        e.organizers.add(organizer)
    event.target_prefectures.set(Prefecture.objects.filter(code__in=["02", "03", "04"]))
    for title in ["がん遺伝子パネル検査の実際と結果の読み方", "エキスパートパネルから地域診療へ: 病診連携で支える個別化医療"]:
        make_talk(event, title=title).speakers.add(speaker)
    for i in range(24):
        register(event if i % 3 else second, full_name=NAMES[i % len(NAMES)],
                 facility_type="hospital" if i % 2 else "clinic", facility_name="盛岡中央病院" if i % 2 else "盛岡内科クリニック")
    return {"organizer": organizer, "event": event}


def signed_in(browser: Any, base: str, language: str, shape: dict[str, Any]) -> Any:
    context = browser.new_context(**shape)
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
    page = context.new_page()
    page.goto(f"{base}/admin/login/")
    page.fill("#id_username", "hanako")
    page.fill("#id_password", "pw-hanako")
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    return page


def page_width(page: Any) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def assert_table_fits(page: Any) -> None:
    """Nothing of the list is cut off: neither the page nor the table's own scroll box scrolls sideways."""
    assert page_width(page) <= 1280
    box = page.evaluate("(() => { const r = document.querySelector('#changelist-form .results');"
                        " return [r.scrollWidth, r.clientWidth]; })()")
    assert box[0] <= box[1], f"the table is {box[0]} px wide in a {box[1]} px box"


def lines_of(page: Any, selector: str) -> list[int]:
    """How many lines each matching cell's text takes (its line boxes)."""
    return page.evaluate(
        """(sel) => [...document.querySelectorAll(sel)].map(el => {
            const range = document.createRange(); range.selectNodeContents(el);
            const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
            return tops.size; })""",
        selector,
    )


def visible_text(page: Any, selector: str) -> str:
    return " | ".join(page.locator(selector).all_inner_texts())


@pytest.mark.parametrize("language,words", [("ja", JA), ("en", EN)])
def test_an_organizers_admin_is_in_their_language_and_fits_a_laptop(browser, live_server, artifacts, language, words):
    scene = organizer_scene()
    page = signed_in(browser, live_server.url, language, DESK)

    # The event with its talks: one screen wide, every label translated.
    page.goto(f"{live_server.url}/admin/events/event/{scene['event'].pk}/change/")
    page.screenshot(path=str(artifacts / f"admin-event-{language}-desk.png"), full_page=True)
    assert page_width(page) <= 1280
    labels = visible_text(page, "#event_form label")
    for label in words["event_labels"]:
        assert label in labels, f"{label!r} is not among the labels: {labels}"
    for raw in words["event_raw"]:
        assert not re.search(rf"\b{raw}\b", labels), f"raw field name {raw!r} on the {language} event page"

    # The registration list: translated headers, labels instead of raw values, names on one line.
    page.goto(f"{live_server.url}/admin/events/registration/")
    page.screenshot(path=str(artifacts / f"admin-registrations-{language}-desk.png"), full_page=True)
    assert_table_fits(page)
    headers = [h.strip() for h in page.locator("#result_list thead th").all_inner_texts()]
    for header in words["headers"]:
        assert header in headers, f"{header!r} not in {headers}"
    cells = page.locator("#result_list tbody td").all_inner_texts()
    for value in words["values"]:
        assert value in cells, f"{value!r} not among the cells"
    assert not {"clinic", "hospital", "approved"} & {c.strip() for c in cells}
    sidebar = visible_text(page, "#changelist-filter")
    for title in words["filters"]:
        assert title in sidebar
    everything = page.locator("#changelist").inner_text()
    for raw in words["list_raw"]:
        assert raw not in headers and raw not in sidebar, f"{raw!r} on the {language} registration list"
    assert "長谷川 健一郎" in everything
    names = lines_of(page, "#result_list .field-physician_name a")
    assert len(names) == 24 and set(names) == {1}, f"names take {names} lines"
    row_heights = page.evaluate("[...document.querySelectorAll('#result_list tbody tr')].map(r => r.offsetHeight)")
    assert max(row_heights) < 2 * min(row_heights), row_heights

    # One registration: every field named in the language, the language itself by its name.
    page.locator("#result_list .field-physician_name a").first.click()
    page.wait_for_url(re.compile(r"/change/$"))
    page.screenshot(path=str(artifacts / f"admin-registration-{language}-desk.png"), full_page=True)
    assert page_width(page) <= 1280
    form = page.locator("#registration_form").inner_text()
    for label in words["registration_labels"] + words["registration_values"]:
        assert label in form, f"{label!r} not on the registration page"
    page.context.close()


def test_the_admin_on_a_phone_keeps_names_on_one_line(browser, live_server, artifacts):
    organizer_scene()
    page = signed_in(browser, live_server.url, "ja", PHONE)
    page.goto(f"{live_server.url}/admin/events/registration/")
    page.screenshot(path=str(artifacts / "admin-registrations-ja-phone.png"), full_page=True)
    assert set(lines_of(page, "#result_list .field-physician_name a")) == {1}
    assert "施設区分" in page.locator("#result_list thead").inner_text()
    page.context.close()
