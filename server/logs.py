"""Structured logs: one JSON object per line, each carrying the id of what it was handling.

* ``request_id``: one per HTTP request. Behind a declared proxy (``TRUSTED_PROXY_COUNT`` > 0,
  e.g. deploy/nginx/, which sets nginx's ``$request_id``) a well-formed ``X-Request-ID`` is kept
  (so the proxy's access log and Renkei's lines join on it); anything else, and any id a client
  sends with no proxy declared, is replaced by a new id. The response carries it back in
  ``X-Request-ID``.
* ``connection_id``: one per WebSocket connection, on every line its consumer, the rooms and the
  domain log while serving it (the join, each frame, the close).
* ``task_id``: the Celery task a worker line belongs to.

The ids live in context variables set by :class:`CorrelationIds`, the outermost ASGI layer:
asyncio tasks and asgiref's thread hops copy the context, so every record emitted while handling
a request or a connection gets them through :class:`ContextFilter`, with no logger call changed.

Never log personal data (names, e-mail addresses, chat text): log ids (registration, talk,
room), counts and exception types instead. tests/rooms/test_log_privacy.py checks a full scenario.
"""

from __future__ import annotations

import itertools
import logging
import os
import re
import secrets
import time
import traceback
from contextvars import ContextVar
from typing import Any

from django.conf import settings

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
CONNECTION_ID: ContextVar[str | None] = ContextVar("connection_id", default=None)
TASK_ID: ContextVar[str | None] = ContextVar("task_id", default=None)
access = logging.getLogger("renkei.access")
IDS = {"request_id": REQUEST_ID, "connection_id": CONNECTION_ID, "task_id": TASK_ID}

# What a proxy's id may look like to be kept (nginx's $request_id is 32 hex digits, others use
# UUIDs): short, and no character that could forge a log line or a header.
WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,128}")
HEADER = b"x-request-id"


class _Ids:
    """32 hex digits, unique across processes: a random half per process, then a counter.

    A uuid4 per request and per connection asked the kernel for randomness each
    time, a measurable part of a join's CPU (docs/performance.md, "Issue 13");
    an id only has to be unique, not unpredictable (it grants nothing). A forked
    child (a Celery worker) draws its own half.
    """

    def __init__(self) -> None:
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        self.prefix = secrets.token_hex(8)
        self.counter = itertools.count(1)

    def next(self) -> str:
        return f"{self.prefix}{next(self.counter):016x}"


_ids = _Ids()


def new_id() -> str:
    return _ids.next()


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The proxy's X-Request-ID when a proxy is declared and the id is well-formed, else a fresh id."""
    # Without a proxy the header comes straight from the client, who could give every request the same id.
    if not settings.TRUSTED_PROXY_COUNT:
        return new_id()
    for name, value in headers:
        if name.lower() == HEADER:
            presented = value.decode("latin-1").strip()
            if WELL_FORMED.fullmatch(presented):
                return presented
            break
    return new_id()


class CorrelationIds:
    """ASGI middleware: sets the request or connection id for everything that serves this scope."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            request_id = request_id_from(scope.get("headers", []))
            token = REQUEST_ID.set(request_id)
            started = time.perf_counter()
            status: list[int] = []

            async def send_with_id(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    status.append(message["status"])
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                    message = {**message, "headers": [*headers, (HEADER, request_id.encode())]}
                await send(message)

            try:
                await self.app(scope, receive, send_with_id)
            finally:
                # The access log, as JSON with the request id (Daphne's own is plain text and names
                # the query string; the Procfile turns it off). The path only: the handler's filter
                # masks link tokens in it.
                access.info("%s %s %s", scope.get("method", ""), scope.get("path", ""), status[0] if status else "-",
                            extra={"status": status[0] if status else None,
                                   "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
                REQUEST_ID.reset(token)
        elif scope["type"] == "websocket":
            token = CONNECTION_ID.set(new_id())
            started = time.perf_counter()
            access.info("WebSocket %s opened", scope.get("path", ""))
            try:
                await self.app(scope, receive, send)
            finally:
                access.info("WebSocket %s closed", scope.get("path", ""),
                            extra={"duration_ms": round((time.perf_counter() - started) * 1000, 1)})
                CONNECTION_ID.reset(token)
        else:
            await self.app(scope, receive, send)


class ContextFilter(logging.Filter):
    """Adds the current ids to every record (None outside a request, connection or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in IDS.items():
            setattr(record, name, var.get())
        return True


# Safety nets for what a log call cannot know it carries (tests/rooms/test_log_privacy.py):
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Bearer tokens in paths that Django's request logger names ("Not Found: /join/<token>/"): a join
# link admits its physician, an unsubscribe or click link names a recipient.
TOKEN_PATH = re.compile(r"/(join|unsubscribe|c)/[^/\s\"']+")
WITHHELD = "<message withheld: may hold personal data>"
# A record's own attributes (anything else came as ``extra``) and the ids ContextFilter adds.
STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", *IDS}


def redact(text: str) -> str:
    return TOKEN_PATH.sub(r"/\1/<token>", EMAIL.sub("<email>", text))


def traceback_without_messages(exc_info: Any) -> str:
    """The traceback's frames and exception types, without the exceptions' texts.

    An exception's text may quote what failed to save (a database's "Key (email)=(...)",
    a mail server refusing a recipient, a listener's message with a name): the frames say
    where, the type says what, and the text stays out of the logs.
    """
    found = traceback.TracebackException(*exc_info)
    seen: set[int] = set()
    pending = [found]
    while pending:
        each = pending.pop()
        if id(each) in seen:
            continue
        seen.add(id(each))
        each._str = WITHHELD  # type: ignore[attr-defined]  # what format_exception_only prints after the type
        each.__notes__ = None
        pending += [e for e in (each.__cause__, each.__context__) if e is not None]
        pending += list(getattr(each, "exceptions", None) or [])
    return "".join(found.format()).rstrip("\n")


class PersonalDataFilter(logging.Filter):
    """On the log handler: e-mail addresses and link tokens out of messages, exception texts out of tracebacks
    and out of messages that format an exception.

    The log calls themselves pass ids, never names, e-mails or chat text; this catches what they
    cannot see: other libraries' messages and exceptions.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(arg, BaseException) for arg in record.args):
            # "... failed: %s" with the exception (Django's send_robust does this): its type, not its text.
            record.args = tuple(type(arg).__name__ if isinstance(arg, BaseException) else arg for arg in record.args)
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, ()
        for name, value in vars(record).items():
            if name in STANDARD or value is None or isinstance(value, (bool, int, float)):
                continue
            # Extra fields reach the JSON line too: Django's request logger adds the request, whose
            # repr names the path (with a join link's token).
            setattr(record, name, redact(value if isinstance(value, str) else repr(value)))
        if record.exc_info and record.exc_info[0] is not None:
            record.exc_text = traceback_without_messages(record.exc_info)
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def json_formatter() -> logging.Formatter:
    """A python-json-logger formatter: time, level, logger, message, the ids, and any ``extra`` fields."""
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "{levelname}{name}{message}{request_id}{connection_id}{task_id}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        # ISO 8601 in UTC, whatever TIME_ZONE the pages use: lines from several hosts sort together.
        timestamp="time",
    )


class TextFormatter(logging.Formatter):
    """For a developer's terminal (LOG_FORMAT=text): one readable line, with the ids there are."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(ids)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [f"{name}={value}" for name in IDS if (value := getattr(record, name, None))]
        record.ids = f" [{' '.join(ids)}]" if ids else ""
        return super().format(record)
