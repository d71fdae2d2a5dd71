"""Frames a test sends after an action, to prove the server had its chance before asserting that nothing came.

"Nothing arrived" is only worth asserting once the server has had its chance:
the relay writes a group's frames in the order it got them, so once a marker,
sent later through each group the listener is in (their room, the whole talk),
has arrived, whatever was sent to the listener earlier has arrived too.
received_before collects what came first.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.waiting import DEADLINE

Frame = dict[str, Any]
Marker = Callable[[Frame], bool]


def chat(body: str) -> Marker:
    """The room's chat: the listener's own room group."""
    return lambda frame: frame["type"] == "chat.message" and frame["body"] == body


def question(body: str) -> Marker:
    """A question to the speaker: the talk's group."""
    return lambda frame: frame["type"] == "question" and frame["body"] == body


def announcement(body: str) -> Marker:
    """A staff broadcast to every reception table: the talk's group."""
    return lambda frame: frame["type"] == "reception.announcement" and frame["body"] == body


def stage(state: str) -> Marker:
    """The stage frame: the talk's group, after any move the same stage change caused."""
    return lambda frame: frame["type"] == "stage" and frame["state"] == state


def types(frames: list[Frame]) -> list[str]:
    return [frame["type"] for frame in frames]


def bodies(frames: list[Frame]) -> list[str | None]:
    return [frame.get("body") for frame in frames]


async def received_before(recv: Callable[[float], Awaitable[Frame]], markers: tuple[Marker, ...],
                          timeout: float = DEADLINE) -> list[Frame]:
    """Every frame ``recv`` (called with the seconds left) returns until each of ``markers`` has (those left out)."""
    waiting, earlier = list(markers), []
    deadline = time.monotonic() + timeout
    while waiting:
        try:
            frame = await recv(max(0.1, deadline - time.monotonic()))
        except TimeoutError:
            pytest.fail(f"{len(waiting)} of {len(markers)} markers did not arrive within {timeout:g} s; "
                        f"before them came {earlier}")
        hit = next((marker for marker in waiting if marker(frame)), None)
        if hit is None:
            earlier.append(frame)
        else:
            waiting.remove(hit)
    return earlier
