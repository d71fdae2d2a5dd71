"""Organizer-facing pages of a talk's reception: the report of its tables and its seating CSV."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from events.models import Physician
from regions.models import Prefecture

from ..lecture.reports import organized_talk
from . import cards
from .exports import seats_csv
from .models import Reception
from .tables import members_of, social_rooms


@require_GET
def seats_export(request: HttpRequest, talk_id: int) -> HttpResponse:
    """Who sat at which reception table and when (CSV), for the event's organizers."""
    talk = organized_talk(request, talk_id)
    return talk if isinstance(talk, HttpResponse) else seats_csv(talk)


@require_GET
def reception_report(request: HttpRequest, talk_id: int) -> HttpResponse:
    """The reception at a glance: tables with their occupancy and areas, card exchanges by region pair."""
    talk = organized_talk(request, talk_id)
    if isinstance(talk, HttpResponse):
        return talk
    rooms = [{"room": room, "members": members_of(room)} for room in social_rooms(talk)]
    return render(request, "rooms/reception_report.html", {
        "talk": talk, "reception": Reception.objects.filter(pk=talk.pk).first(), "rooms": rooms,
        "pairs": cards.pair_counts(talk), "prefectures": {p.code: p for p in Prefecture.objects.all()},
        "facility_types": dict(Physician.FacilityType.choices),
    })
