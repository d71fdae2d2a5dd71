"""A physician's own data (APPI): see it, download it, have it deleted. Same access rule as their cards page.

The session must have been admitted to the event by the physician's personal
join link (events.joinlinks); the data shown is that physician's across all
their registrations, never the event's or anyone else's.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from events import joinlinks
from events.models import Event, Registration

from . import privacy

# Remembers, in this browser only, that its holder just had their data erased: a second click
# (or a reload) on the confirmation answers "done" again instead of "open your join link".
ERASED = "renkei.erased"


def _admitted(request: HttpRequest, slug: str) -> tuple[Event, Registration | None]:
    event = get_object_or_404(Event, slug=slug, is_published=True)
    return event, joinlinks.admitted_registration(request.COOKIES, event)


def _not_admitted(request: HttpRequest, event: Event) -> HttpResponse:
    return render(request, "events/lobby_closed.html", {"event": event}, status=403)


def my_data(request: HttpRequest, slug: str) -> HttpResponse:
    event, registration = _admitted(request, slug)
    if registration is None:
        return _not_admitted(request, event)
    data = privacy.personal_data(registration.physician)
    return render(request, "campaigns/my_data.html", {"event": event, "data": data, "physician": registration.physician})


def my_data_json(request: HttpRequest, slug: str) -> HttpResponse:
    event, registration = _admitted(request, slug)
    if registration is None:
        return _not_admitted(request, event)
    body = json.dumps(privacy.personal_data(registration.physician), ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="renkei-my-data.json"'
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def delete_my_data(request: HttpRequest, slug: str) -> HttpResponse:
    """GET: what deletion does, and the button; POST (with CSRF): erase, in one transaction."""
    event, registration = _admitted(request, slug)
    if registration is None:
        if request.session.get(ERASED) == event.pk:
            return render(request, "campaigns/my_data_deleted.html", {"event": event})
        return _not_admitted(request, event)
    if request.method == "POST":
        privacy.erase_physician(registration.physician_id)
        request.session[ERASED] = event.pk
        return render(request, "campaigns/my_data_deleted.html", {"event": event})
    return render(request, "campaigns/my_data_delete.html", {"event": event})
