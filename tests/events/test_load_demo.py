"""The demo has a talk that is live now and whose reception opens by itself at its end."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from events.management.commands.load_demo import DEMO_SLUG, LIVE_MINUTES, LIVE_TITLE
from events.models import Talk
from rooms.models import Stage
from rooms.tasks import due_talks

pytestmark = pytest.mark.django_db


def test_the_demo_has_one_live_talk_that_ends_soon_however_often_it_is_loaded():
    call_command("load_demo", stdout=StringIO())
    first = Talk.objects.get(event__slug=DEMO_SLUG, title=LIVE_TITLE)
    call_command("load_demo", stdout=StringIO())
    live = Talk.objects.get(event__slug=DEMO_SLUG, title=LIVE_TITLE)
    assert live.pk != first.pk, "the live talk is made anew, so its reception can open again"
    assert Stage.objects.get(talk=live).state == Stage.State.LIVE
    now = timezone.now()
    assert live.starts_at <= now < live.ends_at <= now + timedelta(minutes=LIVE_MINUTES)
    assert live.stream_url.endswith("/static/demo-stream/1/index.m3u8")


def test_the_live_demo_talk_is_due_for_its_reception_once_its_end_time_has_passed():
    call_command("load_demo", stdout=StringIO())
    live = Talk.objects.get(event__slug=DEMO_SLUG, title=LIVE_TITLE)
    assert live not in due_talks()
    assert live in due_talks(now=live.ends_at + timedelta(seconds=1))
