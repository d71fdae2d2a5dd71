"""parse_prefecture: what a physician (or an import file) writes for a prefecture, and what it refuses."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from regions.models import Prefecture
from regions.parsing import parse_prefecture

pytestmark = pytest.mark.django_db

CSV_PATH = Path(__file__).resolve().parents[2] / "regions" / "data" / "prefectures.csv"
with CSV_PATH.open(encoding="utf-8", newline="") as _fh:
    ROWS = list(csv.DictReader(_fh))

KANA = re.compile(r"[\u3040-\u30ff]")

REQUIRED_MSGID = "Enter a prefecture."
INVALID_MSGID = (
    "“%(value)s” is not a Japanese prefecture. Enter a name such as 青森県 or Aomori, or a code from 01 to 47."
)
JA_TEXT = {
    REQUIRED_MSGID: "都道府県を入力してください。",
    INVALID_MSGID: "「%(value)s」は日本の都道府県ではありません。「青森県」や「Aomori」などの名称、または01〜47のコードを入力してください。",
}


def code_of(value: object) -> str:
    return parse_prefecture(value).code


def refusal(value: object) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        parse_prefecture(value)
    return info.value


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("02", "02"),
        ("2", "02"),
        (2, "02"),
        ("０２", "02"),
        ("２", "02"),
        ("青森県", "02"),
        ("青森", "02"),
        ("東京都", "13"),
        ("東京", "13"),
        ("京都府", "26"),
        ("京都", "26"),
        ("大阪府", "27"),
        ("大阪", "27"),
        ("北海道", "01"),
        ("Aomori", "02"),
        ("aomori", "02"),
        ("AOMORI", "02"),
        ("Ａｏｍｏｒｉ", "02"),
        ("Kōchi", "39"),
        ("Kochi", "39"),
        ("Hokkaidō", "01"),
        ("Aomori-ken", "02"),
        ("Aomori ken", "02"),
        ("Osaka-fu", "27"),
        ("Tokyo-to", "13"),
        ("Tōkyō-to", "13"),
        ("Kyoto-fu", "26"),
        ("Hyogo Prefecture", "28"),
        ("hyogo prefecture", "28"),
        ("  青森県  ", "02"),
        ("\u3000青森県\u3000", "02"),
        (" Aomori\t", "02"),
        (" 47 ", "47"),
        ("1", "01"),
    ],
)
def test_it_accepts_every_usual_way_of_writing_a_prefecture(value, code):
    prefecture = parse_prefecture(value)
    assert isinstance(prefecture, Prefecture)
    assert prefecture.code == code


def test_it_returns_the_prefecture_with_its_region():
    prefecture = parse_prefecture("青森")
    assert prefecture.name_ja == "青森県"
    assert prefecture.region.key == "tohoku"


@pytest.mark.parametrize("row", ROWS, ids=[row["name_en"] for row in ROWS])
def test_it_accepts_each_of_the_47_prefectures_by_code_japanese_name_and_english_name(row):
    assert code_of(row["code"]) == row["code"]
    assert code_of(str(int(row["code"]))) == row["code"]
    assert code_of(row["name_ja"]) == row["code"]
    assert code_of(row["name_en"]) == row["code"]
    assert code_of(row["name_en"].upper()) == row["code"]
    if row["name_ja"] != "北海道":
        assert code_of(row["name_ja"][:-1]) == row["code"]


def test_the_csv_it_is_checked_against_has_47_prefectures():
    assert len(ROWS) == 47
    assert [row["code"] for row in ROWS] == [f"{n:02d}" for n in range(1, 48)]


@pytest.mark.parametrize("value", ["", "   ", "\u3000", "\t\n"])
def test_it_rejects_an_empty_answer_as_required(value):
    error = refusal(value)
    assert error.code == "required"
    assert error.messages and error.messages[0].strip()


JUNK = [
    "0",
    "48",
    "00",
    "99",
    "-2",
    "北海",
    "京",
    "青森市",
    "青森県青森市",
    "Atlantis",
    "Aomori City",
    "ken",
    "<script>",
    "x" * 10_000,
    48,
    0,
]


@pytest.mark.parametrize("value", JUNK, ids=lambda v: repr(v)[:20])
def test_it_rejects_what_is_not_a_prefecture(value):
    error = refusal(value)
    assert error.code == "invalid_prefecture"
    assert error.messages and error.messages[0].strip()


@pytest.mark.parametrize("value", [None, 3.5, True, False, b"02", ["02"], {"code": "02"}], ids=repr)
def test_it_rejects_values_that_are_not_text_or_a_number_without_crashing(value):
    error = refusal(value)
    assert error.code in {"invalid_prefecture", "required"}
    assert error.messages and error.messages[0].strip()


def test_its_message_names_the_rejected_value_and_shows_what_is_expected():
    with translation.override("en"):
        message = refusal("Atlantis").messages[0]
    assert message == (
        "“Atlantis” is not a Japanese prefecture. Enter a name such as 青森県 or Aomori, or a code from 01 to 47."
    )


def test_its_message_asks_for_a_prefecture_when_the_answer_is_empty():
    with translation.override("en"):
        assert refusal("  ").messages == ["Enter a prefecture."]


def test_its_message_does_not_repeat_a_very_long_value():
    with translation.override("en"):
        message = refusal("x" * 10_000).messages[0]
    assert "x" * 41 not in message
    assert len(message) < 200


@pytest.mark.parametrize(
    ("value", "msgid", "params"),
    [
        ("", REQUIRED_MSGID, {}),
        ("Atlantis", INVALID_MSGID, {"value": "Atlantis"}),
        ("48", INVALID_MSGID, {"value": "48"}),
        ("青森市", INVALID_MSGID, {"value": "青森市"}),
    ],
    ids=["empty", "Atlantis", "48", "city-name"],
)
def test_its_message_is_in_japanese_for_a_japanese_visitor(value, msgid, params):
    with translation.override("ja"):
        message = refusal(value).messages[0]
    assert message == JA_TEXT[msgid] % params
    assert KANA.search(message.replace(params.get("value", ""), ""))
    with translation.override("en"):
        assert refusal(value).messages[0] == msgid % params
