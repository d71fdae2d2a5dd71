"""Renkei's nginx site file, run for real: Debian's nginx on 127.0.0.1 in front of two Daphne processes
(PostgreSQL and Redis), everything a physician does going through it."""

from __future__ import annotations

import asyncio
import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest
import websockets
from django.urls import reverse

from events.joinlinks import join_url
from events.models import Registration
from rooms.models import Reception, Stage
from tests.conftest import delete_redis_keys
from tests.factories import form_data, make_event, make_staff, make_talk, register
from tests.nginx_server import collected_static, nginx, proxied_env
from tests.rooms.conftest import cookies_for
from tests.rooms.test_two_processes import frames_until
from tests.servers import ROOT, NoRedirect, access_lines, daphne_process, session_cookie
from tests.waiting import wait_until

pytestmark = [pytest.mark.services, pytest.mark.e2e]


def test_a_physician_registers_joins_chats_and_is_moved_through_nginx_in_front_of_two_daphne_processes(
        postgres_url, redis_url, tmp_path):
    event = make_event()
    talk = make_talk(event)
    Stage.objects.create(talk=talk, room_mode=Stage.RoomMode.SINGLE, state=Stage.State.LIVE)
    Reception.objects.create(talk=talk, room_size=3)
    colleague = register(event, full_name="岩手 太郎")
    speaker = make_staff("spk", "speaker")
    talk.speakers.add(speaker)
    staff_key = cookies_for(user=speaker)

    prefix = f"renkei-test-{uuid.uuid4().hex[:8]}"
    env = proxied_env(postgres_url, redis_url, prefix, tmp_path / "static")
    collected_static(env)
    with daphne_process(env, log_level="INFO") as one, daphne_process(env, log_level="INFO") as two, \
            nginx(tmp_path / "nginx", [one.base[7:], two.base[7:]], tmp_path / "static") as proxy:
        # Registration: the form, its CSRF cookie and token, and the POST, all through nginx.
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
        register_url = proxy.base + reverse("events:register", kwargs={"slug": event.slug})
        page = browser.open(register_url, timeout=10).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        typed = form_data(full_name="青森 花子")
        body = urllib.parse.urlencode({**typed, "csrfmiddlewaretoken": token}).encode()
        try:
            browser.open(urllib.request.Request(register_url, data=body, headers={"Referer": register_url}), timeout=10)
            pytest.fail("the registration form did not redirect")
        except urllib.error.HTTPError as answer:
            assert answer.code == 302 and answer.headers["Location"].endswith("/registered/"), answer.read()[:2000]
        registration = Registration.objects.get(physician__email=typed["email"])

        # The personal link, through nginx: the app's log line for it carries the id nginx gave the request.
        join_path = "/" + join_url(registration).split("/", 3)[3]
        try:
            urllib.request.build_opener(NoRedirect).open(proxy.base + join_path, timeout=10)
        except urllib.error.HTTPError as answer:
            assert answer.code == 302
            request_id = answer.headers["X-Request-ID"]
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)  # nginx's $request_id, sent back by Renkei
        wait_until(lambda: any(line.get("request_id") == request_id and "/join/" in line["message"]
                               for line in access_lines(one.log) + access_lines(two.log)),
                   "the join request's access line with nginx's request id",
                   detail=lambda: "".join(one.log[-20:] + two.log[-20:]))
        wait_until(lambda: f"request_id={request_id}" in proxy.access_log(), "nginx's access line with the same id",
                   detail=proxy.access_log)
        hanako = session_cookie(proxy.base, join_path)
        taro = session_cookie(proxy.base, "/" + join_url(colleague).split("/", 3)[3])

        async def scenario():
            def connect(cookie):
                return websockets.connect(proxy.base.replace("http", "ws") + f"/ws/talks/{talk.pk}/", origin=proxy.base,
                                          additional_headers={"Cookie": cookie})

            async with connect(hanako) as a, connect(taro) as b:
                hello = (await frames_until(a, "hello"))[0]
                await frames_until(b, "hello")
                await a.send(json.dumps({"type": "chat.send", "body": "nginx 越しに"}))
                got = (await frames_until(b, "chat.message"))[0]
                assert got["body"] == "nginx 越しに" and got["author"]["name"] == "青森 花子"
                async with connect(staff_key) as staff:
                    await frames_until(staff, "hello")
                    await staff.send(json.dumps({"type": "stage.end"}))
                    moved = [(await frames_until(ws, "room.moved"))[0] for ws in (a, b)]
                assert moved[0]["room"]["id"] == moved[1]["room"]["id"] != hello["room"]["id"]
                await b.send(json.dumps({"type": "chat.send", "body": "テーブルでも"}))
                assert (await frames_until(a, "chat.message"))[0]["body"] == "テーブルでも"

        asyncio.run(scenario())
        # Least connections: the two physicians' sockets went to different processes.
        opened = [sum("WebSocket" in line["message"] and "opened" in line["message"] for line in access_lines(d.log))
                  for d in (one, two)]
        assert all(opened), opened

        # A static file comes from collectstatic's folder through nginx; neither process sees the request.
        with urllib.request.urlopen(proxy.base + "/static/renkei/app.css", timeout=10) as answer:
            assert answer.read() == (ROOT / "frontend" / "static" / "renkei" / "app.css").read_bytes()
            assert answer.headers["X-Request-ID"] is None and "max-age=3600" in answer.headers["Cache-Control"]
        assert not any("/static/" in line["message"] for line in access_lines(one.log) + access_lines(two.log))
    delete_redis_keys(redis_url, prefix)
