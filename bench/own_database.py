"""A PostgreSQL database of the benchmark's own, made for one run and dropped after it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit


@contextmanager
def own_database(name: str) -> Iterator[str]:
    """Create ``name`` on the server of DATABASE_URL, point Django at it, drop it (WITH FORCE) afterwards.

    The server comes from DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres);
    connections are neither pooled nor kept open, so the drop finds none.
    """
    import psycopg

    parts = urlsplit(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(parts._replace(path=f"/{name}"))
    os.environ.update({"DATABASE_URL": url,
                       "SECRET_KEY": os.environ.get("SECRET_KEY", "renkei-bench-only-not-secret"),
                       "DJANGO_SETTINGS_MODULE": "server.settings", "DB_CONN_MAX_AGE": "0",
                       "DB_POOL_MAX_SIZE": "0"})
    try:
        yield url
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
