"""A physician who deletes their data: their open tabs close with 4415, and chat history shows 「退会したユーザー」."""

from __future__ import annotations

import time

import pytest
from channels.db import database_sync_to_async

from campaigns import privacy
from tests.rooms.test_admission_ended import DEADLINE, close_code, scene

pytestmark = [pytest.mark.django_db(transaction=True)]


async def test_deleting_ones_data_closes_every_open_tab_and_history_shows_the_placeholder(connect):
    s = await scene()
    tab = await connect(s["talk"], s["doctor"])
    witness = await connect(s["talk"], s["neighbour"])
    await tab.send({"type": "chat.send", "body": "岩手から参加しています"})
    sent = await witness.recv_until("chat.message")
    assert sent["author"]["name"] == "岩手 太郎"

    await database_sync_to_async(privacy.erase_physician)(s["doctor"].physician_id)
    assert await close_code(tab, time.monotonic() + DEADLINE) == 4415

    await witness.send({"type": "chat.history", "before": sent["id"] + 1})
    history = await witness.recv_until("chat.history")
    [message] = history["messages"]
    assert message["body"] == "岩手から参加しています"
    assert message["author"]["name"] == "退会したユーザー" and message["author"]["deleted"] is True
    assert "岩手 太郎" not in repr(history) and "prefecture" not in message["author"]
