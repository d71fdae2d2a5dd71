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


class LazyText:
    """``make(*args, **kwargs)``, computed when the text is asked for (``str`` or ``format``)."""

    __slots__ = ("make", "args", "kwargs")

    def __init__(self, make: Callable[..., str], args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.make = make
        self.args = args
        self.kwargs = kwargs

    def __str__(self) -> str:
        return self.make(*self.args, **self.kwargs)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return str(self)


def lazily(make: Callable[..., str]) -> Callable[..., LazyText]:
    """A stand-in for ``make`` (``pprint.pformat``, autobahn.util's ``hltype``, ``hlval``) that defers it."""

    def deferred(*args: Any, **kwargs: Any) -> LazyText:
        return LazyText(make, args, kwargs)

    return deferred


LazyPformat = lazily(pprint.pformat)  # what autobahn.websocket.protocol gets for its ``pformat``


def install() -> None:
    """Make autobahn's WebSocket modules format their debug arguments lazily (idempotent)."""
    from autobahn import util
    from autobahn.twisted import websocket
    from autobahn.websocket import protocol

    protocol.pformat = LazyPformat  # type: ignore[attr-defined]
    for module in (protocol, websocket):
        for name in ("hltype", "hlval"):
            setattr(module, name, lazily(getattr(util, name)))  # always autobahn.util's own: idempotent
    # The module's one other use must stay a str: Timings.__str__ returns it.
    protocol.Timings.__str__ = _timings_text  # type: ignore[method-assign]


def _timings_text(timings: Any) -> str:
    return pprint.pformat(timings._timings)
