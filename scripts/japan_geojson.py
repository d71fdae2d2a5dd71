"""Convert the prefecture outlines of the `japanmap` package (PyPI, Apache-2.0) to GeoJSON.

The regional dashboard draws Japan with Apache ECharts, which reads GeoJSON.
japanmap ships each prefecture's main area (the one with its capital) as a
polygon of longitude/latitude points; islands are left out, which keeps the
file small enough for a phone. Okinawa is moved north-east beside Kyushu, as
japanmap's own maps do, so that the whole country fits a narrow screen.

Run once when updating the vendored file (japanmap needs numpy, so it is not
a dependency of Renkei):

    pip download --no-deps japanmap==0.6.0 && unzip japanmap-0.6.0-*.whl 'japanmap/*'
    python scripts/japan_geojson.py japanmap/japan.json frontend/static/vendor/japanmap/prefectures.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# japanmap.get_data(move_okinawa=True) applies the same shift.
OKINAWA_SHIFT = (4.5, 5.0)


def prefecture_polygons(data: list) -> list[list[tuple[float, float]]]:
    """Each prefecture's outline, code order (index 0 is 01 Hokkaido), as japanmap.pref_points builds it."""
    points, outlines = data
    polygons = []
    for index, borders in enumerate(outlines):
        ring = [tuple(points[i][0]) for _neighbour, ids in borders for i in ids]
        if index == 46:
            ring = [(lon + OKINAWA_SHIFT[0], lat + OKINAWA_SHIFT[1]) for lon, lat in ring]
        polygons.append(ring)
    return polygons


def geojson(polygons: list[list[tuple[float, float]]]) -> dict:
    features = []
    for index, ring in enumerate(polygons):
        coordinates = [[round(lon, 3), round(lat, 3)] for lon, lat in ring]
        if coordinates[0] != coordinates[-1]:
            coordinates.append(coordinates[0])
        code = f"{index + 1:02d}"
        features.append({
            "type": "Feature",
            "properties": {"code": code},
            "geometry": {"type": "Polygon", "coordinates": [coordinates]},
        })
    return {"type": "FeatureCollection", "features": features}


def main(source: str, target: str) -> None:
    data = json.loads(Path(source).read_text(encoding="utf-8"))
    Path(target).write_text(json.dumps(geojson(prefecture_polygons(data)), separators=(",", ":")), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:3])
