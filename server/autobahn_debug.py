"""Autobahn's per-connection debug line, formatted only when something logs it.

Daphne speaks WebSocket through autobahn, whose protocol logs, for every new
connection, its configuration at DEBUG level, and builds that text with
``pprint.pformat`` before the logger decides whether to keep it
(autobahn.websocket.protocol, ``WebSocketProtocol._connectionMade``). Nothing
here logs autobahn at DEBUG, so the text was built and thrown away once per
connection: 2.5 % of a server's CPU while 2,000 physicians join (py-spy,
docs/performance.md, "Issue 13: the mass reconnect within 15 s"); every join
and every reconnect after a restart pays it.

:func:`install` gives that module a ``pformat`` that returns a lazy text: the
same characters, built by ``pprint.pformat`` when a log observer formats the
event, and never otherwise.
"""

from __future__ import annotations

import pprint
from typing import Any


class LazyPformat:
    """``pprint.pformat(value)``, computed when the text is asked for (``str`` or ``format``)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __str__(self) -> str:
        return pprint.pformat(self.value)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return str(self)


def install() -> None:
    """Make autobahn's protocol module format its debug arguments lazily (idempotent)."""
    from autobahn.websocket import protocol

    protocol.pformat = LazyPformat  # type: ignore[attr-defined]
    # The module's one other use must stay a str: Timings.__str__ returns it.
    protocol.Timings.__str__ = _timings_text  # type: ignore[method-assign]


def _timings_text(timings: Any) -> str:
    return pprint.pformat(timings._timings)
