"""A Twisted server on the asyncio reactor, with server.prompt_writes installed, for its tests.

Run as ``python -m tests.server.prompt_writes_peer``: it prints its port, then
answers one command line per connection:

- ``small N``: N short lines written in one turn of the loop;
- ``big N``: N bytes in one write (more than one send takes: Twisted sends 128 KiB at a time);
- ``close``: a line, then the connection closed;
- ``stats``: JSON of what the reactor did for every earlier connection: ``sends``
  (socket sends) and ``registered`` (waits for epoll).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any


def pattern(size: int) -> bytes:
    """Bytes whose every position differs from its neighbours' (a reordering or a loss shows)."""
    return bytes(i * 7 % 251 for i in range(size))


def main() -> None:
    from twisted.internet import asyncioreactor

    loop = asyncio.new_event_loop()
    asyncioreactor.install(loop)
    from twisted.internet import protocol, reactor, tcp

    from server import prompt_writes

    assert prompt_writes.install()
    counts = {"sends": 0, "registered": 0}
    add_writer, write_some = loop.add_writer, tcp.Server.writeSomeData

    def counted_add_writer(fd: int, *args: Any) -> None:  # the registration with epoll itself
        counts["registered"] += 1
        add_writer(fd, *args)

    def counted_write_some(self: Any, data: bytes) -> Any:
        counts["sends"] += 1
        return write_some(self, data)

    loop.add_writer = counted_add_writer  # type: ignore[method-assign]
    tcp.Server.writeSomeData = counted_write_some  # type: ignore[method-assign]

    class Commands(protocol.Protocol):
        def __init__(self) -> None:
            self.line = b""

        def dataReceived(self, data: bytes) -> None:
            self.line += data
            if b"\n" not in self.line:
                return
            command, _, argument = self.line.strip().decode().partition(" ")
            if command == "small":
                for i in range(int(argument)):
                    self.transport.write(f"line {i}\n".encode())
            elif command == "big":
                self.transport.write(pattern(int(argument)))
            elif command == "close":
                self.transport.write(b"bye\n")
                self.transport.loseConnection()
            elif command == "stats":
                self.transport.write(json.dumps(counts).encode() + b"\n")

    port = reactor.listenTCP(0, protocol.Factory.forProtocol(Commands), interface="127.0.0.1")
    print(port.getHost().port, flush=True)
    reactor.run()


if __name__ == "__main__":
    main()
