"""Split the attendees of a talk into small social rooms.

A pure function: no database, no clock, no global random state. Given the same
attendees (in any order), strategy, size and seed, ``allocate`` returns the same rooms.

Invariants, for every strategy and every input:

* every attendee is placed exactly once;
* nobody is alone: every room holds at least 3 people, unless there are fewer than 3
  attendees in total (then one room holds all of them; no attendees, no rooms);
* room sizes differ by at most one;
* there are k = min(ceil(n / size), floor(n / 3)) rooms for n >= 3, so a room exceeds
  ``size`` only when that is the only way to avoid a room under 3 (n=4, size=3: one
  room of 4). The sizes are exactly the multiset ``room_sizes(n, size)``; the rooms
  themselves come in strategy order (north to south for ``region``), so a smaller room
  may come before a larger one;
* the result does not depend on the input order: attendees are sorted by key first and
  every random choice comes from a hash of (seed, key), never from the input position.

Strategies:

``region`` (default)
    Attendees are ordered by prefecture code (JIS codes run north to south and region
    blocks are contiguous in code order), unknown prefectures last, ties broken by the
    seeded hash. The ordered list is then cut into consecutive rooms. Where the sizes
    allow a choice (some rooms are one larger than others), the cut points are chosen by
    dynamic programming so that, first, as few cuts as possible split a prefecture and,
    second, as few as possible split a region block. Small prefectures therefore share a
    room with their neighbours in the same block, and blocks mix only where they must.
``regional_mix``
    As ``region``, then rooms lacking a hospital (or a clinic) physician are repaired,
    in room order, for the hospital-clinic exchange (病診連携). The missing kind is taken
    from the nearest room (by index) that can spare one: it has two or more of that kind,
    or it lacks the other kind and so is not mixed anyway. In exchange it receives a
    member of the kind the repaired room already has, if that room has two or more of
    them, else a member who is neither. Among the candidate pairs, a pair from the same
    prefecture is preferred, then the same region. Sizes never change.
    Guarantee: with h hospital and c clinic physicians in k rooms, at least
    min(k, h, c) rooms hold both kinds, which is the best any allocation can do.
    Why it holds: a swap never unmixes a room (a mixed donor has two of the kind it
    gives) and gives the repaired room the kind it lacked. While fewer than
    min(k, h, c) rooms are mixed, more physicians of each kind exist than mixed rooms,
    so some room other than the one being repaired can spare one of each kind. A room
    with neither kind needs two swaps, any other unmixed room one.
``specialty``
    Attendees are ordered by specialty group (``SPECIALTY_GROUPS``; a specialty outside
    the families is its own group, no specialty comes last), then specialty, then
    prefecture, then the seeded hash, and cut as for ``region``: fewest cuts inside a
    specialty first, then fewest inside a group.
``random``
    A seeded shuffle, cut into rooms of ``room_sizes`` in order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

STRATEGIES: tuple[str, ...] = ("region", "regional_mix", "specialty", "random")
DEFAULT_STRATEGY = "region"
MIN_SIZE, MAX_SIZE = 3, 12
MIN_ROOM = 3
HOSPITAL, CLINIC = "hospital", "clinic"

_FAMILIES: dict[str, tuple[str, ...]] = {
    "internal_medicine_family": (
        "internal_medicine", "general_medicine", "respiratory_medicine", "gastroenterology", "cardiology", "hematology",
        "diabetes_endocrinology", "nephrology", "neurology", "rheumatology", "infectious_diseases", "allergology",
    ),
    "oncology": ("medical_oncology", "radiation_oncology", "palliative_care", "breast_surgery"),
    "surgery_family": (
        "surgery", "gastrointestinal_surgery", "respiratory_surgery", "cardiovascular_surgery",
        "neurosurgery", "orthopedics", "plastic_surgery",
    ),
}
SPECIALTY_GROUPS: dict[str, str] = {key: group for group, keys in _FAMILIES.items() for key in keys}


@dataclass(frozen=True)
class Attendee:
    key: str  # stable unique id, e.g. "r123"
    prefecture: str  # JIS code "01".."47", "" if unknown
    region: str  # region block key, "" if unknown
    facility_type: str  # "hospital" | "clinic" | "other"
    specialty: str = ""  # a key of events.specialties, may be ""


def specialty_group(specialty: str) -> str:
    """The group a specialty shares rooms with; outside the families, itself."""
    return SPECIALTY_GROUPS.get(specialty, specialty)


def room_sizes(n: int, size: int) -> list[int]:
    """The sizes of the rooms for n attendees at the requested size, larger ones first."""
    if n < 0 or size < 1:
        raise ValueError(f"need n >= 0 and size >= 1, got n={n}, size={size}")
    if n == 0:
        return []
    if n < MIN_ROOM:
        return [n]
    # ceil(n/size) keeps rooms within size; floor(n/3) wins when it would leave someone alone.
    k = min(-(-n // size), n // MIN_ROOM)
    q, r = divmod(n, k)
    return [q + 1] * r + [q] * (k - r)


def allocate(
    attendees: Sequence[Attendee], strategy: str = DEFAULT_STRATEGY, size: int = 6, seed: int = 0
) -> list[list[Attendee]]:
    """Place every attendee in exactly one room; see the module docstring."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; expected one of {STRATEGIES}")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise ValueError(f"room size must be between {MIN_SIZE} and {MAX_SIZE}, got {size}")
    keys = [a.key for a in attendees]
    if len(set(keys)) != len(keys):
        raise ValueError("duplicate attendee keys")

    people = sorted(attendees, key=lambda a: a.key)
    sizes = room_sizes(len(people), size)
    tie = {a.key: _tie(seed, a.key) for a in people}

    if strategy == "random":
        return _chunk(sorted(people, key=lambda a: (tie[a.key], a.key)), sizes)
    if strategy == "specialty":
        def specialty_key(a: Attendee) -> tuple[object, ...]:
            return (a.specialty == "", specialty_group(a.specialty), a.specialty, *_place(a), tie[a.key], a.key)

        return _cut(sorted(people, key=specialty_key), sizes, _specialty_affinity)

    def region_key(a: Attendee) -> tuple[object, ...]:
        return (*_place(a), tie[a.key], a.key)

    rooms = _cut(sorted(people, key=region_key), sizes, _region_affinity)
    if strategy == "regional_mix":
        _mix(rooms)
        rooms = [sorted(room, key=region_key) for room in rooms]
    return rooms


def _tie(seed: int, key: str) -> int:
    # A keyed hash, not random.Random over the list: the draw of one attendee must not
    # depend on who else came or in which order the server listed them.
    return int.from_bytes(hashlib.blake2b(f"{seed}\x00{key}".encode(), digest_size=8).digest(), "big")


def _place(a: Attendee) -> tuple[bool, str, bool, str]:
    # Unknown prefectures go last; among them, people of the same known block stay adjacent.
    return (a.prefecture == "", a.prefecture, a.region == "", a.region)


def _region_affinity(a: Attendee, b: Attendee) -> int:
    if a.prefecture and a.prefecture == b.prefecture:
        return 2
    return 1 if a.region and a.region == b.region else 0


def _specialty_affinity(a: Attendee, b: Attendee) -> int:
    if a.specialty and a.specialty == b.specialty:
        return 2
    return 1 if a.specialty and specialty_group(a.specialty) == specialty_group(b.specialty) else 0


def _chunk(order: list[Attendee], sizes: Sequence[int]) -> list[list[Attendee]]:
    starts = [sum(sizes[:i]) for i in range(len(sizes))]
    return [order[start : start + s] for start, s in zip(starts, sizes, strict=True)]


def _cut(
    order: list[Attendee], sizes: list[int], affinity: Callable[[Attendee, Attendee], int]
) -> list[list[Attendee]]:
    """Chunk ``order`` into rooms of ``sizes``, placing the larger rooms where cuts hurt least."""
    k = len(sizes)
    if k <= 1 or sizes[0] == sizes[-1]:
        return _chunk(order, sizes)  # every room the same size: the cut points are fixed
    small, n_big = sizes[-1], sizes.count(sizes[0])
    # A cut inside a close pair (level 2) outweighs all k-1 possible cuts of level 1,
    # so the sum compares lexicographically.
    weight = (0, 1, k)

    def cut_cost(pos: int) -> int:
        return weight[affinity(order[pos - 1], order[pos])] if pos < len(order) else 0

    # best[j] after i rooms with j of them large: (cost, plan). The rooms end at
    # i*small + j. Ties go to the plan with large rooms earliest ("B" < "S").
    best: dict[int, tuple[int, str]] = {0: (0, "")}
    for i in range(k):
        nxt: dict[int, tuple[int, str]] = {}
        for j, (cost, plan) in best.items():
            for big in (True, False):
                jj = j + big
                if jj > n_big or (i + 1 - jj) > k - n_big:
                    continue
                cand = (cost + cut_cost((i + 1) * small + jj), plan + ("B" if big else "S"))
                if jj not in nxt or cand < nxt[jj]:
                    nxt[jj] = cand
        best = nxt
    plan = best[n_big][1]
    return _chunk(order, [small + (c == "B") for c in plan])


def _count(room: list[Attendee], kind: str) -> int:
    return sum(a.facility_type == kind for a in room)


def _is_mixed(room: list[Attendee]) -> bool:
    return _count(room, HOSPITAL) > 0 and _count(room, CLINIC) > 0


def _distance(a: Attendee, b: Attendee) -> int:
    return 2 - _region_affinity(a, b)


def _mix(rooms: list[list[Attendee]]) -> None:
    """Repair rooms in place until min(k, h, c) of them hold a hospital and a clinic physician."""
    everyone = [a for room in rooms for a in room]
    target = min(len(rooms), _count(everyone, HOSPITAL), _count(everyone, CLINIC))
    for i, room in enumerate(rooms):
        for _ in range(2):  # a room with neither kind needs one of each
            if _is_mixed(room) or sum(map(_is_mixed, rooms)) >= target:
                break
            missing = HOSPITAL if _count(room, HOSPITAL) == 0 else CLINIC
            if not _swap_in(rooms, i, missing):
                break  # unreachable while below target (see the module docstring); kept as a guard


def _swap_in(rooms: list[list[Attendee]], i: int, kind: str) -> bool:
    """Bring one ``kind`` physician into room i from the nearest room that can spare one."""
    has = CLINIC if kind == HOSPITAL else HOSPITAL
    room = rooms[i]

    def can_spare(other: list[Attendee]) -> bool:
        n = _count(other, kind)
        return n >= 2 or (n == 1 and _count(other, has) == 0)

    donors = [j for j in range(len(rooms)) if j != i and can_spare(rooms[j])]
    if not donors:
        return False
    j = min(donors, key=lambda d: (abs(d - i), d))
    # Give away a physician of the kind room i already has only if it keeps another one.
    gives = [a for a in room if a.facility_type == has]
    if len(gives) < 2:
        gives = [a for a in room if a.facility_type not in (HOSPITAL, CLINIC)]
    takes = [a for a in rooms[j] if a.facility_type == kind]
    x, y = min(((x, y) for x in takes for y in gives), key=lambda p: (_distance(*p), p[0].key, p[1].key))
    rooms[j][rooms[j].index(x)] = y
    room[room.index(y)] = x
    return True
