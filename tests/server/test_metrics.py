"""/metrics: Prometheus text for the operator with the token, a 404 for everyone else."""

from __future__ import annotations

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
