"""Autobahn's debug lines, formatted only when something logs them.

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

The same holds for every frame: ``sendData`` (each frame written) and the
Twisted protocol's ``dataReceived`` (each read) pass ``hltype(method)`` and
``hlval(...)`` to a debug line, and those colour their text with
``click.style``: 3.2 µs of CPU per frame each way, built for nobody (a lazy text
costs 0.5 µs). A frame delivered to 5,000 physicians pays it 5,000 times
(docs/performance.md, "Issue 13: joins, a fifth pass"). Autobahn calls them only
as arguments of its log calls, so :func:`install` gives both modules lazy ones.
"""

from __future__ import annotations

import pprint
from collections.abc import Callable
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


class LazyHighlight:
    """``highlight(*args, **kwargs)`` (autobahn.util's ``hltype``, ``hlval``), computed when the text is asked for."""

    __slots__ = ("highlight", "args", "kwargs")

    def __init__(self, highlight: Callable[..., str], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.highlight = highlight
        self.args = args
        self.kwargs = kwargs

    def __str__(self) -> str:
        return self.highlight(*self.args, **self.kwargs)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return str(self)


def lazily(highlight: Callable[..., str]) -> Callable[..., LazyHighlight]:
    """A stand-in for ``highlight`` that defers it (LazyHighlight)."""

    def deferred(*args: Any, **kwargs: Any) -> LazyHighlight:
        return LazyHighlight(highlight, args, kwargs)

    deferred.lazy_for = highlight  # type: ignore[attr-defined]  # what install() checks, so it stays idempotent
    return deferred


def install() -> None:
    """Make autobahn's WebSocket modules format their debug arguments lazily (idempotent)."""
    from autobahn import util
    from autobahn.twisted import websocket
    from autobahn.websocket import protocol

    protocol.pformat = LazyPformat  # type: ignore[attr-defined]
    for module in (protocol, websocket):
        for name in ("hltype", "hlval"):
            if not hasattr(getattr(module, name), "lazy_for"):
                setattr(module, name, lazily(getattr(util, name)))
    # The module's one other use must stay a str: Timings.__str__ returns it.
    protocol.Timings.__str__ = _timings_text  # type: ignore[method-assign]


def _timings_text(timings: Any) -> str:
    return pprint.pformat(timings._timings)
