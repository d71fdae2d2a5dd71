"""The session store: Django's database sessions, cheaper on the join path.

Every join link opens a session and every WebSocket admission reads one: a mass
join at the start of a talk does both thousands of times within seconds. Two
changes, nothing else (expiry, signing, ``clearsessions`` are Django's own):

- a new key is not first looked up: the insert fails on a taken key (the
  primary key is unique) and ``create()`` then draws another, so the extra
  query bought nothing;
- a new session outside a transaction is one INSERT (events.sql), not
  Model.save() inside BEGIN … COMMIT: a single statement needs no savepoint to
  recover from a taken key;
- the read is one prepared SQL statement instead of an ORM query (events.sql).
"""

from __future__ import annotations

import secrets

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.contrib.sessions.models import Session
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, router
from django.utils import timezone

from . import sql

KEY_LENGTH = 32
KEY_BITS = 165  # 36 ** 32 > 2 ** 165: as much randomness as Django's 32 characters of [a-z0-9]


def new_key() -> str:
    """32 characters of [a-z0-9] from one draw of random bits (Django draws each character on its own)."""
    number = secrets.randbits(KEY_BITS)
    digits = []
    for _ in range(KEY_LENGTH):
        number, digit = divmod(number, len(VALID_KEY_CHARS))
        digits.append(VALID_KEY_CHARS[digit])
    return "".join(digits)


class SessionStore(DatabaseSessionStore):
    def _get_new_session_key(self) -> str:
        return new_key()

    def save(self, must_create: bool = False) -> None:
        using = router.db_for_write(self.model)
        if (not must_create or self.session_key is None or using != DEFAULT_DB_ALIAS
                or connections[using].in_atomic_block):
            super().save(must_create=must_create)
            return
        try:
            sql.insert_session(self.session_key, self.encode(self._get_session(no_load=True)), self.get_expiry_date())
        except IntegrityError:
            raise CreateError from None

    def _get_session_from_db(self) -> Session | None:
        if self.session_key is None:
            return None
        session = sql.unexpired_session(self.session_key, timezone.now())
        if session is None:
            self._session_key = None
        return session
