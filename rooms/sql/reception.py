"""Opening the reception: docs/performance.md, "Receptions: the move and 200 rooms chatting"
(opening in a handful of statements: 2,000 attendees 1.2 → 0.3–0.45 s) and "Receptions,
second pass" (the seats as arrays: 5,000 seats 83 → 21 ms)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from events import sql
from events.models import Physician, Registration
from regions.models import Prefecture, Region

from ..lecture.models import Attendance, LectureRoom
from ..reception.models import CardSettings, Seat
from .columns import q


def connected_guests(talk_id: int, show_specialty_default: bool) -> list[tuple[Any, ...]]:
    """Every physician connected to a lecture room of the talk, one row each (several tabs count once).

    Rows, not model instances: registration id, name, facility type, specialty,
    prefecture code and names (ja, en), region key and names, shows specialty.
    """
    return sql.fetch(
        "SELECT DISTINCT r.id, p.full_name, p.facility_type, p.specialty, f.code, f.name_ja, f.name_en,"
        f" g.{q('key')}, g.name_ja, g.name_en, COALESCE(c.show_specialty, %s)"
        f" FROM {Attendance._meta.db_table} a"
        f" JOIN {LectureRoom._meta.db_table} l ON l.id = a.room_id"
        f" JOIN {Registration._meta.db_table} r ON r.id = a.registration_id"
        f" JOIN {Physician._meta.db_table} p ON p.id = r.physician_id"
        f" JOIN {Prefecture._meta.db_table} f ON f.code = p.prefecture_id"
        f" JOIN {Region._meta.db_table} g ON g.{q('key')} = f.region_id"
        f" LEFT JOIN {CardSettings._meta.db_table} c ON c.physician_id = p.id"
        " WHERE a.talk_id = %s AND a.left_at IS NULL AND l.kind = %s AND r.status = %s ORDER BY r.id",
        [show_specialty_default, talk_id, LectureRoom.Kind.LECTURE, Registration.Status.APPROVED],
    )


def insert_seats(seats: Sequence[Seat]) -> None:
    """PostgreSQL: unsaved seats as one ``INSERT … SELECT unnest(…)``.

    A column whose values differ goes as one array, a column the same for every
    seat as one value: a handful of parameters whatever the count (5,000 seats:
    21 ms against 83 ms as multi-row VALUES, whose parameters the client must quote).
    """
    if not seats:
        return
    fields = [f for f in Seat._meta.concrete_fields if not f.primary_key]
    columns = [[f.get_db_prep_save(getattr(seat, f.attname), connection) for seat in seats] for f in fields]
    varies = [values.count(values[0]) != len(values) for values in columns]
    if not any(varies):
        varies = [True] * len(fields)
    selected = ", ".join(f"unnest(%s::{f.db_type(connection)}[])" if v else "%s" for f, v in zip(fields, varies, strict=True))
    params = [values if v else values[0] for values, v in zip(columns, varies, strict=True)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {q(Seat._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) SELECT {selected}",
            params,
        )
