"""Health and readiness for load balancers and orchestrators.

* ``/healthz``: the process is up and answers HTTP. It touches nothing else, so a slow
  database never makes a healthy process look dead (and get restarted in a loop).
* ``/readyz``: this process can serve real traffic: the database answers, Redis answers
  when ``REDIS_URL`` is set, and at least one Celery worker answers a control ping when a
  broker is configured. In the embedded mode (eager tasks, no Redis) there is no broker and
  no worker to ask; the body says so and the answer is 200.

Failures answer 503 with a JSON body naming each check and its state; it carries no
personal data and no exception text (which may hold connection strings with passwords).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

# Seconds a readiness probe may wait on Redis or on a worker's reply: probes run every few
# seconds and must answer before the balancer's own timeout.
READINESS_TIMEOUT = 1.0

Check = Callable[[], str]


def check_database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return "ok"


def check_redis() -> str:
    if not settings.REDIS_URL:
        return "skipped: no REDIS_URL"
    import redis

    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_timeout=READINESS_TIMEOUT, socket_connect_timeout=READINESS_TIMEOUT
    )
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


def check_celery() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "skipped: tasks run eagerly in this process (embedded mode)"
    from server.celery import app

    replies = app.control.ping(timeout=READINESS_TIMEOUT)
    if not replies:
        raise RuntimeError("no worker answered")
    return "ok"


CHECKS: dict[str, Check] = {"database": check_database, "redis": check_redis, "celery": check_celery}


def run_checks() -> tuple[bool, dict[str, str]]:
    """Every check runs (one failure does not hide another); the state names what failed."""
    results: dict[str, str] = {}
    ready = True
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as error:  # any failure means "not ready", whatever raised it
            ready = False
            results[name] = "failed"
            logger.warning("readiness check %s failed: %s", name, type(error).__name__)
    return ready, results


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok\n", content_type="text/plain")


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    ready, results = run_checks()
    body = {"status": "ready" if ready else "not ready", "checks": results}
    return JsonResponse(body, status=200 if ready else 503)
