"""One hop from the event loop to the thread pool and back, for the database work of the hot paths.

Channels' ``database_sync_to_async`` (asgiref's ``SyncToAsync`` underneath)
builds a wrapper object per call, copies the context in and back out again
(``_restore_context`` sets every context variable twice), shields the future,
and closes stale database connections both before and after the call. On the
paths run thousands of times a minute (a join link, a WebSocket admission, a
chat message) that was a sizeable part of a join's server CPU
(docs/performance.md, "Issue 13: joins"). ``in_pool`` does what those paths
need and nothing more:

* the function runs in the loop's default thread pool, in a copy of the
  caller's context (the log ids of server.logs travel with it);
* ``async_to_sync`` inside it reaches this event loop, as under asgiref (an
  outbox delivery publishes through the loop's channel layer);
* afterwards the thread's database connections are released exactly as
  Django does at the end of a request (``close_old_connections``: back to the
  pool, or closed when broken or too old). Before the call there is nothing
  to release: every call through here ends with this.

Context variables the function sets stay in its copy: nothing on these paths
sets one for the caller. Cancelling the awaiting task leaves the function to
finish in its thread (as asgiref does); its result is dropped.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import SyncToAsync
from django.db import close_old_connections

T = TypeVar("T")


def _run(loop: asyncio.AbstractEventLoop, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    # What asgiref's thread handler leaves for AsyncToSync: the loop to schedule coroutines on.
    local = SyncToAsync.threadlocal
    local.main_event_loop = loop
    local.main_event_loop_pid = os.getpid()
    local.task_context = []
    try:
        return fn(*args)
    finally:
        close_old_connections()


async def in_pool(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in the thread pool, its database connections released afterwards."""
    loop = asyncio.get_running_loop()
    context = contextvars.copy_context()
    return await loop.run_in_executor(None, context.run, _run, loop, fn, args)
