"""Organizers set each talk's reception and room split in the admin; nobody else changes them."""

from __future__ import annotations

import re

import pytest

from rooms.models import Reception, Stage
from tests.factories import make_talk, rival_events

pytestmark = pytest.mark.django_db

RECEPTIONS = "/admin/rooms/reception/"
STAGES = "/admin/rooms/stage/"


@pytest.fixture
def setup():
    return rival_events()


def reception_form(talk, **overrides) -> dict[str, str]:
    data = {"talk": str(talk.pk), "enabled": "on", "strategy": "regional_mix", "room_size": "8",
            "duration_minutes": "30", "allow_self_select": "on"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def field_has_error(page: str, field: str) -> bool:
    return re.search(rf'class="[^"]*errors[^"]*field-{field}\b', page) is not None


def test_an_organizer_sets_the_reception_of_their_talk(client, setup):
    client.force_login(setup["alice"])
    response = client.post(RECEPTIONS + "add/", reception_form(setup["talk"]))
    assert response.status_code == 302
    reception = Reception.objects.get(talk=setup["talk"])
    assert (reception.strategy, reception.room_size, reception.duration_minutes, reception.allow_self_select) == (
        "regional_mix", 8, 30, True
    )


def test_an_organizer_changes_a_saved_reception(client, setup):
    Reception.objects.create(talk=setup["talk"])
    client.force_login(setup["alice"])
    data = reception_form(setup["talk"], strategy="specialty", room_size="4", allow_self_select=None)
    response = client.post(f"{RECEPTIONS}{setup['talk'].pk}/change/", data)
    assert response.status_code == 302
    reception = Reception.objects.get(talk=setup["talk"])
    assert (reception.strategy, reception.room_size, reception.allow_self_select) == ("specialty", 4, False)


@pytest.mark.parametrize("field,value", [("room_size", "2"), ("room_size", "13"),
                                         ("duration_minutes", "4"), ("duration_minutes", "121")])
def test_a_size_or_duration_out_of_range_is_a_field_error_and_nothing_is_saved(client, setup, field, value):
    client.force_login(setup["alice"])
    response = client.post(RECEPTIONS + "add/", reception_form(setup["talk"], **{field: value}))
    assert response.status_code == 200
    assert field_has_error(response.content.decode(), field)
    assert not Reception.objects.filter(talk=setup["talk"]).exists()


def test_an_organizer_cannot_set_the_reception_of_another_events_talk(client, setup):
    client.force_login(setup["alice"])
    page = client.get(RECEPTIONS + "add/").content.decode()
    assert "演者の講演" in page and "他の講演" not in page
    response = client.post(RECEPTIONS + "add/", reception_form(setup["their_talk"]))
    assert field_has_error(response.content.decode(), "talk")
    assert not Reception.objects.exists()


def test_an_organizer_cannot_open_another_events_reception(client, setup):
    Reception.objects.create(talk=setup["their_talk"], room_size=5)
    client.force_login(setup["alice"])
    assert "他の講演" not in client.get(RECEPTIONS).content.decode()
    response = client.post(f"{RECEPTIONS}{setup['their_talk'].pk}/change/", reception_form(setup["their_talk"]))
    assert response.status_code == 302 and response.url == "/admin/"
    assert Reception.objects.get(talk=setup["their_talk"]).room_size == 5


def test_the_talk_of_a_saved_reception_cannot_be_switched(client, setup):
    Reception.objects.create(talk=setup["talk"])
    other = make_talk(setup["talk"].event, title="同じ会の別の講演")
    client.force_login(setup["alice"])
    client.post(f"{RECEPTIONS}{setup['talk'].pk}/change/", reception_form(other, room_size="9"))
    assert Reception.objects.get(talk=setup["talk"]).room_size == 9
    assert not Reception.objects.filter(talk=other).exists()


def test_a_speaker_cannot_change_the_reception(client, setup):
    Reception.objects.create(talk=setup["talk"], room_size=5)
    client.force_login(setup["speaker"])
    response = client.post(f"{RECEPTIONS}{setup['talk'].pk}/change/", reception_form(setup["talk"]))
    assert response.status_code == 403
    assert Reception.objects.get(talk=setup["talk"]).room_size == 5


def test_an_organizer_sets_the_room_split_of_their_talk(client, setup):
    Stage.objects.create(talk=setup["talk"])
    client.force_login(setup["alice"])
    response = client.post(f"{STAGES}{setup['talk'].pk}/change/", {"room_mode": "prefecture"})
    assert response.status_code == 302
    assert Stage.objects.get(talk=setup["talk"]).room_mode == "prefecture"


def test_an_organizer_approves_slides_from_the_list_but_not_another_events(client, setup):
    Stage.objects.create(talk=setup["talk"], slides="slides/mine.pdf", slide_count=3)
    Stage.objects.create(talk=setup["their_talk"], slides="slides/theirs.pdf", slide_count=3)
    client.force_login(setup["alice"])
    client.post(STAGES, {"action": "approve_slides", "_selected_action": [setup["talk"].pk, setup["their_talk"].pk]})
    assert Stage.objects.get(talk=setup["talk"]).slides_approved_by == setup["alice"]
    assert Stage.objects.get(talk=setup["their_talk"]).slides_approved_at is None
