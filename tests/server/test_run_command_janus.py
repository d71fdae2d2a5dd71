"""The README's run command starts Renkei's own Janus when it is installed: the tables of a reception
get their rooms in it, a seated physician is told where to enter the call, and stopping the run
command stops Janus too."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import time
import urllib.error

import pytest
import websockets

from rooms.reception.janus import JanusError, VideoRoomSession, info
from tests.servers import ROOT, free_port, run_command_env, session_cookie, start_run_command, stop_run_command
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

# Runs in the server's own data folder, as an organizer's admin edit would: the live talk ends now,
# and the server's schedule opens its reception (its broadcasts must come from the server's process).
END_NOW = """
from django.utils import timezone
from events.models import Talk
Talk.objects.filter(pk=%d).update(ends_at=timezone.now())
"""


async def frames_until(ws, wanted: str, timeout: float = 15) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic())))
        for f in frame["messages"] if frame["type"] == "batch" else [frame]:
            if f["type"] == wanted:
                return f


def answers(url: str, secret: str) -> bool:
    try:
        info(url, secret, timeout=0.5)
        return True
    except (OSError, urllib.error.URLError):
        return False


def test_the_run_command_starts_janus_and_a_seated_physician_enters_their_tables_call(tmp_path):
    port, janus_port = free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    janus_url = f"http://127.0.0.1:{janus_port}/janus"
    # The schedule (and with it the media sync) ticks every second instead of every 30 s.
    run = start_run_command(tmp_path, port, JANUS_PORT=str(janus_port), BEAT_INTERVAL_SECONDS="1")
    stopped = False
    try:
        assert f"Voice and video: Janus at {janus_url}" in run.output, run.output
        secret = (tmp_path / "janus" / "api-secret").read_text().strip()
        assert len(secret) >= 32
        assert info(janus_url, secret)["janus"] == "server_info"
        # Only Renkei holds the API secret: Janus opens no session without it.
        with pytest.raises(JanusError, match="Unauthorized"), VideoRoomSession(janus_url, "wrong"):
            pass

        talk = int(re.search(r"Live now: .*\(/talks/(\d+)/\)", run.output).group(1))
        link = re.search(r"join link: (\S+)", run.output).group(1)
        cookie = session_cookie(base, "/" + link.split("/", 3)[3])
        ws_url = base.replace("http", "ws") + f"/ws/talks/{talk}/"

        async def seated_hello() -> dict:
            async with websockets.connect(ws_url, origin=base, additional_headers={"Cookie": cookie}) as ws:
                await frames_until(ws, "hello")
                opened = subprocess.run([sys.executable, "manage.py", "shell", "-c", END_NOW % talk], cwd=ROOT,
                                        env=run_command_env(tmp_path, port), capture_output=True, text=True,
                                        timeout=60)
                assert opened.returncode == 0, opened.stderr
                moved = await frames_until(ws, "room.moved")
                assert moved["room"]["kind"] == "social"
            # The next connection's hello seats them at the table, with the call's details.
            async with websockets.connect(ws_url, origin=base, additional_headers={"Cookie": cookie}) as ws:
                return await frames_until(ws, "hello")

        hello = asyncio.run(seated_hello())
        media = hello["media"]
        assert media is not None, "a seated physician's hello has no media: the tables are text-only"
        assert media["janus_url"] == janus_url and media["room"] == hello["room"]["id"]

        def token_admitted() -> bool:
            with VideoRoomSession(janus_url, secret) as s:
                try:  # the beat's sync creates the room and lists the token within a second or so
                    joined = s.message({"request": "join", "ptype": "publisher", "room": media["room"],
                                        "token": media["token"], "display": "test"})
                except JanusError:
                    return False
                return joined["videoroom"] == "joined"

        wait_until(token_admitted, "Janus to admit the seated physician's token to their table's room", timeout=10)
        stop_run_command(run.proc)
        stopped = True
        wait_until(lambda: not answers(janus_url, secret), "Janus to stop with the run command", timeout=10)
    finally:
        if not stopped:
            stop_run_command(run.proc)
