"""What every adapter derives from a document to find it by (one rule, whichever database).

The documents stay the source of truth; adapters index these derived values only to narrow a query
to *candidates*, and the reference semantics (``query.match``) decide unless the translation proves
it needs no check. So each function here must return a superset of what a query could reach.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ngsild.model import Doc
from ngsild.query.ast import Compare, Coordinates, GeoQuery, GeoRel, Op, Range, Temporal

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


# ---- what a comparison asks of the scalars ----------------------------------------------------------

INT64 = range(-(2**63), 2**63)  # what BSON and SQLite hold as integers


def pushable_number(value: object) -> bool:
    """A number literal every adapter compares exactly: integers must fit int64 (a q literal may
    have any number of digits; SQLite binds int64 and Decimal128 holds 34 digits)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value in INT64
    return isinstance(value, float)


@dataclass(frozen=True, slots=True)
class Ordered:
    """Some scalar of the attribute is ``op`` (>, >=, <, <=) ``value``."""

    op: Op
    value: int | float | str
    exact: bool


@dataclass(frozen=True, slots=True)
class Between:
    """Some scalar of the attribute lies in [low, high] (both numbers or both strings)."""

    low: int | float | str
    high: int | float | str
    exact: bool


@dataclass(frozen=True, slots=True)
class OneOf:
    """Some scalar of the attribute is one of these numbers or strings."""

    numbers: tuple[int | float, ...]
    texts: tuple[str, ...]
    exact: bool


ScalarTest = Ordered | Between | OneOf


def scalar_test(node: Compare) -> ScalarTest | None:
    """The necessary condition a comparison on the attribute itself sets on its ``scalars``, and
    whether it is also sufficient (None: nothing to say beyond the attribute's existence).

    Numbers among the scalars come only from values that the reference semantics compare
    numerically, so number conditions are exact. Strings also come from relationships,
    vocabularies and language maps, which compare differently: string conditions are exact only for
    plain equality without vocabulary expansions. Booleans and dates are never pushed down.
    """
    value = node.value
    if node.op in (Op.GT, Op.GE, Op.LT, Op.LE):
        if pushable_number(value):
            assert isinstance(value, int | float)
            return Ordered(node.op, value, True)
        return Ordered(node.op, value, False) if isinstance(value, str) else None
    if node.op is not Op.EQ:
        return None
    if isinstance(value, Range):
        if pushable_number(value.low) and pushable_number(value.high):
            assert isinstance(value.low, int | float) and isinstance(value.high, int | float)
            return Between(value.low, value.high, True)
        if isinstance(value.low, str) and isinstance(value.high, str):
            return Between(value.low, value.high, False)
        return None
    candidates = value if isinstance(value, tuple) else (value,)
    if any(
        isinstance(c, bool | Temporal) or (isinstance(c, int | float) and not pushable_number(c)) for c in candidates
    ):
        return None
    numbers = tuple(c for c in candidates if isinstance(c, int | float))
    named = {c for c in candidates if isinstance(c, str)}
    # Exact unless a vocabulary expansion adds a string the literal itself does not name.
    return OneOf(numbers, tuple(sorted(named | set(node.vocab))), set(node.vocab) <= named)


# ---- geometry --------------------------------------------------------------------------------------


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
