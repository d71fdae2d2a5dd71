"""An organizer mutes a physician's microphone at a table over the socket; the real Janus stops their sound."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async

from rooms.models import ModerationLog
from rooms.reception import media
from rooms.reception.janus import VideoRoomSession
from rooms.reception.models import Reception, ReceptionTable
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.rooms.janus_server import API_SECRET, janus  # noqa: F401 (the fixture)
from tests.rooms.test_reception_socket import _everyone, setup_reception

pytestmark = [pytest.mark.django_db(transaction=True)]

# A page on 127.0.0.1 (a secure context, so getUserMedia exists), served by Playwright itself.
PAGE = "http://127.0.0.1:9/publisher"
OFFER = """async () => {
  if (window.pc) window.pc.close();  // publishing anew: a new peer connection, as after a reload
  const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
  const pc = window.pc = new RTCPeerConnection({});
  stream.getTracks().forEach(t => pc.addTrack(t, stream));
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise(done => {
    if (pc.iceGatheringState === 'complete') done();
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') done(); };
  });
  return {type: 'offer', sdp: pc.localDescription.sdp};
}"""


def publish(session: VideoRoomSession, offer: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Send the browser's offer as Janus's ``publish``; its answer and the candidates Janus trickled before it."""
    session._post(f"/{session.session_id}/{session.handle_id}",
                  {"janus": "message", "body": {"request": "publish"}, "jsep": offer})
    candidates: list[dict[str, Any]] = []
    answer: dict[str, Any] | None = None
    completed = False
    # Janus trickles its candidates (full_trickle), before or after the answer: wait for both.
    while answer is None or not completed:
        event = session._event()
        if event.get("janus") == "trickle":
            if event["candidate"].get("completed"):
                completed = True
            else:
                candidates.append(event["candidate"])
        if event.get("jsep"):
            answer = event["jsep"]
    return answer, candidates


def unpublish(session: VideoRoomSession) -> None:
    """Stop publishing, and wait until Janus has torn the peer connection down (its ``hangup``)."""
    session._post(f"/{session.session_id}/{session.handle_id}", {"janus": "message", "body": {"request": "unpublish"}})
    while session._event().get("janus") != "hangup":
        pass


async def connected(page: Any, publisher: VideoRoomSession) -> None:
    """The page publishes its fake microphone and camera through the publisher's handle, and is connected."""
    answer, candidates = await sync_to_async(publish)(publisher, await page.evaluate(OFFER))
    await page.evaluate("async a => { await window.pc.setRemoteDescription(a); }", answer)
    for candidate in candidates:
        await page.evaluate("async c => { await window.pc.addIceCandidate(c); }", candidate)
    await page.wait_for_function("window.pc.connectionState === 'connected'", timeout=30000)


def streams_of(table_id: int, feed: int) -> list[dict[str, Any]]:
    """A publisher's streams as Janus shows them to whoever joins the table (Renkei's own token)."""
    table = ReceptionTable.objects.get(pk=table_id)
    opened = Reception.objects.get(pk=table.talk_id).opened_at
    with media.session_for(table_id) as janus:
        joined = janus.message({"request": "join", "ptype": "publisher", "room": table_id, "display": "test",
                                "token": media.renkei_token(media.opening_stamp(opened), table_id)})
    return next(p["streams"] for p in joined["publishers"] if p["id"] == feed)


async def seated_table(connect):
    talk, people, organizer, speaker = await setup_reception(iwate=2, tokyo=0)
    clients, staff = await _everyone(connect, talk, people, speaker)
    boss = await connect(talk, user=organizer)
    await staff.send({"type": "stage.end"})
    moved = [await c.recv_until("room.moved") for c in clients]
    return talk, people, clients, staff, boss, moved


@pytest.mark.e2e
async def test_an_organizers_mute_stops_a_publishers_sound_in_janus_and_the_table_sees_it(connect, janus):
    from playwright.async_api import async_playwright

    talk, people, clients, staff, boss, moved = await seated_table(connect)
    table, mine = moved[0]["room"]["id"], moved[0]["media"]
    publisher = VideoRoomSession(janus.url, API_SECRET, timeout=10)
    await sync_to_async(publisher.__enter__)()
    try:
        joined = await sync_to_async(publisher.message)({"request": "join", "ptype": "publisher", "room": table,
                                                         "id": mine["feed"], "token": mine["token"]})
        assert joined["videoroom"] == "joined"
        async with async_playwright() as p:
            browser = await p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
                *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
                "--allow-loopback-in-peer-connection", "--disable-features=WebRtcHideLocalIpsWithMdns"])
            page = await browser.new_page()
            await page.route(PAGE, lambda route: route.fulfill(body="<html></html>", content_type="text/html"))
            await page.goto(PAGE)
            await connected(page, publisher)
            audio = [s for s in await database_sync_to_async(streams_of)(table, mine["feed"]) if s["type"] == "audio"]
            assert audio and not audio[0].get("moderated")

            await boss.send({"type": "media.mute", "room": table, "registration": people[0].pk, "muted": True})
            told = await clients[1].recv_until("media.muted")
            assert told == {"type": "media.muted", "room": table, "registration": people[0].pk, "muted": True}
            assert (await boss.recv_until("media.muted"))["muted"] is True  # looking elsewhere: confirmed
            streams = await database_sync_to_async(streams_of)(table, mine["feed"])
            assert [s.get("moderated", False) for s in streams if s["type"] == "audio"] == [True]
            assert not any(s.get("moderated") for s in streams if s["type"] == "video")  # the camera is not touched

            # Publishing anew (as after a reload) gives Janus new streams; the next sync mutes them again.
            await sync_to_async(unpublish)(publisher)
            await connected(page, publisher)
            fresh = await database_sync_to_async(streams_of)(table, mine["feed"])
            assert not any(s.get("moderated") for s in fresh)  # Janus forgot: new streams
            assert await sync_to_async(media.sync_media)(talk.pk)
            streams = await database_sync_to_async(streams_of)(table, mine["feed"])
            assert [s.get("moderated", False) for s in streams if s["type"] == "audio"] == [True]

            await boss.send({"type": "media.mute", "room": table, "registration": people[0].pk, "muted": False})
            assert (await clients[1].recv_until("media.muted"))["muted"] is False
            streams = await database_sync_to_async(streams_of)(table, mine["feed"])
            assert not any(s.get("moderated") for s in streams)
            await browser.close()
    finally:
        await sync_to_async(publisher.__exit__)()
    log = await database_sync_to_async(lambda: list(ModerationLog.objects.order_by("at").values_list("action", "details")))()
    assert log == [("media.mute", {"room": table, "registration": people[0].pk}),
                   ("media.unmute", {"room": table, "registration": people[0].pk})]


async def test_only_organizers_may_mute_and_bad_requests_are_refused_with_the_socket_left_open(connect, janus):
    talk, people, clients, staff, boss, moved = await seated_table(connect)
    table = moved[0]["room"]["id"]
    mute = {"type": "media.mute", "room": table, "registration": people[0].pk, "muted": True}
    await staff.send(mute)  # a speaker
    assert (await staff.recv_until("error"))["code"] == "forbidden"
    await clients[1].send(mute)  # a tablemate
    assert (await clients[1].recv_until("error"))["code"] == "forbidden"
    for frame, code in (({**mute, "muted": "yes"}, "bad_field"),
                        ({**mute, "room": table + 1000}, "not_found"),
                        ({**mute, "registration": people[0].pk + 1000}, "not_seated"),
                        (mute, "not_publishing")):  # seated, but their microphone is off: nothing to mute
        await boss.send(frame)
        error = await boss.recv_until("error")
        assert (error["code"], error["received"]) == (code, "media.mute"), error
    await boss.send({"type": "room.view", "room": table})
    assert (await boss.recv_until("room.viewing"))["room"]["id"] == table  # still connected
    assert await database_sync_to_async(ModerationLog.objects.count)() == 0
