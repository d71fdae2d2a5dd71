"""Create the benchmark's event, talk and approved registrations; write their join tokens as JSON.

Run by bench/lecture.py against the run's own (freshly migrated) database:
``python -m bench.seed --attendees N --warm K --out tokens.json``
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import timedelta


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--attendees", type=int, required=True)
    parser.add_argument("--warm", type=int, default=4, help="extra registrations used only to warm the servers up")
    parser.add_argument("--talks", type=int, default=1,
                        help="live talks in the event (the soak moves everyone to the next after each reception)")
    parser.add_argument("--reception-minutes", type=int, default=20,
                        help="how long each talk's reception stays open (the soak: short, so it closes by its clock)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "server.settings")
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from events.joinlinks import make_token
    from events.models import Event, Talk
    from events.services import PhysicianDetails, register_physician
    from regions.models import Prefecture
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.models import User

    from events.sessions import SessionStore
    from rooms.models import Reception, Stage

    started = time.monotonic()
    prefectures = list(Prefecture.objects.order_by("code"))
    if not prefectures:
        raise SystemExit("no prefectures in the database: did the migrations run?")
    now = timezone.now()
    from campaigns.services import ensure_demo_organization

    event = Event.objects.create(slug=f"bench-{os.getpid()}", title="ベンチマーク Web講演会",
                                 description="Load test of the lecture room", organization=ensure_demo_organization())
    # The speaker who ends the talk (the reception phase), signed in like a browser would be.
    speaker = User.objects.create_user(f"bench-speaker-{os.getpid()}")
    talks = []
    for n in range(max(1, args.talks)):
        talk = Talk.objects.create(event=event, title=f"ベンチマーク講演 {n + 1}", starts_at=now - timedelta(minutes=5),
                                   ends_at=now + timedelta(hours=3), stream_url="https://stream.example.jp/live.m3u8")
        Stage.objects.create(talk=talk, room_mode=Stage.RoomMode.SINGLE, state=Stage.State.LIVE, went_live_at=now)
        # duration_minutes below the form's minimum of 5 is set directly: the soak needs receptions that close.
        Reception.objects.create(talk=talk, room_size=6, duration_minutes=args.reception_minutes)
        talk.speakers.add(speaker)
        talks.append(talk)
    talk = talks[0]
    store = SessionStore()
    store[SESSION_KEY], store[BACKEND_SESSION_KEY] = str(speaker.pk), "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = speaker.get_session_auth_hash()
    store.create()

    tokens: list[str] = []
    total = args.attendees + args.warm
    with transaction.atomic():
        for n in range(total):
            registration = register_physician(event, PhysicianDetails(
                email=f"bench{n:05d}@clinic.example.jp",
                full_name=f"ベンチ 医師{n:05d}",
                name_kana="べんち いし",
                specialty="internal_medicine",
                facility_name="ベンチマーク内科クリニック",
                facility_type="clinic",
                prefecture=prefectures[n % len(prefectures)],
            ), notify=False)
            tokens.append(make_token(registration))
    with open(args.out, "w") as fh:
        json.dump({"talk_id": talk.pk, "talk_ids": [t.pk for t in talks], "tokens": tokens[: args.attendees], "warm_tokens": tokens[args.attendees:],
                   "staff_session": store.session_key,
                   "seconds": round(time.monotonic() - started, 2)}, fh)


if __name__ == "__main__":
    main()
