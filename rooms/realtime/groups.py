"""Every channel-layer group name, made and read in one place.

No other module builds a group name or takes one apart: a group is
``lecture.talk.<talk id>`` (the whole talk) or ``lecture.talk.<talk id>.room.<room id>``.
"""

_TALK = "lecture.talk."
_ROOM = ".room."


def talk_group(talk_id: int) -> str:
    """What every room of a talk sees: stage, Q&A, reactions, moderation."""
    return f"{_TALK}{talk_id}"


def room_group(talk_id: int, room_id: int) -> str:
    """Chat, presence and members of one room of a talk (a regional lecture room or a reception table)."""
    return f"{talk_group(talk_id)}{_ROOM}{room_id}"


def is_room_group(group: str) -> bool:
    return _ROOM in group


def is_talk_group(group: str) -> bool:
    """A whole talk's group, not one of its rooms' (whose names start the same way)."""
    return group.startswith(_TALK) and not is_room_group(group)


def talk_id_of(group: str) -> int:
    """The talk a talk or room group belongs to."""
    return int(group.removeprefix(_TALK).split(".", 1)[0])


def carrier(group: str) -> str:
    """The channel-layer group that carries a group's frames between server processes: its talk's.

    Processes subscribe per talk, not per room: a reception opens hundreds of
    tables at once, and subscribing every process to every table was a
    Redis round trip per table before anyone could be moved. Each process drops
    the frames of rooms it has nobody in (rooms.realtime.relay).
    """
    return talk_group(talk_id_of(group))
