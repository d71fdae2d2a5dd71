"""What the fault tests break on purpose, and a client that survives it as a browser tab does.

- ``PostgresProxy``: a TCP proxy in front of the real PostgreSQL that the test switches to refusing
  connections (and cutting the open ones), so a server process sees its database go away.
- ``Attendee``: a lecture-room tab as frontend/static/renkei/lecture.js runs it: it reconnects
  after any close but the final codes, with the page's back-off, naming its room and the last
  id it saw so its hello brings what it missed (``resume`` for the rest, or after an ordinary
  hello), and resumes on a gap, so it shows every message once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import threading
from collections import Counter
from typing import Any

import websockets

from tests.servers import free_port

# lecture.js's FINAL_CLOSE_CODES: after these the page says why and does not reconnect.
FINAL_CLOSE_CODES = frozenset({4000, 4401, 4403, 4410, 4411, 4412, 4413, 4414, 4415})


class PostgresProxy:
    """A TCP proxy on 127.0.0.1 in front of PostgreSQL, run on an event loop in a thread of its own.

    ``refuse()`` closes the listening socket (new connections are refused, as by a database that
    is down) and cuts every connection through it; ``accept()`` listens again on the same port.
    """

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> PostgresProxy:
        self.thread.start()
        self.accept()
        return self

    def __exit__(self, *exc: object) -> None:
        self.refuse()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def accept(self) -> None:
        self._call(self._listen())

    def refuse(self) -> None:
        self._call(self._close())

    async def _listen(self) -> None:
        self.server = await asyncio.start_server(self._link, "127.0.0.1", self.port, reuse_address=True)

    async def _close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.links):
            writer.transport.abort()  # a reset, as when the database's host goes away
        self.links.clear()

    async def _link(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            server_reader, server_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self.links.update((client_writer, server_writer))

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            writer.transport.abort()

        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))
        self.links.difference_update((client_writer, server_writer))


class Attendee:
    """One lecture-room tab, reconnecting and resuming as lecture.js does (see the module's docstring)."""

    def __init__(self, base: str, talk_id: int, cookie: str) -> None:
        self.base = base
        self.url = base.replace("http", "ws", 1) + f"/ws/talks/{talk_id}/"
        self.cookie = cookie
        self.ws: Any = None
        self.room_id: int | None = None
        self.last_id = 0
        self.shown: dict[int, str] = {}  # chat message id → body, each shown once (lecture.js's state.messages)
        self.live: Counter[int] = Counter()  # how often each id arrived as a live chat.message
        self.frames: list[dict[str, Any]] = []  # every frame, batches unpacked, in order
        self.hellos = 0
        self.resumed_hellos = 0  # hellos that took up where this tab's chat stopped (``after``)
        self.closes: list[int | None] = []
        self.attempt = 0
        self.closed_for_good = False
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self.closed_for_good = True
        if self.ws is not None:
            await self.ws.close()
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task

    @property
    def open(self) -> bool:
        return self.ws is not None and self.ws.state == websockets.protocol.State.OPEN

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [f for f in self.frames if f.get("type") == kind]

    async def _run(self) -> None:
        while not self.closed_for_good:
            try:
                # Coming back to a chat it shows: say where it stopped (lecture.js's connect()).
                query = f"?room={self.room_id}&after={self.last_id}" if self.hellos and self.last_id else ""
                async with websockets.connect(self.url + query, origin=self.base,
                                              additional_headers={"Cookie": self.cookie}, open_timeout=5) as ws:
                    self.ws = ws
                    async for text in ws:
                        frame = json.loads(text)
                        for f in frame["messages"] if frame.get("type") == "batch" else [frame]:
                            await self._handle(f)
                    code = ws.close_code
            except (OSError, asyncio.TimeoutError, websockets.exceptions.WebSocketException) as exc:
                code = getattr(getattr(exc, "rcvd", None), "code", None)
            self.ws = None
            self.closes.append(code)
            if self.closed_for_good or code in FINAL_CLOSE_CODES:
                self.closed_for_good = True
                return
            # 1 s, 2 s, 4 s … up to 30 s, with the page's jitter.
            await asyncio.sleep(min(30.0, 2.0 ** self.attempt) * (0.5 + random.random() / 2))
            self.attempt += 1

    async def _handle(self, frame: dict[str, Any]) -> None:
        self.frames.append(frame)
        kind = frame.get("type")
        if kind == "hello":
            reconnect = self.hellos > 0 and self.room_id == frame["room"]["id"]
            resumed = reconnect and "after" in frame
            self.hellos += 1
            self.resumed_hellos += resumed
            self.attempt = 0
            if not reconnect:
                self.room_id = frame["room"]["id"]
            for m in frame["messages"]:
                await self._show(m, check_gap=not resumed)  # a resumed hello's missing ids were deleted
            if frame.get("complete") is False if resumed else reconnect:
                await self.send({"type": "resume", "after": self.last_id})
        elif kind == "chat.message":
            self.live[frame["id"]] += 1
            await self._show(frame)
        elif kind == "resume":
            for m in frame["messages"]:
                await self._show(m)
        elif kind == "room.moved":
            self.room_id = frame["room"]["id"]

    async def _show(self, m: dict[str, Any], check_gap: bool = True) -> None:
        if m.get("room") != self.room_id or m["id"] in self.shown:
            return
        if check_gap and self.last_id and m["id"] > self.last_id + 1:
            await self.send({"type": "resume", "after": self.last_id})
        self.shown[m["id"]] = m["body"]
        self.last_id = max(self.last_id, m["id"])
