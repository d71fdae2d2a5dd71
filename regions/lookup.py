"""Which region a prefecture is in: one cached lookup by prefecture code.

Read from regions/data/prefectures.csv, the file the Region and Prefecture rows
are loaded from (regions.loading), so it agrees with the database without a
query: presence is counted in the event loop, where a query would block.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from functools import cache

from .loading import read_rows

OTHER = "other"  # where count_by_region puts a count whose prefecture code is unknown (or blank)


@cache
def region_map() -> dict[str, str]:
    """Prefecture code ("01" … "47") → region key ("hokkaido" … "kyushu_okinawa")."""
    return {row["code"]: row["region_key"] for row in read_rows()}


def region_of(prefecture_code: str) -> str:
    """The region key of a prefecture; "" for no (or an unknown) prefecture, as a staff member has."""
    return region_map().get(prefecture_code, "")


def count_by_region(by_prefecture: Mapping[str, int]) -> dict[str, int]:
    """Counts per prefecture code folded into counts per region key (unknown codes under OTHER), sorted by key."""
    regions: Counter[str] = Counter()
    for code, n in by_prefecture.items():
        regions[region_of(code) or OTHER] += n
    return dict(sorted(regions.items()))
