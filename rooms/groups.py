"""Every channel-layer group name, made in one place."""


def room_group(room_id: int) -> str:
    """Chat and presence of one lecture room."""
    return f"lecture.room.{room_id}"


def talk_group(talk_id: int) -> str:
    """What every room of a talk sees: stage, Q&A, reactions, moderation."""
    return f"lecture.talk.{talk_id}"
