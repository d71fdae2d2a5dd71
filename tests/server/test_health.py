"""/healthz says the process is up; /readyz says whether it can serve (database, Redis, workers)."""

from __future__ import annotations

import pytest

from server import health


def test_healthz_answers_200_with_a_tiny_body_and_touches_no_database(client):
    # No db fixture: any database access in the request would raise here.
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n"


@pytest.mark.django_db
def test_readyz_in_the_embedded_mode_checks_the_database_and_says_what_it_skipped(client, settings):
    settings.REDIS_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("skipped")
    assert body["checks"]["celery"].startswith("skipped")


@pytest.mark.django_db
def test_readyz_answers_503_naming_the_database_when_it_fails(client, settings, monkeypatch):
    settings.REDIS_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = True

    def broken() -> str:
        raise RuntimeError("connection refused to postgres://user:secret@db")

    monkeypatch.setitem(health.CHECKS, "database", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {
        "status": "not ready",
        "checks": {"database": "failed", "redis": "skipped: no REDIS_URL", "celery": response.json()["checks"]["celery"]},
    }
    assert b"secret" not in response.content


@pytest.mark.django_db
def test_readyz_answers_503_naming_redis_when_it_does_not_answer(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == "failed"
    assert response.json()["checks"]["database"] == "ok"


@pytest.mark.django_db
def test_readyz_answers_503_naming_celery_when_no_worker_answers_the_ping(client, settings, monkeypatch):
    from server.celery import app

    settings.REDIS_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    timeouts: list[float] = []

    def ping(timeout: float) -> list:
        timeouts.append(timeout)
        return []

    monkeypatch.setattr(app.control, "ping", ping)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["celery"] == "failed"
    assert timeouts == [health.READINESS_TIMEOUT]


@pytest.mark.django_db
def test_readyz_answers_200_when_a_worker_answers_the_ping(client, settings, monkeypatch):
    from server.celery import app

    settings.REDIS_URL = ""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(app.control, "ping", lambda timeout: [{"celery@worker": {"ok": "pong"}}])
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["celery"] == "ok"


@pytest.mark.services  # the services pass only: the embedded pass has no Redis to ask
def test_readyz_with_the_real_redis_of_the_test_run_answers_ok_for_redis(settings):
    assert settings.REDIS_URL, "the services pass runs with REDIS_URL set"
    assert health.check_redis() == "ok"
