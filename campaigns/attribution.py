"""Where a registration came from: the personal tracking link of a campaign mail, or a public link's UTM tags.

What is stored, and where:

- a click on ``/c/<token>/`` adds one to its Delivery's ``clicks`` and sets
  ``first_clicked_at`` the first time, nothing else (no IP address, no
  browser, no time of later clicks);
- the visitor's browser keeps a *touch* per event in one signed cookie,
  ``renkei_touch`` (HttpOnly, SameSite=Lax, seven days; signed with
  SECRET_KEY so it cannot be forged, not encrypted: it holds ids and the
  link's own UTM values, nothing about the visitor). A cookie rather than
  the session: a visit from a mail or an advertisement then writes no
  server-side row for somebody who never registers. The first touch per
  event wins; a later link within the seven days changes nothing;
- when the visitor registers (events.signals.registration_created), the
  touch for that event becomes the registration's Attribution row.

The tracking link's click, not the mail's opening, is what is measured:
Renkei's mails carry no tracking pixel.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core import signing
from django.db.models import F
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from events.models import Registration

from .models import Attribution, Campaign, Delivery

COOKIE = "renkei_touch"
SALT = "campaigns.attribution"
# How long a click or tagged visit is remembered: a physician reads the mail on Monday and
# registers on Thursday. Long enough for that, short enough that an old mail does not claim
# a registration made for other reasons weeks later.
MAX_AGE = 7 * 24 * 60 * 60
# A browser keeps the touches of at most this many events (the cookie stays far below 4 KB).
MAX_EVENTS = 5
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign")
UTM_LENGTH = 100

# Headers browsers send with a speculative fetch (prefetch/prerender): nobody clicked yet.
PREFETCH_HEADERS = (("HTTP_SEC_PURPOSE", "prefetch"), ("HTTP_PURPOSE", "prefetch"), ("HTTP_X_MOZ", "prefetch"),
                    ("HTTP_X_PURPOSE", "preview"))


def is_prefetch(request: HttpRequest) -> bool:
    """A HEAD request or a declared prefetch: a scanner or a browser looking ahead, not a physician's click.

    Only what a request says about itself is checked (cheap, and no list of
    scanners' addresses to keep). Mail-security scanners that follow links
    with a plain GET look like a click and are counted.
    """
    if request.method == "HEAD":
        return True
    return any(marker in request.META.get(header, "").lower() for header, marker in PREFETCH_HEADERS)


def record_click(delivery: Delivery) -> None:
    """One more click, and the first click's time if there was none: one UPDATE, safe under concurrent clicks."""
    Delivery.objects.filter(pk=delivery.pk).update(
        clicks=F("clicks") + 1, first_clicked_at=Coalesce(F("first_clicked_at"), timezone.now()))


def touches(request: HttpRequest) -> dict[str, dict[str, Any]]:
    """The visitor's remembered touches, ``{event slug: touch}``; {} when none, expired or forged."""
    value = request.COOKIES.get(COOKIE)
    if not value:
        return {}
    try:
        data = signing.loads(value, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return {}
    if not isinstance(data, dict):
        return {}
    oldest = time.time() - MAX_AGE
    return {slug: touch for slug, touch in data.items()
            if isinstance(touch, dict) and isinstance(touch.get("t"), int | float) and touch["t"] >= oldest}


def remember(request: HttpRequest, response: HttpResponse, event_slug: str, touch: dict[str, Any]) -> None:
    """Keep ``touch`` for the event on the visitor's browser, unless an earlier touch for it is kept."""
    kept = touches(request)
    if event_slug in kept:
        return
    kept[event_slug] = {**touch, "t": int(time.time())}
    newest = dict(sorted(kept.items(), key=lambda item: item[1]["t"])[-MAX_EVENTS:])
    response.set_cookie(COOKIE, signing.dumps(newest, salt=SALT, compress=True), max_age=MAX_AGE,
                        httponly=True, samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)


def utm_values(request: HttpRequest) -> dict[str, str]:
    """The request's UTM tags, trimmed to what Attribution keeps; {} when it has none."""
    values = {name: request.GET.get(name, "").strip()[:UTM_LENGTH] for name in UTM_FIELDS}
    return values if any(values.values()) else {}


class UtmMiddleware:
    """Remembers the UTM tags of a visit to an event's public page or registration form.

    A middleware, so the events app stays unaware of campaigns: it looks at
    the resolved view, and sets the cookie on a successful GET only.
    """

    VIEWS = ("events:event", "events:register")

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if (request.method == "GET" and response.status_code == 200 and match is not None
                and match.view_name in self.VIEWS and (tags := utm_values(request))):
            remember(request, response, match.kwargs["slug"], {"utm": tags})
        return response


def attribute(registration: Registration, request: HttpRequest) -> Attribution | None:
    """Write the registration's Attribution from the visitor's touch for its event, if there is one.

    A registration that already has one (cancelled, then registered again)
    keeps it. A tracking link gives its delivery and campaign; a tag
    ``utm_campaign`` gives the campaign of the event's organization with that
    slug, or no campaign (the tags are kept all the same).
    """
    event = registration.event
    touch = touches(request).get(event.slug)
    if touch is None:
        return None
    utm = touch.get("utm") if isinstance(touch.get("utm"), dict) else {}
    fields: dict[str, Any] = {name: str(utm.get(name, ""))[:UTM_LENGTH] for name in UTM_FIELDS}
    delivery = None
    if isinstance(touch.get("d"), int):
        delivery = Delivery.objects.filter(pk=touch["d"], mail__campaign__event=event).select_related("mail").first()
    if delivery is not None:
        fields.update(delivery=delivery, campaign_id=delivery.mail.campaign_id)
    elif fields["utm_campaign"]:
        fields["campaign"] = Campaign.objects.filter(organization_id=event.organization_id,
                                                     slug=fields["utm_campaign"]).first()
    attribution, _created = Attribution.objects.get_or_create(registration=registration, defaults=fields)
    return attribution


def on_registration_created(sender: Any, registration: Registration, request: HttpRequest, **kwargs: Any) -> None:
    attribute(registration, request)
