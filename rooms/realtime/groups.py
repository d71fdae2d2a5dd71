"""Every channel-layer group name, made in one place."""


def talk_group(talk_id: int) -> str:
    """What every room of a talk sees: stage, Q&A, reactions, moderation."""
    return f"lecture.talk.{talk_id}"


def room_group(talk_id: int, room_id: int) -> str:
    """Chat, presence and members of one room of a talk (a regional lecture room or a reception table)."""
    return f"{talk_group(talk_id)}.room.{room_id}"


def is_room_group(group: str) -> bool:
    return ".room." in group


def carrier(group: str) -> str:
    """The channel-layer group that carries a group's frames between server processes: its talk's.

    Processes subscribe per talk, not per room: a reception opens hundreds of
    tables at once, and subscribing every process to every table was a
    Redis round trip per table before anyone could be moved. Each process drops
    the frames of rooms it has nobody in (rooms.realtime.relay).
    """
    return ".".join(group.split(".", 3)[:3])
