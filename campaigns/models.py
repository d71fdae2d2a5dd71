"""Organizations, their contact lists and their opt-outs.

An organization (a medical-marketing team, an academic society) owns its events,
contacts and opt-outs; its organizers are its members. Nothing of one
organization is ever shown to another's members: every query in the admin and
on the organizer pages goes through ``organization__members=user``.
"""

from __future__ import annotations

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
