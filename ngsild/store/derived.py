"""What every adapter derives from a document to find it by (one rule, whichever database).

The documents stay the source of truth; adapters index these derived values only to narrow a query
to *candidates*, and the reference semantics (``query.match``) decide unless the translation proves
it needs no check. So each function here must return a superset of what a query could reach.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from typing import Any

from ngsild.model import Doc
from ngsild.query.ast import Coordinates, GeoQuery, GeoRel

_METRES_PER_DEGREE = 111_194.9  # on the mean Earth radius used by query.geo

# The member holding what a q comparison on the attribute itself reaches, per attribute kind.
_SCALAR_KINDS = {
    "Property": "value",
    "ListProperty": "valueList",
    "Relationship": "object",
    "ListRelationship": "objectList",
    "VocabProperty": "vocab",
    "JsonProperty": "json",  # an array of scalars compares element-wise like a list
}

Box = tuple[float, float, float, float]  # min_x, max_x, min_y, max_y


def attribute_kinds(doc: Doc) -> Counter[tuple[str, str]]:
    """(attribute IRI, kind) -> number of instances."""
    kinds: Counter[tuple[str, str]] = Counter()
    for attr, insts in doc["attrs"].items():
        for inst in insts:
            kinds[(attr, inst["type"])] += 1
    return kinds


def scalars(doc: Doc) -> list[tuple[str, int | float | str]]:
    """(attr, number or string) for every scalar a q comparison on the attribute itself could reach
    (booleans excluded: no adapter pushes them down)."""
    rows: list[tuple[str, int | float | str]] = []
    for attr, insts in doc["attrs"].items():
        for inst in insts:
            kind = inst["type"]
            if kind == "LanguageProperty":
                for text in inst["languageMap"].values():
                    rows.extend((attr, t) for t in (text if isinstance(text, list) else [text]) if isinstance(t, str))
                continue
            member = _SCALAR_KINDS.get(kind)
            if member is None:
                continue
            value = inst[member]
            if isinstance(value, dict) and "@value" in value:
                value = value["@value"]
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, int | float | str) and not isinstance(item, bool):
                    rows.append((attr, item))
    return rows


def geometries(doc: Doc) -> Iterator[tuple[str, dict[str, Any]]]:
    """(attr, GeoJSON geometry) for every GeoProperty instance."""
    for attr, insts in doc["attrs"].items():
        for inst in insts:
            if inst["type"] == "GeoProperty":
                yield attr, inst["value"]


def bounding_box(geometry: dict[str, Any]) -> Box | None:
    """The geometry's (min_x, max_x, min_y, max_y), or None when it has no positions."""
    xs: list[float] = []
    ys: list[float] = []
    _positions(geometry["coordinates"], xs, ys)
    return (min(xs), max(xs), min(ys), max(ys)) if xs else None


def search_box(query: GeoQuery) -> Box | None:
    """A box that the bounding box of every target matching ``query`` intersects, or None when
    there is none (disjoint, near without maxDistance, near a pole or across the antimeridian)."""
    xs: list[float] = []
    ys: list[float] = []
    _positions(query.coordinates, xs, ys)
    min_x, max_x, min_y, max_y = min(xs), max(xs), min(ys), max(ys)
    if query.georel is GeoRel.DISJOINT or (query.georel is GeoRel.NEAR and query.max_distance is None):
        return None
    if query.georel is GeoRel.NEAR:
        assert query.max_distance is not None
        margin = query.max_distance * 1.01 + 1.0  # metres, a little generous on purpose
        d_lat = margin / _METRES_PER_DEGREE
        min_y, max_y = min_y - d_lat, max_y + d_lat
        if min_y <= -89.0 or max_y >= 89.0:
            return None  # near a pole every longitude is close
        widest = max(abs(min_y), abs(max_y))
        d_lon = d_lat / math.cos(math.radians(widest))
        min_x, max_x = min_x - d_lon, max_x + d_lon
        if min_x < -180.0 or max_x > 180.0:
            return None  # crosses the antimeridian
    return min_x, max_x, min_y, max_y


def _positions(coordinates: Coordinates | list[Any], xs: list[float], ys: list[float]) -> None:
    """Collect the positions of GeoJSON coordinates (lists in documents, tuples in queries)."""
    if isinstance(coordinates, list | tuple) and coordinates and isinstance(coordinates[0], int | float):
        x, y = coordinates[0], coordinates[1]
        assert isinstance(x, int | float) and isinstance(y, int | float)
        xs.append(float(x))
        ys.append(float(y))
    elif isinstance(coordinates, list | tuple):
        for item in coordinates:
            _positions(item, xs, ys)
