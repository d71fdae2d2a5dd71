"""The per-process relay: one channel-layer subscription per process and talk.

The naive Channels design (one consumer per attendee in a layer group) wakes
every consumer for every chat message: measured here, 610 µs of server CPU per
delivery. Instead each Daphne process holds one layer channel, subscribed once
to each talk that has local members (rooms.realtime.groups.carrier); a frame arrives once
per process, is encoded once (by the sender), and is written straight to the
local sockets of its group (a room, or the whole talk).
When frames come faster than one per WINDOW, they are grouped into one
``batch`` frame, so a burst costs one socket write per attendee per window.

Presence and reactions are ticked once a second: each process publishes its
local counts to the talk's group, and every process sums the latest parts.

When a reception opens, one message to the talk's group carries every seat;
each process moves its own connections (one encoded ``room.moved`` per room,
no database work, no subscription: the tables' frames come with the talk's),
and its tick later warns and closes the reception for them at ``closes_at``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
import uuid
from collections import Counter, defaultdict
from typing import Any, Protocol

from channels.layers import get_channel_layer

from .frames import RECEPTION_WARNING_SECONDS, encode, room_moved
from .groups import carrier, is_room_group, talk_group

logger = logging.getLogger(__name__)

WINDOW = 0.1  # seconds: at most one socket write per attendee per window and group
TICK = 1.0  # seconds: presence and reactions
PART_TTL = 3.5  # a process whose presence part is older than this has gone away
EVICTION_MEMORY = 30.0  # seconds an eviction is remembered for connections still being admitted
TABLES = "tables"  # presence key of everyone at a reception table


class Connection(Protocol):
    talk_id: int
    room_id: int
    prefecture_code: str
    region_key: str
    registration_id: int | None
    in_social_room: bool

    async def send_text(self, text: str) -> None: ...

    async def moved(self, room: dict[str, Any], text: str) -> None: ...

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
        self.reactions: dict[int, Counter[str]] = defaultdict(Counter)
        self.presence_parts: dict[int, dict[str, tuple[float, dict[str, dict[str, int]]]]] = defaultdict(dict)
        self.last_presence: dict[int, str] = {}
        self.deadlines: dict[int, dict[str, Any]] = {}  # talk id → reception closes_at (epoch s), warned
        self.evictions: dict[tuple[int, int], tuple[float, int]] = {}  # (talk, registration) → (when, close code)
        self.tasks: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()

    # -- membership ---------------------------------------------------------

    async def _ensure_started(self) -> str:
        async with self._lock:
            if self.channel is None:
                self.channel = await self.layer.new_channel(prefix="relay.")
                self.tasks = [asyncio.create_task(self._read()), asyncio.create_task(self._tick())]
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

    # -- reactions (frames are sent by rooms.realtime.delivery; the relay carries them) --

    def add_reaction(self, talk_id: int, emoji: str) -> None:
        self.reactions[talk_id][emoji] += 1

    async def _read(self) -> None:
        assert self.channel is not None
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except asyncio.CancelledError:
                raise
            except Exception:  # a Redis hiccup must not end delivery for the process
                logger.exception("relay receive failed")
                await asyncio.sleep(0.5)
                continue
            kind = message.get("type")
            if kind == "relay":
                self._queue(message["group"], message["frame"])
            elif kind == "presence.part":
                self.presence_parts[message["talk"]][message["process"]] = (time.monotonic(), message["rooms"])
            elif kind == "reactions.part":
                frame = encode({"type": "reactions", "counts": message["counts"]})
                self._queue(talk_group(message["talk"]), frame)
            elif kind == "reception.opened":
                await self._move(message)
            elif kind == "person.moved":
                for conn in [c for c in self.members.get(talk_group(message["talk"]), ())
                             if c.registration_id == message["to"]]:
                    with contextlib.suppress(Exception):
                        await conn.moved(message["room"], message["text"])
            elif kind == "person.closed":
                await self._evict(message["talk"], message["to"], message["code"])
            elif kind == "relay.to":
                wanted = set(message["to"])
                targets = [c for c in self.members.get(message["group"], ()) if c.registration_id in wanted]
                await self._write(targets, message["frame"])

    async def _evict(self, talk_id: int, registration_id: int, code: int) -> None:
        """Close every local connection (all tabs) of one physician in the talk, with ``code`` saying why.

        Remembered for a while, for a connection whose admission was under way (evicted_since).
        """
        self.evictions[(talk_id, registration_id)] = (time.monotonic(), code)
        for conn in [c for c in self.members.get(talk_group(talk_id), ()) if c.registration_id == registration_id]:
            with contextlib.suppress(Exception):  # one socket already gone must not keep the other tabs open
                await conn.evict(code)

    def evicted_since(self, talk_id: int, registration_id: int | None, since: float) -> int | None:
        """The close code of an eviction of this person from the talk that arrived after ``since`` (monotonic)."""
        entry = self.evictions.get((talk_id, registration_id)) if registration_id is not None else None
        return entry[1] if entry is not None and entry[0] >= since else None

    # -- receptions ----------------------------------------------------------

    def watch_reception(self, talk_id: int, closes_at: float) -> None:
        state = self.deadlines.get(talk_id)
        if state is None or state["closes_at"] != closes_at:
            self.deadlines[talk_id] = {"closes_at": closes_at, "warned": False}

    async def _move(self, message: dict[str, Any]) -> None:
        talk_id = message["talk"]
        reception = message["reception"]
        self.watch_reception(talk_id, message["closes_at_epoch"])
        texts: dict[str, str] = {}
        for room_id, entry in message["rooms"].items():
            texts[room_id] = encode(room_moved(entry["room"], entry["members"], reception))
        staff_text = encode({"type": "reception.opened", "reception": reception,
                             "rooms": [{**e["room"], "members": len(e["members"])} for e in message["rooms"].values()]})
        seats = message["seats"]
        for conn in list(self.members.get(talk_group(talk_id), ())):
            room_id = seats.get(str(conn.registration_id)) if conn.registration_id else None
            with contextlib.suppress(Exception):  # one socket closing must not stop the others' move
                if room_id is not None:
                    await conn.moved(message["rooms"][str(room_id)]["room"], texts[str(room_id)])
                else:
                    await conn.send_text(staff_text)

    async def _close_receptions(self) -> None:
        now = time.time()
        for talk_id, state in list(self.deadlines.items()):
            group = talk_group(talk_id)
            if not state["warned"] and now >= state["closes_at"] - RECEPTION_WARNING_SECONDS:
                state["warned"] = True
                left = max(0, round(state["closes_at"] - now))
                self._queue(group, encode({"type": "reception.closing", "seconds_left": left}))
            if now >= state["closes_at"]:
                del self.deadlines[talk_id]
                text = encode({"type": "reception.closed"})
                for conn in list(self.members.get(group, ())):
                    if conn.in_social_room:
                        with contextlib.suppress(Exception):
                            await conn.reception_over(text)

    def _queue(self, group: str, text: str) -> None:
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
                text = texts[0] if len(texts) == 1 else '{"type":"batch","messages":[' + ",".join(texts) + "]}"
                await self._write(list(self.members.get(group, ())), text)
        finally:
            self.flushing.discard(group)

    async def _write(self, conns: list[Connection], text: str) -> None:
        for conn in conns:
            with contextlib.suppress(Exception):  # a socket closing under us is not the others' problem
                await conn.send_text(text)

    # -- presence and reactions ----------------------------------------------

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK)
            try:
                await self._tick_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("relay tick failed")

    def _local_presence(self) -> dict[int, dict[str, dict[str, int]]]:
        """talk id → room id → prefecture code → connected people (tabs of one person count once).

        Reception tables count together, under TABLES: with hundreds of them, a
        count per table made every presence part and frame hundreds of entries
        long (the table's members are in room.members anyway).
        """
        seen: dict[int, dict[str, dict[str, set[str]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(set)))
        for group, conns in self.members.items():
            if not is_room_group(group):
                continue
            for conn in conns:
                if getattr(conn, "counts_in_presence", True):
                    room = TABLES if conn.in_social_room else str(conn.room_id)
                    seen[conn.talk_id][room][conn.prefecture_code or "--"].add(conn.person)
        return {t: {r: {p: len(v) for p, v in prefs.items()} for r, prefs in rooms.items()} for t, rooms in seen.items()}

    async def _tick_once(self) -> None:
        if self.deadlines:
            await self._close_receptions()
        if self.evictions:
            stale = time.monotonic() - EVICTION_MEMORY
            self.evictions = {k: v for k, v in self.evictions.items() if v[0] >= stale}
        local = self._local_presence()
        talks = {int(g.rsplit(".", 1)[1]) for g in self.members if g.startswith("lecture.talk.")}
        for talk_id in talks:
            part = local.get(talk_id, {})
            # Our own part counts at once; other processes' arrive through the layer.
            self.presence_parts[talk_id][self.process] = (time.monotonic(), part)
            await self.layer.group_send(talk_group(talk_id), {
                "type": "presence.part", "talk": talk_id, "process": self.process, "rooms": part,
            })
            counts = self.reactions.pop(talk_id, None)
            if counts:
                await self.layer.group_send(talk_group(talk_id), {
                    "type": "reactions.part", "talk": talk_id, "counts": dict(counts),
                })
        now = time.monotonic()
        for talk_id in talks:
            parts = {p: v for p, (t, v) in self.presence_parts[talk_id].items() if now - t < PART_TTL}
            self.presence_parts[talk_id] = {p: self.presence_parts[talk_id][p] for p in parts}
            total: dict[str, Counter[str]] = defaultdict(Counter)
            for rooms in parts.values():
                for room_id, prefs in rooms.items():
                    total[room_id].update(prefs)
            frame = presence_frame(total)
            text = encode(frame)
            if self.last_presence.get(talk_id) != text:
                self.last_presence[talk_id] = text
                self._queue(talk_group(talk_id), text)


def presence_frame(rooms: dict[str, Counter[str]]) -> dict[str, Any]:
    from .presence import regions_of

    by_prefecture: Counter[str] = Counter()
    for prefs in rooms.values():
        by_prefecture.update(prefs)
    by_prefecture.pop("--", None)
    return {
        "type": "presence",
        "total": sum(sum(p.values()) for p in rooms.values()),
        "rooms": {room_id: sum(prefs.values()) for room_id, prefs in rooms.items() if room_id != TABLES},
        "tables": sum(rooms.get(TABLES, Counter()).values()),
        "by_region": regions_of(by_prefecture),
        "by_prefecture": dict(sorted(by_prefecture.items())),
    }


def opening_event(talk_id: int, opening: dict[str, Any]) -> dict[str, Any]:
    """The one channel-layer message that moves everybody (Relay._move reads it), whoever opened the reception."""
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
    """The channel-layer message that closes one physician's sockets in a talk, in every process (Relay._evict).

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
