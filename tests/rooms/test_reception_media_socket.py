"""Over the socket, a physician seated at a table is told how to enter its call, and Janus follows the move."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from rooms.reception.janus import JanusError
from tests.rooms.janus_server import allowed, exists, janus, join  # noqa: F401 (the fixture)
from tests.rooms.test_reception_socket import _everyone, setup_reception

pytestmark = [pytest.mark.django_db(transaction=True)]

UNAUTHORIZED = 433  # JANUS_VIDEOROOM_ERROR_UNAUTHORIZED


async def test_every_physician_moved_by_the_end_of_the_talk_gets_their_own_token_that_janus_accepts(connect, janus):
    talk, people, organizer, speaker = await setup_reception(iwate=3, tokyo=3, room_size=3)
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    moved = [await c.recv_until("room.moved") for c in clients]
    tokens = set()
    for person, frame in zip(people, moved, strict=True):
        media = frame["media"]
        assert (media["room"], media["feed"], media["listen"]) == (frame["room"]["id"], person.pk, False)
        assert media["janus_url"] == "https://media.example.org/janus"
        tokens.add(media["token"])
    assert len(tokens) == 6  # personal: the table's frame is shared, the token is not
    table, other = moved[0]["room"]["id"], moved[3]["room"]["id"]
    assert table != other  # Iwate's table and Tokyo's
    # Janus was brought in line before the move went out (the sync runs at the opening's commit).
    assert (await sync_to_async(join)(janus, table, moved[0]["media"]["token"]))["videoroom"] == "joined"
    with pytest.raises(JanusError) as refused:
        await sync_to_async(join)(janus, other, moved[0]["media"]["token"])
    assert refused.value.code == UNAUTHORIZED


async def test_a_physician_at_a_table_gets_the_tables_call_and_a_token_janus_accepts(connect, janus):
    talk, people, organizer, speaker = await setup_reception(iwate=3, tokyo=3)
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    moved = await clients[0].recv_until("room.moved")
    table = moved["room"]["id"]
    assert await sync_to_async(exists)(janus, table)
    await clients[0].close()
    again = await connect(talk, people[0])
    media = again.hello["media"]
    assert (media["janus_url"], media["room"]) == ("https://media.example.org/janus", table)
    assert media["feed"] == people[0].pk  # the tile is labelled from the members, who carry it as `registration`
    assert media["token"] in await sync_to_async(allowed)(janus, table)
    assert (await sync_to_async(join)(janus, table, media["token"]))["videoroom"] == "joined"
    await again.send({"type": "room.leave"})
    await again.recv_until("room.left")
    assert media["token"] not in await sync_to_async(allowed)(janus, table)
    await again.send({"type": "room.place"})
    back = await again.recv_until("room.moved")
    assert back["media"]["token"] == media["token"]  # the same table of the same opening: the same token
    assert media["token"] in await sync_to_async(allowed)(janus, table)


async def test_with_media_off_a_seated_physicians_hello_says_null(connect):
    talk, people, organizer, speaker = await setup_reception(iwate=1, tokyo=1)
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    await clients[0].recv_until("room.moved")
    again = await connect(talk, people[0])
    assert again.hello["media"] is None
    assert "media" not in staff.hello


async def test_staff_looking_into_a_table_get_their_own_token_to_listen_in_on_its_call(connect, janus):
    talk, people, organizer, speaker = await setup_reception(iwate=2, tokyo=0)
    clients, staff = await _everyone(connect, talk, people, speaker)
    boss = await connect(talk, user=organizer)
    await staff.send({"type": "stage.end"})
    moved = await clients[0].recv_until("room.moved")
    table = moved["room"]["id"]
    tokens = set()
    for user, client in ((speaker, staff), (organizer, boss)):
        await client.send({"type": "room.view", "room": table})
        media = (await client.recv_until("room.viewing"))["media"]
        assert (media["room"], media["feed"], media["listen"]) == (table, 10**15 + user.pk, True)
        assert media["janus_url"] == "https://media.example.org/janus"
        joined = await sync_to_async(join)(janus, table, media["token"], media["feed"])
        assert (joined["videoroom"], joined["id"]) == ("joined", media["feed"])
        tokens.add(media["token"])
    assert len(tokens | {moved["media"]["token"]}) == 3  # each their own
    lecture = next(r["id"] for r in staff.hello["rooms"] if r["kind"] != "social")
    await staff.send({"type": "room.view", "room": lecture})
    assert (await staff.recv_until("room.viewing"))["media"] is None  # a lecture room has no call
