"""Log lines are JSON and carry the id of the request, WebSocket connection or task they belong to."""

from __future__ import annotations

import json
import logging

import pytest
from channels.testing import HttpCommunicator, WebsocketCommunicator

from server import health
from server.asgi import application
from server.logs import CorrelationIds, ContextFilter, TextFormatter, json_formatter

log = logging.getLogger("tests.server.logs")


class Kept(logging.Handler):
    """The records of a test, passed through the same filter as the real handler."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.addFilter(ContextFilter())
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def kept():
    handler = Kept()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


def header(response: dict, name: bytes) -> str:
    return next(v.decode() for k, v in response["headers"] if k.lower() == name)


async def logging_http_app(scope, receive, send):
    log.warning("serving %s", scope["path"])
    await send({"type": "http.response.start", "status": 200, "headers": [(b"x-request-id", b"from-the-app")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def get(app, headers=()) -> dict:
    communicator = HttpCommunicator(app, "GET", "/x", headers=[(b"host", b"localhost"), *headers])
    return await communicator.get_response(timeout=10)


async def test_a_request_gets_an_id_on_its_log_lines_and_in_its_response(kept):
    response = await get(CorrelationIds(logging_http_app))
    given = header(response, b"x-request-id")
    assert len(given) == 32
    assert [r.request_id for r in kept.records if r.name == log.name] == [given]
    assert sum(k.lower() == b"x-request-id" for k, _ in response["headers"]) == 1


async def test_the_proxys_request_id_is_kept_when_well_formed_and_replaced_otherwise(kept, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    nginx_style = "3f2a9c0e7b1d4e5fa6b7c8d9e0f1a2b3"
    response = await get(CorrelationIds(logging_http_app), [(b"X-Request-ID", nginx_style.encode())])
    assert header(response, b"x-request-id") == nginx_style
    forged = await get(CorrelationIds(logging_http_app), [(b"X-Request-ID", b'x" injected\\n{"level": "ERROR"}')])
    assert header(forged, b"x-request-id") != nginx_style and '"' not in header(forged, b"x-request-id")
    assert [r.request_id for r in kept.records if r.name == log.name] == [nginx_style, header(forged, b"x-request-id")]


async def test_a_clients_request_id_is_replaced_when_no_proxy_is_declared(kept, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    response = await get(CorrelationIds(logging_http_app), [(b"X-Request-ID", b"3f2a9c0e7b1d4e5fa6b7c8d9e0f1a2b3")])
    given = header(response, b"x-request-id")
    assert given != "3f2a9c0e7b1d4e5fa6b7c8d9e0f1a2b3" and len(given) == 32
    assert [r.request_id for r in kept.records if r.name == log.name] == [given]


async def test_each_websocket_connection_has_its_own_id_on_every_line(kept):
    async def app(scope, receive, send):
        await receive()
        log.info("connected")
        await send({"type": "websocket.accept"})
        await receive()
        log.info("frame")
        await send({"type": "websocket.close"})

    wrapped = CorrelationIds(app)
    for _ in range(2):
        communicator = WebsocketCommunicator(wrapped, "/ws/")
        assert (await communicator.connect())[0]
        await communicator.send_to(text_data="{}")
        await communicator.wait(timeout=5)
    ids = [r.connection_id for r in kept.records if r.name == log.name]
    assert len(ids) == 4 and ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]
    assert all(r.request_id is None for r in kept.records if r.name == log.name)


@pytest.mark.django_db(transaction=True)
async def test_the_served_application_puts_the_request_id_on_what_a_view_logs(kept, monkeypatch):
    def down() -> str:
        raise ConnectionRefusedError("postgres://renkei:secret@db/renkei")

    monkeypatch.setattr(health, "CHECKS", {"database": down})
    communicator = HttpCommunicator(application, "GET", "/readyz", headers=[(b"host", b"localhost")])
    response = await communicator.get_response(timeout=10)
    assert response["status"] == 503
    lines = [r for r in kept.records if r.name == "server.health"]
    assert [r.request_id for r in lines] == [header(response, b"x-request-id")]


def test_a_json_line_names_level_logger_message_and_ids():
    record = logging.LogRecord("rooms.realtime", logging.WARNING, __file__, 1, "refused %s", ("chat",), None)
    record.talk = 7
    ContextFilter().filter(record)
    line = json.loads(json_formatter().format(record))
    assert line["level"] == "WARNING" and line["logger"] == "rooms.realtime" and line["message"] == "refused chat"
    assert line["talk"] == 7 and line["time"].endswith("+00:00")
    assert {"request_id", "connection_id", "task_id"} <= line.keys()
    assert "refused chat" in TextFormatter().format(record)


def test_emails_link_tokens_and_exception_texts_never_reach_a_log_line():
    from server.logs import WITHHELD, PersonalDataFilter

    def line(msg: str, *args, exc_info=None) -> str:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, msg, args, exc_info)
        ContextFilter().filter(record)
        PersonalDataFilter().filter(record)
        return json_formatter().format(record)

    assert "taro@clinic.example.jp" not in line("mail to %s bounced", "taro@clinic.example.jp")
    assert "AbC123signed" not in line("Not Found: %s", "/join/AbC123signed:xyz/")
    assert "岩手 太郎" not in line("listener failed (%s)", ValueError("岩手 太郎"))
    detail = "Key (email)=(taro@clinic.example.jp) 岩手 太郎"  # a database's complaint, say
    try:
        raise KeyError(detail)
    except KeyError:
        import sys

        kept = json.loads(line("save failed", exc_info=sys.exc_info()))
    assert "KeyError: " + WITHHELD in kept["exc_info"] and "岩手" not in kept["exc_info"]
    assert "test_emails_link_tokens_and_exception_texts_never_reach_a_log_line" in kept["exc_info"]  # where, still


async def test_each_request_and_connection_has_one_access_line_with_its_status_and_duration(kept):
    await get(CorrelationIds(logging_http_app))
    (line,) = [r for r in kept.records if r.name == "renkei.access"]
    assert line.getMessage() == "GET /x 200" and line.status == 200 and line.duration_ms >= 0
    assert len(line.request_id) == 32  # the id the response carried, not what the app tried to set


def test_ids_are_unique_within_a_process_and_across_a_fork():
    """A forked child (a Celery worker) never hands out an id its parent did."""
    import os

    from server.logs import new_id

    mine = {new_id() for _ in range(1000)}
    assert len(mine) == 1000 and all(len(i) == 32 and int(i, 16) >= 0 for i in mine)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its ids, to the parent, then out without running the parent's cleanup
        os.write(write, "\n".join(new_id() for _ in range(1000)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        theirs = set(pipe.read().split("\n"))
    os.waitpid(pid, 0)
    assert len(theirs) == 1000 and not theirs & mine and not theirs & {new_id() for _ in range(1000)}
