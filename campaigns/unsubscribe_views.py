"""The unsubscribe link of every campaign mail: /unsubscribe/<token>/.

GET shows who is unsubscribing from whom and a button; POST records the
opt-out (source: link) for the delivery's organization and address and says it
is done. Repeating either is harmless: one opt-out per organization and address.

CSRF: this view alone is exempt. Mail clients (Gmail, Outlook, Apple Mail)
send RFC 8058's one-click unsubscribe as a POST with the body
``List-Unsubscribe=One-Click`` from their own servers, with no cookie and no
form token; requiring a token would break the one-click the law and the mail
providers expect. The unguessable token in the address is what authorises the
request, and the only thing a forged POST could do is what the token's owner
can already do: stop their own mail.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from .models import Delivery
from .services import do_unsubscribe


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    delivery = Delivery.objects.select_related("mail__campaign__organization").filter(token=token).first()
    if delivery is None:
        return render(request, "campaigns/unsubscribe_unknown.html", status=404)
    organization = delivery.mail.campaign.organization
    context = {"organization": organization, "email": delivery.email, "token": token}
    if request.method == "POST":
        do_unsubscribe(delivery)
        return render(request, "campaigns/unsubscribed.html", context)
    return render(request, "campaigns/unsubscribe.html", context)
