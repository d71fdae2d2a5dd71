"""The reception's pages: a physician's cards, the organizers' report and seating CSV."""

from __future__ import annotations

import csv
import io

import pytest

from rooms import cards, receptions
from rooms.models import CardExchange
from tests.factories import make_staff
from tests.forms import field_errors
from tests.rooms.scenes import as_physician, reception_scene

pytestmark = pytest.mark.django_db


@pytest.fixture
def scene():
    return reception_scene()


def _exchange(scene) -> CardExchange:
    cards_settings = {"email": "hospital@example.jp", "accepts_referrals": True}
    from rooms.models import CardSettings

    CardSettings.objects.create(physician=scene["hospital"].physician, **cards_settings)
    exchange = cards.offer(scene["talk"], scene["room"], scene["clinic"], scene["hospital"].pk)
    return cards.answer(scene["talk"], exchange.pk, scene["hospital"], accept=True)


def test_a_physician_sees_the_cards_they_collected_and_edits_their_own(client, scene):
    _exchange(scene)
    as_physician(client, scene["clinic"])
    page = client.get(f"/events/{scene['event'].slug}/cards/").content.decode()
    assert "宮城 病院" in page and "hospital@example.jp" in page and "紹介受け入れ可" in page
    response = client.post(f"/events/{scene['event'].slug}/cards/", {"email": "clinic@example.jp", "phone": "019-111-2222",
                                                                      "accepts_referrals": "on", "message": ""})
    assert response.status_code == 302
    assert cards.card_of(scene["clinic"])["phone"] == "019-111-2222"
    assert "specialty" not in receptions.table_profile(scene["clinic"])
    client.post(f"/events/{scene['event'].slug}/cards/", {"email": "", "phone": "", "message": "", "show_specialty": "on"})
    scene["clinic"].physician.refresh_from_db()
    assert receptions.table_profile(scene["clinic"])["specialty_label"] == "内科"


def test_a_card_is_not_shared_before_the_other_accepts(client, scene):
    from rooms.models import CardSettings

    CardSettings.objects.create(physician=scene["hospital"].physician, email="hospital@example.jp")
    cards.offer(scene["talk"], scene["room"], scene["clinic"], scene["hospital"].pk)
    as_physician(client, scene["clinic"])
    page = client.get(f"/events/{scene['event'].slug}/cards/").content.decode()
    assert "hospital@example.jp" not in page


def test_a_bad_phone_number_is_a_field_error_and_nothing_is_saved(client, scene):
    as_physician(client, scene["clinic"])
    response = client.post(f"/events/{scene['event'].slug}/cards/", {"email": "", "phone": "<script>", "message": ""})
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "phone") == ["数字、空白、+ - ( ) のみ使えます。"]
    assert "phone" not in cards.card_of(scene["clinic"])


def test_the_cards_page_needs_a_join_link_session(client, scene):
    assert client.get(f"/events/{scene['event'].slug}/cards/").status_code == 403


def test_organizers_see_tables_and_pair_counts_but_never_card_contents(client, scene):
    _exchange(scene)
    client.force_login(scene["organizer"])
    page = client.get(f"/talks/{scene['talk'].pk}/reception/").content.decode()
    assert "岩手県" in page and "宮城県" in page
    assert "診療所" in page and "病院" in page
    assert "hospital@example.jp" not in page and "宮城 病院" not in page


def test_the_report_in_english_names_tables_and_prefectures_in_english(client, scene):
    client.cookies["django_language"] = "en"
    client.force_login(scene["organizer"])
    page = client.get(f"/talks/{scene['talk'].pk}/reception/").content.decode()
    assert scene["room"].name_en in page and scene["room"].name_ja not in page
    assert "Iwate" in page and "Miyagi" in page and "岩手県" not in page


def test_the_seating_csv_lists_who_sat_where_and_when(client, scene):
    client.force_login(scene["organizer"])
    response = client.get(f"/talks/{scene['talk'].pk}/reception/seats.csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["room_id", "room", "full_name"]
    assert sorted(r[2] for r in rows[1:]) == ["宮城 病院", "岩手 三人目", "岩手 診療所"]
    assert all(r[8] == "allocated" and r[9] for r in rows[1:])


def test_the_report_and_csv_are_for_the_events_organizers_only(client, scene):
    url = f"/talks/{scene['talk'].pk}/reception/"
    assert client.get(url).status_code == 302  # to the sign-in
    as_physician(client, scene["clinic"])
    assert client.get(url).status_code == 403
    assert client.get(url + "seats.csv").status_code == 403
    other = make_staff("other", "organizer")
    client.force_login(other)
    assert client.get(url).status_code == 404  # as if there were no such talk
