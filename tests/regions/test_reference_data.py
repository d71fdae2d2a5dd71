"""The regional reference data: 8 blocks and 47 prefectures, loaded on migrate from the CSV."""

from __future__ import annotations

import csv
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from regions.loading import load_regions
from regions.models import Prefecture, Region

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parents[2] / "regions" / "data"
with (DATA / "prefectures.csv").open(encoding="utf-8", newline="") as _fh:
    ROWS = list(csv.DictReader(_fh))

REGION_ORDER = ["hokkaido", "tohoku", "kanto", "chubu", "kinki", "chugoku", "shikoku", "kyushu_okinawa"]


def snapshot() -> list[tuple]:
    return list(
        Prefecture.objects.order_by("code").values_list(
            "code",
            "name_ja",
            "name_en",
            "region_id",
            "physicians_per_100k",
            "maldistribution_index",
            "maldistribution_rank",
            "designation",
            "population",
        )
    )


def expected() -> list[tuple]:
    return [
        (
            row["code"],
            row["name_ja"],
            row["name_en"],
            row["region_key"],
            Decimal(row["physicians_per_100k_2024"]),
            Decimal(row["maldistribution_index_2019"]),
            int(row["maldistribution_rank_2019"]),
            row["designation_2019"],
            int(row["population_2020"]),
        )
        for row in ROWS
    ]


def test_after_migrate_the_database_has_the_8_regions_in_their_usual_order():
    assert list(Region.objects.values_list("key", flat=True)) == REGION_ORDER
    assert list(Region.objects.values_list("name_ja", flat=True)) == [
        "北海道",
        "東北",
        "関東",
        "中部",
        "近畿",
        "中国",
        "四国",
        "九州・沖縄",
    ]


def test_after_migrate_the_database_has_the_47_prefectures_exactly_as_in_the_csv():
    assert Prefecture.objects.count() == 47
    assert snapshot() == expected()


def test_the_47_populations_add_up_to_the_2020_census_total_of_japan():
    # 令和2年国勢調査: 126,146,099 people on 2020-10-01.
    assert sum(Prefecture.objects.values_list("population", flat=True)) == 126_146_099
    assert Prefecture.objects.get(code="13").population == 14_047_594
    assert Prefecture.objects.get(code="31").population == 553_407


def test_the_data_migration_fills_the_population_of_prefectures_that_had_none():
    from importlib import import_module

    from django.apps import apps

    Prefecture.objects.update(population=None)
    import_module("regions.migrations.0004_fill_population").fill(apps, None)
    assert snapshot() == expected()


def test_tohoku_has_its_six_prefectures():
    tohoku = Region.objects.get(key="tohoku")
    assert sorted(tohoku.prefectures.values_list("name_ja", flat=True)) == sorted(
        ["青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県"]
    )


def test_every_region_has_prefectures_and_they_add_up_to_47():
    counts = {region.key: region.prefectures.count() for region in Region.objects.all()}
    assert all(n > 0 for n in counts.values())
    assert sum(counts.values()) == 47
    assert counts["hokkaido"] == 1
    assert counts["shikoku"] == 4


@pytest.mark.parametrize("code", ["02", "03", "05", "06", "07"], ids=["Aomori", "Iwate", "Akita", "Yamagata", "Fukushima"])
def test_the_northern_tohoku_prefectures_are_under_served(code):
    assert Prefecture.objects.get(code=code).is_underserved is True


@pytest.mark.parametrize("code", ["04", "13"], ids=["Miyagi", "Tokyo"])
def test_miyagi_and_tokyo_are_not_under_served(code):
    assert Prefecture.objects.get(code=code).is_underserved is False


def test_exactly_the_16_physician_shortage_prefectures_are_under_served():
    underserved = [p for p in Prefecture.objects.all() if p.is_underserved]
    assert len(underserved) == 16
    assert {p.code for p in underserved} == {r["code"] for r in ROWS if r["designation_2019"] == "shortage"}
    # The shortage prefectures are the bottom 16 by the maldistribution indicator.
    assert {p.maldistribution_rank for p in underserved} == set(range(32, 48))


def test_loading_twice_does_not_duplicate_anything():
    assert load_regions(Region, Prefecture) == (8, 47)
    assert load_regions(Region, Prefecture) == (8, 47)
    assert Region.objects.count() == 8
    assert Prefecture.objects.count() == 47
    assert snapshot() == expected()


def test_loading_again_puts_edited_reference_data_back_in_line_with_the_csv():
    Prefecture.objects.filter(code="02").update(designation="surplus", name_en="Atlantis")
    load_regions(Region, Prefecture)
    aomori = Prefecture.objects.get(code="02")
    assert aomori.name_en == "Aomori"
    assert aomori.is_underserved


def test_the_load_regions_command_loads_the_data_into_an_empty_database():
    Prefecture.objects.all().delete()
    Region.objects.all().delete()
    out = StringIO()
    call_command("load_regions", stdout=out)
    assert "8 regions" in out.getvalue()
    assert "47 prefectures" in out.getvalue()
    assert Region.objects.count() == 8
    assert snapshot() == expected()


def test_the_load_regions_command_can_be_run_again_safely():
    call_command("load_regions", stdout=StringIO())
    call_command("load_regions", stdout=StringIO())
    assert Region.objects.count() == 8
    assert Prefecture.objects.count() == 47


def test_names_are_shown_in_the_active_language():
    aomori = Prefecture.objects.get(code="02")
    tohoku = Region.objects.get(key="tohoku")
    with translation.override("ja"):
        assert aomori.display_name == "青森県"
        assert str(aomori) == "青森県"
        assert tohoku.display_name == "東北"
    with translation.override("en"):
        assert aomori.display_name == "Aomori"
        assert str(aomori) == "Aomori"
        assert tohoku.display_name == "Tohoku"


def test_the_sources_of_the_data_are_documented_next_to_it():
    sources = DATA / "SOURCES.md"
    assert sources.is_file()
    text = sources.read_text(encoding="utf-8")
    assert "MHLW" in text
    assert "医師偏在指標" in text
    assert "prefectures.csv" in text
