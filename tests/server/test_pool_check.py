"""The connection pool tries a connection before handing it out only when it sat idle (server/postgresql/base.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import OperationalError, connection

from server.postgresql import base


class Recorded:
    """A stand-in psycopg connection that records the statements the check sends."""

    autocommit = True

    def __init__(self) -> None:
        self.statements: list[str] = []

    def execute(self, query: str) -> None:
        self.statements.append(query)


def test_a_connection_returned_a_moment_ago_is_handed_out_without_a_round_trip():
    conn = Recorded()
    base.note_return(conn)
    base.check_unless_recent(conn)
    assert conn.statements == []


def test_a_connection_idle_for_longer_or_never_returned_is_tried_first():
    idle, fresh = Recorded(), Recorded()
    base.note_return(idle)
    setattr(idle, base.RETURNED_AT, time.monotonic() - base.RECENT - 0.01)
    base.check_unless_recent(idle)
    base.check_unless_recent(fresh)  # new from the pool's worker: never returned
    assert idle.statements == [""] and fresh.statements == [""]


def pooled_wrapper(alias: str, size: int) -> Any:
    """A second, pooled connection handle to the test database, as production configures one."""
    settings = {**connection.settings_dict, "CONN_MAX_AGE": 0, "CONN_HEALTH_CHECKS": True,
                "OPTIONS": {**connection.settings_dict["OPTIONS"], "pool": {"min_size": size, "max_size": size}}}
    return base.DatabaseWrapper(settings, alias=alias)


@pytest.fixture
def pooled(postgres_url: str) -> Iterator[Any]:
    wrapper = pooled_wrapper("pool_check_test", 1)
    yield wrapper
    wrapper.close()
    wrapper.close_pool()


def backend_pid(wrapper: Any) -> int:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    wrapper.close()  # back to the pool
    return pid


def terminate(pid: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.services
def test_a_connection_that_broke_while_idle_is_replaced_unseen(pooled, monkeypatch):
    first = backend_pid(pooled)
    terminate(first)
    monkeypatch.setattr(base, "RECENT", 0.0)  # as if it had been idle for longer than RECENT
    assert backend_pid(pooled) != first  # the check found it broken: a new one answered


@pytest.mark.services
def test_a_connection_that_broke_a_moment_after_its_return_fails_once_and_is_replaced(pooled):
    first = backend_pid(pooled)
    terminate(first)
    with pytest.raises(OperationalError):
        backend_pid(pooled)  # handed out unchecked: its statement fails, as any during an outage would
    pooled.close()
    assert backend_pid(pooled) != first  # discarded on its return; the next statement has a new one


@pytest.mark.services
def test_the_connection_returned_last_is_handed_out_next(postgres_url):
    # One alias, one pool: two handles on it, as two threads of a server process hold.
    first, second = pooled_wrapper("pool_order_test", 3), pooled_wrapper("pool_order_test", 3)
    try:
        pids = []
        for wrapper in (first, second):  # both checked out at once: two different backends
            with wrapper.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                pids.append(cursor.fetchone()[0])
        first.close()
        second.close()  # returned last
        for _ in range(3):  # out and back again: always that one, not the others in turn
            assert backend_pid(first) == pids[1]
        assert len(set(pids)) == 2
    finally:
        first.close()
        second.close()
        first.close_pool()
