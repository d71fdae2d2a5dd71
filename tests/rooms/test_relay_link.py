"""The relay's heartbeat (rooms.realtime.link): when its link to the other processes counts as lost,
and when it is back so that the sockets can reconnect and catch up."""

from __future__ import annotations

import asyncio

import pytest

from rooms.realtime.link import MISSED_BEATS, LinkWatch
from rooms.realtime.relay import Relay


def beat_round_trip(link: LinkWatch) -> bool:
    return link.heard_beat(link.beat()["n"])


def test_beats_that_come_back_keep_the_link_healthy() -> None:
    link = LinkWatch()
    for _ in range(10):
        assert not link.broken()
        assert not beat_round_trip(link)
    assert not link.broken()


def test_a_beat_that_could_not_be_sent_means_messages_were_lost() -> None:
    link = LinkWatch()
    link.beat()
    link.send_failed()
    assert link.broken()


def test_a_skipped_beat_means_messages_were_lost() -> None:
    link = LinkWatch()
    beat_round_trip(link)
    link.beat()  # never comes back
    assert not link.heard_beat(link.beat()["n"])
    assert link.broken()


def test_silence_for_several_beats_means_the_subscription_is_gone() -> None:
    link = LinkWatch()
    for _ in range(MISSED_BEATS - 1):
        link.beat()
    assert not link.broken()
    link.beat()
    assert link.broken()


def test_a_process_still_reading_other_messages_is_slow_not_deaf() -> None:
    link = LinkWatch()
    for _ in range(MISSED_BEATS * 3):
        link.beat()
        link.heard_something()  # a backlog of chat ahead of the beats
    assert not link.broken()


def test_only_a_beat_sent_after_subscribing_afresh_ends_the_recovery() -> None:
    link = LinkWatch()
    link.send_failed()
    assert link.broken()
    stale = link.beat()  # sent before the fresh subscription
    link.resubscribed()
    assert not link.broken()  # subscribed: wait for a beat to come back before trying again
    assert not link.heard_beat(stale["n"])
    assert link.heard_beat(link.beat()["n"])  # the sockets should reconnect now
    assert not link.broken()
    assert not beat_round_trip(link)


def test_a_fresh_subscription_that_hears_nothing_is_tried_again() -> None:
    link = LinkWatch()
    link.send_failed()
    link.broken()
    link.resubscribed()
    for _ in range(MISSED_BEATS):
        link.beat()
        assert not link.broken()
    link.beat()
    assert link.broken()


async def test_a_relay_subscribing_afresh_while_its_loop_closes_stops_instead_of_running_on() -> None:
    # The tick subscribes afresh by stopping the old reader; if the loop closes meanwhile, the tick's own
    # cancellation must go through, or the tick runs on and the process (or a test's loop) never stops.
    relay = Relay()
    stopping = asyncio.Event()

    async def slow_to_stop() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            stopping.set()
            await asyncio.sleep(0.5)
            raise

    relay.reader = asyncio.create_task(slow_to_stop())
    await asyncio.sleep(0)
    tick = asyncio.create_task(relay._resubscribe())
    await stopping.wait()
    tick.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(tick, 5)
    assert relay.channel is None  # it did not go on to subscribe
