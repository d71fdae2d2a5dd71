"""The organizer opens the regional dashboard of the demo series on a phone and a laptop and sees it drawn."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from events.management.commands.load_demo import DEMO_SLUG, ORGANIZER
from events.models import Event, Registration
from rooms.models import Attendance, CardExchange, LectureRoom, Seat
from tests.e2e.shapes import DESK, PHONE
from tests.factories import make_talk

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LAPTOP = {**DESK, "viewport": {"width": 1280, "height": 800}}


def demo_with_a_past_talk() -> Event:
    """The demo series, its registrations spread over two weeks, and a talk that most of them watched."""
    call_command("load_demo", stdout=io.StringIO())
    event = Event.objects.get(slug=DEMO_SLUG)
    now = timezone.now()
    talk = make_talk(event, starts_in=timedelta(days=-1), title="第0回 がん遺伝子パネル検査の基礎")
    room = LectureRoom.objects.create(talk=talk, key="all", name_ja="全体", name_en="All")
    table = LectureRoom.objects.create(talk=talk, key="t1", kind=LectureRoom.Kind.SOCIAL, name_ja="1", name_en="1")
    registrations = list(event.registrations.order_by("pk"))
    for n, registration in enumerate(registrations):
        Registration.objects.filter(pk=registration.pk).update(created_at=now - timedelta(days=14 - n % 12, hours=n))
        if n % 4 == 3:
            continue  # registered, never came
        minutes = 5 if n % 5 == 0 else 40
        Attendance.objects.create(talk=talk, room=room, registration=registration, joined_at=talk.starts_at,
                                  left_at=talk.starts_at + timedelta(minutes=minutes))
        if minutes > 10 and n % 2 == 0:
            Seat.objects.create(room=table, registration=registration, joined_at=talk.ends_at)
    seated = [seat.registration for seat in Seat.objects.filter(room=table).select_related("registration")]
    for a, b in zip(seated[::2], seated[1::2], strict=False):
        CardExchange.objects.create(talk=talk, room=table, offered_by=a, offered_to=b,
                                    state=CardExchange.State.ACCEPTED)
    return event


def open_dashboard(browser: Any, base: str, shape: dict[str, Any], language: str) -> Any:
    context = browser.new_context(**shape)
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
    page = context.new_page()
    page.goto(f"{base}/admin/login/?next=/organizer/events/{DEMO_SLUG}/dashboard/")
    page.fill("#id_username", ORGANIZER[0])
    page.fill("#id_password", ORGANIZER[1])
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/dashboard/$"))
    return page


def drawn_size(page: Any, selector: str) -> tuple[int, int]:
    """The size of the chart's canvas once ECharts has drawn into it (waits for it, with a deadline)."""
    page.wait_for_selector(f"{selector} canvas", timeout=10_000)
    box = page.locator(f"{selector} canvas").first.bounding_box()
    return int(box["width"]), int(box["height"])


# Counts the map canvas's non-background pixels: the outlines and colours once Japan is drawn.
MAP_PAINTED = """() => {
    const c = document.querySelector('#dash-map canvas');
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) { if (d[i + 3] > 0 && (d[i] < 240 || d[i + 1] < 240)) n++; }
    return n >= 5000; }"""
MAP_SERIES = "() => echarts.getInstanceByDom(document.querySelector('#dash-map')).getOption().series[0].name"


@pytest.mark.parametrize("shape,name,language", [(PHONE, "phone", "ja"), (LAPTOP, "desk", "ja"), (LAPTOP, "desk", "en")])
def test_the_organizer_sees_the_map_and_the_charts_drawn(browser, live_server, artifacts, shape, name, language):
    event = demo_with_a_past_talk()
    page = open_dashboard(browser, live_server.url, shape, language)
    for chart in ("#dash-map", "#dash-funnel", "#dash-daily"):
        width, height = drawn_size(page, chart)
        assert width > 300 and height > 250, f"{chart} is {width}x{height}"
    # The map's outlines arrive by fetch: wait until Japan is painted, not a fixed time.
    page.wait_for_function("() => !document.querySelector('#dash-map').dataset.error", timeout=10_000)
    page.wait_for_function(MAP_PAINTED, timeout=10_000)
    assert not page.locator("#dash-map").get_attribute("data-error")

    text = page.locator("main").inner_text()
    if language == "ja":
        assert "地域別ダッシュボード" in text and "赤い太枠：医師少数都道府県" in text
        assert "岩手県" in page.locator("[data-table=prefectures]").inner_text()
    else:
        assert "Regional dashboard" in text and "physician-shortage prefecture" in text
    total = event.registrations.count()
    assert page.locator("[data-total=registered]").inner_text() == str(total)
    assert page.evaluate("document.documentElement.scrollWidth") <= shape["viewport"]["width"]
    page.screenshot(path=str(artifacts / f"dashboard-{language}-{name}.png"), full_page=True)
    page.locator("#dash-map").screenshot(path=str(artifacts / f"dashboard-{language}-{name}-map.png"))

    # Colouring by attendance redraws the map with the attendance series.
    registered = page.evaluate(MAP_SERIES)
    page.check("input[name=map-mode][value=attended]")
    page.wait_for_function(f"() => ({MAP_SERIES})() !== {registered!r}", timeout=5_000)
    assert page.evaluate(MAP_SERIES) == ("視聴者" if language == "ja" else "Attended")
    page.screenshot(path=str(artifacts / f"dashboard-{language}-{name}-attendance.png"))

    # Reach: every prefecture has its population, so the choice is open and the tables carry the column.
    page.check("input[name=map-mode][value=reach]")
    reach = "医師1,000人あたりの登録者数" if language == "ja" else "Registrants per 1,000 physicians"
    page.wait_for_function(f"() => ({MAP_SERIES})() === {reach!r}", timeout=5_000)
    assert reach in page.locator("[data-table=prefectures]").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= shape["viewport"]["width"]
    page.locator("#dash-map").screenshot(path=str(artifacts / f"dashboard-{language}-{name}-reach.png"))
    page.context.close()


def test_the_organizer_finds_the_dashboard_from_the_admin_landing(browser, live_server, artifacts):
    demo_with_a_past_talk()
    context = browser.new_context(**LAPTOP)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", ORGANIZER[0])
    page.fill("#id_password", ORGANIZER[1])
    page.click("input[type=submit]")
    page.wait_for_url(re.compile(r"/admin/$"))
    events = page.locator("#staff-events")
    assert "あなたの講演会" in events.inner_text()
    page.screenshot(path=str(artifacts / "dashboard-admin-landing-ja-desk.png"), full_page=True)
    events.get_by_role("link", name="地域別ダッシュボード").first.click()
    page.wait_for_url(re.compile(rf"/organizer/events/{DEMO_SLUG}/dashboard/$"))
    page.wait_for_selector("#dash-map canvas")
    context.close()
