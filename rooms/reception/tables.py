"""The reception's tables as they stand: the reception row, its rooms, who sits at each and who may read a table's chat."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from events.models import Registration, Talk

from .. import frames
from ..lecture.models import LectureRoom
from ..profiles import Profile
from .models import Reception, ReceptionTable, Seat


def get_or_create_reception(talk: Talk) -> Reception:
    reception, _ = Reception.objects.get_or_create(talk=talk)
    return reception


def reception_or_none(talk: Talk) -> Reception | None:
    """The talk's reception settings, or None when it has none (not created)."""
    try:
        return talk.reception
    except Reception.DoesNotExist:
        return None


def table_profile(registration: Registration) -> dict[str, Any]:
    """What the people at a reception table see of a physician: the chat's profile, plus the
    specialty when they agreed to show it (CardSettings.show_specialty)."""
    return frames.profile(Profile.of(registration, at_table=True))


def social_rooms(talk: Talk) -> list[ReceptionTable]:
    return list(
        ReceptionTable.objects.filter(talk=talk)
        .annotate(seated=Count("seats", filter=Q(seats__left_at__isnull=True)))
        .order_by("id")
    )


def members_of(room: LectureRoom) -> list[dict[str, Any]]:
    seats = Seat.objects.filter(room=room, left_at__isnull=True).select_related(
        "registration__physician__prefecture", "registration__physician__card_settings"
    )
    return [table_profile(s.registration) for s in seats]


def may_read(room: LectureRoom, registration: Registration | None) -> bool:
    """Social-room chat is for the people who sat there (also after the reception closed)."""
    if not room.is_table:
        return True
    return registration is not None and Seat.objects.filter(room=room, registration=registration).exists()
