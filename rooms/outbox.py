"""What a verb of the domain has to say, sent after its transaction commits (Zulip's send_event_on_commit).

A verb writes, then queues its events here: a frame for a talk, a room or a few
people of a room, a physician's move to another seat, a reception's opening.
Events name domain ids (talk, room, registration), never channel-layer groups,
and nothing leaves before the commit: a rolled-back write broadcasts nothing.

The outbox knows no transport. rooms.realtime.delivery registers the function
that delivers committed events (RoomsConfig.ready); the socket path captures
the events of the verb it runs (``capture``) to publish them on its own event
loop, in order, after the commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import transaction

Frame = dict[str, Any]


@dataclass(frozen=True)
class ToTalk:
    """A frame for everyone in every room of a talk (stage, questions, reception announcements)."""

    talk_id: int
    frame: Frame


@dataclass(frozen=True)
class ToRoom:
    """A frame for everyone in one room of a talk (chat, a table's members)."""

    talk_id: int
    room_id: int
    frame: Frame


@dataclass(frozen=True)
class ToPeople:
    """A frame for only these physicians' connections in one room (card exchange)."""

    talk_id: int
    room_id: int
    registration_ids: tuple[int, ...]
    frame: Frame


@dataclass(frozen=True)
class MovePerson:
    """Every tab of one physician follows their seat to ``room`` (frames.room) and is told ``frame``."""

    talk_id: int
    registration_id: int
    room: Frame
    frame: Frame


@dataclass(frozen=True)
class OpenReception:
    """The reception opened: every process moves its own connections (rooms.reception.opening.opening_message)."""

    talk_id: int
    opening: dict[str, Any]


Event = ToTalk | ToRoom | ToPeople | MovePerson | OpenReception
Deliver = Callable[[list[Event]], None]

_deliver: Deliver | None = None
_captured: ContextVar[list[Event] | None] = ContextVar("rooms_outbox_captured", default=None)


def register(deliver: Deliver) -> None:
    """The transport says how committed events leave when nobody captures them (Celery, HTTP views, tests)."""
    global _deliver
    _deliver = deliver


def send_event_on_commit(event: Event) -> None:
    """Queue ``event`` until the current transaction commits (at once in autocommit); dropped on rollback."""
    transaction.on_commit(lambda: _committed(event))


def _committed(event: Event) -> None:
    captured = _captured.get()
    if captured is not None:
        captured.append(event)
    elif _deliver is not None:
        _deliver([event])


@contextmanager
def capture() -> Iterator[list[Event]]:
    """Collect, instead of delivering, the events committed inside the block (in this thread's context)."""
    events: list[Event] = []
    token = _captured.set(events)
    try:
        yield events
    finally:
        _captured.reset(token)
