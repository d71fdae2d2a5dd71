"""Per-message timing of the fan-out path, for the benchmark only (off unless RENKEI_FANOUT_TRACE names a file).

Each server process appends one line per stage a chat message passes, keyed by
the message's ``client_id`` (the benchmark's ids carry their send time):
``chat.send`` received, the verb's thread started and ended, the events
published; the relay's read of the layer message, and its flush's start and
end (with how many sockets it wrote to). bench/fanout_trace.py lines them up
with the clients' arrival times (docs/performance.md, "Issue 13", fan-out).
When off, each call site costs one test of a module global.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_path = os.environ.get("RENKEI_FANOUT_TRACE", "")
ON = bool(_path)
key: ContextVar[str] = ContextVar("fanout_trace_key", default="-")  # the chat message a handler is sending
_lines: list[str] = []  # appended from the loop and from verb threads (list.append is atomic)


def mark(stage: str, message: str, extra: int | str = "") -> None:
    """One line: epoch ns, stage, the message's client_id, extra."""
    _lines.append(f"{time.time_ns()} {stage} {message} {extra}\n")


def flush() -> None:
    """Write what was marked (after a flush of the relay, off the timed path)."""
    if _lines:
        lines = _lines[:]
        del _lines[:len(lines)]
        with open(f"{_path}.{os.getpid()}", "a") as out:
            out.writelines(lines)


def timed(verb: Callable[..., T], message: str) -> Callable[..., T]:
    """``verb``, marking when its thread starts and ends it."""
    def call(*args: Any, **kwargs: Any) -> T:
        mark("thread0", message)
        try:
            return verb(*args, **kwargs)
        finally:
            mark("thread1", message)
    return call


def key_of(text: str) -> str:
    """The client_id of an encoded chat frame (or of the first in a batch), '-' when it has none."""
    at = text.find('"client_id":"')
    if at < 0:
        return "-"
    start = at + 13
    return text[start:text.find('"', start)]
