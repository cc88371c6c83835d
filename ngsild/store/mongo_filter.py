"""The MongoDB record of an entity, and EntityQuery -> (filter document, residual) over it.

A record carries the entity document as JSON text (its IRI keys hold dots, which MongoDB field paths
cannot address, and the text is what the API serves) beside fields shaped for MongoDB's indexes:

    _id      ObjectId made at creation: sorting on it is creation order, and a replace keeps it
    tenant, id, rev      the key (a unique index) and the revision a replace must name
    types    [type IRI]                          multikey
    scopes   [scope]                             multikey, for scopeQ as anchored regexes
    attrs    [{n: attr IRI, k: kind, c: instances}]     existence in q, attrs=, /attributes
    vals     [{n: attr IRI, v: scalar}]          comparisons in q ($elemMatch on one index)
    geo      {key: GeoJSON}                      one 2dsphere index per GeoProperty key
    recheck  true when a geometry could not be indexed (too large, or not a valid position)
    modifiedAt

Everything the filter pushes down is a *necessary* condition (derived.py's rules); the filter is the
whole answer only when ``residual`` is None, otherwise the store applies ``query.match.matches``
(the residual query) to each candidate.

Geometry is where MongoDB differs from our semantics: its edges are geodesics, ours are straight
lines in longitude/latitude. So entity geometries other than points are indexed as their bounding
box, and a geo-query searches the box ``derived.search_box`` gives. Both boxes are drawn as polygons
with edges of at most one degree, widened by a margin far larger than a one-degree geodesic strays
from its parallel, so each spherical polygon holds its planar box and intersecting planar boxes
always give intersecting polygons. Nothing is missed; the residual check drops the extra candidates.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bson.decimal128 import Decimal128

from ngsild.model import Doc
from ngsild.query.ast import (
    And,
    Compare,
    EntityQuery,
    Exists,
    GeoQuery,
    Op,
    Or,
    Path,
    Q,
    ScopePattern,
    ScopeQuery,
    TypeSelector,
)
from ngsild.query.regex import Regex
from ngsild.store import derived

Filter = dict[str, Any]

CORE_PREFIX = "https://uri.etsi.org/ngsi-ld/"
CORE_GEO_KEYS = frozenset({"location", "observationSpace", "operationSpace"})
_ENTITY_MEMBERS = frozenset({"createdAt", "modifiedAt"})  # q names that may address the entity itself
_MONGO_OPS = {Op.GT: "$gt", Op.GE: "$gte", Op.LT: "$lt", Op.LE: "$lte"}

# Box polygons: edges of at most one degree, widened by MARGIN degrees (a one-degree geodesic strays
# from its parallel by about 0.001 degree at most), and only where a polygon is unambiguous for
# MongoDB (well inside a hemisphere, away from the poles and the antimeridian).
_EDGE_DEGREES = 1.0
MARGIN = 0.01
_MAX_WIDTH = 170.0
_MAX_LATITUDE = 85.0


# ---- the record ------------------------------------------------------------------------------------


def geo_key(attr: str) -> str:
    """The field under ``geo`` for a GeoProperty: the core ones by name, others by a digest (IRIs
    hold dots, which field names cannot)."""
    if attr.startswith(CORE_PREFIX) and attr[len(CORE_PREFIX) :] in CORE_GEO_KEYS:
        return attr[len(CORE_PREFIX) :]
    return "h" + hashlib.sha256(attr.encode()).hexdigest()[:24]


def record(tenant: str, doc: Doc, text: str, revision: int) -> dict[str, Any]:
    """The record stored for ``doc`` (``text`` is its JSON), without ``_id``."""
    rec: dict[str, Any] = {
        "tenant": tenant,
        "id": doc["id"],
        "rev": revision,
        "doc": text,
        "types": doc["type"],
        "attrs": [{"n": n, "k": k, "c": c} for (n, k), c in derived.attribute_kinds(doc).items()],
        "vals": [{"n": n, "v": _bson_number(v)} for n, v in derived.scalars(doc)],
        "modifiedAt": _moment(doc.get("modifiedAt")),
    }
    if doc.get("scope"):
        rec["scopes"] = doc["scope"]
    by_attr: dict[str, list[dict[str, Any]]] = {}
    for attr, geometry in derived.geometries(doc):
        by_attr.setdefault(attr, []).append(geometry)
    geo = {}
    for attr, shapes in by_attr.items():
        shape = _indexable(shapes)
        if shape is None:
            rec["recheck"] = True
        else:
            geo[geo_key(attr)] = shape
    if geo:
        rec["geo"] = geo
    return rec


def _bson_number(value: int | float | str) -> int | float | str | Decimal128:
    """Integers beyond BSON's int64 (JSON allows them) as Decimal128, which compares exactly."""
    if isinstance(value, int) and value not in derived.INT64:
        return Decimal128(str(value))
    return value


def _moment(text: object) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None


def _indexable(geometries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one GeoJSON value the 2dsphere index holds for an attribute's instances: a lone point as
    itself, anything else (several instances too) as the bounding-box polygon of them all; None
    when MongoDB could not index it faithfully. (A polygon rather than a MultiPoint for several
    points: the SecantusDB stand-in cannot index MultiPoints.)"""
    if len(geometries) == 1 and geometries[0].get("type") == "Point":
        x, y = geometries[0]["coordinates"][:2]
        return {"type": "Point", "coordinates": [x, y]} if -180 <= x <= 180 and -90 <= y <= 90 else None
    boxes = [box for g in geometries if (box := derived.bounding_box(g)) is not None]
    if len(boxes) < len(geometries):
        return None
    return box_polygon(
        (min(b[0] for b in boxes), max(b[1] for b in boxes), min(b[2] for b in boxes), max(b[3] for b in boxes))
    )


def box_polygon(box: derived.Box) -> dict[str, Any] | None:
    """The widened polygon of a planar box (see the module docstring), or None where there is none."""
    min_x, max_x, min_y, max_y = box
    min_x, max_x, min_y, max_y = min_x - MARGIN, max_x + MARGIN, min_y - MARGIN, max_y + MARGIN
    if min_x < -180 or max_x > 180 or max_x - min_x > _MAX_WIDTH or min_y < -_MAX_LATITUDE or max_y > _MAX_LATITUDE:
        return None
    steps = max(1, math.ceil((max_x - min_x) / _EDGE_DEGREES))
    south = [[min_x + (max_x - min_x) * i / steps, min_y] for i in range(steps)]
    north = [[max_x - (max_x - min_x) * i / steps, max_y] for i in range(steps)]
    ring = [*south, [max_x, min_y], *north, [min_x, max_y], [min_x, min_y]]  # counter-clockwise
    return {"type": "Polygon", "coordinates": [ring]}


# ---- the filter ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Translation:
    filter: Filter  # always names the tenant
    residual: EntityQuery | None  # None: the filter selects exactly the matches


@dataclass(frozen=True, slots=True)
class _Part:
    """A necessary condition; ``exact`` when it is also sufficient. An empty filter is no condition."""

    filter: Filter
    exact: bool


_NOTHING_KNOWN = _Part({}, False)


def translate(tenant: str, query: EntityQuery) -> Translation:
    parts = [_selector(query.ids, query.id_pattern, query.types)]
    if query.selectors:
        parts.append(_any_of([_selector(s.ids, s.id_pattern, s.types) for s in query.selectors]))
    if query.attrs is not None:
        parts.append(_Part({"attrs.n": {"$in": sorted(query.attrs)}}, True))
    if query.q is not None:
        parts.append(_q(query.q))
    if query.geo is not None:
        parts.append(_geo(query.geo))
    if query.scope is not None:
        parts.append(_scope(query.scope))
    combined = _all_of(parts)
    return Translation(_and({"tenant": tenant}, combined.filter), None if combined.exact else query)


def _and(*filters: Filter) -> Filter:
    present = [f for f in filters if f]
    if not present:
        return {}
    if len(present) == 1:
        return present[0]
    merged: Filter = {}
    for f in present:
        if merged.keys() & f.keys():
            return {"$and": present}
        merged.update(f)
    return merged


def _all_of(parts: list[_Part]) -> _Part:
    return _Part(_and(*(p.filter for p in parts)), all(p.exact for p in parts))


def _any_of(parts: list[_Part]) -> _Part:
    exact = all(p.exact for p in parts)
    if any(not p.filter for p in parts):  # one alternative without conditions admits everything
        return _Part({}, exact)
    if len(parts) == 1:
        return parts[0]
    return _Part({"$or": [p.filter for p in parts]}, exact)


def _selector(ids: frozenset[str] | None, pattern: Regex | None, types: TypeSelector | None) -> _Part:
    parts = []
    if ids is not None:
        parts.append(_Part({"id": {"$in": sorted(ids)}}, True))
    elif pattern is not None:
        prefix = literal_prefix(pattern.source)
        parts.append(_Part({"id": {"$regex": "^" + re.escape(prefix)}} if prefix else {}, False))
    if types is not None:
        parts.append(_any_of([_Part(_types(group), True) for group in types.groups]))
    return _all_of(parts)


def _types(group: frozenset[str]) -> Filter:
    names = sorted(group)
    return {"types": names[0]} if len(names) == 1 else {"types": {"$all": names}}


_REGEX_SPECIAL = frozenset(".[]()*+?{}|\\^$")


def literal_prefix(source: str) -> str:
    """The text every match of an anchored, case-sensitive POSIX ERE starts with ("" when unknown)."""
    if not source.startswith("^") or "|" in source:
        return ""
    prefix: list[str] = []
    for ch in source[1:]:
        if ch in _REGEX_SPECIAL:
            if ch in "*?{" and prefix:
                prefix.pop()  # the last literal may repeat zero times
            break
        prefix.append(ch)
    return "".join(prefix)


# ---- q ---------------------------------------------------------------------------------------------


def _simple(path: Path) -> bool:
    return not path.members and path.keys is None and path.attr.name not in _ENTITY_MEMBERS


def _q(node: Q) -> _Part:
    if isinstance(node, And):
        return _all_of([_q(t) for t in node.terms])
    if isinstance(node, Or):
        return _any_of([_q(t) for t in node.terms])
    if node.path.attr.name in _ENTITY_MEMBERS:
        return _NOTHING_KNOWN  # may address the entity's own timestamps
    attr = node.path.attr.iri
    if isinstance(node, Exists) and node.negated:
        return _Part({"attrs.n": {"$ne": attr}}, True) if _simple(node.path) else _NOTHING_KNOWN
    if isinstance(node, Compare) and _simple(node.path):
        value = _value_condition(node)
        if value is not None:
            condition, exact = value
            return _Part({"vals": {"$elemMatch": {"n": attr, "v": condition}}}, exact)
    # Every other term needs its attribute to exist; plain existence is all that `attr` asks.
    return _Part({"attrs.n": attr}, isinstance(node, Exists) and _simple(node.path))


def _value_condition(node: Compare) -> tuple[Filter, bool] | None:
    """(condition on a ``vals`` value, whether it is exact): ``derived.scalar_test`` in MongoDB terms
    (BSON orders numbers and strings apart, as the reference semantics do)."""
    match derived.scalar_test(node):
        case None:
            return None
        case derived.Ordered(op, value, exact):
            return {_MONGO_OPS[op]: value}, exact
        case derived.Between(low, high, exact):
            return {"$gte": low, "$lte": high}, exact
        case derived.OneOf(numbers, texts, exact):
            return {"$in": [*numbers, *texts]}, exact
    raise AssertionError("unreachable")  # pragma: no cover


# ---- geo and scope ---------------------------------------------------------------------------------


def _geo(query: GeoQuery) -> _Part:
    box = derived.search_box(query)
    polygon = None if box is None else box_polygon(box)
    if polygon is None:
        return _Part({"attrs.n": query.geoproperty}, False)
    near = {f"geo.{geo_key(query.geoproperty)}": {"$geoIntersects": {"$geometry": polygon}}}
    return _Part({"$or": [near, {"recheck": True}]}, False)


def _scope(query: ScopeQuery) -> _Part:
    """scopeQ as anchored regexes on the scopes: ``match.scope_matches`` strips leading slashes and
    splits on ``/``, so ``+`` is any one level (possibly empty) and ``#`` any suffix of levels."""
    groups = []
    for group in query.groups:
        if any(not p.levels and not p.descendants for p in group):
            return _NOTHING_KNOWN
        groups.append(_Part(_and(*({"scopes": {"$regex": _scope_regex(p)}} for p in group)), True))
    return _any_of(groups)


def _scope_regex(pattern: ScopePattern) -> str:
    levels = "/".join("[^/]*" if level == "+" else re.escape(level) for level in pattern.levels)
    if not pattern.levels:
        return "^"  # /#: any scope
    # (?!/): every leading slash is stripped, so the first level cannot start with one.
    return "^/*(?!/)" + levels + ("(/.*)?$" if pattern.descendants else "$")
