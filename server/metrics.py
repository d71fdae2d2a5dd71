"""Every Prometheus metric of Renkei, and the protected ``/metrics`` view.

Other modules only call the metric objects defined here (``metrics.FRAMES_IN.inc()``),
so the names, labels and help texts live in one place. Labels never carry personal data:
talk ids and error codes only.

Several Daphne processes: when ``PROMETHEUS_MULTIPROC_DIR`` is set (an empty directory,
cleared before the processes start), prometheus-client's multiprocess mode writes each
process's samples there and ``/metrics`` sums them, so one scrape of any process sees them
all. Without it each process reports only its own samples (fine for one process or the
embedded mode).

Protection: ``METRICS_TOKEN`` empty means ``/metrics`` answers 404, as if it did not exist.
Set, a scrape must send ``Authorization: Bearer <token>``; anything else also gets 404, so
the endpoint reveals nothing to the public.
"""

from __future__ import annotations

import hmac
import logging
import os

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

# Gauges are summed over live processes in the multiprocess mode.
CONNECTED = Gauge(
    "renkei_connected_attendees", "Open lecture-room WebSockets per talk", ["talk"], multiprocess_mode="livesum"
)
FRAMES_IN = Counter("renkei_ws_frames_in", "WebSocket frames received from clients")
FRAMES_OUT = Counter("renkei_ws_frames_out", "WebSocket frames sent to clients")
ERRORS = Counter("renkei_ws_errors", "WebSocket error frames sent, by error code", ["code"])
RELAY_BATCH_SIZE = Histogram(
    "renkei_relay_batch_size", "Frames per relay batch sent to a talk's sockets", buckets=(1, 2, 5, 10, 20, 50, 100, 200)
)
ROOM_MOVES = Counter("renkei_room_moves", "Room moves applied to an open socket")
ROOM_MOVE_SECONDS = Histogram("renkei_room_move_seconds", "Seconds a socket takes to switch rooms and say so")
CHAT_WRITE_SECONDS = Histogram("renkei_chat_write_seconds", "Seconds to check and store one chat message")


# kombu's Redis transport keeps a queue's tasks of priority 0 under the queue's own name and those
# of other priority steps under "<name>\x06\x16<step>"; a queue's length is the sum of them all.
PRIORITY_SEPARATOR = "\x06\x16"
PRIORITY_STEPS = (0, 3, 6, 9)
QUEUE_READ_TIMEOUT = 1.0  # a scrape must answer even when Redis does not


def celery_queues() -> list[str]:
    return [settings.CELERY_TASK_DEFAULT_QUEUE]


def celery_queue_lengths() -> dict[str, int]:
    """Tasks waiting per Celery queue, read from the broker now; 0 when tasks run eagerly (embedded)."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {queue: 0 for queue in celery_queues()}
    import redis

    prefix = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "")
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=QUEUE_READ_TIMEOUT,
                                  socket_connect_timeout=QUEUE_READ_TIMEOUT)
    try:
        pipe = client.pipeline(transaction=False)
        for queue in celery_queues():
            for step in PRIORITY_STEPS:
                pipe.llen(f"{prefix}{queue}" + (f"{PRIORITY_SEPARATOR}{step}" if step else ""))
        counts = pipe.execute()
    finally:
        client.close()
    steps = len(PRIORITY_STEPS)
    return {queue: sum(counts[i * steps:(i + 1) * steps]) for i, queue in enumerate(celery_queues())}


class CeleryQueueCollector(Collector):
    """``renkei_celery_queue_length``, read at scrape time (one value for the whole deployment, not per process)."""

    def collect(self):  # type: ignore[no-untyped-def]
        gauge = GaugeMetricFamily("renkei_celery_queue_length", "Celery tasks waiting in the broker, per queue",
                                  labels=["queue"])
        try:
            lengths = celery_queue_lengths()
        except Exception as error:  # Redis down: the scrape still answers; readiness reports the outage
            logger.warning("celery queue length unreadable: %s", type(error).__name__)
            lengths = {}
        for queue, length in lengths.items():
            gauge.add_metric([queue], length)
        yield gauge


CELERY_QUEUES = CeleryQueueCollector()


def registry() -> CollectorRegistry:
    """The registry to expose: this process's (or the multiprocess aggregate), plus the queue lengths."""
    exposed = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(exposed)
    else:
        from prometheus_client import REGISTRY

        exposed.register(RegistryCollector(REGISTRY))
    exposed.register(CELERY_QUEUES)
    return exposed


class RegistryCollector(Collector):
    """Another registry's metrics, so this process's samples and the queue lengths go out in one scrape."""

    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self):  # type: ignore[no-untyped-def]
        return self.source.collect()


def authorized(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if not token:
        return False
    header = request.headers.get("Authorization", "")
    scheme, _, presented = header.partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), token.encode())


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not authorized(request):
        raise Http404
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
