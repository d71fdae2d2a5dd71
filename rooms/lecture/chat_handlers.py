"""The lecture's socket handlers for everyone in a room: chat, its history, questions and reactions.

Each is a module-level function registered with ``@accepts`` in the one ACTIONS
registry (rooms.realtime.protocol), next to who may send it. It validates the
frame and runs a verb of the lecture through rooms.realtime.delivery, which
sends what the verb queued after its commit; it broadcasts nothing itself.
RoomsConfig.ready() imports this module, so the registry is complete before
the first socket or page asks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from channels.db import database_sync_to_async

from server.threads import in_pool

from .. import frames
from ..realtime import trace
from ..realtime.delivery import run
from ..realtime.protocol import (
    CHAT_MAX,
    CHAT_RATE,
    CLIENT_ID_MAX,
    EVERYONE,
    QUESTION_MAX,
    QUESTION_RATE,
    REACTION_RATE,
    REACTIONS,
    STAFF,
    accepts,
    allow,
    int_field,
    text_field,
)
from ..realtime.relay import get_relay
from ..refused import Refused
from .chat import is_complete, messages_after, recent_messages, send_chat
from .questions import answer_question, ask_question, upvote

if TYPE_CHECKING:
    from ..realtime.consumer import LectureConsumer


@accepts("chat.send", EVERYONE)
async def chat_send(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    body = text_field(payload, "body", CHAT_MAX)
    client_id = text_field(payload, "client_id", CLIENT_ID_MAX, required=False)
    # One thread hop for the checks and the write: this is the hot path of a busy room.
    # Not thread-sensitive: Channels would otherwise run every consumer's database
    # work of this process on one thread, and a reception's hundreds of rooms would
    # queue behind each other's commits. Messages of one connection stay in order
    # (each is awaited); the room's row lock numbers them across connections.
    verb = send_chat
    if trace.ON:  # the benchmark's per-stage timing (rooms.realtime.trace)
        trace.mark("recv", client_id)
        trace.key.set(client_id)
        verb = trace.timed(send_chat, client_id)
    await run(verb, conn.talk, conn.room, conn.participant, body, client_id, CHAT_RATE, thread_sensitive=False)
    if trace.ON:
        trace.mark("published", client_id)


@accepts("resume", EVERYONE)
async def resume(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    after = int_field(payload, "after")
    # On the thread pool, like the admission just before it: after a server restart every page
    # resumes within seconds, and on the process's one database thread they waited in one queue.
    messages = await in_pool(messages_after, conn.room, after)
    await conn.send_json(frames.resume(conn.room.pk, after, messages, complete=is_complete(messages)))


@accepts("chat.history", EVERYONE)
async def chat_history(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    before = int_field(payload, "before", minimum=1)
    messages = await database_sync_to_async(recent_messages)(conn.room, before)
    await conn.send_json(frames.chat_history(conn.room.pk, before, messages))


@accepts("question.ask", EVERYONE)
async def question_ask(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    body = text_field(payload, "body", QUESTION_MAX)
    if not await allow(conn.person_key, "question", QUESTION_RATE):
        raise Refused("rate_limited", retry_after=QUESTION_RATE[1])
    await run(ask_question, conn.talk, conn.room, conn.participant, body)


@accepts("question.upvote", EVERYONE)
async def question_upvote(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    question_id = int_field(payload, "id", minimum=1)
    await run(upvote, conn.talk, question_id, conn.participant)


@accepts("question.answer", STAFF)
async def question_answer(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    question_id = int_field(payload, "id", minimum=1)
    answered = payload.get("answered", True)
    if not isinstance(answered, bool):
        raise Refused("bad_field", field="answered")
    if await run(answer_question, conn.talk, question_id, conn.participant, answered) is None:
        raise Refused("not_found", id=question_id)


@accepts("reaction.send", EVERYONE)
async def reaction_send(conn: LectureConsumer, payload: dict[str, Any]) -> None:
    emoji = payload.get("emoji")
    if emoji not in REACTIONS:
        raise Refused("bad_field", field="emoji", allowed=list(REACTIONS))
    if not await allow(conn.person_key, "reaction", REACTION_RATE):
        raise Refused("rate_limited", retry_after=REACTION_RATE[1])
    # Counted here and sent as totals once a second: a burst of thousands is one frame.
    get_relay().add_reaction(conn.talk.pk, emoji)
