"""The lecture-room WebSocket: chat, resume, Q&A and every refusal."""

from __future__ import annotations

import asyncio

import pytest
from channels.db import database_sync_to_async

from rooms.models import ChatMessage, Stage
from tests.factories import make_event, make_staff, make_talk, register
from tests.rooms.markers import chat, question, types

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def setup_talk(room_mode: str = "region"):
    event = make_event(title="東北 肺がん Web講演会")
    talk = make_talk(event, title="ドライバー遺伝子と治療選択")
    Stage.objects.create(talk=talk, room_mode=room_mode)
    from regions.models import Prefecture

    iwate = register(event, full_name="岩手 太郎", prefecture=Prefecture.objects.get(code="03"))
    aomori = register(event, full_name="青森 花子", prefecture=Prefecture.objects.get(code="02"))
    tokyo = register(event, full_name="東京 一郎", prefecture=Prefecture.objects.get(code="13"))
    organizer = make_staff("org", "organizer")
    event.organizers.add(organizer)
    speaker = make_staff("spk", "speaker")
    talk.speakers.add(speaker)
    return talk, iwate, aomori, tokyo, organizer, speaker


async def hall_heard_from(client) -> list[dict]:
    """What reached ``client`` before its own chat line and question did (markers through its room and the talk)."""
    await client.send({"type": "chat.send", "body": "関東から参加しています"})
    await client.send({"type": "question.ask", "body": "関東からの質問です"})
    return await client.received_before(chat("関東から参加しています"), question("関東からの質問です"))


async def test_hello_comes_first_with_the_regional_room_and_history(connect):
    talk, iwate, aomori, tokyo, *_ = await setup_talk()
    a = await connect(talk, iwate)
    assert a.hello["room"]["key"] == "tohoku"
    assert a.hello["you"]["name"] == "岩手 太郎"
    assert a.hello["you"]["role"] == "attendee"
    assert a.hello["messages"] == []
    assert a.hello["stage"]["state"] == "scheduled"
    b = await connect(talk, tokyo)
    assert b.hello["room"]["key"] == "kanto"


async def test_chat_reaches_everyone_in_the_room_and_nobody_outside_it(connect):
    talk, iwate, aomori, tokyo, *_ = await setup_talk()
    a = await connect(talk, iwate)
    b = await connect(talk, aomori)
    c = await connect(talk, tokyo)
    await a.send({"type": "chat.send", "body": "よろしくお願いします", "client_id": "c-1"})
    for client in (a, b):
        frame = await client.recv_type("chat.message")
        assert frame["body"] == "よろしくお願いします"
        assert frame["id"] == 1
        assert frame["client_id"] == "c-1"
        assert frame["author"]["name"] == "岩手 太郎"
        assert frame["author"]["facility_type"] == "clinic"
        assert frame["author"]["prefecture"] == "03"
        assert frame["sent_at"]
    assert "chat.message" not in types(await hall_heard_from(c))


async def test_ids_increase_per_room_and_history_arrives_on_joining(connect):
    talk, iwate, aomori, *_ = await setup_talk()
    a = await connect(talk, iwate)
    for n in range(3):
        await a.send({"type": "chat.send", "body": f"msg {n}"})
        assert (await a.recv_type("chat.message"))["id"] == n + 1
    b = await connect(talk, aomori)
    assert [m["body"] for m in b.hello["messages"]] == ["msg 0", "msg 1", "msg 2"]


async def test_html_is_kept_as_text(connect):
    talk, iwate, *_ = await setup_talk()
    a = await connect(talk, iwate)
    await a.send({"type": "chat.send", "body": "<script>alert(1)</script>"})
    assert (await a.recv_type("chat.message"))["body"] == "<script>alert(1)</script>"


async def test_resume_returns_exactly_what_was_missed_in_order(connect):
    talk, iwate, aomori, *_ = await setup_talk()
    a = await connect(talk, iwate)
    for n in range(5):
        await a.send({"type": "chat.send", "body": f"m{n}"})
        await a.recv_type("chat.message")
    b = await connect(talk, aomori)
    await b.send({"type": "resume", "after": 2})
    frame = await b.recv_type("resume")
    assert [m["id"] for m in frame["messages"]] == [3, 4, 5]
    assert frame["complete"] is True


async def test_older_pages_of_history_on_scroll(connect):
    talk, iwate, aomori, *_ = await setup_talk()
    a = await connect(talk, iwate)
    for n in range(55):
        await database_sync_to_async(_post)(a, n)
    b = await connect(talk, aomori)
    assert [m["id"] for m in b.hello["messages"]] == list(range(6, 56))
    await b.send({"type": "chat.history", "before": 6})
    frame = await b.recv_type("chat.history")
    assert [m["id"] for m in frame["messages"]] == [1, 2, 3, 4, 5]


def _post(client, n):
    from rooms.lecture.chat import post_message
    from rooms.models import LectureRoom

    room = LectureRoom.objects.get(pk=client.hello["room"]["id"])
    post_message(room, _participant_stub(), f"old {n}")


def _participant_stub():
    from rooms.participants import Participant

    return Participant(role="attendee", author={"name": "x"})


async def test_questions_are_for_the_whole_talk_labelled_with_their_region(connect):
    talk, iwate, aomori, tokyo, organizer, speaker = await setup_talk()
    a = await connect(talk, iwate)
    c = await connect(talk, tokyo)
    s = await connect(talk, user=speaker)
    await c.send({"type": "question.ask", "body": "EGFR陰性の場合は？"})
    for client in (a, c, s):
        q = await client.recv_type("question")
        assert q["body"] == "EGFR陰性の場合は？"
        assert q["author"]["room"] == "kanto"
        assert q["votes"] == 0 and q["answered"] is False
    await a.send({"type": "question.upvote", "id": q["id"]})
    assert (await a.recv_type("question"))["votes"] == 1
    await a.send({"type": "question.upvote", "id": q["id"]})
    error = await a.recv_type("error")
    assert error["code"] == "already_voted"
    assert (await c.recv_type("question"))["votes"] == 1  # everyone sees the vote
    await s.send({"type": "question.answer", "id": q["id"]})
    assert (await c.recv_type("question"))["answered"] is True


async def test_attendees_may_not_answer_or_drive_the_stage(connect):
    talk, iwate, *_ = await setup_talk()
    a = await connect(talk, iwate)
    for frame in ({"type": "question.answer", "id": 1}, {"type": "slide.set", "slide": 2},
                  {"type": "stage.live"}, {"type": "chat.delete", "id": 1}, {"type": "chat.close"}):
        await a.send(frame)
        error = await a.recv_type("error")
        assert error["code"] == "forbidden"
    # Still open and healthy.
    await a.send({"type": "chat.send", "body": "まだ使えます"})
    assert (await a.recv_type("chat.message"))["body"] == "まだ使えます"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad_json"),
        ("[1, 2]", "bad_frame"),
        ('{"body": "no type"}', "bad_frame"),
        ('{"type": "chat.shout"}', "unknown_type"),
        ('{"type": "chat.send", "body": 42}', "bad_field"),
        ('{"type": "chat.send", "body": "   "}', "empty"),
        ('{"type": "chat.send", "body": "' + "あ" * 1001 + '"}', "too_long"),
        ('{"type": "chat.send", "body": "ok", "client_id": 7}', "bad_field"),
        ('{"type": "resume", "after": "5"}', "bad_field"),
        ('{"type": "resume", "after": -1}', "bad_field"),
        ('{"type": "question.upvote", "id": 999999}', "not_found"),
        ('{"type": "reaction.send", "emoji": "💩"}', "bad_field"),
        ('{"type": "chat.send", "body": "' + "x" * (65 * 1024) + '"}', "too_large"),
    ],
)
async def test_bad_frames_get_an_error_and_the_connection_stays_open(connect, frame, code):
    talk, iwate, *_ = await setup_talk()
    a = await connect(talk, iwate)
    await a.send(frame)
    error = await a.recv_type("error")
    assert error["code"] == code
    assert error["message"]
    await a.send({"type": "chat.send", "body": "still here"})
    assert (await a.recv_type("chat.message"))["body"] == "still here"


async def test_error_messages_are_in_the_physicians_language(connect):
    talk, iwate, *_ = await setup_talk()
    a = await connect(talk, iwate)
    await a.send("{oops")
    assert (await a.recv_type("error"))["message"] == "メッセージを読み取れませんでした。"


async def test_more_than_five_messages_in_ten_seconds_are_refused(connect):
    talk, iwate, *_ = await setup_talk()
    a = await connect(talk, iwate)
    for n in range(5):
        await a.send({"type": "chat.send", "body": f"{n}"})
        await a.recv_type("chat.message")
    await a.send({"type": "chat.send", "body": "6th"})
    assert (await a.recv_type("error"))["code"] == "rate_limited"
    assert await database_sync_to_async(ChatMessage.objects.count)() == 5


async def test_no_session_is_closed_with_4401(connect):
    talk, *_ = await setup_talk()
    client = await connect(talk, hello=False)
    assert (await client.ws.receive_output(5))["code"] == 4401


async def test_a_physician_of_another_event_is_closed_with_4403(connect):
    talk, *_ = await setup_talk()
    other = await database_sync_to_async(lambda: register(make_event()))()
    client = await connect(talk, other, hello=False)
    assert (await client.ws.receive_output(5))["code"] == 4403


async def test_a_staff_user_of_another_event_is_closed_with_4403(connect):
    talk, *_ = await setup_talk()
    stranger = await database_sync_to_async(make_staff)("stranger", "organizer")
    client = await connect(talk, user=stranger, hello=False)
    assert (await client.ws.receive_output(5))["code"] == 4403


async def test_a_foreign_origin_is_refused(connect):
    from channels.testing import WebsocketCommunicator

    from server.asgi import application

    talk, iwate, *_ = await setup_talk()
    ws = WebsocketCommunicator(application, f"/ws/talks/{talk.pk}/", headers=[(b"origin", b"http://evil.example")])
    connected, _ = await ws.connect()
    assert not connected


async def test_moderators_delete_messages_for_everyone_and_it_is_logged(connect):
    from rooms.models import ModerationLog

    talk, iwate, aomori, tokyo, organizer, _ = await setup_talk()
    a = await connect(talk, iwate)
    o = await connect(talk, user=organizer)
    await o.send({"type": "room.view", "room": a.hello["room"]["id"]})
    await o.recv_type("room.viewing")
    await a.send({"type": "chat.send", "body": "不適切な書き込み"})
    msg = await a.recv_type("chat.message")
    await o.recv_type("chat.message")
    await o.send({"type": "chat.delete", "id": msg["id"], "room": msg["room"]})
    deleted = await a.recv_type("chat.deleted")
    assert deleted["id"] == msg["id"]
    log = await database_sync_to_async(lambda: list(ModerationLog.objects.values_list("action", "actor__username")))()
    assert log == [("chat.delete", "org")]


async def test_a_muted_attendee_cannot_chat_and_closing_chat_stops_everyone(connect):
    talk, iwate, aomori, tokyo, organizer, _ = await setup_talk()
    a = await connect(talk, iwate)
    b = await connect(talk, aomori)
    o = await connect(talk, user=organizer)
    await o.send({"type": "chat.mute", "registration": iwate.pk, "minutes": 10})
    await o.recv_type("chat.muted")
    await a.send({"type": "chat.send", "body": "hello"})
    assert (await a.recv_type("error"))["code"] == "muted"
    await o.send({"type": "chat.close"})
    stage = await b.recv_type("stage")
    assert stage["chat_open"] is False
    await b.send({"type": "chat.send", "body": "hello"})
    assert (await b.recv_type("error"))["code"] == "chat_closed"


async def test_the_speakers_next_slide_reaches_every_room(connect):
    talk, iwate, aomori, tokyo, organizer, speaker = await setup_talk()
    await database_sync_to_async(Stage.objects.filter(talk=talk).update)(slide_count=10)
    a = await connect(talk, iwate)
    c = await connect(talk, tokyo)
    s = await connect(talk, user=speaker)
    await s.send({"type": "stage.live"})
    assert (await a.recv_type("stage"))["state"] == "live"
    await c.recv_type("stage")
    await s.send({"type": "slide.set", "slide": 2})
    for client in (a, c):
        assert (await client.recv_type("stage"))["slide"] == 2


async def test_unapproved_slides_keep_the_talk_from_going_live(connect):
    talk, iwate, aomori, tokyo, organizer, speaker = await setup_talk()
    await database_sync_to_async(Stage.objects.filter(talk=talk).update)(slides="slides/x.pdf", slide_count=3)
    s = await connect(talk, user=speaker)
    await s.send({"type": "stage.live"})
    assert (await s.recv_type("error"))["code"] == "slides_not_approved"


async def test_reactions_arrive_as_counts(connect):
    talk, iwate, aomori, *_ = await setup_talk()
    a = await connect(talk, iwate)
    b = await connect(talk, aomori)
    for _ in range(3):
        await a.send({"type": "reaction.send", "emoji": "👏"})
    await b.send({"type": "reaction.send", "emoji": "👍"})
    frame = await asyncio.wait_for(_first_reactions(a), 5)
    assert frame["counts"] == {"👏": 3, "👍": 1}


async def _first_reactions(client):
    while True:
        frame = await client.recv(timeout=5)
        if frame["type"] == "reactions":
            return frame


async def test_presence_counts_people_by_region_and_prefecture(connect):
    talk, iwate, aomori, tokyo, *_ = await setup_talk()
    a = await connect(talk, iwate)
    await connect(talk, iwate)  # a second tab counts once
    await connect(talk, aomori)
    await connect(talk, tokyo)
    while True:
        frame = await a.recv(timeout=5)
        if frame["type"] == "presence" and frame["total"] == 3:
            break
    assert frame["by_region"] == {"kanto": 1, "tohoku": 2}
    assert frame["by_prefecture"] == {"02": 1, "03": 1, "13": 1}


async def test_a_newcomers_hello_carries_the_talks_current_presence_and_no_frame_of_it_follows(connect):
    talk, iwate, aomori, *_ = await setup_talk()
    first = await connect(talk, iwate)
    counted = await first.recv_until("presence")  # the relay has figures for this talk now
    assert "presence" not in first.hello  # nobody had been counted when the first one came
    newcomer = await connect(talk, aomori)
    carried = newcomer.hello["presence"]
    # What the others last got: the first physician's count, or already the newcomer's when a tick came between.
    assert carried["type"] == "presence" and carried["total"] in (counted["total"], counted["total"] + 1)
    await newcomer.send({"type": "chat.history", "before": 1})  # answered after anything sent before it
    following = []
    while (frame := await newcomer.recv())["type"] != "chat.history":
        following.append(frame)
    assert carried not in following


async def _settled(client) -> None:
    """Returns once the server has handled everything this socket sent before (a socket's frames run in order)."""
    await client.send({"type": "chat.history", "before": 1})
    await client.recv_until("chat.history")


@pytest.mark.parametrize(("kind", "allowed", "answer"), [("chat.send", 5, "chat.message"), ("question.ask", 3, "question")])
async def test_the_chat_and_question_limits_hold_across_two_tabs_and_the_socket_stays_open(connect, kind, allowed, answer):
    talk, iwate, *_ = await setup_talk()
    first = await connect(talk, iwate)
    second = await connect(talk, iwate)
    for n in range(allowed):
        await (first if n % 2 else second).send({"type": kind, "body": f"{n}"})
        await first.recv_until(answer)
    await second.send({"type": kind, "body": "one too many"})
    error = await second.recv_until("error")
    assert (error["code"], error["received"]) == ("rate_limited", kind)
    assert error["message"] == "投稿の間隔が短すぎます。少し時間をおいてから送信してください。"
    await _settled(second)  # still open: it answers the next frame


async def test_the_reaction_limit_holds_across_two_tabs_and_the_refused_tab_keeps_chatting(connect):
    talk, iwate, *_ = await setup_talk()
    first = await connect(talk, iwate)
    second = await connect(talk, iwate)
    for tab in (first, second):
        for _ in range(10):
            await tab.send({"type": "reaction.send", "emoji": "👏"})
        await _settled(tab)
    await first.send({"type": "reaction.send", "emoji": "👏"})
    error = await first.recv_until("error")
    assert (error["code"], error["received"]) == ("rate_limited", "reaction.send")
    await first.send({"type": "chat.send", "body": "拍手しすぎました"})
    assert (await first.recv_until("chat.message"))["body"] == "拍手しすぎました"  # still open, still chatting


async def test_moderators_pin_an_announcement_and_reopen_the_chat(connect):
    talk, iwate, aomori, tokyo, organizer, _ = await setup_talk()
    a = await connect(talk, iwate)
    o = await connect(talk, user=organizer)
    await o.send({"type": "announcement.pin", "body": "休憩後 19:45 再開します"})
    assert (await a.recv_type("stage"))["pinned"] == "休憩後 19:45 再開します"
    await o.send({"type": "chat.close"})
    assert (await a.recv_type("stage"))["chat_open"] is False
    await o.send({"type": "chat.open"})
    assert (await a.recv_type("stage"))["chat_open"] is True
    await a.send({"type": "chat.send", "body": "再開しました"})
    assert (await a.recv_type("chat.message"))["body"] == "再開しました"


async def test_the_speaker_ends_the_talk_for_every_room(connect):
    talk, iwate, aomori, tokyo, organizer, speaker = await setup_talk()
    a = await connect(talk, iwate)
    c = await connect(talk, tokyo)
    s = await connect(talk, user=speaker)
    await s.send({"type": "stage.end"})
    # (The reception's room.moved, on by default, comes first.)
    assert (await a.recv_until("stage"))["state"] == "ended"
    assert (await c.recv_until("stage"))["state"] == "ended"
    await s.send({"type": "stage.live"})
    assert (await s.recv_until("error"))["code"] == "talk_ended"
    ended_at = (await database_sync_to_async(Stage.objects.get)(talk=talk)).ended_at
    await s.send({"type": "stage.end"})  # from a second tab, a little later
    assert (await a.recv_until("stage"))["state"] == "ended"
    assert (await database_sync_to_async(Stage.objects.get)(talk=talk)).ended_at == ended_at


async def test_staff_see_every_room_and_can_look_into_one(connect):
    talk, iwate, aomori, tokyo, organizer, speaker = await setup_talk()
    a = await connect(talk, iwate)
    c = await connect(talk, tokyo)
    await c.send({"type": "chat.send", "body": "関東から"})
    await c.recv_type("chat.message")
    o = await connect(talk, user=organizer)
    assert {r["key"] for r in o.hello["rooms"]} == {"tohoku", "kanto"}
    assert a.hello["rooms"] == [a.hello["room"]]
    await o.send({"type": "room.view", "room": c.hello["room"]["id"]})
    viewing = await o.recv_type("room.viewing")
    assert [m["body"] for m in viewing["messages"]] == ["関東から"]
    await o.send({"type": "room.view", "room": 999999})
    assert (await o.recv_type("error"))["code"] == "not_found"


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ({"type": "question.answer", "id": 424242}, "not_found"),
        ({"type": "question.answer", "id": 1, "answered": "yes"}, "bad_field"),
        ({"type": "slide.set", "slide": 0}, "bad_field"),
        ({"type": "chat.delete", "id": 424242}, "not_found"),
        ({"type": "chat.mute", "registration": 424242, "minutes": 5}, "not_found"),
        ({"type": "chat.mute", "registration": 1, "minutes": "5"}, "bad_field"),
        ({"type": "announcement.pin", "body": "x" * 501}, "too_long"),
        ({"type": "chat.history", "before": 0}, "bad_field"),
    ],
)
async def test_bad_staff_frames_get_an_error_too(connect, frame, code):
    talk, iwate, aomori, tokyo, organizer, _ = await setup_talk()
    o = await connect(talk, user=organizer)
    await o.send(frame)
    assert (await o.recv_type("error"))["code"] == code


async def test_speakers_cannot_moderate(connect):
    talk, iwate, aomori, tokyo, organizer, speaker = await setup_talk()
    s = await connect(talk, user=speaker)
    await s.send({"type": "chat.close"})
    assert (await s.recv_type("error"))["code"] == "forbidden"


async def test_chat_stays_in_its_room_when_messages_come_in_a_burst(connect):
    talk, iwate, aomori, tokyo, *_ = await setup_talk()
    a = await connect(talk, iwate)
    c = await connect(talk, tokyo)
    for n in range(5):
        await a.send({"type": "chat.send", "body": f"burst {n}"})
    ids = [(await a.recv_type("chat.message"))["id"] for _ in range(5)]
    assert ids == [1, 2, 3, 4, 5]
    assert "chat.message" not in types(await hall_heard_from(c))


async def test_hello_tells_each_role_which_actions_it_may_send(connect):
    talk, iwate, aomori, tokyo, organizer, speaker = await setup_talk()
    a = await connect(talk, iwate)
    s = await connect(talk, user=speaker)
    o = await connect(talk, user=organizer)
    moderation = {"chat.close", "chat.open", "chat.delete", "chat.mute", "announcement.pin", "reception.open"}
    assert moderation <= set(o.hello["actions"])
    assert not moderation & set(s.hello["actions"])
    assert {"slide.set", "stage.live", "stage.end", "reception.broadcast", "chat.send"} <= set(s.hello["actions"])
    assert "slide.set" not in a.hello["actions"] and "chat.send" in a.hello["actions"]
    # What hello offers is exactly what the server lets through: a listed action is never "forbidden".
    await s.send({"type": "reception.broadcast", "body": "ようこそ"})
    await s.recv_until("reception.announcement")
    await s.send({"type": "chat.close"})
    assert "chat.close" not in s.hello["actions"] and (await s.recv_until("error"))["code"] == "forbidden"


async def test_a_socket_never_writes_the_staff_members_session(connect):
    """The socket reads the session the cookie names (server.socket_session) and leaves it as it was."""
    from django.contrib.sessions.models import Session

    talk, iwate, aomori, tokyo, organizer, speaker = await setup_talk()
    sessions = database_sync_to_async(lambda: sorted(Session.objects.values_list("session_key", "session_data",
                                                                                 "expire_date")))
    organizer_socket = await connect(talk, user=organizer)
    assert organizer_socket.hello["you"]["role"] == "organizer"
    signed_in = await sessions()
    assert len(signed_in) == 1
    await organizer_socket.send({"type": "chat.send", "body": "ようこそ"})
    assert (await organizer_socket.recv_until("chat.message"))["body"] == "ようこそ"
    await organizer_socket.ws.disconnect()
    assert await sessions() == signed_in


async def test_a_session_cookie_naming_no_session_is_not_signed_in(connect):
    from tests.rooms.conftest import Client

    talk, *_ = await setup_talk()
    client = Client(talk.pk, "sessionid=nosuchsessionkey0123456789abcdef")
    connected, _ = await client.connect()
    assert connected
    assert (await client.ws.receive_output(5))["code"] == 4401
    await client.ws.disconnect()
