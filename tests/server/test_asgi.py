"""HTTP through the ASGI application, as Daphne serves it (one thread hop per request)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from channels.db import database_sync_to_async
from channels.testing import HttpCommunicator
from django.core.signals import request_finished

from events import joinlinks
from events.models import Registration
from server.asgi import application
from tests.factories import make_event, make_talk, register

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


def _admitted_registration():
    event = make_event()
    make_talk(event, starts_in=timedelta(minutes=5))
    registration = register(event)
    registration.status = Registration.Status.APPROVED
    registration.save()
    return registration


HOST = [(b"host", b"localhost")]


async def _get(path: str, headers: list[tuple[bytes, bytes]] = HOST) -> dict:
    communicator = HttpCommunicator(application, "GET", path, headers=headers)
    response = await communicator.get_response(timeout=10)
    await communicator.wait(timeout=10)  # the handler closes the response after sending it
    return response


async def _lobby(registration: Registration) -> tuple[str, list[tuple[bytes, bytes]]]:
    """The lobby's path and the headers of a browser admitted to it: a page Django's handler serves."""
    event = await database_sync_to_async(lambda: registration.event)()
    cookie = f"{joinlinks.cookie_name(event.pk)}={joinlinks.make_token(registration)}"
    return f"/events/{event.slug}/lobby/", HOST + [(b"cookie", cookie.encode())]


def _header(response, name: bytes) -> str:
    return next(v.decode() for k, v in response["headers"] if k.lower() == name)


async def test_a_join_link_over_asgi_signs_in_and_redirects_to_the_lobby():
    registration = await database_sync_to_async(_admitted_registration)()
    token = joinlinks.make_token(registration)
    response = await _get(f"/join/{token}/")
    assert response["status"] == 302
    assert _header(response, b"location") == f"/events/{registration.event.slug}/lobby/"
    assert f"renkei_join_{registration.event_id}=" in _header(response, b"set-cookie")
    # Answered without the request cycle, with the headers Django's middleware gives every page.
    assert _header(response, b"x-frame-options") == "DENY"
    assert _header(response, b"referrer-policy") == "same-origin"
    assert _header(response, b"x-content-type-options") == "nosniff"
    assert "no-store" in _header(response, b"cache-control")
    lobby = await _get(_header(response, b"location"),
                       HOST + [(b"cookie", _header(response, b"set-cookie").split(";", 1)[0].encode())])
    assert lobby["status"] == 200


async def test_a_link_that_does_not_admit_still_gets_djangos_explanation_page():
    registration = await database_sync_to_async(_admitted_registration)()
    token = joinlinks.make_token(registration)
    await database_sync_to_async(Registration.objects.filter(pk=registration.pk).update)(join_nonce="rotated")
    revoked = await _get(f"/join/{token}/")
    assert revoked["status"] == 410 and b'data-reason="revoked"' in revoked["body"]
    assert not any(name == b"set-cookie" and b"renkei_join_" in value for name, value in revoked["headers"])
    forged = await _get(f"/join/{token[:-3]}abc/")
    assert forged["status"] == 404 and b'data-reason="forged"' in forged["body"]


async def test_a_join_link_on_a_host_not_allowed_is_refused_as_django_refuses_it():
    registration = await database_sync_to_async(_admitted_registration)()
    response = await _get(f"/join/{joinlinks.make_token(registration)}/", [(b"host", b"evil.example")])
    assert response["status"] == 400
    assert not any(name == b"set-cookie" for name, _ in response["headers"])


async def test_a_join_link_over_plain_http_is_sent_to_https_when_https_is_required(settings):
    from events.join_asgi import JoinLinks
    from server.asgi import OneHopASGIHandler

    settings.SECURE_SSL_REDIRECT = True  # read when the middleware is made: as a server started with it
    registration = await database_sync_to_async(_admitted_registration)()
    path = f"/join/{joinlinks.make_token(registration)}/"
    communicator = HttpCommunicator(JoinLinks(OneHopASGIHandler()), "GET", path, headers=HOST)
    response = await communicator.get_response(timeout=10)
    assert response["status"] == 301 and _header(response, b"location") == f"https://localhost{path}"
    assert not any(name == b"set-cookie" for name, _ in response["headers"])


async def test_a_form_post_without_its_csrf_token_is_refused_over_asgi():
    event = await database_sync_to_async(make_event)()
    communicator = HttpCommunicator(application, "POST", f"/events/{event.slug}/register/", body=b"", headers=HOST)
    response = await communicator.get_response(timeout=10)
    assert response["status"] == 403


async def test_every_request_is_finished_so_its_database_connection_goes_back():
    registration = await database_sync_to_async(_admitted_registration)()
    lobby = await _lobby(registration)
    finished: list[object] = []

    def count(sender: object, **kwargs: object) -> None:
        finished.append(sender)

    request_finished.connect(count)
    try:
        for _ in range(3):
            assert (await _get(*lobby))["status"] == 200
    finally:
        request_finished.disconnect(count)
    # request_finished is what closes (or returns to the pool) the request thread's connection.
    assert len(finished) == 3


async def test_requests_one_after_another_reuse_one_thread_instead_of_starting_one_each():
    import threading

    registration = await database_sync_to_async(_admitted_registration)()
    lobby = await _lobby(registration)
    before = threading.active_count()
    threads: set[str] = set()

    def note(sender: object, **kwargs: object) -> None:
        threads.add(threading.current_thread().name)

    request_finished.connect(note)
    try:
        for _ in range(5):
            assert (await _get(*lobby))["status"] == 200
    finally:
        request_finished.disconnect(note)
    assert len(threads) == 1  # every request ran, and finished, in the same (reused) thread
    assert threading.active_count() <= before + 1


def _shape(response: dict) -> tuple[int, dict[str, str], list[str]]:
    """Status, headers and cookie attributes, without what depends on the second it was answered in."""
    headers = {k.decode().lower(): v.decode() for k, v in response["headers"]
               if k.lower() not in (b"expires", b"set-cookie")}
    cookies = [v.decode() for k, v in response["headers"] if k.lower() == b"set-cookie"]
    timeless = [sorted(part.strip() for part in cookie.split(";")
                       if not part.strip().lower().startswith(("expires=", "max-age="))) for cookie in cookies]
    return response["status"], headers, timeless


async def test_the_join_links_answer_without_the_request_cycle_is_the_views_answer():
    from events.join_asgi import JoinLinks
    from server.asgi import OneHopASGIHandler

    async def not_django(scope, receive, send):
        raise AssertionError("a valid link is answered without Django's handler")

    registration = await database_sync_to_async(_admitted_registration)()
    path = f"/join/{joinlinks.make_token(registration)}/"
    answers = []
    for app in (JoinLinks(not_django), OneHopASGIHandler()):
        communicator = HttpCommunicator(app, "GET", path, headers=HOST)
        answers.append(await communicator.get_response(timeout=10))
        await communicator.wait(timeout=10)  # finished: the request's database connection is closed
    fast, view = answers
    status, headers, cookies = _shape(view)
    # What the rest of Django's middleware adds to every answer, and a body-less redirect does without.
    for name in ("content-security-policy", "content-language", "vary"):
        del headers[name]
    assert _shape(fast) == (status, headers, cookies)
    assert fast["status"] == 302 and "Max-Age=" in _header(fast, b"set-cookie")
