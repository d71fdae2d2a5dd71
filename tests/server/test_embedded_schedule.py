"""Under the README's run command (no Redis, no beat process) the timed work happens by itself:
at a talk's end time its connected physicians are moved into a reception table, and a
reminder mail is written to the outbox when it falls due."""

from __future__ import annotations

import asyncio
import email
import json
import re
import subprocess
import sys
import time
from email import policy
from pathlib import Path

import pytest
import websockets

from tests.servers import ROOT, free_port, run_command_env, session_cookie, start_run_command, stop_run_command

pytestmark = pytest.mark.e2e

# Seconds from creating the talks until the one ends and the other's 1-hour reminder falls due:
# enough for the physician's socket to be connected before, short enough for a quick test.
DUE_IN = 20

# Runs in the server's own data folder (its SQLite database), as an organizer's admin edit would.
SETUP = """
import json
from datetime import timedelta
from django.utils import timezone
from events.management.commands.load_demo import DEMO_SLUG
from events.models import Event, Talk
event = Event.objects.get(slug=DEMO_SLUG)
now = timezone.now()
due = now + timedelta(seconds=%(due_in)d)
ending = Talk.objects.create(event=event, title="%(ending)s", starts_at=now - timedelta(minutes=50), ends_at=due)
soon = Talk.objects.create(event=event, title="%(soon)s", starts_at=due + timedelta(hours=1),
                           ends_at=due + timedelta(hours=2))
print(json.dumps({"ending": ending.pk, "due": due.timestamp()}))
"""


def reminders_in(outbox: Path, title: str) -> list[str]:
    """The subjects of the mails in the outbox (one file per mail) that remind of this talk."""
    subjects = []
    for path in sorted(outbox.glob("*")) if outbox.is_dir() else []:
        for raw in re.split(rb"\n-{79}\n", path.read_bytes()):  # the file backend separates mails by a dashed line
            if raw.strip():
                subject = str(email.message_from_bytes(raw, policy=policy.default)["subject"])
                if title in subject:
                    subjects.append(subject)
    return subjects


async def first_frame(ws, wanted: str, deadline: float) -> dict:
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.time())))
        for f in frame["messages"] if frame["type"] == "batch" else [frame]:
            if f["type"] == wanted:
                return f


def test_at_the_talks_end_the_run_command_moves_a_physician_into_a_table_and_mails_the_due_reminder(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    # The schedule ticks every second instead of every 30/60 s; what it does is unchanged.
    run = start_run_command(tmp_path, port, BEAT_INTERVAL_SECONDS="1")
    try:
        link = re.search(r"join link: (\S+)", run.output).group(1)
        cookie = session_cookie(base, "/" + link.split("/", 3)[3])
        ending_title, soon_title = "終了時刻で懇親会が開く講演", "翌時間帯の講演"
        setup = subprocess.run(
            [sys.executable, "manage.py", "shell", "-c",
             SETUP % {"due_in": DUE_IN, "ending": ending_title, "soon": soon_title}],
            cwd=ROOT, env=run_command_env(tmp_path, port), capture_output=True, text=True, timeout=60)
        assert setup.returncode == 0, setup.stderr
        created = json.loads(setup.stdout.strip().splitlines()[-1])
        due = created["due"]

        async def scenario() -> tuple[dict, float]:
            url = base.replace("http", "ws") + f"/ws/talks/{created['ending']}/"
            async with websockets.connect(url, origin=base, additional_headers={"Cookie": cookie}) as ws:
                await first_frame(ws, "hello", time.time() + 10)
                assert time.time() < due, "the physician connected only after the talk had ended"
                assert reminders_in(tmp_path / "outbox", soon_title) == [], "a reminder went out before it was due"
                moved = await first_frame(ws, "room.moved", due + 20)  # nobody presses a button
                return moved, time.time()

        try:
            moved, moved_at = asyncio.run(scenario())
        except TimeoutError:
            pytest.fail("no room.moved within 20 s of the talk's end; the server said:\n" + "".join(run.log))
        assert moved_at >= due
        assert moved["reason"] == "allocated"
        assert moved["room"]["kind"] == "social"

        deadline = due + 20
        while not reminders_in(tmp_path / "outbox", soon_title) and time.time() < deadline:
            time.sleep(0.2)
        subjects = reminders_in(tmp_path / "outbox", soon_title)
        assert subjects, "no reminder in the outbox 20 s after it fell due; the server said:\n" + "".join(run.log)
        assert all("1時間後に開始" in s for s in subjects), subjects  # the 1-hour reminder, to every registrant
        assert "NotRegistered" not in "".join(run.log)
    finally:
        stop_run_command(run.proc)
