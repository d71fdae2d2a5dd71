"""The WebSocket handshake's origin check: the same rule as Django's CSRF origin check.

A browser sends the session cookie with a WebSocket handshake to our host from
any page, whatever origin that page has, and WebSockets have no same-origin
policy of their own. So the server must refuse pages of other origins itself.
An origin is scheme, host *and port*: ``http://127.0.0.1:8124`` is another site
than ``http://127.0.0.1:8000`` (Channels' ``AllowedHostsOriginValidator`` only
compares the host with ``ALLOWED_HOSTS``, so any port of an allowed host passed).

A handshake is let through when its ``Origin`` is

- the origin the socket was requested on: ``http://`` for ``ws``, ``https://``
  for ``wss`` (or when ``SECURE_PROXY_SSL_HEADER`` is configured and the proxy
  says so), followed by the ``Host`` header (``X-Forwarded-Host`` only with
  ``USE_X_FORWARDED_HOST``), which must itself be one of ``ALLOWED_HOSTS``; or
- one of ``CSRF_TRUSTED_ORIGINS`` (``https://*.example.jp`` patterns included).

Django's own ``HttpRequest`` computes the host and the scheme, so proxies and
allowed hosts are judged exactly as for the pages. A handshake without an
``Origin`` is refused: every browser sends one, and so do our own clients (the
tests, ``bench/``); a script may send any origin it likes anyway, so refusing a
missing one costs nothing and keeps one rule.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest
from django.http.request import is_same_domain

logger = logging.getLogger(__name__)


class HandshakeRequest(HttpRequest):
    """A WebSocket handshake as Django sees an HTTP request: its headers in ``META``, its scheme from ``scope``."""

    def __init__(self, scope: dict[str, Any]) -> None:
        super().__init__()
        self._secure = scope.get("scheme") == "wss"
        server = scope.get("server") or ("", 0)
        self.META = {"SERVER_NAME": str(server[0] or ""), "SERVER_PORT": str(server[1] or "")}
        for name, value in scope.get("headers", []):
            key = "HTTP_" + name.decode("latin1").upper().replace("-", "_")
            text = value.decode("latin1")
            # Repeated headers are joined, as Django's ASGIRequest does.
            self.META[key] = f"{self.META[key]},{text}" if key in self.META else text

    def _get_scheme(self) -> str:
        # Only consulted when SECURE_PROXY_SSL_HEADER is not configured (HttpRequest.scheme).
        return "https" if self._secure else "http"


def origin_allowed(scope: dict[str, Any]) -> bool:
    """True when the handshake comes from a page of this site (see the module docstring)."""
    request = HandshakeRequest(scope)
    origin = request.META.get("HTTP_ORIGIN")
    if not origin:
        return False
    try:
        own = f"{request.scheme}://{request.get_host()}"
    except DisallowedHost:
        own = None
    if origin == own:
        return True
    trusted = settings.CSRF_TRUSTED_ORIGINS
    if origin in trusted:
        return True
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    # "https://*.example.jp" trusts every subdomain over https, as in CsrfViewMiddleware.
    for pattern in trusted:
        if "*" in pattern:
            allowed = urlsplit(pattern)
            if allowed.scheme == parsed.scheme and is_same_domain(parsed.netloc, allowed.netloc.lstrip("*")):
                return True
    return False


class SameOriginValidator:
    """ASGI middleware: refuse (close before accepting) WebSocket handshakes from other origins."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if origin_allowed(scope):
            return await self.application(scope, receive, send)
        headers = dict(scope.get("headers", []))
        # Says which origin to add to CSRF_TRUSTED_ORIGINS when a proxy setup is the cause.
        logger.warning("WebSocket refused: origin %r is not the site's own (host %r) nor trusted",
                       headers.get(b"origin", b"").decode("latin1"), headers.get(b"host", b"").decode("latin1"))
        return await WebsocketDenier()(scope, receive, send)
