"""CSV export of a talk's attendance log (視聴ログ) for its event's organizers.

Same conventions as events.exports: UTF-8 with a BOM so that Excel on Japanese
Windows does not read it as Shift_JIS, stable English column names for whoever
loads it into another tool, and every cell a physician typed defused against
formula injection.
"""

from __future__ import annotations

import csv
from datetime import datetime

from django.http import HttpResponse
from django.utils import timezone

from events.models import Talk
from server.spreadsheet import safe_row

from .attendance import attendance_rows

COLUMNS = [
    "full_name", "name_kana", "email", "facility_name", "facility_type", "specialty", "prefecture_code",
    "prefecture", "region", "underserved_prefecture", "first_joined_at", "last_left_at", "minutes_watched",
    "connections", "chat_messages", "questions",
]


def attendance_csv(talk: Talk, now: datetime | None = None) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="attendance-talk-{talk.pk}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(COLUMNS)
    for row in attendance_rows(talk, now=now):
        # Every cell through the one rule for formula-looking text (server.spreadsheet).
        writer.writerow(safe_row(
            [
                row["full_name"],
                row["name_kana"],
                row["email"],
                row["facility_name"],
                row["facility_type"],
                row["specialty"],
                row["prefecture_code"],
                row["prefecture"],
                row["region"],
                "yes" if row["underserved_prefecture"] else "no",
                local_time(row["first_joined_at"]),
                local_time(row["last_left_at"]),
                f"{row['minutes_watched']:.1f}",
                row["connections"],
                row["chat_messages"],
                row["questions"],
            ]
        ))
    return response


def local_time(value: datetime | None) -> str:
    # Local (Japan) time like the registrations export; blank while a connection is still open.
    return timezone.localtime(value).isoformat(timespec="seconds") if value else ""
