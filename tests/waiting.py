"""Waiting for something the server does, instead of sleeping and hoping it was done.

A test waits on the event itself: a condition polled until it holds. The deadline
is generous (the machine running the tests may be shared and slow) and only ever
reached when the behaviour is broken, so reaching it fails the test with a message
saying what never happened.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")

DEADLINE = 30.0  # seconds: far beyond any healthy run, so only a real failure reaches it


class _Deadline:
    def __init__(self, what: str, timeout: float, detail: Callable[[], str] | None) -> None:
        self.at = time.monotonic() + timeout
        self.what, self.timeout, self.detail = what, timeout, detail

    def check(self) -> None:
        """Fail the test, saying what never happened, once the deadline has passed."""
        if time.monotonic() >= self.at:
            message = f"waited {self.timeout:g} s for {self.what}, in vain"
            pytest.fail(message + (":\n" + self.detail() if self.detail is not None else ""))


def wait_until(condition: Callable[[], T], what: str, timeout: float = DEADLINE, interval: float = 0.1,
               detail: Callable[[], str] | None = None) -> T:
    """Poll ``condition`` until it returns something true, and return that; fail saying ``what`` never came."""
    deadline = _Deadline(what, timeout, detail)
    while not (result := condition()):
        deadline.check()
        time.sleep(interval)
    return result


async def until(condition: Callable[[], T], what: str, timeout: float = DEADLINE, interval: float = 0.02,
                detail: Callable[[], str] | None = None) -> T:
    """``wait_until`` for the event loop: the tasks under test run while it polls."""
    deadline = _Deadline(what, timeout, detail)
    while not (result := condition()):
        deadline.check()
        await asyncio.sleep(interval)
    return result
