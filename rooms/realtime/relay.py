"""The per-process relay: one channel-layer subscription per process and talk.

The naive Channels design (one consumer per attendee in a layer group) wakes
every consumer for every chat message: measured here, 610 µs of server CPU per
delivery. Instead each Daphne process holds one layer channel, subscribed once
to each talk that has local members (rooms.realtime.groups.carrier); a frame arrives once
per process, is encoded once (by the sender), and is written straight to the
local sockets of its group (a room, or the whole talk).
When frames come faster than one per WINDOW, they are grouped into one
``batch`` frame, so a burst costs one socket write per attendee per window.

The relay only carries frames; it delegates its other jobs. Presence and
reactions (rooms.realtime.presence) are ticked once a second; the reception
clock (rooms.realtime.reception_clock) warns and closes receptions on the same tick.

When a reception opens, one message to the talk's group carries every seat;
each process moves its own connections (one encoded ``room.moved`` per room,
to which each connection appends its physician's own media details, computed
from the opening's stamp: no database work, no per-person message, no
subscription: the tables' frames come with the talk's).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar, Protocol

from channels.layers import get_channel_layer
from redis.exceptions import RedisError

from server import metrics

from .. import frames
from ..frames import encode, room_moved
from . import trace
from .groups import carrier, is_room_group, is_talk_group, talk_group, talk_id_of
from .link import LinkWatch
from .presence import Aggregates, PresenceKey, local_parts
from .protocol import RECONNECT
from .reception_clock import ReceptionClock

logger = logging.getLogger(__name__)

WINDOW = 0.1  # seconds: at most one socket write per attendee per window and group
# Sockets written between two turns of the event loop: about 5 ms of writes on this machine.
WRITE_CHUNK = 100
TICK = 1.0  # seconds: presence, reactions and the reception clock
EVICTION_MEMORY = 30.0  # seconds an eviction is remembered for connections still being admitted
# After the layer's link came back, local sockets are told to reconnect this many at a time, a pause
# between: 5,000 reconnect over about 2.5 s, on top of the page's own jitter, instead of at once.
RECONNECT_CHUNK = 200
RECONNECT_PAUSE = 0.1


class Connection(Protocol):
    talk_id: int
    room_id: int
    presence_key: PresenceKey | None
    registration_id: int | None
    in_social_room: bool

    async def send_text(self, text: str) -> None: ...

    async def moved(self, room: dict[str, Any], text: str, opening: tuple[int, float] | None = None) -> None: ...

    async def reception_over(self, text: str) -> None: ...

    async def evict(self, code: int) -> None: ...


class Relay:
    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self.process = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.channel: str | None = None
        self.members: dict[str, set[Connection]] = defaultdict(set)
        self.carried: dict[str, set[str]] = defaultdict(set)  # carrier group → its local groups with members
        self.subscribed: set[str] = set()
        self.pending: dict[str, list[str]] = defaultdict(list)
        self.flushing: set[str] = set()
        self.last_flush: dict[str, float] = defaultdict(float)
        self.presence = Aggregates(self.process)
        self.clock = ReceptionClock()
        self.evictions: dict[tuple[int, int], tuple[float, int]] = {}  # (talk, registration) → (when, close code)
        self.link = LinkWatch()
        self.reader: asyncio.Task[None] | None = None
        self.tasks: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()

    # -- membership ---------------------------------------------------------

    async def _ensure_started(self) -> str:
        async with self._lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel(prefix="relay.")
                self.reader = asyncio.create_task(self._read(self.channel))
                self.tasks = [self.reader, asyncio.create_task(self._tick())]
        return self.channel

    async def join(self, group: str, conn: Connection) -> None:
        channel = await self._ensure_started()
        self.switch(None, group, conn)
        via = carrier(group)
        if via not in self.subscribed:
            self.subscribed.add(via)
            await self.layer.group_add(via, channel)

    async def leave(self, group: str, conn: Connection) -> None:
        via = self._discard(group, conn)
        if via is not None and via in self.subscribed and self.channel is not None:
            self.subscribed.discard(via)
            await self.layer.group_discard(via, self.channel)

    def switch(self, old: str | None, new: str, conn: Connection) -> None:
        """Move a connection from one group to another of the same talk: local only, its carrier stays subscribed."""
        assert old is None or carrier(old) == carrier(new)
        self.members[new].add(conn)
        self.carried[carrier(new)].add(new)
        if old is not None and old != new:
            self._discard(old, conn)

    def _discard(self, group: str, conn: Connection) -> str | None:
        """Local only; returns the group's carrier when no local group needs it any more."""
        members = self.members.get(group)
        if not members:
            return None
        members.discard(conn)
        if members:
            return None
        del self.members[group]
        via = carrier(group)
        groups = self.carried[via]
        groups.discard(group)
        if groups:
            return None
        del self.carried[via]
        return via

    def local_count(self, group: str) -> int:
        return len(self.members.get(group, ()))

    def local_members(self, group: str) -> list[Connection]:
        """A copy: the caller may await between sockets while members come and go."""
        return list(self.members.get(group, ()))

    def _of_person(self, talk_id: int, registration_id: int) -> list[Connection]:
        """Every local connection (all tabs) of one physician in the talk."""
        return [c for c in self.members.get(talk_group(talk_id), ()) if c.registration_id == registration_id]

    # -- reactions (frames are sent by rooms.realtime.delivery; the relay carries them) --

    def add_reaction(self, talk_id: int, emoji: str) -> None:
        self.presence.add_reaction(talk_id, emoji)

    def watch_reception(self, talk_id: int, closes_at: float) -> None:
        """Have the reception clock close the talk's reception at ``closes_at`` (epoch seconds)."""
        self.clock.watch(talk_id, closes_at)

    def queue(self, group: str, text: str) -> None:
        """Write an encoded frame to the local members of ``group`` within the group's next window."""
        if group not in self.members:
            return
        self.pending[group].append(text)
        if group not in self.flushing:
            self.flushing.add(group)
            asyncio.create_task(self._flush(group))

    async def _flush(self, group: str) -> None:
        try:
            while self.pending.get(group):
                wait = self.last_flush[group] + WINDOW - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                texts = self.pending.pop(group, [])
                self.last_flush[group] = time.monotonic()
                if not texts:
                    break
                metrics.RELAY_BATCH_SIZE.observe(len(texts))
                conns = self.local_members(group)
                if trace.ON:
                    trace.mark("flush0", trace.key_of(texts[0]), len(texts))
                await self._write(conns, frames.batch_text(texts))
                if trace.ON:
                    trace.mark("flush1", trace.key_of(texts[-1]), len(conns))
                    trace.flush()
        finally:
            self.flushing.discard(group)

    async def _write(self, conns: list[Connection], text: str) -> None:
        for n, conn in enumerate(conns, start=1):
            with contextlib.suppress(Exception):  # a socket closing under us is not the others' problem
                await conn.send_text(text)
            if n % WRITE_CHUNK == 0:
                # A socket write does not suspend: without this, writing to thousands held the event
                # loop for the whole fan-out, and the next message's path (the sender's frame read,
                # the thread's result, each Redis reply of its publish, this process's read of it)
                # waited a whole fan-out per step (docs/performance.md, "Issue 13", fan-out).
                await asyncio.sleep(0)

    # -- receiving from the layer -------------------------------------------

    async def _read(self, channel: str) -> None:
        while True:
            try:
                message = await self.layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # a Redis hiccup must not end delivery for the process
                logger.exception("relay receive failed")
                await asyncio.sleep(0.5)
                continue
            self.link.heard_something()
            handler = self.HANDLERS.get(message.get("type", ""))
            if handler is not None:
                await handler(self, message)

    async def _on_relay(self, message: dict[str, Any]) -> None:
        if trace.ON:
            trace.mark("layer", trace.key_of(message["frame"]), message["group"])
        self.queue(message["group"], message["frame"])

    async def _on_relay_to(self, message: dict[str, Any]) -> None:
        wanted = set(message["to"])
        targets = [c for c in self.members.get(message["group"], ()) if c.registration_id in wanted]
        await self._write(targets, message["frame"])

    async def _on_presence_part(self, message: dict[str, Any]) -> None:
        self.presence.receive_part(message)

    async def _on_reactions_part(self, message: dict[str, Any]) -> None:
        self.queue(talk_group(message["talk"]), encode(frames.reactions(message["counts"])))

    async def _on_person_moved(self, message: dict[str, Any]) -> None:
        for conn in self._of_person(message["talk"], message["to"]):
            with contextlib.suppress(Exception):
                await conn.moved(message["room"], message["text"])

    async def _on_person_closed(self, message: dict[str, Any]) -> None:
        """Close every local connection (all tabs) of one physician in the talk, with the code that says why.

        Remembered for a while, for a connection whose admission was under way (evicted_since).
        """
        talk_id, registration_id, code = message["talk"], message["to"], message["code"]
        self.evictions[(talk_id, registration_id)] = (time.monotonic(), code)
        for conn in self._of_person(talk_id, registration_id):
            with contextlib.suppress(Exception):  # one socket already gone must not keep the other tabs open
                await conn.evict(code)

    async def _on_reception_opened(self, message: dict[str, Any]) -> None:
        """Move each local connection into its seat; staff (no seat) hear that the reception opened."""
        talk_id = message["talk"]
        reception = message["reception"]
        self.watch_reception(talk_id, message["closes_at_epoch"])
        rooms = message["rooms"]
        texts = {room_id: encode(room_moved(entry["room"], entry["members"], reception))
                 for room_id, entry in rooms.items()}
        staff_text = encode(frames.reception_opened(
            reception, [{**e["room"], "members": len(e["members"])} for e in rooms.values()]))
        seats = message["seats"]
        opening = (message["opened_stamp"], message["closes_at_epoch"])
        for conn in self.local_members(talk_group(talk_id)):
            room_id = seats.get(str(conn.registration_id)) if conn.registration_id else None
            with contextlib.suppress(Exception):  # one socket closing must not stop the others' move
                if room_id is not None:
                    # The table's frame is shared; the connection adds its physician's own media to it.
                    await conn.moved(rooms[str(room_id)]["room"], texts[str(room_id)], opening)
                else:
                    await conn.send_text(staff_text)

    async def _on_beat(self, message: dict[str, Any]) -> None:
        if self.link.heard_beat(message["n"]):
            logger.warning("the relay hears the channel layer again; its sockets reconnect to catch up")
            asyncio.create_task(self._reconnect_everyone())

    # Layer message type → its handler, for every message another process (or code without a relay) sends here.
    HANDLERS: ClassVar[dict[str, Callable[[Relay, dict[str, Any]], Awaitable[None]]]] = {
        "relay": _on_relay,
        "relay.to": _on_relay_to,
        "presence.part": _on_presence_part,
        "reactions.part": _on_reactions_part,
        "person.moved": _on_person_moved,
        "person.closed": _on_person_closed,
        "reception.opened": _on_reception_opened,
        "relay.beat": _on_beat,
    }

    def evicted_since(self, talk_id: int, registration_id: int | None, since: float) -> int | None:
        """The close code of an eviction of this person from the talk that arrived after ``since`` (monotonic)."""
        entry = self.evictions.get((talk_id, registration_id)) if registration_id is not None else None
        return entry[1] if entry is not None and entry[0] >= since else None

    # -- the tick: presence, reactions, the reception clock --------------------

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            try:
                await self._tick_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("relay tick failed")

    async def _tick_once(self) -> None:
        await self._keep_link()
        await self.clock.tick(self)
        if self.evictions:
            stale = time.monotonic() - EVICTION_MEMORY
            self.evictions = {k: v for k, v in self.evictions.items() if v[0] >= stale}
        local = local_parts(conns for group, conns in self.members.items() if is_room_group(group))
        talks = [talk_id_of(group) for group in self.members if is_talk_group(group)]
        for talk_id in talks:
            for message in self.presence.outgoing(talk_id, local.get(talk_id, {})):
                await self.layer.group_send(talk_group(talk_id), message)
        for talk_id in talks:
            text = self.presence.changed_frame(talk_id)
            if text is not None:
                self.queue(talk_group(talk_id), text)


    # -- the link to the channel layer (rooms.realtime.link) ------------------

    async def _keep_link(self) -> None:
        """Beat once; when the link is broken, subscribe afresh (again each tick until that works)."""
        if self.link.broken():
            if self.link.resubscribed_at is None:
                logger.warning("the relay lost messages from the channel layer; subscribing afresh")
            try:
                await self._resubscribe()
            except (RedisError, OSError, RuntimeError) as exc:  # still away: the next tick tries again
                logger.warning("the relay could not subscribe again yet: %s", type(exc).__name__)
            else:
                self.link.resubscribed()
        assert self.channel is not None
        try:
            await self.layer.send(self.channel, self.link.beat())
        except (RedisError, OSError) as exc:
            logger.warning("the relay could not reach the channel layer: %s", type(exc).__name__)
            self.link.send_failed()

    async def _resubscribe(self) -> None:
        """A new layer channel and connection, subscribed to every talk this process serves."""
        if self.reader is not None:
            self.reader.cancel()
            try:
                await self.reader
            except asyncio.CancelledError:
                # The reader's own cancellation ends here; the tick's (the loop closing) must go on up,
                # or the tick would run on and the loop could never close.
                current = asyncio.current_task()
                if current is not None and current.cancelling():
                    raise
            except Exception:  # noqa: S110 (the old reader died of the broken link: that is why we are here)
                pass
        with contextlib.suppress(Exception):  # the old connection is dead; closing it may say so
            await self.layer.flush()
        self.channel = await self.layer.new_channel(prefix="relay.")
        self.reader = asyncio.create_task(self._read(self.channel))
        self.tasks = [self.reader, *self.tasks[1:]]
        for via in list(self.subscribed):
            await self.layer.group_add(via, self.channel)

    async def _reconnect_everyone(self) -> None:
        """Close every local socket with RECONNECT: each page reconnects and gets what it missed."""
        conns = {conn for group, members in self.members.items() if is_talk_group(group) for conn in members}
        for n, conn in enumerate(conns, start=1):
            with contextlib.suppress(Exception):  # one socket gone already must not keep the others waiting
                await conn.evict(RECONNECT)
            if n % RECONNECT_CHUNK == 0:
                await asyncio.sleep(RECONNECT_PAUSE)


# Layer-internal messages (between server processes; no browser ever receives one). The client frames
# they carry are built in rooms.frames.




def opening_event(talk_id: int, opening: dict[str, Any]) -> dict[str, Any]:
    """The one channel-layer message that moves everybody (Relay._on_reception_opened reads it), whoever opened the reception."""
    return {"type": "reception.opened", "talk": talk_id, **opening}


def relayed(group: str, frame: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The layer group and message that bring ``frame`` to every member of ``group`` (for code without a relay)."""
    return carrier(group), {"type": "relay", "group": group, "frame": encode(frame)}


def relayed_to(group: str, registration_ids: list[int], frame: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The layer group and message that bring ``frame`` to these people's connections in ``group`` only (relay.to)."""
    return carrier(group), {"type": "relay.to", "group": group, "to": registration_ids, "frame": encode(frame)}


def moving_event(talk_id: int, registration_id: int, room: dict[str, Any], text: str) -> dict[str, Any]:
    """The talk-group message that moves every tab of one physician to ``room`` and sends them ``text`` (person.moved).

    A seat belongs to the person, not to the tab that asked: their other tabs
    must not stay behind in a room they no longer sit in.
    """
    return {"type": "person.moved", "talk": talk_id, "to": registration_id, "room": room, "text": text}


def closing_event(talk_id: int, registration_id: int, code: int) -> dict[str, Any]:
    """The channel-layer message that closes one physician's sockets in a talk, in every process (Relay._on_person_closed).

    Sent to the talk's group, like person.moved: every process serving the talk
    is subscribed to it already, so no per-person subscription is needed.
    """
    return {"type": "person.closed", "talk": talk_id, "to": registration_id, "code": code}


_relays: dict[asyncio.AbstractEventLoop, Relay] = {}


def get_relay() -> Relay:
    """The relay of the running event loop (one per Daphne process; one per test loop)."""
    loop = asyncio.get_running_loop()
    relay = _relays.get(loop)
    if relay is None:
        for old in [lp for lp in _relays if lp.is_closed()]:
            del _relays[old]
        relay = _relays[loop] = Relay()
    return relay
