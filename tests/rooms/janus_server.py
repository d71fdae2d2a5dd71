"""A real Janus for the tests, with Renkei's generated config.

The fixture ``janus`` serves its HTTP API on 127.0.0.1 for the tests that only talk to that API (no media
flows). The fixture ``janus_in_namespace`` is for tests that carry media: Janus 1.1 offers no loopback
candidate, so it runs in a network namespace of its own (bench/netns.py), its HTTP API on the namespace's
veth address and ICE enforced on that veth, and a browser on this machine reaches it over the veth pair
only, never through this machine's own addresses.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.netns import Namespace, namespace
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

    def __init__(self, directory: Path, port: int, write: bool = True, netns: Namespace | None = None) -> None:
        self.directory = directory
        self.write = write  # False: the folder holds a config written otherwise (manage.py janus_config)
        self.port = port
        self.netns = netns  # run inside it, HTTP on its veth address and ICE on its veth only
        self.host = netns.inner_address if netns else "127.0.0.1"
        self.url = f"http://{self.host}:{port}/janus"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        binary = shutil.which("janus")
        assert binary, "janus is not installed: scripts/test installs the Debian package `janus`"
        config = self.directory / "janus.jcfg"
        if self.write:
            # Without a namespace no media flows (API-only tests): "lo" keeps the config's ICE narrow anyway.
            write_config(self.directory, port=self.port, api_secret=API_SECRET, admin_secret="janus-tests-admin",
                         ice_enforce_list=self.netns.inner_interface if self.netns else "lo", http_ip=self.host)
        command = [binary, "-C", str(config), "-F", str(self.directory)]
        log = open(self.directory / "janus.log", "ab")
        self.process = subprocess.Popen(self.netns.command(command) if self.netns else command,
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


def _serving(server: JanusProcess, settings) -> Iterator[JanusProcess]:
    """Start it, point Renkei's settings at it, kill it afterwards."""
    server.start()
    settings.JANUS_URL = server.url
    settings.JANUS_API_SECRET = API_SECRET
    settings.JANUS_PUBLIC_URL = "https://media.example.org/janus"
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def janus(tmp_path, settings):
    """A fresh Janus on a free port of 127.0.0.1, with Renkei's settings pointing at it; killed after the test."""
    yield from _serving(JanusProcess(tmp_path / "janus", free_port()), settings)


@pytest.fixture
def janus_in_namespace(tmp_path, settings):
    """A fresh Janus in a network namespace of its own, reached over its veth pair (``.netns``); the
    namespace and the pair are removed after the test. Fails (no skip) where ``ip netns`` is not allowed."""
    with namespace() as netns:
        yield from _serving(JanusProcess(tmp_path / "janus", free_port(), netns=netns), settings)


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
