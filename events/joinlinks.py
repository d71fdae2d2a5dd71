"""Personal join links: unguessable, revocable, scoped to one event.

A link carries ``<registration id>.<nonce>`` signed with SECRET_KEY, so it cannot
be forged or guessed, and it is rebuilt from the database whenever a mail needs
it (no secret travels through the task broker). Revoking rotates the nonce:
every copy of the old link, and every session it opened, stops working at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from . import sql
from .models import JOIN_LINK_GRACE, Event, Registration

SALT = "renkei.join-link"
SESSION_KEY = "renkei.admissions"


class JoinLinkError(Exception):
    """Why a link or a session does not admit its holder.

    ``reason`` is one of: forged, revoked, expired, pending, waitlisted,
    rejected, cancelled.
    """

    def __init__(self, reason: str, registration: Registration | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.registration = registration


def make_token(registration: Registration) -> str:
    return signing.Signer(salt=SALT).sign(f"{registration.pk}.{registration.join_nonce}")


def join_url(registration: Registration) -> str:
    return settings.SITE_URL + reverse("events:join", args=[make_token(registration)])


def _load(pk: int) -> Registration | None:
    # One hand-written statement: it runs for every join and every WebSocket admission (events.sql).
    return sql.registration_for_admission(pk)


def _check(registration: Registration, nonce: str, now: datetime) -> Registration:
    if nonce != registration.join_nonce or registration.join_revoked_at:
        raise JoinLinkError("revoked", registration)
    if registration.status != Registration.Status.APPROVED:
        raise JoinLinkError(registration.status, registration)
    ends_at = getattr(registration, "event_ends_at", None)
    valid_until = ends_at + JOIN_LINK_GRACE if ends_at else None
    if valid_until is not None and now > valid_until:
        raise JoinLinkError("expired", registration)
    return registration


def resolve_token(token: str, now: datetime | None = None) -> Registration:
    """Return the registration a link admits, or raise JoinLinkError."""
    try:
        value = signing.Signer(salt=SALT).unsign(token)
        pk_text, nonce = value.split(".", 1)
        pk = int(pk_text)
    except (signing.BadSignature, ValueError):
        raise JoinLinkError("forged") from None
    registration = _load(pk)
    if registration is None:
        # Signed by us but since deleted: treat like a revoked link.
        raise JoinLinkError("revoked")
    return _check(registration, nonce, now or timezone.now())


def admit(session: Any, registration: Registration) -> None:
    """Sign the link's holder in for this registration's event (and no other)."""
    admissions = dict(session.get(SESSION_KEY, {}))
    admissions[str(registration.event_id)] = [registration.pk, registration.join_nonce]
    session[SESSION_KEY] = admissions


def admitted_registration(session: Any, event: Event, now: datetime | None = None) -> Registration | None:
    """The registration this session was admitted with for ``event``, if still valid.

    Re-checked on every request so that revoking a link or rejecting a
    registration also ends the sessions it opened.
    """
    entry = session.get(SESSION_KEY, {}).get(str(event.pk))
    if not entry:
        return None
    pk, nonce = entry
    registration = _load(pk)
    if registration is None or registration.event_id != event.pk:
        return None
    registration.event = event
    try:
        return _check(registration, nonce, now or timezone.now())
    except JoinLinkError:
        return None
