"""Organizer-facing pages of the lecture rooms (for now: the attendance log download)."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from events import joinlinks
from events.models import Talk
from events.roles import organizes

from .exports import attendance_csv


@require_GET
def attendance_export(request: HttpRequest, talk_id: int) -> HttpResponse:
    """The talk's 視聴ログ as CSV, for the organizers of its event and nobody else.

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
    return attendance_csv(talk)


def _forbidden() -> HttpResponse:
    return HttpResponseForbidden(
        _("Only the organizers of this event can download its attendance log."),
        content_type="text/plain; charset=utf-8",
    )
