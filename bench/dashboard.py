"""How fast the regional dashboard's numbers are on the issue's scale: 50,000 registrations, 1,000,000 attendance rows.

    python -m bench.dashboard [--registrations 50000] [--rows-each 20] [--runs 5]

Needs PostgreSQL on 127.0.0.1 (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres
picks the server). Creates its own database renkei_bench_dash_<pid>, seeds it with SQL
(generate_series: a minute, not an hour of ORM saves), times campaigns.analytics.event_dashboard
a few times after one warm-up run, then every dashboard request (the page and each download) through
the Django test client as a signed-in organizer, prints the times and query counts, and drops the
database (``--keep`` keeps it). It times everything twice: with the seeded never-closed connections
(one registration in seven) still open, then after rooms.lecture.watch_times.seal_finished() has sealed them,
as beat does once the talks have ended for good.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar

T = TypeVar("T")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--registrations", type=int, default=50_000)
    parser.add_argument("--rows-each", type=int, default=20, help="attendance rows per registration (two talks)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--explain", action="store_true", help="print PostgreSQL's plan of each query")
    args = parser.parse_args()

    os.environ.setdefault("ALLOWED_HOSTS", "testserver")  # the Django test client of _time_requests
    return in_scratch_database("renkei_bench_dash", lambda: _run(args))


def in_scratch_database(prefix: str, run: Callable[[], int]) -> int:
    """``run()`` with Django on a new PostgreSQL database ``<prefix>_<pid>``, dropped afterwards whatever happens."""
    from bench.own_database import own_database

    with own_database(f"{prefix}_{os.getpid()}"):
        return run()


def timed(call: Callable[[], T], runs: int) -> tuple[T, list[float], Any]:
    """``call()`` once to warm up (plans, caches), then ``runs`` times: the last result, ms per call, its queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call()
    times = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            result = call()
            times.append((time.perf_counter() - started) * 1000)
    return result, times, queries


def summary(times: list[float]) -> str:
    return f"median {statistics.median(times):.0f}, min {min(times):.0f}, max {max(times):.0f} ({len(times)} runs)"


def _run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from campaigns.analytics import event_dashboard
    from campaigns.models import Organization
    from events.models import Event, Talk
    from rooms.lecture.watch_times import rebuild, seal_finished
    from rooms.models import Attendance, LectureRoom

    call_command("migrate", verbosity=0)
    now = timezone.now()
    organization, _ = Organization.objects.get_or_create(
        slug="bench", defaults={"name": "bench", "postal_address": "bench", "contact_email": "bench@example.jp"})
    event = Event.objects.create(slug="bench", title="bench", organization=organization)
    talks = [Talk.objects.create(event=event, title=f"talk {i}", starts_at=now - timedelta(hours=48 - 24 * i),
                                 ends_at=now - timedelta(hours=47 - 24 * i)) for i in range(2)]
    rooms = [LectureRoom.objects.create(talk=talk, key="all", name_ja="全体", name_en="All") for talk in talks]
    table = LectureRoom.objects.create(talk=talks[0], key="t1", kind="social", name_ja="1", name_en="1")
    n, each = args.registrations, args.rows_each
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO events_physician (email, full_name, name_kana, specialty, facility_name, facility_type,
                                          prefecture_id, medical_registration_number, created_at, updated_at)
            SELECT 'bench' || i || '@example.jp', '医師 ' || i, 'いし', 'internal_medicine', '病院', 'hospital',
                   lpad(((i %% 47) + 1)::text, 2, '0'), '', now(), now()
            FROM generate_series(1, %s) AS i""", [n])
        cursor.execute("""
            INSERT INTO events_registration (event_id, physician_id, status, language, attested_healthcare_professional,
                                             privacy_consent_at, privacy_notice_version, join_nonce, created_at)
            SELECT %s, p.id, CASE WHEN p.id %% 50 = 0 THEN 'cancelled' ELSE 'approved' END, 'ja', true, now(), '1',
                   md5(p.id::text), now() - ((p.id %% 30) || ' days')::interval
            FROM events_physician p""", [event.pk])
        # Each registration: rows_each connections spread over both talks, overlapping and reconnecting.
        cursor.execute("""
            INSERT INTO rooms_attendance (talk_id, registration_id, room_id, joined_at, left_at)
            SELECT CASE WHEN k %% 2 = 0 THEN %s ELSE %s END, r.id, CASE WHEN k %% 2 = 0 THEN %s ELSE %s END,
                   t.starts_at + ((r.id %% 20) + k * 2) * interval '1 minute',
                   CASE WHEN k = 0 AND r.id %% 7 = 0 THEN NULL
                        ELSE t.starts_at + ((r.id %% 20) + k * 2 + 1 + (r.id %% 5)) * interval '1 minute' END
            FROM events_registration r CROSS JOIN generate_series(0, %s - 1) AS k
            JOIN events_talk t ON t.id = CASE WHEN k %% 2 = 0 THEN %s ELSE %s END""",
                       [talks[0].pk, talks[1].pk, rooms[0].pk, rooms[1].pk, each, talks[0].pk, talks[1].pk])
        cursor.execute("""
            INSERT INTO rooms_seat (room_id, registration_id, placed, joined_at)
            SELECT %s, r.id, 'allocated', now() FROM events_registration r WHERE r.id %% 3 = 0""", [table.pk])
        cursor.execute("""
            INSERT INTO rooms_cardexchange (talk_id, room_id, offered_by_id, offered_to_id, state, offered_at,
                                            from_card, to_card)
            SELECT %s, %s, r.id, r.id + 3, 'accepted', now(), '{}', '{}'
            FROM events_registration r WHERE r.id %% 9 = 0 AND r.id + 3 <= (SELECT max(id) FROM events_registration)""",
                       [talks[0].pk, table.pk])
        cursor.execute("SELECT count(*) FROM rooms_attendance")
        rows = cursor.fetchone()[0]
    print(f"seeded {n:,} registrations and {rows:,} attendance rows in {time.perf_counter() - started:.1f} s")
    # Rows written with SQL bypass the attendance writers: build their summary as the migration does.
    started = time.perf_counter()
    pairs = rebuild([talk.pk for talk in talks])
    print(f"rooms.lecture.watch_times.rebuild: {pairs:,} (registration, talk) pairs in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")

    print("-- before sealing: the dashboard merges the never-closed connections itself")
    report_timed("event_dashboard", lambda: event_dashboard(event), args)
    _time_requests(event, args.runs)
    # Both talks ended long ago: beat's rooms.tasks.seal_finished_attendance would have sealed them.
    started = time.perf_counter()
    still_open = Attendance.objects.filter(left_at__isnull=True).count()
    sealed = seal_finished()
    print(f"rooms.lecture.watch_times.seal_finished: {sealed} talks, {still_open:,} open connections sealed "
          f"in {time.perf_counter() - started:.1f} s")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print("-- after sealing, as in production once beat has run")
    dashboard = report_timed("event_dashboard", lambda: event_dashboard(event), args)
    _time_requests(event, args.runs)
    total = dashboard.total
    print(f"funnel: registered {total.registered:,}, attended {total.attended:,}, reception {total.reception:,}, "
          f"cards {total.cards:,}")
    return 0


def report_timed(name: str, call: Callable[[], T], args: argparse.Namespace) -> T:
    """``timed`` with ``args.runs``; print its query count and times (and, with --explain, the plans)."""
    from django.db import connection

    result, times, queries = timed(call, args.runs)
    if args.explain:
        with connection.cursor() as cursor:
            for query in queries:
                cursor.execute("EXPLAIN ANALYZE " + query["sql"])
                print("\n".join(row[0] for row in cursor.fetchall()), end="\n\n")
    print(f"{name}: {len(queries)} queries; ms per call: {summary(times)}")
    return result


def _time_requests(event: object, runs: int) -> None:
    """Every dashboard request as an organizer makes it (page, each download), through the whole Django stack."""
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from campaigns.dashboard_exports import DATASETS

    client = Client()
    # Timed twice (before and after sealing): the second time the organizer already exists.
    organizer = User.objects.filter(username="bench").first() or User.objects.create_superuser(
        "bench", password="bench-only")
    client.force_login(organizer)
    urls = {"page": reverse("dashboard:event", args=[event.slug])}  # type: ignore[attr-defined]
    for dataset in DATASETS:
        for extension in ("csv", "xlsx"):
            urls[f"{dataset}.{extension}"] = reverse("dashboard:event_export",
                                                     args=[event.slug, dataset, extension])  # type: ignore[attr-defined]
    for name, url in urls.items():
        assert client.get(url).status_code == 200, name  # warm-up
        times = []
        for _ in range(runs):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                client.get(url)
                times.append((time.perf_counter() - started) * 1000)
        print(f"GET {name}: {len(queries)} queries; ms: median {statistics.median(times):.0f}, "
              f"max {max(times):.0f}")


if __name__ == "__main__":
    sys.exit(main())
