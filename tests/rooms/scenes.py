"""Ready-made reception scenes for page and view tests."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from events import joinlinks
from events.models import Registration
from regions.models import Prefecture
from rooms.models import Attendance, LectureRoom, Reception
from rooms.reception.opening import open_reception
from tests.factories import make_event, make_staff, make_talk, register


def reception_scene() -> dict[str, Any]:
    """A talk that ended 10 minutes ago, its reception open with one table of three (a clinic and a hospital doctor)."""
    event = make_event(title="東北 肺がん Web講演会")
    talk = make_talk(event, starts_in=timedelta(minutes=-70), minutes=60)
    Reception.objects.create(talk=talk, room_size=3)
    room = LectureRoom.objects.create(talk=talk, key="all", name_ja="全員", name_en="Everyone")
    iwate = Prefecture.objects.get(code="03")
    miyagi = Prefecture.objects.get(code="04")
    clinic = register(event, full_name="岩手 診療所", prefecture=iwate, facility_type="clinic")
    hospital = register(event, full_name="宮城 病院", prefecture=miyagi, facility_type="hospital")
    third = register(event, full_name="岩手 三人目", prefecture=iwate)
    for r in (clinic, hospital, third):
        Attendance.objects.create(talk=talk, registration=r, room=room, joined_at=timezone.now())
    opening = open_reception(talk)
    assert opening is not None and len(opening.rooms) == 1
    organizer = make_staff("org", "organizer")
    event.organizers.add(organizer)
    return {"event": event, "talk": talk, "clinic": clinic, "hospital": hospital, "organizer": organizer,
            "room": opening.rooms[0]}


def as_physician(client: Any, registration: Registration) -> None:
    """Sign the test client in as a physician, as their join link does: its admission cookie."""
    client.cookies[joinlinks.cookie_name(registration.event_id)] = joinlinks.make_token(registration)
