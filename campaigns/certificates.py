"""A physician's viewing log (視聴ログ) of one event, and their attendance certificates (受講証明書).

Minutes watched come from ``rooms.lecture.attendance``: the union of the physician's
connection intervals, so two tabs open at once count once, and a connection
whose close was never recorded stops counting when the talk ended. A
certificate is issued only for a talk with at least one whole minute watched;
the minutes it states are whole minutes, rounded down, so it never certifies
more than was watched.

The certificate number is an HMAC of the registration and the talk under
SECRET_KEY: the same page always shows the same number, nobody can compute the
number of another physician's certificate, and no table has to store it.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.crypto import salted_hmac

from events.models import Registration, Talk
from rooms.lecture.attendance import OpenInterval, open_until, watched
from rooms.models import Attendance, Stage

CERTIFICATE_SALT = "renkei.attendance-certificate"


@dataclass(frozen=True)
class Viewing:
    """One line of the viewing log: a talk of the event and how long this physician watched it."""

    talk: Talk
    minutes: int
    first_joined_at: datetime | None

    @property
    def attended(self) -> bool:
        """Whether a certificate is issued: at least one whole minute watched."""
        return self.minutes >= 1


@dataclass(frozen=True)
class Certificate:
    registration: Registration
    viewing: Viewing
    number: str
    issued_at: datetime


def certificate_number(registration_id: int, talk_id: int) -> str:
    """``RK-XXXX-XXXX-XXXX``: 60 bits of an HMAC (SECRET_KEY) of the registration and the talk.

    Stable for as long as SECRET_KEY is; unguessable without it. Base32 without
    the padding, so it reads aloud over the phone without 0/O or 1/l confusion
    mattering much (the alphabet has no 0, 1, 8 or 9).
    """
    digest = salted_hmac(CERTIFICATE_SALT, f"{registration_id}:{talk_id}", algorithm="sha256").digest()
    code = base64.b32encode(digest).decode()[:12]
    return f"RK-{code[:4]}-{code[4:8]}-{code[8:]}"


def viewing_log(registration: Registration, now: datetime | None = None) -> list[Viewing]:
    """Every talk of the registration's event, in programme order, with the minutes this physician watched.

    Three queries whatever the number of talks: the talks (with speakers), their
    stages, and this registration's attendance rows.
    """
    now = now if now is not None else timezone.now()
    talks = list(Talk.objects.filter(event_id=registration.event_id).prefetch_related("speakers"))
    stages = {stage.talk_id: stage for stage in Stage.objects.filter(talk__event_id=registration.event_id)}
    intervals: dict[int, list[OpenInterval]] = defaultdict(list)
    for talk_id, joined_at, left_at in Attendance.objects.filter(registration_id=registration.pk).values_list(
        "talk_id", "joined_at", "left_at"
    ):
        intervals[talk_id].append((joined_at, left_at))
    return [
        Viewing(talk=talk, minutes=whole_minutes(talk, intervals.get(talk.pk, []), stages.get(talk.pk), now),
                first_joined_at=min((joined for joined, _left in intervals.get(talk.pk, [])), default=None))
        for talk in talks
    ]


def whole_minutes(talk: Talk, intervals: list[OpenInterval], stage: Stage | None, now: datetime) -> int:
    """Whole minutes (rounded down) covered by the union of one physician's ``intervals`` in ``talk``."""
    return int(watched(intervals, now=open_until(talk, now, stage)).total_seconds() // 60)


def certificate(registration: Registration, talk_id: int, now: datetime | None = None) -> Certificate | None:
    """The certificate for ``talk_id`` of this registration's event; None when the talk is not one of its talks.

    A talk of the event that was not attended gives a certificate whose
    ``viewing.attended`` is False: the page says so instead of certifying it.
    """
    now = now if now is not None else timezone.now()
    viewing = next((v for v in viewing_log(registration, now) if v.talk.pk == talk_id), None)
    if viewing is None:
        return None
    return Certificate(registration=registration, viewing=viewing,
                       number=certificate_number(registration.pk, talk_id), issued_at=now)


def registration_for_certificate(registration_id: int) -> Registration | None:
    """The registration with everything a certificate prints (physician, event, organization), or None."""
    return (
        Registration.objects.select_related("physician__prefecture", "event__organization")
        .filter(pk=registration_id).first()
    )

