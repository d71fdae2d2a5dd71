"""The reception's pages: a physician's cards, the organizers' report and seating CSV."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest

from rooms.models import CardExchange, Reception
from rooms.reception import cards
from rooms.reception.opening import open_reception
from rooms.reception.tables import table_profile
from tests.factories import make_event, make_staff, make_talk
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
    assert "specialty" not in table_profile(scene["clinic"])
    client.post(f"/events/{scene['event'].slug}/cards/", {"email": "", "phone": "", "message": "", "show_specialty": "on"})
    scene["clinic"].physician.refresh_from_db()
    assert table_profile(scene["clinic"])["specialty_label"] == "内科"


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


def _report_text(client, talk) -> str:
    """The report as a reader sees it: its text, without the markup."""
    page = client.get(f"/talks/{talk.pk}/reception/").content.decode()
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


@pytest.fixture
def quiet_talk():
    """A talk that ends at 20:00 Japan time on Sun 6 Dec 2026, nobody there yet, and its organizer."""
    event = make_event()
    talk = make_talk(event, starts_in=timedelta(0))
    talk.starts_at = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
    talk.ends_at = datetime(2026, 12, 6, 11, 0, tzinfo=UTC)
    talk.save()
    organizer = make_staff("quiet-org", "organizer")
    event.organizers.add(organizer)
    return talk, organizer


def test_before_the_reception_opens_the_report_says_when_it_will_and_shows_no_empty_tables(client, quiet_talk):
    talk, organizer = quiet_talk
    client.force_login(organizer)
    text = _report_text(client, talk)
    assert "懇親会はまだ始まっていません。" in text
    assert "講演の終了時刻（12月6日(日) 20:00）" in text
    assert "<table" not in client.get(f"/talks/{talk.pk}/reception/").content.decode()


def test_a_talk_without_a_reception_says_so_on_the_report(client, quiet_talk):
    talk, organizer = quiet_talk
    Reception.objects.create(talk=talk, enabled=False)
    client.force_login(organizer)
    assert "この講演の後に懇親会はありません" in _report_text(client, talk)


def test_a_reception_that_opened_to_an_empty_room_says_nobody_was_seated(client, quiet_talk):
    talk, organizer = quiet_talk
    Reception.objects.create(talk=talk)
    assert open_reception(talk) is not None
    client.force_login(organizer)
    text = _report_text(client, talk)
    assert "着席した参加者はいません。" in text and "まだ交換はありません。" in text
    assert "開催中" in text


def test_the_report_of_an_open_reception_lists_its_tables_and_how_long_it_runs(client, scene):
    client.force_login(scene["organizer"])
    text = _report_text(client, scene["talk"])
    assert "から開催中" in text and "現在の人数" in text
    assert scene["room"].name_ja in text and "着席した参加者はいません" not in text


def test_the_report_of_a_closed_reception_says_it_has_ended(client, scene):
    Reception.objects.filter(pk=scene["talk"].pk).update(closes_at=datetime.now(UTC) - timedelta(minutes=1))
    client.force_login(scene["organizer"])
    text = _report_text(client, scene["talk"])
    assert "に終了しました" in text and "終了時の人数" in text and "開催中" not in text
