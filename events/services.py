"""The write paths of registration. Views and the admin authorise, call a verb here, and respond.

Mail is queued with ``transaction.on_commit`` so a task never runs before the row
it reads exists, and never for a registration that was rolled back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from regions.models import Prefecture

from . import signals
from .models import Event, Physician, Registration, new_nonce

# A new version when the notice changes what is shared (2026-12-05: voice and video at the tables).
PRIVACY_NOTICE_VERSION = "2026-12-05"


class RegistrationRefused(Exception):
    code = "refused"


class RegistrationNotOpen(RegistrationRefused):
    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state
        self.code = f"registration_{state}"


class EventFull(RegistrationRefused):
    code = "event_full"


class AlreadyRegistered(RegistrationRefused):
    code = "already_registered"

    def __init__(self, registration: Registration) -> None:
        super().__init__("already registered")
        self.registration = registration


@dataclass(frozen=True)
class PhysicianDetails:
    email: str
    full_name: str
    name_kana: str
    specialty: str
    facility_name: str
    facility_type: str
    prefecture: Prefecture
    medical_registration_number: str = ""


def _notify(registration: Registration, kind: str) -> None:
    from .tasks import send_registration_mail

    transaction.on_commit(lambda: send_registration_mail.delay(registration.pk, kind))


def register_physician(
    event: Event,
    details: PhysicianDetails,
    *,
    language: str = "ja",
    join_waitlist: bool = False,
    notify: bool = True,
    now: datetime | None = None,
) -> Registration:
    """Register a physician for an event, or put them on its wait-list.

    Raises RegistrationNotOpen outside the registration window, AlreadyRegistered
    when this e-mail already has a registration for the event, and EventFull when
    the event is full and the physician has not asked to join the wait-list.
    """
    now = now or timezone.now()
    state = event.registration_state(now)
    if state != "open":
        raise RegistrationNotOpen(state)
    email = details.email.strip().lower()
    with transaction.atomic():
        # Lock the event row so two last-seat registrations cannot both win.
        locked = Event.objects.select_for_update().get(pk=event.pk)
        # Fullness first: it is the same answer for every address, so it cannot tell
        # a visitor whether some other address is registered.
        full = locked.is_full()
        if full and not join_waitlist:
            raise EventFull()
        existing = Registration.objects.filter(event=locked, physician__email=email).first()
        # A physician who cancelled may come back; any other earlier registration stands.
        if existing is not None and existing.status != Registration.Status.CANCELLED:
            raise AlreadyRegistered(existing)
        physician, _created = Physician.objects.update_or_create(
            email=email,
            defaults={
                "full_name": details.full_name,
                "name_kana": details.name_kana,
                "specialty": details.specialty,
                "facility_name": details.facility_name,
                "facility_type": details.facility_type,
                "prefecture": details.prefecture,
                "medical_registration_number": details.medical_registration_number,
            },
        )
        if full:
            status = Registration.Status.WAITLISTED
        elif locked.approval_mode == Event.ApprovalMode.AUTOMATIC:
            status = Registration.Status.APPROVED
        else:
            status = Registration.Status.PENDING
        registration = existing or Registration(event=locked, physician=physician)
        registration.status = status
        registration.language = language if language in ("ja", "en") else "ja"
        registration.attested_healthcare_professional = True
        registration.privacy_consent_at = now
        registration.privacy_notice_version = PRIVACY_NOTICE_VERSION
        registration.decided_at = now if status == Registration.Status.APPROVED else None
        registration.decided_by = None
        registration.join_nonce = new_nonce()
        registration.join_revoked_at = None
        registration.save()
        if notify:
            _notify(registration, _first_mail(status))
    return registration


def mail_existing_registrant(registration: Registration) -> None:
    """Someone registered again with this registration's address: tell its owner, not the visitor.

    The mail carries the join link (or where the registration stands); the page the
    visitor sees is the one a new registration gets. Each attempt is its own mail (its
    key carries a fresh token), so a retried task sends it once and a later attempt
    again, as often as the registration rate limit per e-mail lets attempts through.
    """
    from .tasks import send_registration_mail

    attempt = new_nonce()
    transaction.on_commit(lambda: send_registration_mail.delay(registration.pk, "already_registered", attempt=attempt))


def _first_mail(status: str) -> str:
    return {
        Registration.Status.APPROVED: "confirmation",
        Registration.Status.PENDING: "received",
        Registration.Status.WAITLISTED: "waitlisted",
    }[status]


def approve_registrations(registrations: Iterable[Registration], by: Any = None) -> int:
    """Approve pending or wait-listed registrations and send each its join link."""
    count = 0
    now = timezone.now()
    with transaction.atomic():
        for registration in registrations:
            if registration.status not in (Registration.Status.PENDING, Registration.Status.WAITLISTED):
                continue
            registration.status = Registration.Status.APPROVED
            registration.decided_at = now
            registration.decided_by = by
            registration.save(update_fields=["status", "decided_at", "decided_by"])
            _notify(registration, "confirmation")
            count += 1
    return count


def reject_registrations(registrations: Iterable[Registration], by: Any = None) -> int:
    """Reject registrations; their join links stop working at once.

    A rejection that frees a seat of an automatic-approval event promotes the
    longest-waiting physician from the wait-list.
    """
    count = 0
    now = timezone.now()
    freed: set[int] = set()
    with transaction.atomic():
        for registration in registrations:
            if registration.status == Registration.Status.REJECTED:
                continue
            if registration.status in Registration.HOLDS_SEAT:
                freed.add(registration.event_id)
            admitted = registration.status == Registration.Status.APPROVED
            registration.status = Registration.Status.REJECTED
            registration.decided_at = now
            registration.decided_by = by
            registration.save(update_fields=["status", "decided_at", "decided_by"])
            if admitted:  # only an approved registration can have a session or a socket open
                _admission_ended(registration, signals.REJECTED)
            count += 1
        for event_id in freed:
            promote_from_waitlist(Event.objects.get(pk=event_id))
    return count


def cancel_registration(registration: Registration) -> None:
    """The physician withdraws; a freed seat goes to the wait-list."""
    with transaction.atomic():
        held_seat = registration.status in Registration.HOLDS_SEAT
        admitted = registration.status == Registration.Status.APPROVED
        registration.status = Registration.Status.CANCELLED
        registration.join_nonce = new_nonce()
        registration.save(update_fields=["status", "join_nonce"])
        if admitted:
            _admission_ended(registration, signals.CANCELLED)
        if held_seat:
            promote_from_waitlist(registration.event)


def promote_from_waitlist(event: Event) -> int:
    """Fill free seats of an automatic-approval event from its wait-list, oldest first."""
    if event.approval_mode != Event.ApprovalMode.AUTOMATIC:
        return 0
    promoted = 0
    with transaction.atomic():
        locked = Event.objects.select_for_update().get(pk=event.pk)
        waiting = locked.registrations.filter(status=Registration.Status.WAITLISTED).order_by("created_at")
        for registration in waiting:
            if locked.is_full():
                break
            promoted += approve_registrations([registration])
    return promoted


def _admission_ended(registration: Registration, reason: str) -> None:
    """After the commit, tell whoever listens (rooms: the open sockets) that this registration no longer admits.

    A signal rather than a call into rooms, so the registration domain does not
    depend on the transport. Robust: the change is committed, so a channel layer
    that cannot be reached is logged rather than turning a done revocation into an error page.
    """
    registration_id, event_id = registration.pk, registration.event_id
    transaction.on_commit(
        lambda: signals.admission_ended.send(
            sender=Registration, registration_id=registration_id, event_id=event_id, reason=reason
        ),
        robust=True,
    )


def revoke_join_link(registration: Registration, reason: str = signals.REVOKED) -> None:
    """Make every copy of the registration's join link, and sessions and sockets it opened, stop working.

    ``reason`` is what the physician's open pages are told: ``revoked`` (an
    organizer), or ``removed`` (a moderator, through rooms.lecture.moderation.remove_person).
    """
    with transaction.atomic():
        registration.join_nonce = new_nonce()
        registration.join_revoked_at = timezone.now()
        registration.save(update_fields=["join_nonce", "join_revoked_at"])
        _admission_ended(registration, reason)


def reissue_join_link(registration: Registration) -> None:
    """Replace a (lost or forwarded) link with a new one and mail it; the old one stops working."""
    with transaction.atomic():
        registration.join_nonce = new_nonce()
        registration.join_revoked_at = None
        registration.save(update_fields=["join_nonce", "join_revoked_at"])
        if registration.status == Registration.Status.APPROVED:
            _notify(registration, "confirmation")
            # Pages opened with the old link close and say a new one is in the mail.
            _admission_ended(registration, signals.REPLACED)
