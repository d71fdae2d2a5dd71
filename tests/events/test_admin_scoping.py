"""The admin's filters, choice lists and autocompletes show a staff member only what they may see.

Alice organizes one event, Bob another (unpublished) one; Sato speaks in a talk
of Alice's. Neither Alice nor Sato may learn the title of Bob's event, its talks
or its physicians from any page of the admin.
"""

from __future__ import annotations

import json
import re

import pytest

from events.models import Event
from tests.factories import make_event, make_talk, register, rival_events

pytestmark = pytest.mark.django_db

SECRETS = ["Bob の講演会", "他の講演", "他人 太郎"]


@pytest.fixture
def scene():
    scene = rival_events()
    Event.objects.filter(pk=scene["theirs"].pk).update(is_published=False)
    register(scene["mine"], full_name="自分 一郎")
    register(scene["theirs"], full_name="他人 太郎")
    return scene


def leaked(page: str) -> list[str]:
    return [secret for secret in SECRETS if secret in page]


def select_options(page: str, name: str) -> str:
    """The options of the form's <select name=...>, as HTML."""
    match = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert match, f"no {name} field"
    return match.group(1)


def admin_pages(scene) -> list[str]:
    talk = scene["talk"].pk
    return [
        "/admin/events/registration/", "/admin/events/talk/", "/admin/events/event/", "/admin/events/physician/",
        "/admin/events/talk/add/", f"/admin/events/talk/{talk}/change/", "/admin/events/event/add/",
        f"/admin/events/event/{scene['mine'].pk}/change/", "/admin/rooms/stage/add/", "/admin/rooms/reception/add/",
        "/admin/rooms/stage/", "/admin/rooms/reception/", "/admin/rooms/moderationlog/",
        # The raw-id and "add another" popups are the same changelists.
        "/admin/events/event/?_to_field=id&_popup=1", "/admin/events/talk/?_to_field=id&_popup=1",
    ]


def test_an_organizer_finds_another_events_title_on_no_admin_page(client, scene):
    client.force_login(scene["alice"])
    for path in admin_pages(scene):
        response = client.get(path)
        assert response.status_code in (200, 403), path
        page = response.content.decode()
        assert not leaked(page), f"{path} shows {leaked(page)}"
    # Alice's own event is still there to pick and filter by.
    assert "Alice の講演会" in client.get("/admin/events/talk/add/").content.decode()


def test_a_speaker_finds_no_other_event_or_talk_on_any_admin_page(client, scene):
    client.force_login(scene["speaker"])
    talks = client.get("/admin/events/talk/").content.decode()
    assert "演者の講演" in talks
    for path in admin_pages(scene):
        page = client.get(path).content.decode()
        assert not leaked(page), f"{path} shows {leaked(page)}"


def test_the_event_filter_offers_only_the_organizers_own_events(client, scene):
    second = make_event(slug="alice-2", title="Alice の第二回", organization=scene["mine"].organization)
    second.organizers.add(scene["alice"])
    make_talk(second, title="第二回の講演")
    register(second, full_name="自分 二郎")
    client.force_login(scene["alice"])
    for path in ["/admin/events/registration/", "/admin/events/talk/"]:
        page = client.get(path).content.decode()
        # Two events of her own: the filter is shown, with both and nothing else.
        assert "event__id__exact=%d" % second.pk in page and "event__id__exact=%d" % scene["mine"].pk in page, path
        assert "event__id__exact=%d" % scene["theirs"].pk not in page, path


def test_filtering_by_another_events_id_shows_nothing_of_it(client, scene):
    client.force_login(scene["alice"])
    for path in ["/admin/events/registration/", "/admin/events/talk/"]:
        page = client.get(f"{path}?event__id__exact={scene['theirs'].pk}").content.decode()
        assert not leaked(page), path


@pytest.mark.parametrize("model,field", [("registration", "physician"), ("registration", "event"),
                                         ("talk", "event"), ("stage", "talk"), ("reception", "talk")])
def test_an_autocomplete_answers_nothing_of_another_event(client, scene, model, field):
    app = "rooms" if model in ("stage", "reception") else "events"
    for user in ("alice", "speaker"):
        client.force_login(scene[user])
        for term in ["", "他", "Bob"]:
            response = client.get("/admin/autocomplete/", {"app_label": app, "model_name": model,
                                                           "field_name": field, "term": term})
            assert response.status_code in (200, 403)
            if response.status_code == 200:
                answer = json.dumps(response.json(), ensure_ascii=False)
                assert not leaked(answer), (user, model, field, term, answer)


def test_the_physician_autocomplete_finds_an_organizers_own_physicians(client, scene):
    client.force_login(scene["alice"])
    response = client.get("/admin/autocomplete/", {"app_label": "events", "model_name": "registration",
                                                   "field_name": "physician", "term": "一郎"})
    assert response.status_code == 200
    assert [r["text"].split(" <")[0] for r in response.json()["results"]] == ["自分 一郎"]


def test_the_people_offered_as_organizers_and_speakers_are_staff_of_those_roles(client, scene):
    from django.contrib.auth.models import User

    User.objects.create_user("outsider", password="x", is_staff=False)
    client.force_login(scene["alice"])
    page = client.get("/admin/events/event/add/").content.decode()
    organizers = select_options(page, "organizers")
    assert ">alice<" in organizers and ">bob<" in organizers
    assert ">sato<" not in organizers and ">outsider<" not in organizers
    talk_form = client.get("/admin/events/talk/add/").content.decode()
    speakers = select_options(talk_form, "speakers")
    assert ">sato<" in speakers and ">outsider<" not in speakers


def test_an_organizer_who_speaks_in_another_event_cannot_move_or_change_that_talk(client, scene):
    their_talk = scene["their_talk"]
    their_talk.speakers.add(scene["alice"])
    client.force_login(scene["alice"])
    page = client.get(f"/admin/events/talk/{their_talk.pk}/change/").content.decode()
    assert "他の講演" in page  # she speaks there, so she sees it
    assert 'name="event"' not in page  # but the form is read-only for her
    client.post(f"/admin/events/talk/{their_talk.pk}/change/", {
        "event": scene["mine"].pk, "title": "乗っ取り", "starts_at_0": "2030-01-01", "starts_at_1": "19:00",
        "ends_at_0": "2030-01-01", "ends_at_1": "20:00", "stream_url": "", "speakers": [scene["alice"].pk],
    })
    their_talk.refresh_from_db()
    assert (their_talk.event_id, their_talk.title) == (scene["theirs"].pk, "他の講演")


def test_the_physician_search_pages_through_everyone_once_in_kana_order(client, scene):
    kana = ["わだ", "あべ", "かとう", "さいとう", "たなか", "なかむら", "はやし", "まつもと", "やまだ", "いとう"]
    for n in range(45):  # three pages of the autocomplete's 20
        register(scene["mine"], full_name=f"頁 {n}", name_kana=f"{kana[n % len(kana)]} {n:02d}")
    client.force_login(scene["alice"])
    seen, page, more = [], 1, True
    while more:
        answer = client.get("/admin/autocomplete/", {"app_label": "events", "model_name": "registration",
                                                     "field_name": "physician", "term": "頁", "page": page}).json()
        seen += [r["text"].split(" <")[0] for r in answer["results"]]
        more, page = answer["pagination"]["more"], page + 1
    assert page == 4
    assert sorted(seen) == sorted(f"頁 {n}" for n in range(45))  # each once
    expected = sorted(range(45), key=lambda n: (kana[n % len(kana)], n))
    assert seen == [f"頁 {n}" for n in expected]
