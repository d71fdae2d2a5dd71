"""Celery beat's schedule, run inside the server process in the embedded mode.

With no Redis there is no broker, no worker and no beat process: tasks run
eagerly where they are called, and nothing would ever call the timed ones
(reminder mails, the reception opening at a talk's end time). So the one
server process runs ``CELERY_BEAT_SCHEDULE`` itself, each task on a worker
thread so the event loop keeps serving. With Redis, the Procfile's beat
process does this and this module stays off (``EMBEDDED_BEAT``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings

logger = logging.getLogger(__name__)

_started: set[asyncio.AbstractEventLoop] = set()


def start() -> None:
    """Run the beat schedule in this event loop's process (once per loop), when EMBEDDED_BEAT is on."""
    if not settings.EMBEDDED_BEAT:
        return
    loop = asyncio.get_running_loop()
    if loop in _started:
        return
    _started.add(loop)
    register_tasks()
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        loop.create_task(run_every(name, entry))


def register_tasks() -> None:
    """Import every app's tasks module, as a Celery worker does when it starts.

    ``app.autodiscover_tasks()`` is lazy: it waits for the worker's start-up
    signal, which a server process never sends. Without this, a tasks module
    that no view happens to import (``rooms.tasks``) is unknown here and its
    lookup fails with ``NotRegistered``.
    """
    from server.celery import app

    app.loader.import_default_modules()


async def run_every(name: str, entry: dict[str, Any]) -> None:
    from server.celery import app

    while True:
        await asyncio.sleep(float(entry["schedule"]))
        try:
            # Looked up on every run, inside the guard: a task that cannot be found
            # is logged each time and found once it is registered, never ending the loop.
            task = app.tasks[entry["task"]]
            await database_sync_to_async(task.apply, thread_sensitive=False)()
        except asyncio.CancelledError:
            raise
        except Exception:  # the next run tries again; a failing task must not end the schedule
            logger.exception("scheduled task %s failed", name)
