"""Whether a process's relay still hears the channel layer: a heartbeat it sends itself through Redis.

channels_redis' pub/sub layer does not come back from a Redis restart: its receive task logs the
broken connection and then waits with no subscription left (channels_redis 4.3), so the process
would go on serving sockets that hear nothing from the other processes; and whatever anyone
published while Redis was away is gone. The relay cannot see either from the layer's API, so once a
tick it sends a numbered beat to its own channel and watches it come back:

- a beat that could not be sent, or a number skipped, means messages were lost;
- ``MISSED_BEATS`` beats in a row with nothing at all heard means the subscription is gone
  (nothing heard at all, not just no beat: a process reading a backlog is slow, not deaf).

Either way the relay subscribes afresh (Relay._resubscribe) until a beat sent after that comes
back, and then has every local socket reconnect (rooms.realtime.protocol.RECONNECT): the page's
``hello`` and ``resume`` bring what it missed from the database, which lost nothing.
"""

from __future__ import annotations

from typing import Any

MISSED_BEATS = 3  # ticks (seconds) of silence, with beats going out, before the link counts as gone
BEAT = "relay.beat"


class LinkWatch:
    """The heartbeat's bookkeeping; the relay does the sending, subscribing and closing."""

    def __init__(self) -> None:
        self.sent = 0  # numbers handed out (a beat that failed to send keeps its number: a gap)
        self.heard = 0  # the last beat number that came back
        self.silent = 0  # beats sent since any message at all was heard
        self.lost = False  # messages may have been lost: recover, then have the sockets resync
        self.recovering = False
        self.resubscribed_at: int | None = None  # the beat number at the last fresh subscription

    def beat(self) -> dict[str, Any]:
        self.sent += 1
        self.silent += 1
        return {"type": BEAT, "n": self.sent}

    def send_failed(self) -> None:
        self.lost = True

    def heard_something(self) -> None:
        self.silent = 0

    def broken(self) -> bool:
        """True when the link must be rebuilt now (on the tick)."""
        if self.lost or self.silent >= MISSED_BEATS:
            self.lost = self.recovering = True
        if not self.recovering:
            return False
        # Subscribed afresh, but no beat sent since has come back in MISSED_BEATS ticks: try again.
        return self.resubscribed_at is None or self.sent - self.resubscribed_at > MISSED_BEATS

    def resubscribed(self) -> None:
        self.resubscribed_at = self.sent

    def heard_beat(self, n: int) -> bool:
        """Record beat ``n``; True when it ends a recovery (the sockets should now reconnect)."""
        self.heard_something()
        if self.recovering:
            if self.resubscribed_at is not None and n > self.resubscribed_at:
                self.heard = n
                self.lost = self.recovering = False
                self.resubscribed_at = None
                return True
            return False
        if n != self.heard + 1:
            self.lost = True  # a beat went missing, and whatever else was published then
        self.heard = max(self.heard, n)
        return False
