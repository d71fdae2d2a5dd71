"""The organizer opens the regional dashboard of the demo series on a phone and a laptop and sees it drawn."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from events.management.commands.load_demo import DEMO_SLUG, ORGANIZER
from events.models import Event, Registration
from rooms.models import Attendance, CardExchange, LectureRoom, Seat
from tests.e2e.shapes import DESK, MAP_PAINTED, PHONE, open_dashboard
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


def drawn_size(page: Any, selector: str) -> tuple[int, int]:
    """The size of the chart's canvas once ECharts has drawn into it (waits for it, with a deadline)."""
    page.wait_for_selector(f"{selector} canvas", timeout=10_000)
    box = page.locator(f"{selector} canvas").first.bounding_box()
    return int(box["width"]), int(box["height"])


MAP_SERIES = "() => echarts.getInstanceByDom(document.querySelector('#dash-map')).getOption().series[0].name"


@pytest.mark.parametrize("shape,name,language", [(PHONE, "phone", "ja"), (LAPTOP, "desk", "ja"), (LAPTOP, "desk", "en")])
def test_the_organizer_sees_the_map_and_the_charts_drawn(browser, live_server, artifacts, shape, name, language):
    event = demo_with_a_past_talk()
    page = open_dashboard(browser, live_server.url, shape, DEMO_SLUG, *ORGANIZER, language=language)
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
    series = demo_with_a_past_talk()
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
    # The demo also has a finished event: the organizer picks the series by its title.
    events.locator("tr", has_text=series.title).get_by_role("link", name="地域別ダッシュボード").click()
    page.wait_for_url(re.compile(rf"/organizer/events/{DEMO_SLUG}/dashboard/$"))
    page.wait_for_selector("#dash-map canvas")
    context.close()


@pytest.mark.parametrize("shape,name", [(PHONE, "phone"), (LAPTOP, "desk")])
def test_the_organizer_sees_a_campaigns_funnel_drawn(browser, live_server, artifacts, shape, name):
    from campaigns.models import Attribution
    from tests.campaigns.campaign_scenes import deliver, make_campaign, make_mail

    event = demo_with_a_past_talk()
    campaign = make_campaign(event, slug="demo-autumn", name="秋の連続講演会ご案内")
    mail = make_mail(campaign)
    registrations = list(event.registrations.select_related("physician").order_by("pk"))
    for n, registration in enumerate(registrations):
        if n % 3 == 2:
            continue  # came without the campaign
        delivery = deliver(mail, registration.physician.email, registration.physician.prefecture_id,
                           clicks=1 if n % 2 == 0 else 0)
        if n % 2 == 0:
            Attribution.objects.create(registration=registration, campaign=campaign, delivery=delivery)
    for n in range(30):
        deliver(mail, f"list{n}@clinic.example.jp", ("03", "13", "02", "27")[n % 4], sent=n % 5 != 0,
                clicks=1 if n % 6 == 0 else 0)

    page = open_dashboard(browser, live_server.url, shape, DEMO_SLUG, *ORGANIZER)
    page.goto(f"{live_server.url}/organizer/events/{DEMO_SLUG}/dashboard/")
    page.get_by_role("link", name="秋の連続講演会ご案内").click()
    page.wait_for_url(re.compile(rf"/organizer/campaigns/{campaign.pk}/dashboard/$"))
    for chart in ("#dash-map", "#dash-funnel", "#dash-daily"):
        width, height = drawn_size(page, chart)
        assert width > 300 and height > 250, f"{chart} is {width}x{height}"
    page.wait_for_function(MAP_PAINTED, timeout=10_000)
    text = page.locator("main").inner_text()
    assert "キャンペーン ダッシュボード" in text and "医師少数県とその他" in text
    assert page.locator("[data-total=targeted]").inner_text() == str(mail.deliveries.count())
    assert page.evaluate("document.documentElement.scrollWidth") <= shape["viewport"]["width"]
    page.screenshot(path=str(artifacts / f"campaign-dashboard-ja-{name}.png"), full_page=True)
    page.context.close()
