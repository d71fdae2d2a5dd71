"""Every model of the rooms app, where Django looks for them.

The models live with their feature (rooms.lecture.models, rooms.reception.models);
they keep the app label "rooms", so tables and migrations are unchanged.
"""

from .lecture.models import (
    Attendance,
    ChatMessage,
    ClosedWatchTime,
    LectureRoom,
    ModerationLog,
    Mute,
    Question,
    QuestionVote,
    Stage,
)
from .reception.models import CardExchange, CardSettings, Reception, ReceptionTable, Seat

__all__ = [
    "Attendance",
    "CardExchange",
    "CardSettings",
    "ChatMessage",
    "ClosedWatchTime",
    "LectureRoom",
    "ModerationLog",
    "Mute",
    "Question",
    "QuestionVote",
    "Reception",
    "ReceptionTable",
    "Seat",
    "Stage",
]
