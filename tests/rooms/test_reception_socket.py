"""The reception over the WebSocket: the move, room chat, late arrivals, lobby, timer, staff."""

from __future__ import annotations

import time

import pytest
from channels.db import database_sync_to_async

from regions.models import Prefecture
from rooms.models import LectureRoom, Reception, Seat, Stage
from rooms.realtime.relay import get_relay
from tests.factories import make_event, make_staff, make_talk, register
from tests.rooms.markers import announcement, bodies, chat, stage, types
from tests.waiting import DEADLINE

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def setup_reception(iwate: int = 4, tokyo: int = 3, **reception):
    event = make_event(title="東北 肺がん Web講演会")
    talk = make_talk(event, title="ドライバー遺伝子と治療選択")
    Stage.objects.create(talk=talk, room_mode="region", state=Stage.State.LIVE)
    Reception.objects.create(talk=talk, **reception)
    people = [register(event, full_name=f"岩手 医師{n}", prefecture=Prefecture.objects.get(code="03")) for n in range(iwate)]
    people += [register(event, full_name=f"東京 医師{n}", prefecture=Prefecture.objects.get(code="13")) for n in range(tokyo)]
    organizer = make_staff("org", "organizer")
    event.organizers.add(organizer)
    speaker = make_staff("spk", "speaker")
    talk.speakers.add(speaker)
    return talk, people, organizer, speaker


async def _everyone(connect, talk, people, speaker):
    clients = [await connect(talk, person) for person in people]
    staff = await connect(talk, user=speaker)
    return clients, staff


async def test_ending_the_talk_moves_every_attendee_into_a_room_of_their_own_area(connect):
    talk, people, organizer, speaker = await setup_reception()
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    moved = [await c.recv_until("room.moved") for c in clients]
    iwate_rooms = {m["room"]["id"] for m in moved[:4]}
    tokyo_rooms = {m["room"]["id"] for m in moved[4:]}
    assert len(iwate_rooms) == 1 and len(tokyo_rooms) == 1 and iwate_rooms != tokyo_rooms
    for frame in moved:
        assert frame["room"]["kind"] == "social"
        assert frame["reception"]["closes_at"]
        prefectures = {m["prefecture"] for m in frame["members"]}
        assert len(prefectures) == 1  # everyone at the table is from the same prefecture
    assert sorted(m["name"] for m in moved[0]["members"]) == [f"岩手 医師{n}" for n in range(4)]
    opened = await staff.recv_until("reception.opened")
    assert sorted(r["members"] for r in opened["rooms"]) == [3, 4]
    seats = await database_sync_to_async(lambda: Seat.objects.filter(room__talk=talk, left_at__isnull=True).count())()
    assert seats == 7


async def test_the_table_sees_a_specialty_only_where_its_physician_agreed_to_show_it(connect):
    from rooms.models import CardSettings

    talk, people, organizer, speaker = await setup_reception(iwate=3, tokyo=0)
    await database_sync_to_async(CardSettings.objects.create)(physician=people[0].physician, show_specialty=True)
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    members = {m["name"]: m for m in (await clients[1].recv_until("room.moved"))["members"]}
    assert members["岩手 医師0"]["specialty_label"] == "内科"
    assert members["岩手 医師0"]["specialty_label_en"] == "Internal medicine"
    assert "specialty" not in members["岩手 医師1"] and "specialty_label" not in members["岩手 医師1"]
    late = await connect(talk, await database_sync_to_async(register)(
        talk.event, full_name="岩手 遅刻", prefecture=await database_sync_to_async(Prefecture.objects.get)(code="03")))
    seated = {m["name"]: m for m in late.hello["members"]}
    assert seated["岩手 医師0"]["specialty_label"] == "内科" and "specialty" not in seated["岩手 医師2"]


async def test_presence_counts_the_tables_together_not_one_figure_per_table(connect):
    talk, people, organizer, speaker = await setup_reception(iwate=4, tokyo=3)
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    moved = [await c.recv_until("room.moved") for c in clients]
    tables = {str(m["room"]["id"]) for m in moved}
    while True:
        frame = await clients[0].recv_until("presence")
        if frame["tables"] == 7:
            break
    assert frame["total"] == 7 and not tables & set(frame["rooms"])
    assert frame["by_region"] == {"kanto": 3, "tohoku": 4}


async def test_room_chat_reaches_the_room_and_no_other(connect):
    talk, people, organizer, speaker = await setup_reception()
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    for c in clients:
        await c.recv_until("room.moved")
    await clients[0].send({"type": "chat.send", "body": "盛岡で開業しています。よろしくお願いします", "client_id": "s1"})
    for c in clients[:4]:
        frame = await c.recv_until("chat.message")
        assert frame["body"] == "盛岡で開業しています。よろしくお願いします"
        assert frame["id"] == 1
    # Markers through both groups a Tokyo attendee listens to: their table and the whole talk.
    await clients[4].send({"type": "chat.send", "body": "東京です", "client_id": "s2"})
    await staff.send({"type": "reception.broadcast", "body": "ご歓談ください"})
    for c in clients[4:]:
        assert "chat.message" not in types(await c.received_before(chat("東京です"), announcement("ご歓談ください")))


async def test_ending_the_talk_twice_moves_nobody_twice(connect):
    talk, people, organizer, speaker = await setup_reception(iwate=3, tokyo=0)
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    for c in clients:
        await c.recv_until("room.moved")
    await staff.send({"type": "stage.end"})
    # The staff connection handles its frames in order: the broadcast goes out after the second end's moves would.
    await staff.send({"type": "reception.broadcast", "body": "ご歓談ください"})
    for c in clients:
        assert "room.moved" not in types(await c.received_before(announcement("ご歓談ください")))
    rooms = await database_sync_to_async(lambda: LectureRoom.objects.filter(talk=talk, kind="social").count())()
    assert rooms == 1


async def test_a_late_arrival_is_seated_with_people_of_their_area(connect):
    talk, people, organizer, speaker = await setup_reception()
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    moved = [await c.recv_until("room.moved") for c in clients]
    late = await database_sync_to_async(
        lambda: register(talk.event, full_name="東京 遅刻", prefecture=Prefecture.objects.get(code="13"))
    )()
    newcomer = await connect(talk, late)
    assert newcomer.hello["room"]["kind"] == "social"
    assert newcomer.hello["room"]["id"] == moved[4]["room"]["id"]
    assert "東京 遅刻" in {m["name"] for m in newcomer.hello["members"]}
    update = await clients[4].recv_until("room.members")
    assert "東京 遅刻" in {m["name"] for m in update["members"]}


async def test_a_connection_lost_during_the_move_comes_back_to_the_same_room(connect):
    talk, people, organizer, speaker = await setup_reception(iwate=3, tokyo=3)
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    moved = await clients[0].recv_until("room.moved")
    await clients[0].close()
    again = await connect(talk, people[0])
    assert again.hello["room"]["id"] == moved["room"]["id"]


async def test_an_attendee_can_go_to_the_lobby_and_back(connect):
    talk, people, organizer, speaker = await setup_reception(iwate=3, tokyo=3)
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    moved = await clients[0].recv_until("room.moved")
    await clients[0].send({"type": "room.leave"})
    left = await clients[0].recv_until("room.left")
    assert {r["id"] for r in left["rooms"]} >= {moved["room"]["id"]}
    await clients[0].send({"type": "room.place"})
    back = await clients[0].recv_until("room.moved")
    assert back["reason"] == "placed"
    assert back["room"]["id"] == moved["room"]["id"]  # the Iwate table is the one of their area


async def test_every_tab_of_a_physician_follows_their_seat(connect):
    talk, people, organizer, speaker = await setup_reception(iwate=3, tokyo=3)
    clients, staff = await _everyone(connect, talk, people, speaker)
    second_tab = await connect(talk, people[0])
    await staff.send({"type": "stage.end"})
    moved = [await c.recv_until("room.moved") for c in clients]
    assert (await second_tab.recv_until("room.moved"))["room"]["id"] == moved[0]["room"]["id"]
    await clients[0].send({"type": "room.leave"})
    await clients[0].recv_until("room.left")
    assert (await second_tab.recv_until("room.left"))["room"]["kind"] == "lecture"
    # The other tab no longer sits at the table: what it says stays out of it.
    await second_tab.send({"type": "chat.send", "body": "まだいますか", "client_id": "t2"})
    await second_tab.recv_until("chat.message")  # said in the lecture hall, where the tab is now
    await clients[2].send({"type": "chat.send", "body": "岩手の卓です", "client_id": "t4"})
    await staff.send({"type": "reception.broadcast", "body": "ご歓談ください"})
    earlier = await clients[1].received_before(chat("岩手の卓です"), announcement("ご歓談ください"))
    assert "まだいますか" not in bodies(earlier)
    await clients[0].send({"type": "room.place"})
    assert (await clients[0].recv_until("room.moved"))["reason"] == "placed"
    back = await second_tab.recv_until("room.moved")
    assert back["reason"] == "placed" and back["room"]["id"] == moved[0]["room"]["id"]
    await second_tab.send({"type": "chat.send", "body": "戻りました", "client_id": "t3"})
    assert (await clients[1].recv_until("chat.message"))["body"] == "戻りました"


async def test_changing_rooms_needs_the_organizers_permission_and_space(connect):
    talk, people, organizer, speaker = await setup_reception(iwate=3, tokyo=3, room_size=3)
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    moved = [await c.recv_until("room.moved") for c in clients]
    tokyo_room = moved[3]["room"]["id"]
    await clients[0].send({"type": "room.join", "room": tokyo_room})
    assert (await clients[0].recv_until("error"))["code"] == "forbidden"
    await database_sync_to_async(lambda: Reception.objects.filter(pk=talk.pk).update(allow_self_select=True))()
    await clients[0].send({"type": "room.join", "room": tokyo_room})
    assert (await clients[0].recv_until("error"))["code"] == "room_full"
    await clients[3].send({"type": "room.leave"})
    await clients[3].recv_until("room.left")
    await clients[0].send({"type": "room.join", "room": tokyo_room})
    joined = await clients[0].recv_until("room.moved")
    assert joined["room"]["id"] == tokyo_room and joined["reason"] == "chosen"


async def test_only_an_organizer_can_open_the_reception(connect):
    talk, people, organizer, speaker = await setup_reception(iwate=3, tokyo=0)
    clients = [await connect(talk, person) for person in people]
    await clients[0].send({"type": "reception.open"})
    assert (await clients[0].recv_until("error"))["code"] == "forbidden"
    org = await connect(talk, user=organizer)
    await org.send({"type": "reception.open"})
    for c in clients:
        assert (await c.recv_until("room.moved"))["room"]["kind"] == "social"
    await org.send({"type": "reception.open"})
    assert (await org.recv_until("error"))["code"] == "reception_unavailable"


async def test_a_switched_off_reception_moves_nobody(connect):
    talk, people, organizer, speaker = await setup_reception(iwate=3, tokyo=0, enabled=False)
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    # The end of the talk reaches the attendee after any move it caused (see stage_end).
    assert "room.moved" not in types(await clients[0].received_before(stage("ended")))


async def test_staff_broadcast_reaches_every_room(connect):
    talk, people, organizer, speaker = await setup_reception()
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    for c in clients:
        await c.recv_until("room.moved")
    await staff.send({"type": "reception.broadcast", "body": "あと5分で終了します"})
    for c in clients:
        assert (await c.recv_until("reception.announcement"))["body"] == "あと5分で終了します"


async def test_staff_see_every_room_and_can_look_into_one(connect):
    talk, people, organizer, speaker = await setup_reception()
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    moved = [await c.recv_until("room.moved") for c in clients]
    await staff.send({"type": "reception.rooms"})
    rooms = (await staff.recv_until("reception.rooms"))["rooms"]
    assert sorted(r["seated"] for r in rooms) == [3, 4]
    assert {m["prefecture"] for r in rooms for m in r["members"]} == {"03", "13"}
    await staff.send({"type": "room.view", "room": moved[4]["room"]["id"]})
    assert (await staff.recv_until("room.viewing"))["room"]["kind"] == "social"
    await clients[4].send({"type": "chat.send", "body": "東京からです"})
    assert (await staff.recv_until("chat.message"))["body"] == "東京からです"


async def test_attendees_get_a_warning_then_the_reception_closes(connect):
    talk, people, organizer, speaker = await setup_reception(iwate=3, tokyo=0)
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    for c in clients:
        await c.recv_until("room.moved")
    # As if the reception's time were nearly up: inside the warning's minute, not yet over.
    get_relay().watch_reception(talk.pk, time.time() + 30)
    warning = await clients[0].recv_until("reception.closing", timeout=DEADLINE)
    assert 0 < warning["seconds_left"] <= 60
    # Only now is the time up. Had the warning and the close fallen due in one tick of a slow
    # machine, the close (written at once) could overtake the warning (queued for the next write).
    get_relay().watch_reception(talk.pk, time.time())
    await clients[0].recv_until("reception.closed", timeout=DEADLINE)
    closed = await clients[0].ws.receive_output(timeout=DEADLINE)
    assert closed == {"type": "websocket.close", "code": 4000}


async def test_junk_in_the_reception_frames_is_refused_and_the_connection_stays_open(connect):
    talk, people, organizer, speaker = await setup_reception(iwate=3, tokyo=0)
    clients, staff = await _everyone(connect, talk, people, speaker)
    await staff.send({"type": "stage.end"})
    await clients[0].recv_until("room.moved")
    for frame, code in [
        ({"type": "room.join", "room": "岩手"}, "bad_field"),
        ({"type": "card.offer", "to": "all"}, "bad_field"),
        ({"type": "card.offer", "to": people[0].pk}, "bad_field"),  # oneself
        ({"type": "card.answer", "id": 1}, "bad_field"),
        ({"type": "reception.broadcast", "body": "x"}, "forbidden"),
    ]:
        await clients[0].send(frame)
        assert (await clients[0].recv_until("error"))["code"] == code, frame
    for frame, code in [({"type": "reception.broadcast", "body": "  "}, "empty"),
                        ({"type": "reception.broadcast", "body": "あ" * 501}, "too_long")]:
        await staff.send(frame)
        assert (await staff.recv_until("error"))["code"] == code
    await clients[0].send({"type": "chat.send", "body": "まだつながっています"})
    assert (await clients[1].recv_until("chat.message"))["body"] == "まだつながっています"
