"""The dashboard benchmark runs on a small scale: its seeding SQL and its report keep working (speed not asserted)."""

from __future__ import annotations

import pytest

from tests.bench import run_benchmark

pytestmark = [pytest.mark.services, pytest.mark.e2e]


def test_the_dashboard_benchmark_seeds_and_counts_a_small_event() -> None:
    output = run_benchmark("bench.dashboard", "--registrations", "200", "--runs", "1")
    assert "seeded 200 registrations and 4,000 attendance rows" in output
    assert "event_dashboard: 3 queries" in output
    assert "rooms.lecture.watch_times.rebuild: 400 (registration, talk) pairs" in output
    # One registration in seven left a connection open in the first talk; both talks ended long ago.
    assert "rooms.lecture.watch_times.seal_finished: 1 talks, 28 open connections sealed" in output
    before, after = output.split("-- after sealing")
    assert "event_dashboard: 3 queries" in before and "event_dashboard: 3 queries" in after
    # The page and each download, each as the organizer's browser asks for it: session, user, event, then the
    # dashboard's three (the page one more: the event's campaigns).
    assert "GET page: 7 queries" in output
    for request in ("prefectures.csv", "prefectures.xlsx", "regions.csv", "regions.xlsx", "daily.csv", "daily.xlsx"):
        assert f"GET {request}: 6 queries" in output
    # Every 50th registration is cancelled; everybody else watched well over 10 minutes.
    assert "registered 196, attended 196," in output


def test_the_campaign_dashboard_benchmark_seeds_and_counts_a_small_campaign() -> None:
    output = run_benchmark("bench.campaign_dashboard", "--registrations", "200", "--runs", "1")
    assert "event_dashboard: 3 queries" in output and "campaign_dashboard: 5 queries" in output
    # 400 addresses, 1 in 20 failed, 1 in 4 clicked (of the mailed: 100 - 20); the 196 counted registrants targeted.
    assert "targeted 400, mailed 380, clicked 80, registered 196, attended 196," in output
