"""The privacy notice says exactly what the rooms show of a physician, and to whom."""

from __future__ import annotations

import re
from html import unescape

import pytest

from rooms.participants import public_profile
from rooms.reception.tables import table_profile
from tests.factories import make_event, register

pytestmark = pytest.mark.django_db

# How the Japanese notice names each field that other participants are shown.
NAMED_IN_THE_NOTICE = {"name": "氏名", "facility_type": "施設区分", "prefecture": "都道府県"}
# What the profile carries only to build those (names of the prefecture, its region) or to let a
# moderator act (the registration id): nothing a physician reads on screen beyond the fields above.
NOT_SHOWN_ON_ITS_OWN = {"prefecture_name", "prefecture_name_en", "region", "registration"}


def shares_entry(page: str, heading: str) -> str:
    """The text under one heading of the notice's "who sees what" list."""
    match = re.search(rf"<dt>{re.escape(heading)}</dt>\s*<dd>(.*?)</dd>", page, re.S)
    assert match, f"the notice has no entry for {heading!r}"
    return unescape(match.group(1))


def test_the_notice_names_everything_other_participants_are_shown_of_a_physician(client):
    shown = public_profile(register(make_event()))
    page = client.get("/privacy/").content.decode()
    entry = shares_entry(page, "講演の他の参加者")
    for key in set(shown) - NOT_SHOWN_ON_ITS_OWN:
        assert key in NAMED_IN_THE_NOTICE, f"other participants see {key!r}: say so in the privacy notice"
        assert NAMED_IN_THE_NOTICE[key] in entry
    assert "常に表示" in entry  # not "only what you choose": these three are always shown
    assert "選択された情報のみ" not in page


def test_the_notice_says_the_specialty_is_shown_only_to_those_who_turn_it_on(client):
    registration = register(make_event())
    assert "specialty" not in table_profile(registration)
    entry = shares_entry(client.get("/privacy/").content.decode(), "講演の他の参加者")
    assert "診療科は、懇親会のテーブルで表示することを選んだ場合のみ" in entry
    assert "メールアドレス、勤務先の施設名、医籍登録番号が表示されることはありません" in entry


def test_the_registration_form_says_what_other_participants_see_before_one_consents(client):
    event = make_event()
    page = client.get(f"/events/{event.slug}/register/").content.decode()
    assert "先生の氏名・施設区分（病院または診療所）・都道府県が表示されます" in page


def test_the_english_notice_says_the_same(client):
    client.cookies["django_language"] = "en"
    entry = shares_entry(client.get("/privacy/").content.decode(), "Other participants of a talk")
    assert entry.startswith("Your name, facility type (hospital or clinic) and prefecture, always")


def test_the_notice_says_who_receives_a_physicians_voice_and_video_and_that_nothing_is_recorded(client):
    page = unescape(client.get("/privacy/").content.decode())
    media = re.search(r"<ul data-privacy-media>(.*?)</ul>", page, re.S).group(1)
    assert "マイクとカメラはオフ" in media  # both start off
    assert "同じテーブルに着いている参加者" in media and "聞くだけの状態で参加" in media
    assert "録音・録画・保存されることはありません" in media
    assert "中継サーバー（TURN）" in media and "暗号化されたまま" in media

    client.cookies["django_language"] = "en"
    page = unescape(client.get("/privacy/").content.decode())
    media = re.search(r"<ul data-privacy-media>(.*?)</ul>", page, re.S).group(1)
    assert "go only to the people sitting at the same table" in media
    assert "no call is recorded or stored" in media
