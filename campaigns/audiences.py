"""Who an audience targets: its saved filter applied to the organization's contacts.

The rules are on :class:`campaigns.models.Audience`. Past behaviour is matched
by e-mail address: a contact "registered for" an event when a physician with
the same (folded) address has a counted registration for it.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from events.models import Registration, Talk
from regions.models import Prefecture
from rooms.models import Seat

from .analytics import COUNTED, DEFAULT_MIN_MINUTES, attended_registrations
from .models import Audience, Contact


def audience_contacts(audience: Audience) -> QuerySet[Contact]:
    """The organization's contacts that match every criterion set on ``audience`` (consent not yet applied)."""
    contacts = Contact.objects.filter(organization_id=audience.organization_id)
    regions = list(audience.regions.values_list("key", flat=True))
    prefectures = list(audience.prefectures.values_list("code", flat=True))
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
    """The addresses (as a subquery) that showed ``audience.past_behaviour`` at ``audience.past_event``."""
    registrations = Registration.objects.filter(event_id=audience.past_event_id, status__in=COUNTED)
    if audience.past_behaviour == Audience.Behaviour.ATTENDED:
        talks = list(Talk.objects.filter(event_id=audience.past_event_id).select_related("stage"))
        registrations = registrations.filter(pk__in=attended_registrations(talks, DEFAULT_MIN_MINUTES, None)) \
            if talks else registrations.none()
    elif audience.past_behaviour == Audience.Behaviour.RECEPTION:
        registrations = registrations.filter(pk__in=Seat.objects.values("registration_id"))
    return registrations.values("physician__email")
