"""The reference semantics: does an entity document satisfy a query. One small function per
operator; entity queries, subscriptions and federation all decide matches here, and the store
translators only push down what gives exactly the same answer."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from typing import Any, assert_never

from ngsild.model import VALUE_MEMBER, Doc
from ngsild.query.ast import (
    And,
    Compare,
    EntityQuery,
    Exists,
    GeoQuery,
    Literal,
    Op,
    Or,
    Path,
    Pattern,
    Q,
    Range,
    ScopePattern,
    ScopeQuery,
    Temporal,
    TypeSelector,
)
from ngsild.query.qlang import temporal
from ngsild.query.regex import Regex

_MISSING = object()
# Dotted path members that are not sub-attributes but members of the instance itself.
_INSTANCE_MEMBERS = frozenset(
    {"observedAt", "unitCode", "datasetId", "createdAt", "modifiedAt", "expiresAt", "valueType", "objectType"}
)
_VALUE_MEMBER = {kind.value: member for kind, member in VALUE_MEMBER.items()}
# Only == and != can match these kinds (§4.9): no ordering, no patterns.
_EQUALITY_ONLY = frozenset({"Relationship", "ListRelationship", "VocabProperty"})
# Entity-level system members a q path may name directly.
_ENTITY_MEMBERS = frozenset({"createdAt", "modifiedAt"})


def matches(query: EntityQuery, doc: Doc) -> bool:
    """The single definition of which entities a query selects."""
    if not _selected(query.ids, query.id_pattern, query.types, doc):
        return False
    if query.selectors and not any(_selected(s.ids, s.id_pattern, s.types, doc) for s in query.selectors):
        return False
    if query.attrs is not None and not query.attrs & doc["attrs"].keys():
        return False
    if query.q is not None and not q_matches(query.q, doc):
        return False
    if query.geo is not None and not geo_matches(query.geo, doc):
        return False
    return query.scope is None or scope_matches(query.scope, doc.get("scope", ()))


def _selected(ids: frozenset[str] | None, pattern: Regex | None, types: TypeSelector | None, doc: Doc) -> bool:
    """id (which takes precedence over idPattern) and type, ANDed."""
    if ids is not None and doc["id"] not in ids:
        return False
    if ids is None and pattern is not None and not pattern.search(doc["id"]):
        return False
    return types is None or types_match(types, doc["type"])


def types_match(selector: TypeSelector, entity_types: Iterable[str]) -> bool:
    have = set(entity_types)
    return any(group <= have for group in selector.groups)


# ---- q ---------------------------------------------------------------------------------------------


def q_matches(node: Q, doc: Doc) -> bool:
    match node:
        case And(terms):
            return all(q_matches(t, doc) for t in terms)
        case Or(terms):
            return any(q_matches(t, doc) for t in terms)
        case Exists(path, negated):
            found = any(True for _ in targets(path, doc))
            return found != negated
        case Compare():
            return _compare(node, doc)
        case Pattern(path, regex, negated):
            return any(
                isinstance(text, str) and regex.search(text) != negated
                for target, kind in targets(path, doc)
                if kind not in _EQUALITY_ONLY
                for text in _elements(target)
            )
    assert_never(node)


def targets(path: Path, doc: Doc) -> Iterator[tuple[Any, str]]:
    """Every value the path reaches, with the kind of the attribute it comes from ("member" for
    members such as observedAt), instances in stored order."""
    insts = doc["attrs"].get(path.attr.iri, ())
    if not insts and path.attr.name in _ENTITY_MEMBERS and not path.members and path.attr.name in doc:
        yield doc[path.attr.name], "member"
        return
    for inst in insts:
        yield from _walk(path, inst, 0)


def _walk(path: Path, inst: Doc, depth: int) -> Iterator[tuple[Any, str]]:
    kind = inst["type"]
    if depth < len(path.members):
        segment = path.members[depth]
        if segment.name in _INSTANCE_MEMBERS and segment.name in inst:
            if depth == len(path.members) - 1 and path.keys is None:
                yield inst[segment.name], "member"
            return
        for sub in inst.get("attrs", {}).get(segment.iri, ()):
            yield from _walk(path, sub, depth + 1)
        return
    value = inst.get(_VALUE_MEMBER[kind], _MISSING)
    if value is _MISSING:
        return
    if kind == "LanguageProperty":
        yield from _language_values(value, path)
        return
    if path.keys is not None:
        value = _descend(value, path, raw_keys=kind == "JsonProperty")
        if value is _MISSING:
            return
    if isinstance(value, dict) and "@value" in value:
        value = value["@value"]  # a typed literal such as {"@type": "DateTime", "@value": "..."}
    yield value, kind


def _language_values(language_map: dict[str, Any], path: Path) -> Iterator[tuple[Any, str]]:
    """Without a tag (or with ``*``) the target is every string of the map, as one array, so that
    ``!=`` requires that none of them equals the value; with ``[tag]`` it is that language's text."""
    if path.keys is None or path.keys[0].name == "*":
        strings: list[Any] = []
        for value in language_map.values():
            strings.extend(value if isinstance(value, list) else [value])
        yield strings, "LanguageProperty"
        return
    tag = path.keys[0].name.lower()
    for key, value in language_map.items():
        if key.lower() == tag:
            yield value, "LanguageProperty"


def _descend(value: Any, path: Path, *, raw_keys: bool) -> Any:
    assert path.keys is not None
    for key in path.keys:
        if not isinstance(value, dict):
            return _MISSING
        name = key.name if raw_keys else key.iri
        if name in value:
            value = value[name]
        elif key.name in value:  # keys stored as written (keywords, JsonProperty)
            value = value[key.name]
        else:
            return _MISSING
    return value


def _elements(target: Any) -> list[Any]:
    return target if isinstance(target, list) else [target]


def _compare(node: Compare, doc: Doc) -> bool:
    for target, kind in targets(node.path, doc):
        equal = _equals_any(node, target, kind)
        if node.op is Op.EQ and equal:
            return True
        if node.op is Op.NE and not equal:
            return True
        if node.op not in (Op.EQ, Op.NE) and kind not in _EQUALITY_ONLY:
            assert not isinstance(node.value, tuple | Range)
            if any(_ordered(node.op, element, node.value) for element in _elements(target)):
                return True
    return False


def _equals_any(node: Compare, target: Any, kind: str) -> bool:
    """== semantics: the target (or, for an array, one of its elements) equals a listed value or
    falls in the range."""
    value = node.value
    elements = _elements(target)
    if isinstance(value, Range):
        return any(_ordered(Op.GE, e, value.low) and _ordered(Op.LE, e, value.high) for e in elements)
    candidates = value if isinstance(value, tuple) else (value,)
    if kind == "VocabProperty" or node.expanded:
        return any(e in node.vocab or any(_equal(e, c) for c in candidates) for e in elements)
    return any(_equal(e, c) for e in elements for c in candidates)


def _equal(target: Any, literal: Literal) -> bool:
    if isinstance(literal, bool) or isinstance(target, bool):
        return type(target) is type(literal) and target == literal
    if isinstance(literal, int | float):
        return isinstance(target, int | float) and target == literal
    if isinstance(literal, Temporal):
        moment = _as_temporal(target, literal)
        return moment is not None and moment == literal.value
    return isinstance(target, str) and target == literal


def _ordered(op: Op, target: Any, literal: Literal) -> bool:
    """Ordering between values of the same data type only; a type mismatch never matches."""
    if isinstance(target, bool) or isinstance(literal, bool):
        return False
    left: Any
    right: Any
    if isinstance(literal, int | float):
        if not isinstance(target, int | float):
            return False
        left, right = target, literal
    elif isinstance(literal, Temporal):
        left, right = _as_temporal(target, literal), literal.value
        if left is None:
            return False
    elif isinstance(target, str):
        left, right = target, literal
    else:
        return False
    match op:
        case Op.GT:
            return bool(left > right)
        case Op.GE:
            return bool(left >= right)
        case Op.LT:
            return bool(left < right)
        case Op.LE:
            return bool(left <= right)
        case Op.EQ:
            return bool(left == right)
        case Op.NE:
            return bool(left != right)
    assert_never(op)


def _as_temporal(target: Any, literal: Temporal) -> datetime | date | time | None:
    """The target string read as the same kind of temporal value as the literal, if it is one."""
    if not isinstance(target, str):
        return None
    moment = temporal(target)
    if moment is None or type(moment.value) is not type(literal.value):
        return None
    return moment.value


# ---- scope -----------------------------------------------------------------------------------------


def scope_matches(query: ScopeQuery, scopes: Iterable[str]) -> bool:
    levels = [tuple(s.lstrip("/").split("/")) for s in scopes]
    return any(all(any(_scope_pattern_matches(p, s) for s in levels) for p in group) for group in query.groups)


def _scope_pattern_matches(pattern: ScopePattern, scope: tuple[str, ...]) -> bool:
    wanted = pattern.levels
    if len(scope) < len(wanted) or (len(scope) > len(wanted) and not pattern.descendants):
        return False
    return all(w == "+" or w == s for w, s in zip(wanted, scope, strict=False))


# ---- geo -------------------------------------------------------------------------------------------


def geo_matches(query: GeoQuery, doc: Doc) -> bool:
    """Any GeoProperty instance of the target attribute satisfies the relation; none: no match."""
    from ngsild.query import geo  # shapely (with numpy) loads on the first geo-query, not at start-up

    return any(
        inst["type"] == "GeoProperty" and geo.relates(query, inst["value"])
        for inst in doc["attrs"].get(query.geoproperty, ())
    )
