"""The benchmark's smoke mode, as CI runs it: delivery is asserted, speed is not.

It starts its own two Daphne processes (and the bare reference app) with its own
database and Redis prefix, joins 50 attendees through real join links and checks
that every chat message reached every attendee (see bench/lecture.py), also after
both servers were killed and started again (everyone back, every stored message
delivered live or by resume).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent

pytestmark = [pytest.mark.services, pytest.mark.e2e]


def test_smoke_benchmark_delivers_every_message_to_every_attendee(tmp_path: Path, redis_url: str) -> None:
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.lecture", "--smoke", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=900, check=False,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    assert "delivery: OK" in proc.stdout
    assert "fan-out p99" in proc.stdout and "deliveries/s" in proc.stdout
    results = json.loads(out.read_text())
    for app in ("renkei", "bare"):
        r = results[app]
        assert r["join"]["joined"] == r["join"]["attendees"] == 50
        assert r["join"]["error_count"] == 0
        for phase in ("steady", "burst", "saturation"):
            p = r[phase]
            assert p["all_delivered"], (app, phase, p)
            assert p["messages"] > 0
            assert p["deliveries"] == p["expected_deliveries"] == p["messages"] * 50
            assert p["deliveries_per_s"] > 0
            assert not p["error_frames"] and not p["dropped_sockets"]
        assert r["steady"]["latency_ms"]["p99"] is not None
        assert r["join"]["kib_per_connection"] is not None
        assert r["reconnect"]["resumed"] == r["reconnect"]["attendees"] == 50
    assert results["renkei"]["reconnect"]["messages_stored"] > 0
    assert results["renkei"]["reconnect"]["missing_deliveries"] == 0
    assert results["ratio"] > 0
