"""Who an audience targets: its saved filter applied to the organization's contacts, and how many that is.

The rules are on :class:`campaigns.models.Audience`. Past behaviour is matched
by e-mail address: a contact "registered for" an event when a physician with
the same (lower-cased) address has a counted registration for it, and only an
event of the audience's own organization ever counts (another organization's
registrations are not this organization's to target by).

Counting (``audience_size``, ``audience_map``) happens in the database, grouped
by prefecture: a fixed number of queries whatever the number of contacts. A
targeted contact is exactly one of

- **sendable**: consent recorded (date and source) and not opted out
  (``Contact.objects.sendable``);
- **opted out**: the address unsubscribed from the organization, whatever
  consent was recorded (their "no" outranks an old "yes");
- **no consent**: not opted out, but no consent date or no consent source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower

from events.models import Registration, Talk
from regions.models import Prefecture
from rooms.models import Seat

from .analytics import COUNTED, DEFAULT_MIN_MINUTES, attended_registrations
from .models import Audience, Contact, OptOut


def audience_contacts(audience: Audience) -> QuerySet[Contact]:
    """The organization's contacts that match every criterion set on ``audience`` (consent not yet applied).

    Regions and prefectures are read through ``.all()``, so a list of
    audiences fetched with ``prefetch_related("regions", "prefectures")``
    costs no query per audience for them.
    """
    contacts = Contact.objects.filter(organization_id=audience.organization_id)
    regions = [region.pk for region in audience.regions.all()]
    prefectures = [prefecture.pk for prefecture in audience.prefectures.all()]
    if regions or prefectures:
        contacts = contacts.filter(Q(prefecture__region_id__in=regions) | Q(prefecture_id__in=prefectures))
    if audience.shortage_only:
        contacts = contacts.filter(prefecture__designation=Prefecture.Designation.SHORTAGE)
    if audience.specialties:
        contacts = contacts.filter(specialty__in=audience.specialties)
    if audience.facility_types:
        contacts = contacts.filter(facility_type__in=audience.facility_types)
    if audience.past_behaviour:
        contacts = contacts.filter(email__in=_past_addresses(audience))
    return contacts


def _past_addresses(audience: Audience) -> QuerySet[Registration]:
    """The addresses (as a subquery) that showed ``audience.past_behaviour`` at ``audience.past_event``.

    No event (it was deleted) or another organization's event: nobody, never
    everybody — a criterion that cannot be checked must not widen a mailing.
    """
    registrations = Registration.objects.filter(event_id=audience.past_event_id,
                                                event__organization_id=audience.organization_id,
                                                status__in=COUNTED)
    if audience.past_behaviour == Audience.Behaviour.ATTENDED:
        talks = list(Talk.objects.filter(event_id=audience.past_event_id).select_related("stage"))
        registrations = registrations.filter(pk__in=attended_registrations(talks, DEFAULT_MIN_MINUTES, None)) \
            if talks else registrations.none()
    elif audience.past_behaviour == Audience.Behaviour.RECEPTION:
        registrations = registrations.filter(pk__in=Seat.objects.values("registration_id"))
    # Contacts are stored lower-cased (normalize_email); a physician edited in the admin may not be.
    return registrations.values(address=Lower("physician__email"))


def _counts(organization_id: int) -> dict[str, Count]:
    """targeted / sendable / opted_out / no_consent, as aggregates over one organization's contacts (see the module).

    The opt-outs are one uncorrelated IN list (PostgreSQL hashes it once)
    rather than a lookup per contact and per count; the rule is the same as
    ``Contact.objects.sendable``'s (same organization, same folded address).
    """
    opted_out = Q(email__in=OptOut.objects.filter(organization_id=organization_id).values("email"))
    consent = Q(consent_date__isnull=False) & ~Q(consent_source="")
    return {
        "targeted": Count("pk"),
        "sendable": Count("pk", filter=consent & ~opted_out),
        "opted_out": Count("pk", filter=opted_out),
        "no_consent": Count("pk", filter=~consent & ~opted_out),
    }


@dataclass
class Size:
    """How many contacts an audience targets in one place, and how many of them may be mailed."""

    targeted: int = 0
    sendable: int = 0
    opted_out: int = 0
    no_consent: int = 0

    def add(self, other: Size) -> None:
        self.targeted += other.targeted
        self.sendable += other.sendable
        self.opted_out += other.opted_out
        self.no_consent += other.no_consent


@dataclass
class Area:
    """One prefecture or region of the audience's map and table."""

    key: str
    name_ja: str
    name_en: str
    shortage: bool = False
    size: Size = field(default_factory=Size)


@dataclass
class AudienceMap:
    prefectures: list[Area]
    regions: list[Area]
    total: Size


def audience_size(audience: Audience) -> Size:
    """The audience's totals in one query (plus one for the talks when it looks at attendance)."""
    return Size(**audience_contacts(audience).aggregate(**_counts(audience.organization_id)))


def audience_map(audience: Audience) -> AudienceMap:
    """The audience by prefecture (all 47, in code order), by region and in total.

    Queries: the contacts grouped by prefecture, the prefectures with their
    region, and the audience's own criteria (regions, prefectures; the talks
    when it looks at attendance) — never one per prefecture or contact.
    """
    grouped = audience_contacts(audience).order_by().values("prefecture_id") \
        .annotate(**_counts(audience.organization_id))
    by_code = {row.pop("prefecture_id"): Size(**row) for row in grouped}
    prefectures: list[Area] = []
    regions: dict[str, Area] = {}
    order: dict[str, int] = {}
    total = Size()
    for prefecture in Prefecture.objects.select_related("region").order_by("code"):
        size = by_code.get(prefecture.code, Size())
        prefectures.append(Area(prefecture.code, prefecture.name_ja, prefecture.name_en,
                                prefecture.is_underserved, size))
        region = prefecture.region
        if region.key not in regions:
            regions[region.key] = Area(region.key, region.name_ja, region.name_en)
            order[region.key] = region.order
        regions[region.key].size.add(size)
        total.add(size)
    return AudienceMap(prefectures, sorted(regions.values(), key=lambda a: order[a.key]), total)
