"""One of two Daphne processes behind nginx is killed (SIGKILL) during a talk: its attendees reconnect
through nginx to the survivor within 5 s, ``resume`` gives each the chat they missed exactly once, their
minutes watched continue without a gap, and a reception in progress keeps its tables and members."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from contextlib import ExitStack
from typing import Any

import pytest
import websockets
from channels.db import database_sync_to_async
from django.utils import timezone
from websockets.protocol import State

from regions.models import Prefecture
from rooms.lecture.attendance import merge_intervals
from rooms.models import Attendance, Reception, Seat, Stage
from tests.conftest import delete_redis_keys
from tests.factories import make_event, make_staff, make_talk, register
from tests.nginx_server import Nginx, nginx, proxied_env
from tests.rooms.conftest import cookies_for
from tests.rooms.test_two_processes import frames_until
from tests.servers import Daphne, access_lines, daphne_process
from tests.waiting import until

pytestmark = [pytest.mark.services, pytest.mark.e2e]

RECONNECT_WITHIN = 5.0  # seconds from the kill to the reconnected socket's hello (issue 13)


class Behind(ExitStack):
    """Two Daphne processes (PostgreSQL, Redis, access lines at INFO) and nginx in front of them."""

    def __init__(self, postgres_url: str, redis_url: str, tmp_path: Any) -> None:
        super().__init__()
        self.prefix = f"renkei-test-{uuid.uuid4().hex[:8]}"
        self.redis_url = redis_url
        env = proxied_env(postgres_url, redis_url, self.prefix, tmp_path / "static")
        self.servers: list[Daphne] = [self.enter_context(daphne_process(env, log_level="INFO")) for _ in range(2)]
        self.proxy: Nginx = self.enter_context(nginx(tmp_path / "nginx", [s.base[len("http://"):] for s in self.servers],
                                                     tmp_path / "static"))
        self.callback(delete_redis_keys, redis_url, self.prefix)

    def connect(self, talk_id: int, session_key: str):
        base = self.proxy.base
        return websockets.connect(base.replace("http", "ws") + f"/ws/talks/{talk_id}/", origin=base,
                                  additional_headers={"Cookie": session_key})

    def sockets_on(self, server: Daphne) -> int:
        """How many sockets nginx gave this process (none has closed before the kill)."""
        return sum(line["message"].startswith("WebSocket") and line["message"].endswith("opened")
                   for line in access_lines(server.log))

    async def logged(self, sockets: int) -> None:
        """Wait until the processes' access lines (read from their pipes) name every socket opened."""
        await until(lambda: sum(self.sockets_on(s) for s in self.servers) == sockets,
                    f"{sockets} sockets in the access lines", detail=lambda: "".join(self.servers[0].log[-10:]))

    def kill(self, server: Daphne) -> float:
        server.proc.kill()
        server.proc.wait()
        return time.monotonic()


async def closed_by_the_kill(sockets: list, expected: int) -> list[int]:
    """The indexes of the sockets nginx closed because their process died, once all ``expected`` have."""
    await until(lambda: sum(ws.state is State.CLOSED for ws in sockets) >= expected,
                f"nginx closing the {expected} sockets of the killed process")
    return [n for n, ws in enumerate(sockets) if ws.state is State.CLOSED]


async def reconnected(behind: Behind, talk_id: int, session_key: str, killed_at: float) -> tuple[Any, dict]:
    """Reconnect through nginx (to the survivor) as a browser does, and return the socket and its hello."""
    ws = await behind.connect(talk_id, session_key)
    hello = (await frames_until(ws, "hello"))[0]
    took = time.monotonic() - killed_at
    assert took < RECONNECT_WITHIN, f"reconnected {took:.1f} s after the kill"
    return ws, hello


def test_attendees_of_a_killed_daphne_reconnect_through_nginx_and_resume_misses_nothing(
        postgres_url, redis_url, tmp_path):
    talk = make_talk(make_event())
    Stage.objects.create(talk=talk, room_mode=Stage.RoomMode.SINGLE, state=Stage.State.LIVE)
    people = [register(talk.event, full_name=f"医師 {n}") for n in range(4)]
    keys = [cookies_for(p) for p in people]

    with Behind(postgres_url, redis_url, tmp_path) as behind:
        async def scenario():
            sockets = []
            for key in keys:  # one after the other: least_conn alternates between the processes
                sockets.append(await behind.connect(talk.pk, key))
                await frames_until(sockets[-1], "hello")
            try:
                await sockets[0].send(json.dumps({"type": "chat.send", "body": "停止の前"}))
                last_seen = [(await frames_until(ws, "chat.message"))[0]["id"] for ws in sockets][0]
                doomed = behind.servers[0]
                await behind.logged(len(sockets))
                expected = behind.sockets_on(doomed)
                assert 0 < expected < len(sockets)
                killed_at = behind.kill(doomed)
                gone = await closed_by_the_kill(sockets, expected)
                survivors = [ws for n, ws in enumerate(sockets) if n not in gone]
                # While they are away, the others chat on.
                for n in range(3):
                    await survivors[0].send(json.dumps({"type": "chat.send", "body": f"留守中 {n}"}))
                missed = [[m["id"] for m in await frames_until(ws, "chat.message", count=3)] for ws in survivors][0]
                for n in gone:
                    sockets[n], _hello = await reconnected(behind, talk.pk, keys[n], killed_at)
                    await sockets[n].send(json.dumps({"type": "resume", "after": last_seen}))
                    resumed = (await frames_until(sockets[n], "resume"))[0]["messages"]
                    assert [m["id"] for m in resumed] == missed  # each once, in order
                    assert [m["body"] for m in resumed] == ["留守中 0", "留守中 1", "留守中 2"]
                # Chat flows again from a reconnected socket to everyone.
                await sockets[gone[0]].send(json.dumps({"type": "chat.send", "body": "戻りました"}))
                for ws in sockets:
                    assert (await frames_until(ws, "chat.message"))[0]["body"] == "戻りました"
                return gone
            finally:
                for ws in sockets:
                    await ws.close()

        gone = asyncio.run(scenario())

    # Minutes watched continue without a gap: the dead process's row never closed, and counts until the
    # reconnection's row took over (rooms.lecture.attendance: the union of a physician's connections).
    now = timezone.now()
    for n in gone:
        rows = list(Attendance.objects.filter(talk=talk, registration=people[n]).values_list("joined_at", "left_at"))
        assert len(rows) == 2
        assert len(merge_intervals((joined, left or now) for joined, left in rows)) == 1, rows


def test_a_reception_in_progress_keeps_its_tables_and_members_when_a_daphne_is_killed(
        postgres_url, redis_url, tmp_path):
    talk = make_talk(make_event())
    Stage.objects.create(talk=talk, room_mode=Stage.RoomMode.SINGLE, state=Stage.State.LIVE)
    Reception.objects.create(talk=talk, room_size=3)
    iwate = Prefecture.objects.get(code="03")
    people = [register(talk.event, full_name=f"岩手 {n}", prefecture=iwate) for n in range(6)]
    keys = [cookies_for(p) for p in people]
    speaker = make_staff("spk", "speaker")
    talk.speakers.add(speaker)
    staff_key = cookies_for(user=speaker)

    with Behind(postgres_url, redis_url, tmp_path) as behind:
        async def scenario():
            sockets = []
            for key in [*keys, staff_key]:
                sockets.append(await behind.connect(talk.pk, key))
                await frames_until(sockets[-1], "hello")
            attendees, staff = sockets[:-1], sockets[-1]
            try:
                await staff.send(json.dumps({"type": "stage.end"}))
                moved = [(await frames_until(ws, "room.moved"))[0] for ws in attendees]
                tables = [m["room"]["id"] for m in moved]
                assert len(set(tables)) == 2
                seats = await database_sync_to_async(open_seats)(talk)
                doomed = behind.servers[1]
                await behind.logged(len(sockets))
                expected = behind.sockets_on(doomed)
                killed_at = behind.kill(doomed)
                gone = [n for n in await closed_by_the_kill(sockets, expected) if n < len(attendees)]
                assert gone
                for n in gone:
                    attendees[n], hello = await reconnected(behind, talk.pk, keys[n], killed_at)
                    # Back at the same table, with the same people around it.
                    assert hello["room"]["id"] == tables[n]
                    assert names(hello["members"]) == names(moved[n]["members"])
                    assert len(hello["members"]) == 3
                assert await database_sync_to_async(open_seats)(talk) == seats
                # The table's chat reaches its members on both sides of the kill, and no one else.
                speaking = gone[0]
                await attendees[speaking].send(json.dumps({"type": "chat.send", "body": "同じテーブルです"}))
                for n, ws in enumerate(attendees):
                    if tables[n] == tables[speaking]:
                        assert (await frames_until(ws, "chat.message"))[0]["body"] == "同じテーブルです"
            finally:
                for ws in [*attendees, staff]:
                    await ws.close()

        asyncio.run(scenario())


def open_seats(talk) -> set[tuple[int, int]]:
    """(registration, table) of everyone seated at the talk's reception now."""
    return set(Seat.objects.filter(left_at__isnull=True, room__talk=talk).values_list("registration_id", "room_id"))


def names(members: list[dict]) -> list[str]:
    return sorted(json.dumps(m, sort_keys=True, ensure_ascii=False) for m in members)
