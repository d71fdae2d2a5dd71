"""The one way a write verb of the lecture or the reception declines."""

from __future__ import annotations


class Refused(Exception):
    """A verb declined; ``code`` is one of rooms.realtime.protocol.ERRORS and the socket handler answers with it."""

    def __init__(self, code: str, **extra: object) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra
