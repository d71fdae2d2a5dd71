"""The admin's ways into a talk's console: staff land on their talks, each talk page links its console.

The console itself (rooms.lecture.pages.console) decides who may open it; these links
are only shown to staff who can see the talk in the admin anyway.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from events.models import Event, Talk
from events.roles import talks_of_staff

register = template.Library()

# A talk stays on the landing list for a day after its end: the reception, its
# report and the attendance log are still run from the console then.
RECENT = timedelta(days=1)
MOST = 10


def talks_to_run(user: Any, now: Any = None) -> list[dict[str, Any]]:
    """The talks ``user`` speaks in or organizes that have not ended (or just did), soonest first."""
    since = (now or timezone.now()) - RECENT
    talks = (talks_of_staff(Talk.objects.all(), user).filter(ends_at__gte=since)
             .select_related("event").order_by("starts_at", "pk").distinct()[:MOST])
    organized = set(Event.objects.values_list("pk", flat=True) if user.is_superuser
                    else Event.objects.filter(organizers=user).values_list("pk", flat=True))
    return [{"talk": talk, "role": _("Organizer") if talk.event_id in organized else _("Speaker")} for talk in talks]


@register.simple_tag
def console_link(talk: Talk) -> SafeString:
    return format_html('<a class="console-link" href="{}">{}</a>', reverse("rooms:console", args=[talk.pk]),
                       _("Open the console"))


@register.inclusion_tag("admin/rooms/staff_talks.html", takes_context=True)
def staff_talks(context: dict[str, Any]) -> dict[str, Any]:
    user = context["request"].user
    return {
        "rows": talks_to_run(user),
        "all_talks": reverse("admin:events_talk_changelist"),
        "labels": {
            "caption": _("Your talks"), "when": _("Starts"), "talk": _("Talk"), "event": _("Event"),
            "role": _("Your role"), "console": _("Console"), "none": _("No upcoming talks."),
            "open": _("Open the console"),
        },
    }
