"""How fast a campaign's dashboard numbers are: bench.dashboard's event, plus a campaign mailed to twice its registrants.

    python -m bench.campaign_dashboard [--registrations 50000] [--rows-each 20] [--runs 5]

Runs bench.dashboard (same options, same throw-away database: its event, its
registrations and attendance, and its own timing of the event dashboard),
then adds a campaign by SQL: an invitation to 2 × registrations addresses
(the registrants' own and as many more), 1 in 20 failed, 1 in 4 clicked, a
reminder to a third of them, and an Attribution for every fifth
registration. Times campaigns.campaign_analytics.campaign_dashboard after one
warm-up call and prints the times and the query count.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench.dashboard import report_timed


def main() -> int:
    from bench import dashboard

    seed_event = dashboard._run

    def run(args: argparse.Namespace) -> int:
        status = seed_event(args)  # the event, its registrations and attendance; times the event dashboard
        return status or _campaign(args)

    dashboard._run = run
    return dashboard.main()


def _campaign(args: argparse.Namespace) -> int:
    from django.db import connection

    from campaigns.campaign_analytics import campaign_dashboard
    from campaigns.models import Audience, Campaign, CampaignMail
    from events.models import Event

    event = Event.objects.get(slug="bench")
    audience = Audience.objects.create(organization=event.organization, name="bench")
    campaign = Campaign.objects.create(event=event, audience=audience, name="bench", slug="bench")
    invitation, reminder = (CampaignMail.objects.create(campaign=campaign, kind=kind, subject="s", body="b")
                            for kind in (CampaignMail.Kind.INVITATION, CampaignMail.Kind.REMINDER))
    addresses = 2 * args.registrations
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for mail, every in ((invitation, 1), (reminder, 3)):
            cursor.execute("""
                INSERT INTO campaigns_delivery (mail_id, email, prefecture_id, token, status, sent_at, error,
                                                first_clicked_at, clicks)
                SELECT %s, 'bench' || i || '@example.jp', lpad(((i %% 47) + 1)::text, 2, '0'), md5(%s || '-' || i),
                       CASE WHEN i %% 20 = 0 THEN 'failed' ELSE 'sent' END,
                       CASE WHEN i %% 20 = 0 THEN NULL ELSE now() END, '',
                       CASE WHEN i %% 4 = 0 THEN now() END, CASE WHEN i %% 4 = 0 THEN 1 ELSE 0 END
                FROM generate_series(1, %s) AS i WHERE i %% %s = 0""", [mail.pk, str(mail.pk), addresses, every])
        cursor.execute("""
            INSERT INTO campaigns_attribution (registration_id, campaign_id, delivery_id, utm_source, utm_medium,
                                               utm_campaign, created_at)
            SELECT r.id, %s, d.id, '', '', '', now()
            FROM events_registration r JOIN events_physician p ON p.id = r.physician_id
            JOIN campaigns_delivery d ON d.email = p.email AND d.mail_id = %s
            WHERE r.id %% 5 = 0""", [campaign.pk, invitation.pk])
        cursor.execute("ANALYZE")
    print(f"seeded a campaign to {addresses:,} addresses in {time.perf_counter() - started:.1f} s")

    result = report_timed("campaign_dashboard", lambda: campaign_dashboard(campaign), args)
    total = result.total
    print("funnel: " + ", ".join(f"{stage} {getattr(total, stage):,}" for stage in result.stages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
