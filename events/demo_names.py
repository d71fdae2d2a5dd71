"""Fictional names, specialties and facility names shared by the demo's physicians and contacts (load_demo)."""

from __future__ import annotations

# Family names with their readings, index for index.
FAMILY = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "佐々木", "菅原", "阿部",
          "千葉", "工藤", "三浦", "斎藤", "遠藤"]
FAMILY_KANA = ["さとう", "すずき", "たかはし", "たなか", "いとう", "わたなべ", "やまもと", "なかむら", "こばやし", "かとう", "よしだ",
               "やまだ", "ささき", "すがわら", "あべ", "ちば", "くどう", "みうら", "さいとう", "えんどう"]
GIVEN = [("健一", "けんいち"), ("美咲", "みさき"), ("大輔", "だいすけ"), ("陽子", "ようこ"), ("翔", "しょう"), ("直樹", "なおき"),
         ("恵", "めぐみ"), ("拓也", "たくや"), ("由美", "ゆみ"), ("誠", "まこと"), ("千尋", "ちひろ"), ("浩二", "こうじ")]
SPECIALTIES = ["internal_medicine", "medical_oncology", "respiratory_medicine", "gastroenterology", "general_medicine",
               "surgery", "breast_surgery", "hematology"]


def place_name(prefecture_name_ja: str) -> str:
    """A prefecture's name as facility names start with it: 岩手県 → 岩手, 北海道 stays."""
    return prefecture_name_ja if prefecture_name_ja == "北海道" else prefecture_name_ja[:-1]
