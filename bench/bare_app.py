"""The reference the benchmark compares Renkei with: a bare ASGI broadcast app.

No Django, no Channels, no channel layer, no database: each Daphne process keeps
its own set of sockets and writes every ``chat.send`` it receives, as a
``chat.message`` frame of the same shape as Renkei's, to every socket it holds.
It speaks just enough of Renkei's surface for the benchmark client to treat it
the same way: ``GET /join/<token>/`` answers 302 with a ``sessionid`` cookie,
and the WebSocket answers ``hello`` first.

Run: ``daphne -b 127.0.0.1 -p PORT bench.bare_app:app``
"""

from __future__ import annotations

import itertools
import json
import secrets
from datetime import datetime, timedelta, timezone
from typing import Any

JST = timezone(timedelta(hours=9))
# The same size and shape as the author snapshot of a Renkei chat message.
AUTHOR = {
    "name": "岩手 太郎", "facility_type": "clinic", "prefecture": "03", "prefecture_name": "岩手県",
    "prefecture_name_en": "Iwate", "region": "tohoku", "role": "attendee",
}

_sockets: set[Any] = set()
_seq = itertools.count(1)


def _encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


async def _http(scope: dict[str, Any], receive: Any, send: Any) -> None:
    while True:  # drain the request body
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            break
    if scope["path"].startswith("/join/"):
        cookie = f"sessionid={secrets.token_hex(16)}; HttpOnly; Path=/; SameSite=Lax"
        headers = [(b"location", b"/lobby/"), (b"set-cookie", cookie.encode()), (b"content-length", b"0")]
        await send({"type": "http.response.start", "status": 302, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"3")]})
    await send({"type": "http.response.body", "body": b"ok\n"})


async def _websocket(scope: dict[str, Any], receive: Any, send: Any) -> None:
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": _encode({"type": "hello", "app": "bare"})})
    _sockets.add(send)
    try:
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            if message["type"] != "websocket.receive" or not message.get("text"):
                continue
            try:
                payload = json.loads(message["text"])
            except ValueError:
                continue
            if not isinstance(payload, dict) or payload.get("type") != "chat.send":
                continue
            frame: dict[str, Any] = {
                "type": "chat.message", "room": 1, "id": next(_seq), "body": str(payload.get("body", ""))[:1000],
                "author": AUTHOR, "sent_at": datetime.now(JST).isoformat(),
            }
            if payload.get("client_id"):
                frame["client_id"] = str(payload["client_id"])[:64]
            text = _encode(frame)  # encoded once, written to every socket
            for other in list(_sockets):
                try:
                    await other({"type": "websocket.send", "text": text})
                except Exception:  # a socket closing under us is not the others' problem
                    _sockets.discard(other)
    finally:
        _sockets.discard(send)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "http":
        await _http(scope, receive, send)
    elif scope["type"] == "websocket":
        await _websocket(scope, receive, send)
    elif scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
