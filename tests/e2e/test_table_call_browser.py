"""Physicians at a reception table see and hear each other through a real Janus, their media only on the veth
pair to Janus's own network namespace (Janus offers no loopback candidate); their call follows them to another
table, ends with the reception, and without Janus the table stays text."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.utils import timezone

from events.joinlinks import join_url
from regions.models import Prefecture
from rooms.models import Reception, Stage
from rooms.reception import media
from rooms.reception.janus import JanusError
from rooms.reception.janus_config import browser_token
from rooms.reception.models import ReceptionTable
from rooms.reception.seating import choose_room
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.e2e.shapes import CSP_VIOLATIONS, PHONE, server_env
from tests.factories import make_event, make_talk, register
from tests.rooms.janus_server import API_SECRET, exists, free_port, join
from tests.rooms.janus_server import janus_in_namespace  # noqa: F401 (the fixture)
from tests.servers import daphne
from tests.waiting import wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.services]

DESKTOP = {"viewport": {"width": 1280, "height": 800}, "locale": "ja-JP", "timezone_id": "Asia/Tokyo"}

# Every RTCPeerConnection the page makes, kept for getStats (janus.js keeps its own out of reach).
RECORD_PEER_CONNECTIONS = """(() => {
  const Native = window.RTCPeerConnection;
  window.__pcs = [];
  window.RTCPeerConnection = function (...args) { const pc = new Native(...args); window.__pcs.push(pc); return pc; };
  window.RTCPeerConnection.prototype = Native.prototype;
  Object.setPrototypeOf(window.RTCPeerConnection, Native);
})();"""

# What the page receives now: per inbound stream its kind and counters, and the chosen pairs' addresses.
RECEIVED = """async () => {
  const inbound = [], pairs = [];
  for (const pc of window.__pcs.filter(pc => pc.connectionState !== 'closed')) {
    const stats = [...(await pc.getStats()).values()];
    const byId = Object.fromEntries(stats.map(s => [s.id, s]));
    for (const s of stats) {
      if (s.type === 'inbound-rtp') inbound.push({kind: s.kind, mid: s.mid, frames: s.framesDecoded || 0, bytes: s.bytesReceived || 0});
      if (s.type === 'transport' && s.selectedCandidatePairId) {
        const pair = byId[s.selectedCandidatePairId];
        pairs.push([byId[pair.localCandidateId].address, byId[pair.remoteCandidateId].address]);
      }
    }
  }
  return {inbound, pairs};
}"""

# A subscriber join made by hand in the page (janus.js is loaded): the error code Janus answers, or "joined".
SUBSCRIBE_ELSEWHERE = """([server, token, room, feed, privateId]) => new Promise((resolve) => {
  const session = new Janus({server, token, success: () => session.attach({
    plugin: "janus.plugin.videoroom",
    success: (handle) => {
      const message = {request: "join", ptype: "subscriber", room, streams: [{feed}]};
      if (privateId !== null) message.private_id = privateId;
      handle.send({message});
    },
    onmessage: (msg) => { resolve(msg.error_code || msg.videoroom); session.destroy(); },
    error: (e) => resolve(String(e)),
  }), error: (e) => resolve(String(e))});
})"""


@pytest.fixture(scope="module")
def media_browser() -> Iterator[object]:
    """Chromium with fake camera and microphone, granted without a prompt, host candidates as addresses."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the README's test command installs Debian's chromium package.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=[
            *CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            # Janus gets IP candidates it can check, not mDNS names (it resolves none).
            "--disable-features=WebRtcHideLocalIpsWithMdns",
            "--autoplay-policy=no-user-gesture-required"])
        yield browser
        browser.close()


def open_reception(tables: int = 2, minutes: int = 20):
    """A talk that has ended, its reception open with ``tables`` tables that physicians may choose between."""
    event = make_event(title="東北 懇親会")
    talk = make_talk(event, starts_in=timedelta(minutes=-65))
    Stage.objects.create(talk=talk, state=Stage.State.ENDED)
    now = timezone.now()
    reception = Reception.objects.create(talk=talk, room_size=6, allow_self_select=True, opened_at=now,
                                         closes_at=now + timedelta(minutes=minutes))
    made = [ReceptionTable.objects.create(talk=talk, key=f"social-{n}", name_ja=f"岩手県 {n}", name_en=f"Iwate {n}")
            for n in range(1, tables + 1)]
    return event, reception, made


def physician_page(browser, base: str, person, shape: dict) -> object:
    # Granted up front, as a physician who allowed them before: Chromium enumerates the machine's interfaces
    # for WebRTC only with media permission, and without it binds to "any" and names eth0's address.
    context = browser.new_context(**shape, permissions=["camera", "microphone"])
    context.add_init_script(RECORD_PEER_CONNECTIONS)
    context.add_init_script(CSP_VIOLATIONS)
    page = context.new_page()
    page.goto(base + "/" + join_url(person).split("/", 3)[3])
    page.get_by_role("link", name="講演ルームに入る").first.click()
    page.wait_for_selector("text=接続しました")
    return page


def receiving(page, videos: int, audios: int, before: dict | None = None):
    """The stats once ``videos`` video streams decode frames and ``audios`` audio streams bring bytes,
    each beyond what ``before`` had (so they are flowing now, not only once)."""
    def flowing():
        now = page.evaluate(RECEIVED)
        old = {(s["kind"], s["mid"]): s for s in (before or {"inbound": []})["inbound"]}
        grew = lambda s, key: s[key] > old.get((s["kind"], s["mid"]), {}).get(key, 0)  # noqa: E731
        v = [s for s in now["inbound"] if s["kind"] == "video" and grew(s, "frames")]
        a = [s for s in now["inbound"] if s["kind"] == "audio" and grew(s, "bytes")]
        return now if len(v) >= videos and len(a) >= audios else None
    return wait_until(flowing, f"{videos} videos and {audios} audios flowing",
                      detail=lambda: str(page.evaluate(RECEIVED)))


def only_growing(page, videos: int):
    """A condition: between two polls, exactly ``videos`` video streams decoded new frames (a stream that
    left keeps its last counters in getStats, but they stop)."""
    last: list[dict] = [page.evaluate(RECEIVED)]

    def check() -> bool:
        now = page.evaluate(RECEIVED)
        old = {(s["kind"], s["mid"]): s["frames"] for s in last[0]["inbound"]}
        last[0] = now
        grown = [s for s in now["inbound"] if s["kind"] == "video" and s["frames"] > old.get((s["kind"], s["mid"]), 0)]
        return len(grown) == videos
    return check


def turn_on(page) -> None:
    page.click("[data-action='call-mic']:not([disabled])")
    page.wait_for_selector("[data-action='call-mic'][aria-pressed='true']")
    page.click("[data-action='call-camera']:not([disabled])")
    page.wait_for_selector("[data-action='call-camera'][aria-pressed='true']")


def test_three_physicians_at_a_table_see_and_hear_each_other_and_the_call_follows_them(
        media_browser, janus_in_namespace, postgres_url, redis_url, tmp_path):  # noqa: F811
    janus = janus_in_namespace
    event, reception, (first, second) = open_reception()
    iwate = Prefecture.objects.get(code="03")
    people = [register(event, full_name=f"岩手 医師{n}", prefecture=iwate) for n in range(4)]
    for person in people[:3]:
        choose_room(reception.talk, person, first.pk)
    choose_room(reception.talk, people[3], second.pk)
    assert exists(janus, first.pk) and exists(janus, second.pk)
    env = {**server_env(postgres_url, redis_url), "JANUS_URL": janus.url, "JANUS_API_SECRET": API_SECRET}
    with daphne(env) as base:
        shapes = [PHONE, DESKTOP, PHONE, PHONE]
        pages = [physician_page(media_browser, base, person, shape) for person, shape in zip(people, shapes, strict=True)]
        for page in pages[:3]:
            page.wait_for_selector("[data-call-tiles] .tile >> nth=2")
            # Both start off, and nothing was asked of the devices yet.
            assert page.locator("[data-action='call-mic']").get_attribute("aria-pressed") == "false"
            assert page.locator("[data-action='call-camera']").get_attribute("aria-pressed") == "false"
        assert pages[0].locator("[data-call-tiles] .tile figcaption").all_inner_texts()[0].startswith("岩手 医師")
        for page in pages[:3]:
            turn_on(page)

        for page in pages[:3]:
            first_look = receiving(page, videos=2, audios=2)
            again = receiving(page, videos=2, audios=2, before=first_look)
            # Every connection's chosen pair is the veth pair: this end's address on the host, Janus's in its
            # namespace (Janus 1.1 offers no loopback candidate; eth0's addresses must never carry it).
            veth = [janus.netns.host_address, janus.netns.inner_address]
            assert again["pairs"] and all(pair == veth for pair in again["pairs"]), (again, janus.netns)
        pages[0].wait_for_selector("[data-call-tiles] .tile.has-video >> nth=2")
        pages[0].screenshot(path=str(tmp_path / "table-call-phone.png"), full_page=True)
        pages[1].wait_for_selector("[data-call-tiles] .tile.has-video >> nth=2")
        pages[1].screenshot(path=str(tmp_path / "table-call-desktop.png"), full_page=False)
        # Janus (JANUS_URL's origin) is in the policy's connect-src: nothing of the call was blocked.
        assert [page.evaluate("window.__violations") for page in pages] == [[]] * len(pages)

        # The fourth, at the other table, receives nothing of them, and Janus refuses their token for the first.
        assert not [s for s in pages[3].evaluate(RECEIVED)["inbound"] if s["bytes"] > 0]
        with pytest.raises(JanusError) as refused:
            join(janus, first.pk, media.token(reception, second.pk, people[3].pk))
        assert refused.value.code == 433
        # Nor can the fourth's browser, holding the Janus token every attendee gets, subscribe to the first
        # table's streams on a handle of its own: a subscription must name a private_id seated there.
        token = browser_token(API_SECRET, time.time() + 600)
        for private_id in (None, 12345):
            answer = pages[3].evaluate(SUBSCRIBE_ELSEWHERE, [janus.url, token, first.pk, people[0].pk, private_id])
            assert answer == 433, answer

        # The third goes through the lobby to the other table: her call goes with her.
        pages[2].click("[data-action='leave-room']")
        pages[2].locator("[data-reception-rooms] li", has_text="岩手県 2").get_by_role("button").click()
        pages[2].wait_for_selector("[data-reception-title]:has-text('岩手県 2')")
        turn_on(pages[2])
        receiving(pages[3], videos=1, audios=1)
        receiving(pages[2], videos=0, audios=0)
        wait_until(lambda: pages[0].locator("[data-call-tiles] .tile").count() == 2, "the first table's tiles down to two")
        wait_until(only_growing(pages[0], videos=1), "one video still arriving at the first table, hers gone",
                   interval=0.5, detail=lambda: str(pages[0].evaluate(RECEIVED)))

        # The close: the reception ends now, the calls end, and Janus's rooms are gone.
        Reception.objects.filter(pk=reception.pk).update(closes_at=timezone.now() + timedelta(seconds=2))
        pages[1].reload()  # its connection tells the server's clock the new closing time
        pages[0].wait_for_selector("[data-reception-ended]:not([hidden])")
        pages[0].wait_for_selector("[data-call-note]:has-text('通話は終了しました')")
        wait_until(lambda: not exists(janus, first.pk) and not exists(janus, second.pk), "the tables' rooms destroyed")
        for page in pages:
            page.context.close()


def test_without_janus_the_table_says_so_offers_a_retry_and_chat_still_works(media_browser, postgres_url, redis_url,
                                                                              settings):
    settings.JANUS_URL = ""  # nothing to sync here: the server alone believes in a Janus that is not there
    event, reception, (table,) = open_reception(tables=1)
    people = [register(event, full_name=f"岩手 医師{n}") for n in range(2)]
    for person in people:
        choose_room(reception.talk, person, table.pk)
    env = {**server_env(postgres_url, redis_url), "JANUS_URL": f"http://127.0.0.1:{free_port()}/janus",
           "JANUS_API_SECRET": API_SECRET}
    with daphne(env) as base:
        pages = [physician_page(media_browser, base, person, PHONE) for person in people]
        for page in pages:
            page.wait_for_selector("[data-call-failure]:has-text('メディアサーバーに接続できません')")
            assert page.locator("[data-action='call-retry']").is_visible()
        pages[0].fill("[data-chat-input]", "音声が使えないのでチャットで")
        pages[0].click("[data-chat-form] button")
        pages[1].locator("[data-messages] li .body").filter(has_text="音声が使えないのでチャットで").wait_for()
        pages[0].click("[data-action='call-retry']")
        pages[0].wait_for_selector("[data-call-failure]:has-text('メディアサーバーに接続できません')")
        for page in pages:
            page.context.close()
