"""Shared fixtures. Services are never skipped: a missing PostgreSQL or Redis fails the run."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def pytest_report_header(config: pytest.Config) -> list[str]:
    db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    return [f"renkei: database={db} channel_layer={layer} celery_eager={settings.CELERY_TASK_ALWAYS_EAGER}"]


@pytest.fixture(autouse=True)
def _eager_celery() -> Iterator[None]:
    """Tasks run in-process unless a test starts a real worker (see test_celery_worker)."""
    from server.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True, scope="session")
def _no_process_timers_in_the_test_process() -> None:
    """The test process is not a server: it neither freezes its heap nor runs the beat schedule by itself.

    Both have their own tests (tests/server) and run in the servers that tests start.
    """
    from django.conf import settings

    settings.GC_FREEZE_SECONDS = 0
    settings.EMBEDDED_BEAT = False


@pytest.fixture(autouse=True, scope="session")
def _abandoned_connections_closed(django_db_setup: None) -> Iterator[None]:
    """Runs its teardown just before the test database is dropped.

    Worker threads of the event loops that async tests closed leave their Django
    database wrappers behind in reference cycles, each still holding a live
    connection, and PostgreSQL refuses to drop a database with a connection.
    A collection closes them.
    """
    yield
    import gc

    gc.collect()


@pytest.fixture(autouse=True)
def _rate_limits_forgotten() -> Iterator[None]:
    """Every test starts with no registration or socket counted (Redis: only this run's prefix)."""
    from server import ratelimits

    ratelimits.reset()
    yield
    ratelimits.reset()


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "")
    if not url:
        pytest.fail("REDIS_URL is not set: this test needs the real Redis (run the README's test command).")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {url} is unreachable: {exc}")
    return url


def delete_redis_keys(url: str, prefix: str) -> None:
    """Remove only what a test wrote: keys under its own prefix (never a flush)."""
    import redis

    if not prefix:
        return
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)


@pytest.fixture(autouse=True, scope="session")
def _run_celery_keys_removed() -> Iterator[None]:
    """The Redis keys this run's Celery left under the run's own prefix (scripts/test sets it) go at the end.

    Publishing a task makes kombu write its bindings (``<prefix>_kombu.binding.*``),
    which no test's own cleanup covers: without this, every run left them behind.
    """
    yield
    url, prefix = os.environ.get("REDIS_URL", ""), os.environ.get("CELERY_KEY_PREFIX", "")
    if url and prefix.endswith(":"):  # a run prefix as scripts/test makes it, never a bare or shared one
        delete_redis_keys(url, prefix)


@pytest.fixture
def postgres_url(transactional_db: None) -> str:
    """A URL for the test database that another process (a Celery worker) can open."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.fail("This test needs PostgreSQL: set DATABASE_URL (run the README's test command).")
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
