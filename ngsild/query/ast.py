"""Parsed query values: frozen, hashable, compiled once and reused (a subscription stores its query).

Names are expanded IRIs. ``Q`` nodes are the NGSI-LD Query Language (§4.9); ``EntityQuery`` is one
Query Entities request (GET /entities, POST /entityOperations/query) without its paging.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from ngsild.query.regex import Regex


@dataclass(frozen=True, slots=True)
class TypeSelector:
    """A type expression in disjunctive normal form: the entity matches when it has every type of
    at least one group. ``(A;B),C`` is ``groups=({A, B}, {C})``. Types are expanded IRIs."""

    groups: tuple[frozenset[str], ...]


@dataclass(frozen=True, slots=True)
class Temporal:
    """A DateTime, Date or Time literal; compared as time, not as text."""

    text: str
    value: datetime | date | time


Literal = str | int | float | bool | Temporal


@dataclass(frozen=True, slots=True)
class Range:
    low: Literal
    high: Literal


class Op(StrEnum):
    EQ = "=="
    NE = "!="
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="


@dataclass(frozen=True, slots=True)
class Segment:
    """One name of a path as written and as expanded (sub-attributes and value keys are IRIs;
    members such as observedAt, language tags and JsonProperty keys are used as written)."""

    name: str
    iri: str


@dataclass(frozen=True, slots=True)
class Path:
    """``attr.sub.observedAt[key.key]``: an attribute, dotted sub-attributes or members, and a
    bracketed path into the value."""

    attr: Segment
    members: tuple[Segment, ...] = ()
    keys: tuple[Segment, ...] | None = None

    def __str__(self) -> str:
        text = ".".join(s.name for s in (self.attr, *self.members))
        return text if self.keys is None else f"{text}[{'.'.join(k.name for k in self.keys)}]"


@dataclass(frozen=True, slots=True)
class Compare:
    """``path op value``: ``value`` is one literal, a tuple (value list) or a Range (== and != only).
    ``vocab`` holds the string literals expanded with the request context, for VocabProperties (and
    for any attribute that ``expandValues`` names)."""

    path: Path
    op: Op
    value: Literal | tuple[Literal, ...] | Range
    vocab: tuple[str, ...] = ()
    expanded: bool = False  # expandValues named the attribute: ``vocab`` applies whatever its kind


@dataclass(frozen=True, slots=True)
class Pattern:
    """``path~=regex`` (or ``!~=`` when ``negated``)."""

    path: Path
    regex: Regex
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Exists:
    """``path`` (the target exists) or ``!path`` (it does not; an extension several brokers accept)."""

    path: Path
    negated: bool = False


@dataclass(frozen=True, slots=True)
class And:
    terms: tuple[Q, ...]


@dataclass(frozen=True, slots=True)
class Or:
    terms: tuple[Q, ...]


Q = Compare | Pattern | Exists | And | Or


@dataclass(frozen=True, slots=True)
class ScopePattern:
    """``/a/+/c`` (``+``: exactly one level of any name), ``/a/#`` (``descendants``: this scope and
    everything below), ``/#`` (no levels, ``descendants``: any scope at all)."""

    levels: tuple[str, ...]
    descendants: bool = False


@dataclass(frozen=True, slots=True)
class ScopeQuery:
    """scopeQ in disjunctive normal form: any group whose every pattern matches one of the scopes."""

    groups: tuple[tuple[ScopePattern, ...], ...]


class GeoRel(StrEnum):
    NEAR = "near"
    WITHIN = "within"
    CONTAINS = "contains"
    INTERSECTS = "intersects"
    EQUALS = "equals"
    DISJOINT = "disjoint"
    OVERLAPS = "overlaps"


Coordinates = tuple["Coordinates", ...] | float


@dataclass(frozen=True, slots=True)
class GeoQuery:
    """A geo-query: the target GeoProperty (``geoproperty`` IRI) related to the reference geometry."""

    georel: GeoRel
    geometry_type: str
    coordinates: Coordinates
    geoproperty: str
    max_distance: float | None = None
    min_distance: float | None = None

    def geometry(self) -> dict[str, object]:
        return {"type": self.geometry_type, "coordinates": _as_lists(self.coordinates)}


def _as_lists(value: Coordinates) -> object:
    return [_as_lists(v) for v in value] if isinstance(value, tuple) else value


@dataclass(frozen=True, slots=True)
class EntitySelector:
    """One EntitySelector of a Query object: id (or idPattern) and type, ANDed."""

    ids: frozenset[str] | None = None
    id_pattern: Regex | None = None
    types: TypeSelector | None = None


@dataclass(frozen=True, slots=True)
class EntityQuery:
    """Everything an entity must satisfy to be in a Query Entities result (all filters ANDed)."""

    ids: frozenset[str] | None = None
    id_pattern: Regex | None = None
    types: TypeSelector | None = None
    attrs: frozenset[str] | None = None  # the deprecated attrs=: at least one of them
    q: Q | None = None
    scope: ScopeQuery | None = None
    geo: GeoQuery | None = None
    selectors: tuple[EntitySelector, ...] = ()  # POST query: the entity matches at least one of them


class Direction(StrEnum):
    ASC = "asc"
    DESC = "desc"
    DIST_ASC = "dist-asc"
    DIST_DESC = "dist-desc"


@dataclass(frozen=True, slots=True)
class OrderKey:
    """One ordering term (§5.8): an attribute path, or the entity's ``id``, ``type`` or ``scope``."""

    direction: Direction
    path: Path | None = None
    member: str | None = None  # "id", "type" or "scope" when ``path`` is None


@dataclass(frozen=True, slots=True)
class Ordering:
    """``orderBy`` with its ``collation`` (a BCP 47 tag) and, for distance terms, the ``orderFrom``
    geometry. Ties keep creation order, so pages stay stable."""

    keys: tuple[OrderKey, ...]
    collation: str = "und"
    origin: tuple[str, Coordinates] | None = None  # (geometry type, coordinates)

    def origin_geometry(self) -> dict[str, object]:
        assert self.origin is not None
        return {"type": self.origin[0], "coordinates": _as_lists(self.origin[1])}
