"""EntityQuery -> SQL over the SQLite store: a WHERE clause that selects candidates, and whether it
is exact. Conditions on side tables (types, attribute names, scalar values, geo boxes) are pushed
down as *necessary* conditions; unless the SQL alone decides the answer, the store applies
``query.match.matches`` to every candidate, so the result is always the reference semantics."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from ngsild.query.ast import (
    And,
    Compare,
    Coordinates,
    EntityQuery,
    Exists,
    GeoQuery,
    GeoRel,
    Op,
    Or,
    Path,
    Q,
    Range,
    Temporal,
    TypeSelector,
)
from ngsild.query.regex import Regex

_METRES_PER_DEGREE = 111_194.9  # on the mean Earth radius used by query.geo
_ENTITY_MEMBERS = frozenset({"createdAt", "modifiedAt"})  # q names that may address the entity itself
_SQL_OPS = {Op.GT: ">", Op.GE: ">=", Op.LT: "<", Op.LE: "<="}


@dataclass(frozen=True, slots=True)
class Translation:
    where: str  # conditions on the table aliased "e", ANDed with the tenant condition
    params: list[Any]
    exact: bool  # True: the SQL selects exactly the matches, no residual check needed


def translate(tenant: str, query: EntityQuery) -> Translation:
    clauses: list[str] = []
    params: list[Any] = []
    selected = _selector(tenant, query.ids, query.id_pattern, query.types, params)
    if selected.sql:
        clauses.append(selected.sql)
    exact = selected.exact
    if query.selectors:
        alternative_params: list[Any] = []
        alternatives = [_selector(tenant, s.ids, s.id_pattern, s.types, alternative_params) for s in query.selectors]
        if all(a.sql for a in alternatives):  # a selector without conditions selects everything
            clauses.append("(" + " OR ".join(a.sql for a in alternatives) + ")")
            params.extend(alternative_params)
        exact = exact and all(a.exact for a in alternatives)
    if query.attrs is not None:
        marks = ", ".join("?" for _ in query.attrs)
        clauses.append(f"e.id IN (SELECT id FROM entity_attrs WHERE tenant = ? AND attr IN ({marks}))")
        params.append(tenant)
        params.extend(sorted(query.attrs))
    if query.q is not None:
        condition = _q(tenant, query.q, params)
        if condition is not None:
            clauses.append(condition)
        exact = exact and _exact_q(query.q)
    if query.geo is not None:
        condition = _geo(tenant, query.geo, params)
        if condition is not None:
            clauses.append(condition)
        exact = False
    if query.scope is not None:
        exact = False
    return Translation(" AND ".join(clauses) if clauses else "1", params, exact)


@dataclass(frozen=True, slots=True)
class _Condition:
    sql: str  # "" when nothing narrows the selection
    exact: bool


def _selector(
    tenant: str, ids: frozenset[str] | None, pattern: Regex | None, types: TypeSelector | None, params: list[Any]
) -> _Condition:
    parts: list[str] = []
    exact = True
    if ids is not None:
        parts.append(f"e.id IN ({', '.join('?' for _ in ids)})")
        params.extend(sorted(ids))
    elif pattern is not None:
        exact = False
    if types is not None:
        groups = []
        for group in types.groups:
            conjunction = []
            for type_iri in sorted(group):
                conjunction.append("e.id IN (SELECT id FROM entity_types WHERE tenant = ? AND type = ?)")
                params.extend((tenant, type_iri))
            groups.append("(" + " AND ".join(conjunction) + ")")
        parts.append("(" + " OR ".join(groups) + ")")
    return _Condition(" AND ".join(parts), exact)


# ---- q ---------------------------------------------------------------------------------------------


def _exact_q(node: Q) -> bool:
    """Only plain existence of top-level attributes is decided by the side tables alone."""
    if isinstance(node, And):
        return all(_exact_q(t) for t in node.terms)
    return isinstance(node, Exists) and not node.negated and _simple(node.path)


def _simple(path: Path) -> bool:
    return not path.members and path.keys is None and path.attr.name not in _ENTITY_MEMBERS


def _q(tenant: str, node: Q, params: list[Any]) -> str | None:
    """A necessary condition for ``node``, or None when nothing can be said in SQL."""
    if isinstance(node, And):
        parts = [p for p in (_q(tenant, t, params) for t in node.terms) if p is not None]
        return " AND ".join(parts) if parts else None
    if isinstance(node, Or):
        local: list[Any] = []
        alternatives = [_q(tenant, t, local) for t in node.terms]
        if any(a is None for a in alternatives):
            return None
        params.extend(local)
        return "(" + " OR ".join(a for a in alternatives if a is not None) + ")"
    if isinstance(node, Exists) and node.negated:
        return None
    if node.path.attr.name in _ENTITY_MEMBERS:
        return None  # may address the entity's own timestamps, which no side table holds
    if isinstance(node, Compare) and _simple(node.path):
        condition = _value_condition(node)
        if condition is not None:
            sql, values = condition
            params.extend((tenant, node.path.attr.iri, *values))
            return f"e.id IN (SELECT id FROM attr_values WHERE tenant = ? AND attr = ? AND {sql})"
    # Every other term needs its attribute to exist.
    params.extend((tenant, node.path.attr.iri))
    return "e.id IN (SELECT id FROM entity_attrs WHERE tenant = ? AND attr = ?)"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _value_condition(node: Compare) -> tuple[str, list[Any]] | None:
    value = node.value
    if node.op in _SQL_OPS:
        if _is_number(value):
            return f"num {_SQL_OPS[node.op]} ?", [value]
        if isinstance(value, str):
            return f"txt {_SQL_OPS[node.op]} ?", [value]
        return None
    if node.op is not Op.EQ:
        return None
    if isinstance(value, Range):
        if _is_number(value.low) and _is_number(value.high):
            return "num BETWEEN ? AND ?", [value.low, value.high]
        if isinstance(value.low, str) and isinstance(value.high, str):
            return "txt BETWEEN ? AND ?", [value.low, value.high]
        return None
    candidates = value if isinstance(value, tuple) else (value,)
    if any(isinstance(c, bool | Temporal) for c in candidates):
        return None
    numbers = [c for c in candidates if _is_number(c)]
    texts = sorted({*(c for c in candidates if isinstance(c, str)), *node.vocab})
    parts, values = [], []
    if numbers:
        parts.append(f"num IN ({', '.join('?' for _ in numbers)})")
        values.extend(numbers)
    if texts:
        parts.append(f"txt IN ({', '.join('?' for _ in texts)})")
        values.extend(texts)
    return "(" + " OR ".join(parts) + ")", values


# ---- geo -------------------------------------------------------------------------------------------


def _geo(tenant: str, query: GeoQuery, params: list[Any]) -> str | None:
    box = _search_box(query)
    if box is None:
        params.extend((tenant, query.geoproperty))
        return "e.id IN (SELECT id FROM entity_attrs WHERE tenant = ? AND attr = ?)"
    min_x, max_x, min_y, max_y = box
    params.extend((max_x, min_x, max_y, min_y, tenant, query.geoproperty))
    return (
        "e.id IN (SELECT id FROM geo_boxes WHERE min_x <= ? AND max_x >= ? AND min_y <= ? AND max_y >= ?"
        " AND tenant = ? AND attr = ?)"
    )


def _search_box(query: GeoQuery) -> tuple[float, float, float, float] | None:
    """A box every matching target's bounding box must intersect, or None when there is none."""
    xs: list[float] = []
    ys: list[float] = []
    _positions(query.coordinates, xs, ys)
    min_x, max_x, min_y, max_y = min(xs), max(xs), min(ys), max(ys)
    if query.georel in (GeoRel.DISJOINT,) or (query.georel is GeoRel.NEAR and query.max_distance is None):
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


def _positions(coordinates: Coordinates, xs: list[float], ys: list[float]) -> None:
    if isinstance(coordinates, tuple) and coordinates and isinstance(coordinates[0], float):
        xs.append(coordinates[0])
        second = coordinates[1]
        assert isinstance(second, float)
        ys.append(second)
    elif isinstance(coordinates, tuple):
        for item in coordinates:
            _positions(item, xs, ys)
