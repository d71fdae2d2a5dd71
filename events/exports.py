"""CSV export of registrations for organizers."""

from __future__ import annotations

import csv
from collections.abc import Iterable

from django.http import HttpResponse
from django.utils import timezone

from server.spreadsheet import safe_row

from .models import Registration

COLUMNS = [
    "registered_at", "status", "event", "full_name", "name_kana", "email", "specialty", "facility_name",
    "facility_type", "prefecture_code", "prefecture", "region", "underserved_prefecture",
    "medical_registration_number",
]


def registrations_csv(registrations: Iterable[Registration], filename: str = "registrations.csv") -> HttpResponse:
    # UTF-8 with a BOM: Excel on Japanese Windows otherwise opens it as Shift_JIS.
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(COLUMNS)
    for r in registrations:
        p = r.physician
        # Every cell through the one rule for formula-looking text (server.spreadsheet).
        writer.writerow(safe_row(
            [
                timezone.localtime(r.created_at).isoformat(timespec="seconds"),
                r.status,
                r.event.title,
                p.full_name,
                p.name_kana,
                p.email,
                p.specialty,
                p.facility_name,
                p.facility_type,
                p.prefecture.code,
                p.prefecture.name_ja,
                p.prefecture.region.name_ja,
                "yes" if p.prefecture.is_underserved else "no",
                p.medical_registration_number,
            ]
        ))
    return response

