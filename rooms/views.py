"""Organizer-facing pages of a talk's rooms: the attendance log, the reception report and its seating CSV."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from events import joinlinks
from events.models import Physician, Talk
from events.roles import organizes

from regions.models import Prefecture

from . import cards, receptions
from .exports import attendance_csv, seats_csv
from .models import Reception


@require_GET
def attendance_export(request: HttpRequest, talk_id: int) -> HttpResponse:
    """The talk's 視聴ログ as CSV, for the organizers of its event and nobody else."""
    talk = _organized_talk(request, talk_id)
    return talk if isinstance(talk, HttpResponse) else attendance_csv(talk)


@require_GET
def seats_export(request: HttpRequest, talk_id: int) -> HttpResponse:
    """Who sat at which reception table and when (CSV), for the event's organizers."""
    talk = _organized_talk(request, talk_id)
    return talk if isinstance(talk, HttpResponse) else seats_csv(talk)


@require_GET
def reception_report(request: HttpRequest, talk_id: int) -> HttpResponse:
    """The reception at a glance: tables with their occupancy and areas, card exchanges by region pair."""
    talk = _organized_talk(request, talk_id)
    if isinstance(talk, HttpResponse):
        return talk
    rooms = [{"room": room, "members": receptions.members_of(room)} for room in receptions.social_rooms(talk)]
    return render(request, "rooms/reception_report.html", {
        "talk": talk, "reception": Reception.objects.filter(pk=talk.pk).first(), "rooms": rooms,
        "pairs": cards.pair_counts(talk), "prefectures": {p.code: p for p in Prefecture.objects.all()},
        "facility_types": dict(Physician.FacilityType.choices),
    })


def _organized_talk(request: HttpRequest, talk_id: int) -> Talk | HttpResponse:
    """The talk, if the signed-in user organizes its event; else the sign-in page or 403.

    Someone not signed in at all is sent to the admin sign-in and back; a
    physician (admitted by join link, never a Django user) or a signed-in user
    who does not organize this event gets 403. The talk is looked up only after
    that, so only a signed-in user can tell which talk ids exist.
    """
    user = request.user
    if not user.is_authenticated:
        if request.session.get(joinlinks.SESSION_KEY):
            return _forbidden()
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    talk = get_object_or_404(Talk.objects.select_related("event"), pk=talk_id)
    if not organizes(user, talk.event):
        return _forbidden()
    return talk


def _forbidden() -> HttpResponse:
    return HttpResponseForbidden(
        _("Only the organizers of this event can see this."),
        content_type="text/plain; charset=utf-8",
    )
