"""One campaign's numbers: from the addresses it targeted to the cards its registrants exchanged.

The funnel has two halves, both counted in the database and grouped by
prefecture, in five queries whatever the list size (``campaign_dashboard``):

1. the event's talks with their stage;
2. the prefectures with their region (reference data);
3. the mail half, one row per prefecture and yes/no facts, over *addresses*;
4. the registration half, one row per prefecture, day and yes/no facts, over *registrations*
   (campaigns.analytics.funnel_by_prefecture, the event dashboard's own query), which
   also gives the campaign's registrations per day;
5. the event's registrations by source.

Definitions:

- **targeted**: distinct addresses with a Delivery row of the campaign's
  invitation or invitation-reminder mails (the recipients fixed when sending
  started), in the prefecture recorded then (the lowest code, should two of
  an address's rows differ);
- **mailed**: of those, addresses at least one of whose deliveries was sent;
- **clicked**: of those, addresses that opened their personal link at least
  once (``first_clicked_at``);
- **registered**: the event's counted registrations (not cancelled or
  rejected) that are attributed to the campaign (its tracking link, or a
  public link whose ``utm_campaign`` is the campaign's slug) *or* whose
  address was targeted — somebody who read the mail and typed the event's
  address still came through it; in the physician's prefecture;
- **attended**, **reception**, **cards**: as on the event dashboard, of those
  registrations (``campaigns.analytics``).

Each half is strict (a stage counts only who reached every stage before it).
The halves are joined by the registration rate, which is of the addresses
*mailed*, not of those who clicked: not every registrant clicked, so
registered ÷ clicked could pass 100 %. It can still pass 100 % in a
prefecture where the campaign's public links brought physicians who were
not on the list.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection
from django.db.models import (BooleanField, Case, Count, ExpressionWrapper, IntegerField, Max, Min, Q, QuerySet,
                              Value, When)
from django.utils.translation import gettext as _

from events.models import Registration, Talk
from regions.models import Prefecture

from .analytics import (CAMPAIGN_STAGES, COUNTED, DEFAULT_MIN_MINUTES, Dashboard, FunnelRow, assemble, daily,
                        funnel_by_prefecture, shortage_codes)
from .models import Campaign, CampaignMail, Delivery

# The mails whose recipients are the campaign's target: the invitation and its reminders.
INVITATION_KINDS = (CampaignMail.Kind.INVITATION, CampaignMail.Kind.REMINDER)
MAIL_STAGES = ("targeted", "mailed", "clicked")


@dataclass(frozen=True)
class Source:
    """Where a group of the event's registrations came from, and how many."""

    kind: str  # "campaign" (this campaign's mail), "other_mail" (another campaign's), "utm" or "none"
    value: str
    count: int

    def label(self) -> str:
        if self.kind == "campaign":
            return _("This campaign's mail")
        if self.kind == "other_mail":
            return _("Another campaign's mail")
        if self.kind == "utm":
            return _("Link tagged utm_source=%(source)s") % {"source": self.value}
        return _("No campaign or tag")


@dataclass
class CampaignDashboard(Dashboard):
    """What the campaign dashboard shows and its downloads export."""

    # Physician-shortage prefectures together, then the rest.
    comparison: list[FunnelRow] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)


def campaign_registrations(campaign: Campaign) -> QuerySet[Registration]:
    """The event's counted registrations that the campaign brought (see "registered" above)."""
    return Registration.objects.filter(event_id=campaign.event_id, status__in=COUNTED).filter(
        Q(attribution__campaign=campaign) | Q(physician__email__in=_targeted(campaign).values("email"))
    )


def campaign_dashboard(campaign: Campaign, min_minutes: int = DEFAULT_MIN_MINUTES,
                       now: datetime | None = None) -> CampaignDashboard:
    """The campaign's funnel by prefecture and region, over time, by source: five queries."""
    event = campaign.event
    talks = list(Talk.objects.filter(event=event).select_related("stage"))
    prefectures = list(Prefecture.objects.select_related("region").order_by("code"))
    registrations = campaign_registrations(campaign)
    by_code = _mail_funnel(campaign)
    funnel, per_day = funnel_by_prefecture(event, talks, min_minutes, now, registrations)
    for code, counts in funnel.items():
        by_code[code].update(counts)
    rows, regions, total = assemble(prefectures, by_code, CAMPAIGN_STAGES)
    return CampaignDashboard(
        min_minutes=min_minutes, prefectures=rows, regions=regions, total=total, daily=daily(per_day, shortage_codes(prefectures)),
        stages=CAMPAIGN_STAGES, comparison=_shortage_and_rest(rows), sources=_sources(campaign),
    )


def _targeted(campaign: Campaign) -> QuerySet[Delivery]:
    return Delivery.objects.filter(mail__campaign=campaign, mail__kind__in=INVITATION_KINDS)


def _mail_funnel(campaign: Campaign) -> dict[str, dict[str, int]]:
    """``{prefecture code: {targeted, mailed, clicked}}``, addresses counted once, in one query.

    The inner query folds an address's deliveries (invitation and reminders)
    into one row of yes/no facts; the outer one counts those rows per
    prefecture and facts: at most 47 × 4 rows come back.
    """
    per_address = (
        _targeted(campaign).order_by().values("email").annotate(
            pref=Min("prefecture_id"),
            sent=Max(Case(When(status=Delivery.Status.SENT, then=Value(1)), default=Value(0),
                          output_field=IntegerField())),
            opened=Max(Case(When(first_clicked_at__isnull=False, then=Value(1)), default=Value(0),
                            output_field=IntegerField())),
        )
    )
    inner, params = per_address.query.sql_with_params()
    funnel: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(CAMPAIGN_STAGES, 0))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pref, sent, opened, COUNT(*) FROM ({inner}) AS per_address "
                       "GROUP BY pref, sent, opened", params)
        for code, sent, opened, n in cursor.fetchall():
            counts = funnel[code]
            for stage, reached in zip(MAIL_STAGES, (True, bool(sent), bool(opened)), strict=True):
                if not reached:
                    break
                counts[stage] += n
    return funnel


def _shortage_and_rest(rows: list[FunnelRow]) -> list[FunnelRow]:
    shortage = FunnelRow(key="shortage", name_ja="医師少数都道府県", name_en="Physician-shortage prefectures",
                         shortage=True, physicians=0.0, stages=CAMPAIGN_STAGES)
    rest = FunnelRow(key="rest", name_ja="その他の都道府県", name_en="Other prefectures", shortage=False,
                     physicians=0.0, stages=CAMPAIGN_STAGES)
    for row in rows:
        (shortage if row.shortage else rest).add(row)
    return [shortage, rest]


def _sources(campaign: Campaign) -> list[Source]:
    """The event's counted registrations by where they came from, most first, "none" last."""
    grouped = (
        Registration.objects.filter(event_id=campaign.event_id, status__in=COUNTED).order_by()
        .annotate(by_mail=ExpressionWrapper(Q(attribution__delivery__isnull=False), output_field=BooleanField()))
        .values("by_mail", "attribution__campaign_id", "attribution__utm_source")
        .annotate(n=Count("pk"))
    )
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for row in grouped:
        if row["by_mail"]:
            kind = "campaign" if row["attribution__campaign_id"] == campaign.pk else "other_mail"
            totals[(kind, "")] += row["n"]
        elif row["attribution__utm_source"]:
            totals[("utm", row["attribution__utm_source"])] += row["n"]
        else:
            totals[("none", "")] += row["n"]
    sources = [Source(kind, value, n) for (kind, value), n in totals.items()]
    return sorted(sources, key=lambda source: (source.kind == "none", -source.count, source.value))
