"""A physician whose registration stops admitting them loses the sockets they already have open.

Revoking the join link, re-issuing it, cancelling, rejecting and a moderator's
removal each close every tab of that physician, in every talk of the event,
within a second and with a close code that says why; nothing sent afterwards
is accepted. (Two real server processes: test_admission_ended_processes.py.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.utils import timezone

from events import services as registrations
from events.models import Registration
from regions.models import Prefecture
from rooms.models import ChatMessage, ModerationLog, Reception, Seat, Stage
from tests.factories import make_event, make_staff, make_talk, register
from tests.rooms.markers import bodies, chat
from tests.waiting import DEADLINE as WAIT

pytestmark = [pytest.mark.django_db(transaction=True)]

DEADLINE = 1.0  # seconds from the committed change to the close, as promised in docs/protocol.md


@database_sync_to_async
def scene() -> dict[str, Any]:
    event = make_event(title="東北 肺がん Web講演会")
    talk = make_talk(event, title="ドライバー遺伝子と治療選択")
    second = make_talk(event, title="紹介の実際")
    Stage.objects.create(talk=talk)
    iwate = Prefecture.objects.get(code="03")
    doctor = register(event, full_name="岩手 太郎", prefecture=iwate)
    neighbour = register(event, full_name="岩手 花子", prefecture=iwate)
    organizer = make_staff("org", "organizer")
    event.organizers.add(organizer)
    speaker = make_staff("spk", "speaker")
    talk.speakers.add(speaker)
    return {"event": event, "talk": talk, "second": second, "doctor": doctor, "neighbour": neighbour,
            "organizer": organizer, "speaker": speaker}


async def close_code(client: Any, deadline: float) -> int:
    """The code the server closed this socket with, read before ``deadline`` (monotonic); frames before it are skipped."""
    while True:
        # receive_nothing polls without cancelling the application when time runs out (receive_output would).
        left = deadline - time.monotonic()
        if left <= 0 or await client.ws.receive_nothing(timeout=left):
            raise AssertionError("the socket was not closed in time")
        output = await client.ws.receive_output()
        if output["type"] == "websocket.close":
            return output["code"]


async def nothing_got_through(tabs: list[Any], witness: Any, before: int) -> None:
    """What the closed ``tabs`` sent was neither saved nor shown to ``witness``, who still chats.

    Hanging up a tab waits until the server has handled everything the tab sent before
    (it handles a socket's frames in order); the witness's own line, sent after, then
    arrives after anything the tabs' lines would have caused.
    """
    for tab in tabs:
        await tab.ws.disconnect(timeout=WAIT)
    assert await database_sync_to_async(ChatMessage.objects.count)() == before
    await witness.send({"type": "chat.send", "body": "こちらは大丈夫です"})
    assert "まだ書けますか" not in bodies(await witness.received_before(chat("こちらは大丈夫です")))


def fresh(registration: Registration) -> Registration:
    return Registration.objects.get(pk=registration.pk)


async def assert_closed_for_good(s: dict[str, Any], tabs: list[Any], code: int, change: Callable[[], Any]) -> None:
    """Apply ``change`` (committed when it returns); every tab closes with ``code`` in time and accepts nothing more."""
    witness = s["witness"]
    before = await database_sync_to_async(ChatMessage.objects.count)()
    await database_sync_to_async(change)()
    deadline = time.monotonic() + DEADLINE
    for tab in tabs:
        assert await close_code(tab, deadline) == code
    for tab in tabs:
        await tab.send({"type": "chat.send", "body": "まだ書けますか"})
    # The neighbour at the same talk is untouched and still chats.
    await nothing_got_through(tabs, witness, before)


async def open_tabs(connect: Any, s: dict[str, Any]) -> list[Any]:
    """Two tabs of the doctor in the talk, one in the event's other talk, and the neighbour watching."""
    tabs = [await connect(s["talk"], s["doctor"]), await connect(s["talk"], s["doctor"]),
            await connect(s["second"], s["doctor"])]
    s["witness"] = await connect(s["talk"], s["neighbour"])
    return tabs


async def test_revoking_the_join_link_closes_every_open_tab_with_4410_within_a_second(connect):
    s = await scene()
    tabs = await open_tabs(connect, s)
    await assert_closed_for_good(s, tabs, 4410, lambda: registrations.revoke_join_link(fresh(s["doctor"])))
    # And a new socket is refused, as before.
    again = await connect(s["talk"], s["doctor"], hello=False)
    assert await close_code(again, time.monotonic() + 5) == 4403


ENDINGS = {
    "cancelled": (4411, lambda r: registrations.cancel_registration(r)),
    "rejected": (4412, lambda r: registrations.reject_registrations([r])),
    "link re-issued": (4414, lambda r: registrations.reissue_join_link(r)),
}


@pytest.mark.parametrize("ending", list(ENDINGS))
async def test_cancelling_rejecting_or_re_issuing_closes_the_open_tabs_with_a_code_of_its_own(connect, ending):
    code, verb = ENDINGS[ending]
    s = await scene()
    tabs = await open_tabs(connect, s)
    await assert_closed_for_good(s, tabs, code, lambda: verb(fresh(s["doctor"])))


async def test_a_moderator_removes_a_physician_whose_tabs_close_with_4413_and_it_is_logged(connect):
    s = await scene()
    tabs = await open_tabs(connect, s)
    moderator = await connect(s["talk"], user=s["organizer"])
    before = await database_sync_to_async(ChatMessage.objects.count)()
    await moderator.send({"type": "person.remove", "registration": s["doctor"].pk})
    deadline = time.monotonic() + DEADLINE
    assert (await moderator.recv_until("person.removed"))["registration"] == s["doctor"].pk
    for tab in tabs:
        assert await close_code(tab, deadline) == 4413
        await tab.send({"type": "chat.send", "body": "まだ書けますか"})
    await nothing_got_through(tabs, s["witness"], before)
    log = await database_sync_to_async(lambda: list(ModerationLog.objects.values_list("action", "details")))()
    assert log == [("person.remove", {"registration": s["doctor"].pk})]
    # The removal lasts: coming back is refused until an organizer re-issues the link.
    again = await connect(s["talk"], s["doctor"], hello=False)
    assert await close_code(again, time.monotonic() + 5) == 4403


@pytest.mark.parametrize("who", ["speaker", "neighbour"])
async def test_only_moderators_may_remove_a_physician(connect, who):
    s = await scene()
    tab = await connect(s["talk"], s["doctor"])
    client = await connect(s["talk"], user=s["speaker"]) if who == "speaker" else await connect(s["talk"], s["neighbour"])
    await client.send({"type": "person.remove", "registration": s["doctor"].pk})
    assert (await client.recv_until("error"))["code"] == "forbidden"
    await tab.send({"type": "chat.send", "body": "まだ参加しています"})
    assert (await tab.recv_until("chat.message"))["body"] == "まだ参加しています"


async def test_removing_someone_outside_the_event_is_not_found(connect):
    s = await scene()
    stranger = await database_sync_to_async(lambda: register(make_event()))()
    moderator = await connect(s["talk"], user=s["organizer"])
    await moderator.send({"type": "person.remove", "registration": stranger.pk})
    assert (await moderator.recv_until("error"))["code"] == "not_found"
    assert (await database_sync_to_async(fresh)(stranger)).join_revoked_at is None


async def test_a_removed_physician_leaves_their_reception_table_and_the_table_sees_it(connect):
    s = await scene()

    @database_sync_to_async
    def open_reception() -> None:
        from rooms.models import Attendance, LectureRoom
        from rooms.reception import opening

        Reception.objects.create(talk=s["talk"], room_size=4)
        room = LectureRoom.objects.create(talk=s["talk"], key="all", name_ja="全員", name_en="Everyone")
        for r in (s["doctor"], s["neighbour"]):
            Attendance.objects.create(talk=s["talk"], registration=r, room=room, joined_at=timezone.now())
        assert opening.open_reception(s["talk"]) is not None

    await open_reception()
    tab = await connect(s["talk"], s["doctor"])
    witness = await connect(s["talk"], s["neighbour"])
    assert tab.hello["room"]["kind"] == witness.hello["room"]["kind"] == "social"
    moderator = await connect(s["talk"], user=s["organizer"])
    await moderator.send({"type": "person.remove", "registration": s["doctor"].pk})
    assert await close_code(tab, time.monotonic() + DEADLINE) == 4413
    # The table first heard the neighbour sit down (both there); then the doctor leaves it.
    names: list[str] = []
    while names != ["岩手 花子"]:
        names = [m["name"] for m in (await witness.recv_until("room.members"))["members"]]
    open_seats = await database_sync_to_async(
        lambda: Seat.objects.filter(registration=s["doctor"], left_at__isnull=True).count())()
    assert open_seats == 0


async def test_a_socket_still_being_admitted_when_the_link_is_revoked_is_closed_too(connect, monkeypatch):
    """The admission read the registration just before the revocation committed; the relay's close went out
    before this socket had joined it. It must not be the one tab that stays open."""
    from rooms.realtime.consumer import LectureConsumer

    s = await scene()
    first = await connect(s["talk"], s["doctor"])  # this process now follows the talk
    admit = LectureConsumer.__dict__["_admit"]

    async def admitted_then_revoked(consumer: Any, talk_id: int) -> dict[str, Any]:
        hello = await admit(consumer, talk_id)
        await database_sync_to_async(lambda: registrations.revoke_join_link(fresh(s["doctor"])))()
        # The relay has handled the revocation (the first tab is closed) before this socket joins it.
        assert await close_code(first, time.monotonic() + DEADLINE) == 4410
        return hello

    monkeypatch.setattr(LectureConsumer, "_admit", admitted_then_revoked)
    late = await connect(s["talk"], s["doctor"], hello=False)
    assert await close_code(late, time.monotonic() + DEADLINE) == 4410
