"""The organizer's pages for audiences: list with sizes, create, edit, the map before sending, delete.

Same doors as the other organizer pages (``views._organization``): a
signed-in member of the organization in the address; another organization's
audience is "not found".
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count, ProtectedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _

from events.models import Physician
from events.specialties import SPECIALTY_LABELS

from .audience_forms import AudienceForm
from .audiences import AudienceMap, audience_map, audience_size
from .models import Audience, Organization
from .views import _organization, _signed_in


def _audience(organization: Organization, pk: int) -> Audience:
    return get_object_or_404(Audience.objects.filter(organization=organization)
                             .select_related("past_event").prefetch_related("regions", "prefectures"), pk=pk)


@_signed_in
def audiences(request: HttpRequest, slug: str) -> HttpResponse:
    """The organization's audiences, each with its targeted and sendable size."""
    organization = _organization(request, slug)
    rows = Audience.objects.filter(organization=organization).prefetch_related("regions", "prefectures") \
        .annotate(campaign_count=Count("campaigns"))
    return render(request, "campaigns/audiences.html", {
        "organization": organization, "rows": [(audience, audience_size(audience)) for audience in rows],
    })


@_signed_in
def audience(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """What the audience selects, and its size by prefecture and region on the map, before anything is sent."""
    organization = _organization(request, slug)
    chosen = _audience(organization, pk)
    sizes = audience_map(chosen)
    return render(request, "campaigns/audience.html", {
        "organization": organization, "audience": chosen, "map": sizes, "criteria": criteria(chosen),
        "map_data": map_data(sizes), "campaigns": list(chosen.campaigns.order_by("name")),
    })


@_signed_in
def audience_new(request: HttpRequest, slug: str) -> HttpResponse:
    organization = _organization(request, slug)
    return _edit(request, organization, Audience(organization=organization))


@_signed_in
def audience_edit(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    organization = _organization(request, slug)
    return _edit(request, organization, _audience(organization, pk))


def _edit(request: HttpRequest, organization: Organization, instance: Audience) -> HttpResponse:
    form = AudienceForm(request.POST if request.method == "POST" else None, instance=instance,
                        organization=organization)
    if form.is_valid():
        saved = form.save()
        return redirect("campaigns:audience", organization.slug, saved.pk)
    return render(request, "campaigns/audience_form.html", {"organization": organization, "form": form,
                                                            "audience": instance if instance.pk else None},
                  status=400 if form.is_bound else 200)


@_signed_in
def audience_delete(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    """GET asks to confirm; POST deletes, unless a campaign still uses the audience (then says which)."""
    organization = _organization(request, slug)
    chosen = _audience(organization, pk)
    if request.method == "POST":
        try:
            with transaction.atomic():
                chosen.delete()
        except ProtectedError:
            pass  # a campaign uses it (perhaps made since the confirmation page): say so below
        else:
            return redirect("campaigns:audiences", organization.slug)
    campaigns = list(chosen.campaigns.order_by("name"))
    return render(request, "campaigns/audience_delete.html", {
        "organization": organization, "audience": chosen, "campaigns": campaigns,
    }, status=409 if campaigns and request.method == "POST" else 200)


def criteria(audience: Audience) -> list[tuple[str, str]]:
    """The audience's criteria as the organizer reads them, in the page's language; unset ones say "any"."""
    anything = _("Any")
    places = [region.display_name for region in audience.regions.all()] + \
        [prefecture.display_name for prefecture in audience.prefectures.all()]
    past = ""
    if audience.past_behaviour:
        event = audience.past_event.title if audience.past_event else _("(the event was deleted: nobody matches)")
        past = f"{audience.get_past_behaviour_display()}: {event}"
    facility = dict(Physician.FacilityType.choices)
    join = ", ".join if translation.get_language() == "en" else "、".join
    return [
        (_("Regions and prefectures"), join(places) if places else _("All of Japan")),
        (_("Physician-shortage prefectures only"), _("Yes") if audience.shortage_only else _("No")),
        (_("Specialties"), join(str(SPECIALTY_LABELS.get(k, k)) for k in audience.specialties) or anything),
        (_("Facility types"), join(str(facility.get(k, k)) for k in audience.facility_types) or anything),
        (_("Past behaviour"), past or anything),
    ]


def map_data(sizes: AudienceMap) -> dict[str, Any]:
    """What audience.js draws, labels in the page's language."""
    en = translation.get_language() == "en"
    return {
        "prefectures": [{"code": area.key, "name": area.name_en if en else area.name_ja, "shortage": area.shortage,
                         "targeted": area.size.targeted, "sendable": area.size.sendable}
                        for area in sizes.prefectures],
        "labels": {"targeted": _("Targeted"), "sendable": _("Sendable"), "shortageMark": _("physician shortage")},
    }
