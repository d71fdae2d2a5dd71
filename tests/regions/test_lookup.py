"""The one region lookup by prefecture code (regions.lookup)."""

from __future__ import annotations

import pytest

from regions.lookup import OTHER, PREFECTURE_FIELDS, count_by_region, prefecture_for, region_map, region_of
from regions.models import Prefecture, Region


def test_a_prefecture_code_gives_its_region_block() -> None:
    assert region_of("01") == "hokkaido"
    assert region_of("03") == "tohoku"
    assert region_of("13") == "kanto"
    assert region_of("47") == "kyushu_okinawa"


def test_no_prefecture_or_an_unknown_code_has_no_region() -> None:
    assert region_of("") == ""
    assert region_of("99") == ""


def test_the_map_is_read_once_and_covers_the_47_prefectures() -> None:
    assert region_map() is region_map()
    assert len(region_map()) == 47


@pytest.mark.django_db
def test_the_lookup_agrees_with_the_prefectures_in_the_database() -> None:
    assert dict(Prefecture.objects.values_list("code", "region_id")) == region_map()


def test_counts_by_prefecture_fold_into_counts_by_region_with_unknown_codes_apart() -> None:
    counts = count_by_region({"02": 2, "03": 1, "13": 4, "--": 5, "99": 1})
    assert counts == {"kanto": 4, OTHER: 6, "tohoku": 3}
    assert list(counts) == sorted(counts)


@pytest.mark.django_db
def test_a_prefecture_from_the_lookup_has_the_names_and_region_the_database_has(django_assert_num_queries) -> None:
    stored = {p.code: p for p in Prefecture.objects.all()}
    assert len(stored) == 47
    with django_assert_num_queries(0):
        looked_up = {code: prefecture_for(code) for code in stored}
    for code, prefecture in looked_up.items():
        assert [getattr(prefecture, f) for f in PREFECTURE_FIELDS] == [getattr(stored[code], f) for f in PREFECTURE_FIELDS]
    assert looked_up["03"].display_name == "岩手県"


def test_each_lookup_is_an_instance_of_its_own() -> None:
    first = prefecture_for("03")
    first.name_ja = "changed"
    assert prefecture_for("03").name_ja == "岩手県"


@pytest.mark.django_db
def test_a_prefecture_the_file_does_not_hold_is_read_from_the_database() -> None:
    Prefecture.objects.create(code="99", name_ja="試験県", name_en="Test", region=Region.objects.get(key="tohoku"),
                              physicians_per_100k=1, maldistribution_index=1, maldistribution_rank=48,
                              designation=Prefecture.Designation.MIDDLE)
    assert prefecture_for("99").name_ja == "試験県"
