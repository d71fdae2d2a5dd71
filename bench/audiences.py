"""How fast an audience's sizes are counted (the audience page and the list): 50,000 contacts of one organization.

    python -m bench.audiences [--contacts 50000] [--runs 5]

Needs PostgreSQL on 127.0.0.1 (DATABASE_URL picks the server). Creates its own
database renkei_bench_aud_<pid> (``bench.dashboard.in_scratch_database``), seeds
contacts with SQL over the 47 prefectures (a quarter without consent, one in 37
opted out, five specialties, three facility types), times
campaigns.audiences.audience_map for three audiences after one warm-up call,
prints the times and query counts, and drops the database.
"""

from __future__ import annotations

import argparse
import sys
import time
from functools import partial

from bench.dashboard import in_scratch_database, summary, timed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    return in_scratch_database("renkei_bench_aud", lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from campaigns.audiences import audience_map
    from campaigns.models import Audience, Organization
    from regions.models import Region

    call_command("migrate", verbosity=0)
    organization = Organization.objects.create(slug="bench", name="bench", postal_address="bench",
                                               contact_email="bench@example.jp")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO campaigns_contact (organization_id, email, full_name, name_kana, prefecture_id, facility_name,
                                           facility_type, specialty, consent_date, consent_source, created_at,
                                           updated_at)
            SELECT %s, 'd' || i || '@example.jp', '医師 ' || i, '', lpad(((i %% 47) + 1)::text, 2, '0'), '',
                   (ARRAY['hospital', 'clinic', 'other'])[(i %% 3) + 1],
                   (ARRAY['internal_medicine', 'cardiology', 'surgery', 'pediatrics', ''])[(i %% 5) + 1],
                   CASE WHEN i %% 4 = 0 THEN NULL ELSE DATE '2026-04-01' END,
                   CASE WHEN i %% 4 = 0 THEN '' ELSE 'web' END, now(), now()
            FROM generate_series(1, %s) AS i""", [organization.pk, args.contacts])
        cursor.execute("""
            INSERT INTO campaigns_optout (organization_id, email, created_at, source)
            SELECT %s, 'd' || i || '@example.jp', now(), 'link' FROM generate_series(1, %s, 37) AS i""",
                       [organization.pk, args.contacts])
        cursor.execute("ANALYZE")
    print(f"seeded {args.contacts:,} contacts in {time.perf_counter() - started:.1f} s")

    everyone = Audience.objects.create(organization=organization, name="everyone")
    narrow = Audience.objects.create(organization=organization, name="Tohoku+Kanto internal medicine",
                                     specialties=["internal_medicine"])
    narrow.regions.set(Region.objects.filter(key__in=["tohoku", "kanto"]))
    shortage = Audience.objects.create(organization=organization, name="shortage prefectures, hospitals",
                                       shortage_only=True, facility_types=["hospital"])
    for audience in (everyone, narrow, shortage):
        sizes, times, queries = timed(partial(audience_map, audience), args.runs)
        print(f"{audience.name}: targeted {sizes.total.targeted:,}, sendable {sizes.total.sendable:,}; "
              f"{len(queries)} queries; ms per call: {summary(times)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
