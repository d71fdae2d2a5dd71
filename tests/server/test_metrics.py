"""/metrics: Prometheus text for the operator with the token, a 404 for everyone else."""

from __future__ import annotations

import warnings

from server import metrics


def test_metrics_answers_404_to_everyone_while_no_token_is_configured(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


def test_metrics_answers_404_to_a_scrape_without_or_with_a_wrong_token(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Basic s3cret-scrape-token").status_code == 404


def test_metrics_serves_every_renkei_metric_to_a_scrape_with_the_token(client, settings):
    settings.METRICS_TOKEN = "s3cret-scrape-token"
    metrics.ERRORS.labels(code="rate_limited").inc()
    metrics.RELAY_BATCH_SIZE.observe(3)
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    for name in (
        "renkei_connected_attendees",
        "renkei_ws_frames_in_total",
        "renkei_ws_frames_out_total",
        'renkei_ws_errors_total{code="rate_limited"}',
        "renkei_relay_batch_size_bucket",
        "renkei_room_moves_total",
        "renkei_room_move_seconds",
        "renkei_chat_write_seconds",
    ):
        assert name in text, name


def scrape(client) -> str:
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
    assert response.status_code == 200
    return response.content.decode()


def queue_length(text: str, queue: str) -> float:
    line = next(line for line in text.splitlines() if line.startswith(f'renkei_celery_queue_length{{queue="{queue}"}}'))
    return float(line.rsplit(" ", 1)[1])


def test_the_celery_queue_length_counts_the_tasks_waiting_in_redis_at_scrape_time(client, settings):
    import pytest

    if settings.CELERY_TASK_ALWAYS_EAGER:
        # Embedded: tasks run in the request, nothing ever waits.
        settings.METRICS_TOKEN = "s3cret-scrape-token"
        assert queue_length(scrape(client), settings.CELERY_TASK_DEFAULT_QUEUE) == 0
        return
    import redis

    from server.celery import app

    settings.METRICS_TOKEN = "s3cret-scrape-token"
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"]
    assert prefix, "the test run's own key prefix keeps these tasks away from any real worker"
    store = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    keys = [f"{prefix}{queue}", f"{prefix}{queue}{metrics.PRIORITY_SEPARATOR}3"]
    store.delete(*keys)
    try:
        before = queue_length(scrape(client), queue)
        # Real task messages, published as the app does: no worker consumes this run's prefix. (The tests'
        # app may be set to run tasks eagerly; send_task publishes regardless, and says so in a warning.)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(3):
                app.send_task("rooms.tasks.sync_media", queue=queue)
            app.send_task("rooms.tasks.sync_media", queue=queue, priority=3)
        assert store.llen(keys[0]) + store.llen(keys[1]) == 4
        assert queue_length(scrape(client), queue) == before + 4
    finally:
        store.delete(*keys)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(settings, "CELERY_BROKER_URL", "redis://127.0.0.1:1/0")  # nothing listens: the scrape still answers
        assert "renkei_celery_queue_length" in scrape(client)
