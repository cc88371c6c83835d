"""Shared hypothesis strategies: NGSI-LD entities in normalized (client) form with every attribute kind,
sub-attributes, multi-attributes (datasetIds), and the GeoJSON geometries and lexical values they use.

Everything generated is valid input for ``validate.entity(..., CORE_TERM_MAP, CREATE)``, and every name
survives ``compact(expand(name))`` under the core context, so rendered output can be compared with input.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from ngsild.jsonld import CORE_TERM_MAP
from ngsild.model import NGSI_LD, NON_REIFIED_TERMS, NULL

TM = CORE_TERM_MAP

heavy = settings(max_examples=max(10, (settings.default.max_examples or 100) // 5))
"""For properties over whole generated entities: a fifth of the profile's examples (keeps the suite fast;
``HYPOTHESIS_PROFILE=deep`` still scales it up)."""

# ---- lexical values --------------------------------------------------------------------------------


def _round_trips(name: str) -> bool:
    iri = TM.expand(name)
    return not iri.startswith("@") and not iri.startswith(NGSI_LD + "has") and TM.compact(iri) == name


_LOWER = "abcdefghijklmnopqrstuvwxyz"
_UPPER = _LOWER.upper()
_ALNUM = _LOWER + _UPPER + "0123456789"

_ascii_names = st.builds(lambda a, b: a + b, st.sampled_from(_LOWER), st.text(_ALNUM + "_", max_size=7))
_unicode_names = st.builds(
    lambda first, rest: first + rest,
    st.characters(categories=["L"]),
    st.text(st.characters(categories=["L", "N"], include_characters="_"), max_size=5),
)

names = st.one_of(_ascii_names, _ascii_names, _unicode_names).filter(
    lambda n: n not in NON_REIFIED_TERMS and _round_trips(n)
)
"""Attribute names (Annex A grammar, ASCII and Unicode), not reserved, that compact back to themselves."""

type_names = st.builds(lambda a, b: a + b, st.sampled_from(_UPPER), st.text(_ALNUM, max_size=7)).filter(_round_trips)
"""Entity type names."""

uris = st.builds(
    lambda t, i: f"urn:ngsi-ld:{t}:{i}",
    st.sampled_from(["Shop", "Sensor", "Org", "Person"]),
    st.text(_ALNUM, min_size=1, max_size=6),
)
"""Entity ids and relationship targets (never the NGSI-LD Null)."""

dataset_ids = st.text(_ALNUM, min_size=1, max_size=4).map(lambda s: "urn:ngsi-ld:Dataset:" + s)

datetimes = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
)
"""NGSI-LD DateTimes (UTC, ``Z``, microseconds)."""

scopes = st.lists(names.filter(lambda n: ":" not in n), min_size=1, max_size=3).map(
    lambda levels: "/" + "/".join(levels)
)

language_tags = st.sampled_from(["en", "fr", "de", "fr-CH", "en-GB", "nl", "@none"])

unit_codes = st.sampled_from(["CEL", "C62", "MTR", "KMH", "P1"])

# ---- JSON values -----------------------------------------------------------------------------------

_scalars = st.one_of(
    st.integers(-(2**53), 2**53),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.text(max_size=8).filter(lambda s: s != NULL),
)

json_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(names, inner, max_size=3)),
    max_leaves=6,
)
"""Property values: any JSON without null; object keys are plain names, so a value never looks like an
attribute instance or a GeoJSON geometry."""

raw_json = st.recursive(
    st.one_of(st.none(), _scalars),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
    max_leaves=6,
)
"""Arbitrary JSON (null included, any keys), the content of a JsonProperty."""

# ---- GeoJSON ---------------------------------------------------------------------------------------

longitudes = st.floats(-180, 180, allow_nan=False)
latitudes = st.floats(-90, 90, allow_nan=False)
positions = st.tuples(longitudes, latitudes).map(list)


def _ring(points: list[list[float]]) -> list[list[float]]:
    return [*points, points[0]]


rings = st.lists(positions, min_size=3, max_size=5).map(_ring)
line_coords = st.lists(positions, min_size=2, max_size=4)
polygon_coords = st.lists(rings, min_size=1, max_size=2)

geometries = st.one_of(
    st.builds(lambda c: {"type": "Point", "coordinates": c}, positions),
    st.builds(lambda c: {"type": "MultiPoint", "coordinates": c}, st.lists(positions, max_size=3)),
    st.builds(lambda c: {"type": "LineString", "coordinates": c}, line_coords),
    st.builds(lambda c: {"type": "MultiLineString", "coordinates": c}, st.lists(line_coords, max_size=2)),
    st.builds(lambda c: {"type": "Polygon", "coordinates": c}, polygon_coords),
    st.builds(lambda c: {"type": "MultiPolygon", "coordinates": c}, st.lists(polygon_coords, max_size=2)),
)
"""Valid RFC 7946 geometries of the six types NGSI-LD allows."""

# ---- attributes (normalized form) ------------------------------------------------------------------

language_maps = st.dictionaries(
    language_tags, st.one_of(st.text(max_size=8), st.lists(st.text(max_size=5), min_size=1, max_size=2)),
    min_size=1, max_size=3,
)  # fmt: skip

_words = st.one_of(names, st.lists(names, min_size=1, max_size=3))

_object_lists = st.lists(uris, max_size=3).map(lambda us: [{"object": u} for u in us])

_VALUES: dict[str, tuple[str, st.SearchStrategy[Any]]] = {
    "Property": ("value", json_values),
    "GeoProperty": ("value", geometries),
    "Relationship": ("object", st.one_of(uris, st.lists(uris, min_size=1, max_size=3))),
    "LanguageProperty": ("languageMap", language_maps),
    "VocabProperty": ("vocab", _words),
    "JsonProperty": ("json", st.one_of(st.dictionaries(st.text(max_size=5), raw_json, max_size=3),
                                       st.lists(st.dictionaries(st.text(max_size=5), raw_json, max_size=2),
                                                max_size=2))),
    "ListProperty": ("valueList", st.lists(json_values, max_size=3)),
    "ListRelationship": ("objectList", _object_lists),
}  # fmt: skip
KINDS = tuple(_VALUES)


@st.composite
def instances(draw: st.DrawFn, kind: str | None = None, dataset: str | None = None, depth: int = 1) -> dict[str, Any]:
    """One normalized attribute instance of ``kind`` (any kind when None), maybe with metadata and
    sub-attributes (nested ``depth`` levels)."""
    kind = kind or draw(st.sampled_from(KINDS))
    member, values = _VALUES[kind]
    inst: dict[str, Any] = {"type": kind, member: draw(values)}
    if dataset is not None:
        inst["datasetId"] = dataset
    if draw(st.booleans()):
        inst["observedAt"] = draw(datetimes)
    if kind in ("Property", "ListProperty") and draw(st.booleans()):
        inst["unitCode"] = draw(unit_codes)
    if kind in ("Relationship", "ListRelationship") and draw(st.integers(0, 3)) == 0:
        inst["objectType"] = draw(st.one_of(type_names, st.lists(type_names, min_size=1, max_size=2)))
    if kind in ("Property", "ListProperty") and draw(st.integers(0, 3)) == 0:
        inst["valueType"] = draw(type_names)
    if draw(st.integers(0, 4)) == 0:
        inst["expiresAt"] = draw(datetimes)
    if depth > 0:
        for name in draw(st.lists(names, max_size=2, unique=True)):
            if name not in inst:
                inst[name] = draw(attributes(depth=depth - 1))
    return inst


@st.composite
def attributes(draw: st.DrawFn, kind: str | None = None, depth: int = 1) -> Any:
    """One attribute member value: a single instance, or a list of instances with distinct datasetIds
    (at most one default instance)."""
    if draw(st.integers(0, 3)) > 0:
        return draw(instances(kind, draw(st.one_of(st.none(), dataset_ids)), depth))
    datasets: list[str | None] = draw(st.lists(dataset_ids, min_size=1, max_size=3, unique=True))
    if draw(st.booleans()):
        datasets.insert(draw(st.integers(0, len(datasets))), None)
    same_kind = kind or draw(st.sampled_from(KINDS))
    return [draw(instances(same_kind, ds, depth)) for ds in datasets]


@st.composite
def entities(draw: st.DrawFn, max_attrs: int = 3, depth: int = 1) -> dict[str, Any]:
    """A normalized entity payload (valid for Create Entity) with any mix of attribute kinds."""
    types = draw(st.lists(type_names, min_size=1, max_size=2, unique=True))
    payload: dict[str, Any] = {"id": draw(uris), "type": types[0] if len(types) == 1 else types}
    if draw(st.integers(0, 3)) == 0:
        payload["scope"] = draw(st.one_of(scopes, st.lists(scopes, min_size=1, max_size=2, unique=True)))
    for name in draw(st.lists(names, max_size=max_attrs, unique=True)):
        payload[name] = draw(attributes(depth=depth))
    return payload


def every_kind_entity(entity_id: str = "urn:ngsi-ld:Shop:42") -> dict[str, Any]:
    """The digest's §1.3 example: one attribute of every kind (with sub-attributes and a multi-attribute)."""
    return {
        "id": entity_id,
        "type": "Shop",
        "name": {"type": "Property", "value": "Corner shop", "observedAt": "2025-01-02T10:00:00Z"},
        "footfall": {
            "type": "Property",
            "value": 311,
            "unitCode": "C62",
            "measuredBy": {"type": "Relationship", "object": "urn:ngsi-ld:Sensor:7"},
        },
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2.35, 48.85]}},
        "motto": {"type": "LanguageProperty", "languageMap": {"en": "Fresh", "fr": "Frais"}},
        "category": {"type": "VocabProperty", "vocab": "grocery"},
        "rawConfig": {"type": "JsonProperty", "json": {"id": "not-an-iri", "value": 3}},
        "openDays": {"type": "ListProperty", "valueList": ["Mon", "Tue", "Sat"]},
        "owner": {"type": "Relationship", "object": "urn:ngsi-ld:Person:9"},
        "suppliers": {
            "type": "ListRelationship",
            "objectList": [{"object": "urn:ngsi-ld:Org:1"}, {"object": "urn:ngsi-ld:Org:2"}],
        },
        "temperature": [
            {"type": "Property", "value": 20, "unitCode": "CEL"},
            {"type": "Property", "value": 21, "datasetId": "urn:ngsi-ld:Dataset:b"},
        ],
    }
