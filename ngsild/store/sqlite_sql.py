"""EntityQuery -> SQL over the SQLite store: a WHERE clause that selects candidates, and whether it
is exact. What it cannot express stays with ``query.match.matches``, which the store applies to
every candidate unless the SQL alone decides the answer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ngsild.query.ast import And, Compare, EntityQuery, Exists, Pattern, Q, TypeSelector
from ngsild.query.regex import Regex


@dataclass(frozen=True, slots=True)
class Translation:
    where: str  # conditions on the table aliased "e", ANDed with the tenant condition
    params: list[Any]
    exact: bool  # True: the SQL selects exactly the matches, no residual check needed


def translate(tenant: str, query: EntityQuery) -> Translation:
    clauses: list[str] = []
    params: list[Any] = []
    exact = True
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
        pushed = _existence_conditions(query.q)
        for attr in pushed:
            clauses.append("e.id IN (SELECT id FROM entity_attrs WHERE tenant = ? AND attr = ?)")
            params.extend((tenant, attr))
        if not (isinstance(query.q, Exists) and pushed):
            exact = False
    if query.scope is not None or query.geo is not None:
        exact = False
    return Translation(" AND ".join(clauses) if clauses else "1", params, exact)


@dataclass(frozen=True, slots=True)
class _Condition:
    sql: str  # "" when nothing narrows the selection
    exact: bool


def _selector(
    tenant: str,
    ids: frozenset[str] | None,
    pattern: Regex | None,
    types: TypeSelector | None,
    params: list[Any],
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


def _existence_conditions(node: Q) -> list[str]:
    """Attributes the q expression requires to exist (necessary conditions of an AND of terms)."""
    if isinstance(node, Exists) and not node.negated and not node.path.members and node.path.keys is None:
        return [node.path.attr.iri]
    if isinstance(node, Compare | Pattern):  # every comparison needs its attribute to exist
        return [node.path.attr.iri]
    if isinstance(node, And):
        return [attr for term in node.terms for attr in _existence_conditions(term)]
    return []
