"""An engagement score per physician and event (0–100), for organizers and marketing-automation tools.

The formula (docs/campaigns.md, "Engagement score") adds five parts, each capped
so that no single behaviour can make up the whole score:

    watching   50 × min(1, minutes watched / minutes scheduled)   at most 50
    chat        3 per chat message (lecture room or table)        at most 15
    questions   5 per question asked                              at most 10
    reception  15 for sitting at a reception table at least once        15
    cards       5 per business card exchange accepted             at most 10

Minutes watched per talk are the union of the physician's connections, in whole
minutes rounded down (the same figure as the viewing log and the certificate);
minutes scheduled are the event's talks' lengths. The total is rounded to an
integer. Deleted chat messages do not count; card offers count only once the
other side accepted, for both of them.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count
from django.http import HttpResponse
from django.utils import timezone

from events.models import Event, Registration, Talk
from rooms.lecture.attendance import OpenInterval, _count_by_registration
from rooms.models import Attendance, CardExchange, ChatMessage, Question, Seat, Stage

from .certificates import whole_minutes
from server.spreadsheet import safe_row

WATCHING_POINTS = 50
CHAT_POINTS, CHAT_CAP = 3, 15
QUESTION_POINTS, QUESTION_CAP = 5, 10
RECEPTION_POINTS = 15
CARD_POINTS, CARD_CAP = 5, 10


@dataclass(frozen=True)
class Engagement:
    registration_id: int
    minutes_watched: int
    minutes_scheduled: int
    chat_messages: int
    questions: int
    reception_joined: bool
    cards_exchanged: int

    @property
    def score(self) -> int:
        share = min(1.0, self.minutes_watched / self.minutes_scheduled) if self.minutes_scheduled else 0.0
        watching = WATCHING_POINTS * share
        return round(
            watching
            + min(CHAT_CAP, CHAT_POINTS * self.chat_messages)
            + min(QUESTION_CAP, QUESTION_POINTS * self.questions)
            + (RECEPTION_POINTS if self.reception_joined else 0)
            + min(CARD_CAP, CARD_POINTS * self.cards_exchanged)
        )


def engagement(
    event: Event, registration_ids: Collection[int] | None = None, now: datetime | None = None
) -> dict[int, Engagement]:
    """``{registration id: Engagement}`` for every registration of ``event`` (or only ``registration_ids``).

    Nine queries whatever the audience: talks, stages, attendance, chat,
    questions, seats, accepted cards (offered, received), registrations. Each counts in the
    database (GROUP BY) except attendance, whose intervals are merged in Python.
    """
    now = now if now is not None else timezone.now()
    mine = {} if registration_ids is None else {"registration_id__in": list(registration_ids)}
    talks = list(Talk.objects.filter(event_id=event.pk))
    stages = {stage.talk_id: stage for stage in Stage.objects.filter(talk__event_id=event.pk)}
    intervals: dict[tuple[int, int], list[OpenInterval]] = defaultdict(list)
    for reg, talk_id, joined_at, left_at in Attendance.objects.filter(talk__event_id=event.pk, **mine).values_list(
        "registration_id", "talk_id", "joined_at", "left_at"
    ):
        intervals[(reg, talk_id)].append((joined_at, left_at))
    by_id = {talk.pk: talk for talk in talks}
    watched: dict[int, int] = defaultdict(int)
    for (reg, talk_id), own in intervals.items():
        watched[reg] += whole_minutes(by_id[talk_id], own, stages.get(talk_id), now)
    scheduled = sum(int((talk.ends_at - talk.starts_at).total_seconds() // 60) for talk in talks)

    chats = _count_by_registration(ChatMessage.objects.filter(room__talk__event_id=event.pk, deleted_at__isnull=True,
                                               registration__isnull=False, **mine))
    questions = _count_by_registration(
        Question.objects.filter(talk__event_id=event.pk, registration__isnull=False, **mine)
    )
    seated = set(Seat.objects.filter(room__talk__event_id=event.pk, **mine).values_list("registration_id", flat=True))
    accepted = CardExchange.objects.filter(talk__event_id=event.pk, state=CardExchange.State.ACCEPTED)
    cards: dict[int, int] = defaultdict(int)
    for side in ("offered_by_id", "offered_to_id"):
        rows = accepted.filter(**({f"{side}__in": list(registration_ids)} if registration_ids is not None else {}))
        for reg, n in rows.order_by().values_list(side).annotate(n=Count("pk")):
            cards[reg] += n

    registrations = Registration.objects.filter(event_id=event.pk)
    if registration_ids is not None:
        registrations = registrations.filter(pk__in=list(registration_ids))
    return {
        reg: Engagement(registration_id=reg, minutes_watched=watched.get(reg, 0), minutes_scheduled=scheduled,
                        chat_messages=chats.get(reg, 0), questions=questions.get(reg, 0),
                        reception_joined=reg in seated, cards_exchanged=cards.get(reg, 0))
        for reg in registrations.order_by("pk").values_list("pk", flat=True)
    }


def engagement_of(registration: Registration, now: datetime | None = None) -> Engagement:
    return engagement(registration.event, [registration.pk], now)[registration.pk]


SELECTION_LIMIT = 500

# The export's columns, in English like the registrations CSV, for marketing-automation imports.
CSV_COLUMNS = [
    "event", "email", "full_name", "prefecture_code", "minutes_watched", "minutes_scheduled", "chat_messages",
    "questions", "reception_joined", "cards_exchanged", "engagement_score",
]


def engagement_csv(registrations: Iterable[Registration]) -> HttpResponse:
    """The selected registrations' scores and their parts as CSV (UTF-8 with BOM), one row per registration."""
    chosen = list(registrations)
    selected: dict[int, list[Registration]] = defaultdict(list)
    for registration in chosen:
        selected[registration.event_id].append(registration)
    by_event: dict[int, dict[int, Engagement]] = {}
    for event_id, rows in selected.items():
        # A page's selection is counted alone; "select all" of a large event reads the event once
        # rather than sending thousands of ids as query parameters (SQLite caps them).
        ids = [r.pk for r in rows] if len(rows) <= SELECTION_LIMIT else None
        by_event[event_id] = engagement(rows[0].event, ids)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="engagement.csv"'
    response.write("\ufeff")  # Excel on Japanese Windows otherwise opens it as Shift_JIS
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for registration in chosen:
        e = by_event[registration.event_id][registration.pk]
        physician = registration.physician
        writer.writerow(safe_row([
            registration.event.title, physician.email, physician.full_name, physician.prefecture_id,
            e.minutes_watched, e.minutes_scheduled, e.chat_messages, e.questions,
            "yes" if e.reception_joined else "no", e.cards_exchanged, e.score,
        ]))
    return response
