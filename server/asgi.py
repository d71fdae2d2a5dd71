"""ASGI entry point: HTTP through Django, WebSockets through Channels, one server."""

import os
from typing import Any

import django
from asgiref.sync import sync_to_async

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

# Django must be set up before anything imports models (the consumers do).
django.setup(set_prefix=False)

from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.http import HttpRequest, HttpResponseBase  # noqa: E402


class OneHopASGIHandler(ASGIHandler):
    """Django's ASGI handler, with the middleware chain and the view run in one thread hop.

    Our views and Django's middleware are synchronous. Under the stock handler
    each middleware's request and response hooks hop to a worker thread and
    back (about ten hops per request), a third of the CPU of a join-link request
    (docs/performance.md). Here the synchronous chain runs as under WSGI, in the
    request's own thread; Django's handler still parses the request, streams and
    closes the response (firing request_finished, which returns the database
    connection).
    """

    def __init__(self) -> None:
        super().__init__()
        self.load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


django_asgi_app = OneHopASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.sessions import SessionMiddlewareStack  # noqa: E402

from server.routing import websocket_urlpatterns  # noqa: E402

from server import beat, gcpolicy  # noqa: E402
from server.logs import CorrelationIds  # noqa: E402
from server.origin import SameOriginValidator  # noqa: E402


class ServerProcess:
    """The application, and what a long-running server process sets up once, on its first request."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        gcpolicy.start()
        beat.start()
        await self.app(scope, receive, send)


# CorrelationIds is outermost so every log line of a request or a connection carries its id (server.logs).
application = ServerProcess(CorrelationIds(ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Pages of other origins (another port included) are refused before the session is read
        # (server.origin). The session only: consumers find the signed-in user themselves, in the
        # thread where they read the database anyway (rooms.participants.identify).
        "websocket": SameOriginValidator(SessionMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)))
