"""Organizations, their contact lists and their opt-outs.

An organization (a medical-marketing team, an academic society) owns its events,
contacts and opt-outs; its organizers are its members. Nothing of one
organization is ever shown to another's members: every query in the admin and
on the organizer pages goes through ``organization__members=user``.
"""

from __future__ import annotations

import secrets
import unicodedata
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from events.models import Physician
from events.specialties import SPECIALTY_CHOICES
from regions.models import Prefecture

# The organization that every event created before organizations existed belongs
# to (events migration 0004), and the demo's (load_demo).
DEMO_ORGANIZATION_SLUG = "renkei-demo"


def normalize_email(value: str) -> str:
    """The form in which an e-mail address is stored and compared: NFKC-folded, trimmed, lower case.

    Japanese spreadsheets often hold full-width addresses (ｓａｔｏ＠ｅｘａｍｐｌｅ．ｊｐ)
    and CRMs mix cases; both are the same mailbox in practice, so they are the
    same contact and the same opt-out.
    """
    return unicodedata.normalize("NFKC", value).strip().lower()


class Organization(models.Model):
    """Whoever sends the invitations: it owns events, contacts and opt-outs.

    The Act on Specified Electronic Mail (特定電子メール法) requires every
    advertising mail to name its sender with a postal address and a contact
    address for opting out: ``name``, ``postal_address`` and ``contact_email``
    are that sender line. Organizers see only the organizations they are
    ``members`` of.
    """

    slug = models.SlugField(_("address name"), unique=True, max_length=60,
                            help_text=_("Letters, digits and hyphens; used by the import command."))
    name = models.CharField(_("name"), max_length=200)
    postal_address = models.TextField(_("postal address"), help_text=_("Printed in every campaign mail, as the law requires."))
    contact_email = models.EmailField(_("contact e-mail"),
                                      help_text=_("Printed in every campaign mail for questions and opting out."))
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="organizations", blank=True,
                                     verbose_name=_("members"))
    # Days after an event's last talk ends before its chat, attendance intervals and logs are purged
    # (campaigns.privacy.purge_expired_details, run daily by beat); blank keeps them.
    retention_days = models.PositiveIntegerField(
        _("retention period (days)"), null=True, blank=True,
        help_text=_("Chat, attendance details and logs of an event are deleted this many days after its last "
                    "talk; the dashboards keep their numbers. Blank keeps them."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")

    def __str__(self) -> str:
        return self.name

    def sender_line(self) -> str:
        """The sender notice that closes every campaign mail (特定電子メール法 第4条)."""
        return f"{self.name}\n{self.postal_address}\n{self.contact_email}"


class ContactQuerySet(models.QuerySet):
    def of_member(self, user: Any) -> ContactQuerySet:
        """The contacts of the organizations ``user`` belongs to (superusers: all)."""
        return self if user.is_superuser else self.filter(organization__members=user)

    def sendable(self) -> ContactQuerySet:
        """Contacts a campaign mail may go to: consent recorded (date and source), not opted out."""
        opted_out = OptOut.objects.filter(organization=OuterRef("organization"), email=OuterRef("email"))
        return self.filter(consent_date__isnull=False).exclude(consent_source="").exclude(Exists(opted_out))


class Contact(models.Model):
    """A physician in an organization's own list (from its CRM), whether or not they ever registered.

    Rules:
    - one contact per e-mail address and organization; the address is stored
      normalised (:func:`normalize_email`), so ``Sato@Example.jp`` and the
      full-width ``ｓａｔｏ＠ｅｘａｍｐｌｅ．ｊｐ`` are the same contact, and an
      import that meets it again merges into it;
    - a campaign mail may go to a contact only with recorded consent, both
      ``consent_date`` and ``consent_source`` (特定電子メール法: opt-in), and only
      while the address has no :class:`OptOut` in the same organization
      (:meth:`ContactQuerySet.sendable`);
    - the prefecture is required: contacts exist to be counted and targeted by region.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="contacts",
                                     verbose_name=_("organization"))
    email = models.EmailField(_("e-mail"))
    full_name = models.CharField(_("full name"), max_length=100)
    name_kana = models.CharField(_("name in kana"), max_length=100, blank=True)
    prefecture = models.ForeignKey(Prefecture, on_delete=models.PROTECT, related_name="contacts",
                                   verbose_name=_("prefecture"))
    facility_name = models.CharField(_("facility name"), max_length=200, blank=True)
    # The registrants' own choices, so that contacts and registrants compare.
    facility_type = models.CharField(_("facility type"), max_length=16, choices=Physician.FacilityType.choices,
                                     blank=True)
    specialty = models.CharField(_("specialty"), max_length=40, choices=SPECIALTY_CHOICES, blank=True)
    consent_date = models.DateField(_("consent date"), null=True, blank=True)
    consent_source = models.CharField(_("consent source"), max_length=200, blank=True,
                                      help_text=_("Where the physician agreed to receive mail, e.g. a seminar sign-up form."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["name_kana", "email"]
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [models.UniqueConstraint(fields=["organization", "email"], name="one_contact_per_address")]

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)


class OptOut(models.Model):
    """An address that asked an organization for no more mail.

    Rules: kept per organization (unsubscribing from one society's mail says
    nothing about another's), stored normalised like Contact.email, never
    deleted by an import, and checked by every later send, import and campaign.
    """

    class Source(models.TextChoices):
        LINK = "link", _("Unsubscribe link")
        REQUEST = "request", _("Request by mail or phone")
        ADMIN = "admin", _("Entered by an organizer")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="opt_outs",
                                     verbose_name=_("organization"))
    email = models.EmailField(_("e-mail"))
    created_at = models.DateTimeField(_("opted out at"), auto_now_add=True)
    source = models.CharField(_("how"), max_length=16, choices=Source.choices, default=Source.ADMIN)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("opt-out")
        verbose_name_plural = _("opt-outs")
        constraints = [models.UniqueConstraint(fields=["organization", "email"], name="one_opt_out_per_address")]

    def __str__(self) -> str:
        return self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)


class ApiTokenQuerySet(models.QuerySet):
    def of_member(self, user: Any) -> ApiTokenQuerySet:
        """The tokens of the organizations ``user`` belongs to (superusers: all)."""
        return self if user.is_superuser else self.filter(organization__members=user)


class ApiToken(models.Model):
    """A secret that lets a CRM or marketing-automation tool read one organization's data through /api/v1/.

    Rules: only the SHA-256 hash of the secret is stored (a database dump
    or an admin page never reveals a usable token), plus a short prefix so
    organizers can tell their tokens apart; the secret is shown once, when
    made (``create_api_token``). A revoked token stays listed, as a record,
    and never works again.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_tokens",
                                     verbose_name=_("organization"))
    name = models.CharField(_("name"), max_length=100, blank=True,
                            help_text=_("What uses this token, e.g. the CRM's name."))
    prefix = models.CharField(_("prefix"), max_length=12, editable=False)
    secret_hash = models.CharField(_("secret hash"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.prefix}… {self.name}".strip()


class Audience(models.Model):
    """A saved filter over an organization's contacts: whom a campaign targets.

    Rules (``campaigns.audiences.audience_contacts`` applies them):
    - every criterion left empty matches everyone; the criteria that are set
      must all hold (regions and prefectures together mean "in one of these
      regions or one of these prefectures");
    - ``shortage_only`` keeps contacts in MHLW's physician-shortage
      prefectures (the reference data's designation);
    - past behaviour looks at ``past_event``: contacts whose address
      registered for it, attended it (watched at least the dashboard's
      minutes), or took a seat at its reception;
    - an audience says who is *targeted*; who may be *mailed* is narrowed
      again at every send by consent and opt-outs (``Contact.objects.sendable``).
    """

    class Behaviour(models.TextChoices):
        REGISTERED = "registered", _("registered for")
        ATTENDED = "attended", _("attended")
        RECEPTION = "reception", _("joined the reception of")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="audiences",
                                     verbose_name=_("organization"))
    name = models.CharField(_("name"), max_length=200)
    regions = models.ManyToManyField("regions.Region", blank=True, related_name="+", verbose_name=_("regions"))
    prefectures = models.ManyToManyField(Prefecture, blank=True, related_name="+", verbose_name=_("prefectures"))
    shortage_only = models.BooleanField(_("physician-shortage prefectures only"), default=False)
    # Lists of keys (events.specialties, Physician.FacilityType): small, read whole, never joined on.
    specialties = models.JSONField(_("specialties"), default=list, blank=True)
    facility_types = models.JSONField(_("facility types"), default=list, blank=True)
    past_behaviour = models.CharField(_("past behaviour"), max_length=16, choices=Behaviour.choices, blank=True)
    past_event = models.ForeignKey("events.Event", on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name=_("earlier event"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("audience")
        verbose_name_plural = _("audiences")

    def __str__(self) -> str:
        return self.name


class CampaignQuerySet(models.QuerySet):
    def of_member(self, user: Any) -> CampaignQuerySet:
        """The campaigns of the organizations ``user`` belongs to (superusers: all)."""
        return self if user.is_superuser else self.filter(organization__members=user)


class Campaign(models.Model):
    """Invitations to one event for one audience, and the follow-ups after it.

    Rules: the campaign's organization is its event's organization (checked on
    save), so tenancy follows the event; ``slug`` is the value public links carry
    as ``utm_campaign`` and is unique within the organization.
    """

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="campaigns",
                                     verbose_name=_("organization"))
    event = models.ForeignKey("events.Event", on_delete=models.CASCADE, related_name="campaigns",
                              verbose_name=_("event"))
    audience = models.ForeignKey(Audience, on_delete=models.PROTECT, related_name="campaigns",
                                 verbose_name=_("audience"))
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("address name"), max_length=60,
                            help_text=_("Used as utm_campaign in public links."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        constraints = [models.UniqueConstraint(fields=["organization", "slug"], name="one_campaign_per_slug")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.event_id is not None:
            self.organization_id = self.event.organization_id
        if self.audience_id is not None and self.audience.organization_id != self.organization_id:
            raise ValueError("a campaign's audience belongs to its event's organization")
        super().save(*args, **kwargs)


class CampaignMail(models.Model):
    """One mail of a campaign: the invitation, a reminder of it, or a follow-up to one segment.

    Rules:
    - the invitation and its reminders go to the audience's sendable contacts;
      a reminder skips contacts whose address has registered for the event;
    - a follow-up goes, after the event, to the sendable contacts of the
      audience in its segment (attended, registered but did not attend, left
      early, joined the reception);
    - ``status`` moves draft → scheduled → sending → sent (or cancelled); the
      recipients are fixed when sending starts, as Delivery rows, so a
      restarted worker sends to the same list.
    """

    class Kind(models.TextChoices):
        INVITATION = "invitation", _("Invitation")
        REMINDER = "reminder", _("Invitation reminder")
        ATTENDED = "attended", _("Follow-up: attended")
        NO_SHOW = "no_show", _("Follow-up: registered but did not attend")
        LEFT_EARLY = "left_early", _("Follow-up: left early")
        RECEPTION = "reception", _("Follow-up: joined the reception")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SCHEDULED = "scheduled", _("Scheduled")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        CANCELLED = "cancelled", _("Cancelled")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="mails", verbose_name=_("campaign"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    materials_url = models.URLField(_("slides or materials link"), blank=True)
    scheduled_at = models.DateTimeField(_("send at"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.DRAFT)
    started_at = models.DateTimeField(_("sending started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("sending finished at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["campaign", "created_at"]
        verbose_name = _("campaign mail")
        verbose_name_plural = _("campaign mails")

    def __str__(self) -> str:
        return f"{self.campaign}: {self.get_kind_display()}"


def new_token() -> str:
    return secrets.token_urlsafe(18)


class Delivery(models.Model):
    """One campaign mail to one contact: the ledger that makes a send exactly-once and the mail trackable.

    Rules:
    - one row per mail and contact (the recipients are fixed when sending
      starts); a worker sends a row only after claiming it, and marks it sent
      as soon as the SMTP server accepted it, so a restarted worker sends the
      rest and nobody twice;
    - ``token`` is the secret in the mail's personal tracking link and its
      unsubscribe link; a click stores only its first time and a count (no
      address, no browser);
    - the address and prefecture are kept as they were at sending, so the
      numbers stay when a contact is later corrected or deleted.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        CLAIMED = "claimed", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")

    mail = models.ForeignKey(CampaignMail, on_delete=models.CASCADE, related_name="deliveries",
                             verbose_name=_("campaign mail"))
    contact = models.ForeignKey(Contact, on_delete=models.SET_NULL, null=True, related_name="deliveries",
                                verbose_name=_("contact"))
    email = models.EmailField(_("e-mail"))
    prefecture = models.ForeignKey(Prefecture, on_delete=models.PROTECT, related_name="+",
                                   verbose_name=_("prefecture"))
    token = models.CharField(_("tracking key"), max_length=32, unique=True, default=new_token, editable=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=200, blank=True)
    first_clicked_at = models.DateTimeField(_("first clicked at"), null=True, blank=True)
    clicks = models.PositiveIntegerField(_("clicks"), default=0)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [models.UniqueConstraint(fields=["mail", "email"], name="one_delivery_per_mail_and_address")]
        indexes = [models.Index(fields=["mail", "status"], name="delivery_mail_status")]

    def __str__(self) -> str:
        return f"{self.mail} → {self.email}"


class Attribution(models.Model):
    """Where a registration came from: a campaign mail's tracking link, or a public link's UTM tags.

    Rules: at most one per registration, written when the registration is
    made (the first touch within the visit wins); ``delivery`` is set only for
    a personal tracking link, ``campaign`` for it or for a public link whose
    ``utm_campaign`` is a campaign's slug in the event's organization. The
    UTM values are kept as given (trimmed, at most 100 characters).
    """

    registration = models.OneToOneField("events.Registration", on_delete=models.CASCADE,
                                        related_name="attribution", verbose_name=_("registration"))
    campaign = models.ForeignKey(Campaign, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="attributions", verbose_name=_("campaign"))
    delivery = models.ForeignKey(Delivery, on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="attributions", verbose_name=_("delivery"))
    utm_source = models.CharField(_("source"), max_length=100, blank=True)
    utm_medium = models.CharField(_("medium"), max_length=100, blank=True)
    utm_campaign = models.CharField(_("campaign tag"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attribution")
        verbose_name_plural = _("attributions")

    def __str__(self) -> str:
        return f"{self.registration}: {self.utm_source or self.campaign}"
