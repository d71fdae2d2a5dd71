"""Verbs queue their broadcasts in rooms.outbox; they leave after the commit, one way whoever called the verb."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from rooms import outbox
from rooms.models import Attendance, LectureRoom, Reception
from rooms.realtime import delivery
from rooms.realtime.delivery import layer_messages
from rooms.realtime.groups import talk_group
from rooms.tasks import open_due_receptions
from tests.factories import make_event, make_talk, register

pytestmark = pytest.mark.django_db

FRAME = {"type": "reception.announcement", "body": "乾杯", "author": {"name": "座長"}}


@pytest.fixture
def delivered(monkeypatch: pytest.MonkeyPatch) -> list[outbox.Event]:
    """What the transport would have sent, in order."""
    sent: list[outbox.Event] = []
    monkeypatch.setattr(outbox, "_deliver", sent.extend)
    return sent


def test_an_event_waits_for_the_commit_of_the_verb_that_queued_it(delivered, django_capture_on_commit_callbacks):
    event = outbox.ToTalk(7, FRAME)
    with django_capture_on_commit_callbacks(execute=True):
        outbox.send_event_on_commit(event)
        assert delivered == []
    assert delivered == [event]


def test_a_rolled_back_write_broadcasts_nothing(delivered, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            outbox.send_event_on_commit(outbox.ToTalk(7, FRAME))
            raise RuntimeError("the write failed")
    assert callbacks == [] and delivered == []


def test_captured_events_go_to_the_socket_path_in_order_and_nowhere_else(delivered, django_capture_on_commit_callbacks):
    first, second = outbox.ToRoom(7, 1, FRAME), outbox.ToTalk(7, FRAME)
    with outbox.capture() as events, django_capture_on_commit_callbacks(execute=True):
        outbox.send_event_on_commit(first)
        outbox.send_event_on_commit(second)
    assert events == [first, second] and delivered == []


def test_the_timed_task_opens_a_reception_with_the_one_message_every_opening_sends(
    delivered, django_capture_on_commit_callbacks
):
    event = make_event()
    talk = make_talk(event, starts_in=timedelta(minutes=-61), minutes=60)
    Reception.objects.create(talk=talk)
    room = LectureRoom.objects.create(talk=talk, key="all", name_ja="全員", name_en="Everyone")
    Attendance.objects.create(talk=talk, registration=register(event), room=room, joined_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        assert open_due_receptions() == 1
    [opened] = delivered
    assert isinstance(opened, outbox.OpenReception) and opened.talk_id == talk.pk
    [(group, message)] = layer_messages(opened)
    assert group == talk_group(talk.pk) and message["type"] == "reception.opened" and message["talk"] == talk.pk
    assert len(message["seats"]) == 1


def test_a_verb_called_on_a_thread_running_an_event_loop_still_delivers(monkeypatch):
    sent: list[object] = []

    async def send(messages):
        sent.extend(messages)

    monkeypatch.setattr(delivery, "send", send)
    event = outbox.ToTalk(7, FRAME)

    async def a_browser_test():
        delivery.deliver([event])

    asyncio.run(a_browser_test())
    assert sent == layer_messages(event)
