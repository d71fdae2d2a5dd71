"""APPI rights and retention: what Renkei holds on a physician, erasing it on request, purging old events' detail.

Three verbs (docs/privacy.md):

- :func:`personal_data` — everything stored on one physician, across all their
  registrations, as plain JSON-ready data, and nothing about anyone else (the
  cards they collected are other people's data and are left out);
- :func:`erase_physician` — deletion on request, in one transaction: personal
  fields erased, chat and questions shown as 「退会したユーザー」, cards withdrawn
  from whoever holds them, join links revoked, campaign contacts removed with an
  opt-out kept so no further mail goes. Rows stay (with prefecture, facility
  type and specialty, which identify nobody), so every count the organizers'
  dashboards show stays the same;
- :func:`purge_expired_details` — the retention period: chat, questions,
  attendance intervals and moderation logs of events whose last talk ended
  more than the organization's ``retention_days`` ago are deleted; the
  per-physician watch totals (ClosedWatchTime), seats and card exchanges the
  dashboards count from are kept.

This module sits above events/ and rooms/ (it reads both); it sends the
events.signals.admission_ended signal for realtime to close sockets and never
touches the transport.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from events import signals
from events.models import Event, MailLog, Physician, Registration, new_nonce
from rooms.models import (
    Attendance,
    CardExchange,
    CardSettings,
    ChatMessage,
    ModerationLog,
    Mute,
    Question,
    Seat,
)

from .models import Attribution, Contact, Delivery, OptOut, normalize_email

logger = logging.getLogger(__name__)

# What an erased author's name falls back to where no page translates it (pages show
# "Deleted user" in English from the ``deleted`` flag).
DELETED_NAME = "退会したユーザー"
ERASED_DOMAIN = "erased.invalid"
WITHDRAWN_CARD: dict[str, Any] = {"withdrawn": True}
# Longer than the sockets take to close after the commit (within a second, docs/protocol.md).
SCRUB_DELAY_SECONDS = 10


def erased_address(email: str) -> str:
    """A stand-in for an erased e-mail: the same for the same address, and not reversible without SECRET_KEY.

    Campaign statistics fold deliveries per address and match registrations to
    the mails by address (campaigns.campaign_analytics); replacing the address by
    one keyed hash in every place keeps those counts while the address is gone.
    """
    digest = hmac.new(settings.SECRET_KEY.encode(), normalize_email(email).encode(), hashlib.sha256).hexdigest()
    return f"erased-{digest[:40]}@{ERASED_DOMAIN}"


def _moment(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def personal_data(physician: Physician) -> dict[str, Any]:
    """Everything Renkei holds on this physician (and only on them), ready for json.dumps."""
    registrations = list(
        Registration.objects.filter(physician=physician).select_related("event__organization").order_by("created_at")
    )
    ids = [r.pk for r in registrations]
    card = CardSettings.objects.filter(physician=physician).first()
    email = normalize_email(physician.email)
    return {
        "physician": {
            "email": physician.email, "full_name": physician.full_name, "name_kana": physician.name_kana,
            "specialty": physician.specialty, "facility_name": physician.facility_name,
            "facility_type": physician.facility_type, "prefecture": physician.prefecture.code,
            "medical_registration_number": physician.medical_registration_number,
            "registered_first_at": _moment(physician.created_at), "updated_at": _moment(physician.updated_at),
        },
        "registrations": [{
            "event": r.event.title, "organization": r.event.organization.name, "status": r.status,
            "language": r.language, "declared_healthcare_professional": r.attested_healthcare_professional,
            "privacy_consent_at": _moment(r.privacy_consent_at), "privacy_notice_version": r.privacy_notice_version,
            "registered_at": _moment(r.created_at),
        } for r in registrations],
        "business_card": None if card is None else {
            "email": card.email, "phone": card.phone, "accepts_referrals": card.accepts_referrals,
            "message": card.message, "show_specialty": card.show_specialty,
        },
        "chat_messages": [{
            "talk": m.room.talk.title, "room": m.room.name_ja, "body": m.body, "sent_at": _moment(m.sent_at),
            "deleted_by_moderator": m.deleted_at is not None,
        } for m in ChatMessage.objects.filter(registration_id__in=ids).select_related("room__talk").order_by("sent_at")],
        "questions": [{
            "talk": q.talk.title, "body": q.body, "asked_at": _moment(q.asked_at),
        } for q in Question.objects.filter(registration_id__in=ids).select_related("talk").order_by("asked_at")],
        "viewing_log": [{
            "talk": a.talk.title, "joined_at": _moment(a.joined_at), "left_at": _moment(a.left_at),
        } for a in Attendance.objects.filter(registration_id__in=ids).select_related("talk").order_by("joined_at")],
        "reception_seats": [{
            "talk": s.room.talk.title, "table": s.room.name_ja, "joined_at": _moment(s.joined_at),
            "left_at": _moment(s.left_at),
        } for s in Seat.objects.filter(registration_id__in=ids).select_related("room__talk").order_by("joined_at")],
        # Who they exchanged with is the other physician's data: only that an exchange happened, and when.
        "card_exchanges": [{
            "talk": x.talk.title, "offered_by_me": x.offered_by_id in ids, "state": x.state,
            "offered_at": _moment(x.offered_at), "answered_at": _moment(x.answered_at),
        } for x in CardExchange.objects.filter(Q(offered_by_id__in=ids) | Q(offered_to_id__in=ids))
            .select_related("talk").order_by("offered_at")],
        "registration_sources": [{
            "utm_source": a.utm_source, "utm_medium": a.utm_medium, "utm_campaign": a.utm_campaign,
            "by_campaign_mail": a.delivery_id is not None,
        } for a in Attribution.objects.filter(registration_id__in=ids)],
        "campaign_contacts": [{
            "organization": c.organization.name, "email": c.email, "full_name": c.full_name,
            "name_kana": c.name_kana, "facility_name": c.facility_name, "consent_date": c.consent_date.isoformat()
            if c.consent_date else None, "consent_source": c.consent_source,
        } for c in Contact.objects.filter(email=email).select_related("organization")],
        "campaign_mails": [{
            "subject": d.mail.subject, "status": d.status, "sent_at": _moment(d.sent_at),
            "first_clicked_at": _moment(d.first_clicked_at), "clicks": d.clicks,
        } for d in Delivery.objects.filter(email=email).select_related("mail").order_by("pk")],
        "opt_outs": [{
            "organization": o.organization.name, "at": _moment(o.created_at),
        } for o in OptOut.objects.filter(email=email).select_related("organization")],
    }


def erase_physician(physician_id: int, now: datetime | None = None) -> bool:
    """Erase a physician's personal data on their request; False when it was already erased.

    All or nothing (one transaction, the physician's row locked so two clicks
    cannot interleave). Sockets close after the commit (events.signals.admission_ended,
    reason ERASED). Counts stay: registrations keep their status, exchanges
    their state, the physician their prefecture and facility type.
    """
    now = now or timezone.now()
    with transaction.atomic():
        physician = Physician.objects.select_for_update().get(pk=physician_id)
        if physician.erased_at is not None:
            # A line a closing socket still wrote carries the old author: scrub again, change nothing else.
            scrub_erased(physician_id)
            return False
        email = normalize_email(physician.email)
        stand_in = erased_address(email)
        registrations = list(Registration.objects.filter(physician=physician).select_related("event"))
        ids = [r.pk for r in registrations]

        # Campaign mail: no more mail from any organization that had them as a contact or whose
        # event they registered for (the opt-out needs the address to work; docs/privacy.md),
        # then their contact rows go and the mail ledger keeps only the keyed stand-in.
        organizations = set(Contact.objects.filter(email=email).values_list("organization_id", flat=True))
        organizations |= {r.event.organization_id for r in registrations}
        for organization_id in organizations:
            OptOut.objects.get_or_create(organization_id=organization_id, email=email,
                                         defaults={"source": OptOut.Source.REQUEST})
        Contact.objects.filter(email=email).delete()
        Delivery.objects.filter(email=email).update(email=stand_in)

        # Others stop seeing them: chat and questions by the placeholder, cards withdrawn on both
        # sides (their copy of others' cards goes too). Bodies stay: they are part of others' talk.
        scrub_authors(ids)
        CardExchange.objects.filter(offered_by_id__in=ids).update(from_card=WITHDRAWN_CARD, to_card=WITHDRAWN_CARD)
        CardExchange.objects.filter(offered_to_id__in=ids).update(from_card=WITHDRAWN_CARD, to_card=WITHDRAWN_CARD)
        CardSettings.objects.filter(physician=physician).delete()

        # Their links stop working (status unchanged: the registration still counts).
        Registration.objects.filter(pk__in=ids).update(join_nonce=new_nonce(), join_revoked_at=now)
        Physician.objects.filter(pk=physician.pk).update(
            email=stand_in, full_name="", name_kana="", facility_name="", medical_registration_number="",
            erased_at=now, updated_at=now,
        )
        # The sockets close within a second of the commit; a line one of them wrote in that
        # second is scrubbed by this second pass (a no-op in the embedded mode's eager Celery,
        # where a repeated deletion request does the same).
        transaction.on_commit(lambda: _scrub_later(physician_id))
        for registration in registrations:
            transaction.on_commit(lambda r=registration: signals.admission_ended.send(
                sender=Registration, registration_id=r.pk, event_id=r.event_id, reason=signals.ERASED))
    # An id and a count identify nobody; the address and name never reach the log.
    logger.info("physician erased on request", extra={"physician": physician_id, "registrations": len(ids)})
    return True


def scrub_authors(registration_ids: list[int]) -> int:
    """Show these registrations' chat lines and questions as 「退会したユーザー」; returns the rows changed."""
    changed = 0
    for model in (ChatMessage, Question):
        for row in model.objects.filter(registration_id__in=registration_ids).only("pk", "author"):
            if row.author.get("deleted"):
                continue
            author: dict[str, Any] = {"name": DELETED_NAME, "deleted": True}
            for kept in ("room_name", "room_name_en", "role"):  # where, not who
                if kept in row.author:
                    author[kept] = row.author[kept]
            changed += model.objects.filter(pk=row.pk).update(author=author)
    return changed


def scrub_erased(physician_id: int) -> int:
    """Scrub the chat lines and questions of an erased physician (none of someone not erased)."""
    ids = list(Registration.objects.filter(physician_id=physician_id, physician__erased_at__isnull=False)
               .values_list("pk", flat=True))
    return scrub_authors(ids)


def _scrub_later(physician_id: int) -> None:
    from .tasks import scrub_erased_authors  # the tasks module imports this one

    scrub_erased_authors.apply_async((physician_id,), countdown=SCRUB_DELAY_SECONDS)


def expired_events(now: datetime | None = None) -> list[Event]:
    """Events past their organization's retention period whose detail is still there."""
    now = now or timezone.now()
    events = (
        Event.objects.filter(details_purged_at__isnull=True, organization__retention_days__isnull=False)
        .annotate(last_end=Max("talks__ends_at")).filter(last_end__isnull=False)
        .select_related("organization")
    )
    return [e for e in events if e.last_end + timedelta(days=e.organization.retention_days) <= now]


def purge_event_details(event: Event, now: datetime | None = None) -> dict[str, int] | None:
    """Delete one event's chat, questions, attendance intervals and logs; None when a connection is still open.

    The dashboards count minutes from ClosedWatchTime (one total per physician
    and talk, kept), receptions from Seat and cards from CardExchange (kept), so
    their numbers do not move. An interval still open (a talk never sealed) is
    merged by the dashboard itself: the event waits for rooms.tasks.seal_finished_attendance.
    """
    now = now or timezone.now()
    with transaction.atomic():
        attendance = Attendance.objects.filter(talk__event=event)
        if attendance.filter(left_at__isnull=True).exists():
            return None
        counts = {
            "chat_messages": ChatMessage.objects.filter(room__talk__event=event).delete()[0],
            "questions": Question.objects.filter(talk__event=event).delete()[0],
            "attendance_intervals": attendance.delete()[0],
            "moderation_log": ModerationLog.objects.filter(talk__event=event).delete()[0],
            "mutes": Mute.objects.filter(talk__event=event).delete()[0],
            "mail_log": MailLog.objects.filter(registration__event=event).delete()[0],
        }
        Event.objects.filter(pk=event.pk).update(details_purged_at=now)
    return counts


def purge_expired_details(now: datetime | None = None) -> int:
    """Run by beat: purge every event past its retention period; returns the events purged. Safe to repeat."""
    purged = 0
    for event in expired_events(now):
        counts = purge_event_details(event, now)
        if counts is None:
            continue
        purged += 1
        # Ids and counts only: the log itself must not become a copy of what was purged.
        logger.info("event details purged after retention period",
                    extra={"event": event.pk, "organization": event.organization_id,
                           "retention_days": event.organization.retention_days, **counts})
    return purged

