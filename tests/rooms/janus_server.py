"""A real Janus for the tests: Renkei's generated config, HTTP on 127.0.0.1, ICE on the loopback interface only."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from rooms.reception import media
from rooms.reception.janus import VideoRoomSession, info
from rooms.reception.janus_config import write_config

API_SECRET = "janus-tests-api-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class JanusProcess:
    """One janus process on a port; start() waits until its HTTP API answers ``info``, and fails loudly if not."""

    def __init__(self, directory: Path, port: int, write: bool = True) -> None:
        self.directory = directory
        self.write = write  # False: the folder holds a config written otherwise (manage.py janus_config)
        self.port = port
        self.url = f"http://127.0.0.1:{port}/janus"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("janus")
        assert binary, "janus is not installed: scripts/test installs the Debian package `janus`"
        config = self.directory / "janus.jcfg"
        if self.write:
            write_config(self.directory, port=self.port, api_secret=API_SECRET,
                         admin_secret="janus-tests-admin", ice_enforce_list="lo")
        log = open(self.directory / "janus.log", "ab")
        self.process = subprocess.Popen([binary, "-C", str(config), "-F", str(self.directory)],
                                        stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.directory / "janus.log").read_text(errors="replace")[-3000:]
            try:
                info(self.url, API_SECRET, timeout=0.5)
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise AssertionError(f"janus did not answer on {self.url} within 15 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def janus(tmp_path, settings):
    """A fresh Janus on a free port, with Renkei's settings pointing at it; killed after the test."""
    server = JanusProcess(tmp_path / "janus", free_port())
    server.start()
    settings.JANUS_URL = server.url
    settings.JANUS_API_SECRET = API_SECRET
    settings.JANUS_PUBLIC_URL = "https://media.example.org/janus"
    yield server
    server.stop()


def exists(janus: JanusProcess, room_id: int) -> bool:
    with VideoRoomSession(janus.url, API_SECRET) as s:
        return bool(s.message({"request": "exists", "room": room_id})["exists"])


def allowed(janus: JanusProcess, room_id: int) -> set[str]:
    """The room's allowed tokens, as Janus holds them."""
    with VideoRoomSession(janus.url, API_SECRET) as s:
        answer = s.message({"request": "allowed", "room": room_id, "secret": media.room_secret(room_id),
                            "action": "enable"})
        return set(answer["allowed"])


def join(janus: JanusProcess, room_id: int, token: str, feed: int | None = None) -> dict[str, Any]:
    """Enter a table's room as a publisher, as a browser would (with its feed id, when given): Janus checks the token."""
    with VideoRoomSession(janus.url, API_SECRET) as s:
        body: dict[str, Any] = {"request": "join", "ptype": "publisher", "room": room_id, "token": token,
                                "display": "test"}
        if feed is not None:
            body["id"] = feed
        return s.message(body)
