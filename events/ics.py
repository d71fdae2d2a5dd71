"""The .ics calendar file attached to confirmation mails: one event per talk."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from icalendar import Calendar
from icalendar import Event as CalendarEvent

from .models import Registration


def registration_calendar(registration: Registration, join_link: str) -> bytes:
    cal = Calendar()
    cal.add("prodid", "-//Renkei//renkei//JA")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    host = settings.SITE_URL.split("://", 1)[-1].split("/", 1)[0].split(":", 1)[0]
    for talk in registration.event.talks.all():
        item = CalendarEvent()
        # Stable per talk, so a re-sent file updates the entry instead of adding one.
        item.add("uid", f"talk-{talk.pk}@{host}")
        item.add("dtstamp", timezone.now())
        item.add("dtstart", talk.starts_at)
        item.add("dtend", talk.ends_at)
        item.add("summary", f"{talk.title} ({registration.event.title})")
        item.add("description", f"{registration.event.title}\n{talk.title}\n\n{join_link}")
        item.add("url", join_link)
        item.add("location", join_link)
        cal.add_component(item)
    return cal.to_ical()
