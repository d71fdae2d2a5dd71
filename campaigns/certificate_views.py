"""The physician's viewing log and their printable attendance certificates, and the organizers' view of them."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from events import joinlinks
from events.models import Event, Registration
from events.roles import organizes

from . import certificates


def viewing_log(request: HttpRequest, slug: str) -> HttpResponse:
    """For the physician this session was admitted as: each talk of the event with the minutes they watched."""
    event = get_object_or_404(Event, slug=slug, is_published=True)
    registration = joinlinks.admitted_registration(request.COOKIES, event)
    if registration is None:
        return render(request, "events/lobby_closed.html", {"event": event}, status=403)
    return render(request, "campaigns/viewing_log.html", {
        "event": event, "registration": registration, "log": certificates.viewing_log(registration),
    })


def certificate(request: HttpRequest, registration_id: int, talk_id: int) -> HttpResponse:
    """One talk's certificate, for the physician it belongs to (join-link session) and the event's organizers.

    Anyone else, and ids that do not exist or do not belong together, get the
    same 404 page: the address tells nobody which registrations exist.
    """
    registration = certificates.registration_for_certificate(registration_id)
    if registration is None or not _may_see(request, registration):
        return _unavailable(request)
    issued = certificates.certificate(registration, talk_id)
    if issued is None:
        return _unavailable(request)
    return render(request, "campaigns/certificate.html", {
        "certificate": issued, "registration": registration, "event": registration.event,
        "physician": registration.physician, "talk": issued.viewing.talk,
        "own": not organizes(request.user, registration.event),
    })


def _may_see(request: HttpRequest, registration: Registration) -> bool:
    if organizes(request.user, registration.event):
        return True
    admitted = joinlinks.admitted_registration(request.COOKIES, registration.event)
    return admitted is not None and admitted.pk == registration.pk


def _unavailable(request: HttpRequest) -> HttpResponse:
    return render(request, "campaigns/certificate_unavailable.html", {"path": request.get_full_path()}, status=404)
