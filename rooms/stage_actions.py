"""The speakers' and moderators' WebSocket actions, mixed into the lecture consumer.

They register in the one ACTIONS registry (rooms.realtime.protocol) like every other
message type; each declares who may send it next to its handler. Stage changes
are written first and broadcast to the whole talk after the write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from channels.db import database_sync_to_async

from .lecture.chat import recent_messages
from .lecture.moderation import delete_message, mute, remove_person
from .lecture.questions import answer_question
from .lecture.stage import end_talk, go_live, pin, set_chat_open, set_slide
from .models import LectureRoom
from .realtime import frames
from .realtime.groups import room_group, talk_group
from .realtime.protocol import ANNOUNCEMENT_MAX, MODERATORS, STAFF, Refusal, accepts, int_field, text_field
from .realtime.relay import get_relay
from .reception.opening import open_reception, opening_message


class StageActions:
    # Provided by the consumer and ReceptionActions; annotations only, since a
    # stub method here would come first in the MRO and shadow the real one.
    talk: Any
    room: LectureRoom
    participant: Any
    send_json: Callable[[dict[str, Any]], Awaitable[None]]
    _switch: Callable[[LectureRoom], None]

    # -- speakers and organizers ------------------------------------------------

    @accepts("question.answer", STAFF)
    async def question_answer(self, payload: dict[str, Any]) -> None:
        question_id = int_field(payload, "id", minimum=1)
        answered = payload.get("answered", True)
        if not isinstance(answered, bool):
            raise Refusal("bad_field", field="answered")
        question = await database_sync_to_async(answer_question)(self.talk, question_id, self.participant, answered)
        if question is None:
            raise Refusal("not_found", id=question_id)
        await get_relay().publish(talk_group(self.talk.pk), frames.question(question))

    @accepts("slide.set", STAFF)
    async def slide_set(self, payload: dict[str, Any]) -> None:
        slide = int_field(payload, "slide", minimum=1)
        await self._stage_change(set_slide, slide)

    @accepts("stage.live", STAFF)
    async def stage_live(self, payload: dict[str, Any]) -> None:
        await self._stage_change(go_live)

    @accepts("stage.end", STAFF)
    async def stage_end(self, payload: dict[str, Any]) -> None:
        # The end of the talk is the start of the reception (when the organizer set one up):
        # both in one database hop, and the move goes out before the "ended" stage frame,
        # so the attendees' sockets carry the move first.
        def end_and_open() -> tuple[Any, Any]:
            return end_talk(self.talk), open_reception(self.talk, self.participant.user)

        stage, opening = await database_sync_to_async(end_and_open)()
        relay = get_relay()
        if opening is not None:
            await relay.open_reception(self.talk.pk, opening_message(opening))
        await relay.publish(talk_group(self.talk.pk), frames.stage(stage))

    async def _stage_change(self, verb: Any, *args: Any) -> None:
        stage = await database_sync_to_async(verb)(self.talk, *args)
        await get_relay().publish(talk_group(self.talk.pk), frames.stage(stage))

    @accepts("room.view", STAFF)
    async def room_view(self, payload: dict[str, Any]) -> None:
        room_id = int_field(payload, "room", minimum=1)
        room = await database_sync_to_async(lambda: LectureRoom.objects.filter(pk=room_id, talk=self.talk).first())()
        if room is None:
            raise Refusal("not_found", room=room_id)
        self._switch(room)
        messages = await database_sync_to_async(recent_messages)(room)
        await self.send_json({"type": "room.viewing", "room": frames.room(room),
                              "messages": [frames.chat_message(m) for m in messages]})

    # -- moderators ---------------------------------------------------------------

    @accepts("chat.delete", MODERATORS)
    async def chat_delete(self, payload: dict[str, Any]) -> None:
        seq = int_field(payload, "id", minimum=1)
        room_id = int_field(payload, "room", minimum=1, default=self.room.pk)
        message = await database_sync_to_async(delete_message)(self.talk, room_id, seq, self.participant)
        if message is None:
            raise Refusal("not_found", id=seq)
        await get_relay().publish(room_group(self.talk.pk, room_id), frames.chat_deleted(message))

    @accepts("chat.mute", MODERATORS)
    async def chat_mute(self, payload: dict[str, Any]) -> None:
        registration_id = int_field(payload, "registration", minimum=1)
        minutes = int_field(payload, "minutes", minimum=1)
        entry = await database_sync_to_async(mute)(self.talk, registration_id, min(minutes, 24 * 60), self.participant)
        if entry is None:
            raise Refusal("not_found", registration=registration_id)
        await self.send_json(frames.chat_muted(entry))

    @accepts("person.remove", MODERATORS)
    async def person_remove(self, payload: dict[str, Any]) -> None:
        registration_id = int_field(payload, "registration", minimum=1)
        removed = await database_sync_to_async(remove_person)(self.talk, registration_id, self.participant)
        if not removed:
            raise Refusal("not_found", registration=registration_id)
        # Their sockets close through the relay (rooms.realtime.evictions); the moderator gets the confirmation.
        await self.send_json({"type": "person.removed", "registration": registration_id})

    @accepts("chat.close", MODERATORS)
    async def chat_close(self, payload: dict[str, Any]) -> None:
        await self._moderate_stage(set_chat_open, False)

    @accepts("chat.open", MODERATORS)
    async def chat_open(self, payload: dict[str, Any]) -> None:
        await self._moderate_stage(set_chat_open, True)

    @accepts("announcement.pin", MODERATORS)
    async def announcement_pin(self, payload: dict[str, Any]) -> None:
        body = text_field(payload, "body", ANNOUNCEMENT_MAX, required=False)
        await self._moderate_stage(pin, body)

    async def _moderate_stage(self, verb: Any, *args: Any) -> None:
        stage = await database_sync_to_async(verb)(self.talk, *args, self.participant)
        await get_relay().publish(talk_group(self.talk.pk), frames.stage(stage))
