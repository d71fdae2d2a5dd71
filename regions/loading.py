"""Load the regional reference data from the CSV kept in regions/data/."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from typing import Any

CSV_PATH = Path(__file__).resolve().parent / "data" / "prefectures.csv"

REGION_NAMES_EN = {
    "hokkaido": "Hokkaido",
    "tohoku": "Tohoku",
    "kanto": "Kanto",
    "chubu": "Chubu",
    "kinki": "Kinki",
    "chugoku": "Chugoku",
    "shikoku": "Shikoku",
    "kyushu_okinawa": "Kyushu / Okinawa",
}


def read_rows(path: Path = CSV_PATH) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def load_regions(region_model: Any, prefecture_model: Any) -> tuple[int, int]:
    """Create or update every region and prefecture; safe to run any number of times.

    Takes the model classes so that a data migration can pass its historical models.
    """
    rows = read_rows()
    order: dict[str, int] = {}
    for row in rows:
        key = row["region_key"]
        if key not in order:
            order[key] = len(order) + 1
            region_model.objects.update_or_create(
                key=key,
                defaults={"name_ja": row["region_ja"], "name_en": REGION_NAMES_EN[key], "order": order[key]},
            )
    for row in rows:
        prefecture_model.objects.update_or_create(
            code=row["code"],
            defaults={
                "name_ja": row["name_ja"],
                "name_en": row["name_en"],
                "region_id": row["region_key"],
                "physicians_per_100k": Decimal(row["physicians_per_100k_2024"]),
                "maldistribution_index": Decimal(row["maldistribution_index_2019"]),
                "maldistribution_rank": int(row["maldistribution_rank_2019"]),
                "designation": row["designation_2019"],
                "population": int(row["population_2020"]),
            },
        )
    return len(order), len(rows)


def load_regions_after_migrate(sender: Any = None, **kwargs: Any) -> None:
    from .models import Prefecture, Region

    load_regions(Region, Prefecture)
