"""Closing the open sockets of a physician whose registration no longer admits them.

Refusing new sockets is not enough: a tab opened before a revocation would keep
chatting. events.services sends events.signals.admission_ended after the commit
of a revocation, re-issue, cancellation, rejection or a moderator's removal;
this receiver (connected in RoomsConfig.ready) tells every server process to
close that person's connections (all tabs) with a close code that says why
(CLOSE_CODES), through the talk groups the relays already hold
(rooms.realtime.relay.closing_event, as person.moved moves all tabs). The domain sends
a signal and never imports this transport.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync

from events import signals
from events.models import Talk

from .. import outbox
from ..reception.moves import leave_for_good
from .delivery import layer_messages, send
from .groups import talk_group
from .protocol import (
    DATA_ERASED,
    LINK_REPLACED,
    LINK_REVOKED,
    REGISTRATION_CANCELLED,
    REGISTRATION_REJECTED,
    REMOVED,
)
from .relay import closing_event

# Why the registration stopped admitting (events.signals) → the close code that tells the page.
CLOSE_CODES = {
    signals.REVOKED: LINK_REVOKED,
    signals.REPLACED: LINK_REPLACED,
    signals.CANCELLED: REGISTRATION_CANCELLED,
    signals.REJECTED: REGISTRATION_REJECTED,
    signals.REMOVED: REMOVED,
    signals.ERASED: DATA_ERASED,
}


def close_sockets(sender: Any, *, registration_id: int, event_id: int, reason: str, **kwargs: Any) -> None:
    """Close the physician's sockets in every talk of the event, on every server process."""
    code = CLOSE_CODES[reason]
    messages = [(talk_group(talk_id), closing_event(talk_id, registration_id, code))
                for talk_id in Talk.objects.filter(event_id=event_id).values_list("pk", flat=True)]
    if reason != signals.REPLACED:
        # Out for good: their reception seat goes, and the table sees them leave, after
        # the sockets were told to close. (A re-issued link brings the same person back
        # to the same seat.)
        with outbox.capture() as events:
            leave_for_good(event_id, registration_id)
        messages += [message for event in events for message in layer_messages(event)]
    if messages:
        async_to_sync(send)(messages)
