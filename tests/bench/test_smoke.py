"""The benchmark's smoke mode, as CI runs it: delivery is asserted, speed is not.

It starts its own two Daphne processes (and the bare reference app) with its own
database and Redis prefix, joins 50 attendees through real join links and checks
that every chat message reached every attendee (see bench/lecture.py), also after
both servers were killed and started again (everyone back, every stored message
delivered live or by resume). The soak's smoke (``--smoke --soak 0.5``) runs a short
lecture with chat, reactions and questions, then a reception with table chat, and
checks that none of it went missing or arrived twice.
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
        [sys.executable, "-m", "bench.lecture", "--smoke", "--join-rounds", "2", "--json", str(out)],
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
        # Both restarted servers were seen accepting again, before the last attendee was back.
        listening = r["reconnect"]["listening_after_s"]
        assert len(listening) == 2 and all(0 < s <= r["reconnect"]["all_back_s"] for s in listening)
    assert results["renkei"]["reconnect"]["messages_stored"] > 0
    assert results["renkei"]["reconnect"]["missing_deliveries"] == 0
    # Each came back as the page does: its hello brought what it missed (bench/client.py, _reconnect).
    assert results["renkei"]["reconnect"]["resumed_hellos"] == 50
    assert results["bare"]["reconnect"]["resumed_hellos"] == 0
    assert results["ratio"] > 0
    # --join-rounds 2: the first run's joins and one more alternating round, judged by their median ratio.
    rounds = results["join_rounds"]
    assert len(rounds["rounds"]) == len(rounds["ratios"]) == 2
    assert rounds["rounds"][0]["renkei"] == results["renkei"]["join"]["server_cpu_ms_per_join"]
    assert all(r["renkei"] > 0 and r["bare"] > 0 for r in rounds["rounds"])
    assert min(rounds["ratios"]) <= rounds["median_ratio"] <= max(rounds["ratios"])
    assert "median of 2 alternating rounds" in proc.stdout
    assert rounds["median_interval"] is None and "too few rounds for a 95 % interval" in proc.stdout


def test_soak_smoke_loses_no_message_reaction_or_question(tmp_path: Path, redis_url: str) -> None:
    """``--smoke --soak 0.5``: 50 attendees through a lecture (chat, reactions, questions) and a reception
    (table chat); every message, reaction and question frame must reach every socket it is for, once."""
    out = tmp_path / "soak.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench.lecture", "--smoke", "--soak", "0.5", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout[-6000:]}\n{proc.stderr[-3000:]}"
    assert "delivery: OK" in proc.stdout
    soak = json.loads(out.read_text())["renkei"]["soak"]
    for chat in (soak["lecture_chat"], soak["table_chat"]):
        assert chat["sent"] > 0
        assert chat["delivered"] == chat["expected_deliveries"] > chat["sent"]
        assert chat["missing"] == chat["duplicated"] == 0
    assert soak["reactions"]["sent"] > 0 and soak["reactions"]["missing"] == soak["reactions"]["extra"] == 0
    assert soak["questions"]["asked"] > 0 and soak["questions"]["upvotes"] > 0
    assert soak["questions"]["frames"] == soak["questions"]["asked"] + soak["questions"]["upvotes"]
    assert soak["questions"]["missing"] == soak["questions"]["duplicated"] == 0
    assert soak["nothing_lost"] and not soak["error_frames"]
    assert {s["kind"] for s in soak["slices"]} == {"lecture", "tables"}
    assert soak["memory"]["rss_warm_mib"] > 0 and soak["memory"]["growth_pct"] is not None


@pytest.mark.parametrize("argv", [["--join-rounds", "0"], ["--join-rounds", "3", "--no-bare"],
                                  ["--join-rounds", "2", "--soak", "5"]])
def test_join_rounds_without_a_count_or_a_bare_app_to_compare_with_are_refused(argv: list[str], capsys) -> None:
    from bench.lecture import parse_args

    with pytest.raises(SystemExit) as refused:
        parse_args(argv)
    assert refused.value.code == 2
    assert "--join-rounds needs a positive count, the bare app and no --soak" in capsys.readouterr().err


def test_join_rounds_with_the_bare_app_are_taken() -> None:
    from bench.lecture import parse_args

    assert parse_args(["--join-rounds", "5"]).join_rounds == 5
