"""The Content-Security-Policy's sources, derived from the settings that name other origins.

django-csp writes the header (``CONTENT_SECURITY_POLICY`` in server/settings.py); this
module only turns URLs into the origins a directive lists, so the policy follows
``SITE_URL`` and ``JANUS_PUBLIC_URL`` instead of being written out by hand, and a talk's
stream (any HLS origin an organizer enters) is allowed on that talk's page only.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from django.http import HttpResponseBase

# A WebSocket's scheme for each HTTP scheme: a page on https talks to wss on the same host.
SOCKET_SCHEMES = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}


def origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute URL, or None for a relative or empty one."""
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def http_and_socket_origins(url: str) -> list[str]:
    """The URL's origin and its WebSocket twin: janus.js speaks HTTP long-poll or WebSocket to one address."""
    found = origin(url)
    if found is None:
        return []
    scheme, _, rest = found.partition("://")
    twin = f"{SOCKET_SCHEMES.get(scheme, scheme)}://{rest}"
    return sorted({found, twin})


def connect_sources(site_url: str, janus_public_url: str) -> list[str]:
    """connect-src: the site itself, its WebSocket (CSP2 browsers do not count ws: as 'self'), Janus."""
    sources = ["'self'"]
    sources += [source for source in http_and_socket_origins(site_url) if source.startswith(("ws", "wss"))]
    sources += http_and_socket_origins(janus_public_url)
    return list(dict.fromkeys(sources))


def allow_stream(response: HttpResponseBase, urls: Iterable[str]) -> HttpResponseBase:
    """Let this page's player fetch (hls.js) and play (native HLS) from the talks' stream origins."""
    origins = sorted({found for url in urls if (found := origin(url))})
    if origins:
        response._csp_update = {"connect-src": origins, "media-src": origins}  # type: ignore[attr-defined]
    return response
