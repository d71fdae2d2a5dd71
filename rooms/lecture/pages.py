"""The lecture room page, the speaker console and the slides file, each behind its access check."""

from __future__ import annotations

from io import BytesIO

from django.contrib.auth.views import redirect_to_login
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseForbidden,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from events.models import Talk
from events.roles import organizes
from server.security import allow_stream

from ..participants import NotAdmitted, NotSignedIn, Participant, identify
from ..realtime.protocol import actions_for
from . import stage as stages

MAX_SLIDES_BYTES = 50 * 1024 * 1024


def _participant(request: HttpRequest, talk: Talk | None) -> Participant | None:
    try:
        return identify({"user": request.user, "session": request.session, "cookies": request.COOKIES}, talk)
    except (NotSignedIn, NotAdmitted):
        return None


def _talk(talk_id: int) -> Talk | None:
    """The talk, or None: callers answer a missing talk exactly like one the visitor may not see."""
    return Talk.objects.select_related("event").filter(pk=talk_id).first()


def unavailable(request: HttpRequest) -> HttpResponse:
    """The one answer for a talk that does not exist and a talk the visitor may not see.

    Answering 404 for one and 403 for the other let anyone list which talk ids
    exist (and the old 403 page even named the event). Like a private repository
    on a code host, the talk is simply not there for whoever may not see it;
    the page says how a physician or a speaker gets in.
    """
    return render(request, "rooms/unavailable.html", {"path": request.get_full_path()}, status=404)


def lecture(request: HttpRequest, talk_id: int) -> HttpResponse:
    talk = _talk(talk_id)
    participant = _participant(request, talk)
    if talk is None or participant is None:
        return unavailable(request)
    stage = stages.get_or_create_stage(talk)
    next_talk = talk.event.talks.filter(starts_at__gt=talk.starts_at).first()
    return allow_stream(render(request, "rooms/lecture.html", {
        "talk": talk, "stage": stage, "participant": participant, "next_talk": next_talk, "console": False,
    }), [talk.stream_url])


def console(request: HttpRequest, talk_id: int) -> HttpResponse:
    if not request.user.is_authenticated:  # before the lookup: the sign-in page for every id alike
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    talk = _talk(talk_id)
    participant = _participant(request, talk)
    if talk is None or participant is None or not participant.is_staff:
        return unavailable(request)
    stage = stages.get_or_create_stage(talk)
    return allow_stream(render(request, "rooms/lecture.html", {
        "talk": talk, "stage": stage, "participant": participant, "next_talk": None, "console": True,
        "can_approve": organizes(request.user, talk.event),
        # The controls shown are the socket actions this role may send (one registry, rooms.realtime.protocol).
        "actions": set(actions_for(participant.role)),
    }), [talk.stream_url])


def slides(request: HttpRequest, talk_id: int) -> HttpResponse:
    """The PDF for pdf.js: approved slides to the talk's audience, any version to its staff."""
    talk = _talk(talk_id)
    participant = _participant(request, talk)
    if talk is None or participant is None:
        return unavailable(request)
    stage = stages.get_or_create_stage(talk)
    if not stage.slides or not (stage.slides_approved or participant.is_staff):
        raise Http404
    response = FileResponse(stage.slides.open("rb"), content_type="application/pdf")
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def upload_slides(request: HttpRequest, talk_id: int) -> HttpResponse:
    talk = _talk(talk_id)
    participant = _participant(request, talk)
    if talk is None or participant is None:
        return unavailable(request)
    if not participant.is_staff:
        return HttpResponseForbidden()
    upload = request.FILES.get("slides")
    error = _check_pdf(upload)
    if error:
        return render(request, "rooms/slides_error.html", {"talk": talk, "error": error}, status=400)
    data = upload.read()
    pages = len(PdfReader(BytesIO(data)).pages)
    stages.replace_slides(talk, upload.name, data, pages)
    return redirect("rooms:console", talk_id=talk.pk)


def _check_pdf(upload) -> str:
    from django.utils.translation import gettext as _

    if upload is None:
        return _("Choose a PDF file to upload.")
    if upload.size > MAX_SLIDES_BYTES:
        return _("The file is larger than 50 MB.")
    head = upload.read(5)
    upload.seek(0)
    if head != b"%PDF-":
        return _("This file is not a PDF.")
    try:
        pages = len(PdfReader(upload).pages)
    except (PdfReadError, ValueError, OSError):
        return _("This PDF could not be read. Please export it again and retry.")
    finally:
        upload.seek(0)
    if pages == 0:
        return _("This PDF has no pages.")
    return ""


@require_POST
def approve_slides(request: HttpRequest, talk_id: int) -> HttpResponse:
    talk = _talk(talk_id)
    participant = _participant(request, talk)
    if talk is None or participant is None:
        return unavailable(request)
    if participant.role != "organizer":  # a speaker or attendee may see the talk, not approve its slides
        return HttpResponseForbidden()
    stages.approve_slides(talk, request.user)
    return redirect("rooms:console", talk_id=talk.pk)


