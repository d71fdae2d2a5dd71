"""server.threads: the hop from the event loop to a thread and back that the hot paths take."""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync

from server import threads
from tests.server.test_pool_check import pooled_wrapper, terminate
from tests.waiting import wait_until

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


class OnlyThese:
    """Stands for ``django.db.connections`` in server.threads: the wrappers given, as if opened in the thread."""

    def __init__(self, *wrappers: Any) -> None:
        self.wrappers = wrappers

    def all(self, initialized_only: bool = False) -> list[Any]:
        return list(self.wrappers)


@pytest.fixture
def one_thread(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """This test's own Hands of one thread, so that consecutive calls run in the same thread."""
    monkeypatch.setattr(threads, "_hands", None)  # the process's come back afterwards
    settings.DB_THREADS = 1


@pytest.fixture
def pooled(postgres_url: str, one_thread: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A pooled connection handle to the test database, as production configures one, used by the Hands thread."""
    wrapper = pooled_wrapper("hands_hold_test", 2)
    wrapper.inc_thread_sharing()  # made here, used in the Hands thread
    monkeypatch.setattr(threads, "connections", OnlyThese(wrapper))
    yield wrapper
    wrapper.close()
    wrapper.close_pool()


def backend_of(wrapper: Any) -> Callable[[], int]:
    def backend() -> int:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]
    return backend


@pytest.mark.services
def test_an_unpooled_connection_is_closed_after_each_call(postgres_url, one_thread):
    from django.db import connection

    def query() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    async def main() -> bool:
        await threads.in_pool(query)
        return await threads.in_pool(lambda: connection.connection is None)  # the same thread, a call later

    assert connection.settings_dict["CONN_MAX_AGE"] == 0 and "pool" not in connection.settings_dict["OPTIONS"]
    assert asyncio.run(main())


@pytest.mark.services
def test_a_pooled_connection_stays_with_its_thread_between_calls_and_goes_back_to_the_pool_when_idle(pooled):
    backend = backend_of(pooled)

    async def main() -> list[int]:
        return [await threads.in_pool(backend) for _ in range(3)]

    pids = asyncio.run(main())
    assert len(set(pids)) == 1
    assert pooled.pool.get_stats()["requests_num"] == 1  # checked out once for the three calls
    wait_until(lambda: pooled.connection is None, "the idle thread to hand its connection back", interval=0.02)
    assert asyncio.run(threads.in_pool(backend)) == pids[0]  # the pool gives the same one out again
    assert pooled.pool.get_stats()["requests_num"] == 2


@pytest.mark.services
def test_a_kept_connection_whose_backend_died_fails_one_call_and_the_next_call_has_a_new_one(pooled, monkeypatch):
    from django.db import OperationalError

    monkeypatch.setattr(threads, "HOLD", 60.0)  # the thread keeps it however slow this machine is
    backend = backend_of(pooled)
    first = asyncio.run(threads.in_pool(backend))
    assert pooled.connection is not None  # kept by the thread
    terminate(first)  # PostgreSQL ends that backend while the thread keeps it (a restart, an operator)
    with pytest.raises(OperationalError):  # as any statement during an outage: the socket answers "unavailable"
        asyncio.run(threads.in_pool(backend))
    assert asyncio.run(threads.in_pool(backend)) != first  # the broken one was dropped, not kept


@pytest.mark.services
def test_a_pooled_connection_left_in_a_transaction_goes_back_to_the_pool_at_once(pooled):
    def open_transaction() -> None:
        pooled.set_autocommit(False)  # a call that forgot to restore autocommit
        with pooled.cursor() as cursor:
            cursor.execute("SELECT 1")

    asyncio.run(threads.in_pool(open_transaction))
    assert pooled.connection is None  # released at the end of the call, as Django releases it
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
