"""Rate limits that hold across every server process: registration attempts and the WebSocket's questions,
reactions and card offers (chat is counted in the database, see rooms.services.send_chat).

Counting is the ``limits`` library's moving window: at most N hits in any span of the
window, as the old per-process deques counted, but kept where every process sees it.

* With ``REDIS_URL`` the counters live in Redis under ``RATELIMIT_KEY_PREFIX``: one
  Lua script call per hit (the check and the count are one atomic step, so two processes
  cannot both take the last slot). HTTP views use the synchronous client (thread-safe
  pool); sockets use the asyncio client, one per event loop, so a hit never blocks the loop.
* Embedded (no Redis), one process serves everything: one in-memory counter per process,
  shared by the HTTP threads and the event loop. Its hit is a dictionary operation under a
  lock (microseconds), so sockets call it on the loop directly; the library's asyncio memory
  storage would hop to a thread on each expiry pass instead.
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import time
from collections.abc import Sequence

from django.conf import settings
from django.http import HttpRequest
from limits import RateLimitItem, RateLimitItemPerSecond, parse_many
from limits.aio.storage import RedisStorage as AsyncRedisStorage
from limits.aio.strategies import MovingWindowRateLimiter as AsyncMovingWindowRateLimiter
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

_lock = threading.Lock()
_limiter: MovingWindowRateLimiter | None = None
_async_limiters: dict[asyncio.AbstractEventLoop, AsyncMovingWindowRateLimiter] = {}


def _shared() -> bool:
    return bool(settings.REDIS_URL)


def limiter() -> MovingWindowRateLimiter:
    """The process's synchronous limiter (Redis when configured, else memory)."""
    global _limiter
    with _lock:
        if _limiter is None:
            if _shared():
                storage = storage_from_string(settings.REDIS_URL, key_prefix=settings.RATELIMIT_KEY_PREFIX)
            else:
                storage = storage_from_string("memory://")
            _limiter = MovingWindowRateLimiter(storage)
        return _limiter


def _async_limiter() -> AsyncMovingWindowRateLimiter:
    """The running event loop's asyncio limiter on Redis (a connection pool is bound to its loop)."""
    loop = asyncio.get_running_loop()
    found = _async_limiters.get(loop)
    if found is None:
        for old in [lp for lp in _async_limiters if lp.is_closed()]:
            del _async_limiters[old]
        storage = AsyncRedisStorage(
            "async+" + settings.REDIS_URL, implementation="redispy", key_prefix=settings.RATELIMIT_KEY_PREFIX
        )
        found = _async_limiters[loop] = AsyncMovingWindowRateLimiter(storage)
    return found


def per_seconds(rate: tuple[int, float]) -> RateLimitItem:
    """``(count, seconds)``, as rooms.protocol declares its limits, as a limits item."""
    count, seconds = rate
    return RateLimitItemPerSecond(count, max(1, round(seconds)))


def parse(text: str) -> list[RateLimitItem]:
    """A setting such as ``"10/minute;60/hour"`` (the limits library's notation)."""
    return parse_many(text)


def _retry_after(item: RateLimitItem, keys: Sequence[str]) -> float:
    reset_at = limiter().get_window_stats(item, *keys).reset_time
    return max(1.0, reset_at - time.time())


def hit(items: Sequence[RateLimitItem], *keys: str) -> float | None:
    """Count one attempt against each limit; None when all allow it, else seconds until a slot frees."""
    for item in items:
        if not limiter().hit(item, *keys):
            return _retry_after(item, keys)
    return None


async def ahit(rate: tuple[int, float], *keys: str) -> bool:
    """Count one action against ``rate`` from a socket; False when it is over the limit."""
    item = per_seconds(rate)
    if not _shared():
        return limiter().hit(item, *keys)
    return await _async_limiter().hit(item, *keys)


def reset() -> None:
    """Forget every count under this deployment's prefix (tests; an operator after an incident)."""
    limiter().storage.reset()


def client_address(request: HttpRequest) -> str:
    """The address to count a visitor by.

    Behind ``TRUSTED_PROXY_COUNT`` proxies, REMOTE_ADDR is the nearest proxy and each proxy
    appends the address it received from to X-Forwarded-For, so the visitor's address is the
    N-th entry from the right (entries further left are the visitor's own word and can be
    forged). IPv6 visitors are counted per /64, the block one subscriber usually holds.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)
