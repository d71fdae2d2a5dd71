"""server.threads: the hop from the event loop to a thread and back that the hot paths take."""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading

import pytest
from asgiref.sync import async_to_sync

from server import threads

# The threads outlive a test, as they outlive a request: one may hold an earlier test's database
# connection (SQLite's in-memory test database is never closed), which each call's release looks at.
pytestmark = pytest.mark.django_db

WHO = contextvars.ContextVar("who", default="nobody")


def every_thread_serves() -> None:
    """As many calls as there are threads, each waiting for all the others: only if every thread takes one."""
    size = len(threads.hands().threads)
    barrier = threading.Barrier(size)

    async def main() -> None:
        await asyncio.gather(*(threads.in_pool(barrier.wait, 5) for _ in range(size)))

    asyncio.run(main())  # BrokenBarrierError when a thread is gone


def test_a_call_returns_its_result_and_raises_its_error_in_the_caller():
    async def main() -> int:
        with pytest.raises(ZeroDivisionError):
            await threads.in_pool(lambda: 1 / 0)
        return await threads.in_pool(lambda a, b: a + b, 2, 3)

    assert asyncio.run(main()) == 5


def test_the_call_runs_in_another_thread_with_the_callers_context():
    async def main() -> tuple[str, str]:
        WHO.set("connection-7")
        return await threads.in_pool(lambda: (WHO.get(), threading.current_thread().name))

    who, thread = asyncio.run(main())
    assert who == "connection-7"
    assert thread != threading.current_thread().name


def test_async_code_called_from_the_thread_runs_on_the_callers_loop():
    async def loop_of_the_coroutine() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    async def main() -> bool:
        here = asyncio.get_running_loop()
        there = await threads.in_pool(async_to_sync(loop_of_the_coroutine))
        return there is here

    assert asyncio.run(main())


def test_the_threads_database_connections_are_released_after_each_call(monkeypatch):
    released: list[str] = []
    monkeypatch.setattr(threads, "close_old_connections", lambda: released.append(threading.current_thread().name))

    async def main() -> str:
        return await threads.in_pool(lambda: threading.current_thread().name)

    assert released == [asyncio.run(main())]


def test_a_caller_that_went_away_costs_no_thread():
    gate = threading.Event()

    async def main() -> None:
        waiting = asyncio.ensure_future(threads.in_pool(gate.wait, 10))
        await asyncio.sleep(0)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        gate.set()  # the call finishes after its caller was cancelled; its result is dropped

    asyncio.run(main())
    every_thread_serves()


def test_a_call_that_outlives_its_event_loop_leaves_its_thread_serving():
    gate, started = threading.Event(), threading.Event()
    loop = asyncio.new_event_loop()

    def slow() -> None:
        started.set()
        gate.wait(10)

    pending = loop.create_task(threads.in_pool(slow))
    loop.run_until_complete(asyncio.sleep(0))
    assert started.wait(10)
    pending.cancel()
    loop.close()  # a server stopping with a call still running
    gate.set()
    every_thread_serves()


def test_a_forked_child_starts_threads_of_its_own():
    threads.hands()  # the parent's are running
    pid = os.fork()
    if pid == 0:  # the child: none of the parent's threads, and a call still works
        code = 1
        try:
            fresh = threads._hands is None
            code = 0 if fresh and asyncio.run(threads.in_pool(lambda: 42)) == 42 else 1
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0


def test_a_process_runs_as_many_threads_as_db_threads_says(settings, monkeypatch):
    monkeypatch.setattr(threads, "_hands", None)  # this test's own; the process's come back afterwards
    settings.DB_THREADS = 3
    assert len(threads.hands().threads) == 3
    every_thread_serves()


def test_db_threads_defaults_to_one_per_core_and_at_least_two():
    import subprocess
    import sys

    code = "import os; from django.conf import settings; print(settings.DB_THREADS, os.cpu_count())"
    env = {"SECRET_KEY": "x", "DJANGO_SETTINGS_MODULE": "server.settings", "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    threads_, cores = map(int, run.stdout.split())
    assert threads_ == max(2, cores)
    run = subprocess.run([sys.executable, "-c", code], env={**env, "DB_THREADS": "5"}, capture_output=True,
                         text=True, check=True)
    assert run.stdout.split()[0] == "5"


def test_a_negative_db_threads_is_refused_at_startup():
    import subprocess
    import sys

    env = {"SECRET_KEY": "x", "DJANGO_SETTINGS_MODULE": "server.settings", "PATH": "/usr/bin:/bin", "DB_THREADS": "-2"}
    run = subprocess.run([sys.executable, "-c", "import server.settings"], env=env, capture_output=True, text=True)
    assert run.returncode != 0 and "DB_THREADS must be 1 or more" in run.stderr
