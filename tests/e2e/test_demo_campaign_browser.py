"""On first start the demo organizer finds the finished Tohoku event's dashboard full, on phone and laptop."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from campaigns.analytics import event_dashboard
from campaigns.demo_event import FINISHED_SLUG
from events.management.commands.load_demo import ORGANIZER
from events.models import Event
from tests.e2e.shapes import DESK, MAP_PAINTED, PHONE, open_dashboard

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LAPTOP = {**DESK, "viewport": {"width": 1280, "height": 800}}

# What ECharts holds for each chart once drawn: the map's outlines and every series' numbers.
DRAWN = """() => {
    const option = (id) => echarts.getInstanceByDom(document.getElementById(id)).getOption();
    const sums = (id) => option(id).series.map((s) => s.data.reduce((a, d) => a + (d.value ?? d), 0));
    const japan = echarts.getMap('japan');
    return {
        shapes: japan ? japan.geoJSON.features.length : 0,
        mapItems: option('dash-map').series[0].data.length,
        map: sums('dash-map')[0],
        funnel: sums('dash-funnel'),
        days: option('dash-daily').series[0].data.length,
        daily: sums('dash-daily'),
    }; }"""
@pytest.mark.parametrize("shape,name", [(PHONE, "phone"), (LAPTOP, "desk")])
def test_the_demo_organizer_sees_the_finished_tohoku_event_drawn_in_full(browser, live_server, artifacts,
                                                                        shape, name):
    call_command("load_demo", stdout=io.StringIO())
    total = event_dashboard(Event.objects.get(slug=FINISHED_SLUG)).total
    page = open_dashboard(browser, live_server.url, shape, FINISHED_SLUG, *ORGANIZER)
    for chart in ("#dash-map", "#dash-funnel", "#dash-daily"):
        page.wait_for_selector(f"{chart} canvas", timeout=10_000)
    # The outlines arrive by fetch: wait until Japan is painted, with a deadline.
    page.wait_for_function(MAP_PAINTED, timeout=10_000)
    assert not page.locator("#dash-map").get_attribute("data-error")

    drawn = page.evaluate(DRAWN)
    assert drawn["shapes"] == 47 and drawn["mapItems"] == 47
    assert drawn["map"] == total.registered
    assert drawn["funnel"] == [total.registered, total.attended, total.reception, total.cards]
    assert min(drawn["funnel"]) > 0
    assert drawn["days"] >= 14 and sum(drawn["daily"]) == total.registered
    assert drawn["daily"][0] > drawn["daily"][1], "most registrants came from the shortage prefectures"

    assert page.locator("[data-total=registered]").inner_text() == str(total.registered)
    prefectures = page.locator("[data-table=prefectures]").inner_text()
    assert "岩手県" in prefectures and "青森県" in prefectures and "医師少数" in page.locator("main").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= shape["viewport"]["width"]
    page.screenshot(path=str(artifacts / f"demo-campaign-dashboard-{name}.png"), full_page=True)
    page.locator("#dash-map").screenshot(path=str(artifacts / f"demo-campaign-dashboard-{name}-map.png"))
    for section in ("funnel", "prefectures", "daily"):
        page.locator(f"section[aria-labelledby={section}-heading]").screenshot(
            path=str(artifacts / f"demo-campaign-dashboard-{name}-{section}.png"))
    page.context.close()
