"""Django's PostgreSQL backend, whose connection pool skips the health check of a connection just returned.

With ``CONN_HEALTH_CHECKS`` Django gives psycopg_pool its ``check_connection``:
an empty statement, one round trip to PostgreSQL, before every checkout. Each
WebSocket admission and each join link checks a connection out and returns it
(a thread hop each, server.threads), so during a burst of joins every
statement came with an empty one beside it: a measurable part of a join's
server CPU and of PostgreSQL's (docs/performance.md, "Issue 13: joins").

A connection handed back to the pool less than ``RECENT`` seconds ago is given
out unchecked: for it to be broken, the database would have had to go away
*and come back* within that second, or the connection would fail its next
statement anyway. Such a statement fails like any during an outage (the
socket answers "unavailable"; the broken connection is discarded on its
return to the pool). A connection idle longer is checked as before, so one
that broke while idle (a restart, a cut) is replaced, never used.

The pool hands out the connection returned last (``LastInFirstOut``), not the
one idle longest as psycopg_pool does: a statement on the connection just used
cost 60 µs less of this process's CPU than on one idle since the previous
round (the other PostgreSQL backend has to be woken; measured in one thread,
docs/performance.md, "Issue 13: joins, a fourth pass"), and in a quiet hour the
connections beyond the one in use stay idle and are checked, then shrunk away,
instead of being kept busy in turn.

The pool is built exactly as Django builds it, with psycopg_pool's public
``check`` callback. The moment of the return is noted by the backend as it
hands the connection back (``_close``), not by the pool's ``reset`` callback:
with a ``reset`` callback psycopg_pool returns every connection through its
worker thread (a queue and a thread wake-up per statement's connection, 6 % of
the servers' py-spy samples during joins), and Django's error wrapping no longer covers
the return.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool  # a dependency here (pyproject), not optional as in Django

RECENT = 1.0  # seconds since its return within which a pooled connection is given out unchecked
RETURNED_AT = "_renkei_returned_at"  # set on the psycopg connection by note_return


def note_return(conn: Any) -> None:
    """When the connection went back to the pool (the pool rolls back whatever transaction it still had)."""
    setattr(conn, RETURNED_AT, time.monotonic())


def check_unless_recent(conn: Any) -> None:
    """psycopg_pool's ``check`` callback: the pool's own check, unless the connection came back a moment ago."""
    returned = getattr(conn, RETURNED_AT, None)
    if returned is not None and time.monotonic() - returned < RECENT:
        return
    ConnectionPool.check_connection(conn)


class LastInFirstOut(ConnectionPool):
    """psycopg_pool's pool, handing out the connection that came back last.

    psycopg_pool takes a ready connection from the left of its deque and puts
    returned ones on the right; turning the deque by one first brings the one
    returned last to the left, the rest keeping their order (``_shrink_pool``
    still closes the one idle longest). It relies on psycopg_pool's private
    ``_pool`` deque and ``_get_ready_connection``, called under the pool's lock:
    pyproject.toml pins psycopg-pool to the minor versions read (3.2 and 3.3),
    and tests/server/test_pool_check.py asserts the order against PostgreSQL.
    """

    def _get_ready_connection(self, timeout: float | None) -> Any:
        self._pool.rotate(1)
        return super()._get_ready_connection(timeout)


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self) -> Any:
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not pool_options:
            return None
        if self.alias not in self._connection_pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise ImproperlyConfigured("Pooling doesn't support persistent connections.")
            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # as Django's: it sets the connection's own mode later
            checks = self.settings_dict["CONN_HEALTH_CHECKS"]
            pool = LastInFirstOut(
                kwargs=connect_kwargs,
                open=False,
                configure=self._configure_connection,
                check=check_unless_recent if checks else None,
                **({} if pool_options is True else pool_options),
            )
            self._connection_pools.setdefault(self.alias, pool)
        return self._connection_pools[self.alias]

    def _close(self) -> None:
        if self.connection is not None and self.pool:
            note_return(self.connection)  # read by check_unless_recent at its next checkout
        super()._close()
