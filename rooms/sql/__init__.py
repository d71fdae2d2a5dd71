"""Every hand-written SQL statement of the rooms app, and nothing else.

The rule: a statement is written by hand only when the ORM cannot say it (an
UPDATE that returns the new value, a data-modifying CTE, arrays unnested into
an INSERT) or when docs/performance.md records a measurement saying the ORM's
form costs too much; each function names its reason. Everything else is the
ORM, next to its feature. Rows still become ordinary model instances through
events.sql's mapper, and column lists come from the models' ``_meta``, never
typed by hand. tests/rooms/test_sql.py holds each statement to the ORM's answer.

By responsibility: ``join`` (the join path's reads and the attendance insert,
a statement each), ``admitting`` (an attendee's way into a lecture room in one
statement), ``chat`` (the chat write), ``reception`` (opening the reception);
``columns`` the aliases they share. Callers use this package's names.
"""

from __future__ import annotations

from .admitting import lecture_admission
from .chat import named, post_chat_checked, take_next_seq
from .join import (
    ADMISSION_CANDIDATES,
    insert_attendance,
    questions_for,
    recent_messages,
    room_by_key,
    talk_for_admission,
    talk_with_stage,
)
from .reception import connected_guests, insert_seats

__all__ = [
    "ADMISSION_CANDIDATES", "connected_guests", "insert_attendance", "insert_seats", "lecture_admission", "named",
    "post_chat_checked", "questions_for", "recent_messages", "room_by_key", "take_next_seq", "talk_for_admission",
    "talk_with_stage",
]
