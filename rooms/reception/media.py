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

import functools
import hashlib
import hmac
import logging
import time
from datetime import UTC, datetime, timedelta
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
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

BROWSER_TOKEN_GRACE = 300  # seconds a browser's Janus token outlives the close (clocks differ a little)


STAFF_FEEDS = 10**15  # a staff member's feed id is this plus their user id: above any registration id


def enabled() -> bool:
    """Media is on when Renkei knows where Janus's HTTP API is; otherwise tables are text-only."""
    return bool(settings.JANUS_URL)


@functools.lru_cache(maxsize=8)
def _urls(setting: str) -> tuple[str, ...]:
    return tuple(url.strip() for url in setting.split(",") if url.strip())


def instances() -> list[str]:
    """Janus's HTTP API of every instance, as Renkei reaches it (JANUS_URL, comma-separated)."""
    return list(_urls(str(settings.JANUS_URL)))


def public_urls() -> list[str]:
    """What browsers reach for each instance, in JANUS_URL's order (JANUS_PUBLIC_URL, else JANUS_URL itself)."""
    return list(_urls(str(settings.JANUS_PUBLIC_URL)) or _urls(str(settings.JANUS_URL)))


def instance_of(table_id: int, urls: list[str] | None = None) -> int:
    """The index of the Janus instance that holds a table's room: rendezvous (highest random weight) hashing.

    Every process computes it alone, with no database and no shared state, and
    gets the same answer; adding an instance moves only the tables that now rank
    it first (about 1/n of them), where ``table % n`` would move almost all, each
    move costing a call that has to start again.
    """
    return _rendezvous(table_id, tuple(instances() if urls is None else urls))


@functools.lru_cache(maxsize=4096)
def _rendezvous(table_id: int, urls: tuple[str, ...]) -> int:
    if len(urls) <= 1:
        return 0
    weights = [hashlib.sha256(f"{table_id}|{url}".encode()).digest() for url in urls]
    return weights.index(max(weights))


def _hmac(purpose: str) -> str:
    # hmac.digest: the one-shot C path; the opening computes one per physician moved.
    return hmac.digest(settings.SECRET_KEY.encode(), purpose.encode(), "sha256").hex()[:32]


def room_secret(table_id: int) -> str:
    """The secret that lets Renkei (and nobody else) edit or destroy a table's room."""
    return _hmac(f"janus-room:{table_id}")


def opening_stamp(opened_at: datetime) -> int:
    """An opening as an exact integer (microseconds since the epoch): what tokens are made of, and what the
    opening's channel-layer message carries so every process computes the same tokens without the database."""
    return (opened_at - EPOCH) // timedelta(microseconds=1)


def token_at(stamp: int, table_id: int, feed: int) -> str:
    """The token of one feed (a registration id, or a staff member's feed) at one table of one opening."""
    return _hmac(f"janus-token:{table_id}:{feed}:{stamp}")


def token(reception: Reception, table_id: int, feed: int) -> str:
    """A physician's personal token for one table of one opening: it opens no other table, nor a later reception."""
    assert reception.opened_at is not None
    return token_at(opening_stamp(reception.opened_at), table_id, feed)


def staff_feed(user_id: int) -> int:
    """A staff member's publisher id in a table's room: never a physician's (registration ids stay far below)."""
    return STAFF_FEEDS + user_id


def renkei_token(stamp: int, table_id: int) -> str:
    """Renkei's own token for a table, to look at its publishers' streams before a moderator's mute."""
    return _hmac(f"janus-renkei:{table_id}:{stamp}")


def description(talk_id: int, table_id: int) -> str:
    """How Renkei recognises its own rooms of a talk when it lists Janus's rooms."""
    return f"renkei talk {talk_id} table {table_id}"


def staff_of(talk_id: int) -> list[int]:
    """The user ids of everyone who may look into the talk's tables (room.view): its speakers, its event's
    organizers, and superusers (who organize every event)."""
    from django.contrib.auth import get_user_model

    from events.models import Talk

    talk = Talk.objects.filter(pk=talk_id).select_related("event").first()
    if talk is None:
        return []
    users = get_user_model().objects.filter(is_active=True)
    ids = set(talk.speakers.filter(is_active=True).values_list("pk", flat=True))
    ids |= set(talk.event.organizers.filter(is_active=True).values_list("pk", flat=True))
    ids |= set(users.filter(is_superuser=True).values_list("pk", flat=True))
    return sorted(ids)


def standing_tokens(stamp: int, table_id: int, staff: list[int]) -> set[str]:
    """The tokens a table's room allows whoever sits there: Renkei's own and every staff member's."""
    return {renkei_token(stamp, table_id)} | {token_at(stamp, table_id, staff_feed(uid)) for uid in staff}


def wanted(talk_id: int) -> dict[int, set[str]]:
    """Table id → the tokens allowed in its room now; empty when the reception is not open.

    Those of who sits there, those of every staff member who may look into the
    talk's tables (they may listen in at any table while the reception is open),
    and Renkei's own.
    """
    reception = Reception.objects.filter(pk=talk_id).first()
    if reception is None or not reception.is_open():
        return {}
    assert reception.opened_at is not None
    stamp = opening_stamp(reception.opened_at)
    staff = staff_of(talk_id)
    rooms: dict[int, set[str]] = {
        pk: standing_tokens(stamp, pk, staff)
        for pk in ReceptionTable.objects.filter(talk_id=talk_id).values_list("pk", flat=True)
    }
    seats = Seat.objects.filter(room_id__in=list(rooms), left_at__isnull=True).values_list("room_id", "registration_id")
    for room_id, registration_id in seats:
        rooms[room_id].add(token_at(stamp, room_id, registration_id))
    return rooms


def session_for(table_id: int) -> VideoRoomSession:
    """A session on the Janus instance that holds the table's room."""
    urls = instances()
    return VideoRoomSession(urls[instance_of(table_id, urls)], settings.JANUS_API_SECRET)


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
                       "audiolevel_event": True, "record": False,
                       # A subscription must name its own publisher's private_id: holding the browser
                       # token alone (every attendee has it) subscribes to no table.
                       "require_pvtid": True})
    # "enable" switches the token check on (an empty list admits nobody) and says who is allowed now.
    current = set(janus.message({"request": "allowed", "room": table_id, "secret": secret,
                                 "action": "enable"}).get("allowed", []))
    for action, change in (("add", tokens - current), ("remove", current - tokens)):
        if change:
            janus.message({"request": "allowed", "room": table_id, "secret": secret, "action": action,
                           "allowed": sorted(change)})


def muted(talk_id: int) -> dict[int, set[int]]:
    """Table id → the physicians seated there whose microphone a moderator muted there in this opening.

    Read from the moderation log (the last media.mute or media.unmute of each person at each table
    wins): Janus's mute holds for the stream it was sending, so the sync mutes again whoever
    published anew (a reload, a return to the table).
    """
    from ..lecture.models import ModerationLog

    reception = Reception.objects.filter(pk=talk_id).first()
    if reception is None or reception.opened_at is None:
        return {}
    state: dict[tuple[int, int], bool] = {}
    entries = ModerationLog.objects.filter(talk_id=talk_id, action__in=["media.mute", "media.unmute"],
                                           at__gte=reception.opened_at).order_by("at", "pk")
    for action, entry in entries.values_list("action", "details"):
        state[(int(entry["room"]), int(entry["registration"]))] = action == "media.mute"
    pairs = [pair for pair, on in state.items() if on]
    if not pairs:
        return {}
    seated = set(Seat.objects.filter(room_id__in={room for room, _ in pairs}, left_at__isnull=True)
                 .values_list("room_id", "registration_id"))
    found: dict[int, set[int]] = {}
    for room, registration in pairs:
        if (room, registration) in seated:
            found.setdefault(room, set()).add(registration)
    return found


def _published_audio(janus: VideoRoomSession, table_id: int, stamp: int) -> dict[int, list[dict[str, Any]]]:
    """Feed → its audio streams as Janus shows them to a joined participant (Renkei joins passively with its
    own token: nobody is notified; Janus 1.1's listparticipants does not list streams)."""
    joined = janus.message({"request": "join", "ptype": "publisher", "room": table_id,
                            "token": renkei_token(stamp, table_id), "display": "Renkei"})
    return {int(publisher["id"]): [stream for stream in publisher.get("streams", [])
                                   if stream.get("type") == "audio" and not stream.get("disabled")]
            for publisher in joined.get("publishers", [])}


def _enforce_mutes(url: str, table_id: int, feeds: set[int], stamp: int) -> None:
    """Mute again, in Janus, the audio of muted physicians who published anew (not yet ``moderated``)."""
    with VideoRoomSession(url, settings.JANUS_API_SECRET) as janus:
        streams = _published_audio(janus, table_id, stamp)
        for feed in feeds:
            for stream in streams.get(feed, []):
                if not stream.get("moderated"):
                    janus.message({"request": "moderate", "room": table_id, "secret": room_secret(table_id),
                                   "id": feed, "mid": stream["mid"], "mute": True})


def sync_media(talk_id: int, table_ids: set[int] | None = None) -> bool:
    """Make every Janus instance match the database for one talk; False (logged) when one could not be
    reached or refused (the others are still brought in line).

    With ``table_ids`` (a seat changed) only those tables' tokens are brought in line, on the instances
    that hold them: one seat change costs a few requests, not one per table of the reception.
    """
    if not enabled():
        return True
    rooms = wanted(talk_id)
    mutes = muted(talk_id) if rooms else {}
    opened_at = Reception.objects.filter(pk=talk_id).values_list("opened_at", flat=True).first() if mutes else None
    stamp = opening_stamp(opened_at) if opened_at is not None else 0
    urls = instances()
    ok = True
    for index, url in enumerate(urls):
        here = {t: tokens for t, tokens in rooms.items() if instance_of(t, urls) == index
                and (table_ids is None or t in table_ids)}
        if table_ids is not None and not here:
            continue
        try:
            with VideoRoomSession(url, settings.JANUS_API_SECRET) as janus:
                if table_ids is None:
                    # Rooms of a closed reception, and rooms an added instance took over, go.
                    for table_id in set(_ours(janus, talk_id)) - set(here):
                        janus.message({"request": "destroy", "room": table_id, "secret": room_secret(table_id)})
                for table_id, tokens in here.items():
                    _apply_room(janus, talk_id, table_id, tokens)
            for table_id in set(here) & set(mutes):
                _enforce_mutes(url, table_id, mutes[table_id], stamp)
        except (OSError, JanusError, ValueError, KeyError) as error:
            logger.warning("Janus sync of talk %s on %s failed, its tables stay text-only: %s", talk_id, url, error)
            ok = False
    return ok


def sync_all() -> int:
    """The periodic reconcile: every talk with an open reception, and every talk any instance still has rooms of."""
    if not enabled():
        return 0
    talks = {r.pk for r in Reception.objects.filter(opened_at__isnull=False, closes_at__isnull=False) if r.is_open()}
    for url in instances():
        try:
            with VideoRoomSession(url, settings.JANUS_API_SECRET) as janus:
                talks |= set(_ours(janus, None).values())
        except (OSError, JanusError, ValueError, KeyError) as error:
            logger.warning("Janus at %s could not be listed: %s", url, error)
    return sum(sync_media(t) for t in sorted(talks))


def sync_on_commit(talk_id: int, table_ids: set[int] | None = None) -> None:
    """After the caller's transaction commits (at once outside one: call it after the writes), bring Janus
    in line for the talk, or only for the tables whose seats changed; a no-op when media is off."""
    if enabled():
        transaction.on_commit(lambda: sync_media(talk_id, table_ids))


def details_at(stamp: int, closes_at: float | None, table_id: int, feed: int, person_key: str,
               listen: bool = False) -> dict[str, Any] | None:
    """What a browser needs to enter a table's call, from the opening's stamp and close (epoch seconds) alone,
    no database: the relay's consumers add it to the opening's shared room.moved, one physician at a time.
    None when media is off."""
    if not enabled():
        return None
    urls = instances()
    public = public_urls()
    index = instance_of(table_id, urls)
    url = public[index] if index < len(public) else public[-1]
    # Valid until a little after the close: the browser's session carries it on every request.
    until = (closes_at if closes_at is not None else time.time() + 3600) + BROWSER_TOKEN_GRACE
    return frames.table_media(url, table_id, token_at(stamp, table_id, feed), feed, ice_servers(person_key),
                              _browser_token(settings.JANUS_API_SECRET, int(until)), listen=listen)


@functools.lru_cache(maxsize=64)
def _browser_token(api_secret: str, until: int) -> str:
    """The same for everyone of an opening: computed once per process, not once per physician moved."""
    return browser_token(api_secret, until)


def _closes(reception: Reception) -> float | None:
    return reception.closes_at.timestamp() if reception.closes_at else None


def details(reception: Reception, table_id: int, registration_id: int) -> dict[str, Any] | None:
    """What a seated physician's browser needs to enter the table's call; None when media is off."""
    if reception.opened_at is None:
        return None
    return details_at(opening_stamp(reception.opened_at), _closes(reception), table_id, registration_id,
                      f"r{registration_id}")


def staff_details(reception: Reception, table_id: int, user_id: int) -> dict[str, Any] | None:
    """A staff member looking into a table: their own token there, and ``listen`` (subscribe, publish nothing
    until they choose to); None when media is off or the reception is not open."""
    if reception.opened_at is None or not reception.is_open():
        return None
    return details_at(opening_stamp(reception.opened_at), _closes(reception), table_id, staff_feed(user_id),
                      f"u{user_id}", listen=True)


class NotPublishing(Exception):
    """The person sends no sound at that table right now: there is nothing for Janus to mute."""


def moderate_audio(reception: Reception, table_id: int, feed: int, muted: bool) -> None:
    """Have Janus mute (or let through again) the sound a publisher sends at a table: Janus stops forwarding
    it, whatever their browser does. Raises NotPublishing, or JanusError / OSError when Janus fails.

    Janus 1.1 moderates one m-line (``mid``) at a time: every audio stream of that feed. The mute
    holds for those streams; the sync mutes again whoever publishes anew (``muted``).
    """
    assert reception.opened_at is not None
    with session_for(table_id) as janus:
        streams = _published_audio(janus, table_id, opening_stamp(reception.opened_at)).get(feed, [])
        if not streams:
            raise NotPublishing(feed)
        for stream in streams:
            janus.message({"request": "moderate", "room": table_id, "secret": room_secret(table_id), "id": feed,
                           "mid": stream["mid"], "mute": muted})


def viewing_details(room: Any, user_id: int) -> dict[str, Any] | None:
    """What ``room.viewing`` tells a staff member looking into a room: their way into its call when it is a
    table of an open reception (read now: the connection's copy of the reception may predate the opening)."""
    if not enabled() or not room.is_table:
        return None
    reception = Reception.objects.filter(pk=room.talk_id).first()
    return staff_details(reception, room.pk, user_id) if reception is not None else None


def ice_servers(person_key: str) -> list[dict[str, Any]]:
    """The RTCIceServer list for a browser: one TURN entry with short-lived credentials, or none without TURN."""
    credentials = turn_credentials(person_key)
    if not credentials["urls"]:
        return []
    return [{"urls": credentials["urls"], "username": credentials["username"],
             "credential": credentials["credential"]}]
