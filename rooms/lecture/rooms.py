"""Which lecture room a person hears: rooms by prefecture, region or one for everybody."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from events.models import Talk
from regions.models import Prefecture, Region

from .. import sql
from ..participants import Participant
from .models import LectureRoom, Stage
from .stage import get_or_create_stage


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
    room = sql.room_by_key(talk.pk, key)
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
    stage = stage or get_or_create_stage(talk)
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
