"""The regional dashboard's numbers for one event: who registered, watched, stayed and met, prefecture by prefecture.

Everything is counted in the database, grouped by prefecture, in a fixed
number of queries whatever the audience size (see ``event_dashboard``):

1. the event's talks with their stage (where still-open connections stop counting);
2. the prefectures with their region (reference data);
3. the funnel, grouped by prefecture and registration day: registered →
   attended → reception → cards, and from the same rows the registrations per
   day, shortage prefectures apart from the rest.

The funnel is strict: each stage counts the registrants who reached it *and*
every stage before it, so the numbers only narrow and each rate (stage ÷ the
stage before) is at most 100 %.

- **registered**: registrations that are not cancelled or rejected (pending
  and wait-listed physicians did sign up, and are part of the reach);
- **attended**: watched at least ``min_minutes`` minutes in total over the
  event's talks. Minutes watched are those of rooms.lecture.attendance — the union of
  the physician's connection intervals per talk, a still-open connection
  counting until the talk ended (or now) — read from the per-pair summary
  its writers keep (ClosedWatchTime) and, for pairs with a connection still
  open, merged in SQL (see ``attended_registrations``);
- **reception**: attended, and took a seat at a reception table;
- **cards**: joined the reception, and exchanged business cards (an accepted
  exchange, offered or received).

Regions and the whole event are the sums of their prefectures: a registration
belongs to exactly one prefecture (the physician's).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.functions import TruncDate
from django.utils import timezone

from events.models import Event, Registration, Talk
from regions.models import Prefecture
from rooms.lecture.attendance import open_until
from rooms.models import Attendance, CardExchange, ClosedWatchTime, Seat, Stage

# "Attended" means watching at least this many minutes unless the organizer sets another threshold:
# long enough to exclude opening the link and leaving, short enough for a 30-minute talk.
DEFAULT_MIN_MINUTES = 10
MAX_MIN_MINUTES = 600

# Registrations that count as "registered": the physician signed up and did not withdraw or get turned down.
COUNTED = (Registration.Status.APPROVED, Registration.Status.PENDING, Registration.Status.WAITLISTED)

STAGES = ("registered", "attended", "reception", "cards")
# A campaign's funnel puts its mail in front: see campaigns.campaign_analytics.
CAMPAIGN_STAGES = ("targeted", "mailed", "clicked", *STAGES)
# A rate is of the stage before, except where the stage before is not a subset: not every
# registrant of a campaign clicked (some type the address), so registration is a share of those mailed.
RATE_BASE = {"registered": "mailed"}


@dataclass
class FunnelRow:
    """The funnel of one prefecture, one region or the whole event."""

    key: str
    name_ja: str
    name_en: str
    shortage: bool | None = None
    targeted: int = 0
    mailed: int = 0
    clicked: int = 0
    registered: int = 0
    attended: int = 0
    reception: int = 0
    cards: int = 0
    # Physicians working in the area (population × physicians per 100,000 ÷ 100,000); None while unknown.
    physicians: float | None = None
    # The stages this row's funnel has: the event's, or a campaign's (CAMPAIGN_STAGES).
    stages: tuple[str, ...] = STAGES

    def add(self, other: FunnelRow) -> None:
        for stage in self.stages:
            setattr(self, stage, getattr(self, stage) + getattr(other, stage))
        if self.physicians is not None:
            self.physicians = None if other.physicians is None else self.physicians + other.physicians

    def rate(self, stage: str) -> float | None:
        """``stage`` as a share (0–1) of the stage before it (or RATE_BASE's); None when that is empty."""
        base = RATE_BASE.get(stage)
        if base not in self.stages:
            position = self.stages.index(stage)
            if position == 0:
                return None
            base = self.stages[position - 1]
        previous = getattr(self, base)
        return getattr(self, stage) / previous if previous else None

    @property
    def attended_rate(self) -> float | None:
        return self.rate("attended")

    @property
    def reception_rate(self) -> float | None:
        return self.rate("reception")

    @property
    def cards_rate(self) -> float | None:
        return self.rate("cards")

    @property
    def reach(self) -> float | None:
        """Registrants per 1,000 physicians of the area; None when its physician count is unknown."""
        return reach_per_1000(self.registered, self.physicians)


@dataclass
class Dashboard:
    """What the dashboard page shows and its downloads export."""

    min_minutes: int
    prefectures: list[FunnelRow]
    regions: list[FunnelRow]
    total: FunnelRow
    # One row per day from the first registration to the last: (day, shortage prefectures, the rest).
    daily: list[tuple[date, int, int]] = field(default_factory=list)
    stages: tuple[str, ...] = STAGES

    @property
    def has_reach(self) -> bool:
        return any(row.physicians is not None for row in self.prefectures)


def physicians_in(prefecture: Prefecture) -> float | None:
    """How many physicians work in ``prefecture``: population × physicians per 100,000 ÷ 100,000.

    The population comes from ``Prefecture.population`` once the reference data
    has it (issue 10 adds it with its source); until then this is None and the
    dashboard leaves reach out rather than guess a population.
    """
    population = getattr(prefecture, "population", None)
    if not population:
        return None
    return float(population) * float(prefecture.physicians_per_100k) / 100_000


def reach_per_1000(registered: int, physicians: float | None) -> float | None:
    """Registrants per 1,000 physicians: a small count in Iwate can be a good reach."""
    if not physicians:
        return None
    return registered * 1000 / physicians


def event_dashboard(event: Event, min_minutes: int = DEFAULT_MIN_MINUTES,
                    now: datetime | None = None) -> Dashboard:
    """The event's funnel by prefecture and region and its registrations per day, in three queries."""
    talks = list(Talk.objects.filter(event=event).select_related("stage"))
    prefectures = list(Prefecture.objects.select_related("region").order_by("code"))
    by_code, per_day = funnel_by_prefecture(event, talks, min_minutes, now)

    prefecture_rows, regions, total = assemble(prefectures, by_code, STAGES)
    return Dashboard(min_minutes=min_minutes, prefectures=prefecture_rows, regions=regions, total=total,
                     daily=daily(per_day, shortage_codes(prefectures)))


def assemble(prefectures: list[Prefecture], by_code: dict[str, dict[str, int]],
             stages: tuple[str, ...]) -> tuple[list[FunnelRow], list[FunnelRow], FunnelRow]:
    """The 47 prefecture rows from ``{code: {stage: count}}``, their regions' sums and the total."""
    rows: list[FunnelRow] = []
    regions: dict[str, FunnelRow] = {}
    for prefecture in prefectures:
        counts = by_code.get(prefecture.code, {})
        row = FunnelRow(
            key=prefecture.code, name_ja=prefecture.name_ja, name_en=prefecture.name_en,
            shortage=prefecture.is_underserved, physicians=physicians_in(prefecture), stages=stages,
            **{stage: counts.get(stage, 0) for stage in stages},
        )
        rows.append(row)
        region = prefecture.region
        if region.key not in regions:
            regions[region.key] = FunnelRow(key=region.key, name_ja=region.name_ja, name_en=region.name_en,
                                            physicians=0.0, stages=stages)
        regions[region.key].add(row)
    total = FunnelRow(key="total", name_ja="合計", name_en="Total", physicians=0.0, stages=stages)
    for region_row in regions.values():
        total.add(region_row)
    return rows, list(regions.values()), total


def funnel_by_prefecture(event: Event, talks: list[Talk], min_minutes: int, now: datetime | None,
                         registrations: QuerySet[Registration] | None = None,
                         ) -> tuple[dict[str, dict[str, int]], dict[date, dict[str, int]]]:
    """``{prefecture code: {stage: count}}`` and ``{day: {prefecture code: registrations}}`` in one grouped query.

    Over ``registrations`` (default: the event's counted registrations; a
    campaign passes its own), grouped by prefecture, registration day (Japan
    time) *and* the three yes/no facts (attended, seated, exchanged cards):
    at most 47 × days × 8 rows, and each fact's subquery is written once (the
    database groups by its position in the select list) instead of once per
    stage that needs it. The strict funnel and the days are summed up here:
    one pass over the registrations instead of two.
    """
    attended = Q(pk__in=attended_registrations(talks, min_minutes, now)) if talks else Q(pk__in=[])
    accepted = CardExchange.objects.filter(talk__event=event, state=CardExchange.State.ACCEPTED)
    if registrations is None:
        registrations = Registration.objects.filter(event=event, status__in=COUNTED)
    grouped = (
        registrations
        .order_by()
        .annotate(
            day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()),
            did_attend=ExpressionWrapper(attended, output_field=BooleanField()),
            sat=Exists(Seat.objects.filter(registration=OuterRef("pk"))),
            # Two uncorrelated IN lists, each read once, rather than a lookup per registration
            # (an OR of the two sides cannot use either side's index).
            met=ExpressionWrapper(Q(pk__in=accepted.values("offered_by")) | Q(pk__in=accepted.values("offered_to")),
                                  output_field=BooleanField()),
        )
        .values("physician__prefecture_id", "day", "did_attend", "sat", "met")
        .annotate(n=Count("pk"))
    )
    funnel: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STAGES, 0))
    per_day: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in grouped:
        code = row["physician__prefecture_id"]
        per_day[row["day"]][code] += row["n"]
        counts = funnel[code]
        reached = (True, bool(row["did_attend"]), bool(row["sat"]), bool(row["met"]))
        # Up to the first stage not reached: a stage counts only those who reached every stage before it.
        for stage, reached_it in zip(STAGES, reached, strict=True):
            if not reached_it:
                break
            counts[stage] += row["n"]
    return funnel, per_day


def attended_registrations(talks: list[Talk], min_minutes: int, now: datetime | None) -> RawSQL:
    """A subquery of the registrations that watched at least ``min_minutes`` over ``talks``.

    Minutes per registration and talk are the length of the union of its
    connection intervals (rooms.lecture.attendance), found in two parts:

    - a pair whose connections are all closed has its union in
      ClosedWatchTime, which the attendance writers keep with
      rooms.lecture.attendance's own merge: one row per pair instead of every
      interval (a million at 50,000 registrations);
    - a pair with a connection still open (watching now, or a close never
      recorded) has its intervals merged here, the open ones counting until
      ``open_until`` of their talk (given as parameters, one per talk), in one
      pass over the intervals sorted by start: each adds only what it covers
      beyond the latest end before it (all of itself after a gap, its overhang
      when it overlaps, nothing when inside; two that start together add their
      longer one whichever comes first, so the start alone orders them, as
      the intervals index does). Intervals covering no time are dropped
      first, as rooms.lecture.attendance drops them.

    Both give microseconds; a registration attended when their sum over the
    talks reaches the threshold.
    """
    ops = connection.ops
    cutoffs = [(talk.pk, ops.adapt_datetimefield_value(open_until(talk, now, _stage_of(talk)))) for talk in talks]
    when = " ".join("WHEN %s THEN %s" for _ in cutoffs)
    placeholders = ", ".join("%s" for _ in cutoffs)
    if connection.vendor == "postgresql":
        def microseconds(later: str, earlier: str) -> str:
            return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) * 1000000)::bigint"

        # SUM of bigints is a numeric, slow and large to group 50,000 sums by; a float8 adds whole
        # microseconds exactly up to 2^53 (285 years).
        def as_float(column: str) -> str:
            return f"{column}::float8"
    else:
        # SQLite keeps datetimes as ISO text; julianday() reads it as fractional days, a double
        # accurate to about 50 µs: rounded to the millisecond, 12 minutes is 720 seconds, not 719.99999.
        def microseconds(later: str, earlier: str) -> str:
            return f"CAST(ROUND((julianday({later}) - julianday({earlier})) * 86400000.0) AS INTEGER) * 1000"

        def as_float(column: str) -> str:
            return column
    table = Attendance._meta.db_table
    summary = ClosedWatchTime._meta.db_table
    sql = f"""
        SELECT r FROM (
          SELECT w.registration_id AS r, w.microseconds AS us
          FROM {summary} AS w
          WHERE w.talk_id IN ({placeholders})
            AND NOT EXISTS (SELECT 1 FROM {table} AS o WHERE o.talk_id = w.talk_id
                            AND o.registration_id = w.registration_id AND o.left_at IS NULL)
          UNION ALL
          SELECT r, CASE WHEN covered_until IS NULL OR covered_until < s THEN {microseconds("e", "s")}
                         WHEN covered_until < e THEN {microseconds("e", "covered_until")}
                         ELSE 0 END
          FROM (
            SELECT r, s, e,
                   MAX(e) OVER (PARTITION BY t, r ORDER BY s
                                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered_until
            FROM (
              SELECT a.registration_id AS r, a.talk_id AS t, a.joined_at AS s,
                     COALESCE(a.left_at, CASE a.talk_id {when} END) AS e
              FROM (SELECT DISTINCT talk_id, registration_id FROM {table}
                    WHERE talk_id IN ({placeholders}) AND left_at IS NULL) AS still_open
              JOIN {table} AS a ON a.talk_id = still_open.talk_id AND a.registration_id = still_open.registration_id
            ) AS intervals WHERE e > s
          ) AS ordered
        ) AS watched
        GROUP BY r
        HAVING SUM({as_float("us")}) >= %s
    """
    talk_ids = [talk_id for talk_id, _cutoff in cutoffs]
    params: list[Any] = list(talk_ids)
    params += [value for pair in cutoffs for value in pair]
    params += talk_ids
    params.append(min_minutes * 60 * 1_000_000)
    return RawSQL(sql, params)


def _stage_of(talk: Talk) -> Stage | None:
    try:
        return talk.stage
    except Stage.DoesNotExist:
        return None


def shortage_codes(prefectures: list[Prefecture]) -> set[str]:
    return {p.code for p in prefectures if p.is_underserved}


def daily(per_day: dict[date, dict[str, int]], shortage: set[str]) -> list[tuple[date, int, int]]:
    """Registrations per day (Japan time), physician-shortage prefectures and the rest, no day left out."""
    if not per_day:
        return []
    first, last = min(per_day), max(per_day)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    rows = []
    for day in days:
        counts = per_day.get(day, {})
        in_shortage = sum(n for code, n in counts.items() if code in shortage)
        rows.append((day, in_shortage, sum(counts.values()) - in_shortage))
    return rows


def as_percent(rate: float | None) -> str:
    """A rate as the tables and downloads show it: "42.9%", or "" when there is nothing to divide by."""
    return "" if rate is None else f"{Decimal(rate * 100).quantize(Decimal('0.1'))}%"
