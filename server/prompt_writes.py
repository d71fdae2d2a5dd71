"""Socket writes sent at the end of the loop's turn, without asking epoll first.

Twisted's asyncio reactor (the one Daphne runs) makes every write to a socket
wait for epoll to call the socket writable: the transport buffers the bytes and
registers for writability (``epoll_ctl``), a later turn of the loop is told the
socket is writable, which a connected socket nearly always is, sends, and
unregisters (a second ``epoll_ctl``). Renkei writes several frames per join and
one per socket for every chat batch, so those two system calls and the extra
turn were 7.8 % of a server's event loop while 5,000 physicians joined
(docs/performance.md, "Issue 13: joins, a seventh pass").

:func:`install` makes an accepted connection's write try the send once, at the
end of the turn it was written in (``loop.call_soon``), through the reactor's
own ``doWrite``. What the connection wrote in that turn still goes in one send,
as before, so a response's headers and body do not become two small packets.
Only what the socket does not take (a slow reader whose kernel buffer is full)
waits for epoll, exactly as Twisted handles all of it. Errors, a closing
connection and a half-close go through the same ``doWrite`` and the reactor's
own handling of its result. Outgoing connections keep Twisted's path: for them
writability also means "connected".
"""

from __future__ import annotations

import sys
from typing import Any

from twisted.internet import tcp
from twisted.internet.asyncioreactor import AsyncioSelectorReactor
from twisted.python.log import callWithLogger


class PromptWriters:
    """The reactor's ``addWriter``/``removeWriter`` for accepted connections: one send first, epoll if need be."""

    def __init__(self, reactor: AsyncioSelectorReactor) -> None:
        self.reactor = reactor
        self.register = reactor.addWriter  # Twisted's own: epoll tells when the socket is writable
        self.unregister = reactor.removeWriter
        self.call_soon = reactor._asyncioEventloop.call_soon
        self.due: set[Any] = set()  # connections with a send scheduled at the end of this turn

    def add(self, writer: Any) -> None:
        if not isinstance(writer, tcp.Server):
            self.register(writer)
        elif writer not in self.due and writer not in self.reactor._writers:
            self.due.add(writer)
            self.call_soon(self.send, writer)

    def remove(self, writer: Any) -> None:
        self.due.discard(writer)
        self.unregister(writer)

    def send(self, writer: Any) -> None:
        if writer not in self.due:  # stopped writing since (lost, aborted, or already drained)
            return
        # doWrite sends what is buffered; when all of it went, it calls stopWriting (→ remove) and,
        # for a closing connection, returns the reason the reactor then disconnects it with.
        callWithLogger(writer, self.reactor._readOrWrite, writer, False)
        if writer in self.due:  # the socket did not take everything: wait until epoll says it can
            self.due.discard(writer)
            self.register(writer)


def install() -> bool:
    """Use prompt writes on the running Daphne's reactor (idempotent); False when there is none to change.

    Only an asyncio reactor that is already installed (Daphne installs it before it imports the
    application) is changed: importing the reactor here would install Twisted's default one in a
    process that is not Daphne, such as a test runner.
    """
    reactor = sys.modules.get("twisted.internet.reactor")
    if not isinstance(reactor, AsyncioSelectorReactor):
        return False
    if isinstance(getattr(reactor, "prompt_writers", None), PromptWriters):
        return True
    writers = PromptWriters(reactor)
    reactor.prompt_writers = writers  # type: ignore[attr-defined]
    reactor.addWriter = writers.add  # type: ignore[method-assign]
    reactor.removeWriter = writers.remove  # type: ignore[method-assign]
    return True
