"""Talk ids and unpublished events cannot be probed: whoever may not see one gets the answer a missing one gets.

Before, /talks/999/ answered 404 and /talks/3/ 403 (naming the event), so
anyone could list which talks exist. Every page under /talks/<id>/ and
/events/<slug>/, and the lecture-room socket, now answers a talk or event the
visitor may not see exactly as one that does not exist.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from channels.db import database_sync_to_async

from tests.rooms.scenes import as_physician
from rooms.lecture.sample_pdf import make_pdf
from rooms.lecture.stage import approve_slides, replace_slides
from tests.factories import make_event, make_staff, make_talk, register

MISSING = 1_000_000  # added to a real talk id: an id that does not exist

TALK_PAGES = [
    ("get", "/talks/{}/"),
    ("get", "/talks/{}/console/"),
    ("get", "/talks/{}/slides.pdf"),
    ("post", "/talks/{}/slides/upload/"),
    ("post", "/talks/{}/slides/approve/"),
    ("get", "/talks/{}/attendance.csv"),
    ("get", "/talks/{}/reception/"),
    ("get", "/talks/{}/reception/seats.csv"),
]
EVENT_PAGES = [
    ("get", "/events/{}/"),
    ("get", "/events/{}/register/"),
    ("get", "/events/{}/registered/"),
    ("get", "/events/{}/lobby/"),
    ("post", "/events/{}/cancel/"),
    ("get", "/events/{}/cards/"),
    ("get", "/events/{}/tables/"),
]
VISITORS = ["anonymous", "physician of another event", "organizer of another event", "speaker of another talk"]


@pytest.fixture
def secret_talk(db: None) -> Any:
    """A talk of an unpublished event, with approved slides, that none of the VISITORS may see."""
    event = make_event(title="非公開の講演会", is_published=False)
    talk = make_talk(event, title="まだ秘密の講演")
    organizer = make_staff("org", "organizer")
    event.organizers.add(organizer)
    replace_slides(talk, "s.pdf", make_pdf(["One"]), 1)
    approve_slides(talk, organizer)
    return talk


def become(client: Any, visitor: str) -> None:
    if visitor == "physician of another event":
        as_physician(client, register(make_event()))
    elif visitor == "organizer of another event":
        user = make_staff("stranger", "organizer")
        make_event().organizers.add(user)
        client.force_login(user)
    elif visitor == "speaker of another talk":
        user = make_staff("other-speaker", "speaker")
        make_talk(make_event()).speakers.add(user)
        client.force_login(user)


def answer(client: Any, method: str, path: str) -> tuple[int, str, str]:
    """Status, redirect target and page, without what differs on every request (CSRF tokens)."""
    response = getattr(client, method)(path)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body.decode("utf-8", "replace"))
    return response.status_code, response.get("Location", ""), text


def assert_answered_alike(client: Any, method: str, page: str, real: str, missing: str) -> None:
    """``page`` with ``real`` filled in answers as with ``missing``, down to the page (the id in it aside)."""
    seen = answer(client, method, page.format(real))
    nothing = answer(client, method, page.format(missing))
    assert seen == tuple(p.replace(missing, real) if isinstance(p, str) else p for p in nothing)
    assert seen[0] in (302, 403, 404)
    assert "非公開の講演会" not in seen[2] and "まだ秘密の講演" not in seen[2]


@pytest.mark.django_db
@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize(("method", "page"), TALK_PAGES)
def test_a_talk_one_may_not_see_answers_exactly_like_a_talk_that_does_not_exist(client, secret_talk, visitor, method,
                                                                                 page):
    become(client, visitor)
    assert_answered_alike(client, method, page, str(secret_talk.pk), str(secret_talk.pk + MISSING))


@pytest.mark.django_db
@pytest.mark.parametrize("visitor", VISITORS)
@pytest.mark.parametrize(("method", "page"), EVENT_PAGES)
def test_an_unpublished_event_answers_exactly_like_an_event_that_does_not_exist(client, secret_talk, visitor, method,
                                                                                page):
    become(client, visitor)
    assert_answered_alike(client, method, page, secret_talk.event.slug, "no-such-event")


@pytest.mark.django_db
def test_the_page_says_how_to_get_in_without_naming_the_event(client, secret_talk):
    response = client.get(f"/talks/{secret_talk.pk}/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "このページは表示できません" in page
    assert "確認メールに記載された個人専用の参加用URL" in page
    assert f'href="/admin/login/?next=/talks/{secret_talk.pk}/"' in page
    assert "非公開の講演会" not in page


@pytest.mark.django_db
def test_the_talks_own_speaker_and_attendees_still_get_in(client, secret_talk):
    speaker = make_staff("spk", "speaker")
    secret_talk.speakers.add(speaker)
    client.force_login(speaker)
    assert client.get(f"/talks/{secret_talk.pk}/console/").status_code == 200
    # A speaker may see the talk, so being refused the organizers' report says so (403), not "no such talk".
    assert client.get(f"/talks/{secret_talk.pk}/reception/").status_code == 403
    client.logout()
    as_physician(client, register(secret_talk.event))
    assert client.get(f"/talks/{secret_talk.pk}/").status_code == 200


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("visitor", "code"), [("anonymous", 4401), ("physician of another event", 4403),
                                               ("organizer of another event", 4403)])
async def test_the_lecture_socket_refuses_a_missing_talk_like_one_you_may_not_see(connect, visitor, code):
    @database_sync_to_async
    def setup() -> tuple[Any, Any, Any]:
        talk = make_talk(make_event(is_published=False))
        registration = register(make_event()) if visitor.startswith("physician") else None
        user = make_staff("stranger", "organizer") if visitor.startswith("organizer") else None
        return talk, registration, user

    talk, registration, user = await setup()
    missing = type("Missing", (), {"pk": talk.pk + MISSING})()
    for target in (talk, missing):
        client = await connect(target, registration, user, hello=False)
        assert (await client.ws.receive_output(5)) == {"type": "websocket.close", "code": code}
