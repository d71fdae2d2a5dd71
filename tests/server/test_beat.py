"""The embedded beat loop keeps its schedule through tasks that cannot be found or that fail."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
import uuid

from server import beat
from server.celery import app
from tests.servers import ROOT
from tests.waiting import until


async def test_a_scheduled_task_that_is_not_registered_is_logged_and_runs_once_it_is(caplog):
    name = f"tests.beat.late_{uuid.uuid4().hex[:8]}"
    runs: list[int] = []
    loop = asyncio.create_task(beat.run_every("late", {"task": name, "schedule": 0.05}))
    try:
        with caplog.at_level(logging.ERROR, logger="server.beat"):
            await until(lambda: len([r for r in caplog.records if "scheduled task late failed" in r.getMessage()]) >= 2,
                        "two logged failures of the task nobody registered yet")
        assert not loop.done(), "an unknown task ended the schedule"

        def late() -> None:
            runs.append(1)

        app.task(name=name)(late)
        await until(lambda: runs, "the task registered later to run")
    finally:
        loop.cancel()


async def test_a_task_that_raises_does_not_end_the_schedule(caplog):
    name = f"tests.beat.failing_{uuid.uuid4().hex[:8]}"
    calls: list[int] = []

    def failing() -> None:
        calls.append(1)
        raise RuntimeError("the database is away")

    app.task(name=name)(failing)
    loop = asyncio.create_task(beat.run_every("failing", {"task": name, "schedule": 0.05}))
    try:
        with caplog.at_level(logging.ERROR, logger="server.beat"):
            await until(lambda: len(calls) >= 3, "the failing task to run three times")
        assert not loop.done()
    finally:
        loop.cancel()


def test_the_server_process_registers_every_scheduled_task_it_runs():
    # A fresh process, as Daphne starts: nothing has imported rooms.tasks yet.
    probe = ("import django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'server.settings'; django.setup()\n"
             "import server.asgi\n"
             "from django.conf import settings\n"
             "from server import beat\n"
             "from server.celery import app\n"
             "beat.register_tasks()\n"
             "print(sorted(e['task'] for e in settings.CELERY_BEAT_SCHEDULE.values() if e['task'] not in app.tasks))")
    result = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
