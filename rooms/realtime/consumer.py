"""The lecture-room WebSocket: /ws/talks/<talk_id>/.

The consumer admits a connection, says hello, and passes every client frame
to the handler the ACTIONS registry (rooms.realtime.protocol) names for its
type, after the role check; the handlers live with their feature
(rooms.lecture.chat_handlers, rooms.lecture.stage_handlers,
rooms.reception.handlers), validate, and run a verb through
rooms.realtime.delivery, which sends what the verb queued after its commit. Handlers use the connection through its public
surface: talk, room, participant, person_key, send_json() and switch_room(). Consumers are not members of channel-layer groups
(``channel_layer_alias = None``): the per-process relay is, and writes frames
straight to their sockets.
"""

from __future__ import annotations

import logging
import re
import time
from functools import cached_property
from typing import Any
from urllib.parse import parse_qs

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from django.db import DatabaseError, InterfaceError, OperationalError
from django.utils import translation

from events.models import Talk
from server import gcpolicy, metrics
from server.threads import in_pool

from .. import frames, sql
from ..lecture.chat import ResumeFrom, hello_messages, is_complete
from ..lecture.connections import close_attendance, enter_lecture
from ..lecture.questions import questions_for
from ..lecture.stage import prefetched_or_created_stage
from ..models import LectureRoom, Reception
from ..participants import NotAdmitted, NotSignedIn, Participant, identify, named_registrations
from ..reception.media import details as media_details, details_at as media_details_at
from ..reception.moves import tell_members
from ..reception.seating import place
from ..reception.tables import members_of, reception_or_none
from ..refused import Refused
from .delivery import run

# Ids only (talk, room, registration, error code): never a name or a frame's text. Each line carries
# the connection's id (server.logs); DEBUG, so thousands of joins cost nothing at the default level.
logger = logging.getLogger(__name__)
from .groups import room_group, talk_group
from .presence import PresenceKey, presence_key_of
from .protocol import (
    ACTIONS,
    CHAT_MAX,
    CHAT_RATE,
    ERRORS,
    NOT_ADMITTED,
    NOT_SIGNED_IN,
    QUESTION_MAX,
    REACTIONS,
    RECEPTION_CLOSED,
    RECONNECT,
    actions_for,
    echo,
    read_frame,
)
from .relay import get_relay

# The database is unreachable (refused, cut, or no pooled connection within DB_POOL_TIMEOUT): the verb's
# transaction was rolled back, so the frame is answered "unavailable" and the socket stays open for the
# next one. Broken connections are not reused (server.settings: the pool's check, CONN_HEALTH_CHECKS).
UNAVAILABLE = (OperationalError, InterfaceError)

_RESUME_ID = re.compile(r"[0-9]{1,10}")  # a decimal room or chat id, as the page writes it
RESUME_ID_MAX = 2**31 - 1  # beyond this no room or chat id is real: the query is ignored
RESUME_QUERY_FIELDS = 8  # a query of more fields is not the page's: ignored without reading it all


def resume_from(query_string: bytes) -> ResumeFrom | None:
    """Where a reconnecting page's chat stopped, from its socket's ``?room=<id>&after=<last chat id>``.

    None, and the connection admitted exactly as a first one (the ordinary hello),
    for anything else: no query, only one of the two, either given twice, not a
    plain decimal number, or above RESUME_ID_MAX. A query the server cannot use
    must never cost the page its connection (docs/protocol.md, "Reconnecting").
    """
    try:
        query = parse_qs(query_string.decode("ascii"), max_num_fields=RESUME_QUERY_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return None
    room, after = query.get("room", []), query.get("after", [])
    if len(room) != 1 or len(after) != 1:
        return None
    if not (_RESUME_ID.fullmatch(room[0]) and _RESUME_ID.fullmatch(after[0])):
        return None
    room_id, after_id = int(room[0]), int(after[0])
    if room_id > RESUME_ID_MAX or after_id > RESUME_ID_MAX:
        return None
    return ResumeFrom(room_id, after_id)


class LectureConsumer(AsyncWebsocketConsumer):
    channel_layer_alias = None  # type: ignore[assignment]

    talk: Talk
    participant: Participant
    room: LectureRoom
    reception: Reception | None = None
    attendance_id: int | None = None
    joined = False

    # -- the Connection protocol the relay writes to ------------------------

    @property
    def talk_id(self) -> int:
        return self.talk.pk

    @property
    def room_id(self) -> int:
        return self.room.pk

    @property
    def person_key(self) -> str:
        return self.participant.person_key

    @cached_property
    def presence_key(self) -> PresenceKey | None:
        """Read by the relay's tick for every socket each second: made once (the participant never changes)."""
        participant = self.participant
        return presence_key_of(participant.prefecture_code, participant.person_key, not participant.is_staff)

    @property
    def registration_id(self) -> int | None:
        registration = self.participant.registration
        return registration.pk if registration is not None else None

    @property
    def in_social_room(self) -> bool:
        return self.room.is_table

    async def moved(self, room: dict[str, Any], text: str, opening: tuple[int, float] | None = None) -> None:
        """Switch this connection to another room (the relay encoded the frame once per room).

        From the opening (``opening``: its stamp and close, epoch seconds) the shared frame lacks the
        table's media: this physician's own token and TURN credentials are HMACs, computed here
        without the database.
        """
        started = time.monotonic()
        if opening is not None and self.registration_id is not None:
            stamp, closes_at = opening
            text = frames.with_media_text(text, media_details_at(stamp, closes_at, room["id"], self.registration_id,
                                                                 self.person_key))
        self.enter_room(room)
        self.attendance_id = None  # open_reception ended the viewing interval
        await self.send_text(text)
        metrics.ROOM_MOVES.inc()
        metrics.ROOM_MOVE_SECONDS.observe(time.monotonic() - started)

    async def reception_over(self, text: str) -> None:
        """The reception closed: say so and end the connection (the page returns to the lobby)."""
        await self.send_text(text)
        await self.close(code=RECEPTION_CLOSED)

    async def evict(self, code: int) -> None:
        """This person's registration stopped admitting them (rooms.realtime.evictions): close with the code that says why.

        The connection leaves the relay first, so nothing more reaches it and
        receive() drops whatever the client still sends before the close lands.
        """
        if not self.joined:
            return
        await self._leave_relay()
        await self.close(code=code)

    async def send_text(self, text: str) -> None:
        metrics.FRAMES_OUT.inc()
        # The server's own send: no middleware wraps it (server.socket_session).
        await self.base_send({"type": "websocket.send", "text": text})

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Each message from the server, in order, to its handler; until the disconnect handler stops.

        Channels' AsyncConsumer waits for the client and for the consumer's
        channel-layer inbox at once (a task and an ``asyncio.wait`` per message);
        this consumer has no inbox (``channel_layer_alias = None``: the relay
        writes to it), so it awaits the one source directly.
        """
        self.scope = scope
        self.channel_layer = None
        self.base_send = send
        try:
            while True:
                await self.dispatch(await receive())
        except StopConsumer:
            pass

    async def dispatch(self, message: dict[str, Any]) -> None:
        # Channels (since 4.2) closes stale database connections before every
        # handler, a thread hop per frame received. Every database call here goes
        # through database_sync_to_async or server.threads.in_pool, which release connections in their thread.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    # -- which room this connection hears ---------------------------------------

    def switch_room(self, room: LectureRoom) -> None:
        """This connection now hears ``room`` instead of its current one (no channel-layer work: see groups.carrier)."""
        get_relay().switch(room_group(self.talk.pk, self.room.pk), room_group(self.talk.pk, room.pk), self)  # type: ignore[arg-type]
        self.room = room

    def enter_room(self, room: dict[str, Any]) -> None:
        """Switch to a room as frames.room() describes it (no database read)."""
        self.switch_room(LectureRoom(pk=room["id"], talk_id=self.talk.pk, key=room["key"], kind=room["kind"],
                                     name_ja=room["name"], name_en=room["name_en"]))

    # -- lifecycle --------------------------------------------------------------

    async def connect(self) -> None:
        talk_id = int(self.scope["url_route"]["kwargs"]["talk_id"])
        await self.accept()
        admitting = time.monotonic()
        try:
            hello = await self._admit(talk_id)
        except NotSignedIn:
            await self.close(code=NOT_SIGNED_IN)
            return
        except NotAdmitted:
            await self.close(code=NOT_ADMITTED)
            return
        except UNAVAILABLE as exc:  # no database to admit with: the page tries again after its back-off
            logger.warning("admission failed, the database is unavailable: %s", type(exc).__name__)
            await self.close(code=RECONNECT)
            return
        relay = get_relay()
        await relay.join(room_group(self.talk.pk, self.room.pk), self)
        await relay.join(talk_group(self.talk.pk), self)
        self.joined = True
        metrics.CONNECTED.labels(talk=str(self.talk.pk)).inc()
        logger.debug("joined talk %s room %s as %s, registration %s", self.talk.pk, self.room.pk,
                     self.participant.role, self.registration_id)
        # The admission read the registration before the relay knew this connection: a
        # revocation committed in between closed the person's other sockets, not this one.
        code = relay.evicted_since(self.talk.pk, self.registration_id, admitting)
        if code is not None:
            await self.evict(code)
            return
        if self.reception is not None and self.reception.is_open():
            relay.watch_reception(self.talk.pk, self.reception.closes_at.timestamp())  # type: ignore[union-attr]
        text = frames.encode(hello)
        # Presence is only re-sent when it changes: the newcomer's hello carries the current figures.
        current = relay.presence.latest.get(self.talk.pk)
        await self.send_text(frames.with_presence_text(text, current) if current else text)
        if self.in_social_room and not self.participant.is_staff:
            await run(tell_members, self.talk.pk, self.room)  # the table sees who sat down

    async def _admit(self, talk_id: int) -> dict[str, Any]:
        # On the thread pool, not the process's one database thread: the admissions of a mass
        # (re)connect then wait for PostgreSQL side by side instead of in one queue
        # (docs/performance.md, "Issue 13"; chat.send does the same).
        return await in_pool(self._admit_now, talk_id)

    def _admit_now(self, talk_id: int) -> dict[str, Any]:
        try:
            # The registration the join cookie names comes with the talk: one round trip, not two.
            self.talk, loaded = sql.talk_for_admission(talk_id, named_registrations(self.scope))
        except Talk.DoesNotExist:
            # Refused exactly like a talk one may not see, so talk ids cannot be probed.
            identify(self.scope, None)
            raise AssertionError("identify admits nobody to a talk that does not exist") from None
        self.participant = identify(self.scope, self.talk, loaded)
        resume = resume_from(self.scope.get("query_string", b""))
        self.language = self.participant.registration.language if self.participant.registration else "ja"
        stage = prefetched_or_created_stage(self.talk)
        self.reception = reception_or_none(self.talk)
        seat = None
        if self.participant.registration is not None and self.reception is not None:
            # Arriving (or coming back) while the reception is open: straight to a seat.
            seat = place(self.talk, self.participant.registration, reception=self.reception)
        if seat is not None:
            self.room = seat.room
            shown, after = hello_messages(self.room, resume)  # back at the same table: what it missed
            messages = [frames.chat_message(m) for m in shown]
            asked = [frames.question(q) for q in questions_for(self.talk)]
        else:
            entered = enter_lecture(self.talk, self.participant, stage, resume)
            self.room, self.attendance_id = entered.room, entered.attendance_id
            messages, asked, after = entered.messages, entered.questions, entered.after
        return self._hello(stage, messages, asked, after)

    def _hello(self, stage: Any, messages: list[dict[str, Any]], asked: list[dict[str, Any]],
               after: int | None = None) -> dict[str, Any]:
        rooms = LectureRoom.objects.filter(talk=self.talk) if self.participant.is_staff else [self.room]
        you = {**self.participant.author, "role": self.participant.role,
               "registration": self.participant.registration.pk if self.participant.registration else None}
        hello = frames.hello(
            you, self.talk, self.room, list(rooms), messages, asked, stage,
            self.reception, members_of(self.room) if self.in_social_room else [], list(REACTIONS),
            actions_for(self.participant.role),
            {"chat_max": CHAT_MAX, "question_max": QUESTION_MAX, "chat_rate": list(CHAT_RATE)},
            after=after, complete=is_complete(messages) if after is not None else True,  # only a resumed one says
        )
        if self.in_social_room and self.reception is not None and self.participant.registration is not None:
            # A physician seated at a table: the table's call and their own token (None when media is off).
            hello = frames.with_media(hello, media_details(self.reception, self.room.pk,
                                                           self.participant.registration.pk))
        return hello

    async def disconnect(self, code: int) -> None:
        logger.debug("closed with code %s", code)
        gcpolicy.connection_closed()  # its frozen objects are garbage now: many of them call for a reclaim
        await self._leave_relay()
        if self.attendance_id:
            await database_sync_to_async(close_attendance)(self.attendance_id)

    async def _leave_relay(self) -> None:
        if self.joined:
            self.joined = False
            metrics.CONNECTED.labels(talk=str(self.talk.pk)).dec()
            relay = get_relay()
            await relay.leave(room_group(self.talk.pk, self.room.pk), self)
            await relay.leave(talk_group(self.talk.pk), self)

    # -- receiving ----------------------------------------------------------------

    async def send_json(self, frame: dict[str, Any]) -> None:
        await self.send_text(frames.encode(frame))

    async def refuse(self, code: str, **extra: Any) -> None:
        with translation.override(getattr(self, "language", "ja")):
            message = str(ERRORS.get(code, code))
        metrics.ERRORS.labels(code=code).inc()
        logger.debug("refused a frame: %s", code)
        await self.send_json(frames.error(code, message, **extra))

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        metrics.FRAMES_IN.inc()
        if not self.joined:
            return
        try:
            payload = read_frame(text_data if text_data is not None else bytes_data)
        except Refused as refusal:
            await self.refuse(refusal.code, **refusal.extra)
            return
        action = ACTIONS.get(payload["type"])
        if action is None:
            await self.refuse("unknown_type", received=echo(payload["type"]))
            return
        if self.participant.role not in action.roles:
            await self.refuse("forbidden", received=action.type)
            return
        try:
            await action.handler(self, payload)
        except Refused as refusal:
            await self.refuse(refusal.code, received=action.type, **refusal.extra)
        except DatabaseError as exc:
            # The database did not take a statement (unreachable, a lost connection, embedded SQLite locked
            # by another writer); its transaction rolled back, and whatever the verb committed before went
            # out (delivery.run). Answered like any refused frame: the socket stays open for the next one.
            logger.warning("%s failed, the database did not take it: %s", action.type, type(exc).__name__)
            await self.refuse("unavailable", received=action.type)
