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
import os

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess

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


def registry() -> CollectorRegistry:
    """The registry to expose: the multiprocess aggregate when configured, else this process's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        aggregate = CollectorRegistry()
        multiprocess.MultiProcessCollector(aggregate)
        return aggregate
    from prometheus_client import REGISTRY

    return REGISTRY


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
