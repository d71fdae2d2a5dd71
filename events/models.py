from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from regions.models import Prefecture, Region

from .specialties import SPECIALTY_CHOICES, SPECIALTY_LABELS

# How long after an event's last talk its join links keep working: long enough
# to look back at the schedule, short enough that old mail is not a key forever.
JOIN_LINK_GRACE = timedelta(days=14)


def new_nonce() -> str:
    return secrets.token_urlsafe(16)


class Event(models.Model):
    """A lecture series or a single Web講演会 that physicians register for.

    Registration is open between ``registration_opens_at`` and
    ``registration_closes_at`` (either may be blank for "no limit"). ``capacity``
    counts approved and pending registrations; when it is reached, new
    registrations join the wait-list. With manual approval, an organizer reviews
    each registration before its join link is sent. Only the event's organizers
    see its registrations. Every event belongs to one organization.
    """

    class ApprovalMode(models.TextChoices):
        AUTOMATIC = "automatic", _("Automatic")
        MANUAL = "manual", _("Manual review by an organizer")

    slug = models.SlugField(_("address name"), unique=True, max_length=80,
                            help_text=_("Letters, digits and hyphens; the end of the event page's address."))
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    # The organization whose event this is: its contacts are invited, its sender line signs the mail.
    organization = models.ForeignKey("campaigns.Organization", on_delete=models.PROTECT, related_name="events",
                                     verbose_name=_("organization"))
    organizers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="organized_events", blank=True,
                                        verbose_name=_("organizers"))
    target_regions = models.ManyToManyField(Region, blank=True, related_name="events", verbose_name=_("target regions"))
    target_prefectures = models.ManyToManyField(Prefecture, blank=True, related_name="events",
                                                verbose_name=_("target prefectures"))
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True, help_text=_("Blank for no limit."))
    registration_opens_at = models.DateTimeField(_("registration opens"), null=True, blank=True)
    registration_closes_at = models.DateTimeField(_("registration closes"), null=True, blank=True)
    approval_mode = models.CharField(
        _("approval"), max_length=16, choices=ApprovalMode.choices, default=ApprovalMode.AUTOMATIC
    )
    is_published = models.BooleanField(_("published"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Set by the retention purge (campaigns.privacy): chat, attendance intervals and logs are gone,
    # the dashboards' numbers stay. Also what keeps the daily task from looking at the event again.
    details_purged_at = models.DateTimeField(_("details purged at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.registration_opens_at and self.registration_closes_at:
            if self.registration_closes_at <= self.registration_opens_at:
                raise ValidationError({"registration_closes_at": _("Registration must close after it opens.")})

    def registration_state(self, now: datetime | None = None) -> str:
        """"not_yet", "open" or "closed"."""
        now = now or timezone.now()
        if self.registration_opens_at and now < self.registration_opens_at:
            return "not_yet"
        if self.registration_closes_at and now >= self.registration_closes_at:
            return "closed"
        return "open"

    def seats_taken(self) -> int:
        return self.registrations.filter(status__in=Registration.HOLDS_SEAT).count()

    def is_full(self) -> bool:
        return self.capacity is not None and self.seats_taken() >= self.capacity



class Talk(models.Model):
    """One talk of an event: a speaker (or several) at a set time, with a stream.

    Reminder mails go out 24 hours and 1 hour before ``starts_at``.
    """

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="talks", verbose_name=_("event"))
    title = models.CharField(_("title"), max_length=200)
    speakers = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="talks", blank=True,
                                      verbose_name=_("speakers"))
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    stream_url = models.URLField(_("stream URL"), blank=True)

    class Meta:
        ordering = ["starts_at"]
        verbose_name = _("talk")
        verbose_name_plural = _("talks")

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": _("A talk must end after it starts.")})


class Physician(models.Model):
    """A physician as they registered, one row per e-mail address.

    A physician is not a Django user: they reach an event through the personal
    join link of their Registration. Their details are updated by their latest
    registration, so "register once" stays true across events.
    """

    class FacilityType(models.TextChoices):
        HOSPITAL = "hospital", _("Hospital")
        CLINIC = "clinic", _("Clinic")
        OTHER = "other", _("Other")

    email = models.EmailField(_("e-mail"), unique=True)
    full_name = models.CharField(_("full name"), max_length=100)
    name_kana = models.CharField(_("name in kana"), max_length=100)
    specialty = models.CharField(_("specialty"), max_length=40, choices=SPECIALTY_CHOICES)
    facility_name = models.CharField(_("facility name"), max_length=200)
    facility_type = models.CharField(_("facility type"), max_length=16, choices=FacilityType.choices)
    prefecture = models.ForeignKey(Prefecture, on_delete=models.PROTECT, related_name="physicians",
                                   verbose_name=_("prefecture"))
    medical_registration_number = models.CharField(_("medical registration number"), max_length=8, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Set when the physician asked for deletion (campaigns.privacy.erase_physician): name, e-mail,
    # facility and registration number are gone; prefecture, facility type and specialty stay so
    # the organizers' counts by prefecture and region pair do not change.
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)

    class Meta:
        verbose_name = _("physician")
        verbose_name_plural = _("physicians")

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    @property
    def specialty_label(self) -> str:
        return str(SPECIALTY_LABELS.get(self.specialty, self.specialty))


class Registration(models.Model):
    """A physician's registration for one event, and the key to its join link.

    Status moves pending → approved/rejected (manual approval), straight to
    approved (automatic), or to waitlisted when the event is full. Approved and
    pending registrations hold a seat. The join link is valid while the
    registration is approved, its nonce unchanged (revoking rotates it) and the
    event not over for more than JOIN_LINK_GRACE.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting review")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")
        WAITLISTED = "waitlisted", _("Wait-listed")
        CANCELLED = "cancelled", _("Cancelled")

    HOLDS_SEAT = (Status.PENDING, Status.APPROVED)

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="registrations", verbose_name=_("event"))
    physician = models.ForeignKey(Physician, on_delete=models.PROTECT, related_name="registrations",
                                  verbose_name=_("physician"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    language = models.CharField(_("language"), max_length=8, default="ja")
    attested_healthcare_professional = models.BooleanField(_("declared a healthcare professional"), default=False)
    privacy_consent_at = models.DateTimeField(_("agreed to the privacy policy at"))
    privacy_notice_version = models.CharField(_("privacy policy version"), max_length=16)
    join_nonce = models.CharField(_("join link key"), max_length=32, default=new_nonce)
    join_revoked_at = models.DateTimeField(_("join link revoked at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        verbose_name=_("decided by"),
    )
    created_at = models.DateTimeField(_("registered at"), auto_now_add=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.UniqueConstraint(fields=["event", "physician"], name="one_registration_per_event"),
        ]

    def __str__(self) -> str:
        return f"{self.physician} → {self.event}"


class MailLog(models.Model):
    """A ledger of mails that must go out at most once, keyed by what they are for.

    A task claims its key before sending; a retried or repeated task finds the
    claim and sends nothing, so nobody gets the same reminder twice.
    """

    key = models.CharField(_("what for"), max_length=120, unique=True)
    registration = models.ForeignKey(Registration, on_delete=models.CASCADE, related_name="mails",
                                     verbose_name=_("registration"))
    claimed_at = models.DateTimeField(_("claimed at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sent mail")
        verbose_name_plural = _("sent mails")

    def __str__(self) -> str:
        return self.key
