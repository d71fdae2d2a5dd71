"""Who is on the other end of a WebSocket, and what they may do in a talk."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib import auth

from events import joinlinks
from events.models import Registration, Talk
from events.roles import display_name, organizes
from regions.lookup import region_of

from . import frames
from .profiles import Profile


@dataclass
class Participant:
    """A physician admitted by join link, or a staff member (speaker or organizer) of the talk."""

    role: str  # "attendee", "speaker" or "organizer"
    registration: Registration | None = None
    user: Any = None
    author: dict[str, Any] = field(default_factory=dict)
    prefecture_code: str = ""

    @property
    def person_key(self) -> str:
        """One key per person, shared by all their tabs (rate limits, presence, question votes)."""
        return f"r{self.registration.pk}" if self.registration else f"u{self.user.pk}"

    @property
    def region_key(self) -> str:
        """The region of the physician's prefecture ("" for staff), from the one lookup (regions.lookup)."""
        return region_of(self.prefecture_code)

    @property
    def is_staff(self) -> bool:
        return self.role in ("speaker", "organizer")


class NotSignedIn(Exception):
    pass


class NotAdmitted(Exception):
    pass


def named_registrations(scope: dict[str, Any]) -> list[int]:
    """The registration ids this connection's join cookies name (unverified: see events.joinlinks)."""
    return joinlinks.named_registrations(scope.get("cookies") or {})


def identify(scope: dict[str, Any], talk: Talk | None,
             loaded: Mapping[int, Registration | None] | None = None) -> Participant:
    """Raise NotSignedIn (no join link opened, no staff sign-in) or NotAdmitted (signed in, but not to this talk).

    A physician is admitted by the join-link cookie of the talk's event (events.joinlinks),
    staff by their Django session.

    ``talk`` None is a talk id that does not exist: it is refused exactly as a
    talk the visitor may not see, so nobody can probe which ids exist.
    ``loaded``: registrations read with the talk (rooms.sql.talk_for_admission), checked as any other.
    """
    session = scope.get("session")
    cookies = scope.get("cookies") or {}
    user = scope.get("user") or (_user(session) if session is not None else None)
    if talk is not None and user is not None and user.is_authenticated:
        if organizes(user, talk.event):
            return _staff(user, "organizer")
        if talk.speakers.filter(pk=user.pk).exists():
            return _staff(user, "speaker")
    registration = joinlinks.admitted_registration(cookies, talk.event, loaded=loaded) if talk is not None else None
    if registration is not None:
        prefecture = registration.physician.prefecture
        return Participant(
            role="attendee",
            registration=registration,
            author=frames.profile(Profile.of(registration, role="attendee")),
            prefecture_code=prefecture.code,
        )
    if joinlinks.has_admissions(cookies) or (user is not None and user.is_authenticated):
        raise NotAdmitted()
    raise NotSignedIn()


def public_profile(registration: Registration) -> dict[str, Any]:
    """What other physicians see of one in the chat (a table adds the specialty: rooms.reception.tables.table_profile)."""
    return frames.profile(Profile.of(registration))


class _SessionOnly:
    """What ``django.contrib.auth.get_user`` reads of a request: its session."""

    def __init__(self, session: Any) -> None:
        self.session = session


def _user(session: Any) -> Any:
    # Resolved here, in the admission's database thread, rather than by Channels'
    # AuthMiddleware: that would cost every connection one more thread hop, and
    # a physician's join-link session has no user to find anyway.
    return auth.get_user(_SessionOnly(session))  # type: ignore[arg-type]


def _staff(user: Any, role: str) -> Participant:
    return Participant(
        role=role,
        user=user,
        author=frames.profile(Profile.staff(display_name(user), role)),
    )
