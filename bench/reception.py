"""The reception phase of the benchmark: the speaker ends the talk, everyone is moved, then rooms chat.

Run by bench/lecture.py after the lecture-room phases, on the same connected
attendees (see docs/performance.md, "Receptions"):

1. A speaker's WebSocket (signed in by a session the seed made) sends
   ``stage.end``; the clock starts just before. Every attendee's client notes when
   ``room.moved`` arrives and in which room. Reported: the time to the last
   attendee moved, and how many were moved of how many connected.
2. ``--chat-rooms`` rooms each say one message a second for ``--room-chat``
   seconds, their members taking turns (the chat limit is per person). Every
   member of a room must receive each of its messages; fan-out latency is from
   the send to the last member of that room.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter, defaultdict
from typing import Any

from websockets.asyncio.client import connect


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def merge_stats(replies: list[dict[str, Any]]) -> dict[str, list[int]]:
    """The client workers' per-message stats ([count, last arrival ns, …]), summed over the workers: [count, latest]."""
    got: dict[str, list[int]] = {}
    for reply in replies:
        for cid, (count, last, *_) in reply["stats"].items():
            entry = got.setdefault(cid, [0, 0])
            entry[0] += count
            entry[1] = max(entry[1], last)
    return got


async def end_talk(port: int, talk_id: int, session: str, timeout: float = 30) -> int:
    """As the speaker: connect, wait for hello, send stage.end. Returns the send time (ns)."""
    ws = await connect(f"ws://127.0.0.1:{port}/ws/talks/{talk_id}/", origin=f"http://127.0.0.1:{port}",  # type: ignore[arg-type]
                       additional_headers={"Cookie": f"sessionid={session}"}, open_timeout=timeout,
                       max_size=None, compression=None)
    try:
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if frame.get("type") == "hello":
                break
        sent = time.time_ns()
        await ws.send(json.dumps({"type": "stage.end"}))
        # Stay until the opening reached this process too, so the speaker's close does not race it.
        while True:
            frame = json.loads(await asyncio.wait_for(ws.recv(), timeout))
            if frame.get("type") == "reception.opened" or frame.get("type") == "batch" and any(
                m.get("type") == "reception.opened" for m in frame.get("messages", [])
            ):
                return sent
    finally:
        await ws.close()


async def reception_phase(bench: Any, ports: list[int], servers: list[Any]) -> dict[str, Any]:
    args = bench.args
    before = bench.sample(servers)
    t0 = await end_talk(ports[0], bench.talk_id, bench.staff_session)
    replies = await bench.call_all([{"cmd": "moved", "timeout": args.drain}] * len(bench.workers), args.drain + 30)
    after = bench.sample(servers)
    moved_ns = sorted(ns for r in replies for ns in r["moved_ns"])
    connected = sum(r["connected"] for r in replies)
    rooms: dict[int, Counter[int]] = defaultdict(Counter)  # room → worker → members there
    sizes: dict[int, int] = {}
    for w, reply in enumerate(replies):
        for room, size in reply["rooms"].values():
            rooms[room][w] += 1
            sizes[room] = size
    out: dict[str, Any] = {
        "connected": connected,
        "moved": len(moved_ns),
        "rooms": len(rooms),
        "room_sizes": dict(sorted(Counter(sizes.values()).items())),
        "move_s_last": round((moved_ns[-1] - t0) / 1e9, 3) if moved_ns else None,
        "move_s_p50": round((pct(moved_ns, 50) - t0) / 1e9, 3) if moved_ns else None,  # type: ignore[operator]
        "cpu": bench.cpu_report(before, after),
    }
    if args.chat_rooms and args.room_chat > 0 and rooms:
        out["room_chat"] = await room_chat(bench, servers, rooms, sizes)
    return out


async def room_chat(bench: Any, servers: list[Any], rooms: dict[int, Counter[int]], sizes: dict[int, int]) -> dict[str, Any]:
    args = bench.args
    chosen = sorted(rooms)[: args.chat_rooms]
    speakers: dict[int, list[int]] = defaultdict(list)  # worker → rooms it speaks for
    for room in chosen:
        speakers[rooms[room].most_common(1)[0][0]].append(room)  # the process holding most of its members
    # The lecture phases leave people at the per-person chat limit (5 in 10 s, counted
    # in the database across the talk's rooms): let that window pass first.
    await asyncio.sleep(11)
    before = bench.sample(servers)
    start = time.time_ns() + 1_000_000_000
    cmds = [{"cmd": "room_chat", "phase": "r", "rooms": speakers.get(w, []), "seconds": int(args.room_chat),
             "start_at_ns": start} for w in range(len(bench.workers))]
    sent_replies = await bench.call_all(cmds, args.room_chat + 60)
    stats_replies = await bench.call_all([{"cmd": "room_stats", "settle": 3}] * len(bench.workers), 60)
    after = bench.sample(servers)
    sent = {cid: ns for r in sent_replies for cid, ns in r["sent"].items()}
    got = merge_stats(stats_replies)
    latencies, short, extra = [], 0, 0
    for cid, ns in sent.items():
        room = int(cid[1:].split("-", 1)[0])
        count, last = got.get(cid, [0, 0])
        short += max(0, sizes[room] - count)
        extra += max(0, count - sizes[room])
        if count:
            latencies.append((last - ns) / 1e6)
    deliveries = sum(c for c, _ in got.values())
    return {
        "rooms": len(chosen),
        "messages": len(sent),
        "every_message_to_its_room": short == 0 and extra == 0,
        "missing_deliveries": short,
        "extra_deliveries": extra,
        "latency_ms": {"p50": pct(latencies, 50), "p99": pct(latencies, 99), "max": max(latencies, default=None)},
        "deliveries": deliveries,
        "errors": {k: v for r in stats_replies for k, v in r["errors"].items()},
        "cpu": bench.cpu_report(before, after),
    }
