"""EntityQuery -> SQL over the SQLite store: the candidate entities (rowids, "eid"), and whether they
are exactly the matches. Conditions on side tables (types, attribute names, scalar values, geo
boxes) are pushed down as *necessary* conditions; unless the SQL alone decides the answer, the
store applies ``query.match.matches`` to every candidate, so the result is always the reference
semantics.

Plan shape: one condition is the *source* of candidates, an index range on a side table that
already carries the tenant (``SELECT eid FROM ... WHERE tenant = ? AND ...``); every other one is
checked per candidate as a correlated ``EXISTS`` on the side table's entity key. Neither touches
the entity documents, which are read for the final page only. An equality source yields its
entities in rowid order, so a page in creation order streams from the index and stops at its
limit. Which condition is the source is decided at run time: the store counts each one's
candidates, capped at the smallest count so far (``Translation.estimates``), so the cost of
choosing stays below the cost of the best plan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
    TypeSelector,
)
from ngsild.query.regex import Regex
from ngsild.store import derived
from ngsild.store.sqlite_index import BOX_BITS

_ENTITY_MEMBERS = frozenset({"createdAt", "modifiedAt"})  # q names that may address the entity itself
_SQL_OPS = {Op.GT: ">", Op.GE: ">=", Op.LT: "<", Op.LE: "<="}

# Per-candidate checks must look rows up by entity: a unary + keeps the planner from answering
# ``num > ?`` through the value index (a range scan for every candidate) instead of the key.
_CHECK_COLUMNS = {"num": "+num", "txt": "+txt"}
_SOURCE_COLUMNS = {"num": "num", "txt": "txt"}

# Rank: lower is more selective; among conditions the store cannot count, it decides the source.
_IDS, _EQUALITY, _GEO, _TYPE, _RANGE, _EXISTENCE, _COMPOUND = range(7)


@dataclass(slots=True)
class _Cond:
    """One necessary condition: as a source of candidate eids, and as a check on ``d.eid``."""

    source: str | None  # SELECT eid FROM ...; None when the condition cannot list its candidates
    source_params: list[Any]
    check: str  # a boolean SQL expression on d.eid
    check_params: list[Any]
    exact: bool
    rank: int
    scoped: bool = True  # the source only yields entities of the tenant
    complete: bool = True  # the source yields exactly what the check accepts (else: check it too)


@dataclass(frozen=True, slots=True)
class Translation:
    tenant: str
    conditions: tuple[_Cond, ...]  # most selective rank first
    exact: bool  # True: the SQL selects exactly the matches, no residual check needed

    def candidates(self, source: int | None = None, *, tenant_checked: bool = True) -> tuple[str, list[Any]]:
        """SQL listing each candidate eid once, in rowid order (with ``source`` as the source;
        by default the best-ranked condition that has one). ``tenant_checked=False``: the caller
        checks the tenant on the entity rows it reads, so an unscoped source needs no check here."""
        if source is None:
            source = next((i for i, c in enumerate(self.conditions) if c.source is not None), None)
        if source is None:
            # No index to start from: the tenant's entities in rowid order ("+" keeps the planner on
            # the table, so a page stops early instead of sorting the whole tenant).
            head, head_params = "SELECT rowid AS eid FROM entities WHERE +tenant = ?", [self.tenant]
            rest = list(self.conditions)
        else:
            lead = self.conditions[source]
            assert lead.source is not None
            head, head_params = lead.source, lead.source_params
            rest = [c for i, c in enumerate(self.conditions) if i != source or not c.complete]
            if not lead.scoped and tenant_checked:
                rest.append(_in_tenant(self.tenant))
        checks = " AND ".join(c.check for c in rest) or "1"
        params = [*head_params, *(p for c in rest for p in c.check_params)]
        return f"SELECT d.eid FROM ({head}) AS d WHERE {checks} GROUP BY d.eid ORDER BY d.eid", params

    def estimates(self) -> list[tuple[int, str, list[Any]]]:
        """(condition index, SQL counting its candidates up to a LIMIT given as the last
        parameter, parameters) for each condition that could be the source, in rank order.
        Empty when the choice is clear: ids drive, or at most one condition has a source."""
        if not self.conditions or self.conditions[0].rank == _IDS:
            return []
        countable = [(i, c) for i, c in enumerate(self.conditions) if c.source is not None]
        if len(countable) < 2:
            return []
        return [(i, f"SELECT count(*) FROM ({c.source} LIMIT ?)", c.source_params) for i, c in countable]


def _in_tenant(tenant: str) -> _Cond:
    """The tenant check for candidates from an unscoped source (every entity has a type row)."""
    check = "EXISTS (SELECT 1 FROM entity_types t WHERE t.eid = d.eid AND +t.tenant = ?)"  # by key, not by tenant
    return _Cond(None, [], check, [tenant], exact=True, rank=_COMPOUND)


@dataclass(slots=True)
class _Plan:
    tenant: str
    conditions: list[_Cond] = field(default_factory=list)
    exact: bool = True

    def side(self, table: str, where: str, values: list[Any], *, exact: bool, rank: int) -> _Cond:
        """A condition ``where`` on rows of a side table keyed by the entity rowid (eid); ``{num}``
        and ``{txt}`` in ``where`` stand for the value columns."""
        return _Cond(
            f"SELECT eid FROM {table} WHERE tenant = ? AND {where.format_map(_SOURCE_COLUMNS)}",
            [self.tenant, *values],
            f"EXISTS (SELECT 1 FROM {table} s WHERE s.eid = d.eid AND {where.format_map(_CHECK_COLUMNS)})",
            list(values),
            exact,
            rank,
        )


def translate(tenant: str, query: EntityQuery) -> Translation:
    plan = _Plan(tenant)
    _selector(plan, query.ids, query.id_pattern, query.types)
    if query.selectors:
        alternatives = [_selector(_Plan(tenant), s.ids, s.id_pattern, s.types) for s in query.selectors]
        if all(a.conditions for a in alternatives):  # a selector without conditions selects everything
            plan.conditions.append(_any_of([_all_of(a.conditions) for a in alternatives]))
        plan.exact = plan.exact and all(a.exact for a in alternatives)
    if query.attrs is not None:
        marks = ", ".join("?" for _ in query.attrs)
        plan.conditions.append(plan.side("entity_attrs", f"attr IN ({marks})", sorted(query.attrs), exact=True,
                                         rank=_EXISTENCE))  # fmt: skip
    if query.q is not None:
        terms = query.q.terms if isinstance(query.q, And) else (query.q,)
        for term in terms:
            condition = _q(plan, term)
            if condition is None:
                plan.exact = False
            else:
                plan.conditions.append(condition)
    if query.geo is not None:
        plan.conditions.append(_geo(plan, query.geo))
    if query.scope is not None:
        plan.exact = False
    return _render(plan)


def _render(plan: _Plan) -> Translation:
    exact = plan.exact and all(c.exact for c in plan.conditions)
    return Translation(plan.tenant, tuple(sorted(plan.conditions, key=lambda c: c.rank)), exact)


def _all_of(conditions: list[_Cond]) -> _Cond:
    """Every condition holds: the best-ranked one with a source lists the candidates."""
    if len(conditions) == 1:
        return conditions[0]
    lead = min((c for c in conditions if c.source is not None), key=lambda c: c.rank, default=None)
    return _Cond(
        None if lead is None else lead.source,
        [] if lead is None else lead.source_params,
        "(" + " AND ".join(c.check for c in conditions) + ")",
        [p for c in conditions for p in c.check_params],
        all(c.exact for c in conditions),
        _COMPOUND,
        lead is not None and lead.scoped,
        complete=False,
    )


def _any_of(conditions: list[_Cond]) -> _Cond:
    """One condition holds: the union of their sources lists the candidates, if all have one."""
    if len(conditions) == 1:
        return conditions[0]
    sources = [c.source for c in conditions]
    return _Cond(
        None if None in sources else " UNION ".join(f"SELECT eid FROM ({s})" for s in sources if s is not None),
        [p for c in conditions for p in c.source_params],
        "(" + " OR ".join(c.check for c in conditions) + ")",
        [p for c in conditions for p in c.check_params],
        all(c.exact for c in conditions),
        _COMPOUND,
        all(c.scoped for c in conditions),
        all(c.complete for c in conditions),
    )


def _selector(plan: _Plan, ids: frozenset[str] | None, pattern: Regex | None, types: TypeSelector | None) -> _Plan:
    if ids is not None:
        source = f"SELECT rowid AS eid FROM entities WHERE tenant = ? AND id IN ({', '.join('?' for _ in ids)})"
        params = [plan.tenant, *sorted(ids)]
        plan.conditions.append(_Cond(source, params, f"d.eid IN ({source})", params, exact=True, rank=_IDS))
    elif pattern is not None:
        plan.exact = False
    if types is not None:
        groups = [
            _all_of([plan.side("entity_types", "type = ?", [t], exact=True, rank=_TYPE) for t in sorted(group)])
            for group in types.groups
        ]
        plan.conditions.append(_any_of(groups))
    return plan


# ---- q ---------------------------------------------------------------------------------------------


def _simple(path: Path) -> bool:
    return not path.members and path.keys is None and path.attr.name not in _ENTITY_MEMBERS


def _q(plan: _Plan, node: Q) -> _Cond | None:
    """A necessary condition for ``node``, or None when nothing can be said in SQL."""
    if isinstance(node, And):
        parts = [c for c in (_q(plan, t) for t in node.terms) if c is not None]
        exact = len(parts) == len(node.terms)
        if not parts:
            return None
        combined = _all_of(parts)
        combined.exact = combined.exact and exact
        return combined
    if isinstance(node, Or):
        alternatives = [_q(plan, t) for t in node.terms]
        if any(a is None for a in alternatives):
            return None
        return _any_of([a for a in alternatives if a is not None])
    if isinstance(node, Exists) and node.negated:
        return None
    if node.path.attr.name in _ENTITY_MEMBERS:
        return None  # may address the entity's own timestamps, which no side table holds
    attr = node.path.attr.iri
    if isinstance(node, Compare) and _simple(node.path):
        value = _value_condition(node)
        if value is not None:
            sql, values, exact, rank = value
            return plan.side("attr_values", f"attr = ? AND {sql}", [attr, *values], exact=exact, rank=rank)
    # Every other term needs its attribute to exist; plain existence is all that `attr` asks.
    exact = isinstance(node, Exists) and _simple(node.path)
    return plan.side("entity_attrs", "attr = ?", [attr], exact=exact, rank=_EXISTENCE)


def _value_condition(node: Compare) -> tuple[str, list[Any], bool, int] | None:
    """(condition on attr_values, its parameters, whether it is exact, rank): ``derived.scalar_test``
    in SQL (numbers in ``num``, strings in ``txt``)."""
    match derived.scalar_test(node):
        case None:
            return None
        case derived.Ordered(op, value, exact):
            return f"{{{_column(value)}}} {_SQL_OPS[op]} ?", [value], exact, _RANGE
        case derived.Between(low, high, exact):
            return f"{{{_column(low)}}} BETWEEN ? AND ?", [low, high], exact, _RANGE
        case derived.OneOf(numbers, texts, exact):
            parts = [f"{{{column}}} IN ({', '.join('?' for _ in values)})"
                     for column, values in (("num", numbers), ("txt", texts)) if values]  # fmt: skip
            return "(" + " OR ".join(parts) + ")", [*numbers, *texts], exact, _EQUALITY
    raise AssertionError("unreachable")  # pragma: no cover


def _column(value: object) -> str:
    return "txt" if isinstance(value, str) else "num"


# ---- geo -------------------------------------------------------------------------------------------


def _geo(plan: _Plan, query: GeoQuery) -> _Cond:
    box = derived.search_box(query)
    if box is None:
        return plan.side("entity_attrs", "attr = ?", [query.geoproperty], exact=False, rank=_EXISTENCE)
    min_x, max_x, min_y, max_y = box
    boxes = "min_x <= ? AND max_x >= ? AND min_y <= ? AND max_y >= ?"
    values = [max_x, min_x, max_y, min_y]
    # As the source, the attribute is not checked (nor the check applied): reading it costs a
    # lookup per box, and boxes of the entity's other GeoProperties only add candidates, which the
    # residual check (geo conditions are never exact) drops.
    return _Cond(
        f"SELECT box >> {BOX_BITS} AS eid FROM geo_boxes WHERE {boxes}",
        values,
        "EXISTS (SELECT 1 FROM geo_box_owners o JOIN geo_boxes b ON b.box = o.box"
        " WHERE o.eid = d.eid AND b.attr = ?"
        " AND b.min_x <= ? AND b.max_x >= ? AND b.min_y <= ? AND b.max_y >= ?)",
        [query.geoproperty, *values],
        exact=False,
        rank=_GEO,
        scoped=False,
    )
