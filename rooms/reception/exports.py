"""CSV export of a reception's seating for its event's organizers (same conventions as the attendance export)."""

from __future__ import annotations

import csv

from django.http import HttpResponse
from django.utils import timezone

from events.models import Talk
from server.spreadsheet import safe_row

from ..lecture.exports import local_time
from .models import Reception, Seat

SEAT_COLUMNS = [
    "room_id", "room", "full_name", "facility_type", "specialty", "prefecture_code", "prefecture", "region",
    "placed", "joined_at", "left_at",
]


def seats_csv(talk: Talk) -> HttpResponse:
    """Who sat at which reception table and when; a seat still open counts until the reception closed."""
    reception = Reception.objects.filter(pk=talk.pk).first()
    closes_at = reception.closes_at if reception else None
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="reception-talk-{talk.pk}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(SEAT_COLUMNS)
    seats = Seat.objects.filter(room__talk=talk).select_related(
        "room", "registration__physician__prefecture__region"
    ).order_by("room_id", "joined_at", "id")
    for seat in seats:
        physician = seat.registration.physician
        prefecture = physician.prefecture
        left = seat.left_at or (closes_at if closes_at and closes_at <= timezone.now() else None)
        writer.writerow(safe_row([
            seat.room_id, seat.room.name_ja, physician.full_name, physician.facility_type, physician.specialty,
            prefecture.code, prefecture.name_ja, prefecture.region.name_ja, seat.placed,
            local_time(seat.joined_at), local_time(left),
        ]))
    return response
