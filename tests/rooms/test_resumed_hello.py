"""A reconnecting page's hello brings what it missed, in one round trip (docs/protocol.md, "Reconnecting").

The page opens its socket with ``?room=<its room id>&after=<the last chat id it shows>``; when the
server puts it back in that room, ``hello.messages`` are what ``resume`` would have answered,
with ``after`` and ``complete``. Anything else gets the ordinary hello, and the socket is admitted.
On SQLite these run the portable admission; on PostgreSQL an attendee's runs the one statement
(rooms.sql.lecture_admission), staff and a reception table the portable path.
"""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from rooms.lecture.chat import HISTORY, RESUME_LIMIT
from rooms.models import ChatMessage, LectureRoom
from tests.rooms.test_lecture_socket import setup_talk
from tests.rooms.test_reception_socket import _everyone, setup_reception

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def chat_in(room_id: int, count: int, deleted: tuple[int, ...] = ()) -> None:
    """``count`` more messages in the room, numbered on from its last; the ids in ``deleted`` removed by a moderator."""
    room = LectureRoom.objects.get(pk=room_id)
    now = timezone.now()
    first = room.last_seq + 1
    ChatMessage.objects.bulk_create([
        ChatMessage(room=room, seq=n, author={"name": "宮城 次郎"}, body=f"m{n}", sent_at=now,
                    deleted_at=now if n in deleted else None)
        for n in range(first, first + count)
    ])
    LectureRoom.objects.filter(pk=room_id).update(last_seq=first + count - 1)


def ids(messages: list[dict[str, Any]]) -> list[int]:
    return [m["id"] for m in messages]


async def chats_on(client, listener) -> None:
    """The socket was admitted as any other: its chat line reaches the room."""
    await client.send({"type": "chat.send", "body": "戻りました"})
    assert (await listener.recv_until("chat.message"))["body"] == "戻りました"


async def test_a_page_back_in_its_room_gets_exactly_what_it_missed_in_its_hello(connect):
    talk, iwate, aomori, *_ = await setup_talk()
    first = await connect(talk, iwate)
    room = first.hello["room"]["id"]
    await chat_in(room, 5)
    await first.close()
    back = await connect(talk, iwate, query=f"?room={room}&after=2")
    assert back.hello["room"]["id"] == room
    assert ids(back.hello["messages"]) == [3, 4, 5]
    assert [m["body"] for m in back.hello["messages"]] == ["m3", "m4", "m5"]
    assert all(m["room"] == room for m in back.hello["messages"])
    assert back.hello["after"] == 2 and back.hello["complete"] is True
    await chats_on(back, await connect(talk, aomori))


async def test_a_page_that_missed_nothing_gets_an_empty_complete_hello(connect):
    talk, iwate, *_ = await setup_talk()
    first = await connect(talk, iwate)
    room = first.hello["room"]["id"]
    await chat_in(room, 3)
    back = await connect(talk, iwate, query=f"?room={room}&after=3")
    assert back.hello["messages"] == [] and back.hello["after"] == 3 and back.hello["complete"] is True


async def test_more_missed_than_a_hello_holds_says_incomplete_and_the_pages_resume_brings_the_rest(connect):
    talk, iwate, *_ = await setup_talk()
    first = await connect(talk, iwate)
    room = first.hello["room"]["id"]
    await chat_in(room, RESUME_LIMIT + 20)
    await first.close()
    back = await connect(talk, iwate, query=f"?room={room}&after=5")
    assert ids(back.hello["messages"]) == list(range(6, 6 + RESUME_LIMIT))
    assert back.hello["after"] == 5 and back.hello["complete"] is False
    await back.send({"type": "resume", "after": back.hello["messages"][-1]["id"]})
    rest = await back.recv_type("resume")
    assert ids(rest["messages"]) == list(range(6 + RESUME_LIMIT, 21 + RESUME_LIMIT))
    assert rest["complete"] is True


async def test_messages_deleted_while_the_page_was_away_are_not_in_its_hello(connect):
    talk, iwate, *_ = await setup_talk()
    first = await connect(talk, iwate)
    room = first.hello["room"]["id"]
    await chat_in(room, 7, deleted=(3, 6))
    back = await connect(talk, iwate, query=f"?room={room}&after=2")
    assert ids(back.hello["messages"]) == [4, 5, 7]
    assert back.hello["complete"] is True


@pytest.mark.parametrize(("query", "why"), [
    ("?room={other}&after=2", "another room of the talk"),
    ("?after=2", "no room"),
    ("?room={room}", "no after"),
    ("?room={room}&after=-1", "negative"),
    ("?room=-{room}&after=2", "a negative room"),
    ("?room={room}&after=two", "not a number"),
    ("?room={room}&after=2.0", "not a whole number"),
    ("?room={room}&after=%EF%BC%92", "a full-width digit"),
    ("?room={room}&after=2147483648", "beyond any real id"),
    ("?room={room}&after=99999999999999999999999", "absurdly large"),
    ("?room={room}&after=2&after=3", "given twice"),
    ("?room=&after=", "empty"),
    ("?room={room}&after=2" + "".join(f"&x{n}=1" for n in range(10)), "too many fields"),
    ("?%ff%fe=%00", "bytes that are no text"),
])
async def test_a_query_that_names_another_room_or_is_malformed_gets_the_ordinary_hello_and_is_admitted(
        connect, query, why):
    talk, iwate, aomori, tokyo, *_ = await setup_talk()
    first = await connect(talk, iwate)
    room = first.hello["room"]["id"]
    other = (await connect(talk, tokyo)).hello["room"]["id"]
    await chat_in(room, HISTORY + 5)
    back = await connect(talk, iwate, query=query.format(room=room, other=other))
    assert back.hello["room"]["id"] == room, why
    assert ids(back.hello["messages"]) == list(range(6, HISTORY + 6)), why  # the last 50, as for any newcomer
    assert "after" not in back.hello and "complete" not in back.hello, why
    await chats_on(back, first)


async def test_staff_back_in_the_room_they_are_put_in_get_what_they_missed_too(connect):
    talk, iwate, aomori, tokyo, organizer, speaker = await setup_talk()
    room = (await connect(talk, iwate)).hello["room"]["id"]
    await chat_in(room, 4)  # the busiest room: where staff land
    first = await connect(talk, user=organizer)
    assert first.hello["room"]["id"] == room
    await first.close()
    await chat_in(room, 2)
    back = await connect(talk, user=organizer, query=f"?room={room}&after=4")
    assert ids(back.hello["messages"]) == [5, 6] and back.hello["after"] == 4 and back.hello["complete"] is True


async def test_a_physician_back_at_their_reception_table_gets_what_the_table_said_meanwhile(connect):
    talk, people, organizer, speaker = await setup_reception(iwate=3, tokyo=0)
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    table = (await clients[0].recv_until("room.moved"))["room"]["id"]
    await clients[0].close()
    await chat_in(table, 4)
    back = await connect(talk, people[0], query=f"?room={table}&after=1")
    assert back.hello["room"]["id"] == table and back.hello["room"]["kind"] == "social"
    assert ids(back.hello["messages"]) == [2, 3, 4]
    assert back.hello["after"] == 1 and back.hello["complete"] is True
    assert "岩手 医師0" in {m["name"] for m in back.hello["members"]}
    assert "media" in back.hello  # still the seated physician's hello: the table's call (null without media)
    await chats_on(back, clients[1])


async def test_a_page_that_left_the_lecture_room_while_the_reception_seated_it_gets_the_tables_ordinary_hello(
        connect):
    talk, people, organizer, speaker = await setup_reception(iwate=3, tokyo=0)
    clients, staff = await _everyone(connect, talk, people, speaker)
    lecture = clients[0].hello["room"]["id"]
    await chat_in(lecture, 3)
    await clients[0].close()
    await staff.send({"type": "stage.end"})
    table = (await clients[1].recv_until("room.moved"))["room"]["id"]
    await chat_in(table, 2)
    back = await connect(talk, people[0], query=f"?room={lecture}&after=3")
    assert back.hello["room"]["id"] == table
    assert ids(back.hello["messages"]) == [1, 2]
    assert "after" not in back.hello and "complete" not in back.hello
