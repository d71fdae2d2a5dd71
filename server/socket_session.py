"""The WebSocket handshake's cookies and Django session, in the scope, read-only.

Channels' ``SessionMiddlewareStack`` does this in two layers, copies the scope
twice, and wraps ``send`` so that a session changed while handling an HTTP
request is saved with the response. A socket never changes the session (staff
sign in and out through pages; physicians are admitted by their join-link
cookie, events.joinlinks), so every frame the consumer sent passed through a
wrapper with nothing to do, and every handshake paid for both layers
(docs/performance.md, "Issue 13: joins"). Here: one layer, one copy, the
server's own ``send``.

``scope["session"]`` is the session the cookie names, loaded from the store
on first use (rooms.participants.identify reads it in the admission's
database thread), or None without a session cookie.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.conf import settings
from django.http import parse_cookie


class SocketSession:
    """ASGI middleware for WebSocket scopes: ``cookies`` and ``session`` as Django's request has them."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.store = import_module(settings.SESSION_ENGINE).SessionStore
        self.cookie_name = settings.SESSION_COOKIE_NAME

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        cookies: dict[str, str] = {}
        for name, value in scope.get("headers", []):
            if name == b"cookie":
                cookies = parse_cookie(value.decode("latin1"))
                break
        key = cookies.get(self.cookie_name)
        session = self.store(key) if key else None
        await self.app({**scope, "cookies": cookies, "session": session}, receive, send)
