"""The organizer's audience pages: list with sizes, the form and its errors, the map's numbers, deleting, tenancy."""

from __future__ import annotations

import json
import re
from html import unescape
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from campaigns.models import Audience, Campaign, Contact, OptOut
from regions.models import Prefecture, Region
from tests.factories import make_event, make_organization, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene() -> dict[str, Any]:
    """Alice belongs to the Iwate society, Bob to the Miyagi society; each has an audience and an event."""
    alice, bob = make_staff("alice", "organizer"), make_staff("bob", "organizer")
    iwate = make_organization("iwate", alice, name="岩手医学会")
    miyagi = make_organization("miyagi", bob, name="宮城医学会")
    for n, code in enumerate(["03", "03", "13", "02"]):
        Contact.objects.create(organization=iwate, email=f"c{n}@example.jp", full_name=f"c{n}",
                               prefecture=Prefecture.objects.get(code=code),
                               **({"consent_date": date(2026, 4, 1), "consent_source": "学会"} if n != 1 else {}))
    OptOut.objects.create(organization=iwate, email="c3@example.jp")
    Contact.objects.create(organization=miyagi, email="secret@miyagi.example.jp", full_name="宮城 秘密",
                           prefecture=Prefecture.objects.get(code="04"))
    mine = Audience.objects.create(organization=iwate, name="東北の先生方")
    mine.regions.set([Region.objects.get(key="tohoku")])
    theirs = Audience.objects.create(organization=miyagi, name="宮城の秘密の対象")
    return {"alice": alice, "bob": bob, "iwate": iwate, "miyagi": miyagi, "mine": mine, "theirs": theirs,
            "my_event": make_event(organization=iwate, title="岩手の講演会"),
            "their_event": make_event(organization=miyagi, title="宮城の講演会")}


def signed_in(user: Any, language: str = "ja") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def page(slug: str, name: str = "audiences", *args: Any) -> str:
    return reverse(f"campaigns:{name}", args=[slug, *args])


def form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "岩手と東京の内科", "regions": [], "prefectures": ["03", "13"],
                            "specialties": ["internal_medicine"], "facility_types": ["clinic", "hospital"],
                            "past_behaviour": "", "past_event": ""}
    data.update(overrides)
    return data


def test_the_list_shows_each_audience_with_its_targeted_and_sendable_size(scene):
    response = signed_in(scene["alice"]).get(page("iwate"))
    assert response.status_code == 200
    html = response.content.decode()
    row = re.search(rf'data-audience="{scene["mine"].pk}".*?</tr>', html, re.S).group(0)
    # Tohoku: c0, c1 (Iwate), c3 (Aomori); sendable: c0 only (c1 has no consent, c3 opted out).
    assert "東北の先生方" in row and 'data-size="targeted">3<' in row and 'data-size="sendable">1<' in row
    assert "宮城の秘密の対象" not in html


def test_the_organizer_index_links_to_the_audiences(scene):
    html = signed_in(scene["alice"]).get(reverse("campaigns:organizations")).content.decode()
    assert page("iwate") in html and page("miyagi") not in html


def test_an_organizer_creates_an_audience_and_lands_on_its_map(scene):
    response = signed_in(scene["alice"]).post(page("iwate", "audience_new"), form(shortage_only="on"))
    made = Audience.objects.get(name="岩手と東京の内科")
    assert response.status_code == 302 and response["Location"] == page("iwate", "audience", made.pk)
    assert made.organization == scene["iwate"] and made.shortage_only
    assert set(made.prefectures.values_list("code", flat=True)) == {"03", "13"}
    assert made.specialties == ["internal_medicine"] and made.facility_types == ["clinic", "hospital"]


def test_the_form_groups_the_47_prefectures_by_region(scene):
    html = signed_in(scene["alice"]).get(page("iwate", "audience_new")).content.decode()
    assert html.count('name="prefectures"') == 47 and html.count('class="region-group"') == 8
    assert html.count('name="regions"') == 8 and "医師少数都道府県" in html
    assert "10分以上の視聴" in html  # what "attended" means, as on the dashboard
    assert "岩手の講演会" in html and "宮城の講演会" not in html


def test_an_organizer_edits_past_behaviour_with_an_earlier_event_of_their_organization(scene):
    client = signed_in(scene["alice"])
    response = client.post(page("iwate", "audience_edit", scene["mine"].pk),
                           form(name="前回の参加者", past_behaviour="attended", past_event=scene["my_event"].pk))
    assert response.status_code == 302
    scene["mine"].refresh_from_db()
    assert scene["mine"].name == "前回の参加者" and scene["mine"].past_event == scene["my_event"]
    assert not scene["mine"].regions.exists()


@pytest.mark.parametrize("language,overrides,field,message", [
    ("ja", {"name": ""}, "name", "このフィールドは必須です。"),
    ("en", {"name": ""}, "name", "This field is required."),
    ("ja", {"past_behaviour": "attended"}, "past_event", "この行動の対象となる講演会を選んでください。"),
    ("en", {"past_behaviour": "attended"}, "past_event", "Choose the event this behaviour refers to."),
    ("ja", {"past_event": "EVENT"}, "past_behaviour", "その講演会で何をした連絡先かを選ぶか、講演会の選択を外してください。"),
    ("en", {"past_event": "EVENT"}, "past_behaviour",
     "Choose what the contacts did at that event, or clear the event."),
    ("ja", {"past_behaviour": "registered", "past_event": "THEIRS"}, "past_event", "あなたの組織の講演会から選んでください。"),
    ("en", {"past_behaviour": "registered", "past_event": "THEIRS"}, "past_event",
     "Choose one of your organization's events."),
    ("en", {"specialties": ["astrology"]}, "specialties", "Select a valid choice."),
])
def test_bad_input_gets_a_field_error_in_the_organizers_language_and_saves_nothing(scene, language, overrides,
                                                                                   field, message):
    overrides = {k: {"EVENT": scene["my_event"].pk, "THEIRS": scene["their_event"].pk}.get(v, v)
                 if isinstance(v, str) else v for k, v in overrides.items()}
    before = Audience.objects.count()
    response = signed_in(scene["alice"], language).post(page("iwate", "audience_new"), form(**overrides))
    assert response.status_code == 400
    html = response.content.decode()
    errors = re.search(rf'id="id_{field}-errors".*?</ul>', html, re.S)
    assert errors and message in unescape(errors.group(0)), html[html.find("errors"):][:500]
    assert Audience.objects.count() == before


def test_the_audience_page_carries_the_map_numbers_and_the_tables(scene):
    html = signed_in(scene["alice"]).get(page("iwate", "audience", scene["mine"].pk)).content.decode()
    data = json.loads(re.search(r'<script type="application/json" id="audience-data">(.*?)</script>', html, re.S)
                      .group(1))
    by_code = {p["code"]: p for p in data["prefectures"]}
    assert len(by_code) == 47
    assert by_code["03"] == {"code": "03", "name": "岩手県", "shortage": True, "targeted": 2, "sendable": 1}
    assert by_code["02"]["targeted"] == 1 and by_code["02"]["sendable"] == 0 and by_code["13"]["targeted"] == 0
    assert 'data-total="targeted">3<' in html and 'data-total="no_consent">1<' in html
    assert 'data-total="opted_out">1<' in html
    tohoku = re.search(r'data-area="tohoku".*?</tr>', html, re.S).group(0)
    assert 'data-size="sendable">1<' in tohoku and 'data-size="opted_out">1<' in tohoku
    assert "renkei/japan-map.js" in html and "vendor/japanmap/prefectures.json" in html


def test_the_audience_page_speaks_english_to_an_english_speaking_organizer(scene):
    html = signed_in(scene["alice"], "en").get(page("iwate", "audience", scene["mine"].pk)).content.decode()
    assert "Targeted contacts by prefecture" in html and "Tohoku" in html and '"name": "Iwate"' in html


def test_an_audience_no_campaign_uses_is_deleted_after_confirming(scene):
    client = signed_in(scene["alice"])
    assert client.get(page("iwate", "audience_delete", scene["mine"].pk)).status_code == 200
    response = client.post(page("iwate", "audience_delete", scene["mine"].pk))
    assert response.status_code == 302 and not Audience.objects.filter(pk=scene["mine"].pk).exists()


def test_an_audience_a_campaign_uses_is_kept_and_the_organizer_is_told_which(scene):
    Campaign.objects.create(event=scene["my_event"], audience=scene["mine"], name="秋の案内", slug="autumn")
    client = signed_in(scene["alice"])
    assert "data-delete-refused" in client.get(page("iwate", "audience_delete", scene["mine"].pk)).content.decode()
    response = client.post(page("iwate", "audience_delete", scene["mine"].pk))
    html = response.content.decode()
    assert response.status_code == 409 and "秋の案内" in html and "削除できません" in html
    assert Audience.objects.filter(pk=scene["mine"].pk).exists()


def test_another_organizations_audiences_are_not_found(scene):
    client = signed_in(scene["alice"])
    theirs = scene["theirs"].pk
    for path in [page("miyagi"), page("miyagi", "audience_new"), page("miyagi", "audience", theirs),
                 page("iwate", "audience", theirs), page("iwate", "audience_edit", theirs),
                 page("iwate", "audience_delete", theirs), page("miyagi", "audience_edit", theirs)]:
        assert client.get(path).status_code == 404, path
    assert client.post(page("iwate", "audience_delete", theirs)).status_code == 404
    assert client.post(page("iwate", "audience_edit", theirs), form(name="乗っ取り")).status_code == 404
    assert client.post(page("miyagi", "audience_new"), form(name="乗っ取り")).status_code == 404
    assert Audience.objects.filter(pk=theirs, name="宮城の秘密の対象").exists()
    assert not Audience.objects.filter(name="乗っ取り").exists()


def test_nobody_signed_in_is_sent_to_sign_in_and_a_speaker_finds_nothing(scene):
    response = Client().get(page("iwate"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    speaker = make_staff("sato", "speaker")
    scene["iwate"].members.add(speaker)
    assert signed_in(speaker).get(page("iwate")).status_code == 404
