"""Small builders for test data; each returns a saved object with sensible defaults."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import Group, User
from django.utils import timezone

from campaigns.models import Organization
from events.models import Event, Registration, Talk
from events.permissions import ensure_role_groups
from events.roles import ORGANIZERS, SPEAKERS
from events.services import PhysicianDetails, register_physician
from regions.models import Prefecture

_seq = itertools.count(1)


def make_organization(slug: str = "test-society", *members: User, **overrides: Any) -> Organization:
    """The organization ``slug`` (made on first use), with ``members`` added."""
    fields: dict[str, Any] = {
        "name": f"{slug} 医学会",
        "postal_address": "〒020-0000 岩手県盛岡市内丸1-1",
        "contact_email": f"office@{slug}.example.jp",
    }
    fields.update(overrides)
    organization, _ = Organization.objects.get_or_create(slug=slug, defaults=fields)
    organization.members.add(*members)
    return organization


def make_event(**overrides: Any) -> Event:
    n = next(_seq)
    fields: dict[str, Any] = {
        "slug": f"event-{n}",
        "title": f"がんゲノム医療 Web講演会 {n}",
        "description": "テスト用の講演会",
    }
    if "organization" not in overrides:
        fields["organization"] = make_organization()
    fields.update(overrides)
    return Event.objects.create(**fields)


def make_talk(event: Event, *, starts_in: timedelta = timedelta(days=2), minutes: int = 60, **overrides: Any) -> Talk:
    starts_at = timezone.now() + starts_in
    fields: dict[str, Any] = {
        "event": event,
        "title": f"講演 {next(_seq)}",
        "starts_at": starts_at,
        "ends_at": starts_at + timedelta(minutes=minutes),
        # The demo's own stream, from the server under test: a live room's player reaches nothing else.
        "stream_url": "/static/demo-stream/1/index.m3u8",
    }
    fields.update(overrides)
    return Talk.objects.create(**fields)


def details(**overrides: Any) -> PhysicianDetails:
    n = next(_seq)
    fields: dict[str, Any] = {
        "email": f"doctor{n}@clinic.example.jp",
        "full_name": "岩手 太郎",
        "name_kana": "いわて たろう",
        "specialty": "internal_medicine",
        "facility_name": "盛岡内科クリニック",
        "facility_type": "clinic",
        "prefecture": Prefecture.objects.get(code="03"),
    }
    fields.update(overrides)
    return PhysicianDetails(**fields)


def register(event: Event, notify: bool = False, **overrides: Any) -> Registration:
    return register_physician(event, details(**overrides), notify=notify)


def form_data(**overrides: Any) -> dict[str, str]:
    """What a physician types into the registration form."""
    n = next(_seq)
    data = {
        "full_name": "青森 花子",
        "name_kana": "あおもり はなこ",
        "email": f"hanako{n}@hospital.example.jp",
        "specialty": "medical_oncology",
        "facility_name": "青森中央病院",
        "facility_type": "hospital",
        "prefecture": "02",
        "medical_registration_number": "",
        "attest_healthcare_professional": "on",
        "privacy_consent": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def make_staff(username: str, role: str) -> User:
    ensure_role_groups()
    user = User.objects.create_user(username=username, password="pw-" + username, is_staff=True)
    user.groups.add(Group.objects.get(name={"organizer": ORGANIZERS, "speaker": SPEAKERS}[role]))
    return user


def rival_events(**mine_overrides: Any) -> dict[str, Any]:
    """Two events and their staff: alice organizes "mine", bob "theirs"; sato speaks in a talk of mine."""
    alice, bob, speaker = make_staff("alice", "organizer"), make_staff("bob", "organizer"), make_staff("sato", "speaker")
    mine = make_event(**{"title": "Alice の講演会", "organization": make_organization("alice-society", alice),
                         **mine_overrides})
    mine.organizers.add(alice)
    theirs = make_event(title="Bob の講演会", organization=make_organization("bob-society", bob))
    theirs.organizers.add(bob)
    talk = make_talk(mine, title="演者の講演")
    talk.speakers.add(speaker)
    return {"alice": alice, "bob": bob, "speaker": speaker, "mine": mine, "theirs": theirs, "talk": talk,
            "their_talk": make_talk(theirs, title="他の講演")}
