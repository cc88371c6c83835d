"""The MongoDB record and filter translation: what is pushed down, and that every pushed-down
condition is necessary (the find property test in test_find.py checks the whole result)."""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Iterator

import pytest
from bson.decimal128 import Decimal128
from hypothesis import given
from hypothesis import strategies as st
from pymongo import GEOSPHERE, MongoClient
from pymongo.collection import Collection

from ngsild.query.ast import (
    Compare,
    EntityQuery,
    Exists,
    Op,
    Path,
    ScopePattern,
    ScopeQuery,
    Segment,
    TypeSelector,
)
from ngsild.query.match import scope_matches
from ngsild.query.regex import compile_regex
from ngsild.store.mongo_filter import MARGIN, box_polygon, geo_key, literal_prefix, record, translate

EX = "https://example.org/"
NOW = "2026-01-01T00:00:00.000000Z"


def path(name: str) -> Path:
    return Path(Segment(name, EX + name))


def doc_with(attrs: dict[str, list[dict[str, object]]], **extra: object) -> dict[str, object]:
    return {"id": "urn:x:1", "type": [EX + "T"], "createdAt": NOW, "modifiedAt": NOW, "attrs": attrs, **extra}


# ---- the record ------------------------------------------------------------------------------------


def test_record_lists_types_attribute_kinds_and_scalar_values() -> None:
    """Types, one entry per attribute and kind with its instance count, and every scalar."""
    doc = doc_with(
        {
            EX + "speed": [{"type": "Property", "value": 5}, {"type": "Property", "value": [6, "x"], "datasetId": "d"}],
            EX + "owner": [{"type": "Relationship", "object": "urn:p:1"}],
        },
        scope=["/a/b"],
    )
    rec = record("city", doc, "{}", 1)
    assert rec["tenant"] == "city" and rec["id"] == "urn:x:1" and rec["types"] == [EX + "T"]
    assert sorted((a["n"], a["k"], a["c"]) for a in rec["attrs"]) == [
        (EX + "owner", "Relationship", 1),
        (EX + "speed", "Property", 2),
    ]
    assert {(v["n"], v["v"]) for v in rec["vals"]} == {(EX + "speed", 5), (EX + "speed", 6), (EX + "speed", "x"),
                                                        (EX + "owner", "urn:p:1")}  # fmt: skip
    assert rec["scopes"] == ["/a/b"] and "recheck" not in rec


def test_integers_beyond_int64_are_stored_exactly_as_decimal128() -> None:
    """JSON allows integers BSON's int64 cannot hold; they are indexed as Decimal128, not rounded."""
    rec = record("", doc_with({EX + "big": [{"type": "Property", "value": 2**63 + 1}]}), "{}", 1)
    assert rec["vals"] == [{"n": EX + "big", "v": Decimal128(str(2**63 + 1))}]


def test_points_are_indexed_as_themselves_and_other_shapes_as_their_box() -> None:
    """A lone point stays a point; a line (or several instances) becomes a polygon holding the box."""
    location = "https://uri.etsi.org/ngsi-ld/location"
    line = {"type": "LineString", "coordinates": [[1.0, 2.0], [3.0, 4.0]]}
    point = {"type": "Point", "coordinates": [1, 2, 9]}
    rec = record("", doc_with({location: [{"type": "GeoProperty", "value": point}],
                               EX + "path": [{"type": "GeoProperty", "value": line}]}), "{}", 1)  # fmt: skip
    assert rec["geo"]["location"] == {"type": "Point", "coordinates": [1, 2]}
    ring = rec["geo"][geo_key(EX + "path")]["coordinates"][0]
    assert min(x for x, _ in ring) < 1.0 and max(x for x, _ in ring) > 3.0
    assert min(y for _, y in ring) < 2.0 and max(y for _, y in ring) > 4.0 and ring[0] == ring[-1]


def test_geometries_mongodb_cannot_index_mark_the_record_for_rechecking() -> None:
    """A shape wider than a hemisphere's safe part is left out of the index, and the record says so."""
    wide = {"type": "LineString", "coordinates": [[-170.0, 0.0], [170.0, 0.0]]}
    rec = record("", doc_with({EX + "route": [{"type": "GeoProperty", "value": wide}]}), "{}", 1)
    assert rec.get("geo") is None and rec["recheck"] is True


def test_geo_keys_are_field_names() -> None:
    """Core GeoProperties keep their names; any other IRI becomes a digest without dots or dollars."""
    assert geo_key("https://uri.etsi.org/ngsi-ld/location") == "location"
    key = geo_key("https://example.org/route.v2$x")
    assert re.fullmatch(r"h[0-9a-f]{24}", key)


# ---- the filter ------------------------------------------------------------------------------------


def test_ids_types_and_existence_are_exact() -> None:
    """Ids, type selectors and plain existence are decided by the filter alone (no residual)."""
    query = EntityQuery(
        ids=frozenset({"urn:x:2", "urn:x:1"}),
        types=TypeSelector((frozenset({EX + "A", EX + "B"}), frozenset({EX + "C"}))),
        q=Exists(path("speed")),
    )
    plan = translate("city", query)
    assert plan.residual is None
    assert plan.filter == {
        "tenant": "city",
        "id": {"$in": ["urn:x:1", "urn:x:2"]},
        "$or": [{"types": {"$all": [EX + "A", EX + "B"]}}, {"types": EX + "C"}],
        "attrs.n": EX + "speed",
    }


def test_number_comparisons_are_exact_and_string_orderings_are_not() -> None:
    """Numbers compare alike in both semantics; strings may come from relationships, so a string
    ordering is a necessary condition that the residual check completes."""
    numeric = translate("", EntityQuery(q=Compare(path("speed"), Op.GT, 5)))
    assert numeric.residual is None
    assert numeric.filter["vals"] == {"$elemMatch": {"n": EX + "speed", "v": {"$gt": 5}}}
    textual = translate("", EntityQuery(q=Compare(path("name"), Op.LT, "m")))
    assert textual.residual is not None


def test_number_literals_past_int64_are_not_pushed_down() -> None:
    """A q literal may have any number of digits; past int64 the filter only asks for the attribute
    (Decimal128 could not hold it exactly), and the residual check compares."""
    plan = translate("", EntityQuery(q=Compare(path("speed"), Op.GT, 10**40)))
    assert plan.filter == {"tenant": "", "attrs.n": EX + "speed"} and plan.residual is not None


def test_idpattern_pushes_its_literal_prefix_and_keeps_the_residual() -> None:
    """An anchored idPattern narrows by its literal prefix; the regex itself is checked afterwards."""
    plan = translate("", EntityQuery(id_pattern=compile_regex("^urn:ngsi-ld:Car:.*")))
    assert plan.filter["id"] == {"$regex": "^" + re.escape("urn:ngsi-ld:Car:")}
    assert plan.residual is not None


@pytest.mark.parametrize(
    ("source", "prefix"),
    [("^urn:x:", "urn:x:"), ("^urn:x:1?", "urn:x:"), ("urn:x", ""), ("^a|^b", ""), ("^ab*c", "a"), ("^(ab)", "")],
)
def test_literal_prefix_is_what_every_match_starts_with(source: str, prefix: str) -> None:
    """Only text before the first operator counts, less a last character that may repeat zero times."""
    assert literal_prefix(source) == prefix


levels = st.lists(st.sampled_from(["a", "b", "c.d", "+"]), min_size=0, max_size=3)
scopes = st.lists(st.sampled_from(["a", "b", "c.d", ""]), min_size=1, max_size=4).map(lambda ls: "/" + "/".join(ls))


@given(
    patterns=st.lists(st.tuples(levels, st.booleans()), min_size=1, max_size=2),
    entity_scopes=st.lists(scopes, min_size=0, max_size=3),
)
def test_scope_regexes_agree_with_scope_matches(
    patterns: list[tuple[list[str], bool]], entity_scopes: list[str]
) -> None:
    """Each scope pattern's regex accepts exactly the scopes that match.scope_matches accepts."""
    group = tuple(ScopePattern(tuple(lv), descendants) for lv, descendants in patterns if lv or descendants)
    if not group:
        return
    query = ScopeQuery((group,))
    plan = translate("", EntityQuery(scope=query))
    assert plan.residual is None
    conditions = plan.filter.get("$and", [plan.filter])
    regexes = [c["scopes"]["$regex"] for c in conditions if "scopes" in c]
    pushed = all(any(re.search(r, s) for s in entity_scopes) for r in regexes)
    assert pushed == scope_matches(query, entity_scopes)


# ---- box polygons ----------------------------------------------------------------------------------


def _unit(lon: float, lat: float) -> tuple[float, float, float]:
    lo, la = math.radians(lon), math.radians(lat)
    return (math.cos(la) * math.cos(lo), math.cos(la) * math.sin(lo), math.sin(la))


def _latitude_of_geodesic_midpoint(a: list[float], b: list[float]) -> float:
    (ax, ay, az), (bx, by, bz) = _unit(*a), _unit(*b)
    mx, my, mz = ax + bx, ay + by, az + bz
    return math.degrees(math.atan2(mz, math.hypot(mx, my)))


@given(box=st.tuples(st.floats(-175, 0), st.floats(0.0001, 170), st.floats(-84.9, 0), st.floats(0.0001, 84.9)).map(
    lambda t: (t[0], min(t[0] + t[1], 179.9), t[2], min(t[2] + t[3], 84.9))))  # fmt: skip
def test_box_polygon_edges_stray_from_their_parallels_by_less_than_the_margin(box: tuple[float, ...]) -> None:
    """On the sphere an edge between two vertices of one parallel is a geodesic, which bows toward
    the pole, farthest at its middle. Every such edge of a box polygon stays within the widening
    margin of its parallel, so the spherical polygon holds the planar box (meridian edges are
    geodesics already). Checked with spherical trigonometry, independently of any database."""
    polygon = box_polygon((box[0], box[1], box[2], box[3]))
    if polygon is None:
        assert box[1] - box[0] > 169.9 or box[2] < -84.99 or box[3] > 84.99
        return
    ring = polygon["coordinates"][0]
    for a, b in itertools.pairwise(ring):
        if a[1] == b[1] and a[0] != b[0]:  # an edge along a parallel
            stray = abs(_latitude_of_geodesic_midpoint(a, b) - a[1])
            assert stray < MARGIN / 2, (a, b, stray)
            if a[1] < box[2]:
                assert a[1] + stray < box[2]  # the south edge stays south of the box
            else:
                assert a[1] - stray > box[3]  # the north edge stays north of it


# ---- box polygons on a real 2dsphere index ---------------------------------------------------------


@pytest.fixture(scope="module")
def points(mongo_server: str) -> Iterator[Collection[dict[str, object]]]:
    with MongoClient(mongo_server) as client:
        client.drop_database("box_polygons")
        collection = client["box_polygons"]["points"]
        collection.create_index([("p", GEOSPHERE)])
        yield collection
        client.drop_database("box_polygons")


boxes = st.tuples(st.floats(-175, 170), st.floats(0.0001, 60), st.floats(-80, 79), st.floats(0.0001, 30)).map(
    lambda t: (t[0], min(t[0] + t[1], 175.0), t[2], min(t[2] + t[3], 84.0))
)


@given(box=boxes, fractions=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=6))
def test_box_polygon_holds_every_point_of_its_planar_box(
    points: Collection[dict[str, object]], box: tuple[float, float, float, float], fractions: list[tuple[float, float]]
) -> None:
    """Points anywhere in a planar longitude/latitude box, its edges and corners included, intersect
    the box's polygon on the database's 2dsphere index, so pushing the polygon down never loses a
    match. (On a real MongoDB, MONGO_URI, this checks the spherical geometry; the SecantusDB stand-in
    evaluates geo-queries in the plane, so there it checks the ring and the pushdown plumbing; the
    test above checks the sphere.)"""
    polygon = box_polygon(box)
    assert polygon is not None
    min_x, max_x, min_y, max_y = box
    corners = [(0.0, 0.0), (1.0, 1.0), (0.5, 0.0), (0.5, 1.0)]
    inside = [(min_x + fx * (max_x - min_x), min_y + fy * (max_y - min_y)) for fx, fy in [*corners, *fractions]]
    points.delete_many({})
    points.insert_many([{"_id": n, "p": {"type": "Point", "coordinates": [x, y]}} for n, (x, y) in enumerate(inside)])
    found = {d["_id"] for d in points.find({"p": {"$geoIntersects": {"$geometry": polygon}}}, {"_id": 1})}
    assert found == set(range(len(inside)))
