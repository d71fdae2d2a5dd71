"""An SMTP server on 127.0.0.1 that records what it accepted, for the campaign-send test and benchmark.

A message counts as received only when the sink is about to answer 250 to its
data and the client is still connected: that is the moment the sender learns
the mail was accepted, and the moment a real server takes responsibility for
it. ``pause_at`` holds the Nth message before that answer until ``release``,
so a test can kill the sending worker at a known point instead of racing it.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import Counter
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, pause_at: int | None = None) -> None:
        self.pause_at = pause_at
        self.paused = threading.Event()  # set when the Nth message waits before its 250
        self.release = threading.Event()  # set by the test to let it go on
        self.lock = threading.Lock()
        self.seen = 0  # messages whose data arrived (accepted or not)
        self.received: list[tuple[str, str]] = []  # (recipient, Message-ID) of each accepted message
        self.dropped: list[tuple[str, str]] = []  # paused messages whose sender was gone before the 250
        self.first_at: float | None = None
        self.last_at: float | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        # Headers only, with the old parser: the modern policy's parsing would make the sink the benchmark's bottleneck.
        headers = BytesHeaderParser(policy=compat32).parsebytes(envelope.content)
        entries = [(rcpt.lower(), str(headers["Message-ID"])) for rcpt in envelope.rcpt_tos]
        with self.lock:
            self.seen += 1
            number = self.seen
        if number == self.pause_at:
            self.paused.set()
            try:
                await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
                gone = await _client_gone(server)
            except asyncio.CancelledError:
                # aiosmtpd cancels the handler when it sees the connection lost: the sender is gone.
                self.dropped.extend(entries)
                raise
            if gone:
                self.dropped.extend(entries)
                return "421 sender gone before the reply"
        with self.lock:
            now = time.monotonic()
            self.first_at = self.first_at or now
            self.last_at = now
            self.received.extend(entries)
        return "250 Message accepted for delivery"

    def duplicates(self) -> dict[str, int]:
        counts = Counter(rcpt for rcpt, _mid in self.received)
        return {rcpt: n for rcpt, n in counts.items() if n > 1}


async def _client_gone(server: Any, deadline: float = 5.0) -> bool:
    """Whether the client closed its side: the event loop sees the end of the stream within ``deadline``.

    Called only after the test has waited for the killed worker to exit, so its
    socket is already closed by the kernel; the loop only has to read that.
    """
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if server.transport is None or server.transport.is_closing() or server._reader.at_eof():
            return True
        await asyncio.sleep(0.01)
    return False


def start_sink(pause_at: int | None = None) -> tuple[Sink, Controller, int]:
    """Start the sink on a free port of 127.0.0.1; returns (sink, controller to stop, port)."""
    sink = Sink(pause_at)
    with socket.socket() as probe:  # aiosmtpd's start-up check connects to the port, so it cannot be 0
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    return sink, controller, port
