"""Voice and video at the reception tables: one Janus VideoRoom room per table, one token per seated physician.

A reconcile, not a log of changes: ``sync_media(talk_id)`` reads the wanted
state from the database (the open reception's tables and who sits at each
now) and applies the difference to Janus: missing rooms created, rooms of a
closed reception destroyed, tokens added and removed. Nothing of it is
stored: room secrets and tokens are HMACs of SECRET_KEY, so a restarted Janus
gets everything back from the next sync (the periodic task, rooms.tasks).

The verbs that change seats call ``sync_on_commit``: the network call runs
after their transaction committed, never inside it. Janus failing is logged
and never breaks the reception: the tables stay text.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from typing import Any

from django.conf import settings
from django.db import transaction

from .. import frames
from .janus import JanusError, VideoRoomSession
from .janus_config import browser_token
from .models import Reception, ReceptionTable, Seat
from .turn import turn_credentials

logger = logging.getLogger(__name__)

MAX_PUBLISHERS = 12  # the largest table the issue lays out
BROWSER_TOKEN_GRACE = 300  # seconds a browser's Janus token outlives the close (clocks differ a little)


def enabled() -> bool:
    """Media is on when Renkei knows where Janus's HTTP API is; otherwise tables are text-only."""
    return bool(settings.JANUS_URL)


def _hmac(purpose: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), purpose.encode(), hashlib.sha256).hexdigest()[:32]


def room_secret(table_id: int) -> str:
    """The secret that lets Renkei (and nobody else) edit or destroy a table's room."""
    return _hmac(f"janus-room:{table_id}")


def token(reception: Reception, table_id: int, registration_id: int) -> str:
    """A physician's personal token for one table of one opening: it opens no other table, nor a later reception."""
    assert reception.opened_at is not None
    return _hmac(f"janus-token:{table_id}:{registration_id}:{reception.opened_at.isoformat()}")


def description(talk_id: int, table_id: int) -> str:
    """How Renkei recognises its own rooms of a talk when it lists Janus's rooms."""
    return f"renkei talk {talk_id} table {table_id}"


def wanted(talk_id: int) -> dict[int, set[str]]:
    """Table id → the tokens of who sits there now; empty when the reception is not open."""
    reception = Reception.objects.filter(pk=talk_id).first()
    if reception is None or not reception.is_open():
        return {}
    rooms: dict[int, set[str]] = {
        pk: set() for pk in ReceptionTable.objects.filter(talk_id=talk_id).values_list("pk", flat=True)
    }
    seats = Seat.objects.filter(room_id__in=list(rooms), left_at__isnull=True).values_list("room_id", "registration_id")
    for room_id, registration_id in seats:
        rooms[room_id].add(token(reception, room_id, registration_id))
    return rooms


def _session() -> VideoRoomSession:
    return VideoRoomSession(settings.JANUS_URL, settings.JANUS_API_SECRET)


def _ours(janus: VideoRoomSession, talk_id: int | None) -> dict[int, int]:
    """Janus's rooms that Renkei made (of one talk, or of any): room id → talk id."""
    found: dict[int, int] = {}
    for room in janus.message({"request": "list"}).get("list", []):
        words = str(room.get("description", "")).split()
        if len(words) == 5 and words[:2] == ["renkei", "talk"] and words[3] == "table":
            if talk_id is None or words[2] == str(talk_id):
                found[int(room["room"])] = int(words[2])
    return found


def _apply_room(janus: VideoRoomSession, talk_id: int, table_id: int, tokens: set[str]) -> None:
    secret = room_secret(table_id)
    if not janus.message({"request": "exists", "room": table_id}).get("exists"):
        janus.message({"request": "create", "room": table_id, "description": description(talk_id, table_id),
                       "secret": secret, "publishers": MAX_PUBLISHERS, "is_private": False,
                       "audiolevel_event": True, "record": False})
    # "enable" switches the token check on (an empty list admits nobody) and says who is allowed now.
    current = set(janus.message({"request": "allowed", "room": table_id, "secret": secret,
                                 "action": "enable"}).get("allowed", []))
    for action, change in (("add", tokens - current), ("remove", current - tokens)):
        if change:
            janus.message({"request": "allowed", "room": table_id, "secret": secret, "action": action,
                           "allowed": sorted(change)})


def sync_media(talk_id: int, table_ids: set[int] | None = None) -> bool:
    """Make Janus match the database for one talk; False (logged) when Janus could not be reached or refused.

    With ``table_ids`` (a seat changed) only those tables' tokens are brought in line: one seat
    change costs a few requests, not one per table of the reception.
    """
    if not enabled():
        return True
    rooms = wanted(talk_id)
    try:
        with _session() as janus:
            if table_ids is None:
                for table_id in set(_ours(janus, talk_id)) - set(rooms):
                    janus.message({"request": "destroy", "room": table_id, "secret": room_secret(table_id)})
            for table_id, tokens in rooms.items():
                if table_ids is None or table_id in table_ids:
                    _apply_room(janus, talk_id, table_id, tokens)
    except (OSError, JanusError, ValueError, KeyError) as error:
        logger.warning("Janus sync of talk %s failed, tables stay text-only: %s", talk_id, error)
        return False
    return True


def sync_all() -> int:
    """The periodic reconcile: every talk with an open reception, and every talk Janus still has rooms of."""
    if not enabled():
        return 0
    talks = {r.pk for r in Reception.objects.filter(opened_at__isnull=False, closes_at__isnull=False) if r.is_open()}
    try:
        with _session() as janus:
            talks |= set(_ours(janus, None).values())
    except (OSError, JanusError, ValueError, KeyError) as error:
        logger.warning("Janus could not be listed: %s", error)
    return sum(sync_media(t) for t in sorted(talks))


def sync_on_commit(talk_id: int, table_ids: set[int] | None = None) -> None:
    """After the caller's transaction commits (at once outside one: call it after the writes), bring Janus
    in line for the talk, or only for the tables whose seats changed; a no-op when media is off."""
    if enabled():
        transaction.on_commit(lambda: sync_media(talk_id, table_ids))


def details(reception: Reception, table_id: int, registration_id: int) -> dict[str, Any] | None:
    """What a seated physician's browser needs to enter the table's call; None when media is off."""
    if not enabled() or reception.opened_at is None:
        return None
    tokened = token(reception, table_id, registration_id)
    # Valid until a little after the close: the browser's session carries it on every request.
    until = (reception.closes_at.timestamp() if reception.closes_at else time.time() + 3600) + BROWSER_TOKEN_GRACE
    return frames.table_media(settings.JANUS_PUBLIC_URL or settings.JANUS_URL, table_id, tokened,
                              registration_id, ice_servers(f"r{registration_id}"),
                              browser_token(settings.JANUS_API_SECRET, until))


def ice_servers(person_key: str) -> list[dict[str, Any]]:
    """The RTCIceServer list for a browser: one TURN entry with short-lived credentials, or none without TURN."""
    credentials = turn_credentials(person_key)
    if not credentials["urls"]:
        return []
    return [{"urls": credentials["urls"], "username": credentials["username"],
             "credential": credentials["credential"]}]
