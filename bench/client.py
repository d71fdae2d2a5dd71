"""A benchmark client worker: holds a share of the simulated attendees' sockets.

Started by bench/lecture.py as ``python -m bench.client --worker W``; takes one
JSON command per line on stdin and answers one JSON line on stdout (logs go to
stderr). Commands:

join      GET /join/<token>/ (no redirect following), take the cookies it
          sets (Renkei: the event's admission cookie; the bare app: a
          ``sessionid``), open the lecture-room WebSocket with Origin and Cookie,
          wait for ``hello``; then read every frame until the socket closes.
send      send ``count`` chat messages at ``rate`` per second from a common
          start time (steady chat and bursts).
saturate  keep up to ``window`` of this worker's messages in flight (sent, not
          yet received by all of this worker's sockets) for ``duration`` s.
collect   wait (bounded) until the phase's messages reached every local socket;
          report per message the local count and the last arrival time.
close     close every socket.
(and the soak's commands: bench/soak_client.py)

A message's client_id is ``<phase><worker>-<seq>-<time.time_ns() at send>``;
clients and servers share one clock, so send-to-last-recipient latency is the
latest arrival over all workers minus that time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import resource
import sys
import threading
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from bench.soak_client import SoakCommands

CHAT_LIMIT = (5, 10.0)  # the server's per-person chat rate limit (rooms.realtime.protocol.CHAT_RATE)
LIMIT_MARGIN = 0.5  # seconds added to the window so clock jitter never trips the server's limit


def log(*parts: Any) -> None:
    print(f"[client {WORKER}]", *parts, file=sys.stderr, flush=True)


WORKER = 0


class Attendee:
    __slots__ = ("chat_ids", "closed_code", "count", "idx", "moved_ns", "port", "questions", "reactions", "resumed_ns",
                 "room", "room_size", "sends", "session", "task", "token", "ws")

    def __init__(self, idx: int, token: str, port: int) -> None:
        self.idx = idx
        self.token = token
        self.port = port
        self.ws: ClientConnection | None = None
        self.count = 0  # chat messages of the current phase received
        self.sends: deque[float] = deque()  # monotonic times of this attendee's recent chat sends
        self.task: asyncio.Task[None] | None = None
        self.closed_code: int | None = None
        self.moved_ns = 0  # when room.moved arrived (reception benchmark)
        self.room = 0  # the room this socket is in: its hello's, then room.moved's (a reconnect names it)
        self.room_size = 0
        self.session = ""  # the Cookie header the join link's answer made: a reconnect presents it again
        self.chat_ids: set[int] = set()  # chat ids seen (the reconnect phase: every one, none missing)
        self.resumed_ns = 0  # when this socket had all it missed after a server restart (its hello or resume)
        self.reactions = 0  # reactions counted in the ``reactions`` frames of the current phase (the soak)
        self.questions: Counter[str] = Counter()  # "<id>:<votes>" of each ``question`` frame this phase (the soak)


class Worker(SoakCommands):
    def __init__(self, worker: int) -> None:
        self.worker = worker
        self.attendees: list[Attendee] = []
        self.connected: list[Attendee] = []
        self.phase = ""
        self.stats: dict[str, list[Any]] = {}  # cid → [local count, last arrival ns, first arrival ns, {port: last ns}]
        self.buckets: Counter[int] = Counter()  # whole second (time_ns // 1e9) → deliveries
        self.frames = 0
        self.frames_phase = 0
        self.errors: Counter[str] = Counter()  # error frames received, by code
        self.dropped: Counter[str] = Counter()  # sockets closed by the server, by close code
        self.closing = False
        self.mine: set[str] = set()  # this worker's in-flight messages (saturate)
        self.progress = asyncio.Event()
        self.rotation = 0
        self.seq = 0
        self.ports = 2
        self.tracking = False  # the reconnect phase: note chat ids per socket
        self.reconnecting = False  # the reconnect phase: a closed socket comes back
        self.mode = "renkei"
        self.path = ""
        self.reconnect_timeout = 120.0
        self.lost_sockets = 0
        self.reconnect_attempts = 0
        self.reconnect_failed = 0
        self.resumed_hellos = 0  # the reconnect phase: hellos that brought what their socket missed (``after``)
        self.question_ids: set[int] = set()  # questions of the current talk seen (the soak up-votes them)

    # -- joining ---------------------------------------------------------------

    async def _http_join(self, port: int, token: str) -> str:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(
                f"GET /join/{token}/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: text/html\r\n"
                f"User-Agent: renkei-bench\r\nConnection: close\r\n\r\n".encode()
            )
            head = await reader.readuntil(b"\r\n\r\n")
            await asyncio.wait_for(reader.read(1 << 20), 5)  # the (empty) body, until the server closes
        finally:
            writer.close()
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        if status != 302:
            raise JoinError(f"http_{status}")
        cookies = []
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "set-cookie":
                cookie = value.strip().split(";", 1)[0]
                if cookie.partition("=")[2]:
                    cookies.append(cookie)
        if not cookies:
            raise JoinError("http_no_session_cookie")
        return "; ".join(cookies)

    async def _join_one(self, att: Attendee, path: str, timeout: float) -> tuple[float, float]:
        """(seconds to hello, seconds of that in GET /join/)."""
        started = time.monotonic()
        session = await asyncio.wait_for(self._http_join(att.port, att.token), timeout)
        att.session = session
        http_s = time.monotonic() - started
        left = max(1.0, timeout - (time.monotonic() - started))
        ws = await connect(
            f"ws://127.0.0.1:{att.port}{path}",
            origin=f"http://127.0.0.1:{att.port}",  # type: ignore[arg-type]
            additional_headers={"Cookie": session},
            compression=None, max_size=None, ping_interval=None, open_timeout=left, close_timeout=2,
            user_agent_header="renkei-bench",
        )
        att.ws = ws
        try:
            hello = await _hello_of(ws, lambda: max(0.5, timeout - (time.monotonic() - started)))
        except BaseException:
            await ws.close()
            att.ws = None
            raise
        att.room = _room_of(hello)
        return time.monotonic() - started, http_s

    async def join(self, cmd: dict[str, Any]) -> dict[str, Any]:
        items = [Attendee(idx, token, port) for idx, token, port in cmd["items"]]
        # Open loop (arrivals): each attendee starts at its own time, however many are still joining.
        arrivals = {att.idx: at for att, at in zip(items, cmd["at_ns"])} if cmd.get("at_ns") else None
        limit = asyncio.Semaphore(max(1, int(cmd.get("concurrency", 50))) if arrivals is None else len(items) + 1)
        timeout = float(cmd.get("timeout", 30))
        errors: Counter[str] = Counter()
        latencies: list[tuple[float, float]] = []

        async def one(att: Attendee) -> None:
            if arrivals is not None:
                await asyncio.sleep(max(0.0, arrivals[att.idx] / 1e9 - time.time()))
            async with limit:
                try:
                    latencies.append(await self._join_one(att, cmd["path"], timeout))
                except JoinError as exc:
                    errors[str(exc)] += 1
                    return
                except TimeoutError:
                    errors["timeout"] += 1
                    return
                except Exception as exc:  # refused handshake, reset, …
                    status = getattr(getattr(exc, "response", None), "status_code", None)
                    errors[f"ws_{status}" if status else f"ws_{type(exc).__name__}"] += 1
                    return
            self.attendees.append(att)
            self.connected.append(att)
            att.task = asyncio.create_task(self._read(att))

        t0 = time.time_ns()
        await asyncio.gather(*(one(att) for att in items))
        t1 = time.time_ns()
        return {"joined": len(latencies), "errors": dict(errors), "t0_ns": t0, "t1_ns": t1,
                "latencies": [[round(a, 4), round(b, 4)] for a, b in latencies]}

    # -- reading ---------------------------------------------------------------

    async def _read(self, att: Attendee) -> None:
        ws = att.ws
        assert ws is not None
        try:
            async for raw in ws:
                now = time.time_ns()
                self.frames += 1
                self.frames_phase += 1
                frame = json.loads(raw)
                kind = frame.get("type")
                messages = frame["messages"] if kind == "batch" else (frame,)
                for m in messages:
                    kind = m.get("type")
                    if kind == "chat.message" and self.tracking and isinstance(m.get("id"), int):
                        att.chat_ids.add(m["id"])
                    elif kind == "resume" and self.tracking:
                        await self._caught_up(att, ws, m, now)
                    if kind == "chat.message":
                        cid = m.get("client_id") or ""
                        if not self.phase or not cid.startswith(self.phase):
                            continue  # not the benchmark's, or a straggler of an earlier phase
                        st = self.stats.get(cid)
                        if st is None:  # [count, last arrival, first arrival, {port: last arrival there}]
                            st = self.stats[cid] = [0, 0, now, {}]
                        st[0] += 1
                        st[1] = max(st[1], now)
                        st[3][att.port] = now
                        att.count += 1
                        self.buckets[now // 1_000_000_000] += 1
                        if st[0] >= len(self.connected) and cid in self.mine:
                            self.mine.discard(cid)
                            self.progress.set()
                    elif kind == "room.moved":
                        att.moved_ns = now
                        att.room = m["room"]["id"]
                        att.room_size = len(m["members"])
                    elif kind == "reactions":
                        att.reactions += sum(m.get("counts", {}).values())
                    elif kind == "question":
                        # An ask (votes 0) and each up-vote (votes + 1, one at a time under a row lock) give
                        # distinct keys: every socket of the talk must see each once.
                        att.questions[f"{m['id']}:{m['votes']}"] += 1
                        self.question_ids.add(m["id"])
                    elif kind == "error":
                        self.errors[str(m.get("code"))] += 1
        except ConnectionClosed:
            pass
        except Exception as exc:
            self.dropped[f"client_{type(exc).__name__}"] += 1
        finally:
            if not self.closing:
                code = ws.close_code if ws.close_code is not None else -1
                if att in self.connected:
                    self.connected.remove(att)
                if self.reconnecting:  # the server went away on purpose (the reconnect phase): come back
                    self.lost_sockets += 1
                    asyncio.create_task(self._reconnect(att))
                else:
                    self.dropped[f"close_{code}"] += 1

    async def _caught_up(self, att: Attendee, ws: ClientConnection, frame: dict[str, Any], now: int) -> None:
        """A resume answer, or a resumed hello: its messages count as received; back once one says ``complete``."""
        att.chat_ids.update(x["id"] for x in frame.get("messages", []))
        if frame.get("complete", True):
            att.resumed_ns = att.resumed_ns or now
        else:  # more than one answer's worth missed: ask for the rest
            await ws.send(json.dumps({"type": "resume", "after": max(att.chat_ids, default=0)}))

    async def _open_room(self, att: Attendee, path: str) -> tuple[ClientConnection, dict[str, Any]]:
        """Open a room's WebSocket with the cookies the join link gave (no new link), as the page does; wait for hello."""
        ws = await connect(
            f"ws://127.0.0.1:{att.port}{path}", origin=f"http://127.0.0.1:{att.port}",  # type: ignore[arg-type]
            additional_headers={"Cookie": att.session},
            compression=None, max_size=None, ping_interval=None, open_timeout=30, close_timeout=2,
            user_agent_header="renkei-bench",
        )
        try:
            return ws, await _hello_of(ws, lambda: 30.0)
        except BaseException:
            await ws.close()
            raise

    async def _reconnect(self, att: Attendee) -> None:
        """Open the room again with the session the join link gave, as the page does, and take up its chat.

        Waits as the page does (frontend/static/renkei/lecture.js): 1 s, 2 s, 4 s … up to
        30 s, each times a random 0.5-1, before each attempt. Renkei: the socket names its
        room and the last chat id it saw (``?room=…&after=…``), so its hello brings what it
        missed, and it is back then; only a hello that says it is not ``complete`` (or an
        ordinary one, in another room) is followed by ``resume``, whose answer _read reads.
        The bare app has no resume: there the hello counts as back.
        """
        deadline = time.monotonic() + self.reconnect_timeout
        rng = random.Random(att.idx)
        attempt = 0
        while time.monotonic() < deadline and self.reconnecting:
            await asyncio.sleep(min(30.0, 2.0 ** attempt) * (0.5 + rng.random() / 2))
            attempt += 1
            path = self.path
            if self.mode != "bare" and att.room:
                path += f"?room={att.room}&after={max(att.chat_ids, default=0)}"
            try:
                ws, hello = await self._open_room(att, path)
            except Exception:
                self.reconnect_attempts += 1
                continue
            now = time.time_ns()
            att.ws = ws
            self.connected.append(att)
            if self.mode == "bare":
                att.resumed_ns = now
            else:
                att.room = _room_of(hello) or att.room
                if "after" in hello:
                    self.resumed_hellos += 1
                    await self._caught_up(att, ws, hello, now)
                else:
                    await ws.send(json.dumps({"type": "resume", "after": max(att.chat_ids, default=0)}))
            att.task = asyncio.create_task(self._read(att))
            return
        self.reconnect_failed += 1

    # -- the reconnect phase -----------------------------------------------------

    async def reconnect_arm(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """From now on: note every chat id each socket sees, and come back when the server goes away."""
        self.tracking = True
        self.reconnecting = True
        self.mode = cmd["mode"]
        self.path = cmd["path"]
        self.reconnect_timeout = float(cmd.get("timeout", 120))
        self.lost_sockets = self.reconnect_attempts = self.reconnect_failed = self.resumed_hellos = 0
        for att in self.attendees:
            att.chat_ids = set()
            att.resumed_ns = 0
        return {"armed": len(self.attendees)}

    async def reconnect_wait(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Wait (bounded) until every socket that went away is back and resumed; report when."""
        deadline = time.monotonic() + float(cmd["timeout"])
        while time.monotonic() < deadline:
            if self.lost_sockets >= len(self.attendees) and all(a.resumed_ns for a in self.attendees):
                break
            await asyncio.sleep(0.05)
        done = sorted(a.resumed_ns for a in self.attendees if a.resumed_ns)
        return {"attendees": len(self.attendees), "lost_sockets": self.lost_sockets, "resumed": len(done),
                "resumed_ns": done, "attempts": self.reconnect_attempts, "failed": self.reconnect_failed,
                "resumed_hellos": self.resumed_hellos}

    async def reconnect_check(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Every id in ``expected`` (the messages the room stored) must have reached every socket."""
        if cmd.get("settle"):
            await asyncio.sleep(float(cmd["settle"]))
        expected = set(cmd["expected"])
        short = [len(expected - a.chat_ids) for a in self.attendees]
        self.reconnecting = False
        self.tracking = False
        return {"sockets": len(self.attendees), "sockets_missing": sum(1 for n in short if n),
                "missing_deliveries": sum(short), "connected": len(self.connected)}

    # -- sending ---------------------------------------------------------------

    def _start_phase(self, phase: str) -> None:
        self.phase = phase
        self.stats = {}
        self.buckets = Counter()
        self.frames_phase = 0
        self.errors = Counter()
        self.mine = set()
        for att in self.connected:
            att.count = 0
            att.reactions = 0
            att.questions = Counter()

    def _pick_senders(self, mode: str) -> list[Attendee] | float:
        """The sockets to send the next message on, or the seconds until one may send again.

        Renkei: one attendee (its server relays to everyone), never more than the
        per-person rate limit allows. Bare app: one attendee on each server, since
        each bare process broadcasts only to its own sockets.
        """
        now = time.monotonic()
        pool = self.connected
        if not pool:
            return 1.0
        if mode == "bare":
            picked: dict[int, Attendee] = {}
            for _ in range(len(pool)):
                self.rotation = (self.rotation + 1) % len(pool)
                att = pool[self.rotation]
                picked.setdefault(att.port, att)
                if len(picked) >= self.ports:
                    break
            return list(picked.values())
        count, seconds = CHAT_LIMIT
        window = seconds + LIMIT_MARGIN
        soonest = window
        for _ in range(len(pool)):
            self.rotation = (self.rotation + 1) % len(pool)
            att = pool[self.rotation]
            while att.sends and now - att.sends[0] > window:
                att.sends.popleft()
            if len(att.sends) < count:
                att.sends.append(now)
                return [att]
            soonest = min(soonest, window - (now - att.sends[0]))
        return max(0.001, soonest)

    async def _send_one(self, mode: str, body: str) -> tuple[str, int] | float:
        senders = self._pick_senders(mode)
        if isinstance(senders, float):
            return senders
        self.seq += 1
        sent_ns = time.time_ns()
        cid = f"{self.phase}{self.worker}-{self.seq}-{sent_ns}"
        text = json.dumps({"type": "chat.send", "body": f"{body} #{self.seq}", "client_id": cid}, ensure_ascii=False)
        self.mine.add(cid)
        for att in senders:
            assert att.ws is not None
            try:
                await att.ws.send(text)
            except ConnectionClosed:
                pass
        return cid, sent_ns

    async def send(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """``count`` messages at ``rate``/s, the first at start_at_ns + offset_s."""
        self._start_phase(cmd["phase"])
        self.ports = int(cmd.get("ports", 2))
        rate = float(cmd["rate"])
        count = int(cmd["count"])
        start = cmd["start_at_ns"] / 1e9 + float(cmd.get("offset_s", 0.0))
        deadline = time.time() + float(cmd.get("max_seconds", count / max(rate, 0.001) + 60))
        sent: list[tuple[str, int]] = []
        lateness = 0.0
        throttled = 0
        i = 0
        while i < count and time.time() < deadline:
            due = start + i / rate
            wait = due - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            result = await self._send_one(cmd["mode"], cmd.get("body", "ベンチマークのチャット"))
            if isinstance(result, float):  # every sender is at the rate limit: wait, then retry
                throttled += 1
                await asyncio.sleep(min(result, 1.0))
                continue
            lateness = max(lateness, time.time() - due)
            sent.append(result)
            i += 1
        return {"sent": sent, "late_max_ms": round(lateness * 1000, 1), "throttled": throttled}

    async def saturate(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Closed loop: keep ``window`` messages in flight for ``duration`` seconds."""
        self._start_phase(cmd["phase"])
        self.ports = int(cmd.get("ports", 2))
        window = int(cmd["window"])
        start = cmd["start_at_ns"] / 1e9
        await asyncio.sleep(max(0.0, start - time.time()))
        end = time.time() + float(cmd["duration"])
        sent: list[tuple[str, int]] = []
        throttled = 0
        while time.time() < end:
            if len(self.mine) >= window:
                self.progress.clear()
                try:
                    await asyncio.wait_for(self.progress.wait(), max(0.001, min(0.2, end - time.time())))
                except TimeoutError:
                    pass
                continue
            result = await self._send_one(cmd["mode"], cmd.get("body", "ベンチマークのチャット"))
            if isinstance(result, float):
                throttled += 1
                await asyncio.sleep(min(result, 0.2, max(0.001, end - time.time())))
                continue
            sent.append(result)
            if len(sent) % 16 == 0:
                await asyncio.sleep(0)  # let the readers run
        return {"sent": sent, "throttled": throttled, "in_flight_at_end": len(self.mine)}

    async def collect(self, cmd: dict[str, Any]) -> dict[str, Any]:
        cids: list[str] = cmd["cids"]
        deadline = time.monotonic() + float(cmd["timeout"])
        while time.monotonic() < deadline:
            need = len(self.connected)
            if all(self.stats.get(c, (0,))[0] >= need for c in cids):
                break
            await asyncio.sleep(0.05)
        if cmd.get("settle"):  # catch duplicates that would arrive after completion
            await asyncio.sleep(float(cmd["settle"]))
        expected = len(cids)
        counts = [a.count for a in self.connected]
        return {
            "stats": {c: self.stats.get(c, [0, 0, 0, {}]) for c in cids},
            "connected": len(self.connected),
            "short_sockets": sum(1 for n in counts if n < expected),
            "over_sockets": sum(1 for n in counts if n > expected),
            "min_socket_count": min(counts) if counts else 0,
            "buckets": {str(k): v for k, v in self.buckets.items()},
            "frames": self.frames_phase,
            "errors": dict(self.errors),
            "dropped": dict(self.dropped),
        }

    # -- the reception -------------------------------------------------------------

    async def moved(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Wait until every connected attendee got room.moved (or the timeout); report when and where."""
        deadline = time.monotonic() + float(cmd["timeout"])
        while time.monotonic() < deadline and any(a.moved_ns == 0 for a in self.connected):
            await asyncio.sleep(0.02)
        done = [a for a in self.connected if a.moved_ns]
        return {
            "connected": len(self.connected),
            "moved": len(done),
            "moved_ns": sorted(a.moved_ns for a in done),
            "rooms": {str(a.idx): [a.room, a.room_size] for a in done},
        }

    async def room_chat(self, cmd: dict[str, Any]) -> dict[str, Any]:
        """Each listed room (this process speaks for it) says one message a second, its members here taking turns.

        Turns keep every person under the chat limit (5 in 10 s) at one message a second per room.
        """
        self._start_phase(cmd["phase"])
        by_room: dict[int, list[Attendee]] = defaultdict(list)
        wanted = set(cmd["rooms"])
        for att in self.connected:
            if att.room in wanted:
                by_room[att.room].append(att)
        sent: dict[str, int] = {}
        start = cmd["start_at_ns"] / 1e9
        for tick in range(int(cmd["seconds"])):
            wait = start + tick - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
            for room, members in by_room.items():
                att = members[tick % len(members)]
                sent_ns = time.time_ns()
                cid = f"{self.phase}{room}-{tick}-{sent_ns}"
                sent[cid] = sent_ns
                with contextlib.suppress(ConnectionClosed):
                    assert att.ws is not None
                    await att.ws.send(json.dumps({"type": "chat.send", "body": f"懇親会 {tick}", "client_id": cid}))
        return {"sent": sent}

    async def room_stats(self, cmd: dict[str, Any]) -> dict[str, Any]:
        await asyncio.sleep(float(cmd.get("settle", 0)))
        return {"stats": {c: v for c, v in self.stats.items()}, "errors": dict(self.errors)}

    async def close(self, cmd: dict[str, Any]) -> dict[str, Any]:
        self.closing = True
        limit = asyncio.Semaphore(200)

        async def one(att: Attendee) -> None:
            async with limit:
                if att.ws is not None:
                    try:
                        await asyncio.wait_for(att.ws.close(), 3)
                    except Exception:
                        att.ws.transport.abort()
                if att.task is not None:
                    att.task.cancel()

        closed = len(self.attendees)
        try:
            await asyncio.wait_for(asyncio.gather(*(one(a) for a in self.attendees), return_exceptions=True),
                                   float(cmd.get("timeout", 30)))
        except TimeoutError:
            # A loaded machine: 2,500 closing handshakes 200 at a time outlast the timeout. The phase's
            # figures are taken already; drop what is left rather than fail the run.
            for att in self.attendees:
                if att.ws is not None:
                    att.ws.transport.abort()
                if att.task is not None:
                    att.task.cancel()
        self.attendees = []
        self.connected = []
        self.closing = False
        self.dropped = Counter()
        self.phase = ""
        return {"closed": closed}


class JoinError(Exception):
    pass


async def _hello_of(ws: ClientConnection, left: Callable[[], float]) -> dict[str, Any]:
    """The socket's hello (it comes first; a presence tick may slip in before it, or a batch hold it).

    ``left``: the seconds the next read may wait.
    """
    for _ in range(20):
        frame = json.loads(await asyncio.wait_for(ws.recv(), left()))
        for m in frame.get("messages", []) if frame.get("type") == "batch" else (frame,):
            if m.get("type") == "hello":
                return m
    raise JoinError("no_hello")


def _room_of(hello: dict[str, Any]) -> int:
    """The room a hello puts the socket in (0: the bare app's hello names none)."""
    room = hello.get("room")
    return int(room["id"]) if isinstance(room, dict) else 0


def _stdin_lines(loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]) -> None:
    for line in sys.stdin:
        loop.call_soon_threadsafe(queue.put_nowait, line)
    loop.call_soon_threadsafe(queue.put_nowait, None)


async def serve(worker_id: int) -> None:
    worker = Worker(worker_id)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    threading.Thread(target=_stdin_lines, args=(loop, queue), daemon=True).start()
    print(json.dumps({"ready": worker_id, "pid": os.getpid()}), flush=True)
    while True:
        line = await queue.get()
        if line is None:  # the orchestrator went away
            break
        cmd = json.loads(line)
        name = cmd["cmd"]
        if name == "exit":
            break
        try:
            reply = await getattr(worker, name)(cmd)
            reply["ok"] = True
        except Exception as exc:  # report, do not die: the orchestrator decides
            log(f"{name} failed: {exc!r}")
            reply = {"ok": False, "error": repr(exc)}
        reply["cpu_s"] = round(sum(os.times()[:2]), 3)
        sys.stdout.write(json.dumps(reply, separators=(",", ":")) + "\n")
        sys.stdout.flush()
    worker.closing = True
    for att in worker.attendees:
        if att.ws is not None:
            att.ws.transport.abort()


def main() -> None:
    global WORKER
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", type=int, default=0)
    args = parser.parse_args()
    WORKER = args.worker
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    asyncio.run(serve(args.worker))


if __name__ == "__main__":
    main()
