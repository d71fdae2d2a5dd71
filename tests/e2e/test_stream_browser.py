"""The lecture room's player in Debian's chromium: the demo's own stream plays with no internet,
and a stream that cannot be reached is said to be so, in words, and retried until it plays."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import call_command

from events.joinlinks import join_url
from events.management.commands.load_demo import DEMO_SLUG, DEMO_STREAMS, TALKS
from events.models import Registration, Talk
from rooms.lecture.stage import go_live
from tests.e2e.shapes import DESK, PHONE, server_env
from tests.factories import make_event, make_talk, register
from tests.servers import daphne, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.services]

PLAYING = "() => { const v = document.querySelector('[data-stream] video'); return v && v.currentTime > 2 && !v.paused; }"
LOOPED = ("v => { let last = v.currentTime;"
          " v.addEventListener('timeupdate', () => { if (v.currentTime < last) window.renkeiLooped = true; last = v.currentTime; }); }")
FAILED_JA = "配信に接続できません"
FAILED_EN = "Cannot connect to the stream"


def open_room(browser, base: str, registration: Registration, talk: Talk, shape: dict, language: str = "ja"):
    context = browser.new_context(**shape)
    if language != "ja":
        context.add_cookies([{"name": "django_language", "value": language, "url": base}])
    page = context.new_page()
    page.goto(base + "/" + join_url(registration).split("/", 3)[3])
    page.goto(f"{base}/talks/{talk.pk}/")
    return page


@contextmanager
def stream_server(port: int) -> Iterator[list[str]]:
    """Serve the demo streams on 127.0.0.1:port (another origin, as a streaming host is); yield the paths asked for."""
    asked: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def end_headers(self) -> None:
            self.send_header("Access-Control-Allow-Origin", "*")
            super().end_headers()

        def log_message(self, *args) -> None:
            asked.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(Handler, directory=str(DEMO_STREAMS)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield asked
    finally:
        server.shutdown()
        server.server_close()


def test_the_demo_talk_plays_its_own_stream_in_the_lecture_room(browser, postgres_url, redis_url, artifacts, settings):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings.SITE_URL = base  # as the run command sets it to the port it serves on
    call_command("load_demo", stdout=StringIO())
    talk = Talk.objects.get(event__slug=DEMO_SLUG, title=TALKS[0][0])
    assert talk.stream_url == base + "/static/demo-stream/1/index.m3u8"
    go_live(talk)
    physician = Registration.objects.filter(event=talk.event, status=Registration.Status.APPROVED).first()
    with daphne(server_env(postgres_url, redis_url), port):
        for name, shape in (("phone", PHONE), ("desktop", DESK)):
            page = open_room(browser, base, physician, talk, shape)
            page.wait_for_function(PLAYING, timeout=30_000)  # the clip's time runs: real video, decoded
            assert page.locator(".stream-status").is_hidden()
            video = page.locator("[data-stream] video")
            assert video.evaluate("v => v.videoWidth") == 640
            page.screenshot(path=str(artifacts / f"stream-demo-playing-{name}.png"), full_page=name == "phone")
            if name == "desktop":
                # The ten-second clip starts again rather than ending in black: its time goes back and runs on.
                video.evaluate(LOOPED)
                page.wait_for_function(
                    "() => window.renkeiLooped && document.querySelector('[data-stream] video').currentTime > 1",
                    timeout=30_000)
            page.context.close()


def test_an_unreachable_stream_is_said_to_be_so_and_retried_until_it_plays(browser, postgres_url, redis_url, artifacts):
    stream_port = free_port()  # nothing listens here yet
    event = make_event()
    talk = make_talk(event, title="配信が遅れて始まる講演", stream_url=f"http://127.0.0.1:{stream_port}/1/index.m3u8")
    go_live(talk)
    physician = register(event)
    with daphne(server_env(postgres_url, redis_url)) as base:
        page = open_room(browser, base, physician, talk, PHONE)
        status = page.locator(".stream-status")
        status.wait_for(state="visible", timeout=15_000)
        assert FAILED_JA in status.inner_text()
        page.screenshot(path=str(artifacts / "stream-unreachable-phone.png"), full_page=True)

        english = open_room(browser, base, physician, talk, DESK, language="en")
        english.locator(".stream-status").wait_for(state="visible", timeout=15_000)
        assert FAILED_EN in english.locator(".stream-status").inner_text()
        english.screenshot(path=str(artifacts / "stream-unreachable-desktop-en.png"))
        english.context.close()

        # The streaming host comes up: the room finds it by itself, plays, and the message goes.
        with stream_server(stream_port) as asked:
            page.wait_for_function(PLAYING, timeout=30_000)
            assert "/1/index.m3u8" in asked
            status.wait_for(state="hidden", timeout=5_000)
            page.screenshot(path=str(artifacts / "stream-recovered-phone.png"), full_page=True)
        page.context.close()
