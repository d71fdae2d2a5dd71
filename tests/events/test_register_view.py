"""The registration page /events/<slug>/register/, as a physician's browser uses it."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from events.joinlinks import join_url, resolve_token
from events.models import Event, MailLog, Physician, Registration
from tests.factories import form_data, make_event, make_talk, register
from tests.forms import field_block, field_errors

pytestmark = pytest.mark.django_db

REQUIRED_JA = "このフィールドは必須です。"
LINK_RE = re.compile(r"http://[^\s]+/join/([^\s/]+)/")


@pytest.fixture
def event() -> Event:
    event = make_event(title="青森 がんゲノム Web講演会")
    make_talk(event, title="遺伝子パネル検査の実際")
    return event


@pytest.fixture
def english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def url(event: Event) -> str:
    return f"/events/{event.slug}/register/"


def html(response) -> str:
    return response.content.decode()


def hidden_waitlist_value(page: str) -> str:
    found = re.search(r'<input type="hidden" name="join_waitlist" value="([^"]*)"', page)
    assert found, "the form has no join_waitlist field"
    return found.group(1)


def prefecture_options(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<option value="(\d\d)"[^>]*>([^<]*)</option>', page)


def post(client: Client, event: Event, capture, **overrides):
    with capture(execute=True):
        return client.post(url(event), form_data(**overrides))


# --- The page and its language ---------------------------------------------------------


def test_the_form_is_in_japanese_by_default(client, event):
    response = client.get(url(event))
    assert response.status_code == 200
    page = html(response)
    assert '<html lang="ja">' in page
    assert "青森 がんゲノム Web講演会" in page
    for name in ["full_name", "name_kana", "email", "specialty", "facility_name", "facility_type", "prefecture"]:
        assert f'name="{name}"' in page
    options = prefecture_options(page)
    assert [code for code, _name in options] == [f"{n:02d}" for n in range(1, 48)]
    assert ("02", "青森県") in options
    assert ("13", "東京都") in options
    assert 'label="東北"' in page


def test_a_browser_set_up_in_english_still_gets_japanese_until_the_visitor_chooses(client, event):
    page = html(client.get(url(event), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9"))
    assert '<html lang="ja">' in page
    assert ("02", "青森県") in prefecture_options(page)


def test_choosing_english_in_the_header_switches_the_form_to_english(client, event):
    response = client.post("/i18n/setlang/", {"language": "en", "next": url(event)})
    assert response.status_code == 302
    assert response.url == url(event)
    assert client.cookies["django_language"].value == "en"
    page = html(client.get(url(event)))
    assert '<html lang="en">' in page
    assert "Full name" in page
    assert "Prefecture of your facility" in page
    options = prefecture_options(page)
    assert len(options) == 47
    assert ("02", "Aomori") in options
    assert 'label="Tohoku"' in page
    assert "青森県" not in page


def test_switching_back_to_japanese_works(client, event):
    client.post("/i18n/setlang/", {"language": "en", "next": url(event)})
    client.post("/i18n/setlang/", {"language": "ja", "next": url(event)})
    assert '<html lang="ja">' in html(client.get(url(event)))


# --- A successful registration ---------------------------------------------------------


def test_a_valid_registration_is_approved_and_mailed_its_join_link(
    client, event, mailoutbox, django_capture_on_commit_callbacks
):
    response = post(client, event, django_capture_on_commit_callbacks, email="hanako@hospital.example.jp")
    assert response.status_code == 302
    assert response.url == f"/events/{event.slug}/registered/"

    confirmation = client.get(response.url)
    assert confirmation.status_code == 200
    assert "メールをご確認ください" in html(confirmation)
    assert "hanako@hospital.example.jp" in html(confirmation)

    registration = Registration.objects.get()
    assert registration.event == event
    assert registration.status == Registration.Status.APPROVED
    assert registration.language == "ja"
    assert registration.attested_healthcare_professional
    assert registration.privacy_consent_at is not None
    physician = registration.physician
    assert (physician.full_name, physician.name_kana, physician.prefecture.code) == ("青森 花子", "あおもり はなこ", "02")

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["hanako@hospital.example.jp"]
    assert "青森 がんゲノム Web講演会" in message.subject
    assert join_url(registration) in message.body
    assert resolve_token(LINK_RE.search(message.body).group(1)).pk == registration.pk


def test_an_english_visitor_gets_an_english_confirmation_page_and_mail(
    english, event, mailoutbox, django_capture_on_commit_callbacks
):
    response = post(english, event, django_capture_on_commit_callbacks, email="Hanako@Hospital.example.jp")
    page = html(english.get(response.url))
    assert "Check your e-mail" in page
    assert "If hanako@hospital.example.jp can register for “青森 がんゲノム Web講演会”, a mail is on its way to it." in page
    assert "It carries your personal join link" in page
    assert Registration.objects.get().language == "en"
    assert len(mailoutbox) == 1
    assert "Registration confirmed" in mailoutbox[0].subject
    assert "Dear Dr." in mailoutbox[0].body


def test_the_form_works_with_csrf_protection_as_a_browser_posts_it(event, mailoutbox, django_capture_on_commit_callbacks):
    browser = Client(enforce_csrf_checks=True)
    page = html(browser.get(url(event)))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert browser.post(url(event), form_data()).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(url(event), {**form_data(), "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Registration.objects.count() == 1
    assert len(mailoutbox) == 1


def test_the_confirmation_page_is_not_shown_to_someone_who_did_not_register(client, event):
    response = client.get(f"/events/{event.slug}/registered/")
    assert response.status_code == 302
    assert response.url == f"/events/{event.slug}/"


# --- Invalid input -----------------------------------------------------------------------


def test_an_invalid_form_is_shown_again_with_errors_next_to_the_fields_and_nothing_saved(
    client, event, mailoutbox, django_capture_on_commit_callbacks
):
    response = post(
        client, event, django_capture_on_commit_callbacks, email="", name_kana="aomori hanako", privacy_consent=None
    )
    assert response.status_code == 400
    page = html(response)
    assert 'class="errors-summary"' in page
    assert field_errors(page, "email") == [REQUIRED_JA]
    assert field_errors(page, "name_kana")  # custom message; its wording is checked in English below
    assert field_errors(page, "privacy_consent")
    for fine in ["full_name", "specialty", "facility_name", "facility_type", "prefecture", "attest_healthcare_professional"]:
        assert field_errors(page, fine) == [], fine
    assert 'aria-invalid="true"' in field_block(page, "email")
    assert Registration.objects.count() == 0
    assert Physician.objects.count() == 0
    assert mailoutbox == []


def test_an_invalid_form_keeps_what_the_physician_typed(client, event, django_capture_on_commit_callbacks):
    page = html(post(client, event, django_capture_on_commit_callbacks, email="not-an-email", prefecture="27"))
    assert 'value="青森 花子"' in field_block(page, "full_name")
    assert 'value="not-an-email"' in field_block(page, "email")
    assert re.search(r'<option value="27"\s+selected>', page)
    assert re.search(r'value="hospital"[^>]*checked', field_block(page, "facility_type"))


def test_the_field_errors_are_in_english_for_an_english_visitor(english, event, django_capture_on_commit_callbacks):
    response = post(
        english,
        event,
        django_capture_on_commit_callbacks,
        email="",
        name_kana="aomori hanako",
        prefecture="Atlantis",
        attest_healthcare_professional=None,
    )
    assert response.status_code == 400
    page = html(response)
    assert field_errors(page, "email") == ["This field is required."]
    assert field_errors(page, "name_kana") == ["Enter your name in hiragana or katakana."]
    assert field_errors(page, "prefecture") == [
        "“Atlantis” is not a Japanese prefecture. Enter a name such as 青森県 or Aomori, or a code from 01 to 47."
    ]
    assert field_errors(page, "attest_healthcare_professional") == [
        "Renkei is for healthcare professionals only: please confirm that you are one."
    ]
    assert "Please correct the fields marked below." in page


def test_a_rejected_prefecture_is_echoed_escaped(english, event, django_capture_on_commit_callbacks):
    response = post(english, event, django_capture_on_commit_callbacks, prefecture="<script>alert(1)</script>")
    assert response.status_code == 400
    page = html(response)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in " ".join(field_errors(page, "prefecture"))
    assert Registration.objects.count() == 0


# --- Registering twice -------------------------------------------------------------------


@pytest.mark.parametrize("second", ["hanako@hospital.example.jp", "Hanako@Hospital.Example.JP"])
def test_registering_twice_answers_as_the_first_time_mails_the_link_and_duplicates_nothing(
    english, event, second, mailoutbox, django_capture_on_commit_callbacks
):
    first = post(english, event, django_capture_on_commit_callbacks, email="hanako@hospital.example.jp")
    assert first.status_code == 302
    again = post(english, event, django_capture_on_commit_callbacks, email=second, full_name="青森 花子（再）")
    assert again.status_code == 302
    assert again.url == first.url
    assert "Check your e-mail" in html(english.get(again.url))
    assert Registration.objects.count() == 1
    assert Physician.objects.count() == 1
    assert Physician.objects.get().full_name == "青森 花子"
    registration = Registration.objects.get()
    assert [m.to for m in mailoutbox] == [["hanako@hospital.example.jp"]] * 2
    reminder = mailoutbox[1]
    assert "You are already registered" in reminder.subject
    assert join_url(registration) in reminder.body
    # The link in the mail works: it signs the physician in to the lobby.
    assert english.get(f"/join/{LINK_RE.search(reminder.body).group(1)}/").url == f"/events/{event.slug}/lobby/"


def _as_the_visitor_sees_it(response, client: Client, email: str) -> tuple[int, str, str]:
    """Status, redirect and page (the page redirected to, if any), with the address typed and CSRF tokens blanked."""
    location = response.get("Location", "")
    page = html(client.get(location)) if location else html(response)
    page = re.sub(r'(name="csrfmiddlewaretoken" value=")[^"]+', r"\1", page).replace(email, "ADDRESS")
    return response.status_code, location, page


@pytest.mark.parametrize("shape", ["automatic", "manual", "full", "full, joining the wait-list"])
def test_a_new_and_a_registered_address_get_exactly_the_same_answer(shape, mailoutbox, django_capture_on_commit_callbacks):
    manual = Event.ApprovalMode.MANUAL if shape == "manual" else Event.ApprovalMode.AUTOMATIC
    event = make_event(approval_mode=manual, capacity=1 if shape.startswith("full") else 100)
    make_talk(event)
    registered = register(event, email="known@hospital.example.jp")
    if shape == "manual":
        Registration.objects.filter(pk=registered.pk).update(status=Registration.Status.PENDING)
    waitlist = "on" if shape == "full, joining the wait-list" else ""
    seen = []
    for email in ["unknown@hospital.example.jp", "known@hospital.example.jp"]:
        visitor = Client()
        response = post(visitor, event, django_capture_on_commit_callbacks, email=email, join_waitlist=waitlist)
        seen.append(_as_the_visitor_sees_it(response, visitor, email))
    assert seen[0] == seen[1]
    expected_status = 200 if shape == "full" else 302
    assert seen[0][0] == expected_status
    # Only the owner of the registered address hears about it, by mail.
    known = [m for m in mailoutbox if m.to == ["known@hospital.example.jp"]]
    assert len(known) == (0 if shape == "full" else 1)


@pytest.mark.parametrize(
    ("status", "phrase"),
    [
        ("pending", "The organizers are reviewing your registration"),
        ("waitlisted", "You are on the wait-list"),
        ("rejected", "was not accepted"),
        ("approved", "Your personal join link:"),
    ],
)
def test_registering_twice_mails_the_registrant_where_the_first_registration_stands(
    client, status, phrase, mailoutbox, django_capture_on_commit_callbacks
):
    event = make_event()
    make_talk(event)
    data = form_data(email="twice@example.jp")
    client.cookies["django_language"] = "en"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/events/{event.slug}/register/", data)
    Registration.objects.filter(event=event).update(status=status)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/events/{event.slug}/register/", data)
    assert response.status_code == 302
    assert Registration.objects.filter(event=event).count() == 1
    mail = mailoutbox[-1]
    assert mail.to == ["twice@example.jp"]
    assert "You are already registered" in mail.subject
    assert phrase in mail.body
    assert ("/join/" in mail.body) == (status == "approved")


def test_the_same_physician_can_register_for_another_event(client, event, django_capture_on_commit_callbacks):
    other = make_event(title="秋田 Web講演会")
    post(client, event, django_capture_on_commit_callbacks, email="hanako@hospital.example.jp")
    response = post(client, other, django_capture_on_commit_callbacks, email="hanako@hospital.example.jp")
    assert response.status_code == 302
    assert Physician.objects.count() == 1
    assert Registration.objects.count() == 2


# --- Manual approval ---------------------------------------------------------------------


def test_a_registration_for_a_reviewed_event_is_pending_and_its_mail_has_no_join_link(
    english, mailoutbox, django_capture_on_commit_callbacks
):
    event = make_event(approval_mode=Event.ApprovalMode.MANUAL, title="審査制 Web講演会")
    make_talk(event)
    response = post(english, event, django_capture_on_commit_callbacks, email="hanako@hospital.example.jp")
    assert response.status_code == 302
    registration = Registration.objects.get()
    assert registration.status == Registration.Status.PENDING
    page = html(english.get(response.url))
    assert "The organizers review each registration for this event" in page
    assert "hanako@hospital.example.jp" in page
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert "Registration received" in message.subject
    assert "We have received your registration" in message.body
    assert "/join/" not in message.body
    assert MailLog.objects.filter(key=f"received:{registration.pk}").exists()


# --- Capacity and the wait-list ----------------------------------------------------------


def test_a_full_event_offers_the_wait_list(english):
    event = make_event(capacity=2)
    register(event)
    register(event)
    page = html(english.get(url(event)))
    assert "This event is full. You can join the wait-list" in page
    assert "Join the wait-list</button>" in page
    assert hidden_waitlist_value(page) == "True"
    assert 'name="full_name"' in page


def test_an_event_with_seats_left_does_not_mention_the_wait_list(english):
    event = make_event(capacity=2)
    register(event)
    page = html(english.get(url(event)))
    assert "wait-list" not in page
    assert hidden_waitlist_value(page) == "False"


def test_registering_for_a_full_event_puts_the_physician_on_the_wait_list(
    english, mailoutbox, django_capture_on_commit_callbacks
):
    event = make_event(capacity=2)
    register(event)
    register(event)
    waitlist = hidden_waitlist_value(html(english.get(url(event))))
    response = post(english, event, django_capture_on_commit_callbacks, email="late@hospital.example.jp", join_waitlist=waitlist)
    assert response.status_code == 302
    mine = Registration.objects.get(physician__email="late@hospital.example.jp")
    assert mine.status == Registration.Status.WAITLISTED
    assert event.seats_taken() == 2
    assert "Check your e-mail" in html(english.get(response.url))
    assert len(mailoutbox) == 1
    assert "wait-list" in mailoutbox[0].subject
    assert "/join/" not in mailoutbox[0].body
    assert mailoutbox[0].to == ["late@hospital.example.jp"]


def test_an_event_that_filled_up_while_the_form_was_open_offers_the_wait_list_and_saves_nothing(
    english, mailoutbox, django_capture_on_commit_callbacks
):
    event = make_event(capacity=2)
    register(event)
    waitlist = hidden_waitlist_value(html(english.get(url(event))))
    assert waitlist == "False"
    register(event)  # someone else takes the last seat meanwhile

    response = post(english, event, django_capture_on_commit_callbacks, email="late@hospital.example.jp", join_waitlist=waitlist)
    assert response.status_code == 200
    page = html(response)
    assert "This event is full. You can join the wait-list" in page
    assert "Join the wait-list</button>" in page
    assert hidden_waitlist_value(page) not in ("", "False")
    assert 'value="late@hospital.example.jp"' in page
    assert not Registration.objects.filter(physician__email="late@hospital.example.jp").exists()
    assert not Physician.objects.filter(email="late@hospital.example.jp").exists()
    assert mailoutbox == []

    # Sending the form as offered joins the wait-list.
    again = post(
        english,
        event,
        django_capture_on_commit_callbacks,
        email="late@hospital.example.jp",
        join_waitlist=hidden_waitlist_value(page),
    )
    assert again.status_code == 302
    assert Registration.objects.get(physician__email="late@hospital.example.jp").status == "waitlisted"


# --- The registration window -------------------------------------------------------------


def test_before_registration_opens_the_page_says_when_and_a_post_saves_nothing(
    english, mailoutbox, django_capture_on_commit_callbacks
):
    opens = timezone.now() + timedelta(days=3)
    event = make_event(registration_opens_at=opens)
    page = html(english.get(url(event)))
    when = opens.astimezone(ZoneInfo("Asia/Tokyo")).strftime("%Y/%m/%d %H:%M")
    assert f"Registration opens on {when}." in page
    assert 'name="full_name"' not in page
    response = post(english, event, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert "Registration opens on" in html(response)
    assert Registration.objects.count() == 0
    assert Physician.objects.count() == 0
    assert mailoutbox == []


def test_after_registration_closes_the_page_says_so_and_a_post_saves_nothing(
    english, mailoutbox, django_capture_on_commit_callbacks
):
    event = make_event(
        registration_opens_at=timezone.now() - timedelta(days=10),
        registration_closes_at=timezone.now() - timedelta(hours=1),
    )
    page = html(english.get(url(event)))
    assert "Registration is closed." in page
    assert 'name="full_name"' not in page
    response = post(english, event, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert "Registration is closed." in html(response)
    assert Registration.objects.count() == 0
    assert mailoutbox == []


def test_an_unpublished_event_cannot_be_found_or_registered_for(client, mailoutbox, django_capture_on_commit_callbacks):
    event = make_event(is_published=False)
    assert client.get(url(event)).status_code == 404
    assert post(client, event, django_capture_on_commit_callbacks).status_code == 404
    assert client.get(f"/events/{event.slug}/registered/").status_code == 404
    assert Registration.objects.count() == 0
    assert mailoutbox == []


def test_an_unknown_event_is_not_found(client):
    assert client.get("/events/no-such-event/register/").status_code == 404


def test_a_physician_who_cancelled_can_register_again_with_a_new_link(client, mailoutbox, django_capture_on_commit_callbacks):
    from events.joinlinks import make_token
    from events.services import cancel_registration

    event = make_event()
    make_talk(event)
    data = form_data(email="comeback@example.jp")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/events/{event.slug}/register/", data)
    registration = Registration.objects.get(event=event)
    old_token = make_token(registration)
    cancel_registration(registration)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/events/{event.slug}/register/", data)
    assert response.status_code == 302
    registration.refresh_from_db()
    assert registration.status == "approved"
    assert Registration.objects.filter(event=event).count() == 1
    assert len(mailoutbox) == 2
    assert client.get(f"/join/{old_token}/").status_code == 410
    assert client.get("/join/" + make_token(registration) + "/").status_code == 302


# --- Too many attempts -------------------------------------------------------------------


def test_the_eleventh_registration_in_a_minute_from_one_address_is_refused_in_japanese(
    client, event, mailoutbox, django_capture_on_commit_callbacks
):
    for n in range(10):
        response = post(client, event, django_capture_on_commit_callbacks, email=f"bot{n}@example.jp")
        assert response.status_code == 302, n
    response = post(client, event, django_capture_on_commit_callbacks, email="bot10@example.jp")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    page = html(response)
    assert "登録の送信が多すぎます" in page
    assert 'value="bot10@example.jp"' in field_block(page, "email")  # what was typed is kept
    assert not Physician.objects.filter(email="bot10@example.jp").exists()
    assert Registration.objects.count() == 10
    assert len(mailoutbox) == 10
    # Another address is not held up by this one.
    other = post(Client(REMOTE_ADDR="192.0.2.7"), event, django_capture_on_commit_callbacks, email="bot10@example.jp")
    assert other.status_code == 302


def test_the_limit_is_explained_in_english_to_an_english_visitor(english, event, django_capture_on_commit_callbacks):
    for n in range(10):
        post(english, event, django_capture_on_commit_callbacks, email=f"bot{n}@example.jp")
    page = html(post(english, event, django_capture_on_commit_callbacks, email="bot10@example.jp"))
    retry_at = (timezone.now() + timedelta(seconds=60)).astimezone(ZoneInfo("Asia/Tokyo"))
    assert "Too many registrations were sent from this connection or for this e-mail address." in page
    assert re.search(r"Please try again after (\d{4}/\d\d/\d\d \d\d:\d\d)\.", page).group(1) in {
        (retry_at - timedelta(minutes=1)).strftime("%Y/%m/%d %H:%M"), retry_at.strftime("%Y/%m/%d %H:%M")}


def test_one_email_address_is_limited_whatever_address_the_attempts_come_from(
    event, mailoutbox, django_capture_on_commit_callbacks
):
    target = "Target@Hospital.example.jp"
    for n in range(3):
        visitor = Client(REMOTE_ADDR=f"198.51.100.{n + 1}")
        assert post(visitor, event, django_capture_on_commit_callbacks, email=target).status_code == 302
    assert len(mailoutbox) == 3  # the confirmation, then two "you are already registered"
    # The form's normalisation applies: another spelling of the same address counts too.
    fourth = Client(REMOTE_ADDR="203.0.113.9")
    response = post(fourth, event, django_capture_on_commit_callbacks, email=" TARGET@hospital.EXAMPLE.JP")
    assert response.status_code == 429
    assert len(mailoutbox) == 3
    assert Registration.objects.count() == 1


def test_a_form_sent_back_with_errors_does_not_count_against_the_limit(client, event, django_capture_on_commit_callbacks):
    for _ in range(12):
        assert post(client, event, django_capture_on_commit_callbacks, name_kana="aomori").status_code == 400
    assert post(client, event, django_capture_on_commit_callbacks).status_code == 302


def test_behind_a_trusted_proxy_visitors_are_told_apart_by_the_address_the_proxy_saw(
    settings, event, django_capture_on_commit_callbacks
):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    for n in range(10):
        visitor = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"forged, 192.0.2.{n}")
        assert post(visitor, event, django_capture_on_commit_callbacks, email=f"d{n}@example.jp").status_code == 302
    same = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="192.0.2.200")
    for n in range(10):
        post(same, event, django_capture_on_commit_callbacks, email=f"e{n}@example.jp")
    # A forged left-hand entry does not make the same visitor someone else.
    spoofed = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.1, 192.0.2.200")
    assert post(spoofed, event, django_capture_on_commit_callbacks, email="f@example.jp").status_code == 429


@pytest.mark.services
def test_the_counts_are_kept_in_redis_under_this_deployments_prefix_only(
    client, event, redis_url, settings, django_capture_on_commit_callbacks
):
    import redis

    post(client, event, django_capture_on_commit_callbacks, email="counted@example.jp")
    store = redis.Redis.from_url(redis_url)
    keys = {key.decode() for key in store.scan_iter(match=settings.RATELIMIT_KEY_PREFIX + ":*")}
    assert any("register.address" in key for key in keys)
    assert any("register.email/counted@example.jp" in key for key in keys)
    assert not list(store.scan_iter(match="LIMITS:*"))  # the library's default prefix is never used
