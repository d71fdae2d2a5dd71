"""The session store: Django's database sessions, cheaper on the join path.

Every join link opens a session and every WebSocket admission reads one: a mass
join at the start of a talk does both thousands of times within seconds. Two
changes, nothing else (expiry, signing, ``clearsessions`` are Django's own):

- a new key is not first looked up: the insert fails on a taken key (the
  primary key is unique) and ``create()`` then draws another, so the extra
  query bought nothing;
- the read is one prepared SQL statement instead of an ORM query (events.sql).
"""

from __future__ import annotations

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from django.utils.crypto import get_random_string

from . import sql


class SessionStore(DatabaseSessionStore):
    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)

    def _get_session_from_db(self) -> Session | None:
        if self.session_key is None:
            return None
        session = sql.unexpired_session(self.session_key, timezone.now())
        if session is None:
            self._session_key = None
        return session
