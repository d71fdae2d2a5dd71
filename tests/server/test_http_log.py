"""Twisted's plain-text access line, with a join link's token in it, is not written (server.http_log)."""

from __future__ import annotations

import io

from daphne.http_protocol import HTTPFactory
from twisted.web import http
from twisted.web.test.requesthelper import DummyChannel

import server.asgi  # noqa: F401  (the server process installs it)


def test_daphnes_factory_writes_no_line_of_its_own_for_a_join_link():
    request = http.Request(DummyChannel())
    request.method, request.uri, request.clientproto, request.code = b"GET", b"/join/1.secret-token/", b"HTTP/1.1", 302
    written = io.StringIO()
    plain = http.HTTPFactory(logFormatter=http.combinedLogFormatter)
    plain._logFile = written
    plain.log(request)
    assert "1.secret-token" in written.getvalue()  # what Twisted's own factory writes
    daphnes = HTTPFactory.__new__(HTTPFactory)
    http.HTTPFactory.__init__(daphnes, logFormatter=http.combinedLogFormatter)
    daphnes._logFile = written = io.StringIO()
    daphnes.log(request)
    assert written.getvalue() == ""
