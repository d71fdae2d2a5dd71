"""Short-lived TURN credentials for coturn's REST-API shared secret.

Physicians behind hospital firewalls often reach nothing but 443/3478; their
media goes through a TURN relay. Renkei never stores TURN passwords: coturn
runs with `use-auth-secret` and `static-auth-secret=<TURN_SECRET>`, and accepts
any username of the form "<expiry unix seconds>:<anything>" whose password is
base64(HMAC-SHA1(secret, username)) while the expiry lies in the future
(draft-uberti-behave-turn-rest-00, coturn's "TURN REST API"). A credential
therefore proves only that Renkei issued it recently; no network call is made.
"""

from __future__ import annotations

import base64
import hmac
import time

from django.conf import settings


def turn_password(secret: str, username: str) -> str:
    """The password coturn expects for `username` under `static-auth-secret`."""
    digest = hmac.digest(secret.encode(), username.encode(), "sha1")
    return base64.b64encode(digest).decode("ascii")


def turn_credentials(person_key: str, now: float | None = None) -> dict[str, object]:
    """An RTCIceServer entry for one person, valid for TURN_TTL seconds.

    Empty `urls` means TURN is not configured: the browser uses direct or
    STUN-found paths only. The person's key names the allocation in coturn's
    log without revealing who they are; a colon in it would confuse coturn's
    split of the username, so it is replaced.
    """
    urls: list[str] = list(settings.TURN_URLS)
    ttl = int(settings.TURN_TTL)
    expiry = int(now if now is not None else time.time()) + ttl
    username = f"{expiry}:{str(person_key).replace(':', '_')}"
    credential = turn_password(settings.TURN_SECRET, username) if urls else ""
    return {"urls": urls, "username": username, "credential": credential,
            "ttl": ttl, "expires_at": expiry}
