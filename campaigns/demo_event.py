"""The demo's finished event: its talk, who registered, who watched how long, the reception and its cards.

Called by :mod:`campaigns.demo`, which decides who signs up and when; this
module turns that into the rows a real event leaves behind (registrations,
viewing intervals, reception seats, accepted card exchanges), in a handful of
bulk inserts. The reception is opened by the real ``open_reception``, so its
tables are formed exactly as a live one's would be.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.templatetags.static import static
from django.utils import timezone

from events.models import Event, Physician, Registration, Talk
from events.services import PRIVACY_NOTICE_VERSION
from regions.models import Prefecture, Region
from rooms.lecture.watch_times import rebuild
from rooms.models import Attendance, CardExchange, LectureRoom, Reception, Seat, Stage
from rooms.reception.cards import card_of
from rooms.reception.opening import open_reception
from rooms.reception.tables import get_or_create_reception

from .analytics import DEFAULT_MIN_MINUTES
from .models import Delivery, Organization

FINISHED_SLUG = "tohoku-irae-2026-autumn"
FINISHED_TITLE = "東北 がん免疫療法 Web講演会: 免疫関連有害事象(irAE)を地域で診る"
TALK_TITLE = "免疫チェックポイント阻害薬の irAE: 早期発見と拠点病院への紹介"
TALK_MINUTES = 60
# The reception's allocation seed: the same tables on every fresh demo.
RECEPTION_SEED = 2026


@dataclass
class DemoPerson:
    """A fictional physician: a contact of the demo organization, a registrant, or both."""

    email: str
    full_name: str
    name_kana: str
    prefecture: str
    facility_name: str
    facility_type: str
    specialty: str
    consent_date: date | None = None
    consent_source: str = ""


@dataclass
class Signup:
    """A registration to be made: who, when, and where it came from (``utm`` None: no attribution)."""

    person: DemoPerson
    at: datetime
    delivery: Delivery | None = None
    utm: tuple[str, str, str] | None = None
    cancelled: bool = False


@dataclass
class Outcome:
    """What happened at the talk, by registration id: the follow-up mails' segments."""

    minutes: dict[int, float] = field(default_factory=dict)
    seated: set[int] = field(default_factory=set)

    def attended(self) -> set[int]:
        return {pk for pk, minutes in self.minutes.items() if minutes >= DEFAULT_MIN_MINUTES}

    def left_early(self) -> set[int]:
        """Attended, but watched less than half the talk (the follow-up segment's rule)."""
        return {pk for pk in self.attended() if self.minutes[pk] < TALK_MINUTES / 2}


def make_event(organization: Organization, organizer: Any, speaker: Any, starts_at: datetime) -> Talk:
    """The finished event and its one talk, over and done at ``starts_at`` + an hour."""
    event = Event.objects.create(
        slug=FINISHED_SLUG, title=FINISHED_TITLE, organization=organization,
        description=("免疫チェックポイント阻害薬の免疫関連有害事象を、地域のクリニックでどう見つけ、いつ拠点病院へ紹介するか。"
                     "東北の医師少数県の先生方を対象にした講演会と、講演後のバーチャル懇親会です。"),
        capacity=300, registration_opens_at=starts_at - timedelta(days=24), registration_closes_at=starts_at,
        # Off the public list once over, as organizers do: the physicians' home page shows what is
        # still open for registration; its organizers keep its pages and dashboard.
        approval_mode=Event.ApprovalMode.AUTOMATIC, is_published=False,
    )
    Event.objects.filter(pk=event.pk).update(created_at=starts_at - timedelta(days=30))
    event.organizers.add(organizer)
    event.target_regions.set(Region.objects.filter(key="tohoku"))
    event.target_prefectures.set(Prefecture.objects.filter(region_id="tohoku"))
    ends_at = starts_at + timedelta(minutes=TALK_MINUTES)
    talk = Talk.objects.create(event=event, title=TALK_TITLE, starts_at=starts_at, ends_at=ends_at,
                               stream_url=settings.SITE_URL + static("demo-stream/2/index.m3u8"))
    talk.speakers.add(speaker)
    Stage.objects.create(talk=talk, room_mode=Stage.RoomMode.REGION, state=Stage.State.ENDED,
                         went_live_at=starts_at, ended_at=ends_at)
    return talk


def register(event: Event, signups: list[Signup]) -> list[Registration]:
    """Physicians (an address already known keeps its row) and their registrations, at their sign-up times."""
    Physician.objects.bulk_create(
        [Physician(email=s.person.email, full_name=s.person.full_name, name_kana=s.person.name_kana,
                   specialty=s.person.specialty, facility_name=s.person.facility_name,
                   facility_type=s.person.facility_type, prefecture_id=s.person.prefecture) for s in signups],
        ignore_conflicts=True,
    )
    physicians = dict(Physician.objects.filter(email__in=[s.person.email for s in signups])
                      .values_list("email", "pk"))
    registrations = Registration.objects.bulk_create([
        Registration(event=event, physician_id=physicians[s.person.email], language="ja",
                     status=Registration.Status.CANCELLED if s.cancelled else Registration.Status.APPROVED,
                     attested_healthcare_professional=True, privacy_consent_at=s.at,
                     privacy_notice_version=PRIVACY_NOTICE_VERSION, decided_at=s.at)
        for s in signups
    ])
    # auto_now_add stamped them all "now" on insert; bulk_update writes the sign-up times as given.
    for registration, signup in zip(registrations, signups, strict=True):
        registration.created_at = signup.at
    Registration.objects.bulk_update(registrations, ["created_at"])
    return registrations


def hold_talk(talk: Talk, registrations: list[Registration], people: dict[int, DemoPerson],
              rng: random.Random) -> Outcome:
    """Viewing intervals for the approved registrants, then the reception for those still connected at the end.

    Physicians from the shortage prefectures the series targets come a little
    more often; of those who come, some leave within minutes, some leave early,
    most stay to the end, and some of those reconnect once on the way.
    """
    regions = {p.code: p.region_id for p in Prefecture.objects.all()}
    shortage = set(Prefecture.objects.filter(designation=Prefecture.Designation.SHORTAGE, region_id="tohoku")
                   .values_list("code", flat=True))
    rooms = {r.key: LectureRoom(talk=talk, key=r.key, name_ja=r.name_ja, name_en=r.name_en)
             for r in Region.objects.all()}
    for room in LectureRoom.objects.bulk_create(rooms.values()):
        rooms[room.key] = room
    start, end = talk.starts_at, talk.ends_at
    outcome = Outcome()
    intervals: list[Attendance] = []
    for registration in registrations:
        if registration.status != Registration.Status.APPROVED:
            continue
        person = people[registration.pk]
        if rng.random() > (0.82 if person.prefecture in shortage else 0.68):
            continue  # registered, never came
        room = rooms[regions[person.prefecture]]
        joined = start + timedelta(minutes=rng.randint(-3, 8))
        pattern = rng.random()
        if pattern < 0.12:  # opened the link and left
            spans = [(joined, joined + timedelta(minutes=rng.randint(2, 8)))]
        elif pattern < 0.28:  # left early
            spans = [(joined, start + timedelta(minutes=rng.randint(15, 28)))]
        else:  # stayed; None: still connected when the reception opened
            stays = rng.random() < 0.6
            last = None if stays else end - timedelta(minutes=1)
            if rng.random() < 0.2:  # a dropped connection, back a minute later
                drop = start + timedelta(minutes=rng.randint(20, 40))
                spans = [(joined, drop), (drop + timedelta(minutes=1), last)]
            else:
                spans = [(joined, last)]
        for joined_at, left_at in spans:
            intervals.append(Attendance(talk=talk, registration=registration, room=room,
                                        joined_at=joined_at, left_at=left_at))
        outcome.minutes[registration.pk] = sum(
            ((left or end) - joined_at).total_seconds() / 60 for joined_at, left in spans)
    Attendance.objects.bulk_create(intervals)
    rebuild([talk.pk])  # bulk_create bypasses the attendance writers that keep the minutes summary
    get_or_create_reception(talk)
    Reception.objects.filter(pk=talk.pk).update(seed=RECEPTION_SEED)
    opening = open_reception(talk, now=end)
    if opening is not None:
        outcome.seated = set(opening.seats)
        closes = opening.reception.closes_at
        Seat.objects.filter(room__talk=talk).update(left_at=closes)
        _exchange_cards(talk, opening.seats, rng)
    return outcome


def _exchange_cards(talk: Talk, seats: dict[int, int], rng: random.Random) -> None:
    """At each table, about a third of the pairs exchange cards; a few offers are declined or left unanswered."""
    tables: dict[int, list[int]] = {}
    for registration_id, room_id in sorted(seats.items()):
        tables.setdefault(room_id, []).append(registration_id)
    registrations = Registration.objects.select_related("physician__prefecture").in_bulk(list(seats))
    cards: dict[int, dict[str, Any]] = {}

    def card(registration_id: int) -> dict[str, Any]:
        if registration_id not in cards:
            cards[registration_id] = card_of(registrations[registration_id])
        return cards[registration_id]

    opened = talk.ends_at
    exchanges: list[CardExchange] = []
    for room_id, members in sorted(tables.items()):
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                roll = rng.random()
                if roll >= 0.45:
                    continue
                offered_at = opened + timedelta(minutes=rng.randint(2, 16), seconds=rng.randint(0, 59))
                exchange = CardExchange(talk=talk, room_id=room_id, offered_by_id=a, offered_to_id=b,
                                        offered_at=offered_at)
                if roll < 0.35:
                    exchange.state = CardExchange.State.ACCEPTED
                    exchange.answered_at = offered_at + timedelta(seconds=rng.randint(10, 90))
                    exchange.from_card, exchange.to_card = card(a), card(b)
                elif roll < 0.42:
                    exchange.state = CardExchange.State.DECLINED
                    exchange.answered_at = offered_at + timedelta(minutes=1)
                exchanges.append(exchange)
    CardExchange.objects.bulk_create(exchanges)


def local(day: datetime, hour: int, minute: int = 0) -> datetime:
    """``day`` at ``hour``:``minute`` Japan time (the project's time zone)."""
    return timezone.localtime(day).replace(hour=hour, minute=minute, second=0, microsecond=0)
