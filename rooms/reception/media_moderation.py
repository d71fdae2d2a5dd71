"""A moderator mutes a physician's microphone at a reception table; Janus enforces it.

The verb checks what the socket cannot (the table is this talk's, the reception
is open, the person sits there now), has Janus stop forwarding the person's
sound (rooms.reception.media.moderate_audio), writes the moderation log, and
queues ``media.muted`` for the table, so every browser there shows it.
"""

from __future__ import annotations

import logging

from django.db import transaction

from events.models import Talk

from .. import frames
from ..lecture.moderation import moderation_log
from ..outbox import ToRoom, send_event_on_commit
from ..participants import Participant
from ..refused import Refused
from . import media
from .janus import JanusError
from .models import Reception, ReceptionTable, Seat

logger = logging.getLogger(__name__)


def mute_at_table(talk: Talk, table_id: int, registration_id: int, muted: bool, participant: Participant) -> None:
    """Mute (``muted`` false: let speak again) one physician's microphone at one table of the talk."""
    if not media.enabled():
        raise Refused("media_unavailable")
    if not ReceptionTable.objects.filter(pk=table_id, talk=talk).exists():
        raise Refused("not_found", room=table_id)
    reception = Reception.objects.filter(pk=talk.pk).first()
    if reception is None or not reception.is_open():
        raise Refused("reception_closed")
    if not Seat.objects.filter(room_id=table_id, registration_id=registration_id, left_at__isnull=True).exists():
        raise Refused("not_seated", room=table_id, registration=registration_id)
    try:
        media.moderate_audio(reception, table_id, registration_id, muted)
    except media.NotPublishing:
        raise Refused("not_publishing", room=table_id, registration=registration_id) from None
    except (OSError, JanusError, ValueError, KeyError) as error:
        logger.warning("Janus refused or failed the mute at table %s: %s", table_id, error)
        raise Refused("media_unavailable") from None
    with transaction.atomic():
        if muted:
            moderation_log(talk, participant, "media.mute", room=table_id, registration=registration_id)
        else:
            moderation_log(talk, participant, "media.unmute", room=table_id, registration=registration_id)
        send_event_on_commit(ToRoom(talk.pk, table_id, frames.media_muted(table_id, registration_id, muted)))
