"""Structured logs: one JSON object per line, each carrying the id of what it was handling.

* ``request_id``: one per HTTP request. A well-formed ``X-Request-ID`` from the proxy is kept
  (so the proxy's access log and Renkei's lines join on it), anything else is replaced by a new
  id; the response carries it back in ``X-Request-ID``.
* ``connection_id``: one per WebSocket connection, on every line its consumer, the rooms and the
  domain log while serving it (the join, each frame, the close).
* ``task_id``: the Celery task a worker line belongs to.

The ids live in context variables set by :class:`CorrelationIds`, the outermost ASGI layer:
asyncio tasks and asgiref's thread hops copy the context, so every record emitted while handling
a request or a connection gets them through :class:`ContextFilter`, with no logger call changed.

Never log personal data (names, e-mail addresses, chat text): log ids (registration, talk,
room), counts and exception types instead. tests/server/test_log_privacy.py checks a full scenario.
"""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar
from typing import Any

REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)
CONNECTION_ID: ContextVar[str | None] = ContextVar("connection_id", default=None)
TASK_ID: ContextVar[str | None] = ContextVar("task_id", default=None)
IDS = {"request_id": REQUEST_ID, "connection_id": CONNECTION_ID, "task_id": TASK_ID}

# What a proxy's id may look like to be kept (nginx's $request_id is 32 hex digits, others use
# UUIDs): short, and no character that could forge a log line or a header.
WELL_FORMED = re.compile(r"[A-Za-z0-9._:-]{8,128}")
HEADER = b"x-request-id"


def new_id() -> str:
    return uuid.uuid4().hex


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The proxy's X-Request-ID when well-formed, else a fresh id."""
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

            async def send_with_id(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.start":
                    headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HEADER]
                    message = {**message, "headers": [*headers, (HEADER, request_id.encode())]}
                await send(message)

            try:
                await self.app(scope, receive, send_with_id)
            finally:
                REQUEST_ID.reset(token)
        elif scope["type"] == "websocket":
            token = CONNECTION_ID.set(new_id())
            try:
                await self.app(scope, receive, send)
            finally:
                CONNECTION_ID.reset(token)
        else:
            await self.app(scope, receive, send)


class ContextFilter(logging.Filter):
    """Adds the current ids to every record (None outside a request, connection or task)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in IDS.items():
            setattr(record, name, var.get())
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
