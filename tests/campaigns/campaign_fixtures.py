"""Builders for campaign-mail tests: an organization's contacts, audience, campaign and a finished event."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.utils import timezone

from campaigns.models import Audience, Campaign, CampaignMail, Contact, OptOut, Organization
from events.models import Event, Registration, Talk
from regions.models import Prefecture
from rooms.models import Attendance, LectureRoom, Seat
from tests.factories import make_event, make_organization, make_talk, register


def contact(organization: Organization, email: str, consent: bool = True, **overrides: Any) -> Contact:
    fields: dict[str, Any] = {
        "organization": organization, "email": email, "full_name": "岩手 太郎",
        "prefecture": Prefecture.objects.get(code="03"),
        "consent_date": date(2026, 4, 1) if consent else None,
        "consent_source": "学会入会時の同意書" if consent else "",
    }
    fields.update(overrides)
    return Contact.objects.create(**fields)


def opt_out(organization: Organization, email: str) -> OptOut:
    return OptOut.objects.create(organization=organization, email=email, source=OptOut.Source.REQUEST)


def campaign_for(event: Event, slug: str = "autumn") -> Campaign:
    audience = Audience.objects.create(organization=event.organization, name="全員")
    return Campaign.objects.create(event=event, audience=audience, name="秋の講演会の案内", slug=slug)


def mail_of(campaign: Campaign, kind: str = CampaignMail.Kind.INVITATION, **overrides: Any) -> CampaignMail:
    fields: dict[str, Any] = {"campaign": campaign, "kind": kind, "subject": "秋の Web 講演会のご案内",
                              "body": "先生方各位\n\n秋の講演会をご案内いたします。"}
    fields.update(overrides)
    return CampaignMail.objects.create(**fields)


def finished_event(organization: Organization | None = None) -> tuple[Event, Talk]:
    """An event whose one 60-minute talk ended an hour ago."""
    event = make_event(organization=organization or make_organization())
    talk = make_talk(event, starts_in=-timedelta(hours=2), minutes=60)
    return event, talk


def watched(registration: Registration, talk: Talk, minutes: float) -> None:
    room, _created = LectureRoom.objects.get_or_create(talk=talk, key="main",
                                                       defaults={"name_ja": "本会場", "name_en": "Main hall"})
    Attendance.objects.create(talk=talk, registration=registration, room=room, joined_at=talk.starts_at,
                              left_at=talk.starts_at + timedelta(minutes=minutes))


def seated(registration: Registration, talk: Talk) -> None:
    room, _created = LectureRoom.objects.get_or_create(
        talk=talk, key="table-1", defaults={"name_ja": "テーブル1", "name_en": "Table 1", "kind": LectureRoom.Kind.SOCIAL})
    Seat.objects.create(room=room, registration=registration, joined_at=talk.ends_at,
                        left_at=talk.ends_at + timedelta(minutes=20))


def segment_fixture() -> dict[str, Any]:
    """A finished event and its organization's contacts, one per behaviour (the hand-built fixture).

    - full@: watched all 60 minutes, sat at the reception;
    - brief@: watched 15 minutes (attended, left early);
    - peek@: watched 3 minutes (registered, did not attend);
    - absent@: registered, never came;
    - stranger@: a contact who never registered;
    - noconsent@: watched everything, but no consent recorded;
    - gone@: watched everything, but opted out.
    """
    organization = make_organization()
    event, talk = finished_event(organization)
    people = {}
    for name in ("full", "brief", "peek", "absent", "stranger", "noconsent", "gone"):
        email = f"{name}@clinic.example.jp"
        people[name] = contact(organization, email, consent=name != "noconsent")
        if name == "stranger":
            continue
        registration = register(event, email=email)
        minutes = {"full": 60, "brief": 15, "peek": 3, "absent": 0, "noconsent": 60, "gone": 60}[name]
        if minutes:
            watched(registration, talk, minutes)
        if name in ("full", "noconsent", "gone"):
            seated(registration, talk)
    opt_out(organization, "gone@clinic.example.jp")
    return {"organization": organization, "event": event, "talk": talk, "campaign": campaign_for(event),
            "people": people}


def now_plus(**delta: float) -> Any:
    return timezone.now() + timedelta(**delta)
