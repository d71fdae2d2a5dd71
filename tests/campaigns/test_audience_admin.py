"""Audiences in the admin: an organizer lists, filters, opens and files audiences of their own organizations only."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from campaigns.models import Audience
from tests.factories import make_event, make_organization, make_staff

pytestmark = pytest.mark.django_db

SECRETS = ["宮城の秘密の対象", "宮城医学会", "宮城の講演会"]


@pytest.fixture
def scene() -> dict[str, Any]:
    alice, bob = make_staff("alice", "organizer"), make_staff("bob", "organizer")
    iwate = make_organization("iwate", alice, name="岩手医学会")
    miyagi = make_organization("miyagi", bob, name="宮城医学会")
    return {"alice": alice, "iwate": iwate, "miyagi": miyagi,
            "mine": Audience.objects.create(organization=iwate, name="岩手の対象"),
            "theirs": Audience.objects.create(organization=miyagi, name="宮城の秘密の対象"),
            "my_event": make_event(organization=iwate, title="岩手の講演会"),
            "their_event": make_event(organization=miyagi, title="宮城の講演会")}


def alice(scene: dict[str, Any], language: str = "ja") -> Client:
    client = Client()
    client.force_login(scene["alice"])
    client.cookies["django_language"] = language
    return client


def test_an_organizer_sees_only_their_organizations_audiences_and_events(scene):
    client = alice(scene)
    for path in ["/admin/campaigns/audience/", "/admin/campaigns/audience/add/",
                 f"/admin/campaigns/audience/{scene['mine'].pk}/change/",
                 f"/admin/campaigns/audience/?organization__id__exact={scene['miyagi'].pk}",
                 "/admin/campaigns/audience/?q=宮城"]:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert not [s for s in SECRETS if s in html], f"{path} shows {[s for s in SECRETS if s in html]}"
    listing = client.get("/admin/campaigns/audience/").content.decode()
    assert "岩手の対象" in listing and "配信対象" in listing and "過去の行動" in listing
    assert "岩手の講演会" in client.get("/admin/campaigns/audience/add/").content.decode()
    organizations = client.get("/admin/campaigns/organization/").content.decode()
    assert "/organizer/iwate/audiences/" in organizations and "/organizer/miyagi/" not in organizations


def test_the_admin_labels_are_english_for_an_english_speaking_organizer(scene):
    html = alice(scene, "en").get("/admin/campaigns/audience/add/").content.decode()
    assert "Earlier event" in html and "Physician-shortage prefectures only" in html and "Past behaviour" in html


def test_another_organizations_audience_cannot_be_opened_or_changed(scene):
    client = alice(scene)
    theirs = scene["theirs"].pk
    for path in [f"/admin/campaigns/audience/{theirs}/change/", f"/admin/campaigns/audience/{theirs}/delete/"]:
        html = client.get(path, follow=True).content.decode()
        assert "宮城の秘密の対象" not in html, path
    client.post(f"/admin/campaigns/audience/{theirs}/change/", {"name": "乗っ取り", "organization": scene["iwate"].pk})
    scene["theirs"].refresh_from_db()
    assert scene["theirs"].name == "宮城の秘密の対象" and scene["theirs"].organization == scene["miyagi"]


def add(client: Client, **overrides: Any) -> Any:
    data = {"organization": "", "name": "仕込み", "past_behaviour": "", "past_event": ""}
    data.update({k: v.pk if hasattr(v, "pk") else v for k, v in overrides.items()})
    return client.post("/admin/campaigns/audience/add/", data)


def test_an_organizer_files_an_audience_under_their_organization_with_its_event(scene):
    response = add(alice(scene), organization=scene["iwate"], past_behaviour="registered",
                   past_event=scene["my_event"], specialties=["cardiology"])
    assert response.status_code == 302
    made = Audience.objects.get(name="仕込み")
    assert made.organization == scene["iwate"] and made.past_event == scene["my_event"]
    assert made.specialties == ["cardiology"]


@pytest.mark.parametrize("field,value", [("organization", "miyagi"), ("past_event", "their_event")])
def test_another_organizations_organization_or_event_is_refused(scene, field, value):
    fields = {"organization": scene["iwate"], "past_behaviour": "registered", "past_event": scene["my_event"]}
    fields[field] = scene[value]
    response = add(alice(scene), **fields)
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    assert not Audience.objects.filter(name="仕込み").exists()


def test_an_event_of_another_of_the_members_organizations_is_refused_with_a_field_error(scene):
    """A member of both societies still cannot target the Iwate audience by a Miyagi event."""
    scene["miyagi"].members.add(scene["alice"])
    response = add(alice(scene), organization=scene["iwate"], past_behaviour="registered",
                   past_event=scene["their_event"])
    assert response.status_code == 200 and "あなたの組織の講演会から選んでください。" in response.content.decode()
    assert not Audience.objects.filter(name="仕込み").exists()
