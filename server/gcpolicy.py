"""Short garbage-collection pauses for the server processes.

CPython's full collection walks every object the collector tracks. A Daphne
process holding 1,000 WebSocket connections tracks about 300,000, and under
chat load it paused 0.1–0.25 s for a full collection every few seconds
(measured, docs/performance.md, "Garbage-collection pauses"); every frame in
flight waited. Most of those objects live as long as the process or the
connection (modules, settings, each admitted consumer) and need not be walked
again and again. So, once a second, after a young collection, whatever
survived is moved to the permanent generation (``gc.freeze``), and the
collector only ever walks what is new.

What became garbage after it was frozen (the cycles of a closed connection, of
a request in flight at the freeze) is reclaimed by a full collection when the
process's peak memory has grown by a quarter since the last one (as CPython's
own rule for its oldest generation, but measured without walking the frozen
objects: counting them took 37 ms a call; at most every ``GROWTH_GAP`` seconds),
when ``CLOSED`` connections closed since the last one (a reception's close or
the end of a talk leaves each one's frozen cycles behind: without this, new
connections got fresh memory while the old ones' waited for the clock, and the
30-minute soak's RSS stepped up by ~18 MiB per process every ten minutes;
docs/performance.md, "Issue 13: 30-minute soak"), or every ``GC_RECLAIM_SECONDS``: one
pause of the old length per quarter of growth or every few minutes, instead
of every few seconds.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging
import resource
import time
from collections.abc import Callable

from django.conf import settings

logger = logging.getLogger(__name__)

_started: set[asyncio.AbstractEventLoop] = set()


def start() -> None:
    """Keep the pauses of this event loop's process short (once per loop; off when GC_FREEZE_SECONDS is 0)."""
    if settings.GC_FREEZE_SECONDS <= 0:
        return
    loop = asyncio.get_running_loop()
    if loop in _started:
        return
    _started.add(loop)
    loop.create_task(_maintain(settings.GC_FREEZE_SECONDS, settings.GC_RECLAIM_SECONDS))


GROWTH = 1.25  # reclaim when peak memory grew by this factor since the last reclaim
# ... but not sooner than this after the last one: while thousands join, memory grows with live
# connections, not garbage, and a full collection every few seconds walked them all for little
# (7 % of a server's CPU during 2,000 joins: docs/performance.md, "Issue 13").
GROWTH_GAP = 30.0
CLOSED = 500  # connections closed since the last reclaim that call for one (also not sooner than GROWTH_GAP)

_closed = 0  # connections this process closed, ever (rooms.realtime.consumer counts them)


def connection_closed() -> None:
    """A WebSocket connection ended: its objects (frozen while it lived) are garbage only a reclaim frees."""
    global _closed
    _closed += 1


def closed_connections() -> int:
    return _closed


def peak_memory() -> int:
    """The process's peak resident size (its unit differs by platform; only ratios are used)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def _maintain(every: float, reclaim_every: float, memory: Callable[[], int] = peak_memory,
                    growth_gap: float = GROWTH_GAP, closed: Callable[[], int] = closed_connections) -> None:
    last_reclaim = time.monotonic()
    freeze()
    baseline = memory()
    closed_before = closed()
    try:
        while True:
            await asyncio.sleep(every)
            freeze()
            since, grown = time.monotonic() - last_reclaim, memory() > baseline * GROWTH
            left = closed() - closed_before >= CLOSED
            if since >= reclaim_every or ((grown or left) and since >= growth_gap):
                closed_before = closed()
                reclaim()
                last_reclaim = time.monotonic()
                baseline = memory()
    finally:
        _started.discard(asyncio.get_running_loop())


def freeze() -> None:
    gc.collect(1)  # young garbage first, so it is not frozen with the survivors
    gc.freeze()


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim  # type: ignore[no-any-return]


_trim = _malloc_trim()


def reclaim() -> None:
    started = time.perf_counter()
    gc.unfreeze()
    found = gc.collect()
    gc.freeze()
    if _trim is not None:
        # What the collection freed went back to the C allocator, which keeps freed pages mapped: after
        # a mass close (a reception's end, a talk change) the process kept them as its high-water mark,
        # +17 MiB a process at the soak's first talk change (docs/performance.md, "Issue 13: 30-minute
        # soak"). malloc_trim hands the free pages of every arena back to the kernel.
        _trim(0)
    logger.info("full garbage collection: %d objects reclaimed in %.3f s", found, time.perf_counter() - started)
