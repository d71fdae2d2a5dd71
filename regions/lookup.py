"""Which region a prefecture is in, and a prefecture's names: cached lookups by prefecture code.

Read from regions/data/prefectures.csv, the file the Region and Prefecture rows
are loaded from (regions.loading), so it agrees with the database without a
query: presence is counted in the event loop, where a query would block, and
every join and reconnect names its physician's prefecture (prefecture_for).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from functools import cache

from django.db import DEFAULT_DB_ALIAS

from .loading import read_rows
from .models import Prefecture

OTHER = "other"  # where count_by_region puts a count whose prefecture code is unknown (or blank)


# What an admission reads of a prefecture (events.sql): the rest stays deferred, as in a query for these columns.
PREFECTURE_FIELDS = ("code", "name_ja", "name_en", "region_id")


@cache
def _prefecture_values() -> dict[str, tuple[str, str, str, str]]:
    """Prefecture code → its PREFECTURE_FIELDS values: the file read once, for both lookups below."""
    return {row["code"]: (row["code"], row["name_ja"], row["name_en"], row["region_key"]) for row in read_rows()}


@cache
def region_map() -> dict[str, str]:
    """Prefecture code ("01" … "47") → region key ("hokkaido" … "kyushu_okinawa")."""
    return {code: values[PREFECTURE_FIELDS.index("region_id")] for code, values in _prefecture_values().items()}


def prefecture_for(code: str) -> Prefecture:
    """The prefecture ``code`` with PREFECTURE_FIELDS, as a query for them would give it, without the query.

    A new instance each call, so no caller sees another's changes. Joining the
    prefecture table into the admission's statements cost PostgreSQL about 0.25 ms
    of CPU per join and per reconnect, a third of that statement's, in the
    planner's search over one more table (docs/performance.md, "Issue 13: the mass
    reconnect within 15 s"). A code the file does not hold (only possible if the
    table was edited by hand) is read from the database.
    """
    values = _prefecture_values().get(code)
    if values is None:
        return Prefecture.objects.only(*PREFECTURE_FIELDS).get(code=code)
    return Prefecture.from_db(DEFAULT_DB_ALIAS, list(PREFECTURE_FIELDS), list(values))


def region_of(prefecture_code: str) -> str:
    """The region key of a prefecture; "" for no (or an unknown) prefecture, as a staff member has."""
    return region_map().get(prefecture_code, "")


def count_by_region(by_prefecture: Mapping[str, int]) -> dict[str, int]:
    """Counts per prefecture code folded into counts per region key (unknown codes under OTHER), sorted by key."""
    regions: Counter[str] = Counter()
    for code, n in by_prefecture.items():
        regions[region_of(code) or OTHER] += n
    return dict(sorted(regions.items()))
