"""The personal join link: it signs a physician in for one event, and fails kindly."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from events import joinlinks
from events.models import Event, Registration
from events.services import (
    approve_registrations,
    cancel_registration,
    register_physician,
    reject_registrations,
    revoke_join_link,
)
from tests.factories import details, make_event, make_talk, register

pytestmark = pytest.mark.django_db


@pytest.fixture
def event() -> Event:
    event = make_event(title="岩手 肺がん Web講演会")
    make_talk(event, title="次の講演", starts_in=timedelta(days=1))
    return event


def join_path(registration) -> str:
    return "/" + joinlinks.join_url(registration).split("://", 1)[1].split("/", 1)[1]


def test_the_link_signs_the_physician_in_and_lands_on_the_lobby(client, event):
    registration = register(event)
    response = client.get(join_path(registration))
    assert response.status_code == 302
    assert response.url == f"/events/{event.slug}/lobby/"
    lobby = client.get(response.url)
    assert lobby.status_code == 200
    page = lobby.content.decode()
    assert "次の講演" in page
    assert "岩手 太郎" in page
    assert "data-countdown" in page


def test_a_forged_link_gets_a_clear_page_not_a_crash(client, event):
    registration = register(event)
    token = joinlinks.make_token(registration)
    client.cookies["django_language"] = "en"
    for forged in [token[:-1] + ("A" if token[-1] != "A" else "B"), "garbage", "1.abc:def", f"{registration.pk}"]:
        response = client.get(f"/join/{forged}/")
        assert response.status_code == 404
        assert b'data-reason="forged"' in response.content
        assert b"This join link is not valid" in response.content
    assert client.get(f"/events/{event.slug}/lobby/").status_code == 403


def test_a_link_signed_for_another_registration_id_is_forged(client, event):
    mine = register(event)
    from django.core import signing

    tampered = signing.Signer(salt="wrong-salt").sign(f"{mine.pk}.{mine.join_nonce}")
    assert client.get(f"/join/{tampered}/").status_code == 404


def test_a_revoked_link_is_refused_and_ends_the_session_it_opened(client, event):
    registration = register(event)
    path = join_path(registration)
    client.get(path)
    assert client.get(f"/events/{event.slug}/lobby/").status_code == 200
    revoke_join_link(registration)
    response = client.get(path)
    assert response.status_code == 410
    assert client.get(f"/events/{event.slug}/lobby/").status_code == 403


def test_a_link_expires_two_weeks_after_the_last_talk(client):
    event = make_event()
    make_talk(event, starts_in=-timedelta(days=20))
    registration = register(event)
    response = client.get(join_path(registration))
    assert response.status_code == 410
    assert b'data-reason="expired"' in response.content


def test_a_link_still_works_a_day_after_the_talk(client):
    event = make_event()
    make_talk(event, starts_in=-timedelta(days=1))
    registration = register(event)
    assert client.get(join_path(registration)).status_code == 302


def test_a_pending_registration_is_told_it_is_under_review(client):
    event = make_event(approval_mode=Event.ApprovalMode.MANUAL)
    make_talk(event)
    registration = register(event)
    response = client.get(join_path(registration))
    assert response.status_code == 403
    assert b'data-reason="pending"' in response.content
    approve_registrations([registration])
    assert client.get(join_path(registration)).status_code == 302


def test_a_rejected_or_cancelled_registration_cannot_join(client, event):
    rejected = register(event)
    reject_registrations([rejected])
    assert client.get(join_path(rejected)).status_code == 403
    cancelled = register(event)
    path = join_path(cancelled)
    cancel_registration(cancelled)
    assert client.get(path).status_code in (403, 410)


def test_the_link_does_not_open_other_events(client, event):
    other = make_event(title="別の講演会")
    make_talk(other)
    registration = register(event)
    client.get(join_path(registration))
    assert client.get(f"/events/{event.slug}/lobby/").status_code == 200
    assert client.get(f"/events/{other.slug}/lobby/").status_code == 403


def test_two_links_in_one_browser_open_both_events(client, event):
    other = make_event()
    make_talk(other)
    client.get(join_path(register(event, email="same@example.jp")))
    client.get(join_path(register(other, email="same@example.jp")))
    assert client.get(f"/events/{event.slug}/lobby/").status_code == 200
    assert client.get(f"/events/{other.slug}/lobby/").status_code == 200


def test_the_link_admits_with_a_cookie_of_its_own_that_scripts_and_caches_cannot_keep(client, event):
    registration = register(event)
    response = client.get(join_path(registration))
    cookie = response.cookies[f"renkei_join_{event.pk}"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    # It lasts as long as the link itself stays valid: until two weeks after the last talk ends.
    valid_for = (event.talks.latest("ends_at").ends_at + timedelta(days=14) - timezone.now()).total_seconds()
    assert valid_for - 60 < int(cookie["max-age"]) <= valid_for
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert settings.SESSION_COOKIE_NAME not in response.cookies  # no server-side session is written for a join


def test_a_cookie_that_was_not_signed_by_us_admits_nobody(client, event):
    registration = register(event)
    token = joinlinks.make_token(registration)
    client.cookies[f"renkei_join_{event.pk}"] = token[:-2] + "xx"
    assert client.get(f"/events/{event.slug}/lobby/").status_code == 403
    other = make_event()
    make_talk(other)
    # A valid admission to one event, presented under another event's name, opens neither.
    client.cookies[f"renkei_join_{other.pk}"] = token
    assert client.get(f"/events/{other.slug}/lobby/").status_code == 403


def test_the_physician_can_cancel_from_the_lobby_and_the_link_stops_working(client, event, mailoutbox):
    registration = register(event)
    path = join_path(registration)
    client.get(path)
    response = client.post(f"/events/{event.slug}/cancel/")
    assert response.status_code == 200
    registration.refresh_from_db()
    assert registration.status == "cancelled"
    assert client.get(f"/events/{event.slug}/lobby/").status_code == 403
    assert client.get(path).status_code in (403, 410)


def test_cancelling_without_a_session_is_refused(client, event):
    register(event)
    assert client.post(f"/events/{event.slug}/cancel/").status_code == 404


def test_a_cancelled_seat_goes_to_the_first_on_the_wait_list(mailoutbox, django_capture_on_commit_callbacks):
    event = make_event(capacity=1)
    make_talk(event)
    first = register(event)
    waiting = register_physician(event, details(), join_waitlist=True, notify=False)
    assert waiting.status == "waitlisted"
    with django_capture_on_commit_callbacks(execute=True):
        cancel_registration(first)
    waiting.refresh_from_db()
    assert waiting.status == "approved"
    assert len(mailoutbox) == 1 and "/join/" in mailoutbox[0].body


def test_the_expiry_moment_is_two_weeks_after_the_end(event):
    registration = register(event)
    end = event.talks.get().ends_at
    assert joinlinks.resolve_token(joinlinks.make_token(registration), now=end + timedelta(days=13))
    with pytest.raises(joinlinks.JoinLinkError):
        joinlinks.resolve_token(joinlinks.make_token(registration), now=end + timedelta(days=15))
    assert timezone.now() < end


def test_in_production_the_admission_cookie_travels_over_https_only(client, event, settings):
    settings.SESSION_COOKIE_SECURE = True  # what HTTPS_ONLY sets (server.settings)
    response = client.get(join_path(register(event)))
    assert response.cookies[f"renkei_join_{event.pk}"]["secure"]


def test_the_registrations_join_cookies_name_are_read_from_the_cookies_and_nothing_else(event):
    registration = register(event)
    other = register(make_event())
    cookies = {joinlinks.cookie_name(event.pk): joinlinks.make_token(registration),
               joinlinks.cookie_name(other.event_id): joinlinks.make_token(other),
               joinlinks.cookie_name(999): "not-a-token", "sessionid": "12.x:abc", "csrftoken": "34"}
    assert joinlinks.named_registrations(cookies) == [registration.pk, other.pk]


def test_a_registration_read_in_advance_is_checked_like_one_the_link_reads_itself(event):
    registration = register(event)
    cookies = {joinlinks.cookie_name(event.pk): joinlinks.make_token(registration)}
    assert joinlinks.admitted_registration(cookies, event, loaded={registration.pk: read(registration)}) == registration
    revoke_join_link(registration)
    assert joinlinks.admitted_registration(cookies, event, loaded={registration.pk: read(registration)}) is None
    assert joinlinks.admitted_registration(cookies, event, loaded={registration.pk: None}) is None  # not of this event


def read(registration):
    """The registration as an admission reads it ahead of the check (rooms.sql.talk_for_admission does the same)."""
    from events.sql import registration_for_admission

    return registration_for_admission(registration.pk)


def _reason(check, token):
    try:
        check(token)
    except joinlinks.JoinLinkError as exc:
        return exc.reason
    return None


@pytest.mark.parametrize("status", ["approved", "pending", "waitlisted", "rejected", "cancelled", "revoked", "expired",
                                    "forged", "deleted"])
def test_opening_a_link_without_the_models_applies_the_same_rule_as_the_view(event, status):
    # events.join_asgi opens links with link_state, the view and every page with resolve_token.
    if status == "expired":
        event = make_event()
        make_talk(event, starts_in=-timedelta(days=20))
    registration = register(event)
    token = joinlinks.make_token(registration)
    if status == "revoked":
        revoke_join_link(registration)
    elif status == "forged":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    elif status == "deleted":
        registration.delete()
    elif status != "expired":
        Registration.objects.filter(pk=registration.pk).update(status=status)
    expected = {"approved": None, "deleted": "revoked"}.get(status, status)
    assert _reason(joinlinks.resolve_token, token) == expected
    assert _reason(joinlinks.link_state, token) == expected
