"""The soak's commands of a benchmark client worker (bench/client.py's Worker inherits them; see bench/soak.py).

live         for ``seconds`` from ``start_at_ns``: chat at ``chat_rate``, reactions at
             ``reaction_rate``, a question every ``question_every`` s and up-votes at
             ``upvote_rate`` (per second, this worker's share), all at once as in a talk
live_check   per connected socket: the reactions counted and the question frames seen
             this phase (the orchestrator compares them with what was sent)
table_chat   the reception: ``rate`` of this worker's tables say one message each second,
             rotating through the tables, their local members taking turns
table_check  per socket: the table messages received against those sent to its table
closed_wait  wait until every socket is gone (the reception closed them with 4000)
rejoin       open the next talk's room with the session the join link gave, as the lobby does
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from websockets.exceptions import ConnectionClosed

REACTIONS = ("👏", "👍", "❤️", "😮", "🙏", "💡")  # rooms.realtime.protocol.REACTIONS
STOP_BEFORE_END = 2.0  # reactions and questions stop this long before a slice ends: their frames arrive in it


class SoakCommands:
    attendees: list[Any]
    connected: list[Any]
    phase: str
    stats: dict[str, list[Any]]
    errors: Counter[str]
    dropped: Counter[str]
    question_ids: set[int]
    _start_phase: Callable[[str], None]
    _send_one: Callable[[str, str], Awaitable[Any]]
    _read: Callable[[Any], Awaitable[None]]
    _open_room: Callable[[Any, str], Awaitable[Any]]

    _turn = 0
    _voted: set[tuple[int, int]] = set()

    def _next(self) -> Any:
        self._turn = (self._turn + 1) % max(1, len(self.connected))
        return self.connected[self._turn] if self.connected else None

    async def live(self, cmd: dict[str, Any]) -> dict[str, Any]:
        self._start_phase(cmd["phase"])
        start = cmd["start_at_ns"] / 1e9
        end = start + float(cmd["seconds"])
        sent: list[tuple[str, int]] = []
        counts: Counter[str] = Counter()

        async def every(rate: float, stop: float, action: Callable[[int], Awaitable[None]]) -> None:
            if rate <= 0:
                return
            i = 0
            while start + i / rate < stop:
                await asyncio.sleep(max(0.0, start + i / rate - time.time()))
                with contextlib.suppress(ConnectionClosed):
                    await action(i)
                i += 1

        async def chat(i: int) -> None:
            result = await self._send_one("renkei", "ソークテストのチャット")
            if isinstance(result, float):
                counts["chat_throttled"] += 1
            else:
                sent.append(result)

        async def react(i: int) -> None:
            att = self._next()
            if att is not None and att.ws is not None:
                await att.ws.send(json.dumps({"type": "reaction.send", "emoji": REACTIONS[i % len(REACTIONS)]}))
                counts["reactions"] += 1

        async def ask(i: int) -> None:
            att = self._next()
            if att is not None and att.ws is not None:
                await att.ws.send(json.dumps({"type": "question.ask", "body": f"質問 {self.phase}{i}"},
                                             ensure_ascii=False))
                counts["asks"] += 1

        async def upvote(i: int) -> None:
            ids = sorted(self.question_ids)
            if not ids:
                return
            qid = ids[i % len(ids)]
            for _ in range(len(self.connected)):  # someone here who has not voted for it yet
                att = self._next()
                if att is not None and (att.idx, qid) not in self._voted and att.ws is not None:
                    self._voted.add((att.idx, qid))
                    await att.ws.send(json.dumps({"type": "question.upvote", "id": qid}))
                    counts["upvotes"] += 1
                    return

        quiet = end - STOP_BEFORE_END
        every_q = float(cmd.get("question_every", 0))
        await asyncio.gather(
            every(float(cmd["chat_rate"]), end, chat),
            every(float(cmd["reaction_rate"]), quiet, react),
            every(1 / every_q if every_q > 0 else 0, quiet, ask),
            every(float(cmd["upvote_rate"]), quiet, upvote),
        )
        return {"sent": sent, "counts": dict(counts)}

    async def live_check(self, cmd: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(float(cmd.get("settle", 0)))
        seen: Counter[str] = Counter()
        duplicated = 0
        for att in self.connected:
            seen.update(att.questions.keys())
            duplicated += sum(n - 1 for n in att.questions.values() if n > 1)
        return {"connected": len(self.connected), "reactions": [a.reactions for a in self.connected],
                "question_keys": dict(seen), "question_duplicates": duplicated, "errors": dict(self.errors)}

    async def table_chat(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """``rate`` of the listed tables speak each second, in turn; each table's members here take turns.

        A table speaks every len(rooms)/rate seconds, so nobody nears the chat limit (5 in 10 s).
        """
        self._start_phase(cmd["phase"])
        members: dict[int, list[Any]] = defaultdict(list)
        for att in self.connected:
            members[att.room].append(att)
        rooms = [r for r in cmd["rooms"] if members.get(r)]
        turns: Counter[int] = Counter()
        sent: dict[str, int] = {}
        start = cmd["start_at_ns"] / 1e9
        rate = int(cmd["rate"])
        k = 0
        for tick in range(int(cmd["seconds"])):
            await asyncio.sleep(max(0.0, start + tick - time.time()))
            for _ in range(min(rate, len(rooms))):
                room = rooms[k % len(rooms)]
                k += 1
                here = members[room]
                att = here[turns[room] % len(here)]
                turns[room] += 1
                sent_ns = time.time_ns()
                cid = f"{self.phase}{room}-{tick}-{sent_ns}"
                sent[cid] = sent_ns
                with contextlib.suppress(ConnectionClosed):
                    await att.ws.send(json.dumps({"type": "chat.send", "body": f"懇親会 {tick}", "client_id": cid},
                                                 ensure_ascii=False))
        return {"sent": sent}

    async def table_check(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Every socket must have received each message sent to its table exactly once (counts; cids in stats)."""
        deadline = time.monotonic() + float(cmd["timeout"])
        per_room: dict[str, int] = cmd["per_room"]
        while time.monotonic() < deadline:
            if all(a.count >= per_room.get(str(a.room), 0) for a in self.connected):
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(float(cmd.get("settle", 0)))
        short = [per_room.get(str(a.room), 0) - a.count for a in self.connected]
        return {"stats": self.stats, "connected": len(self.connected),
                "missing": sum(n for n in short if n > 0), "duplicated": sum(-n for n in short if n < 0),
                "short_sockets": sum(1 for n in short if n > 0), "over_sockets": sum(1 for n in short if n < 0),
                "errors": dict(self.errors)}

    async def closed_wait(self, cmd: dict[str, Any]) -> dict[str, Any]:
        deadline = time.monotonic() + float(cmd["timeout"])
        while self.connected and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        dropped = dict(self.dropped)
        self.dropped = Counter()
        return {"still_connected": len(self.connected), "closes": dropped}

    async def rejoin(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Everyone not connected opens ``path`` with their session (no new join link) and waits for hello."""
        limit = asyncio.Semaphore(max(1, int(cmd.get("concurrency", 16))))
        errors: Counter[str] = Counter()
        self.question_ids = set()
        self._voted = set()
        started = time.monotonic()

        async def one(att: Any) -> None:
            async with limit:
                try:
                    ws, _ = await self._open_room(att, cmd["path"])
                except Exception as exc:
                    errors[str(exc) if type(exc).__name__ == "JoinError" else type(exc).__name__] += 1
                    return
            att.ws, att.moved_ns, att.room, att.room_size = ws, 0, 0, 0
            self.connected.append(att)
            att.task = asyncio.create_task(self._read(att))

        await asyncio.gather(*(one(a) for a in self.attendees if a not in self.connected))
        return {"rejoined": len(self.connected), "attendees": len(self.attendees), "errors": dict(errors),
                "seconds": round(time.monotonic() - started, 2)}
