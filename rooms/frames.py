"""How server → client frames are built. One function per frame type; docs/protocol.md shows each."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from events.models import Talk
from events.specialties import specialty_fields

from .models import (
    CardExchange,
    ChatMessage,
    LectureRoom,
    Mute,
    Question,
    Reception,
    Stage,
)
from .profiles import Profile

RECEPTION_WARNING_SECONDS = 60


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def moment(value: datetime | None) -> str | None:
    """The one form of every time in every frame: ISO 8601 in the site's time zone (Japan time, +09:00), with its offset.

    Times come out of the database in UTC; a client that showed them as they
    came would show 10:00 for a 19:00 talk, so none goes out without this.
    """
    # The default zone, not timezone.localtime's "current" one: nothing activates another for frames, and
    # looking the current zone up (an asgiref Local) was most of the cost of a hello with 50 messages and
    # 20 questions, 70 times per admission and per reconnect (docs/performance.md, "Issue 13").
    return value.astimezone(timezone.get_default_timezone()).isoformat() if value is not None else None


def talk(t: Talk) -> dict[str, Any]:
    return {"id": t.pk, "title": t.title, "starts_at": moment(t.starts_at), "ends_at": moment(t.ends_at)}


def chat_message(message: ChatMessage) -> dict[str, Any]:
    return chat_message_of(message.room_id, message.seq, message.body, message.author, message.sent_at,
                           message.client_id)


def chat_message_of(room_id: int, seq: int, body: str, author: Any, sent_at: datetime, client_id: str) -> dict[str, Any]:
    """A chat message's frame from its columns (the admission reads them without a model: rooms.sql.lecture_admission)."""
    frame: dict[str, Any] = {
        "type": "chat.message",
        "room": room_id,
        "id": seq,
        "body": body,
        "author": author,
        "sent_at": moment(sent_at),
    }
    if client_id:
        frame["client_id"] = client_id
    return frame


def chat_deleted(message: ChatMessage) -> dict[str, Any]:
    return {"type": "chat.deleted", "room": message.room_id, "id": message.seq}


def question(q: Question) -> dict[str, Any]:
    return question_of(q.pk, q.body, q.author, q.votes, q.answered_at is not None, q.asked_at)


def question_of(pk: int, body: str, author: Any, votes: int, answered: bool, asked_at: datetime) -> dict[str, Any]:
    """A question's frame from its columns (as chat_message_of)."""
    return {
        "type": "question",
        "id": pk,
        "body": body,
        "author": author,
        "votes": votes,
        "answered": answered,
        "asked_at": moment(asked_at),
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
    return {"id": r.pk, "key": r.key, "kind": r.kind, "name": r.name_ja, "name_en": r.name_en}


def reception(r: Reception) -> dict[str, Any]:
    return {
        "opened_at": moment(r.opened_at),
        "closes_at": moment(r.closes_at),
        "room_size": r.room_size,
        "strategy": r.strategy,
        "self_select": r.allow_self_select,
        "warning_seconds": RECEPTION_WARNING_SECONDS,
    }


def chat_muted(entry: Mute) -> dict[str, Any]:
    return {"type": "chat.muted", "registration": entry.registration_id, "until": moment(entry.until)}


def room_moved(room_frame: dict[str, Any], members: list[dict[str, Any]], reception_frame: dict[str, Any],
               messages: list[dict[str, Any]] | None = None, reason: str = "allocated") -> dict[str, Any]:
    return {"type": "room.moved", "room": room_frame, "members": members, "messages": messages or [],
            "reception": reception_frame, "reason": reason}


def table_media(url: str, room_id: int, token: str, feed: int, ice_servers: list[dict[str, Any]],
                janus_token: str = "", listen: bool = False) -> dict[str, Any]:
    """Where a browser enters a table's call: Janus's public URL (of the instance holding the table), the room,
    the person's own token, the publisher id to join with (a physician's registration id, so a tile is
    labelled from the table's members and a moderator's mute names the right publisher; a staff member's
    10**15 + user id), the ICE servers (TURN; [] without), the signed token that lets the browser talk to
    Janus at all (Janus wants its API secret or such a token), and ``listen``: true for staff looking in,
    who subscribe to the table and publish nothing unless they choose to."""
    return {"janus_url": url, "room": room_id, "token": token, "feed": feed, "ice_servers": ice_servers,
            "janus_token": janus_token, "listen": listen}


def with_media(frame: dict[str, Any], media: dict[str, Any] | None) -> dict[str, Any]:
    """A frame that seats a physician, with the table's media details (None: media is off, the table is text)."""
    return {**frame, "media": media}


def with_media_text(text: str, media: dict[str, Any] | None) -> str:
    """``with_media`` on a frame already encoded: the opening encodes each table's room.moved once and every
    physician's connection adds their own media to it, without decoding or encoding the rest again."""
    assert text.endswith("}")
    return text[:-1] + ',"media":' + encode(media) + "}"


def with_presence_text(text: str, presence: str) -> str:
    """An encoded hello carrying the talk's current ``presence`` frame (encoded) as its ``presence``.

    The relay sends presence only when a figure changes, so a newcomer needs the
    current one at once; inside the hello it costs no send of its own (one frame
    fewer through Channels, Daphne and autobahn per join).
    """
    assert text.endswith("}")
    return text[:-1] + ',"presence":' + presence + "}"


def hello(you: dict[str, Any], t: Talk, current: LectureRoom, rooms: list[LectureRoom],
          messages: list[dict[str, Any]], questions: list[dict[str, Any]], s: Stage, r: Reception | None,
          members: list[dict[str, Any]], reactions: list[str], actions: list[str],
          limits: dict[str, Any], *, after: int | None = None, complete: bool = True) -> dict[str, Any]:
    """The first frame of a connection: who you are, where you are, and all a page needs to draw the room.

    ``messages`` and ``questions`` are already frames (chat_message, question): the admission
    builds them straight from its rows (rooms.lecture.connections.enter_lecture). With ``after``
    (a reconnecting page resumed in this room) the messages are those after it, and the frame
    says so with ``after`` and ``complete``, as a ``resume`` answer does; without, neither key.
    """
    frame: dict[str, Any] = {
        "type": "hello",
        "you": you,
        "talk": talk(t),
        "room": room(current),
        "rooms": [room(x) for x in rooms],
        "messages": messages,
        "questions": questions,
        "stage": stage(s),
        "reception": reception(r) if r is not None else None,
        "members": members,
        "reactions": reactions,
        "actions": actions,
        "limits": limits,
    }
    if after is not None:
        frame["after"] = after
        frame["complete"] = complete
    return frame


def error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, **extra}


def profile(p: Profile) -> dict[str, Any]:
    """A person as every frame shows them (the chat's author, a table's member)."""
    shown: dict[str, Any] = {
        "name": p.name, "facility_type": p.facility_type, "prefecture": p.prefecture,
        "prefecture_name": p.prefecture_name, "prefecture_name_en": p.prefecture_name_en, "region": p.region,
    }
    if p.registration is not None:
        shown["registration"] = p.registration
    if p.specialty is not None:
        shown.update(specialty_fields(p.specialty))
    if p.role is not None:
        shown["role"] = p.role
    return shown


def resume(room_id: int, after: int, messages: list[ChatMessage], complete: bool) -> dict[str, Any]:
    return {"type": "resume", "room": room_id, "after": after, "messages": [chat_message(m) for m in messages],
            "complete": complete}


def chat_history(room_id: int, before: int, messages: list[ChatMessage]) -> dict[str, Any]:
    return {"type": "chat.history", "room": room_id, "before": before, "messages": [chat_message(m) for m in messages]}


def room_viewing(r: LectureRoom, messages: list[ChatMessage], media: dict[str, Any] | None = None) -> dict[str, Any]:
    """Staff looking into a room: its recent chat, and at a reception table their own way into its call
    (``table_media`` with ``listen``; null for a lecture room, a closed reception, or media off)."""
    return {"type": "room.viewing", "room": room(r), "messages": [chat_message(m) for m in messages],
            "media": media}


def media_muted(room_id: int, registration_id: int, muted: bool) -> dict[str, Any]:
    """A moderator muted (or let speak again) a physician's microphone at a table; Janus enforces it."""
    return {"type": "media.muted", "room": room_id, "registration": registration_id, "muted": muted}


def person_removed(registration_id: int) -> dict[str, Any]:
    return {"type": "person.removed", "registration": registration_id}


def reception_announcement(body: str, author: dict[str, Any]) -> dict[str, Any]:
    return {"type": "reception.announcement", "body": body, "author": author}


def room_members(room_id: int, members: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "room.members", "room": room_id, "members": members}


def room_left(lecture: LectureRoom, tables: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "room.left", "room": room(lecture), "rooms": tables}


def occupancy(r: LectureRoom, members: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A reception table in the room list: the room, how many sit there, and (for staff) who."""
    entry = {**room(r), "seated": getattr(r, "seated", None)}
    if members is not None:
        entry["members"] = members
    return entry


def reception_rooms(tables: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "reception.rooms", "rooms": tables}


def card_offered(exchange: CardExchange, author: dict[str, Any]) -> dict[str, Any]:
    return {"type": "card.offered", "id": exchange.pk, "from": author}


def card_pending(exchange: CardExchange) -> dict[str, Any]:
    return {"type": "card.pending", "id": exchange.pk, "to": exchange.offered_to_id}


def card_exchanged(exchange: CardExchange, card: dict[str, Any]) -> dict[str, Any]:
    return {"type": "card.exchanged", "id": exchange.pk, "card": card}


def card_declined(exchange: CardExchange) -> dict[str, Any]:
    return {"type": "card.declined", "id": exchange.pk}


# Frames of the relay's own jobs


def presence(total: int, rooms: dict[str, int], tables: int, by_region: dict[str, int],
             by_prefecture: dict[str, int]) -> dict[str, Any]:
    """Who is connected: in the talk, per lecture room, at the reception tables together, per region and prefecture."""
    return {"type": "presence", "total": total, "rooms": rooms, "tables": tables, "by_region": by_region,
            "by_prefecture": by_prefecture}


def reactions(counts: dict[str, int]) -> dict[str, Any]:
    """One process's reactions of the last second, emoji → count."""
    return {"type": "reactions", "counts": counts}


def reception_opened(reception_frame: dict[str, Any], rooms: list[dict[str, Any]]) -> dict[str, Any]:
    """What staff (who take no seat) see when the reception opens: its tables and how many sit at each."""
    return {"type": "reception.opened", "reception": reception_frame, "rooms": rooms}


def reception_closing(seconds_left: int) -> dict[str, Any]:
    return {"type": "reception.closing", "seconds_left": seconds_left}


def reception_closed() -> dict[str, Any]:
    return {"type": "reception.closed"}


def batch_text(texts: list[str]) -> str:
    """A ``batch`` frame ({"type": "batch", "messages": [...]}) of frames already encoded: joined as text, so a burst
    is never decoded and encoded again; one frame goes as itself."""
    return texts[0] if len(texts) == 1 else '{"type":"batch","messages":[' + ",".join(texts) + "]}"
