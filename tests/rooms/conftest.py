"""Helpers for talking to the lecture-room WebSocket as a physician or a staff member."""

from __future__ import annotations

import json
from importlib import import_module
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

from events import joinlinks
from server.asgi import application
from tests.rooms.markers import Marker, received_before
from tests.waiting import DEADLINE


def cookies_for(registration=None, user=None) -> str:
    """The Cookie header of a browser that opened ``registration``'s join link, or where ``user`` signed in."""
    cookies = []
    if registration is not None:
        cookies.append(f"{joinlinks.cookie_name(registration.event_id)}={joinlinks.make_token(registration)}")
    if user is not None:
        store = import_module(settings.SESSION_ENGINE).SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.save()
        cookies.append(f"{settings.SESSION_COOKIE_NAME}={store.session_key}")
    return "; ".join(cookies)


class Client:
    """A WebSocket client that reads frames as JSON and unpacks batches."""

    def __init__(self, talk_id: int, cookies: str | None, origin: str = "http://localhost", query: str = "") -> None:
        headers = [(b"origin", origin.encode()), (b"host", b"localhost")]
        if cookies:
            headers.append((b"cookie", cookies.encode()))
        self.ws = WebsocketCommunicator(application, f"/ws/talks/{talk_id}/{query}", headers=headers)
        self.buffer: list[dict[str, Any]] = []

    async def connect(self) -> tuple[bool, Any]:
        return await self.ws.connect(timeout=10)

    async def send(self, frame: Any) -> None:
        await self.ws.send_to(text_data=frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, timeout: float = 5) -> dict[str, Any]:
        if self.buffer:
            return self.buffer.pop(0)
        frame = json.loads(await self.ws.receive_from(timeout=timeout))
        if frame["type"] == "batch":
            self.buffer.extend(frame["messages"][1:])
            return frame["messages"][0]
        return frame

    async def recv_type(self, wanted: str, timeout: float = 5) -> dict[str, Any]:
        """The next frame of type ``wanted``, skipping presence and reaction ticks."""
        while True:
            frame = await self.recv(timeout)
            if frame["type"] == wanted:
                return frame
            if frame["type"] not in ("presence", "reactions"):
                raise AssertionError(f"expected {wanted}, got {frame}")

    async def recv_until(self, wanted: str, timeout: float = 5) -> dict[str, Any]:
        """The next frame of type ``wanted``, skipping anything else (other people's traffic)."""
        while True:
            frame = await self.recv(timeout)
            if frame["type"] == wanted:
                return frame

    async def received_before(self, *markers: Marker, timeout: float = DEADLINE) -> list[dict[str, Any]]:
        """Every frame that reaches this client until each of ``markers`` has (left out); see tests/rooms/markers.py."""
        return await received_before(self.recv, markers, timeout)

    async def close(self) -> None:
        await self.ws.disconnect()


@pytest.fixture
async def connect():
    """Open lecture-room connections; every one is closed again when the test ends."""
    clients: list[Client] = []

    async def _connect(talk, registration=None, user=None, origin: str = "http://localhost", hello: bool = True,
                       query: str = ""):
        """``query``: what the socket's URL ends with, e.g. a reconnecting page's ``?room=9&after=40``."""
        cookies = await database_sync_to_async(cookies_for)(registration, user) if (registration or user) else None
        client = Client(talk.pk, cookies, origin, query)
        clients.append(client)
        connected, _ = await client.connect()
        assert connected
        if hello:
            frame = await client.recv()
            assert frame["type"] == "hello", frame
            client.hello = frame
        return client

    yield _connect
    for client in clients:
        try:
            await client.close()
        except Exception:
            pass
    from django.db import connections

    await database_sync_to_async(connections.close_all)()
