"""The join link's happy path without Django's request cycle.

Thousands of physicians open their join links in the minutes before a talk
starts, and each opening is a redirect with a cookie: check the signed token
against the registration (one statement), set the event's admission cookie,
send the physician to the lobby. Through Django that answer costs three thread
hops and the whole middleware chain, more server CPU than the rest of the join
(docs/performance.md, "Issue 13"). Here it is one hop and one statement that
reads only what the link's rule and the redirect need (joinlinks.link_state:
plain values, no models); the headers still come from Django's own security and
clickjacking middleware, so they follow the settings exactly as every other
page's do. A test holds the answer to the view's, header by header.

Whatever is not that happy path goes to Django unchanged: a forged, revoked or
expired link (the explanatory page), a host not in ALLOWED_HOSTS (400), plain
HTTP where HTTPS is required (the redirect), any other method or path.
"""

from __future__ import annotations

import io
import re
from typing import Any

from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.security import SecurityMiddleware

from server.threads import in_pool

from . import joinlinks

PATH = re.compile(r"/join/([^/]+)/")  # as events.urls names it ("join/<str:token>/")


def _unused(request: HttpRequest) -> HttpResponse:  # the middleware's next layer; never called here
    raise AssertionError("the join link's fast path calls the middleware's hooks only")


class JoinLinks:
    """ASGI: answers ``GET /join/<token>/`` for a valid link; passes everything else to ``app`` (Django)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.security = SecurityMiddleware(_unused)
        self.clickjacking = XFrameOptionsMiddleware(_unused)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        match = PATH.fullmatch(scope.get("path", "")) if scope["type"] == "http" and scope["method"] == "GET" else None
        response = None
        if match is not None:
            # On the thread pool, as the WebSocket admission: a burst of joins waits for PostgreSQL side by side.
            response = await in_pool(self.answer, scope, match[1])
        if response is None:
            await self.app(scope, receive, send)
            return
        headers = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in response.items()]
        headers += [(b"set-cookie", cookie.output(header="").strip().encode("latin-1"))
                    for cookie in response.cookies.values()]
        headers.append((b"content-length", b"0"))  # as Django's handler says of an empty body
        await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    def answer(self, scope: dict[str, Any], token: str) -> HttpResponse | None:
        """The redirect with the admission cookie, or None when Django should answer."""
        request = ASGIRequest(scope, io.BytesIO())
        try:
            request.get_host()
        except DisallowedHost:
            return None
        if self.security.process_request(request) is not None:  # HTTPS required and this is HTTP
            return None
        try:
            state = joinlinks.link_state(token)
        except joinlinks.JoinLinkError:
            return None
        response = joinlinks.entrance(state)  # the view's answer, exactly
        self.security.process_response(request, response)
        self.clickjacking.process_response(request, response)
        return response
