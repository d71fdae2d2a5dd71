"""The dashboard benchmark runs on a small scale: its seeding SQL and its report keep working (speed not asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = [pytest.mark.services, pytest.mark.e2e]


def test_the_dashboard_benchmark_seeds_and_counts_a_small_event() -> None:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.fail("DATABASE_URL must name the PostgreSQL server (run the README's test command).")
    proc = subprocess.run(
        [sys.executable, "-m", "bench.dashboard", "--registrations", "200", "--runs", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False, env={**os.environ, "DATABASE_URL": url},
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    assert "seeded 200 registrations and 4,000 attendance rows" in proc.stdout
    assert "event_dashboard: 3 queries" in proc.stdout
    assert "rooms.watch_times.rebuild: 400 (registration, talk) pairs" in proc.stdout
    # The page and each download, each as the organizer's browser asks for it: session, user, event, then three.
    for request in ("page", "prefectures.csv", "prefectures.xlsx", "regions.csv", "regions.xlsx", "daily.csv",
                    "daily.xlsx"):
        assert f"GET {request}: 6 queries" in proc.stdout
    # Every 50th registration is cancelled; everybody else watched well over 10 minutes.
    assert "registered 196, attended 196," in proc.stdout
