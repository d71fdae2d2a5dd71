"""The relay's parts that need no socket: group names, presence counting and frames, the reception clock."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import pytest

from rooms.realtime.groups import (
    carrier,
    is_room_group,
    is_talk_group,
    room_group,
    talk_group,
    talk_id_of,
)
from rooms.realtime import presence
from rooms.realtime.presence import TABLES, Aggregates, local_parts, presence_frame
from rooms.realtime.reception_clock import ReceptionClock


@dataclass(eq=False)
class FakeConnection:
    talk_id: int = 5
    room_id: int = 7
    prefecture_code: str = "03"
    person_key: str = "r1"
    in_social_room: bool = False
    counts_in_presence: bool = True
    closed_with: list[str] = field(default_factory=list)

    @property
    def presence_key(self) -> presence.PresenceKey | None:
        return presence.presence_key_of(self.prefecture_code, self.person_key, self.counts_in_presence)

    async def reception_over(self, text: str) -> None:
        self.closed_with.append(text)


def test_a_group_name_is_read_back_by_the_module_that_makes_it() -> None:
    assert talk_id_of(talk_group(5)) == 5
    assert talk_id_of(room_group(5, 7)) == 5
    assert is_talk_group(talk_group(5)) and not is_talk_group(room_group(5, 7))
    assert is_room_group(room_group(5, 7)) and not is_room_group(talk_group(5))
    assert carrier(room_group(5, 7)) == carrier(talk_group(5)) == talk_group(5)


def test_a_room_id_is_never_taken_for_a_talk_id() -> None:
    assert talk_id_of(room_group(12, 345)) == 12


def test_local_presence_counts_each_person_once_and_tables_together_and_no_staff() -> None:
    rooms = [
        [FakeConnection(person_key="u1", counts_in_presence=False),  # staff, whoever the tick reads first
         FakeConnection(person_key="r1"), FakeConnection(person_key="r1"),  # two tabs of one person
         FakeConnection(person_key="r2", prefecture_code="")],
        [FakeConnection(person_key="r3", room_id=8, in_social_room=True)],
        [FakeConnection(person_key="r4", room_id=9, in_social_room=True, prefecture_code="13"),
         FakeConnection(person_key="r5", room_id=9, in_social_room=True, prefecture_code="13")],
        [FakeConnection(person_key="r3", room_id=10, in_social_room=True)],  # the same person's other tab
        [FakeConnection(talk_id=6, room_id=11, person_key="u2", counts_in_presence=False)],  # staff only
        [],
    ]
    assert local_parts(rooms) == {5: {"7": {"03": 1, "--": 1}, TABLES: {"03": 1, "13": 2}}}


def test_the_presence_frame_folds_prefectures_into_regions_and_leaves_the_tables_apart() -> None:
    frame = presence_frame({"7": Counter({"03": 2, "--": 1}), TABLES: Counter({"13": 3})})
    assert frame == {"type": "presence", "total": 6, "rooms": {"7": 3}, "tables": 3,
                     "by_region": {"kanto": 3, "tohoku": 2}, "by_prefecture": {"03": 2, "13": 3}}


def test_an_empty_part_goes_out_only_to_replace_one_that_counted_somebody() -> None:
    aggregates = Aggregates("p1")
    assert aggregates.outgoing(5, {}) == []
    assert [m["rooms"] for m in aggregates.outgoing(5, {"7": {"03": 1}})] == [{"7": {"03": 1}}]
    assert [m["rooms"] for m in aggregates.outgoing(5, {})] == [{}]
    assert aggregates.outgoing(5, {}) == []


def test_reactions_go_out_once_as_a_total_for_their_talk() -> None:
    aggregates = Aggregates("p1")
    aggregates.add_reaction(5, "👏")
    aggregates.add_reaction(5, "👏")
    assert aggregates.outgoing(5, {}) == [{"type": "reactions.part", "talk": 5, "counts": {"👏": 2}}]
    assert aggregates.outgoing(5, {}) == []


def test_presence_is_sent_only_when_a_figure_changed_and_sums_every_process() -> None:
    aggregates = Aggregates("p1")
    aggregates.outgoing(5, {"7": {"03": 1}})
    aggregates.receive_part({"talk": 5, "process": "p2", "rooms": {"7": {"03": 2}}})
    first = aggregates.changed_frame(5)
    assert first is not None and '"total":3' in first
    assert aggregates.changed_frame(5) is None
    assert aggregates.latest[5] == first


def test_in_a_big_room_a_changed_presence_waits_a_second_per_250_people_and_is_then_sent(monkeypatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(presence.time, "monotonic", lambda: clock[0])
    aggregates = Aggregates("p1")
    aggregates.outgoing(5, {"7": {"03": 1000}})
    assert '"total":1000' in (aggregates.changed_frame(5) or "")
    for step in (1.0, 2.0, 3.0):  # 250 more each second: held back for 4 s
        clock[0] = 100.0 + step
        aggregates.outgoing(5, {"7": {"03": 1000 + 250 * int(step)}})
        assert aggregates.changed_frame(5) is None
        assert '"total":1000' in aggregates.latest[5]  # a newcomer is given the last one sent
    clock[0] = 104.0
    aggregates.outgoing(5, {"7": {"03": 5000}})
    assert '"total":5000' in (aggregates.changed_frame(5) or "")
    clock[0] = 118.0
    aggregates.outgoing(5, {"7": {"03": 4900}})
    assert aggregates.changed_frame(5) is None
    clock[0] = 119.0  # 5,000 people: 15 s at most, not 20
    aggregates.outgoing(5, {"7": {"03": 4900}})
    assert '"total":4900' in (aggregates.changed_frame(5) or "")


def test_in_a_small_room_presence_goes_out_on_every_tick_it_changes(monkeypatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(presence.time, "monotonic", lambda: clock[0])
    aggregates = Aggregates("p1")
    for people in (10, 11, 12):
        aggregates.outgoing(5, {"7": {"03": people}})
        assert f'"total":{people}' in (aggregates.changed_frame(5) or "")
        clock[0] += 1.0


class FakeSockets:
    def __init__(self, members: list[FakeConnection]) -> None:
        self.members = members
        self.queued: list[tuple[str, str]] = []

    def local_members(self, group: str) -> list[FakeConnection]:
        return list(self.members)

    def queue(self, group: str, text: str) -> None:
        self.queued.append((group, text))


@pytest.mark.asyncio
async def test_the_reception_clock_warns_once_then_ends_only_the_tables() -> None:
    table, lecture = FakeConnection(in_social_room=True), FakeConnection()
    sockets = FakeSockets([table, lecture])
    clock = ReceptionClock()
    clock.watch(5, time.time() + 30)
    await clock.tick(sockets)
    await clock.tick(sockets)
    assert [group for group, _ in sockets.queued] == [talk_group(5)]
    assert '"reception.closing"' in sockets.queued[0][1]
    clock.watch(5, time.time())
    await clock.tick(sockets)
    assert table.closed_with == ['{"type":"reception.closed"}'] and lecture.closed_with == []
    assert clock.deadlines == {}
