"""The hand-written join-path lookups give what the ORM gives."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.utils import timezone

from events import joinlinks, sql
from events.models import Registration, Talk
from tests.factories import make_event, make_talk, register

pytestmark = pytest.mark.django_db


def test_a_loaded_registration_matches_the_orm_and_loads_unselected_fields_on_access(django_assert_num_queries):
    event = make_event()
    talk = make_talk(event, starts_in=timedelta(hours=1))
    registration = register(event)
    registration.status = Registration.Status.APPROVED
    registration.save()
    with django_assert_num_queries(1):
        loaded = joinlinks.resolve_token(joinlinks.make_token(registration))
        assert loaded.physician.prefecture.name_ja == "岩手県"
        assert loaded.physician.full_name == "岩手 太郎"
        assert loaded.event.slug == event.slug
        assert loaded.event_ends_at == talk.ends_at
        assert timezone.is_aware(loaded.event_ends_at)
    orm = Registration.objects.get(pk=registration.pk)
    with django_assert_num_queries(1):  # a deferred column, like .only()
        assert loaded.privacy_consent_at == orm.privacy_consent_at
    with django_assert_num_queries(1):
        assert loaded.event.title == event.title


def test_a_computed_timestamp_converts_like_the_field_it_comes_from():
    event = make_event()
    talk = make_talk(event)
    rows = sql.fetch(f"SELECT MAX(ends_at) FROM {Talk._meta.db_table} WHERE event_id = %s", [event.pk])
    assert sql.convert(rows[0][0], Talk._meta.get_field("ends_at")) == talk.ends_at


def test_columns_refuse_a_field_the_model_does_not_have():
    with pytest.raises(ValueError, match="no_such"):
        sql.columns(Talk, "t", {"id", "no_such"})


def _store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def test_a_new_session_is_saved_with_one_insert_and_no_key_lookup():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    store = _store()()
    store["x"] = 1
    with CaptureQueriesContext(connection) as ctx:
        store.create()
    statements = [q["sql"].split()[0].upper() for q in ctx.captured_queries]
    assert statements.count("INSERT") == 1
    assert "SELECT" not in statements
    assert _store()(store.session_key)["x"] == 1


def test_an_expired_or_unknown_session_reads_as_empty():
    store = _store()()
    store["x"] = 1
    store.create()
    Session.objects.filter(pk=store.session_key).update(expire_date=timezone.now() - timedelta(seconds=1))
    expired = _store()(store.session_key)
    assert expired.get("x") is None
    assert expired.session_key is None
    assert _store()("nosuchkey0123456789").get("x") is None


@pytest.mark.django_db(transaction=True)
def test_a_session_opened_outside_a_transaction_never_takes_a_key_already_in_use(monkeypatch):
    from events import sessions

    first = _store()()
    first["who"] = "first"
    first.create()
    drawn = iter([first.session_key, "k" * 32])
    monkeypatch.setattr(sessions, "new_key", lambda: next(drawn))
    second = _store()()
    second["who"] = "second"
    second.create()
    assert second.session_key == "k" * 32
    assert _store()(first.session_key)["who"] == "first"
    assert _store()(second.session_key)["who"] == "second"


def test_session_keys_are_32_lowercase_letters_and_digits_and_differ():
    from events.sessions import new_key

    keys = {new_key() for _ in range(200)}
    assert len(keys) == 200
    assert all(len(k) == 32 and k.isalnum() and k == k.lower() for k in keys)


def test_a_join_links_state_is_what_the_orm_reads_in_one_statement(django_assert_num_queries):
    event = make_event()
    talk = make_talk(event, starts_in=timedelta(hours=1))
    registration = register(event)
    with django_assert_num_queries(1):
        state = sql.join_link_state(registration.pk)
    assert state == {
        "event_id": event.pk, "join_nonce": registration.join_nonce, "join_revoked_at": None,
        "status": registration.status, "event_slug": event.slug, "event_ends_at": talk.ends_at,
    }
    assert timezone.is_aware(state["event_ends_at"])
    assert sql.join_link_state(registration.pk + 1000) is None
