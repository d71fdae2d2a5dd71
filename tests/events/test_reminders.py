"""Reminder mails 24 hours and 1 hour before each talk, each sent exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from events.models import Registration
from events.services import cancel_registration
from events.tasks import due_reminders, send_due_reminders
from tests.factories import make_event, make_talk, register

pytestmark = pytest.mark.django_db


def backdate(registration: Registration, days: int = 3) -> Registration:
    Registration.objects.filter(pk=registration.pk).update(created_at=timezone.now() - timedelta(days=days))
    return registration


def test_the_24_hour_reminder_goes_out_once_with_the_join_link(mailoutbox):
    event = make_event()
    talk = make_talk(event, starts_in=timedelta(hours=23, minutes=50), title="明日の講演")
    backdate(register(event))
    assert send_due_reminders() == 1
    assert len(mailoutbox) == 1
    assert "明日の講演" in mailoutbox[0].subject
    assert "/join/" in mailoutbox[0].body
    # Beat runs every minute: the next runs find nothing left to send.
    assert send_due_reminders() == 0
    assert send_due_reminders() == 0
    assert len(mailoutbox) == 1
    assert talk.title in mailoutbox[0].body


def test_the_1_hour_reminder_follows_and_is_also_sent_once(mailoutbox):
    event = make_event()
    make_talk(event, starts_in=timedelta(minutes=55))
    backdate(register(event))
    assert send_due_reminders() == 1
    assert send_due_reminders() == 0
    assert len(mailoutbox) == 1
    assert "1" in mailoutbox[0].subject


def test_a_late_beat_sends_only_the_closer_reminder(mailoutbox):
    event = make_event()
    make_talk(event, starts_in=timedelta(minutes=30))
    registration = backdate(register(event))
    due = due_reminders()
    assert [(r, kind) for r, kind, _t in due] == [(registration.pk, "reminder_1h")]


def test_nothing_is_due_days_before_or_after_a_talk(mailoutbox):
    event = make_event()
    make_talk(event, starts_in=timedelta(days=3))
    make_talk(event, starts_in=-timedelta(hours=2))
    backdate(register(event), days=10)
    assert due_reminders() == []


def test_someone_who_registered_after_the_reminder_moment_is_not_reminded():
    event = make_event()
    make_talk(event, starts_in=timedelta(hours=20))
    register(event)  # registered just now, 20 h before: the confirmation said it all
    assert due_reminders() == []


def test_only_approved_registrations_are_reminded(mailoutbox):
    event = make_event()
    make_talk(event, starts_in=timedelta(hours=23))
    approved = backdate(register(event))
    cancelled = backdate(register(event))
    cancel_registration(cancelled)
    assert [r for r, _k, _t in due_reminders()] == [approved.pk]


def test_each_talk_of_a_series_gets_its_own_reminders(mailoutbox):
    event = make_event()
    make_talk(event, starts_in=timedelta(hours=23))
    make_talk(event, starts_in=timedelta(minutes=40))
    backdate(register(event))
    assert send_due_reminders() == 2
    assert send_due_reminders() == 0
    assert len(mailoutbox) == 2
