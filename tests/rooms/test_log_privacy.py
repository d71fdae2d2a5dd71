"""No name, e-mail address or chat text reaches the logs, through a whole evening at DEBUG.

A physician registers (mail sent, a listener failing with their data in its exception), is
refused for registering too often, follows the join link, joins the lecture room's socket,
chats, sends a malformed frame and too many messages, is moved to a reception table and
offers a card. Everything logged meanwhile is captured at DEBUG by a handler built as the
production one is (server/settings.py LOGGING) and searched for their personal data.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client

from events import signals
from events.joinlinks import make_token
from events.models import Registration
from rooms.models import Reception, Stage
from server.logs import WITHHELD, ContextFilter, PersonalDataFilter, json_formatter
from tests.factories import form_data, make_event, make_staff, make_talk

pytestmark = [pytest.mark.django_db(transaction=True)]

DOCTORS = [
    {"full_name": "秋田 誠一郎", "name_kana": "あきた せいいちろう", "email": "seiichiro.akita@akita-clinic.example.jp"},
    {"full_name": "大館 美咲", "name_kana": "おおだて みさき", "email": "Misaki.Odate@odate-hp.example.jp"},
]
# Stands for a mistyped or forwarded join link: a token is a key to a physician's seat.
UNKNOWN_TOKEN = "AbCdEf0123-not-a-real-token"
CHAT = ["ALK融合遺伝子の症例について相談したいです", "パネル検査の保険適用は何回まで？", "秋田から参加しています"]


@pytest.fixture
def captured(tmp_path: Path):
    """Every record at DEBUG, written as the production handler writes it, into a file."""
    console = settings.LOGGING["handlers"]["console"]
    assert console["filters"] == ["ids", "personal"]  # the handler below is the production one
    path = tmp_path / "renkei.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.addFilter(ContextFilter())
    handler.addFilter(PersonalDataFilter())
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield path
    root.setLevel(level)
    root.removeHandler(handler)
    handler.close()


def failing_listener(sender, registration, **kwargs):
    physician = registration.physician
    raise ValueError(f"cannot attribute {physician.full_name} <{physician.email}>")


@database_sync_to_async
def register_and_be_refused(mailoutbox) -> tuple[object, list[Registration]]:
    event = make_event(title="秋田 肺がん Web講演会")
    talk = make_talk(event, title="ドライバー遺伝子と治療選択")
    Stage.objects.create(talk=talk, room_mode="region", state=Stage.State.LIVE)
    Reception.objects.create(talk=talk)
    speaker = make_staff("spk", "speaker")
    talk.speakers.add(speaker)
    signals.registration_created.connect(failing_listener, dispatch_uid="test-log-privacy")
    try:
        for n, doctor in enumerate(DOCTORS):
            browser = Client(REMOTE_ADDR=f"192.0.2.{n + 1}")
            response = browser.post(f"/events/{event.slug}/register/", form_data(prefecture="05", **doctor))
            assert response.status_code == 302, response.content[:500]
    finally:
        signals.registration_created.disconnect(dispatch_uid="test-log-privacy")
    assert len(mailoutbox) == 2  # the confirmations went out
    # Registering again and again with one address: refused once over the limit.
    statuses = [Client(REMOTE_ADDR="198.51.100.9").post(f"/events/{event.slug}/register/",
                                                        form_data(prefecture="05", **DOCTORS[0])).status_code
                for _ in range(4)]
    assert statuses[-1] == 429, statuses
    registrations = list(Registration.objects.filter(event=event).select_related("physician").order_by("pk"))
    browser = Client()
    assert browser.get(f"/join/{make_token(registrations[0])}/").status_code == 302
    assert browser.get(f"/join/{UNKNOWN_TOKEN}/").status_code in (404, 410)
    assert browser.get("/talks/999999/").status_code == 404
    return talk, speaker, registrations


async def test_a_full_evening_at_debug_logs_no_name_email_or_chat_text(connect, captured, mailoutbox):
    talk, speaker, (akita, odate) = await register_and_be_refused(mailoutbox)
    first = await connect(talk, akita)
    second = await connect(talk, odate)
    staff = await connect(talk, user=speaker)
    for body in CHAT:
        await first.send({"type": "chat.send", "body": body})
        await first.recv_until("chat.message")
    await first.send("{oops")
    await first.recv_until("error")
    for n in range(6):
        await second.send({"type": "chat.send", "body": f"{CHAT[0]} ({n})"})
    assert (await second.recv_until("error"))["code"] == "rate_limited"
    await staff.send({"type": "stage.end"})
    await first.recv_until("room.moved")
    await second.recv_until("room.moved")
    await first.send({"type": "chat.send", "body": "よろしくお願いします、秋田です"})
    await second.recv_until("chat.message")
    await first.send({"type": "card.offer", "to": odate.pk})
    await second.recv_until("card.offered")
    for client in (first, second, staff):
        await client.close()

    for handler in logging.getLogger().handlers:
        handler.flush()
    text = captured.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    # The capture saw the evening: the failing listener (its traceback kept, its text withheld).
    failed = [line for line in lines if line["message"] == "registration_created listener failed"]
    assert len(failed) == 2 and all(WITHHELD in line["exc_info"] for line in failed)
    # The socket's own lines, each with its connection's id: joins, refusals (malformed, too fast), closes.
    socket = [line for line in lines if line["logger"] == "rooms.realtime.consumer"]
    assert {line["message"] for line in socket} >= {"refused a frame: bad_json", "refused a frame: rate_limited"}
    assert all(line["connection_id"] for line in socket) and len({line["connection_id"] for line in socket}) == 3
    assert any(line["message"].startswith("Not Found") for line in lines)
    personal = [value for doctor in DOCTORS for value in doctor.values()]
    personal += [doctor["email"].lower() for doctor in DOCTORS] + [doctor["email"].split("@")[0] for doctor in DOCTORS]
    personal += [part for doctor in DOCTORS for part in doctor["full_name"].split()]
    personal += CHAT + ["よろしくお願いします、秋田です", make_token(akita), UNKNOWN_TOKEN]
    assert [value for value in personal if value in text] == []
