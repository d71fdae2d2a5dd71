"""One organization never sees another's contacts, opt-outs or sender line in the admin.

Alice belongs to the Iwate society, Bob to the Miyagi society; each society has
contacts and opt-outs. Whatever Alice opens, lists, filters or types into an
address, nothing of Bob's society appears.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from campaigns.models import Contact, OptOut
from regions.models import Prefecture
from tests.factories import make_organization, make_staff

pytestmark = pytest.mark.django_db

SECRETS = ["宮城 秘密", "secret@miyagi.example.jp", "gone@miyagi.example.jp", "宮城医学会", "仙台市青葉区"]


@pytest.fixture
def scene():
    alice, bob = make_staff("alice", "organizer"), make_staff("bob", "organizer")
    iwate = make_organization("iwate", alice, name="岩手医学会")
    miyagi = make_organization("miyagi", bob, name="宮城医学会", postal_address="〒980-0000 仙台市青葉区")
    mine = Contact.objects.create(organization=iwate, email="Mine@Iwate.example.jp", full_name="岩手 自分",
                                  prefecture=Prefecture.objects.get(code="03"), consent_date=date(2026, 4, 1),
                                  consent_source="学会ウェブサイト")
    theirs = Contact.objects.create(organization=miyagi, email="secret@miyagi.example.jp", full_name="宮城 秘密",
                                    prefecture=Prefecture.objects.get(code="04"))
    OptOut.objects.create(organization=miyagi, email="gone@miyagi.example.jp")
    their_opt_out = OptOut.objects.get(email="gone@miyagi.example.jp")
    return {"alice": alice, "bob": bob, "iwate": iwate, "miyagi": miyagi, "mine": mine, "theirs": theirs,
            "their_opt_out": their_opt_out}


def test_an_organizer_sees_their_own_contacts_and_nothing_of_another_organization(client, scene):
    client.force_login(scene["alice"])
    pages = [
        "/admin/campaigns/contact/", "/admin/campaigns/optout/", "/admin/campaigns/organization/",
        "/admin/campaigns/contact/add/", "/admin/campaigns/optout/add/", "/admin/events/event/add/",
        f"/admin/campaigns/organization/{scene['iwate'].pk}/change/",
        # Filtering by the other organization, or searching for its address, shows nothing either.
        f"/admin/campaigns/contact/?organization__id__exact={scene['miyagi'].pk}",
        "/admin/campaigns/contact/?q=miyagi", "/admin/campaigns/optout/?q=gone",
        "/admin/campaigns/contact/?_to_field=id&_popup=1",
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code in (200, 302), path
        page = response.content.decode()
        assert not [s for s in SECRETS if s in page], f"{path} shows {[s for s in SECRETS if s in page]}"
    assert "岩手 自分" in client.get("/admin/campaigns/contact/").content.decode()


def test_another_organizations_rows_cannot_be_opened_by_their_address(client, scene):
    client.force_login(scene["alice"])
    for path in [
        f"/admin/campaigns/contact/{scene['theirs'].pk}/change/",
        f"/admin/campaigns/optout/{scene['their_opt_out'].pk}/change/",
        f"/admin/campaigns/organization/{scene['miyagi'].pk}/change/",
        f"/admin/campaigns/contact/{scene['theirs'].pk}/delete/",
    ]:
        response = client.get(path, follow=True)
        page = response.content.decode()
        assert not [s for s in SECRETS if s in page], path
    # Nor changed by posting to it.
    client.post(f"/admin/campaigns/contact/{scene['theirs'].pk}/change/", {"full_name": "書き換え"})
    scene["theirs"].refresh_from_db()
    assert scene["theirs"].full_name == "宮城 秘密"


def test_an_organizer_cannot_file_a_contact_under_another_organization(client, scene):
    client.force_login(scene["alice"])
    response = client.post("/admin/campaigns/contact/add/", {
        "organization": scene["miyagi"].pk, "email": "planted@example.jp", "full_name": "仕込み",
        "prefecture": Prefecture.objects.get(code="04").pk,
    })
    assert response.status_code == 200  # the form again, with an error on the organization
    assert not Contact.objects.filter(email="planted@example.jp").exists()


def test_an_organizer_cannot_put_an_event_into_another_organization(client, scene):
    client.force_login(scene["alice"])
    page = client.get("/admin/events/event/add/").content.decode()
    assert "岩手医学会" in page and "宮城医学会" not in page


def test_addresses_are_stored_folded_so_case_and_full_width_are_the_same_contact(scene):
    contact = Contact.objects.create(organization=scene["iwate"], email="ＳＡＴＯ＠Ｅｘａｍｐｌｅ．ｊｐ ",
                                     full_name="佐藤", prefecture=Prefecture.objects.get(code="03"))
    assert contact.email == "sato@example.jp"
    assert scene["mine"].email == "mine@iwate.example.jp"


def test_only_contacts_with_consent_and_no_opt_out_are_sendable(scene):
    iwate = scene["iwate"]
    no_consent = Contact.objects.create(organization=iwate, email="nc@iwate.example.jp", full_name="同意 なし",
                                        prefecture=Prefecture.objects.get(code="03"))
    assert list(Contact.objects.filter(organization=iwate).sendable()) == [scene["mine"]]
    OptOut.objects.create(organization=iwate, email="MINE@iwate.example.jp", source=OptOut.Source.LINK)
    assert list(Contact.objects.filter(organization=iwate).sendable()) == []
    # Bob's opt-outs say nothing about Alice's society.
    assert no_consent not in Contact.objects.sendable()


def test_a_co_organizer_outside_the_events_organization_keeps_it_and_cannot_move_it(client, scene):
    from events.models import Event
    from tests.factories import make_event

    event = make_event(title="宮城の講演会", organization=scene["miyagi"])
    event.organizers.add(scene["alice"], scene["bob"])
    client.force_login(scene["alice"])
    page = client.get(f"/admin/events/event/{event.pk}/change/").content.decode()
    options = re.search(r'<select name="organization"[^>]*>(.*?)</select>', page, re.S).group(1)
    assert re.search(rf'<option value="{scene["miyagi"].pk}" selected>', options)
    assert "岩手医学会" in options
    other = make_organization("akita", name="秋田医学会")
    assert "秋田医学会" not in options
    response = client.post(f"/admin/events/event/{event.pk}/change/", {
        "slug": event.slug, "title": event.title, "organization": other.pk, "approval_mode": "automatic",
        "organizers": [scene["alice"].pk], "talks-TOTAL_FORMS": 0, "talks-INITIAL_FORMS": 0,
    })
    assert response.status_code == 200  # the form again: not one of hers
    assert re.search(r'class="[^"]*errors[^"]*field-organization', response.content.decode())
    assert Event.objects.get(pk=event.pk).organization == scene["miyagi"]
