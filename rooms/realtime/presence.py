"""Presence and reaction figures of the talks a process serves: counted locally, merged across processes.

Once a second (the relay's tick) each process counts its own connections per
room and prefecture, sends that part to the talk's group, and every process
sums the latest part of each process; a ``presence`` frame goes out only when a
figure changed. Reactions are counted locally and sent on as per-second totals.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from typing import Any, Protocol

from regions.lookup import count_by_region

from .. import frames

PART_TTL = 3.5  # a process whose presence part is older than this has gone away
# A changed presence frame goes to every socket of the talk, and while thousands join or come back it
# changes at every tick. Each of those writes costs the server about as much as a chat message to that
# socket: at one second per thousand people counted (at most 5 s), about three presence frames reached
# each physician of a mass join, 9.9 % of the event loop's work and its largest single part
# (docs/performance.md, "Issue 13: joins, a seventh pass" and "an eighth pass"). So a talk's frame
# waits one second per PRESENCE_SOCKETS people counted since its last one (at least one tick, at most
# PRESENCE_MAX_WAIT): every tick below 250 people, every 4 s at 1,000, 8 s at 2,000, 15 s from 3,750
# up. Counts of a crowd are read as "about how many", and a newcomer's hello carries the latest one.
PRESENCE_SOCKETS = 250
PRESENCE_MAX_WAIT = 15.0
TABLES = "tables"  # presence key of everyone at a reception table
NO_PREFECTURE = "--"  # presence key of a connection without a prefecture

Part = dict[str, dict[str, int]]  # room id (or TABLES) → prefecture code → connected people
PresenceKey = tuple[str, str]  # (prefecture code or NO_PREFECTURE, person key)


class Counted(Protocol):
    talk_id: int
    room_id: int
    in_social_room: bool
    presence_key: PresenceKey | None  # None: not counted (staff)


def presence_key_of(prefecture_code: str, person_key: str, counted: bool) -> PresenceKey | None:
    """What a connection counts as: one person of a prefecture, or nobody (staff); the same for its whole life."""
    return (prefecture_code or NO_PREFECTURE, person_key) if counted else None


def local_parts(rooms: Iterable[Collection[Counted]]) -> dict[int, Part]:
    """talk id → this process's part: room id → prefecture code → connected people (tabs of one person count once).

    ``rooms`` holds the local members of each room group. A group is one room of one talk, and a
    connection changes room only together with its group (LectureConsumer.switch_room, with no await
    between), so the room is read off one member and each member gives only its ``presence_key``:
    counting every socket each second used to read five properties of each, 6 % of a server's event
    loop while 5,000 joined (docs/performance.md, "Issue 13: joins, an eighth pass").

    Reception tables count together, under TABLES: with hundreds of them, a
    count per table made every presence part and frame hundreds of entries
    long (the table's members are in room.members anyway). Staff are not counted.
    """
    seen: dict[int, dict[str, set[PresenceKey | None]]] = defaultdict(lambda: defaultdict(set))
    for members in rooms:
        for first in members:
            seen[first.talk_id][TABLES if first.in_social_room else str(first.room_id)].update(
                [conn.presence_key for conn in members])
            break
    parts: dict[int, Part] = {}
    for talk_id, by_room in seen.items():
        part = {}
        for room, keys in by_room.items():
            keys.discard(None)
            if keys:
                part[room] = dict(Counter(prefecture for prefecture, _ in keys))  # type: ignore[misc]
        if part:
            parts[talk_id] = part
    return parts


def presence_frame(rooms: dict[str, Counter[str]]) -> dict[str, Any]:
    """The presence frame of the summed parts of every process."""
    by_prefecture: Counter[str] = Counter()
    for prefs in rooms.values():
        by_prefecture.update(prefs)
    by_prefecture.pop(NO_PREFECTURE, None)
    return frames.presence(
        total=sum(sum(p.values()) for p in rooms.values()),
        rooms={room_id: sum(prefs.values()) for room_id, prefs in rooms.items() if room_id != TABLES},
        tables=sum(rooms.get(TABLES, Counter()).values()),
        by_region=count_by_region(by_prefecture),
        by_prefecture=dict(sorted(by_prefecture.items())),
    )


# Layer-internal messages (between server processes; no browser ever receives one).

def part_message(talk_id: int, process: str, part: Part) -> dict[str, Any]:
    return {"type": "presence.part", "talk": talk_id, "process": process, "rooms": part}


def reactions_message(talk_id: int, counts: dict[str, int]) -> dict[str, Any]:
    return {"type": "reactions.part", "talk": talk_id, "counts": counts}


class Aggregates:
    """One process's view of presence and reactions, per talk."""

    def __init__(self, process: str) -> None:
        self.process = process
        self.parts: dict[int, dict[str, tuple[float, Part]]] = defaultdict(dict)  # talk → process → (when, part)
        self.counted: set[int] = set()  # talks whose last part from this process counted somebody
        self.latest: dict[int, str] = {}  # talk → the presence frame last sent, encoded
        self.sent_at: dict[int, tuple[float, int]] = {}  # talk → (when, total counted) of the frame last sent
        self.reactions: dict[int, Counter[str]] = defaultdict(Counter)

    def add_reaction(self, talk_id: int, emoji: str) -> None:
        self.reactions[talk_id][emoji] += 1

    def outgoing(self, talk_id: int, part: Part) -> list[dict[str, Any]]:
        """Record this process's part and return the layer messages it sends to the talk's group this tick.

        An empty part goes out once, to replace a part that counted somebody;
        after that there is nothing to replace.
        """
        # Our own part counts at once; other processes' arrive through the layer.
        self.parts[talk_id][self.process] = (time.monotonic(), part)
        messages = []
        if part or talk_id in self.counted:
            messages.append(part_message(talk_id, self.process, part))
        if part:
            self.counted.add(talk_id)
        else:
            self.counted.discard(talk_id)
        counts = self.reactions.pop(talk_id, None)
        if counts:
            messages.append(reactions_message(talk_id, dict(counts)))
        return messages

    def receive_part(self, message: dict[str, Any]) -> None:
        self.parts[message["talk"]][message["process"]] = (time.monotonic(), message["rooms"])

    def changed_frame(self, talk_id: int) -> str | None:
        """The encoded presence frame of the latest parts, when it differs from the last one sent and is due.

        Not due until ``wait(people)`` seconds after the last one: a frame held back is not lost, the
        next tick compares the figures again.
        """
        now = time.monotonic()
        fresh = {p: entry for p, entry in self.parts[talk_id].items() if now - entry[0] < PART_TTL}
        self.parts[talk_id] = fresh
        sent = self.sent_at.get(talk_id)
        if sent is not None and now - sent[0] < wait(sent[1]):
            return None
        total: dict[str, Counter[str]] = defaultdict(Counter)
        for _, rooms in fresh.values():
            for room_id, prefs in rooms.items():
                total[room_id].update(prefs)
        frame = presence_frame(total)
        text = frames.encode(frame)
        if self.latest.get(talk_id) == text:
            return None
        self.latest[talk_id] = text
        self.sent_at[talk_id] = (now, frame["total"])
        return text


def wait(people: int) -> float:
    """Seconds between two presence frames of a talk where ``people`` were counted (0: every tick)."""
    return min(PRESENCE_MAX_WAIT, people / PRESENCE_SOCKETS)
