"""The channel layer: channels_redis's pub/sub layer, with publishes that do not queue behind each other.

channels_redis (4.x) publishes under a per-shard ``asyncio.Lock``, so every
``group_send`` and ``send`` of a process waits for the one before it: at
least two turns of the event loop each (the reply, then the hand-over of the
lock). In a Daphne process that is writing a chat message to thousands of
sockets a turn is long, and a burst of 50 messages sat in that queue for
seconds before the first was published (docs/performance.md, "Issue 13",
fan-out). Here a publish takes the lock only to create the shard's client,
then publishes on a pooled connection of its own, side by side with the
others. Subscribing, unsubscribing and flushing still take the lock.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels_redis.pubsub import RedisPubSubChannelLayer, RedisPubSubLoopLayer, RedisSingleShardConnection
from channels_redis.utils import _wrap_close


class _Shard(RedisSingleShardConnection):
    async def publish(self, channel: str, message: bytes) -> None:
        if self._redis is None:
            async with self._lock:
                self._ensure_redis()
        await self._redis.publish(channel, message)


class _LoopLayer(RedisPubSubLoopLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shards = [_Shard(shard.host, self) for shard in self._shards]


class PubSubChannelLayer(RedisPubSubChannelLayer):
    def _get_layer(self) -> RedisPubSubLoopLayer:
        loop = asyncio.get_running_loop()
        layer = self._layers.get(loop)
        if layer is None:  # as the parent does, with the loop layer below
            layer = self._layers[loop] = _LoopLayer(*self._args, **self._kwargs, channel_layer=self)
            _wrap_close(self, loop)
        return layer
