"""Builders for campaigns, their mails and deliveries, shared by the attribution and campaign dashboard tests."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from campaigns.models import Audience, Campaign, CampaignMail, Delivery
from events.models import Event
from regions.models import Prefecture


def make_campaign(event: Event, slug: str = "autumn-invite", **overrides: Any) -> Campaign:
    audience = Audience.objects.create(organization=event.organization, name=f"{slug} audience")
    return Campaign.objects.create(event=event, audience=audience, name=overrides.pop("name", f"{slug} 案内"),
                                   slug=slug, **overrides)


def make_mail(campaign: Campaign, kind: str = CampaignMail.Kind.INVITATION) -> CampaignMail:
    return CampaignMail.objects.create(campaign=campaign, kind=kind, subject="ご案内", body="本文")


def deliver(mail: CampaignMail, email: str, code: str, *, sent: bool = True, clicks: int = 0) -> Delivery:
    """A delivery of ``mail`` to ``email`` in prefecture ``code``: sent (or failed), clicked ``clicks`` times."""
    now = timezone.now()
    return Delivery.objects.create(
        mail=mail, email=email, prefecture=Prefecture.objects.get(code=code),
        status=Delivery.Status.SENT if sent else Delivery.Status.FAILED, sent_at=now if sent else None,
        clicks=clicks, first_clicked_at=now if clicks else None,
    )
