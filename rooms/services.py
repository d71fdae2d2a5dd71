"""Write paths of the lecture rooms. Consumers authorise, call a verb here, then broadcast.

Every verb runs in its own transaction and returns what is to be broadcast, so
the broadcast happens only after the commit.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from events.models import Talk
from regions.models import Prefecture, Region

from .models import (
    Attendance,
    ChatMessage,
    LectureRoom,
    ModerationLog,
    Mute,
    Question,
    QuestionVote,
    Stage,
)
from . import chat_sql, reads, watch_times
from .participants import Participant

HISTORY = reads.HISTORY
RESUME_LIMIT = 500


class Refused(Exception):
    """A verb declined; ``code`` is one of rooms.realtime.protocol.ERRORS and the consumer answers with it."""

    def __init__(self, code: str, **extra: object) -> None:
        super().__init__(code)
        self.code = code
        self.extra = extra


def stage_of(talk: Talk) -> Stage:
    """The talk's stage, without a query when the talk was fetched with select_related("stage")."""
    try:
        stage = talk.stage
    except Stage.DoesNotExist:
        return stage_for(talk)
    stage.talk = talk
    return stage


def stage_for(talk: Talk) -> Stage:
    stage, _ = Stage.objects.get_or_create(talk=talk)
    stage.talk = talk  # frames read talk fields, and async callers cannot lazy-load
    return stage


def room_key_for(stage: Stage, prefecture_code: str, region_key: str) -> str:
    if stage.room_mode == Stage.RoomMode.PREFECTURE and prefecture_code:
        return prefecture_code
    if stage.room_mode == Stage.RoomMode.REGION and region_key:
        return region_key
    return "all"


def room_for(talk: Talk, key: str) -> LectureRoom:
    """The room with this key, created on first use.

    The common case (the room exists) is one query: a mass join at the start of
    a talk does nothing else here.
    """
    room = reads.room_by_key(talk.pk, key)
    return room if room is not None else _create_room(talk, key)


def _create_room(talk: Talk, key: str) -> LectureRoom:
    if key == "all":
        names = ("全員", "Everyone")
    elif key.isdigit():
        p = Prefecture.objects.get(code=key)
        names = (p.name_ja, p.name_en)
    else:
        r = Region.objects.get(key=key)
        names = (r.name_ja, r.name_en)
    try:
        with transaction.atomic():
            room, _ = LectureRoom.objects.get_or_create(talk=talk, key=key, defaults={"name_ja": names[0], "name_en": names[1]})
    except IntegrityError:  # another connection created it a moment ago
        room = LectureRoom.objects.get(talk=talk, key=key)
    return room


def assign_room(talk: Talk, participant: Participant, stage: Stage | None = None) -> LectureRoom:
    stage = stage or stage_for(talk)
    if participant.is_staff:
        # Staff land in the busiest room (or the event's first target area) and can look into any other.
        busiest = LectureRoom.objects.filter(talk=talk).order_by("-last_seq", "id").first()
        if busiest is not None:
            return busiest
        prefecture = talk.event.target_prefectures.select_related("region").first()
        region = talk.event.target_regions.first()
        return room_for(talk, room_key_for(
            stage,
            prefecture.code if prefecture else "13",
            region.key if region else (prefecture.region_id if prefecture else "kanto"),
        ))
    return room_for(talk, room_key_for(stage, participant.prefecture_code, participant.region_key))


def post_message(room: LectureRoom, participant: Participant, body: str, client_id: str = "") -> ChatMessage:
    with transaction.atomic():
        # The row lock taken by this update serialises numbering within a room across
        # every server process until the commit; one statement, as a busy reception
        # runs hundreds of these a second.
        seq = reads.next_seq(room.pk)
        return ChatMessage.objects.create(
            room=room, seq=seq, registration=participant.registration, user=participant.user,
            author=participant.author, body=body, client_id=client_id,
        )


def send_chat(
    talk: Talk, room: LectureRoom, participant: Participant, body: str, client_id: str, limit: tuple[int, float]
) -> ChatMessage:
    """Post a chat message unless the chat is closed, the author muted, or over the rate limit."""
    # Closing the chat is about the lecture; the reception's rooms stay open.
    if room.kind == LectureRoom.Kind.LECTURE and not participant.is_staff and not stage_for(talk).chat_open:
        raise Refused("chat_closed")
    count, seconds = limit
    now = timezone.now()
    registration_id = participant.registration.pk if participant.registration else None
    user_id = participant.user.pk if participant.registration is None else None
    if connection.vendor == "postgresql":
        message = chat_sql.post_checked(talk.pk, room.pk, registration_id, user_id, participant.author, body,
                                        client_id, now, now - timedelta(seconds=seconds), count)
        if message is not None:
            return message
    muted, recent = reads.mute_and_recent_chat(talk.pk, registration_id, user_id, now, now - timedelta(seconds=seconds))
    if muted:
        raise Refused("muted")
    if recent >= count:
        raise Refused("rate_limited", retry_after=seconds)
    if connection.vendor == "postgresql":
        raise Refused("rate_limited", retry_after=seconds)  # a race with the author's other tab: say so, do not post
    return post_message(room, participant, body, client_id)


def recent_messages(room: LectureRoom, before: int | None = None, limit: int = HISTORY) -> list[ChatMessage]:
    return reads.recent_messages(room.pk, before, limit)


def messages_after(room: LectureRoom, after: int, limit: int = RESUME_LIMIT) -> list[ChatMessage]:
    return list(ChatMessage.objects.filter(room=room, seq__gt=after, deleted_at__isnull=True).order_by("seq")[:limit])


def ask_question(talk: Talk, room: LectureRoom, participant: Participant, body: str) -> Question:
    return Question.objects.create(
        talk=talk, room=room, registration=participant.registration, user=participant.user,
        author={**participant.author, "room": room.key, "room_name": room.name_ja, "room_name_en": room.name_en},
        body=body,
    )


def upvote(talk: Talk, question_id: int, participant: Participant) -> Question:
    """Add the participant's one vote; refuses a question not in this talk, or a second vote."""
    with transaction.atomic():
        question = Question.objects.select_for_update().filter(pk=question_id, talk=talk).first()
        if question is None:
            raise Refused("not_found", id=question_id)
        try:
            with transaction.atomic():
                QuestionVote.objects.create(question=question, voter=participant.voter)
        except IntegrityError:
            raise Refused("already_voted", id=question_id) from None
        Question.objects.filter(pk=question.pk).update(votes=F("votes") + 1)
        question.refresh_from_db()
        return question


def answer_question(talk: Talk, question_id: int, participant: Participant, answered: bool = True) -> Question | None:
    question = Question.objects.filter(pk=question_id, talk=talk).first()
    if question is None:
        return None
    question.answered_at = timezone.now() if answered else None
    question.save(update_fields=["answered_at"])
    return question


def questions_for(talk: Talk) -> list[Question]:
    return reads.questions_for(talk.pk)


def _log(talk: Talk, participant: Participant, action: str, **details: object) -> None:
    ModerationLog.objects.create(talk=talk, actor=participant.user, action=action, details=details)


def delete_message(talk: Talk, room_id: int, seq: int, participant: Participant) -> ChatMessage | None:
    with transaction.atomic():
        message = ChatMessage.objects.filter(room_id=room_id, room__talk=talk, seq=seq, deleted_at__isnull=True).first()
        if message is None:
            return None
        message.deleted_at = timezone.now()
        message.save(update_fields=["deleted_at"])
        _log(talk, participant, "chat.delete", room=room_id, id=seq, body=message.body[:200])
        return message


def mute(talk: Talk, registration_id: int, minutes: int, participant: Participant) -> Mute | None:
    from events.models import Registration

    registration = Registration.objects.filter(pk=registration_id, event_id=talk.event_id).first()
    if registration is None:
        return None
    with transaction.atomic():
        entry = Mute.objects.create(talk=talk, registration=registration, until=timezone.now() + timedelta(minutes=minutes))
        _log(talk, participant, "chat.mute", registration=registration_id, minutes=minutes)
    return entry


def remove_person(talk: Talk, registration_id: int, participant: Participant) -> bool:
    """A moderator removes a physician from the event: their join link is revoked and their open pages close.

    The removal is a revocation with its own reason, so it lasts (a new socket
    or page is refused like any revoked link) until an organizer re-issues the
    link in the admin. events.services queues the closing of the person's
    sockets after the commit (rooms.realtime.evictions). False when no such registration
    is in this talk's event.
    """
    from events.models import Registration
    from events.services import revoke_join_link
    from events.signals import REMOVED

    registration = Registration.objects.filter(pk=registration_id, event_id=talk.event_id).first()
    if registration is None:
        return False
    with transaction.atomic():
        revoke_join_link(registration, reason=REMOVED)
        _log(talk, participant, "person.remove", registration=registration_id)
    return True


def set_chat_open(talk: Talk, is_open: bool, participant: Participant) -> Stage:
    with transaction.atomic():
        stage = stage_for(talk)
        stage.chat_open = is_open
        stage.save(update_fields=["chat_open"])
        _log(talk, participant, "chat.open" if is_open else "chat.close")
    return stage


def pin(talk: Talk, body: str, participant: Participant) -> Stage:
    with transaction.atomic():
        stage = stage_for(talk)
        stage.pinned = body
        stage.save(update_fields=["pinned"])
        _log(talk, participant, "announcement.pin", body=body)
    return stage


def go_live(talk: Talk) -> Stage:
    stage = stage_for(talk)
    if stage.state == Stage.State.ENDED:
        raise Refused("talk_ended")
    if stage.slides and not stage.slides_approved_at:
        raise Refused("slides_not_approved")
    stage.state = Stage.State.LIVE
    stage.went_live_at = stage.went_live_at or timezone.now()
    stage.save(update_fields=["state", "went_live_at"])
    return stage


def end_talk(talk: Talk) -> Stage:
    stage = stage_for(talk)
    if stage.state == Stage.State.ENDED:
        # A second "end" (another tab, a retry) keeps the first end time: attendance reports use it.
        return stage
    stage.state = Stage.State.ENDED
    stage.ended_at = timezone.now()
    stage.save(update_fields=["state", "ended_at"])
    return stage


def set_slide(talk: Talk, slide: int) -> Stage:
    stage = stage_for(talk)
    if stage.slides and not stage.slides_approved_at:
        raise Refused("slides_not_approved")
    upper = stage.slide_count or 1
    stage.current_slide = max(1, min(slide, upper))
    stage.save(update_fields=["current_slide"])
    return stage


def replace_slides(talk: Talk, filename: str, data: bytes, pages: int) -> Stage:
    """New slides replace the old and need a new organizer review before they are shown."""
    from django.core.files.base import ContentFile

    stage = stage_for(talk)
    stage.slides.save(filename, ContentFile(data), save=False)
    stage.slide_count = pages
    stage.current_slide = 1
    stage.slides_approved_at = None
    stage.slides_approved_by = None
    stage.save()
    return stage


def approve_slides(talk: Talk, user: object) -> Stage:
    """An organizer records that the slides were reviewed (Japanese promotion rules)."""
    stage = stage_for(talk)
    if stage.slides:
        stage.slides_approved_at = timezone.now()
        stage.slides_approved_by = user
        stage.save(update_fields=["slides_approved_at", "slides_approved_by"])
        ModerationLog.objects.create(talk=talk, actor=user, action="slides.approve", details={"file": stage.slides.name})
    return stage


def open_attendance(talk: Talk, participant: Participant, room: LectureRoom) -> Attendance | None:
    if participant.registration is None:
        return None
    return Attendance.objects.create(talk=talk, registration=participant.registration, room=room, joined_at=timezone.now())


def close_attendance(attendance_id: int) -> None:
    still_open = Attendance.objects.filter(pk=attendance_id, left_at__isnull=True)
    pair = still_open.values_list("talk_id", "registration_id").first()
    if pair is not None and still_open.update(left_at=timezone.now()):
        watch_times.refresh(pair[0], [pair[1]])
