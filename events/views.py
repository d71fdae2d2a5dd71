"""Physician-facing pages: event, registration, join link and lobby."""

from __future__ import annotations

import logging
import math
from datetime import timedelta

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from server import ratelimits

from . import joinlinks, services, signals
from .forms import RegistrationForm, prefecture_choices
from .models import Event, Registration

logger = logging.getLogger(__name__)

# What the "check your e-mail" page may show: the event and the address typed, nothing
# that depends on whether that address was registered before.
LAST_REGISTRATION = "renkei.last_registration"


def _published(slug: str) -> Event:
    return get_object_or_404(Event.objects.prefetch_related("talks", "target_regions"), slug=slug, is_published=True)


def home(request: HttpRequest) -> HttpResponse:
    events = Event.objects.filter(is_published=True).prefetch_related("talks", "target_regions")
    return render(request, "events/home.html", {"events": events, "now": timezone.now()})


def event_detail(request: HttpRequest, slug: str) -> HttpResponse:
    event = _published(slug)
    return render(request, "events/event_detail.html", {"event": event, "state": event.registration_state()})


def register(request: HttpRequest, slug: str) -> HttpResponse:
    event = _published(slug)
    state = event.registration_state()
    context = {"event": event, "state": state, "prefecture_choices": prefecture_choices()}
    if state != "open":
        return render(request, "events/register.html", context, status=200)
    full = event.is_full()
    wait: float | None = None
    if request.method == "POST":
        form = RegistrationForm(request.POST)
        if form.is_valid():
            email = form.cleaned_data["email"]
            wait = _registration_wait(request, email)
        if form.is_valid() and wait is None:
            sent = True
            try:
                registration = services.register_physician(
                    event,
                    form.details(),
                    language=request.LANGUAGE_CODE,
                    join_waitlist=form.cleaned_data["join_waitlist"],
                )
                _announce(registration, request)
            except services.AlreadyRegistered as exc:
                # Answered exactly as a new registration is (below), so the page tells nobody
                # which addresses are registered; the address's owner gets a mail instead.
                services.mail_existing_registrant(exc.registration)
            except services.EventFull:
                # Filled up while the form was open: offer the wait-list explicitly.
                data = request.POST.copy()
                data["join_waitlist"] = "on"
                form = RegistrationForm(data)
                full = True
                sent = False
            except services.RegistrationNotOpen as exc:
                context["state"] = exc.state
                return render(request, "events/register.html", context)
            if sent:
                request.session[LAST_REGISTRATION] = {"event": event.pk, "email": email}
                return redirect("events:registered", slug=event.slug)
    else:
        form = RegistrationForm(initial={"join_waitlist": full})
    context.update({"form": form, "full": full})
    if wait is not None:
        # Too many attempts: nothing written or mailed; the form keeps what was typed.
        context["retry_at"] = timezone.now() + timedelta(seconds=math.ceil(wait))
        response = render(request, "events/register.html", context, status=429)
        response["Retry-After"] = str(math.ceil(wait))
        return response
    return render(request, "events/register.html", context, status=400 if form.errors else 200)


def _announce(registration: Registration, request: HttpRequest) -> None:
    """Tell listeners (campaigns: attribution) of the committed registration.

    Their errors are logged, never turned into the registrant's error page: the registration stands.
    """
    for _receiver, error in signals.registration_created.send_robust(
            sender=Registration, registration=registration, request=request):
        if isinstance(error, Exception):
            logger.error("registration_created listener failed", exc_info=error)


def _registration_wait(request: HttpRequest, email: str) -> float | None:
    """Seconds to wait when this visitor's address or the typed e-mail has registered too often, else None.

    Counted for new and registered addresses alike, so the limit reveals nothing either.
    """
    wait = ratelimits.hit(
        ratelimits.parse(settings.REGISTRATION_RATE_PER_ADDRESS), "register.address", ratelimits.client_address(request)
    )
    if wait is None:
        wait = ratelimits.hit(ratelimits.parse(settings.REGISTRATION_RATE_PER_EMAIL), "register.email", email)
    return wait


def registered(request: HttpRequest, slug: str) -> HttpResponse:
    event = _published(slug)
    sent = request.session.get(LAST_REGISTRATION)
    if not isinstance(sent, dict) or sent.get("event") != event.pk:
        return redirect("events:event", slug=event.slug)
    return render(request, "events/registered.html", {"event": event, "email": sent["email"]})


ERROR_STATUS = {"forged": 404, "revoked": 410, "expired": 410}


@never_cache  # its error pages too: the link in the address is personal
def join(request: HttpRequest, token: str) -> HttpResponse:
    try:
        registration = joinlinks.resolve_token(token)
    except joinlinks.JoinLinkError as exc:
        event = exc.registration.event if exc.registration else None
        return render(
            request,
            "events/join_error.html",
            {"reason": exc.reason, "event": event},
            status=ERROR_STATUS.get(exc.reason, 403),
        )
    return joinlinks.entrance(registration)  # the token itself, in a cookie (events.joinlinks)


def lobby(request: HttpRequest, slug: str) -> HttpResponse:
    event = _published(slug)
    registration = joinlinks.admitted_registration(request.COOKIES, event)
    if registration is None:
        return render(request, "events/lobby_closed.html", {"event": event}, status=403)
    talks = list(event.talks.all())
    now = timezone.now()
    next_talk = next((talk for talk in talks if talk.ends_at > now), None)
    return render(
        request,
        "events/lobby.html",
        {"event": event, "registration": registration, "talks": talks, "next_talk": next_talk, "now": now},
    )


@require_POST
def cancel(request: HttpRequest, slug: str) -> HttpResponse:
    event = _published(slug)
    registration = joinlinks.admitted_registration(request.COOKIES, event)
    if registration is None:
        raise Http404
    services.cancel_registration(registration)
    return render(request, "events/cancelled.html", {"event": event})


def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "events/privacy.html", {"version": services.PRIVACY_NOTICE_VERSION})
