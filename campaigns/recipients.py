"""Who a campaign mail goes to: the audience, narrowed by consent and opt-outs, then by the mail's kind.

Rules (docs/campaigns.md, "Campaign mail"):

- every kind starts from the audience's contacts (``audience_contacts``) that
  may be mailed at all: consent date *and* source recorded, address not opted
  out in the organization (``Contact.objects.sendable``, 特定電子メール法);
- **invitation**: all of them;
- **reminder**: all of them except those whose address has a counted
  registration for the campaign's event (they already said yes);
- follow-ups, after the event, match contacts to the event's counted
  registrations by e-mail address:

  - **attended**: watched at least ``DEFAULT_MIN_MINUTES`` over the event's
    talks (the dashboard's "attended");
  - **no_show**: registered, but did not attend in that sense;
  - **left_early**: attended, but watched less than half of the minutes the
    talks were scheduled for (so a subset of "attended", never a no-show);
  - **reception**: took a seat at a table of the event's reception.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from events.models import Registration, Talk
from rooms.models import Seat

from .analytics import COUNTED, DEFAULT_MIN_MINUTES, attended_registrations
from .audiences import audience_contacts
from .models import CampaignMail, Contact

Kind = CampaignMail.Kind
FOLLOW_UPS = (Kind.ATTENDED, Kind.NO_SHOW, Kind.LEFT_EARLY, Kind.RECEPTION)


def recipients(mail: CampaignMail, now: datetime | None = None) -> QuerySet[Contact]:
    """The contacts ``mail`` goes to if sending started now (see the module's rules)."""
    campaign = mail.campaign
    contacts = audience_contacts(campaign.audience).filter(organization_id=campaign.organization_id).sendable()
    if mail.kind == Kind.INVITATION:
        return contacts
    registered = Registration.objects.filter(event_id=campaign.event_id, status__in=COUNTED)
    if mail.kind == Kind.REMINDER:
        return contacts.exclude(email__in=registered.values("physician__email"))
    return contacts.filter(email__in=segment_registrations(mail.kind, registered, campaign.event_id, now)
                           .values("physician__email"))


def segment_registrations(kind: str, registered: QuerySet[Registration], event_id: int,
                          now: datetime | None) -> QuerySet[Registration]:
    """The counted registrations of the event in a follow-up's segment."""
    talks = list(Talk.objects.filter(event_id=event_id).select_related("stage"))
    if kind == Kind.RECEPTION:
        return registered.filter(pk__in=Seat.objects.filter(room__talk__event_id=event_id).values("registration_id"))
    attended = registered.filter(pk__in=attended_registrations(talks, DEFAULT_MIN_MINUTES, now)) \
        if talks else registered.none()
    if kind == Kind.ATTENDED:
        return attended
    if kind == Kind.NO_SHOW:
        return registered.exclude(pk__in=attended.values("pk"))
    if kind == Kind.LEFT_EARLY:
        scheduled = sum((talk.ends_at - talk.starts_at).total_seconds() / 60 for talk in talks)
        # Watched at least half the programme: not "left early", whatever the order of their visits.
        stayed = attended_registrations(talks, scheduled / 2, now)  # type: ignore[arg-type]  # minutes as a float
        return attended.exclude(pk__in=stayed)
    raise ValueError(f"not a follow-up: {kind!r}")


def event_end(event_id: int) -> datetime | None:
    """When the event's last talk is scheduled to end (None: no talks yet): follow-ups go after it."""
    ends = Talk.objects.filter(event_id=event_id).order_by("-ends_at").values_list("ends_at", flat=True).first()
    return ends
