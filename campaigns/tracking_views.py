"""The personal tracking link of a campaign mail: ``/c/<token>/`` (see campaigns.attribution)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_safe

from . import attribution
from .models import Delivery


@require_safe
def click(request: HttpRequest, token: str) -> HttpResponse:
    """Count the click, remember the campaign for this visit, and go to the event's page (302).

    An unknown token is the ordinary "not found". A HEAD request or a declared
    prefetch is sent on without counting or remembering anything.
    """
    delivery = get_object_or_404(Delivery.objects.select_related("mail__campaign__event"), token=token)
    campaign = delivery.mail.campaign
    response = redirect("events:event", slug=campaign.event.slug)
    if not attribution.is_prefetch(request):
        attribution.record_click(delivery)
        attribution.remember(request, response, campaign.event.slug, {"c": campaign.pk, "d": delivery.pk})
    return response
