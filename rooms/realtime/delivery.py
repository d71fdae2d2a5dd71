"""How the events a verb queued (rooms.outbox) reach the sockets, after the commit, in every server process.

Two paths, one form: each event becomes the same channel-layer messages
(``layer_messages``), sent to the talk's group that every process serving the
talk is subscribed to; each process's relay then writes to its own sockets.

- The socket path (``run``): the handler runs its verb in a database thread
  and this captures what the verb committed; the events are then published
  from the event loop, in the order they were queued, before the handler
  answers its caller.
- Everywhere else (Celery tasks, admin and HTTP views, a test calling a verb):
  ``deliver``, registered with the outbox at startup, sends them from the
  committing thread through async_to_sync.

So a reception opening is one ``reception.opened`` message whoever opened it:
the speaker's end, an organizer's button or the timed task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from redis.exceptions import RedisError

from server.threads import in_pool

from .. import outbox
from ..frames import encode
from . import trace
from .groups import room_group, talk_group
from .relay import get_relay, moving_event, opening_event, relayed, relayed_to

logger = logging.getLogger(__name__)

T = TypeVar("T")
Message = tuple[str, dict[str, Any]]


def layer_messages(event: outbox.Event) -> list[Message]:
    """The channel-layer group and message that carry ``event`` to every process (Relay._read reads them)."""
    match event:
        case outbox.ToTalk(talk_id, frame):
            return [relayed(talk_group(talk_id), frame)]
        case outbox.ToRoom(talk_id, room_id, frame):
            return [relayed(room_group(talk_id, room_id), frame)]
        case outbox.ToPeople(talk_id, room_id, registration_ids, frame):
            return [relayed_to(room_group(talk_id, room_id), list(registration_ids), frame)]
        case outbox.MovePerson(talk_id, registration_id, room, frame):
            return [(talk_group(talk_id), moving_event(talk_id, registration_id, room, encode(frame)))]
        case outbox.OpenReception(talk_id, opening):
            return [(talk_group(talk_id), opening_event(talk_id, opening))]
    raise TypeError(f"not an outbox event: {event!r}")


async def publish(events: list[outbox.Event]) -> None:
    """Send committed events on, in order."""
    await send([message for event in events for message in layer_messages(event)])


async def send(messages: list[Message]) -> None:
    """Channel-layer messages, in order (rooms.realtime.evictions adds its own to the events')."""
    layer = get_channel_layer()
    for group, message in messages:
        await layer.group_send(group, message)


def deliver(events: list[outbox.Event]) -> None:
    """The outbox's delivery where no event loop captures the events (registered in RoomsConfig.ready)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        async_to_sync(publish)(events)
        return
    # A sync caller on a thread that runs an event loop (a browser test driving Playwright):
    # async_to_sync may not block that loop, so a thread of its own sends, and this waits.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(async_to_sync(publish), events).result()


async def run(verb: Callable[..., T], *args: Any, thread_sensitive: bool = True, **kwargs: Any) -> T:
    """Run a verb in a database thread, then publish what it committed; returns what the verb returned.

    Events committed before the verb refused (raised) still go out, then the refusal is raised.
    """

    def call() -> tuple[T | None, BaseException | None, list[outbox.Event]]:
        with outbox.capture() as events:
            try:
                return verb(*args, **kwargs), None, events
            except Exception as raised:  # re-raised on the event loop, after what committed went out
                return None, raised, events

    if thread_sensitive:
        result, raised, events = await database_sync_to_async(call)()
    else:  # the lean hop (server.threads): chat messages, thousands a minute
        result, raised, events = await in_pool(call)
    if trace.ON:
        trace.mark("resumed", trace.key.get())
    try:
        await publish(events)
    except (RedisError, OSError) as exc:
        # What the verb wrote is committed: it is not refused now. The other sockets missed it, so the
        # relay resyncs them all once the layer is back (rooms.realtime.link), this one included.
        logger.warning("committed events could not be published: %s", type(exc).__name__)
        get_relay().link.send_failed()
    if raised is not None:
        raise raised
    return result  # type: ignore[return-value]
