"""Autobahn's per-connection debug text is built only when something logs it (server.autobahn_debug)."""

from __future__ import annotations

import pprint

from autobahn.websocket import protocol
from twisted.logger import formatEvent

import server.asgi  # noqa: F401  (the server process installs it)
from server.autobahn_debug import LazyPformat


class Counted:
    """A value whose repr counts how often it was formatted."""

    def __init__(self) -> None:
        self.formatted = 0

    def __repr__(self) -> str:
        self.formatted += 1
        return "counted"


def test_the_server_process_gives_autobahn_the_lazy_formatter() -> None:
    assert protocol.pformat is LazyPformat


def test_the_debug_text_is_not_built_when_nothing_logs_it() -> None:
    value = Counted()
    protocol.pformat([("openHandshakeTimeout", value, "Factory")])
    assert value.formatted == 0


def test_a_logged_event_shows_the_same_text_pformat_gives() -> None:
    config = [("openHandshakeTimeout", 5, "WebSocketServerFactory"), ("autoPingInterval", 0, "Factory")]
    event = {"log_format": "\n{attrs}", "attrs": protocol.pformat(config)}
    assert formatEvent(event) == "\n" + pprint.pformat(config)


def test_the_timings_text_is_still_a_string() -> None:
    timings = protocol.Timings()
    timings.track("a")
    assert isinstance(str(timings), str) and "'a'" in str(timings)
