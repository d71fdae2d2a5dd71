"""One Profile of a person, one wire form: staff, a chat author and a table's member differ only in what they carry."""

from __future__ import annotations

from rooms import frames
from rooms.profiles import Profile

KYOTO = dict(name="山田 花子", facility_type="clinic", prefecture="26", prefecture_name="京都府",
             prefecture_name_en="Kyoto", region="kinki", registration=12)


def test_a_staff_author_shows_blank_places_a_role_and_no_registration() -> None:
    assert frames.profile(Profile.staff("座長", "speaker")) == {
        "name": "座長", "facility_type": "", "prefecture": "", "prefecture_name": "", "prefecture_name_en": "",
        "region": "", "role": "speaker",
    }


def test_a_physician_in_the_chat_shows_their_place_and_registration_but_no_specialty() -> None:
    shown = frames.profile(Profile(**KYOTO, role="attendee"))
    assert shown == {**KYOTO, "role": "attendee"}
    assert list(shown)[-1] == "role"


def test_a_physician_at_a_table_who_agreed_shows_their_specialty_with_its_labels() -> None:
    shown = frames.profile(Profile(**KYOTO, specialty="internal_medicine"))
    assert {k: shown[k] for k in KYOTO} == KYOTO
    assert shown["specialty"] == "internal_medicine"
    assert (shown["specialty_label"], shown["specialty_label_en"]) == ("内科", "Internal medicine")
    assert "role" not in shown
