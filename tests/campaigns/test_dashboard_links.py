"""The admin leads organizers to each event's regional dashboard: from the landing page and from the event."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import rival_events

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_staff_landing_lists_the_organizers_events_with_their_dashboards() -> None:
    scene = rival_events()
    page = signed_in(scene["alice"]).get("/admin/").content.decode()
    assert "あなたの講演会" in page
    assert f'href="/organizer/events/{scene["mine"].slug}/dashboard/"' in page
    assert "地域別ダッシュボード" in page
    assert scene["theirs"].slug not in page


def test_a_speaker_lands_without_any_dashboard_link() -> None:
    scene = rival_events()
    page = signed_in(scene["speaker"]).get("/admin/").content.decode()
    assert "/dashboard/" not in page and "あなたの講演会" not in page


def test_the_event_page_in_the_admin_links_its_dashboard() -> None:
    scene = rival_events()
    page = signed_in(scene["alice"]).get(f"/admin/events/event/{scene['mine'].pk}/change/").content.decode()
    assert f'href="/organizer/events/{scene["mine"].slug}/dashboard/"' in page
    assert 'class="dashboard-link"' in page and "地域別ダッシュボード" in page
