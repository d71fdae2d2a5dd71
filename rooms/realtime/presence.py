"""Presence helpers: prefecture counts folded into region blocks."""

from __future__ import annotations

from collections import Counter
from functools import lru_cache

from regions.loading import read_rows


@lru_cache(maxsize=1)
def _region_of() -> dict[str, str]:
    return {row["code"]: row["region_key"] for row in read_rows()}


def regions_of(by_prefecture: Counter[str] | dict[str, int]) -> dict[str, int]:
    regions: Counter[str] = Counter()
    mapping = _region_of()
    for code, n in by_prefecture.items():
        regions[mapping.get(code, "other")] += n
    return dict(sorted(regions.items()))
