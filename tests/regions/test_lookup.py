"""The one region lookup by prefecture code (regions.lookup)."""

from __future__ import annotations

import pytest

from regions.lookup import OTHER, count_by_region, region_map, region_of
from regions.models import Prefecture


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
