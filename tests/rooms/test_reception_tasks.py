"""The timed opening: at the talk's end time the reception opens by itself, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from events.models import Registration
from rooms.models import Attendance, ClosedWatchTime, LectureRoom, Reception, Seat
from rooms.reception.opening import open_reception
from rooms.tasks import open_due_receptions
from tests.factories import make_event, make_talk, register

pytestmark = pytest.mark.django_db


def _talk_with_audience(ends_in: timedelta, n: int = 4, **reception):
    event = make_event()
    talk = make_talk(event, starts_in=ends_in - timedelta(minutes=60), minutes=60)
    Reception.objects.create(talk=talk, **reception)
    room = LectureRoom.objects.create(talk=talk, key="all", name_ja="全員", name_en="Everyone")
    for _ in range(n):
        registration = register(event)
        assert registration.status == Registration.Status.APPROVED
        Attendance.objects.create(talk=talk, registration=registration, room=room, joined_at=timezone.now())
    return talk


def test_a_reception_opens_at_the_talks_end_time_and_only_once():
    ended = _talk_with_audience(timedelta(minutes=-1))
    running = _talk_with_audience(timedelta(minutes=10))
    assert open_due_receptions() == 1
    assert Seat.objects.filter(room__talk=ended).count() == 4
    assert not Seat.objects.filter(room__talk=running).exists()
    assert open_due_receptions() == 0


def test_a_switched_off_reception_does_not_open():
    _talk_with_audience(timedelta(minutes=-1), enabled=False)
    assert open_due_receptions() == 0


def test_opening_ends_the_viewing_interval_of_everyone_moved():
    talk = _talk_with_audience(timedelta(minutes=-1))
    opening = open_reception(talk)
    assert opening is not None and len(opening.seats) == 4
    assert not Attendance.objects.filter(talk=talk, left_at__isnull=True).exists()
    reception = Reception.objects.get(pk=talk.pk)
    assert reception.closes_at - reception.opened_at == timedelta(minutes=20)


def test_opening_stores_the_minutes_of_every_viewing_interval_it_ends():
    talk = _talk_with_audience(timedelta(minutes=-1))
    open_reception(talk)
    for row in Attendance.objects.filter(talk=talk):
        stored = ClosedWatchTime.objects.get(talk=talk, registration_id=row.registration_id)
        assert stored.microseconds == (row.left_at - row.joined_at) // timedelta(microseconds=1)


@pytest.mark.django_db(transaction=True)
async def test_in_the_embedded_mode_the_server_itself_opens_the_reception_on_time(connect, settings):
    # No Redis, so no beat process: the server runs the beat schedule (server.beat).
    settings.EMBEDDED_BEAT = True
    settings.CELERY_BEAT_SCHEDULE = {"open": {"task": "rooms.tasks.open_due_receptions", "schedule": 0.2}}
    event = await database_sync_to_async(make_event)()
    talk = await database_sync_to_async(make_talk)(event, starts_in=timedelta(minutes=-60), minutes=60)
    await database_sync_to_async(Reception.objects.create)(talk=talk)
    people = [await database_sync_to_async(register)(event) for _ in range(3)]
    clients = [await connect(talk, person) for person in people]
    # Those in the lecture room when the schedule opens it are moved; on a slow machine one may arrive
    # just after, and then starts at the table (its hello says so). Either way all three sit together.
    tables = []
    for client in clients:
        if client.hello["room"]["kind"] == "social":
            tables.append(client.hello["room"]["id"])
            continue
        moved = await client.recv_until("room.moved", timeout=5)
        assert moved["reason"] == "allocated"
        tables.append(moved["room"]["id"])
    assert len(set(tables)) == 1
