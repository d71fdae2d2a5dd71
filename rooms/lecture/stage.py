"""The talk's stage: going live, ending, slides, the pinned announcement and whether the chat is open.

Every verb that changes what the audience sees runs in its own transaction and
queues the new stage for the whole talk, sent after the commit (rooms.outbox).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from events.models import Talk

from .. import frames
from ..outbox import ToTalk, send_event_on_commit
from ..participants import Participant
from ..refused import Refused
from .models import ModerationLog, Stage
from .moderation import moderation_log


def prefetched_or_created_stage(talk: Talk) -> Stage:
    """The talk's stage, without a query when the talk was fetched with select_related("stage")."""
    try:
        stage = talk.stage
    except Stage.DoesNotExist:
        return get_or_create_stage(talk)
    stage.talk = talk
    return stage


def get_or_create_stage(talk: Talk) -> Stage:
    stage, _ = Stage.objects.get_or_create(talk=talk)
    stage.talk = talk  # frames read talk fields, and async callers cannot lazy-load
    return stage


def go_live(talk: Talk) -> Stage:
    stage = get_or_create_stage(talk)
    if stage.state == Stage.State.ENDED:
        raise Refused("talk_ended")
    if stage.slides and not stage.slides_approved_at:
        raise Refused("slides_not_approved")
    stage.state = Stage.State.LIVE
    stage.went_live_at = stage.went_live_at or timezone.now()
    stage.save(update_fields=["state", "went_live_at"])
    return broadcast_stage(stage)


def end_talk(talk: Talk, *, show: bool = True) -> Stage:
    """The talk is over; ``show`` False leaves the stage frame to the caller (rooms.reception.opening.end_and_open)."""
    stage = get_or_create_stage(talk)
    if stage.state != Stage.State.ENDED:
        # A second "end" (another tab, a retry) keeps the first end time: attendance reports use it.
        stage.state = Stage.State.ENDED
        stage.ended_at = timezone.now()
        stage.save(update_fields=["state", "ended_at"])
    return broadcast_stage(stage) if show else stage


def set_slide(talk: Talk, slide: int) -> Stage:
    stage = get_or_create_stage(talk)
    if stage.slides and not stage.slides_approved_at:
        raise Refused("slides_not_approved")
    upper = stage.slide_count or 1
    stage.current_slide = max(1, min(slide, upper))
    stage.save(update_fields=["current_slide"])
    return broadcast_stage(stage)


def replace_slides(talk: Talk, filename: str, data: bytes, pages: int) -> Stage:
    """New slides replace the old and need a new organizer review before they are shown."""
    from django.core.files.base import ContentFile

    stage = get_or_create_stage(talk)
    stage.slides.save(filename, ContentFile(data), save=False)
    stage.slide_count = pages
    stage.current_slide = 1
    stage.slides_approved_at = None
    stage.slides_approved_by = None
    stage.save()
    return stage


def approve_slides(talk: Talk, user: object) -> Stage:
    """An organizer records that the slides were reviewed (Japanese promotion rules)."""
    stage = get_or_create_stage(talk)
    if stage.slides:
        stage.slides_approved_at = timezone.now()
        stage.slides_approved_by = user
        stage.save(update_fields=["slides_approved_at", "slides_approved_by"])
        ModerationLog.objects.create(talk=talk, actor=user, action="slides.approve", details={"file": stage.slides.name})
    return stage


def set_chat_open(talk: Talk, is_open: bool, participant: Participant) -> Stage:
    with transaction.atomic():
        stage = get_or_create_stage(talk)
        stage.chat_open = is_open
        stage.save(update_fields=["chat_open"])
        moderation_log(talk, participant, "chat.open" if is_open else "chat.close")
        return broadcast_stage(stage)


def pin(talk: Talk, body: str, participant: Participant) -> Stage:
    with transaction.atomic():
        stage = get_or_create_stage(talk)
        stage.pinned = body
        stage.save(update_fields=["pinned"])
        moderation_log(talk, participant, "announcement.pin", body=body)
        return broadcast_stage(stage)


def broadcast_stage(stage: Stage) -> Stage:
    """Every room of the talk sees the stage as it now stands, after the commit."""
    send_event_on_commit(ToTalk(stage.talk_id, frames.stage(stage)))
    return stage
