"""One hop from the event loop to the thread pool and back, for the database work of the hot paths.

Channels' ``database_sync_to_async`` (asgiref's ``SyncToAsync`` underneath)
builds a wrapper object per call, copies the context in and back out again
(``_restore_context`` sets every context variable twice), shields the future,
and closes stale database connections both before and after the call. On the
paths run thousands of times a minute (a join link, a WebSocket admission, a
chat message) that was a sizeable part of a join's server CPU
(docs/performance.md, "Issue 13: joins"). ``in_pool`` does what those paths
need and nothing more:

* the function runs in one of this process's ``Hands`` threads, in a copy of
  the caller's context (the log ids of server.logs travel with it);
* ``async_to_sync`` inside it reaches this event loop, as under asgiref (an
  outbox delivery publishes through the loop's channel layer);
* afterwards the thread's database connections are released as Django
  does at the end of a request (``close_old_connections``: back to the pool,
  or closed when broken or too old), with one exception: a healthy pooled
  connection stays with the thread while calls keep coming, and goes back to
  the pool once none came for ``HOLD`` seconds. Checking a connection out of
  the pool and back in for every call was about 30 µs of CPU per call, two
  calls per join (docs/performance.md, "Issue 13: joins, a ninth pass"). A
  connection kept so is never idler than a returned one the pool would hand
  out unchecked (``server.postgresql.base.RECENT``), and one that had an
  error, a transaction or another autocommit mode is released as before.

Context variables the function sets stay in its copy: nothing on these paths
sets one for the caller. Cancelling the awaiting task leaves the function to
finish in its thread (as asgiref does); its result is dropped.

Not the loop's default executor (``run_in_executor``): its hand-off builds a
``concurrent.futures.Future`` (a condition and its lock), takes two locks,
counts idle threads with a semaphore and chains the result into an asyncio
future through two callbacks. ``Hands`` puts the call on one queue and its
threads hand the result straight to the waiting asyncio future with
``call_soon_threadsafe``: 18 µs of CPU per hop instead of 49 µs (a loop of
20,000 with eight in flight), and a join makes two (docs/performance.md,
"Issue 13: joins, a fourth pass").
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper

T = TypeVar("T")
logger = logging.getLogger(__name__)

HOLD = 0.5  # seconds a thread keeps a healthy pooled connection while no call comes (under RECENT)


Call = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", contextvars.Context, Callable[..., Any], tuple[Any, ...]]


def _run(loop: asyncio.AbstractEventLoop, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
    # What asgiref's thread handler leaves for AsyncToSync: the loop to schedule coroutines on.
    local = SyncToAsync.threadlocal
    local.main_event_loop = loop
    local.main_event_loop_pid = os.getpid()
    local.task_context = []
    try:
        return fn(*args)
    finally:
        release(keep_pooled=True)


def _keepable(conn: BaseDatabaseWrapper) -> bool:
    """A pooled connection in the state the pool would take it back in: the thread may keep it for its next call."""
    return (conn.connection is not None and getattr(conn, "pool", None) is not None and not conn.errors_occurred
            and not conn.in_atomic_block and conn.get_autocommit() == conn.settings_dict["AUTOCOMMIT"])


def release(keep_pooled: bool) -> None:
    """Django's ``close_old_connections`` for this thread's connections, sparing healthy pooled ones if ``keep_pooled``."""
    for conn in connections.all(initialized_only=True):
        if not (keep_pooled and _keepable(conn)):
            conn.close_if_unusable_or_obsolete()


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():  # the awaiting task went away: nobody wants the result
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class Hands:
    """Daemon threads that run the calls put on one queue and settle each caller's future on its loop."""

    def __init__(self, size: int) -> None:
        self.inbox: queue.SimpleQueue[Call] = queue.SimpleQueue()
        self.threads = [threading.Thread(target=self._work, name=f"renkei-hands-{n}", daemon=True) for n in range(size)]
        for thread in self.threads:
            thread.start()

    def put(self, call: Call) -> None:
        self.inbox.put(call)

    def _work(self) -> None:
        take = self.inbox.get
        while True:
            try:
                call = take(timeout=HOLD)
            except queue.Empty:  # idle: what the calls kept goes back to the pool, then wait as long as it takes
                release(keep_pooled=False)
                call = take()
            loop, future, context, fn, args = call
            result: Any = None
            error: BaseException | None = None
            try:
                result = context.run(_run, loop, fn, args)
            except BaseException as exc:  # the caller's to handle, whatever it is; this thread goes on
                error = exc
            try:
                loop.call_soon_threadsafe(_settle, future, result, error)
            except RuntimeError:  # the loop closed while the call ran (a server stopping): nobody is waiting
                logger.debug("a call finished after its event loop closed")
            del call, loop, future, context, fn, args, result, error  # hold nothing while waiting for the next


_hands: Hands | None = None
_hands_lock = threading.Lock()


def hands() -> Hands:
    """This process's threads, started on first use."""
    global _hands
    if _hands is None:
        with _hands_lock:
            if _hands is None:
                _hands = Hands(settings.DB_THREADS)
    return _hands


def _forget_hands() -> None:
    global _hands, _hands_lock
    _hands = None  # a forked child has none of its parent's threads: it starts its own on first use
    _hands_lock = threading.Lock()  # and a lock another thread held at the fork would never be released


os.register_at_fork(after_in_child=_forget_hands)


async def in_pool(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` in a thread of this process's Hands, its database connections released afterwards."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    hands().put((loop, future, contextvars.copy_context(), fn, args))
    return await future
