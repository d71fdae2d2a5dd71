"""The lecture-room socket opens only for pages of this site: same scheme, host and port (or a trusted origin).

A browser sends the physician's cookie with a WebSocket handshake from any page;
a page of another origin (another port of the same host included) must not get
their ``hello``.
"""

from __future__ import annotations

import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import override_settings

from rooms.models import Stage
from server.asgi import application
from tests.factories import make_event, make_talk, register
from tests.rooms.conftest import cookies_for

pytestmark = [pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def physician_session() -> tuple[int, str]:
    event = make_event()
    talk = make_talk(event)
    Stage.objects.create(talk=talk)
    return talk.pk, cookies_for(register(event))


async def handshake(host: str | None, origin: str | None, scheme: str = "ws",
                    extra: list[tuple[bytes, bytes]] | None = None) -> tuple[bool, dict | None]:
    """Open the socket as a browser on a page of ``origin`` would; (accepted?, hello or None)."""
    talk_id, cookies = await physician_session()
    headers = [(b"cookie", cookies.encode())] + (extra or [])
    if host is not None:
        headers.append((b"host", host.encode()))
    if origin is not None:
        headers.append((b"origin", origin.encode()))
    ws = WebsocketCommunicator(application, f"/ws/talks/{talk_id}/", headers=headers)
    ws.scope["scheme"] = scheme
    try:
        connected, _ = await ws.connect(timeout=10)
        if not connected:
            return False, None
        return True, await ws.receive_json_from(timeout=10)
    finally:
        await ws.disconnect()
        from django.db import connections

        await database_sync_to_async(connections.close_all)()


async def test_a_page_of_the_site_itself_gets_the_physicians_hello():
    accepted, hello = await handshake("127.0.0.1:8000", "http://127.0.0.1:8000")
    assert accepted and hello["type"] == "hello"


async def test_a_page_on_another_port_of_the_same_host_is_refused_before_hello():
    # The attack of the issue: a page at http://127.0.0.1:8124/ opening the site's socket with the victim's cookie.
    assert await handshake("127.0.0.1:8000", "http://127.0.0.1:8124") == (False, None)


async def test_a_page_over_another_scheme_is_refused():
    assert await handshake("127.0.0.1:8000", "https://127.0.0.1:8000") == (False, None)


async def test_a_page_on_another_allowed_host_is_refused():
    # Both names are in ALLOWED_HOSTS, but a page of one is another site than the other.
    assert await handshake("127.0.0.1:8000", "http://localhost:8000") == (False, None)


async def test_a_page_of_a_foreign_site_is_refused():
    assert await handshake("127.0.0.1:8000", "http://evil.example") == (False, None)


async def test_a_host_that_is_not_allowed_is_refused_even_when_the_origin_matches_it():
    # DNS rebinding: evil.example resolved to our address; its page and the Host agree, but the host is not ours.
    assert await handshake("evil.example:8000", "http://evil.example:8000") == (False, None)


async def test_a_handshake_without_an_origin_is_refused():
    assert await handshake("127.0.0.1:8000", None) == (False, None)


async def test_an_opaque_null_origin_is_refused():
    assert await handshake("127.0.0.1:8000", "null") == (False, None)


async def test_a_secure_socket_is_the_https_origin_of_its_host():
    accepted, hello = await handshake("127.0.0.1:8443", "https://127.0.0.1:8443", scheme="wss")
    assert accepted and hello["type"] == "hello"
    assert await handshake("127.0.0.1:8443", "http://127.0.0.1:8443", scheme="wss") == (False, None)


async def test_a_trusted_origin_is_accepted():
    # Behind a TLS proxy that does not say so: the page is https, the socket reaches Daphne as plain ws.
    with override_settings(CSRF_TRUSTED_ORIGINS=["https://renkei.example.jp"], ALLOWED_HOSTS=["renkei.example.jp"]):
        accepted, hello = await handshake("renkei.example.jp", "https://renkei.example.jp")
        assert accepted and hello["type"] == "hello"
        assert await handshake("renkei.example.jp", "https://renkei.example.jp:8124") == (False, None)


async def test_a_trusted_subdomain_pattern_is_accepted_for_its_scheme_only():
    with override_settings(CSRF_TRUSTED_ORIGINS=["https://*.example.jp"], ALLOWED_HOSTS=["renkei.example.jp"]):
        accepted, _ = await handshake("renkei.example.jp", "https://www.example.jp")
        assert accepted
        assert await handshake("renkei.example.jp", "http://www.example.jp") == (False, None)


async def test_the_proxys_forwarded_scheme_counts_only_when_configured():
    forwarded = [(b"x-forwarded-proto", b"https")]
    with override_settings(ALLOWED_HOSTS=["renkei.example.jp"]):
        assert await handshake("renkei.example.jp", "https://renkei.example.jp", extra=forwarded) == (False, None)
        with override_settings(SECURE_PROXY_SSL_HEADER=("HTTP_X_FORWARDED_PROTO", "https")):
            accepted, _ = await handshake("renkei.example.jp", "https://renkei.example.jp", extra=forwarded)
            assert accepted


@pytest.mark.services
@pytest.mark.e2e
def test_through_daphne_a_page_on_another_port_gets_403_and_the_sites_own_page_gets_hello(postgres_url, redis_url):
    """The attack as the issue ran it: a real Daphne, a real cookie, a page at another port of 127.0.0.1."""
    import asyncio

    import websockets

    from events.joinlinks import join_url
    from tests.conftest import delete_redis_keys
    from tests.servers import daphne, free_port, session_cookie

    event = make_event()
    talk = make_talk(event)
    Stage.objects.create(talk=talk)
    physician = register(event)
    prefix = f"renkei-test-origin-{talk.pk}-{free_port()}"
    env = {"DATABASE_URL": postgres_url, "REDIS_URL": redis_url, "CHANNEL_LAYER_PREFIX": prefix,
           "SECRET_KEY": settings.SECRET_KEY, "ALLOWED_HOSTS": "127.0.0.1", "DEBUG": "0", "DB_CONN_MAX_AGE": "0"}
    with daphne(env) as base:
        cookie = session_cookie(base, "/" + join_url(physician).split("/", 3)[3])
        ws_url = base.replace("http", "ws") + f"/ws/talks/{talk.pk}/"
        other_page = f"http://127.0.0.1:{free_port()}"

        async def scenario() -> None:
            with pytest.raises(websockets.InvalidStatus) as refused:
                async with websockets.connect(ws_url, origin=other_page, additional_headers={"Cookie": cookie}):
                    pass
            assert refused.value.response.status_code == 403
            async with websockets.connect(ws_url, origin=base, additional_headers={"Cookie": cookie}) as ws:
                assert json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] == "hello"

        asyncio.run(scenario())
    delete_redis_keys(redis_url, prefix)

