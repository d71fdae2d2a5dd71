"""The organizers' page of a talk's lecture: the attendance log (視聴ログ) as CSV, behind the organizer check
that the reception's report (rooms.reception.views) uses too."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from events import joinlinks
from events.models import Talk
from events.roles import organizes

from .exports import attendance_csv
from .pages import unavailable


@require_GET
def attendance_export(request: HttpRequest, talk_id: int) -> HttpResponse:
    """The talk's 視聴ログ as CSV, for the organizers of its event and nobody else."""
    talk = organized_talk(request, talk_id)
    return talk if isinstance(talk, HttpResponse) else attendance_csv(talk)


def organized_talk(request: HttpRequest, talk_id: int) -> Talk | HttpResponse:
    """The talk, if the signed-in user organizes its event; else the sign-in page or 403.

    Someone not signed in at all is sent to the admin sign-in and back, and a
    physician (admitted by join link, never a Django user) gets 403, both before
    the talk is looked up. A signed-in user who may not see the talk gets the
    same answer as for a talk that does not exist (rooms.lecture.pages.unavailable), so
    nobody can tell which talk ids exist; the talk's speakers, who may see it,
    are told that this page is the organizers'.
    """
    user = request.user
    if not user.is_authenticated:
        if joinlinks.has_admissions(request.COOKIES):
            return _forbidden()
        return redirect_to_login(request.get_full_path(), login_url=reverse("admin:login"))
    talk = Talk.objects.select_related("event").filter(pk=talk_id).first()
    if talk is None:
        return unavailable(request)
    if not organizes(user, talk.event):
        return _forbidden() if talk.speakers.filter(pk=user.pk).exists() else unavailable(request)
    return talk


def _forbidden() -> HttpResponse:
    return HttpResponseForbidden(
        _("Only the organizers of this event can see this."),
        content_type="text/plain; charset=utf-8",
    )
