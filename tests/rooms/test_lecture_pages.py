"""The lecture room page, the speaker console, and slides: who may see and do what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from events.joinlinks import join_url
from rooms.lecture.sample_pdf import make_pdf
from rooms.lecture.stage import approve_slides, get_or_create_stage, replace_slides
from tests.factories import make_event, make_staff, make_talk, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def talk():
    event = make_event()
    talk = make_talk(event, title="講演ルームの試験")
    organizer = make_staff("org", "organizer")
    event.organizers.add(organizer)
    speaker = make_staff("spk", "speaker")
    talk.speakers.add(speaker)
    talk.organizer, talk.speaker = organizer, speaker
    return talk


def sign_in(client, registration):
    client.get("/" + join_url(registration).split("/", 3)[3])


def test_an_admitted_physician_gets_the_lecture_room_page(client, talk):
    sign_in(client, register(talk.event))
    response = client.get(f"/talks/{talk.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-ws="/ws/talks/{talk.pk}/"' in page
    assert "講演ルームの試験" in page
    assert "is-console" not in page


def test_the_lobby_links_to_the_lecture_room(client, talk):
    sign_in(client, register(talk.event))
    assert f'href="/talks/{talk.pk}/"' in client.get(f"/events/{talk.event.slug}/lobby/").content.decode()


def test_a_physician_of_another_event_is_kept_out(client, talk):
    sign_in(client, register(make_event()))
    assert client.get(f"/talks/{talk.pk}/").status_code == 404  # as if there were no such talk
    assert client.get(f"/talks/{talk.pk}/console/").status_code == 302


def test_the_console_is_for_the_talks_speaker_and_organizers(client, talk):
    assert client.get(f"/talks/{talk.pk}/console/").status_code == 302
    client.force_login(talk.speaker)
    page = client.get(f"/talks/{talk.pk}/console/").content.decode()
    assert "is-console" in page and 'data-action="slide-next"' in page
    client.force_login(make_staff("other", "speaker"))
    assert client.get(f"/talks/{talk.pk}/console/").status_code == 404  # as if there were no such talk


def test_slides_need_an_organizers_approval_before_attendees_see_them(client, talk):
    replace_slides(talk, "s.pdf", make_pdf(["One", "Two"]), 2)
    sign_in(client, register(talk.event))
    assert client.get(f"/talks/{talk.pk}/slides.pdf").status_code == 404
    approve_slides(talk, talk.organizer)
    response = client.get(f"/talks/{talk.pk}/slides.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_nobody_outside_the_talk_gets_the_slides(client, talk):
    replace_slides(talk, "s.pdf", make_pdf(["One"]), 1)
    approve_slides(talk, talk.organizer)
    assert client.get(f"/talks/{talk.pk}/slides.pdf").status_code == 404
    sign_in(client, register(make_event()))
    assert client.get(f"/talks/{talk.pk}/slides.pdf").status_code == 404


def test_the_speaker_uploads_a_pdf_and_it_awaits_approval(client, talk):
    client.force_login(talk.speaker)
    pdf = SimpleUploadedFile("talk.pdf", make_pdf(["A", "B", "C"]), content_type="application/pdf")
    response = client.post(f"/talks/{talk.pk}/slides/upload/", {"slides": pdf})
    assert response.status_code == 302
    stage = get_or_create_stage(talk)
    assert stage.slide_count == 3 and not stage.slides_approved
    # The speaker may preview, but only an organizer approves.
    assert client.get(f"/talks/{talk.pk}/slides.pdf").status_code == 200
    assert client.post(f"/talks/{talk.pk}/slides/approve/").status_code == 403
    client.force_login(talk.organizer)
    client.post(f"/talks/{talk.pk}/slides/approve/")
    stage.refresh_from_db()
    assert stage.slides_approved and stage.slides_approved_by == talk.organizer
    assert talk.moderation_log.filter(action="slides.approve").exists()


def test_a_new_upload_needs_a_new_approval(client, talk):
    replace_slides(talk, "s.pdf", make_pdf(["One"]), 1)
    approve_slides(talk, talk.organizer)
    client.force_login(talk.speaker)
    client.post(f"/talks/{talk.pk}/slides/upload/", {"slides": SimpleUploadedFile("v2.pdf", make_pdf(["1", "2"]))})
    assert not get_or_create_stage(talk).slides_approved


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not a pdf at all", "PDFではありません"), (b"%PDF-1.4 broken", "読み込めませんでした")],
)
def test_a_bad_upload_says_what_is_wrong_and_keeps_the_old_slides(client, talk, content, message):
    replace_slides(talk, "s.pdf", make_pdf(["Keep"]), 1)
    client.force_login(talk.speaker)
    response = client.post(f"/talks/{talk.pk}/slides/upload/", {"slides": SimpleUploadedFile("x.pdf", content)})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert get_or_create_stage(talk).slide_count == 1


def test_attendees_cannot_upload_slides(client, talk):
    sign_in(client, register(talk.event))
    response = client.post(f"/talks/{talk.pk}/slides/upload/", {"slides": SimpleUploadedFile("x.pdf", make_pdf(["x"]))})
    assert response.status_code == 403


@pytest.mark.parametrize(("language", "expected"), [("ja", "講演は 12月6日(日) 19:00 に開始します。"),
                                                    ("en", "The talk starts at Sun 6 Dec 19:00.")])
def test_before_the_talk_the_room_says_the_day_and_time_in_japan_time(client, talk, language, expected):
    # 10:00 UTC is 19:00 in Tokyo: the page must not show the server's UTC clock.
    talk.starts_at = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    talk.ends_at = talk.starts_at + timedelta(hours=1)
    talk.save()
    client.cookies["django_language"] = language
    sign_in(client, register(talk.event))
    assert expected in client.get(f"/talks/{talk.pk}/").content.decode()


def test_the_console_shows_a_speaker_no_organizer_control_and_an_organizer_all_of_them(client, talk):
    organizer_only = ['data-action="chat-toggle"', "data-pin-form", 'data-action="open-reception"']
    client.force_login(talk.speaker)
    page = client.get(f"/talks/{talk.pk}/console/").content.decode()
    assert 'data-action="slide-next"' in page and "data-broadcast-form" in page
    assert not [control for control in organizer_only if control in page]
    client.force_login(talk.organizer)
    page = client.get(f"/talks/{talk.pk}/console/").content.decode()
    assert all(control in page for control in organizer_only)
