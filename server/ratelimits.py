"""Rate limits that hold across every server process: registration attempts and the WebSocket's questions,
reactions and card offers (chat is counted in the database, see rooms.lecture.chat.send_chat).

Counting is the ``limits`` library's moving window: at most N hits in any span of the
window, as the old per-process deques counted, but kept where every process sees it.

* With ``REDIS_URL`` the counters live in Redis under ``RATELIMIT_KEY_PREFIX``: one
  Lua script call per hit (the check and the count are one atomic step, so two processes
  cannot both take the last slot). HTTP views use the synchronous client (thread-safe
  pool); sockets use the asyncio client, one per event loop, so a hit never blocks the loop.
  A hit costs about 0.1–0.3 ms of the process's CPU (docs/performance.md), so sockets
  first look at what this process alone has accepted: someone already over the limit here
  is refused without asking the shared store, and a flood from one socket costs next to nothing.
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
from collections import deque
from collections.abc import Sequence

import redis.asyncio
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
# What this process accepted per (kind, person), only to refuse early; Redis stays the authority.
_seen_here: dict[tuple[str, ...], deque[float]] = {}
SEEN_HERE_SWEEP = 10_000  # entries before the expired ones are swept out


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
        # A burst of reactions from many sockets waits for a free connection instead of failing.
        pool = redis.asyncio.BlockingConnectionPool.from_url(settings.REDIS_URL, max_connections=32, timeout=10)
        storage = AsyncRedisStorage(
            "async+" + settings.REDIS_URL, implementation="redispy", key_prefix=settings.RATELIMIT_KEY_PREFIX,
            connection_pool=pool,
        )
        found = _async_limiters[loop] = AsyncMovingWindowRateLimiter(storage)
    return found


def per_seconds(rate: tuple[int, float]) -> RateLimitItem:
    """``(count, seconds)``, as rooms.realtime.protocol declares its limits, as a limits item."""
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
    count, seconds = rate
    now = time.monotonic()
    seen = _seen_here.get(keys)
    if seen is not None:
        while seen and now - seen[0] > seconds:
            seen.popleft()
        if len(seen) >= count:
            return False  # over the limit in this process alone, so over it everywhere
    item = per_seconds(rate)
    allowed = await _async_limiter().hit(item, *keys) if _shared() else limiter().hit(item, *keys)
    if not allowed:
        return False
    if seen is None:
        if len(_seen_here) >= SEEN_HERE_SWEEP:
            _sweep(now, seconds)
        seen = _seen_here[keys] = deque()
    seen.append(now)
    return True


def _sweep(now: float, seconds: float) -> None:
    """Drop idle entries (one window for all kinds: a dropped entry only costs one more shared hit)."""
    for key in [k for k, times in _seen_here.items() if not times or now - times[-1] > seconds]:
        del _seen_here[key]


def reset() -> None:
    """Forget every count: in Redis, every key under this deployment's prefix (tests; an operator after an incident)."""
    global _limiter
    _seen_here.clear()
    if _shared():
        limiter().storage.reset()
    else:
        with _lock:
            _limiter = None  # a fresh store; the old one's expiry timer finishes on its own data


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
