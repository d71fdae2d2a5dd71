"""Autobahn's per-connection debug text is built only when something logs it (server.autobahn_debug)."""

from __future__ import annotations

import pprint
from collections import deque

import click
import pytest
from autobahn.twisted import websocket as twisted_websocket
from autobahn.twisted.websocket import WebSocketServerProtocol
from autobahn.websocket import protocol
from autobahn.websocket.protocol import TrafficStats
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


class Transport:
    """What sendData writes to: a socket's transport, keeping the bytes."""

    def __init__(self) -> None:
        self.written: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)


def test_a_frame_is_sent_without_colouring_any_debug_text(monkeypatch: pytest.MonkeyPatch) -> None:
    styled: list[str] = []
    monkeypatch.setattr(click, "style", lambda text, **kwargs: styled.append(text) or text)
    sender = WebSocketServerProtocol()
    sender.transport = Transport()
    sender.send_queue = deque()
    sender.state = WebSocketServerProtocol.STATE_OPEN
    sender.trafficStats = TrafficStats()
    sender.logOctets = False
    sender.peer = "tcp:127.0.0.1:50000"
    sender.sendData(b"\x81\x05hello")
    assert sender.transport.written == [b"\x81\x05hello"]
    assert styled == []


def test_the_highlighted_text_is_autobahns_own_when_logged() -> None:
    from autobahn import util

    for module in (protocol, twisted_websocket):
        assert str(module.hltype(WebSocketServerProtocol.sendData)) == util.hltype(WebSocketServerProtocol.sendData)
        assert str(module.hlval(1234)) == util.hlval(1234)
        assert formatEvent({"log_format": "sent {n} bytes", "n": module.hlval(7, color="green")}) \
            == "sent " + util.hlval(7, color="green") + " bytes"


def test_installing_twice_defers_once() -> None:
    from server import autobahn_debug

    autobahn_debug.install()
    assert protocol.hlval(5).make.__module__ == "autobahn.util"
