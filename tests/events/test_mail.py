"""Confirmation, review and wait-list mails: content, personal link, .ics, and sent once."""

from __future__ import annotations

import re

import pytest
from django.core import mail as django_mail
from icalendar import Calendar

from events import mail
from events.joinlinks import resolve_token
from events.models import Event, MailLog
from events.tasks import send_registration_mail
from tests.factories import make_event, make_talk, register

pytestmark = pytest.mark.django_db

LINK_RE = re.compile(r"http://[^\s]+/join/([^\s/]+)/")


@pytest.fixture
def event() -> Event:
    event = make_event(title="東北 がんゲノム Web講演会")
    make_talk(event, title="パネル検査の読み方")
    make_talk(event, title="病診連携で支える個別化医療")
    return event


def test_the_confirmation_carries_a_working_personal_join_link(event, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        registration = register(event, notify=True, email="Iwate.Taro@Clinic.example.jp")
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["iwate.taro@clinic.example.jp"]
    assert "東北 がんゲノム Web講演会" in message.subject
    assert "岩手 太郎" in message.body
    token = LINK_RE.search(message.body).group(1)
    assert resolve_token(token).pk == registration.pk


def test_the_confirmation_is_in_japanese_by_default_and_english_when_registered_in_english(event):
    ja = register(event)
    en = register(event)
    en.language = "en"
    en.save()
    assert "先生" in mail.build_message(ja, "confirmation").body
    english = mail.build_message(en, "confirmation")
    assert "Dear Dr." in english.body
    assert "Registration confirmed" in english.subject


def test_the_confirmation_lists_every_talk_in_japan_time(event):
    registration = register(event)
    body = mail.build_message(registration, "confirmation").body
    for talk in event.talks.all():
        assert talk.title in body
        jst = talk.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
        assert jst.strftime("%H:%M") in body


def test_the_ics_file_has_one_event_per_talk_with_the_join_link(event):
    registration = register(event)
    message = mail.build_message(registration, "confirmation")
    name, content, mimetype = message.attachments[0]
    assert name.endswith(".ics") and mimetype == "text/calendar"
    calendar = Calendar.from_ical(content)
    items = list(calendar.walk("VEVENT"))
    assert len(items) == 2
    talks = list(event.talks.order_by("starts_at"))
    for item, talk in zip(sorted(items, key=lambda c: c.decoded("dtstart")), talks, strict=True):
        # iCalendar has whole seconds.
        assert item.decoded("dtstart") == talk.starts_at.replace(microsecond=0)
        assert item.decoded("dtend") == talk.ends_at.replace(microsecond=0)
        assert talk.title in str(item.get("summary"))
        assert "/join/" in str(item.get("url"))
        assert str(item.get("uid")).startswith(f"talk-{talk.pk}@")


def test_a_pending_registration_gets_a_received_mail_without_a_link(mailoutbox, django_capture_on_commit_callbacks):
    event = make_event(approval_mode=Event.ApprovalMode.MANUAL)
    make_talk(event)
    with django_capture_on_commit_callbacks(execute=True):
        register(event, notify=True)
    assert len(mailoutbox) == 1
    assert "/join/" not in mailoutbox[0].body
    assert not mailoutbox[0].attachments


def test_a_retried_confirmation_task_never_mails_twice(event, mailoutbox):
    registration = register(event)
    assert send_registration_mail(registration.pk, "confirmation") is True
    assert send_registration_mail(registration.pk, "confirmation") is False
    assert send_registration_mail.apply(args=[registration.pk, "confirmation"]).get() is False
    assert len(mailoutbox) == 1
    assert MailLog.objects.filter(registration=registration, sent_at__isnull=False).count() == 1


def test_the_already_registered_mail_goes_once_per_attempt_however_often_its_task_is_retried(
    event, mailoutbox, django_capture_on_commit_callbacks
):
    from events.services import mail_existing_registrant

    registration = register(event)
    with django_capture_on_commit_callbacks(execute=True):
        mail_existing_registrant(registration)
    key = MailLog.objects.get(registration=registration).key
    attempt = key.rsplit(":", 1)[1]
    assert send_registration_mail(registration.pk, "already_registered", attempt=attempt) is False  # a retry
    assert len(mailoutbox) == 1
    assert resolve_token(LINK_RE.search(mailoutbox[0].body).group(1)).pk == registration.pk
    # A later attempt to register again is a new mail.
    with django_capture_on_commit_callbacks(execute=True):
        mail_existing_registrant(registration)
    assert len(mailoutbox) == 2


def test_a_failed_send_leaves_no_claim_so_the_retry_sends_it(event, mailoutbox, monkeypatch):
    registration = register(event)

    def broken(self, fail_silently=False):
        raise ConnectionError("SMTP down")

    monkeypatch.setattr(django_mail.EmailMultiAlternatives, "send", broken)
    with pytest.raises(ConnectionError):
        mail.deliver_once(registration, "confirmation")
    assert not MailLog.objects.filter(registration=registration).exists()
    monkeypatch.undo()
    assert mail.deliver_once(registration, "confirmation") is True
    assert len(mailoutbox) == 1


def test_a_reissued_link_is_mailed_again_and_the_old_one_stops_working(event, mailoutbox, django_capture_on_commit_callbacks):
    from events.joinlinks import JoinLinkError
    from events.services import reissue_join_link

    with django_capture_on_commit_callbacks(execute=True):
        registration = register(event, notify=True)
    old_token = LINK_RE.search(mailoutbox[0].body).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        reissue_join_link(registration)
    assert len(mailoutbox) == 2
    new_token = LINK_RE.search(mailoutbox[1].body).group(1)
    assert new_token != old_token
    assert resolve_token(new_token).pk == registration.pk
    with pytest.raises(JoinLinkError) as excinfo:
        resolve_token(old_token)
    assert excinfo.value.reason == "revoked"


def test_user_text_in_a_mail_is_not_interpreted(event):
    registration = register(event, full_name="{{ 7*7 }} <b>x</b>")
    body = mail.build_message(registration, "confirmation").body
    # Neither run as a template nor turned into HTML entities: plain text shows it as typed.
    assert body.splitlines()[0] == "{{ 7*7 }} <b>x</b> 先生"
