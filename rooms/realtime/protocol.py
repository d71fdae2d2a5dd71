"""The lecture-room WebSocket protocol: every client message type, with the roles that may send it.

Handlers are module-level functions registered with ``@accepts`` where their
feature lives (rooms.lecture.chat_handlers, rooms.lecture.stage_handlers,
rooms.reception.handlers; RoomsConfig.ready() imports them at startup); this
module holds the registry, the role sets and the error codes, so the contract
reads in one place.
docs/protocol.md documents each type with examples.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from server import ratelimits

from ..refused import Refused

MAX_FRAME = 64 * 1024
CHAT_MAX = 1000
QUESTION_MAX = 500
ANNOUNCEMENT_MAX = 500
CLIENT_ID_MAX = 64
# Ids and counts above this are refused: the largest integer a JavaScript client holds exactly,
# and within what the database's bigint columns (and SQLite) can compare against.
ID_MAX = 2**53 - 1
CHAT_RATE = (5, 10.0)  # at most 5 chat messages in 10 seconds per person
QUESTION_RATE = (3, 60.0)
REACTION_RATE = (20, 10.0)
REACTIONS = ("👏", "👍", "❤️", "😮", "🙏", "💡")

# Close codes: why the server ended a connection (docs/protocol.md, "Close codes").
# A client reconnects after none of these: each needs the person to do something else first.
RECEPTION_CLOSED = 4000  # the reception ended: back to the event lobby
NOT_SIGNED_IN = 4401  # no session: open the join link (or sign in) first
NOT_ADMITTED = 4403  # signed in, but not to this talk (or the talk does not exist: see participants.identify)
LINK_REVOKED = 4410  # an organizer revoked the join link
REGISTRATION_CANCELLED = 4411  # the physician cancelled their registration
REGISTRATION_REJECTED = 4412  # an organizer rejected the registration
REMOVED = 4413  # a moderator removed the physician
LINK_REPLACED = 4414  # an organizer re-issued the link: a new one is in the physician's mail
DATA_ERASED = 4415  # the physician had their personal data deleted (in another tab): nothing of theirs is left to show

# Not final: the client reconnects after its first back-off (0.5-1 s) and resumes. The server's link to the
# other processes (Redis) broke and is back, so this socket may have missed frames (rooms.realtime.link),
# or the database could not be reached to admit the connection.
# (WebSocket's own 1012 "service restart" would say it too, but servers may only send 1000 and 3000-4999.)
RECONNECT = 4503

EVERYONE = frozenset({"attendee", "speaker", "organizer"})
STAFF = frozenset({"speaker", "organizer"})
MODERATORS = frozenset({"organizer"})

# code → message shown to the user (translated when sent).
ERRORS: dict[str, Any] = {
    "bad_json": _("The message could not be read."),
    "bad_frame": _("The message is not in the expected form."),
    "unknown_type": _("Unknown message type."),
    "bad_field": _("A field of the message is missing or has the wrong type."),
    "too_large": _("The message is too large."),
    "empty": _("Please write something first."),
    "too_long": _("The message is too long."),
    "rate_limited": _("You are sending messages too quickly. Please wait a moment."),
    "forbidden": _("You are not allowed to do that."),
    "chat_closed": _("The chat is closed at the moment."),
    "muted": _("A moderator has paused your chat for a while."),
    "not_found": _("That item no longer exists."),
    "already_voted": _("You have already voted for this question."),
    "slides_not_approved": _("The slides have not been approved by an organizer yet."),
    "talk_ended": _("The talk has ended."),
    "reception_unavailable": _("The reception is off or already open."),
    "reception_closed": _("The reception is not open."),
    "room_full": _("That room is full."),
    "not_in_room": _("You are not in a reception room."),
    "not_at_table": _("You can only offer your card to someone at your table."),
    "already_offered": _("You have already offered your card to this person."),
    "not_seated": _("That person is not at this table any more."),
    "not_publishing": _("That person is not sending sound at the moment."),
    "media_unavailable": _("Voice and video are not available at the moment. Please try again."),
    # The database did not take the frame (rooms.realtime.consumer): nothing was written.
    "unavailable": _("The service is briefly unavailable. Please try again in a moment."),
}


async def allow(person: str, kind: str, limit: tuple[int, float]) -> bool:
    """True (and counted) unless ``person`` already did ``kind`` ``limit[0]`` times in ``limit[1]`` seconds.

    Counted in Redis when there is one (server.ratelimits), so the limit holds across
    every tab and server process, as chat's (counted in the database) does.
    """
    return await ratelimits.ahit(limit, "ws." + kind, person)




Handler = Callable[[Any, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Action:
    type: str
    roles: frozenset[str]
    handler: Handler


ACTIONS: dict[str, Action] = {}


def accepts(message_type: str, roles: frozenset[str]) -> Callable[[Handler], Handler]:
    """Declare a handler for ``message_type`` and who may send it."""

    def register(handler: Handler) -> Handler:
        if message_type in ACTIONS:
            raise RuntimeError(f"{message_type} is handled twice")
        ACTIONS[message_type] = Action(message_type, roles, handler)
        return handler

    return register


def actions_for(role: str) -> list[str]:
    """The message types ``role`` may send, sorted: what ``hello`` tells the client and the console shows.

    The console's buttons and the client's per-message controls derive from this,
    so a person is never offered an action the server would refuse as ``forbidden``.
    """
    return sorted(name for name, action in ACTIONS.items() if role in action.roles)


def text_field(payload: dict[str, Any], name: str, limit: int, required: bool = True) -> str:
    value = payload.get(name, None if required else "")
    if not isinstance(value, str) or not storable(value):
        raise Refused("bad_field", field=name)
    value = value.strip()
    if required and not value:
        raise Refused("empty", field=name)
    if len(value) > limit:
        raise Refused("too_long", field=name, limit=limit)
    return value


def int_field(payload: dict[str, Any], name: str, minimum: int = 0, default: int | None = None) -> int:
    value = payload.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= ID_MAX:
        raise Refused("bad_field", field=name)
    return value


def read_frame(raw: str | bytes | None) -> dict[str, Any]:
    """The client frame as a JSON object with a string ``type``; a ``Refused`` for anything else.

    Nothing a client sends may end the connection: a frame too deeply nested for
    the parser (``RecursionError``), invalid UTF-8 in a binary frame, a number of
    more digits than Python converts, all are ``bad_json`` like any other frame
    that is not JSON.
    """
    if raw is None:
        raw = b""
    size = len(raw.encode("utf-8", "surrogatepass")) if isinstance(raw, str) else len(raw)
    if size > MAX_FRAME:
        raise Refused("too_large", limit=MAX_FRAME)
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise Refused("bad_json") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        raise Refused("bad_frame")
    return payload


def storable(text: str) -> bool:
    """Text that can be stored and sent on: no NUL (PostgreSQL refuses it) and no lone surrogate
    (JSON's ``\\ud800`` escapes decode to one; it cannot be encoded as UTF-8 for the database or a socket)."""
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def echo(text: str, limit: int = 40) -> str:
    """A client's text, shortened and made sendable, to name it in an error frame."""
    return text[:limit].encode("utf-8", "replace").decode("utf-8")
