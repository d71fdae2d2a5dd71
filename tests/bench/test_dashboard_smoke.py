"""The dashboard benchmark runs on a small scale: its seeding SQL and its report keep working (speed not asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = [pytest.mark.services, pytest.mark.e2e]


def run_bench(module: str) -> str:
    """``python -m <module>`` on 200 registrations and one timed run; its output."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        pytest.fail("DATABASE_URL must name the PostgreSQL server (run the README's test command).")
    proc = subprocess.run(
        [sys.executable, "-m", module, "--registrations", "200", "--runs", "1"],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False, env={**os.environ, "DATABASE_URL": url},
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc.stdout


def test_the_dashboard_benchmark_seeds_and_counts_a_small_event() -> None:
    out = run_bench("bench.dashboard")
    assert "seeded 200 registrations and 4,000 attendance rows" in out
    assert "event_dashboard: 4 queries" in out
    # Every 50th registration is cancelled; everybody else watched well over 10 minutes.
    assert "registered 196, attended 196," in out


def test_the_campaign_dashboard_benchmark_seeds_and_counts_a_small_campaign() -> None:
    out = run_bench("bench.campaign_dashboard")
    assert "event_dashboard: 4 queries" in out and "campaign_dashboard: 6 queries" in out
    # 400 addresses, 1 in 20 failed, 1 in 4 clicked (of the mailed: 100 - 20); the 196 counted registrants targeted.
    assert "targeted 400, mailed 380, clicked 80, registered 196, attended 196," in out
