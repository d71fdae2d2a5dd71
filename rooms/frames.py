"""How server → client frames are built. One function per frame type; docs/protocol.md shows each."""

from __future__ import annotations

import json
from typing import Any

from django.urls import reverse
from django.utils import timezone

from .models import ChatMessage, LectureRoom, Question, Stage


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def chat_message(message: ChatMessage) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "chat.message",
        "room": message.room_id,
        "id": message.seq,
        "body": message.body,
        "author": message.author,
        "sent_at": timezone.localtime(message.sent_at).isoformat(),
    }
    if message.client_id:
        frame["client_id"] = message.client_id
    return frame


def chat_deleted(message: ChatMessage) -> dict[str, Any]:
    return {"type": "chat.deleted", "room": message.room_id, "id": message.seq}


def question(q: Question) -> dict[str, Any]:
    return {
        "type": "question",
        "id": q.pk,
        "body": q.body,
        "author": q.author,
        "votes": q.votes,
        "answered": q.answered_at is not None,
        "asked_at": timezone.localtime(q.asked_at).isoformat(),
    }


def stage(s: Stage) -> dict[str, Any]:
    return {
        "type": "stage",
        "state": s.state,
        "slide": s.current_slide,
        "slide_count": s.slide_count,
        "slides_url": reverse("rooms:slides", args=[s.talk_id]) if s.slides_approved else "",
        "slides_version": int(s.slides_approved_at.timestamp()) if s.slides_approved_at else 0,
        "stream_url": s.talk.stream_url,
        "chat_open": s.chat_open,
        "pinned": s.pinned,
    }


def room(r: LectureRoom) -> dict[str, Any]:
    return {"id": r.pk, "key": r.key, "name": r.name_ja, "name_en": r.name_en}


def error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, **extra}


def batch(frames: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "batch", "messages": frames}
