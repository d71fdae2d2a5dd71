"""The audience benchmark runs on a small scale: its seeding SQL and its report keep working (speed not asserted)."""

from __future__ import annotations

import pytest

from tests.bench import run_benchmark

pytestmark = [pytest.mark.services, pytest.mark.e2e]


def test_the_audience_benchmark_seeds_and_counts_a_small_list() -> None:
    output = run_benchmark("bench.audiences", "--contacts", "370", "--runs", "1")
    assert "seeded 370 contacts" in output
    # 370 contacts: every 4th without consent (92), every 37th from the first opted out (10, two of them
    # also without consent): 370 - 92 - 8 sendable.
    assert "everyone: targeted 370, sendable 270; 4 queries" in output
