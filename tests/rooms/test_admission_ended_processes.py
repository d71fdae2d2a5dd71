"""Over real Redis, with two Daphne processes: ending a registration closes that physician's tabs on both.

Each physician has one tab on each process. The organizer revokes one link and
rejects another registration in the admin, a physician cancels in the lobby
(all on process one), and a moderator removes a fourth physician from the
console's socket; every tab of that physician, on either process, is closed
within a second with the code of its reason and can send nothing more, while
the others chat on.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import urllib.parse
import urllib.request
import uuid
from typing import Any

import pytest
import websockets
from django.conf import settings
from websockets.exceptions import ConnectionClosed

from events.joinlinks import join_url
from events.sessions import SessionStore
from rooms.models import ChatMessage, Stage
from tests.conftest import delete_redis_keys
from tests.factories import make_event, make_staff, make_talk, register
from tests.rooms.test_two_processes import frames_until
from tests.servers import NoRedirect, daphne, session_cookie

pytestmark = [pytest.mark.services, pytest.mark.e2e]

DEADLINE = 1.0  # seconds from the committed change to the close (docs/protocol.md)


def staff_cookie(user: Any) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = SessionStore()
    store[SESSION_KEY], store[BACKEND_SESSION_KEY] = str(user.pk), "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"sessionid={store.session_key}"


def post_form(base: str, page: str, target: str, cookie: str, data: dict[str, str]) -> int:
    """As a browser: open ``page`` (for its CSRF token and cookie), then submit a form to ``target``."""
    opener = urllib.request.build_opener(NoRedirect)
    response = opener.open(urllib.request.Request(base + page, headers={"Cookie": cookie}), timeout=10)
    html = response.read().decode()
    csrf_cookie = re.search(r"csrftoken=([^;]+)", " ".join(response.headers.get_all("Set-Cookie") or []))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert csrf_cookie and token, "the page has no CSRF form"
    body = urllib.parse.urlencode({**data, "csrfmiddlewaretoken": token.group(1)}).encode()
    request = urllib.request.Request(base + target, data=body, headers={
        "Cookie": f"{cookie}; csrftoken={csrf_cookie.group(1)}", "Referer": base + page,
    })
    try:
        return opener.open(request, timeout=10).status
    except urllib.error.HTTPError as exc:  # the admin's 302 after an action
        return exc.code


async def close_code(ws: Any, deadline: float) -> int:
    """The code the server closed ``ws`` with, before ``deadline`` (monotonic); frames until then are skipped."""
    async def drain() -> None:
        try:
            async for _ in ws:
                pass
        except ConnectionClosed:
            pass

    await asyncio.wait_for(drain(), max(0.0, deadline - time.monotonic()))
    return ws.close_code


def test_ending_a_registration_closes_that_physicians_tabs_on_both_processes_within_a_second(postgres_url, redis_url):
    event = make_event()
    talk = make_talk(event)
    Stage.objects.create(talk=talk, state=Stage.State.LIVE)
    people = {name: register(event, full_name=f"岩手 {name}") for name in ("revoked", "cancelled", "rejected",
                                                                          "removed", "witness")}
    organizer = make_staff("org", "organizer")
    event.organizers.add(organizer)
    prefix = f"renkei-test-{uuid.uuid4().hex[:8]}"
    env = {"DATABASE_URL": postgres_url, "REDIS_URL": redis_url, "CHANNEL_LAYER_PREFIX": prefix,
           "SECRET_KEY": settings.SECRET_KEY, "ALLOWED_HOSTS": "127.0.0.1", "DEBUG": "0", "DB_CONN_MAX_AGE": "0"}
    admin_cookie = staff_cookie(organizer)
    changelist = "/admin/events/registration/"
    latencies: dict[str, float] = {}
    with daphne(env) as one, daphne(env) as two:
        cookies = {name: session_cookie(one, "/" + join_url(r).split("/", 3)[3]) for name, r in people.items()}

        def admin_action(action: str, name: str) -> None:
            status = post_form(one, changelist, changelist, admin_cookie,
                               {"action": action, "_selected_action": str(people[name].pk), "index": "0"})
            assert status == 302

        def cancel(name: str) -> None:
            slug = event.slug
            assert post_form(one, f"/events/{slug}/lobby/", f"/events/{slug}/cancel/", cookies[name], {}) == 200

        async def scenario() -> None:
            def connect(base: str, cookie: str) -> Any:
                return websockets.connect(base.replace("http", "ws") + f"/ws/talks/{talk.pk}/", origin=base,
                                          additional_headers={"Cookie": cookie})

            tabs = {name: [await connect(one, cookie), await connect(two, cookie)] for name, cookie in cookies.items()}
            moderator = await connect(one, admin_cookie)
            try:
                for ws in [moderator, *(ws for pair in tabs.values() for ws in pair)]:
                    await frames_until(ws, "hello")

                async def remove(name: str) -> None:
                    await moderator.send(json.dumps({"type": "person.remove", "registration": people[name].pk}))

                endings = [
                    ("revoked", 4410, lambda: asyncio.to_thread(admin_action, "revoke_links", "revoked")),
                    ("cancelled", 4411, lambda: asyncio.to_thread(cancel, "cancelled")),
                    ("rejected", 4412, lambda: asyncio.to_thread(admin_action, "reject", "rejected")),
                    ("removed", 4413, lambda: remove("removed")),
                ]
                for name, code, change in endings:
                    asked = time.monotonic()
                    await change()
                    committed = time.monotonic()  # the HTTP answer (or the socket write) came after the commit
                    for ws in tabs[name]:
                        assert await close_code(ws, committed + DEADLINE) == code, name
                    latencies[name] = time.monotonic() - asked  # from asking, so the request's own time included
                    for ws in tabs[name]:
                        with pytest.raises(ConnectionClosed):
                            await ws.send(json.dumps({"type": "chat.send", "body": "まだ書けますか"}))
                # The witness, on both processes, still chats.
                witness_one, witness_two = tabs["witness"]
                await witness_one.send(json.dumps({"type": "chat.send", "body": "こちらは続いています"}))
                assert (await frames_until(witness_two, "chat.message"))[0]["body"] == "こちらは続いています"
            finally:
                for ws in [moderator, *(ws for pair in tabs.values() for ws in pair)]:
                    await ws.close()

        asyncio.run(scenario())
    delete_redis_keys(redis_url, prefix)
    assert list(ChatMessage.objects.values_list("body", flat=True)) == ["こちらは続いています"]
    print("seconds from asking for the change to both tabs closed:", {k: round(v, 3) for k, v in latencies.items()})
