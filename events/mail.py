"""Renkei's e-mails to physicians, each sent at most once per purpose.

Kinds: ``received`` (manual review pending), ``waitlisted``, ``confirmation``
(join link and .ics), ``reminder_24h`` and ``reminder_1h`` (per talk), and
``already_registered`` (someone registered again with this address: the link, or
where the registration stands). Mails are written in the language the physician
registered in.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from . import ics
from .joinlinks import join_url
from .models import MailLog, Registration, Talk

KINDS = ("received", "waitlisted", "confirmation", "reminder_24h", "reminder_1h", "already_registered")


def mail_key(registration: Registration, kind: str, talk: Talk | None = None, attempt: str = "") -> str:
    if kind == "confirmation":
        # A re-issued link is a new confirmation: the nonce makes it a new key.
        return f"confirmation:{registration.pk}:{registration.join_nonce}"
    if kind == "already_registered":
        # One mail per attempt to register again: the attempt's token makes it a new key.
        return f"already_registered:{registration.pk}:{attempt}"
    if talk is not None:
        return f"{kind}:{registration.pk}:{talk.pk}"
    return f"{kind}:{registration.pk}"


def build_message(registration: Registration, kind: str, talk: Talk | None = None) -> EmailMultiAlternatives:
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    event = registration.event
    context: dict[str, Any] = {
        "registration": registration,
        "physician": registration.physician,
        "event": event,
        "talk": talk,
        "talks": list(event.talks.all()),
        "join_link": join_url(registration) if registration.status == Registration.Status.APPROVED else "",
        "event_url": settings.SITE_URL + reverse("events:event", args=[event.slug]),
    }
    with translation.override(registration.language), timezone.override(settings.TIME_ZONE):
        subject = " ".join(render_to_string(f"mail/{kind}_subject.txt", context).split())
        body = render_to_string(f"mail/{kind}.txt", context)
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [registration.physician.email])
    if kind == "confirmation":
        message.attach("renkei.ics", ics.registration_calendar(registration, context["join_link"]), "text/calendar")
    return message


def deliver_once(registration: Registration, kind: str, talk: Talk | None = None, attempt: str = "") -> bool:
    """Send the mail unless its key was sent before; return whether it was sent.

    The claim row is locked for the length of the send, so a concurrent copy of
    the task waits and then finds it sent; if the send fails, the transaction
    rolls the claim back and a retry sends it.
    """
    key = mail_key(registration, kind, talk, attempt)
    with transaction.atomic():
        log, _created = MailLog.objects.select_for_update().get_or_create(
            key=key, defaults={"registration": registration}
        )
        if log.sent_at is not None:
            return False
        build_message(registration, kind, talk).send()
        log.sent_at = timezone.now()
        log.save(update_fields=["sent_at"])
    return True
