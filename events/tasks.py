"""Celery tasks for registration mail and talk reminders."""

from __future__ import annotations

import smtplib
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from . import mail
from .models import MailLog, Registration, Talk

REMINDERS = (("reminder_24h", timedelta(hours=24)), ("reminder_1h", timedelta(hours=1)))


@shared_task(
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=6,
)
def send_registration_mail(registration_id: int, kind: str, talk_id: int | None = None, attempt: str = "") -> bool:
    registration = (
        Registration.objects.select_related("event", "physician__prefecture").filter(pk=registration_id).first()
    )
    if registration is None:
        return False
    talk = Talk.objects.filter(pk=talk_id, event=registration.event).first() if talk_id else None
    if kind.startswith("reminder") and (talk is None or registration.status != Registration.Status.APPROVED):
        return False
    return mail.deliver_once(registration, kind, talk, attempt=attempt)


def due_reminders(now=None) -> list[tuple[int, str, int]]:
    """(registration id, kind, talk id) for every reminder that is due and unsent.

    A reminder is due from its offset before the talk until the next, closer
    reminder is due (so a late run sends the 1-hour one, not both). Nobody who
    registered after a reminder's moment gets it: their confirmation just told
    them the time.
    """
    now = now or timezone.now()
    due: list[tuple[int, str, int]] = []
    for index, (kind, offset) in enumerate(REMINDERS):
        closer = REMINDERS[index + 1][1] if index + 1 < len(REMINDERS) else timedelta(0)
        talks = Talk.objects.filter(starts_at__gt=now + closer, starts_at__lte=now + offset)
        for talk in talks:
            registrations = Registration.objects.filter(
                event_id=talk.event_id,
                status=Registration.Status.APPROVED,
                created_at__lte=talk.starts_at - offset,
            )
            sent = set(
                MailLog.objects.filter(
                    registration__event_id=talk.event_id,
                    key__startswith=f"{kind}:",
                    key__endswith=f":{talk.pk}",
                ).values_list("registration_id", flat=True)
            )
            for registration_id in registrations.values_list("pk", flat=True):
                if registration_id not in sent:
                    due.append((registration_id, kind, talk.pk))
    return due


@shared_task
def send_due_reminders() -> int:
    """Run by Celery beat every minute; queues one mail task per due reminder."""
    due = due_reminders()
    for registration_id, kind, talk_id in due:
        send_registration_mail.delay(registration_id, kind, talk_id)
    return len(due)
