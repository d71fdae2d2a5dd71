"""ASGI entry point: HTTP through Django, WebSockets through Channels, one server."""

import asyncio
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")

# Django must be set up before anything imports models (the consumers do).
django.setup(set_prefix=False)

from django.core.handlers.asgi import ASGIHandler  # noqa: E402
from django.http import HttpRequest, HttpResponseBase  # noqa: E402


class RequestThread(ThreadPoolExecutor):
    """The one thread a request's synchronous code runs in; kept for a later request when it is idle."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="request")
        self.busy = 0
        self._count = threading.Lock()

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._count:
            self.busy += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, _: Future[Any]) -> None:
        with self._count:
            self.busy -= 1


class RequestThreads:
    """Idle request threads, reused instead of starting (and joining) a thread per request.

    Django's ASGI handler runs each request in a ThreadSensitiveContext of its
    own: asgiref then starts a new thread for the request and another one to
    join it afterwards, which was 8-9 % of a server's CPU during joins
    (docs/performance.md, "Issue 13"). A request still gets a thread to itself
    for its whole life, as under WSGI; only the thread outlives it.
    """

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.idle: list[RequestThread] = []

    def take(self) -> RequestThread:
        return self.idle.pop() if self.idle else RequestThread()

    def give_back(self, thread: RequestThread) -> None:
        # A view still running (its request was cancelled while it worked) keeps its thread: never shared.
        if thread.busy == 0 and len(self.idle) < self.keep:
            self.idle.append(thread)
        else:
            thread.shutdown(wait=False)


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
        self.threads = RequestThreads(keep=64)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        thread = self.threads.take()
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.handle(scope, receive, send)
        finally:
            self.threads.give_back(thread)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)


django_asgi_app = OneHopASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from events.join_asgi import JoinLinks  # noqa: E402
from server.routing import websocket_urlpatterns  # noqa: E402

from server import autobahn_debug, beat, gcpolicy, http_log, prompt_writes  # noqa: E402
from server.logs import CorrelationIds  # noqa: E402
from server.origin import SameOriginValidator  # noqa: E402
from server.socket_session import SocketSession  # noqa: E402

autobahn_debug.install()  # Daphne's WebSocket protocol: no debug text built per connection for nobody
http_log.install()  # Daphne's HTTP factory: no Twisted access line formatted per request for nobody
prompt_writes.install()  # Daphne's sockets: a write is sent at the end of the turn, not after asking epoll


class ServerProcess:
    """The application, and what a long-running server process sets up once, on its first request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.started_on: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self.started_on:  # each start() reads settings through the lazy proxy: not per request
            gcpolicy.start()
            beat.start()
            self.started_on = loop
        await self.app(scope, receive, send)


# CorrelationIds is outermost so every log line of a request or a connection carries its id (server.logs).
application = ServerProcess(CorrelationIds(ProtocolTypeRouter(
    {
        # A valid join link is answered without the request cycle (events.join_asgi); the rest is Django's.
        "http": JoinLinks(django_asgi_app),
        # Pages of other origins (another port included) are refused before the session is read
        # (server.origin). The session only, read-only (server.socket_session): consumers find the
        # signed-in user themselves, in the thread where they read the database anyway
        # (rooms.participants.identify), and write their frames through the server's own send.
        "websocket": SameOriginValidator(SocketSession(URLRouter(websocket_urlpatterns))),
    }
)))
