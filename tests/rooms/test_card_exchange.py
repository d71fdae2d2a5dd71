"""Card exchange (名刺交換): offered at a table, shared only when the other accepts."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from rooms.models import CardExchange, CardSettings
from rooms.reception import cards
from tests.rooms.markers import chat, types
from tests.rooms.test_reception_socket import _everyone, setup_reception

pytestmark = [pytest.mark.django_db(transaction=True)]


async def _seated(connect, **kwargs):
    talk, people, organizer, speaker = await setup_reception(**kwargs)
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    moved = [await c.recv_until("room.moved") for c in clients]
    return talk, people, clients, moved


async def before_their_own_line(client) -> list[str]:
    """The types of the frames that reached ``client`` before its own chat line came back.

    Card frames are written to the socket the moment the relay reads them, and the line is
    published after them, so any card frame sent to ``client`` earlier is in the list.
    """
    await client.send({"type": "chat.send", "body": "よろしくお願いします"})
    return types(await client.received_before(chat("よろしくお願いします")))


@database_sync_to_async
def share_contact(registration, **fields):
    CardSettings.objects.create(physician=registration.physician, **fields)


async def test_cards_are_exchanged_only_when_the_other_accepts(connect):
    talk, people, clients, moved = await _seated(connect, iwate=3, tokyo=0)
    await share_contact(people[0], email="iwate0@clinic.example.jp", accepts_referrals=True)
    await share_contact(people[1], phone="019-000-0000")
    await clients[0].send({"type": "card.offer", "to": people[1].pk})
    pending = await clients[0].recv_until("card.pending")
    offered = await clients[1].recv_until("card.offered")
    assert offered["from"]["name"] == "岩手 医師0"
    assert "email" not in offered["from"]  # an offer shows who offers, not their card
    assert "card.offered" not in await before_their_own_line(clients[2])

    await clients[1].send({"type": "card.answer", "id": offered["id"], "accept": True})
    mine = await clients[0].recv_until("card.exchanged")
    theirs = await clients[1].recv_until("card.exchanged")
    assert mine["id"] == theirs["id"] == pending["id"]
    assert mine["card"]["name"] == "岩手 医師1" and mine["card"]["phone"] == "019-000-0000"
    assert "email" not in mine["card"]
    assert theirs["card"]["email"] == "iwate0@clinic.example.jp" and theirs["card"]["accepts_referrals"] is True
    assert "card.exchanged" not in await before_their_own_line(clients[2])


async def test_a_declined_offer_shares_nothing(connect):
    talk, people, clients, moved = await _seated(connect, iwate=3, tokyo=0)
    await share_contact(people[0], email="iwate0@clinic.example.jp")
    await clients[0].send({"type": "card.offer", "to": people[1].pk})
    offered = await clients[1].recv_until("card.offered")
    await clients[1].send({"type": "card.answer", "id": offered["id"], "accept": False})
    assert (await clients[0].recv_until("card.declined"))["id"] == offered["id"]
    assert "card.exchanged" not in await before_their_own_line(clients[1])
    exchange = await database_sync_to_async(CardExchange.objects.get)(pk=offered["id"])
    assert exchange.from_card == {} and exchange.to_card == {}


async def test_a_card_cannot_be_offered_to_someone_at_another_table(connect):
    talk, people, clients, moved = await _seated(connect, iwate=3, tokyo=3, room_size=3)
    await clients[0].send({"type": "card.offer", "to": people[4].pk})
    assert (await clients[0].recv_until("error"))["code"] == "not_at_table"
    assert "card.offered" not in await before_their_own_line(clients[4])


async def test_only_the_receiver_can_answer_and_only_once(connect):
    talk, people, clients, moved = await _seated(connect, iwate=3, tokyo=0)
    await clients[0].send({"type": "card.offer", "to": people[1].pk})
    offered = await clients[1].recv_until("card.offered")
    await clients[2].send({"type": "card.answer", "id": offered["id"], "accept": True})
    assert (await clients[2].recv_until("error"))["code"] == "not_found"
    await clients[0].send({"type": "card.answer", "id": offered["id"], "accept": True})
    assert (await clients[0].recv_until("error"))["code"] == "not_found"
    await clients[1].send({"type": "card.answer", "id": offered["id"], "accept": "yes"})
    assert (await clients[1].recv_until("error"))["code"] == "bad_field"
    await clients[1].send({"type": "card.answer", "id": offered["id"], "accept": True})
    await clients[1].recv_until("card.exchanged")
    await clients[1].send({"type": "card.answer", "id": offered["id"], "accept": True})
    assert (await clients[1].recv_until("error"))["code"] == "not_found"


async def test_offers_cannot_be_repeated_or_flooded(connect):
    talk, people, clients, moved = await _seated(connect, iwate=3, tokyo=0)
    await clients[0].send({"type": "card.offer", "to": people[1].pk})
    await clients[0].recv_until("card.pending")
    await clients[0].send({"type": "card.offer", "to": people[1].pk})
    assert (await clients[0].recv_until("error"))["code"] == "already_offered"
    codes = []
    for _ in range(cards.OFFER_RATE[0]):
        await clients[0].send({"type": "card.offer", "to": people[2].pk})
        frame = await clients[0].recv()
        while frame["type"] not in ("error", "card.pending"):
            frame = await clients[0].recv()
        codes.append(frame.get("code", frame["type"]))
    assert codes[-1] == "rate_limited"


async def test_organizers_see_counts_by_region_pair_never_the_cards(connect):
    talk, people, clients, moved = await _seated(connect, iwate=3, tokyo=0)
    await clients[0].send({"type": "card.offer", "to": people[1].pk})
    offered = await clients[1].recv_until("card.offered")
    await clients[1].send({"type": "card.answer", "id": offered["id"], "accept": True})
    await clients[1].recv_until("card.exchanged")
    pairs = await database_sync_to_async(cards.pair_counts)(talk)
    assert pairs == [{"a": {"facility_type": "clinic", "prefecture": "03"},
                      "b": {"facility_type": "clinic", "prefecture": "03"}, "count": 1}]
    assert "name" not in str(pairs)
