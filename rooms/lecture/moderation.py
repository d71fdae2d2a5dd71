"""Moderators' verbs on people and messages, each written to the moderation log."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from events.models import Talk

from .. import frames
from ..outbox import ToRoom, send_event_on_commit
from ..participants import Participant
from .models import ChatMessage, ModerationLog, Mute


def moderation_log(talk: Talk, participant: Participant, action: str, **details: object) -> None:
    ModerationLog.objects.create(talk=talk, actor=participant.user, action=action, details=details)


def delete_message(talk: Talk, room_id: int, seq: int, participant: Participant) -> ChatMessage | None:
    with transaction.atomic():
        message = ChatMessage.objects.filter(room_id=room_id, room__talk=talk, seq=seq, deleted_at__isnull=True).first()
        if message is None:
            return None
        message.deleted_at = timezone.now()
        message.save(update_fields=["deleted_at"])
        moderation_log(talk, participant, "chat.delete", room=room_id, id=seq, body=message.body[:200])
        send_event_on_commit(ToRoom(talk.pk, room_id, frames.chat_deleted(message)))
        return message


def mute(talk: Talk, registration_id: int, minutes: int, participant: Participant) -> Mute | None:
    from events.models import Registration

    registration = Registration.objects.filter(pk=registration_id, event_id=talk.event_id).first()
    if registration is None:
        return None
    with transaction.atomic():
        entry = Mute.objects.create(talk=talk, registration=registration, until=timezone.now() + timedelta(minutes=minutes))
        moderation_log(talk, participant, "chat.mute", registration=registration_id, minutes=minutes)
    return entry


def remove_person(talk: Talk, registration_id: int, participant: Participant) -> bool:
    """A moderator removes a physician from the event: their join link is revoked and their open pages close.

    The removal is a revocation with its own reason, so it lasts (a new socket
    or page is refused like any revoked link) until an organizer re-issues the
    link in the admin. events.services queues the closing of the person's
    sockets after the commit (rooms.realtime.evictions). False when no such registration
    is in this talk's event.
    """
    from events.models import Registration
    from events.services import revoke_join_link
    from events.signals import REMOVED

    registration = Registration.objects.filter(pk=registration_id, event_id=talk.event_id).first()
    if registration is None:
        return False
    with transaction.atomic():
        revoke_join_link(registration, reason=REMOVED)
        moderation_log(talk, participant, "person.remove", registration=registration_id)
    return True
