"""A physician's phone through a server restart: the page comes back by itself, and its hello alone
brings what was said meanwhile (docs/protocol.md, "Reconnecting")."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.utils import timezone

from events.joinlinks import join_url
from rooms.lecture.chat import post_message
from rooms.models import ChatMessage, LectureRoom, Stage
from rooms.participants import Participant
from tests.e2e.shapes import PHONE, server_env
from tests.factories import make_event, make_talk, register
from tests.servers import daphne, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.services]


def test_a_page_back_after_a_restart_shows_what_was_said_meanwhile_once_in_order_without_asking_again(
        browser, postgres_url, redis_url, artifacts):
    event = make_event(title="東北 肺がん Web講演会")
    talk = make_talk(event, title="ドライバー遺伝子と治療選択")
    Stage.objects.create(talk=talk, room_mode=Stage.RoomMode.SINGLE)
    physician = register(event, full_name="岩手 太郎")
    colleague = register(event, full_name="宮城 次郎")
    elsewhere = Participant(role="attendee", registration=colleague, author={"name": "宮城 次郎"})
    env = server_env(postgres_url, redis_url)
    port = free_port()
    sockets: list[dict[str, Any]] = []  # each socket the page opened: its URL and the frames it sent

    def opened(ws: Any) -> None:
        socket: dict[str, Any] = {"url": ws.url, "sent": []}
        sockets.append(socket)
        ws.on("framesent", lambda payload: socket["sent"].append(json.loads(payload)))

    with daphne(env, port) as base:
        page = browser.new_context(**PHONE).new_page()
        page.on("websocket", opened)
        page.goto(base + "/" + join_url(physician).split("/", 3)[3])
        page.get_by_role("link", name="講演ルームに入る").first.click()
        page.wait_for_selector("text=接続しました")
        room = LectureRoom.objects.get(talk=talk)
        page.fill("[data-chat-input]", "再起動の前です")
        page.click("[data-chat-form] button")
        page.locator("[data-messages] li[data-id='1']").wait_for()
    # The server is gone: the page says so and keeps trying; meanwhile the room goes on without it.
    page.wait_for_selector("text=再接続中")
    for n in range(2, 6):
        post_message(room, elsewhere, f"不在中 {n}")
    ChatMessage.objects.filter(room=room, seq=3).update(deleted_at=timezone.now())  # a moderator removed it
    with daphne(env, port):
        page.locator("[data-messages] li[data-id='5']").wait_for(timeout=45_000)
        page.wait_for_selector("text=接続しました")
        assert page.locator("[data-messages] li").evaluate_all("items => items.map((li) => li.dataset.id)") == [
            "1", "2", "4", "5"]
        assert page.locator("[data-messages] li .body").all_inner_texts() == [
            "再起動の前です", "不在中 2", "不在中 4", "不在中 5"]
        back = sockets[-1]
        assert back["url"].endswith(f"/ws/talks/{talk.pk}/?room={room.pk}&after=1")
        assert all("?" not in s["url"] for s in sockets[:1])  # the first visit says nothing
        # Its hello held everything: no resume asked for, not even for the deleted message's gap.
        assert not [f for f in back["sent"] if f.get("type") == "resume"], back["sent"]
        page.fill("[data-chat-input]", "戻りました")
        page.click("[data-chat-form] button")
        page.locator("[data-messages] li[data-id='6']").wait_for()
        page.screenshot(path=str(artifacts / "lecture-back-after-restart-phone.png"), full_page=True)
        page.context.close()
