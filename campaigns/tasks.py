"""Celery tasks for campaign mail: one batch of a send, and the beat task that starts and resumes sends."""

from __future__ import annotations

import smtplib

from celery import shared_task
from django.conf import settings

from . import privacy, sending


@shared_task(
    acks_late=True,
    # A connection that broke gives its unsent rows back (sending.send_batch); the retry sends them.
    autoretry_for=(smtplib.SMTPException, ConnectionError, TimeoutError),
    retry_backoff=True,
    max_retries=6,
    # Below CAMPAIGN_CLAIM_STALE_SECONDS: a batch still running never has its claims taken over.
    time_limit=settings.CAMPAIGN_SEND_TIME_LIMIT,
    soft_time_limit=settings.CAMPAIGN_SEND_TIME_LIMIT - 10,
)
def send_campaign_batch(mail_id: int) -> int:
    return sending.send_batch(mail_id)


@shared_task
def send_due_campaign_mails() -> dict[str, list[int]]:
    """Run by beat: start the scheduled mails whose time has come, resume sends whose worker died."""
    return {"started": sending.start_due_mails(), "resumed": sending.resume_stalled_mails()}


@shared_task
def purge_expired_details() -> int:
    """Run by beat: delete chat, attendance intervals and logs of events past their organization's retention period."""
    return privacy.purge_expired_details()


@shared_task
def scrub_erased_authors(physician_id: int) -> int:
    """After a deletion: a chat line a closing socket still wrote shows 「退会したユーザー」 too."""
    return privacy.scrub_erased(physician_id)
