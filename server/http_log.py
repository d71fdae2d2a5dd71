"""Twisted's own access line for every HTTP request, which nothing reads.

Daphne's HTTP factory is Twisted's ``HTTPFactory``, which formats a line in the
combined log format for every request and, given no log file, writes it to
Twisted's legacy log. Daphne sends that log nowhere at its default verbosity,
so the line was formatted for nobody: 0.8 % of a server's CPU while thousands
of physicians open their join links (docs/performance.md, "Issue 13: joins, a
ninth pass"). Above that verbosity it reached the standard logging module as
plain text with the whole request path, a join link's token included, beside
Renkei's own access log (server.logs: JSON, the request id, tokens masked),
which already has a line for every request.

:func:`install` makes Daphne's factory skip it. Twisted's other factories (none
in this process) keep theirs.
"""

from __future__ import annotations

from typing import Any


def _no_line(factory: Any, request: Any) -> None:
    """Renkei's access log is server.logs' (module docstring)."""


def install() -> None:
    """Daphne's HTTP factory writes no access line of Twisted's (idempotent)."""
    from daphne.http_protocol import HTTPFactory

    HTTPFactory.log = _no_line  # type: ignore[method-assign]
