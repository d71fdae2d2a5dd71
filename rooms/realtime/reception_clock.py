"""The reception clock: warns a reception's tables a minute before ``closes_at``, then closes it for them.

Every process keeps the deadlines of the receptions it has seen open (from the
opening message or a connection's admission) and, on the relay's tick, acts on
its own connections, with no message between processes. Its one database read is
the close's Janus clean-up (``end_calls``), on a worker thread off the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Protocol

from asgiref.sync import sync_to_async
from django.db import connection

from .. import frames
from ..frames import RECEPTION_WARNING_SECONDS
from ..reception import media
from .groups import talk_group


class Guest(Protocol):
    in_social_room: bool

    async def reception_over(self, text: str) -> None: ...


class Sockets(Protocol):
    """What the clock needs of the relay: the local members of a group, and a way to queue a frame to them."""

    def local_members(self, group: str) -> list[Guest]: ...

    def queue(self, group: str, text: str) -> None: ...


@dataclass
class _Deadline:
    closes_at: float  # epoch seconds
    warned: bool = False


def _end_calls_now(talk_id: int) -> bool:
    """The close's Janus clean-up on a pool thread, which then gives its database connection back: a rare
    call from a thread nothing else uses should not keep a connection open."""
    try:
        return media.sync_media(talk_id)
    finally:
        connection.close()


class ReceptionClock:
    def __init__(self) -> None:
        self.deadlines: dict[int, _Deadline] = {}  # talk id → its reception's deadline
        self.closing: set[asyncio.Task[bool]] = set()  # Janus clean-ups under way (kept so they are not collected)

    def end_calls(self, talk_id: int) -> asyncio.Task[bool] | None:
        """Destroy the closed reception's Janus rooms now rather than at the next 30 s reconcile.

        On a worker thread, off the relay's loop: it reads the database (nothing is open any more) and
        calls Janus. Every process that watched the deadline does it; the reconcile is idempotent.
        """
        if not media.enabled():
            return None
        task = asyncio.get_running_loop().create_task(sync_to_async(_end_calls_now, thread_sensitive=False)(talk_id))
        self.closing.add(task)
        task.add_done_callback(self.closing.discard)
        return task

    def watch(self, talk_id: int, closes_at: float) -> None:
        """Close the talk's reception at ``closes_at`` (epoch seconds); a new time replaces the old one."""
        deadline = self.deadlines.get(talk_id)
        if deadline is None or deadline.closes_at != closes_at:
            self.deadlines[talk_id] = _Deadline(closes_at)

    async def tick(self, sockets: Sockets) -> None:
        now = time.time()
        for talk_id, deadline in list(self.deadlines.items()):
            group = talk_group(talk_id)
            if not deadline.warned and now >= deadline.closes_at - RECEPTION_WARNING_SECONDS:
                deadline.warned = True
                left = max(0, round(deadline.closes_at - now))
                sockets.queue(group, frames.encode(frames.reception_closing(left)))
            if now >= deadline.closes_at:
                del self.deadlines[talk_id]
                self.end_calls(talk_id)
                text = frames.encode(frames.reception_closed())
                for conn in sockets.local_members(group):
                    if conn.in_social_room:
                        with contextlib.suppress(Exception):  # one socket gone must not keep the other tables open
                            await conn.reception_over(text)
