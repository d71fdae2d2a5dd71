"""The rules a chat message must pass, each stated once.

- **closed**: in a lecture room, a chat the speaker closed takes messages from
  staff only; the reception's tables stay open (``chat_closed``);
- **muted**: a registration with a mute of the talk that has not run out may not
  post (``muted``); staff, who chat without a registration, cannot be muted;
- **rate limited**: an author posts at most ``count`` messages in a talk per
  ``seconds``, counted over every room of the talk (``rate_limited``).

The mute and rate rules are querysets. The portable path (SQLite, the embedded
default) runs them; on PostgreSQL, rooms.sql compiles these same querysets into
its one-statement chat write, so the two paths cannot drift apart.
tests/rooms/test_chat_rules.py runs the same cases through both.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import OuterRef, QuerySet, Subquery

from events.models import Talk

from ..participants import Participant
from .models import ChatMessage, LectureRoom, Mute
from .stage import get_or_create_stage


def chat_closed_for(talk: Talk, room: LectureRoom, participant: Participant) -> bool:
    # Closing the chat is about the lecture; the reception's rooms stay open.
    return not room.is_table and not participant.is_staff and not get_or_create_stage(talk).chat_open


def active_mutes(talk_id: int, registration_id: int | None, now: datetime) -> QuerySet[Mute]:
    """The mutes that keep this registration from chatting now (none without a registration)."""
    return Mute.objects.filter(talk_id=talk_id, registration_id=registration_id, until__gt=now).order_by()


def recent_messages_by(talk_id: int, registration_id: int | None, user_id: int | None,
                       since: datetime) -> QuerySet[ChatMessage]:
    """The author's messages in the talk since ``since`` (by registration when there is one, else by user).

    It starts from the author's recent messages (index chat_by_*_recent) and looks
    up each one's room: joining the talk's rooms instead made PostgreSQL probe
    every room, hundreds once a reception opens (docs/performance.md, "Receptions,
    second pass").
    """
    author = {"registration_id": registration_id} if registration_id is not None else {"user_id": user_id}
    room_talk = Subquery(LectureRoom.objects.filter(pk=OuterRef("room_id")).order_by().values("talk_id"))
    return ChatMessage.objects.alias(room_talk=room_talk).filter(**author, sent_at__gte=since, room_talk=talk_id).order_by()
