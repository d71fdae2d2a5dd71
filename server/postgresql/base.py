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

The pool is built exactly as Django builds it, with psycopg_pool's public
``check`` and ``reset`` callbacks (``reset`` notes when the connection came back).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool  # a dependency (pyproject: psycopg[pool]), not optional as in Django

RECENT = 1.0  # seconds since its return within which a pooled connection is given out unchecked
RETURNED_AT = "_renkei_returned_at"  # set on the psycopg connection by note_return


def note_return(conn: Any) -> None:
    """psycopg_pool's ``reset`` callback: when the connection came back (idle, its transaction over)."""
    setattr(conn, RETURNED_AT, time.monotonic())


def check_unless_recent(conn: Any) -> None:
    """psycopg_pool's ``check`` callback: the pool's own check, unless the connection came back a moment ago."""
    returned = getattr(conn, RETURNED_AT, None)
    if returned is not None and time.monotonic() - returned < RECENT:
        return
    ConnectionPool.check_connection(conn)


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
            pool = ConnectionPool(
                kwargs=connect_kwargs,
                open=False,
                configure=self._configure_connection,
                check=check_unless_recent if checks else None,
                reset=note_return if checks else None,
                **({} if pool_options is True else pool_options),
            )
            self._connection_pools.setdefault(self.alias, pool)
        return self._connection_pools[self.alias]
