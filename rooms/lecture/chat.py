"""Posting to a room's chat, and reading it back (history, resume after a reconnect)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from events.models import Talk
from server import metrics

from .. import frames, sql
from ..outbox import ToRoom, send_event_on_commit
from ..participants import Participant
from ..refused import Refused
from . import chat_rules
from .models import ChatMessage, LectureRoom

HISTORY = 50
RESUME_LIMIT = 500


class ResumeFrom(NamedTuple):
    """Where a reconnecting page's chat stopped: the room it showed and the last chat id it has.

    A page that says so when it opens its socket (docs/protocol.md, "Reconnecting")
    gets in its hello what it missed instead of the last HISTORY messages it already has.
    """

    room_id: int
    after: int


def post_message(room: LectureRoom, participant: Participant, body: str, client_id: str = "") -> ChatMessage:
    with transaction.atomic():
        # The row lock taken by this update serialises numbering within a room across
        # every server process until the commit; one statement, as a busy reception
        # runs hundreds of these a second.
        seq = sql.take_next_seq(room.pk)
        return ChatMessage.objects.create(
            room=room, seq=seq, registration=participant.registration, user=participant.user,
            author=participant.author, body=body, client_id=client_id,
        )


@metrics.CHAT_WRITE_SECONDS.time()  # checks and the write: what an author waits for
def send_chat(
    talk: Talk, room: LectureRoom, participant: Participant, body: str, client_id: str, limit: tuple[int, float],
    *, one_statement: bool | None = None,
) -> ChatMessage:
    """Post a chat message unless the chat is closed, the author muted, or over the rate limit (chat_rules).

    On PostgreSQL (``one_statement`` None) the checks and the write are one
    statement (rooms.sql.post_chat_checked); elsewhere they run as the portable
    ORM path. Both apply the same querysets.
    """
    if chat_rules.chat_closed_for(talk, room, participant):
        raise Refused("chat_closed")
    count, seconds = limit
    now = timezone.now()
    since = now - timedelta(seconds=seconds)
    registration_id = participant.registration.pk if participant.registration else None
    user_id = participant.user.pk if participant.registration is None else None
    if one_statement is None:
        one_statement = connection.vendor == "postgresql"
    if one_statement:
        unsaved = ChatMessage(room=room, registration_id=registration_id, user_id=user_id, author=participant.author,
                              body=body, client_id=client_id, sent_at=now)
        message = sql.post_chat_checked(talk.pk, unsaved, since, count)
        if message is not None:
            return _posted(talk, message)
    if chat_rules.active_mutes(talk.pk, registration_id, now).exists():
        raise Refused("muted")
    if chat_rules.recent_messages_by(talk.pk, registration_id, user_id, since).count() >= count:
        raise Refused("rate_limited", retry_after=seconds)
    if one_statement:
        raise Refused("rate_limited", retry_after=seconds)  # a race with the author's other tab: say so, do not post
    return _posted(talk, post_message(room, participant, body, client_id))


def _posted(talk: Talk, message: ChatMessage) -> ChatMessage:
    """The room hears of a message once it is committed."""
    send_event_on_commit(ToRoom(talk.pk, message.room_id, frames.chat_message(message)))
    return message


def recent_messages(room: LectureRoom, before: int | None = None, limit: int = HISTORY) -> list[ChatMessage]:
    return sql.recent_messages(room.pk, before, limit)


def messages_after(room: LectureRoom, after: int, limit: int = RESUME_LIMIT) -> list[ChatMessage]:
    return list(ChatMessage.objects.filter(room=room, seq__gt=after, deleted_at__isnull=True).order_by("seq")[:limit])


def hello_messages(room: LectureRoom, resume: ResumeFrom | None) -> tuple[list[ChatMessage], int | None]:
    """What a hello shows of ``room``'s chat, and after which id it starts (None: the ordinary history).

    A page that resumes in this very room gets what ``messages_after`` gives, as the
    ``resume`` it would otherwise send next; anywhere else (moved, seated at a table,
    or a first visit) the last HISTORY messages, whose ids it cannot have.
    """
    if resume is not None and resume.room_id == room.pk:
        return messages_after(room, resume.after), resume.after
    return recent_messages(room), None


def is_complete(missed: list[Any]) -> bool:
    """Whether a resume answer (or a resumed hello) holds everything missed: fewer than RESUME_LIMIT came."""
    return len(missed) < RESUME_LIMIT
