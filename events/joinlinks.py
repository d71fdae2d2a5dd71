"""Personal join links: unguessable, revocable, scoped to one event.

A link carries ``<registration id>.<nonce>`` signed with SECRET_KEY, so it cannot
be forged or guessed, and it is rebuilt from the database whenever a mail needs
it (no secret travels through the task broker). Revoking rotates the nonce:
every copy of the old link, and every browser it signed in, stops working at once.

Opening the link stores the link's own token in an HttpOnly cookie for that
event (``renkei_join_<event id>``), not in a server-side session: the token is
already signed and revocable, so a session row would add a write to every join
and a read to every page and WebSocket admission, and protect nothing more
(docs/performance.md, "Issue 13"). Every request re-checks the token against the
registration as the link itself is checked, so revoking, rejecting, cancelling
or the event ending past its grace ends the admission at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache

from django.http import HttpResponse, HttpResponseBase, HttpResponseRedirect

from django.conf import settings
from django.core import signing
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.cache import add_never_cache_headers
from django.utils import timezone
from django.utils.http import http_date

from . import sql
from .models import JOIN_LINK_GRACE, Event, Registration

SALT = "renkei.join-link"
COOKIE_PREFIX = "renkei_join_"  # + the event's id: one cookie per event a physician was admitted to


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


@dataclass(frozen=True, slots=True)
class LinkState:
    """What opening a link reads of its registration (events.sql.join_link_state): the rule's fields and the redirect's."""

    pk: int
    event_id: int
    join_nonce: str
    join_revoked_at: datetime | None
    status: str
    event_slug: str
    event_ends_at: datetime | None


def _check(registration: Registration | LinkState, nonce: str, now: datetime) -> Registration | LinkState:
    if nonce != registration.join_nonce or registration.join_revoked_at:
        raise JoinLinkError("revoked", registration)
    if registration.status != Registration.Status.APPROVED:
        raise JoinLinkError(registration.status, registration)
    ends_at = getattr(registration, "event_ends_at", None)
    valid_until = ends_at + JOIN_LINK_GRACE if ends_at else None
    if valid_until is not None and now > valid_until:
        raise JoinLinkError("expired", registration)
    return registration


def resolve_token(token: str, now: datetime | None = None,
                  loaded: Mapping[int, Registration | None] | None = None) -> Registration:
    """Return the registration a link admits, or raise JoinLinkError.

    ``loaded``: registrations already read for this check (rooms.sql.talk_for_admission), by id;
    an id there is not read again (None: no such registration in the event being entered).
    """
    pk, nonce = _verified(token)
    registration = loaded[pk] if loaded is not None and pk in loaded else _load(pk)
    if registration is None:
        # Signed by us but since deleted: treat like a revoked link.
        raise JoinLinkError("revoked")
    return _check(registration, nonce, now or timezone.now())


def link_state(token: str, now: datetime | None = None) -> LinkState:
    """The registration a link admits, as opening it needs it (resolve_token's rule, without the models), or JoinLinkError."""
    pk, nonce = _verified(token)
    values = sql.join_link_state(pk)
    if values is None:
        raise JoinLinkError("revoked")
    state = LinkState(pk=pk, **values)
    _check(state, nonce, now or timezone.now())
    return state


def cookie_name(event_id: int) -> str:
    return f"{COOKIE_PREFIX}{event_id}"


def admit(response: HttpResponseBase, registration: Registration | LinkState, now: datetime | None = None) -> None:
    """Sign the link's holder in for this registration's event (and no other): the token, in a cookie."""
    ends_at = getattr(registration, "event_ends_at", None)
    max_age = settings.SESSION_COOKIE_AGE
    if ends_at is not None:  # no longer than the link itself is valid
        max_age = max(0, min(max_age, int((ends_at + JOIN_LINK_GRACE - (now or timezone.now())).total_seconds())))
    response.set_cookie(
        cookie_name(registration.event_id), make_token(registration), max_age=max_age, path="/",
        secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax",
    )


def entrance(registration: Registration | LinkState) -> HttpResponseRedirect:
    """What opening a valid link answers, through Django or not (events.join_asgi): to the lobby, admitted."""
    slug = registration.event_slug if isinstance(registration, LinkState) else registration.event.slug
    response = HttpResponseRedirect(_lobby_path(get_script_prefix(), get_urlconf(), slug))
    admit(response, registration)
    # The answer carries a sign-in cookie: no shared cache may keep it. What add_never_cache_headers
    # sets, with its Cache-Control worked out once (parsing and rebuilding it cost a tenth of the answer).
    response.headers["Expires"] = http_date()
    response.headers["Cache-Control"] = _never_cache_control()
    return response


@lru_cache(maxsize=1024)
def _lobby_path(script_prefix: str, urlconf: str | None, slug: str) -> str:
    """An event's lobby path; the same for the same prefix and URLconf (reverse() cost 40 µs a join link)."""
    return reverse("events:lobby", kwargs={"slug": slug})


@cache
def _never_cache_control() -> str:
    probe = HttpResponse()
    add_never_cache_headers(probe)
    return probe.headers["Cache-Control"]


def named_registrations(cookies: Mapping[str, str]) -> list[int]:
    """The registration ids the join cookies name, unverified: to read them early, never to trust them.

    Whatever is read for them is checked by resolve_token like any registration
    it loads itself (the signature, the nonce, the status, the event's end).
    """
    ids = []
    signer = signing.Signer(salt=SALT)
    for name, token in cookies.items():
        if name.startswith(COOKIE_PREFIX):
            with suppress(ValueError):
                ids.append(_id_and_nonce(token.rsplit(signer.sep, 1)[0])[0])  # the value unsign() would check
    return ids


def _verified(token: str) -> tuple[int, str]:
    """The registration id and nonce a token signed by us carries; JoinLinkError("forged") for any other."""
    try:
        return _id_and_nonce(signing.Signer(salt=SALT).unsign(token))
    except (signing.BadSignature, ValueError):
        raise JoinLinkError("forged") from None


def _id_and_nonce(value: str) -> tuple[int, str]:
    """The registration id and nonce of a token's value (make_token's ``<id>.<nonce>``); ValueError when it is not one."""
    pk_text, nonce = value.split(".", 1)
    return int(pk_text), nonce


def has_admissions(cookies: Mapping[str, str]) -> bool:
    """Whether this browser was admitted by a join link to any event (used to tell 'not admitted' from 'not signed in')."""
    return any(name.startswith(COOKIE_PREFIX) for name in cookies)


def admitted_registration(cookies: Mapping[str, str], event: Event, now: datetime | None = None,
                          loaded: Mapping[int, Registration | None] | None = None) -> Registration | None:
    """The registration this browser was admitted with for ``event``, if still valid.

    Re-checked on every request so that revoking a link or rejecting a
    registration also ends the admissions it gave. ``loaded``: as for resolve_token.
    """
    token = cookies.get(cookie_name(event.pk))
    if not token:
        return None
    try:
        registration = resolve_token(token, now, loaded)
    except JoinLinkError:
        return None
    if registration.event_id != event.pk:
        return None
    registration.event = event
    return registration
