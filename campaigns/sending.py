"""Sending campaign mails: the organizer's verbs and the worker's batch, exactly once per recipient.

Verbs (the organizer pages call these): ``do_send_now``, ``do_schedule``,
``do_cancel``. A mail moves draft → scheduled → sending → sent, or to
cancelled before it is sent.

Exactly once, step by step:

1. **Recipients fixed** (``start_sending``): in one transaction, with the mail
   row locked, one :class:`Delivery` per recipient (``campaigns.recipients``)
   is written and the mail becomes "sending". Starting again finds
   ``started_at`` set and writes nothing; the (mail, address) unique
   constraint backs this up.
2. **Claim** (``claim``): a batch task takes up to ``CAMPAIGN_BATCH_SIZE`` rows
   that are pending, or claimed longer ago than ``CAMPAIGN_CLAIM_STALE_SECONDS``
   and never marked sent (their worker died), marks them claimed with the
   time, and *commits* before any mail leaves. Concurrent workers skip each
   other's locked rows (``SKIP LOCKED``).
3. **Send and mark**: one SMTP connection per batch; right before each mail
   the address is checked again against opt-outs (and the mail against a
   cancel); as soon as the SMTP server answered 250 to the mail's data, the row
   is marked sent in its own autocommitted UPDATE (``_marks_without_flush``: committed
   without waiting for the disk, which survives a worker's death but not a database crash).
4. **Recovery**: the beat task re-queues a batch for every sending mail that
   still has claimable rows, so a killed worker's claims are sent by another
   once stale. A batch's hard time limit (``CAMPAIGN_SEND_TIME_LIMIT``) is
   below the stale age, so a live worker's claims are never taken over.

The residual window: between the SMTP server's 250 and the UPDATE that marks
the row sent (one round trip to the database, about a millisecond) a killed
worker leaves a mail that was accepted but not recorded; it is sent again,
with the same Message-ID, once its claim is stale. Nothing can close that
window without the SMTP server taking part in the transaction; it is kept to
one statement with nothing else in between.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection, transaction
from django.db.models import Exists, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .mail_content import MailTemplate
from .models import CampaignMail, Delivery, OptOut
from .recipients import FOLLOW_UPS, event_end, recipients

logger = logging.getLogger(__name__)

Status = CampaignMail.Status
# Refusals of one mail that retrying will not change (5xx): the row is marked failed and the batch goes on.
PERMANENT_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)


class CannotSend(Exception):
    """The verb was refused; the message says why, in the organizer's language."""


# --- Verbs -----------------------------------------------------------------------------------------

def _check_timing(mail: CampaignMail, at: datetime) -> None:
    if mail.kind in FOLLOW_UPS:
        ends = event_end(mail.campaign.event_id)
        if ends is None or at < ends:
            raise CannotSend(_("A follow-up goes after the event: its last talk ends at %(end)s.")
                             % {"end": timezone.localtime(ends).strftime("%Y-%m-%d %H:%M") if ends else "—"})


def do_send_now(mail: CampaignMail) -> int:
    """Fix the recipients and queue the send; returns how many deliveries were written."""
    mail.refresh_from_db(fields=["status", "started_at"])  # another request may have started or cancelled it
    if mail.status not in (Status.DRAFT, Status.SCHEDULED):
        raise CannotSend(_("This mail was already sent or cancelled."))
    _check_timing(mail, timezone.now())
    written = start_sending(mail.pk)
    mail.refresh_from_db(fields=["status", "started_at", "finished_at"])
    return written


def do_schedule(mail: CampaignMail, at: datetime) -> None:
    """Send the mail at ``at`` (the beat task starts it); a later call moves the time."""
    if mail.status not in (Status.DRAFT, Status.SCHEDULED):
        raise CannotSend(_("This mail was already sent or cancelled."))
    if at <= timezone.now():
        raise CannotSend(_("Choose a time in the future."))
    _check_timing(mail, at)
    updated = CampaignMail.objects.filter(pk=mail.pk, status__in=(Status.DRAFT, Status.SCHEDULED)).update(
        status=Status.SCHEDULED, scheduled_at=at)
    if not updated:
        raise CannotSend(_("This mail was already sent or cancelled."))
    mail.status, mail.scheduled_at = Status.SCHEDULED, at


def do_cancel(mail: CampaignMail) -> None:
    """Stop a scheduled mail, or a send in progress (mails already accepted by the SMTP server stay sent)."""
    updated = CampaignMail.objects.filter(
        pk=mail.pk, status__in=(Status.DRAFT, Status.SCHEDULED, Status.SENDING)).update(
        status=Status.CANCELLED, finished_at=timezone.now())
    if not updated:
        raise CannotSend(_("This mail was already sent or cancelled."))
    mail.status = Status.CANCELLED


# --- Recipients fixed -------------------------------------------------------------------------------

def start_sending(mail_id: int) -> int:
    """Write the mail's deliveries once and queue its batches after commit; 0 when already started."""
    with transaction.atomic():
        mail = CampaignMail.objects.select_for_update().select_related("campaign").get(pk=mail_id)
        if mail.started_at is not None or mail.status not in (Status.DRAFT, Status.SCHEDULED):
            return 0
        rows = [Delivery(mail_id=mail.pk, contact_id=pk, email=email, prefecture_id=prefecture)
                for pk, email, prefecture in recipients(mail).order_by("pk")
                .values_list("pk", "email", "prefecture_id").iterator(chunk_size=2000)]
        Delivery.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
        mail.status, mail.started_at = Status.SENDING, timezone.now()
        mail.save(update_fields=["status", "started_at"])
        transaction.on_commit(lambda: queue_batches(mail_id, len(rows)))
    return len(rows)


def queue_batches(mail_id: int, count: int) -> None:
    """One task per batch (at least one, which finishes a mail with no recipients)."""
    from .tasks import send_campaign_batch

    for _i in range(max(1, -(-count // settings.CAMPAIGN_BATCH_SIZE))):
        send_campaign_batch.delay(mail_id)


def start_due_mails(now: datetime | None = None) -> list[int]:
    """Start every scheduled mail whose time has come; returns their ids."""
    now = now or timezone.now()
    due = list(CampaignMail.objects.filter(status=Status.SCHEDULED, scheduled_at__lte=now)
               .order_by("scheduled_at").values_list("pk", flat=True))
    for mail_id in due:
        start_sending(mail_id)
    return due


def resume_stalled_mails(now: datetime | None = None) -> list[int]:
    """Queue a batch for every sending mail with claimable rows (a worker died); finish those with none left."""
    resumed = []
    for mail_id in CampaignMail.objects.filter(status=Status.SENDING).values_list("pk", flat=True):
        if _claimable(mail_id, now).exists():
            queue_batches(mail_id, 1)
            resumed.append(mail_id)
        else:
            _finish_if_done(mail_id)
    return resumed


# --- The worker's batch -----------------------------------------------------------------------------

def _claimable(mail_id: int, now: datetime | None = None):
    stale = (now or timezone.now()) - timedelta(seconds=settings.CAMPAIGN_CLAIM_STALE_SECONDS)
    return Delivery.objects.filter(mail_id=mail_id).filter(
        Q(status=Delivery.Status.PENDING) | Q(status=Delivery.Status.CLAIMED, claimed_at__lt=stale))


def claim(mail_id: int, size: int) -> list[int]:
    """Mark up to ``size`` claimable rows claimed and commit; returns their ids."""
    stamp = timezone.now()
    with transaction.atomic():
        ids = list(_claimable(mail_id, stamp).select_for_update(skip_locked=True).order_by("pk")
                   .values_list("pk", flat=True)[:size])
        # Conditional, and read back by its time stamp: where rows cannot be locked (SQLite, the embedded
        # mode, whose beat thread may run a batch beside a request's), a row another claim took is not ours.
        _claimable(mail_id, stamp).filter(pk__in=ids).update(status=Delivery.Status.CLAIMED, claimed_at=stamp)
    return list(Delivery.objects.filter(pk__in=ids, status=Delivery.Status.CLAIMED, claimed_at=stamp)
                .order_by("pk").values_list("pk", flat=True))


def send_batch(mail_id: int, size: int | None = None) -> int:
    """Claim a batch of the mail's deliveries and send them over one SMTP connection; returns mails sent."""
    mail = CampaignMail.objects.select_related("campaign__organization").get(pk=mail_id)
    if mail.status != Status.SENDING:
        return 0
    ids = claim(mail_id, size or settings.CAMPAIGN_BATCH_SIZE)
    if not ids:
        _finish_if_done(mail_id)
        return 0
    organization = mail.campaign.organization
    pending = list(Delivery.objects.filter(pk__in=ids).order_by("pk"))
    template = MailTemplate(mail, organization)
    sent = 0
    try:
        with get_connection(timeout=settings.CAMPAIGN_SMTP_TIMEOUT) as smtp, _marks_without_flush():
            while pending:
                delivery = pending[0]
                # Checked right before the mail leaves: an opt-out or a cancel after the recipients were fixed counts.
                status, opted_out = CampaignMail.objects.filter(pk=mail_id).annotate(opted_out=Exists(
                    OptOut.objects.filter(organization_id=organization.pk, email=delivery.email))) \
                    .values_list("status", "opted_out").get()
                if status != Status.SENDING:
                    break
                if opted_out:
                    _mark_failed(delivery.pk, "opted out before sending")
                    pending.pop(0)
                    continue
                try:
                    smtp.send_messages([template.message(delivery)])
                except PERMANENT_ERRORS as exc:
                    _mark_failed(delivery.pk, str(exc))
                    pending.pop(0)
                    continue
                # The SMTP server accepted the mail: record it before anything else happens.
                Delivery.objects.filter(pk=delivery.pk).update(status=Delivery.Status.SENT, sent_at=timezone.now())
                pending.pop(0)
                sent += 1
    finally:
        if pending:
            # Not attempted (cancelled, or the connection failed): give the rows back at once rather than
            # leaving them to go stale. The row in flight when the connection broke was not accepted (no 250).
            Delivery.objects.filter(pk__in=[d.pk for d in pending], status=Delivery.Status.CLAIMED).update(
                status=Delivery.Status.PENDING, claimed_at=None)
    _finish_if_done(mail_id)
    return sent


@contextmanager
def _marks_without_flush() -> Iterator[None]:
    """While sending, each autocommitted "sent" mark returns without waiting for the disk (PostgreSQL).

    ``synchronous_commit = off`` for this session only: a commit is visible to
    every other session at once and survives the worker's death (it is in
    PostgreSQL, not in the worker); only a crash of the database server itself
    within about three ``wal_writer_delay`` (600 ms by default) could lose the
    last marks, whose mails would then be sent again with the same Message-ID.
    Waiting for the disk at every mail instead costs a flush per mail (tens of
    milliseconds on ordinary disks) and caps a send at a few dozen mails a second.
    """
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET synchronous_commit")


def _mark_failed(delivery_id: int, error: str) -> None:
    Delivery.objects.filter(pk=delivery_id).update(status=Delivery.Status.FAILED, error=error[:200])


def _finish_if_done(mail_id: int) -> None:
    left = Delivery.objects.filter(mail_id=mail_id, status__in=(Delivery.Status.PENDING, Delivery.Status.CLAIMED))
    if not left.exists():
        CampaignMail.objects.filter(pk=mail_id, status=Status.SENDING).update(status=Status.SENT,
                                                                               finished_at=timezone.now())
