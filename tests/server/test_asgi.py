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


async def _get(path: str) -> dict:
    communicator = HttpCommunicator(application, "GET", path, headers=HOST)
    response = await communicator.get_response(timeout=10)
    await communicator.wait(timeout=10)  # the handler closes the response after sending it
    return response


def _header(response, name: bytes) -> str:
    return next(v.decode() for k, v in response["headers"] if k.lower() == name)


async def test_a_join_link_over_asgi_signs_in_and_redirects_to_the_lobby():
    registration = await database_sync_to_async(_admitted_registration)()
    token = joinlinks.make_token(registration)
    response = await _get(f"/join/{token}/")
    assert response["status"] == 302
    assert _header(response, b"location") == f"/events/{registration.event.slug}/lobby/"
    assert "sessionid=" in _header(response, b"set-cookie")
    assert _header(response, b"x-frame-options") == "DENY"  # the middleware ran


async def test_a_form_post_without_its_csrf_token_is_refused_over_asgi():
    event = await database_sync_to_async(make_event)()
    communicator = HttpCommunicator(application, "POST", f"/events/{event.slug}/register/", body=b"", headers=HOST)
    response = await communicator.get_response(timeout=10)
    assert response["status"] == 403


async def test_every_request_is_finished_so_its_database_connection_goes_back():
    registration = await database_sync_to_async(_admitted_registration)()
    finished: list[object] = []

    def count(sender: object, **kwargs: object) -> None:
        finished.append(sender)

    request_finished.connect(count)
    try:
        for _ in range(3):
            response = await _get(f"/join/{joinlinks.make_token(registration)}/")
            assert response["status"] == 302
    finally:
        request_finished.disconnect(count)
    # request_finished is what closes (or returns to the pool) the request thread's connection.
    assert len(finished) == 3


async def test_requests_one_after_another_reuse_one_thread_instead_of_starting_one_each():
    import threading

    registration = await database_sync_to_async(_admitted_registration)()
    before = threading.active_count()
    threads: set[str] = set()

    def note(sender: object, **kwargs: object) -> None:
        threads.add(threading.current_thread().name)

    request_finished.connect(note)
    try:
        for _ in range(5):
            assert (await _get(f"/join/{joinlinks.make_token(registration)}/"))["status"] == 302
    finally:
        request_finished.disconnect(note)
    assert len(threads) == 1  # every request ran, and finished, in the same (reused) thread
    assert threading.active_count() <= before + 1
