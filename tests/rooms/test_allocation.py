"""The room allocation after a talk: invariants for every strategy, then crafted cases."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from events.specialties import SPECIALTY_KEYS
from rooms.reception.allocation import (
    DEFAULT_STRATEGY,
    SPECIALTY_GROUPS,
    STRATEGIES,
    Attendee,
    allocate,
    room_sizes,
)

PREFECTURES = [f"{code:02d}" for code in range(1, 48)]
SPECIALTIES = sorted(SPECIALTY_KEYS)
FACILITIES = ["hospital", "clinic", "other"]
FAST = settings(max_examples=120, deadline=None)


def region_of(code: str) -> str:
    if not code:
        return ""
    last_codes = {1: "hokkaido", 7: "tohoku", 14: "kanto", 23: "chubu", 30: "kinki", 35: "chugoku", 39: "shikoku"}
    return next((region for last, region in last_codes.items() if int(code) <= last), "kyushu")


def person(key: str, prefecture: str = "13", facility: str = "clinic", specialty: str = "") -> Attendee:
    return Attendee(key, prefecture, region_of(prefecture), facility, specialty)


def build(rows: list[tuple[str, str, str]]) -> list[Attendee]:
    return [person(f"r{i}", *row) for i, row in enumerate(rows)]


attendee_sets = st.lists(
    st.tuples(st.sampled_from([*PREFECTURES, ""]), st.sampled_from(FACILITIES), st.sampled_from([*SPECIALTIES, ""])),
    max_size=200,
).map(build)


@st.composite
def skewed_sets(draw: st.DrawFn) -> list[Attendee]:
    """Attendee sets where hospitals, clinics or others may be rare or missing."""
    pool = draw(st.lists(st.sampled_from(FACILITIES), min_size=1, max_size=8))
    row = st.tuples(st.sampled_from([*PREFECTURES, ""]), st.sampled_from(pool), st.just(""))
    rows = draw(st.lists(row, max_size=120))
    return build(rows)


strategies = st.sampled_from(STRATEGIES)
sizes = st.integers(3, 12)
seeds = st.integers(-(2**40), 2**40)


def keys(rooms: list[list[Attendee]]) -> list[list[str]]:
    return [[a.key for a in room] for room in rooms]


def kinds(room: list[Attendee]) -> set[str]:
    return {a.facility_type for a in room}


# -- invariants ---------------------------------------------------------------------------


@FAST
@given(attendee_sets, strategies, sizes, seeds)
def test_every_attendee_is_placed_exactly_once(people, strategy, size, seed):
    placed = [a for room in allocate(people, strategy, size, seed) for a in room]
    assert sorted(placed, key=lambda a: a.key) == sorted(people, key=lambda a: a.key)


@FAST
@given(attendee_sets, strategies, sizes, seeds)
def test_nobody_is_ever_alone_in_a_room(people, strategy, size, seed):
    rooms = allocate(people, strategy, size, seed)
    if len(people) < 3:
        assert len(rooms) == (1 if people else 0)
    else:
        assert all(len(room) >= 3 for room in rooms)


@FAST
@given(attendee_sets, strategies, sizes, seeds)
def test_room_sizes_differ_by_at_most_one_and_match_room_sizes(people, strategy, size, seed):
    rooms = allocate(people, strategy, size, seed)
    lengths = [len(room) for room in rooms]
    if lengths:
        assert max(lengths) - min(lengths) <= 1
    assert sorted(lengths, reverse=True) == room_sizes(len(people), size)


@FAST
@given(st.integers(0, 500), sizes)
def test_the_number_of_rooms_follows_the_formula(n, size):
    got = room_sizes(n, size)
    assert sum(got) == n
    if n >= 3:
        assert len(got) == min(math.ceil(n / size), n // 3)
        assert min(got) >= 3
        assert max(got) <= size or len(got) == n // 3
    else:
        assert len(got) == (1 if n else 0)
    assert got == sorted(got, reverse=True)


@FAST
@given(attendee_sets, strategies, sizes, seeds, st.randoms(use_true_random=False))
def test_the_result_depends_on_the_seed_but_not_on_the_input_order(people, strategy, size, seed, rnd):
    shuffled = list(people)
    rnd.shuffle(shuffled)
    first = allocate(people, strategy, size, seed)
    assert keys(allocate(people, strategy, size, seed)) == keys(first)
    assert keys(allocate(shuffled, strategy, size, seed)) == keys(first)


@settings(max_examples=300, deadline=None)
@given(st.one_of(attendee_sets, skewed_sets()), sizes, seeds)
def test_regional_mix_mixes_as_many_rooms_as_the_attendees_allow(people, size, seed):
    rooms = allocate(people, "regional_mix", size, seed)
    count = Counter(a.facility_type for a in people)
    mixed = sum({"hospital", "clinic"} <= kinds(room) for room in rooms)
    assert mixed >= min(len(rooms), count["hospital"], count["clinic"])


@FAST
@given(attendee_sets, sizes, seeds)
def test_regional_mix_keeps_the_room_sizes_of_region(people, size, seed):
    region = allocate(people, "region", size, seed)
    mix = allocate(people, "regional_mix", size, seed)
    assert [len(room) for room in mix] == [len(room) for room in region]


# -- crafted cases ------------------------------------------------------------------------


def test_room_sizes_examples():
    assert room_sizes(7, 6) == [4, 3]
    assert room_sizes(13, 6) == [5, 4, 4]
    assert room_sizes(4, 3) == [4]
    assert room_sizes(12, 6) == [6, 6]
    assert room_sizes(2, 6) == [2]
    assert room_sizes(0, 6) == []


def test_region_keeps_prefectures_together_and_tohoku_in_one_room():
    people = build(
        [("01", "clinic", ""), ("02", "clinic", ""), ("03", "clinic", ""), ("03", "hospital", ""),
         ("13", "clinic", ""), ("13", "hospital", ""), ("14", "clinic", "")]
    )
    rooms = allocate(people, "region", 6, seed=3)
    assert sorted(len(room) for room in rooms) == [3, 4]
    for prefecture in ("03", "13"):
        assert sum(any(a.prefecture == prefecture for a in room) for room in rooms) == 1
    assert sum(any(a.region == "tohoku" for a in room) for room in rooms) == 1
    assert sum(any(a.region == "kanto" for a in room) for room in rooms) == 1


def test_region_puts_the_smaller_room_first_when_that_keeps_a_prefecture_whole():
    people = build([("01", "clinic", "")] * 3 + [("13", "clinic", "")] * 4)
    rooms = allocate(people, "region", 6)
    assert [{a.prefecture for a in room} for room in rooms] == [{"01"}, {"13"}]


def test_region_gives_iwate_and_tokyo_a_room_each():
    people = build([("03", "clinic", "")] * 4 + [("13", "hospital", "")] * 4)
    for seed in range(5):
        rooms = allocate(people, "region", 4, seed)
        assert sorted({a.prefecture for a in room}.pop() for room in rooms) == ["03", "13"]
        assert all(len({a.prefecture for a in room}) == 1 for room in rooms)


def test_region_puts_unknown_prefectures_last():
    people = build([("", "clinic", "")] * 3 + [("40", "clinic", "")] * 3 + [("01", "clinic", "")] * 3)
    rooms = allocate(people, "region", 3)
    assert [{a.prefecture for a in room} for room in rooms] == [{"01"}, {"40"}, {""}]


def test_regional_mix_gives_the_only_hospital_doctor_to_one_room_and_clinics_to_both():
    people = build([("13", "hospital", "")] + [(f"{8 + i % 6:02d}", "clinic", "") for i in range(11)])
    rooms = allocate(people, "regional_mix", 6, seed=1)
    assert [len(room) for room in rooms] == [6, 6]
    assert sum(a.facility_type == "hospital" for room in rooms for a in room) == 1
    assert sum("hospital" in kinds(room) for room in rooms) == 1
    assert all("clinic" in kinds(room) for room in rooms)


def test_regional_mix_mixes_both_rooms_of_six_hospital_and_six_clinic_doctors():
    # Sorted by prefecture, region alone would give an all-hospital and an all-clinic room.
    people = build([("01", "hospital", "")] * 6 + [("47", "clinic", "")] * 6)
    assert [kinds(room) for room in allocate(people, "region", 6)] == [{"hospital"}, {"clinic"}]
    for seed in range(5):
        rooms = allocate(people, "regional_mix", 6, seed)
        assert [kinds(room) for room in rooms] == [{"hospital", "clinic"}, {"hospital", "clinic"}]


def test_regional_mix_prefers_a_swap_partner_from_the_same_prefecture():
    people = build(
        [("01", "hospital", "")] * 2 + [("02", "hospital", "")] * 2 + [("03", "clinic", ""), ("03", "hospital", "")]
        + [("04", "clinic", "")] * 2 + [("03", "clinic", "")] + [("05", "clinic", "")] * 3
    )
    rooms = allocate(people, "regional_mix", 6)
    assert all({"hospital", "clinic"} <= kinds(room) for room in rooms)
    moved = [a for a in rooms[1] if a.facility_type == "hospital"]
    assert [a.prefecture for a in moved] == ["03"]


def test_specialty_puts_oncologists_together():
    oncology = ["medical_oncology", "medical_oncology", "radiation_oncology", "palliative_care"]
    rows = [(p, "hospital", s) for p, s in zip(["13", "01", "47", "27"], oncology, strict=True)]
    rows += [("01", "clinic", "cardiology"), ("27", "clinic", "nephrology"), ("40", "clinic", "internal_medicine")]
    rows += [("13", "clinic", "cardiology"), ("03", "hospital", "surgery"), ("13", "hospital", "neurosurgery")]
    rows += [("27", "hospital", "orthopedics"), ("47", "hospital", "surgery")]
    for seed in range(5):
        rooms = allocate(build(rows), "specialty", 4, seed)
        groups = sorted({SPECIALTY_GROUPS[a.specialty] for a in room}.pop() for room in rooms)
        assert all(len({SPECIALTY_GROUPS[a.specialty] for a in room}) == 1 for room in rooms)
        assert groups == ["internal_medicine_family", "oncology", "surgery_family"]


def test_every_grouped_specialty_is_a_real_specialty():
    assert set(SPECIALTY_GROUPS) <= SPECIALTY_KEYS


@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("n", [1, 2])
def test_one_or_two_attendees_share_one_room(strategy, n):
    people = build([("13", "clinic", "")] * n)
    rooms = allocate(people, strategy)
    assert [sorted(room_keys) for room_keys in keys(rooms)] == [[a.key for a in people]]


def test_no_attendees_means_no_rooms():
    assert allocate([]) == []


def test_four_attendees_at_size_three_share_one_room_of_four():
    people = build([("13", "clinic", "")] * 4)
    assert [len(room) for room in allocate(people, DEFAULT_STRATEGY, 3)] == [4]


def test_random_depends_on_the_seed():
    people = build([(p, "clinic", "") for p in PREFECTURES])
    assert len({tuple(map(tuple, keys(allocate(people, "random", 6, seed)))) for seed in range(5)}) > 1


@pytest.mark.parametrize(
    "kwargs",
    [{"strategy": "nearest"}, {"size": 2}, {"size": 13}],
)
def test_an_unknown_strategy_or_a_size_outside_three_to_twelve_is_refused(kwargs):
    with pytest.raises(ValueError):
        allocate(build([("13", "clinic", "")] * 6), **kwargs)


def test_duplicate_keys_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        allocate([person("r1"), person("r2"), person("r1", "01")])


def test_the_input_order_does_not_matter_for_a_fixed_example():
    people = build([(PREFECTURES[i % 47], FACILITIES[i % 3], SPECIALTIES[i % len(SPECIALTIES)]) for i in range(60)])
    shuffled = list(people)
    random.Random(7).shuffle(shuffled)
    for strategy in STRATEGIES:
        assert keys(allocate(people, strategy, 5, 11)) == keys(allocate(shuffled, strategy, 5, 11))
