"""Posting to a room's chat, and reading it back (history, resume after a reconnect)."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from events.models import Talk

from .. import frames
from ..outbox import ToRoom, send_event_on_commit
from ..participants import Participant
from ..refused import Refused
from . import chat_sql, reads
from .models import ChatMessage, LectureRoom
from .stage import get_or_create_stage

HISTORY = reads.HISTORY
RESUME_LIMIT = 500


def post_message(room: LectureRoom, participant: Participant, body: str, client_id: str = "") -> ChatMessage:
    with transaction.atomic():
        # The row lock taken by this update serialises numbering within a room across
        # every server process until the commit; one statement, as a busy reception
        # runs hundreds of these a second.
        seq = reads.next_seq(room.pk)
        return ChatMessage.objects.create(
            room=room, seq=seq, registration=participant.registration, user=participant.user,
            author=participant.author, body=body, client_id=client_id,
        )


def send_chat(
    talk: Talk, room: LectureRoom, participant: Participant, body: str, client_id: str, limit: tuple[int, float]
) -> ChatMessage:
    """Post a chat message unless the chat is closed, the author muted, or over the rate limit.

    The room hears it after the commit.
    """
    # Closing the chat is about the lecture; the reception's rooms stay open.
    if room.kind == LectureRoom.Kind.LECTURE and not participant.is_staff and not get_or_create_stage(talk).chat_open:
        raise Refused("chat_closed")
    count, seconds = limit
    now = timezone.now()
    registration_id = participant.registration.pk if participant.registration else None
    user_id = participant.user.pk if participant.registration is None else None
    if connection.vendor == "postgresql":
        message = chat_sql.post_checked(talk.pk, room.pk, registration_id, user_id, participant.author, body,
                                        client_id, now, now - timedelta(seconds=seconds), count)
        if message is not None:
            return _posted(talk, message)
    muted, recent = reads.mute_and_recent_chat(talk.pk, registration_id, user_id, now, now - timedelta(seconds=seconds))
    if muted:
        raise Refused("muted")
    if recent >= count:
        raise Refused("rate_limited", retry_after=seconds)
    if connection.vendor == "postgresql":
        raise Refused("rate_limited", retry_after=seconds)  # a race with the author's other tab: say so, do not post
    return _posted(talk, post_message(room, participant, body, client_id))


def _posted(talk: Talk, message: ChatMessage) -> ChatMessage:
    """The room hears of a message once it is committed."""
    send_event_on_commit(ToRoom(talk.pk, message.room_id, frames.chat_message(message)))
    return message


def recent_messages(room: LectureRoom, before: int | None = None, limit: int = HISTORY) -> list[ChatMessage]:
    return reads.recent_messages(room.pk, before, limit)


def messages_after(room: LectureRoom, after: int, limit: int = RESUME_LIMIT) -> list[ChatMessage]:
    return list(ChatMessage.objects.filter(room=room, seq__gt=after, deleted_at__isnull=True).order_by("seq")[:limit])
