"""The channel layer: channels_redis's pub/sub layer, whose publishes of a burst go out together, in order.

channels_redis (4.x) publishes under a per-shard ``asyncio.Lock``: every
``group_send`` and ``send`` of a process waits for the one before it, at least
two turns of the event loop each (the reply, then the hand-over of the lock).
In a Daphne process that is writing a chat message to thousands of sockets a
turn is long, and a burst of 50 messages sat in that queue for seconds before
the last was published (docs/performance.md, "Issue 13", fan-out).

Here each shard has one sender: a publish joins the shard's queue, and the
sender sends everything queued so far as one pipeline on one connection (one
round trip for the lot), then the next lot. Publishes still reach Redis in the
order they were made (the relay's order guarantees rest on it: a group's
frames are written in the order they were published), and subscribing,
unsubscribing and flushing still take the lock.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _wrap_close


class _Shard(RedisSingleShardConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._queued: list[tuple[str, bytes, asyncio.Future[None]]] = []
        self._sender: asyncio.Task[None] | None = None

    async def publish(self, channel: str, message: bytes) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued.append((channel, message, done))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_queued())
        await done

    async def _send_queued(self) -> None:
        while self._queued:
            lot, self._queued = self._queued, []
            try:
                async with self._lock:  # not while a flush closes the client or a subscription changes
                    self._ensure_redis()
                    pipe = self._redis.pipeline(transaction=False)
                    for channel, message, _ in lot:
                        pipe.publish(channel, message)
                    await pipe.execute()
            except asyncio.CancelledError:  # the loop is closing: nobody is left to wait
                for *_, done in lot + self._queued:
                    done.cancel()
                raise
            except Exception as exc:  # each publisher sees the error, as with a publish of its own
                for *_, done in lot:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for *_, done in lot:
                    if not done.done():
                        done.set_result(None)


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]


class PubSubChannelLayer(RedisPubSubChannelLayer):
    def _get_layer(self) -> RedisPubSubLoopLayer:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:  # as the parent does, with the loop layer above
            layer = self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return layer
