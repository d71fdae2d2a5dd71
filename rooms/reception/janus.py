"""A small client of Janus's HTTP API for Renkei's administration of VideoRoom rooms.

Short sessions only: create a session, attach janus.plugin.videoroom, send
synchronous requests (create, destroy, exists, allowed, list, join), destroy
the session. No keepalive is needed for that. Only the standard library.
"""

from __future__ import annotations

import json
import secrets
import urllib.request
from typing import Any

PLUGIN = "janus.plugin.videoroom"


class JanusError(Exception):
    """Janus answered with an error, or the plugin did (code and reason as Janus says)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason


class VideoRoomSession:
    """One Janus session with a VideoRoom handle; use as a context manager so the session is destroyed."""

    def __init__(self, url: str, api_secret: str = "", timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.api_secret = api_secret
        self.timeout = timeout
        self.session_id: int | None = None
        self.handle_id: int | None = None

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        body = {**body, "transaction": secrets.token_hex(8)}
        if self.api_secret:
            body["apisecret"] = self.api_secret
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                         headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            answer: dict[str, Any] = json.loads(response.read())
        if answer.get("janus") == "error":
            error = answer.get("error", {})
            raise JanusError(int(error.get("code", 0)), str(error.get("reason", "")))
        return answer

    def __enter__(self) -> VideoRoomSession:
        self.session_id = self._post("", {"janus": "create"})["data"]["id"]
        self.handle_id = self._post(f"/{self.session_id}", {"janus": "attach", "plugin": PLUGIN})["data"]["id"]
        return self

    def __exit__(self, *exc: object) -> None:
        if self.session_id is not None:
            try:
                self._post(f"/{self.session_id}", {"janus": "destroy"})
            except (OSError, JanusError):
                pass  # Janus drops an idle session by itself after its timeout.
            self.session_id = self.handle_id = None

    def message(self, body: dict[str, Any]) -> dict[str, Any]:
        """A request to the plugin; its answer's data, or JanusError when the plugin refuses.

        Synchronous requests are answered in the POST; "join" is asynchronous:
        Janus acks it and the plugin's answer comes as an event, read by a long poll.
        """
        answer = self._post(f"/{self.session_id}/{self.handle_id}", {"janus": "message", "body": body})
        if answer.get("janus") == "ack":
            answer = self._event()
        data: dict[str, Any] = answer.get("plugindata", {}).get("data", {})
        if "error_code" in data:
            raise JanusError(int(data["error_code"]), str(data.get("error", "")))
        return data

    def _event(self) -> dict[str, Any]:
        """The next event of the session (long poll); an asynchronous plugin answer."""
        query = f"?maxev=1&apisecret={self.api_secret}" if self.api_secret else "?maxev=1"
        request = urllib.request.Request(f"{self.url}/{self.session_id}{query}")
        with urllib.request.urlopen(request, timeout=self.timeout + 30) as response:
            answer: dict[str, Any] = json.loads(response.read())
        if isinstance(answer, list):
            answer = answer[0]
        return answer


def info(url: str, api_secret: str = "", timeout: float = 2.0) -> dict[str, Any]:
    """Janus's server info: whether it answers, and its version."""
    return VideoRoomSession(url, api_secret, timeout)._post("", {"janus": "info"})
