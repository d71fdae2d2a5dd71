"""The staff landing's list of the events one organizes, each with its regional dashboard.

The dashboard itself (campaigns.dashboard_views) decides who may open it;
the list shows only events the user organizes (all of them to superusers).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from events.models import Event

register = template.Library()

MOST = 10


def events_to_review(user: Any) -> list[Event]:
    """The events ``user`` organizes, newest first: their dashboards matter most after the talks."""
    events = Event.objects.all() if user.is_superuser else Event.objects.filter(organizers=user)
    return list(events.order_by("-created_at", "-pk")[:MOST])


@register.inclusion_tag("admin/campaigns/staff_events.html", takes_context=True)
def staff_events(context: dict[str, Any]) -> dict[str, Any]:
    user = context["request"].user
    return {
        "events": events_to_review(user),
        "labels": {"caption": _("Your events"), "event": _("Event"), "open": _("Regional dashboard")},
    }
