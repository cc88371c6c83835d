"""Geo-query relations (§4.10): the target (an entity's GeoProperty) against the reference (the query
geometry) with Simple Features semantics; near in metres on the sphere."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shapely.geometry import shape

from ngsild.jsonld import CORE_TERM_MAP
from ngsild.query import geo
from ngsild.query.ast import EntityQuery, GeoQuery, GeoRel
from ngsild.query.geo import EARTH_RADIUS_M, haversine_m, relates
from ngsild.query.geoquery import parse_geo_query
from ngsild.query.match import geo_matches, matches
from tests.query.strategies import stored

TM = CORE_TERM_MAP
METRES_PER_DEGREE = 2 * math.pi * EARTH_RADIUS_M / 360


def query(georel: str, geometry: str, coordinates: Any, geoproperty: str | None = None) -> GeoQuery:
    return parse_geo_query(georel, geometry, coordinates, geoproperty, TM.expand)


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def square(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


REF_POLYGON = square(0, 0, 10, 10)["coordinates"]
REF_POINT = [5, 5]

TARGETS = {
    "inner point": point(2, 2),
    "centre point": point(5, 5),
    "far point": point(20, 20),
    "edge point": point(10, 5),
    "inner square": square(2, 2, 4, 4),
    "same square": {"type": "Polygon", "coordinates": [[[10, 0], [10, 10], [0, 10], [0, 0], [10, 0]]]},
    "overlapping square": square(5, 5, 15, 15),
    "far square": square(20, 20, 30, 30),
    "big square": square(-5, -5, 15, 15),
    "crossing line": {"type": "LineString", "coordinates": [[-5, 5], [15, 5]]},
    "inner points": {"type": "MultiPoint", "coordinates": [[1, 1], [9, 9]]},
}


def relation_table(rows: dict[str, set[str]]) -> Any:
    """(georel, target, expected) for every target: those named in ``rows[georel]`` relate, others do not."""
    return pytest.mark.parametrize(
        ("georel", "target", "expected"),
        [(rel, name, name in hits) for rel, hits in rows.items() for name in TARGETS],
    )


@relation_table(
    {
        "within": {"inner point", "centre point", "inner square", "same square", "inner points"},
        "contains": {"same square", "big square"},
        "intersects": set(TARGETS) - {"far point", "far square"},
        "equals": {"same square"},
        "disjoint": {"far point", "far square"},
        "overlaps": {"overlapping square"},
    }
)
def test_relations_to_a_polygon(georel: str, target: str, expected: bool) -> None:
    """Against a Polygon reference every georel follows Simple Features (equals ignores the start vertex)."""
    assert relates(query(georel, "Polygon", REF_POLYGON), TARGETS[target]) is expected


@relation_table(
    {
        "within": {"centre point"},
        "contains": {"centre point", "same square", "big square", "crossing line"},  # a corner is not inside
        "intersects": {"centre point", "same square", "overlapping square", "big square", "crossing line"},
        "equals": {"centre point"},
        "disjoint": {"inner point", "far point", "edge point", "far square", "inner points", "inner square"},
        "overlaps": set(),
    }
)  # fmt: skip
def test_relations_to_a_point(georel: str, target: str, expected: bool) -> None:
    """Against a Point reference: a target contains it only in its interior (not on a corner), only the point
    itself equals it, and nothing overlaps a point."""
    assert relates(query(georel, "Point", REF_POINT), TARGETS[target]) is expected


def test_contains_is_within_reversed() -> None:
    """A target contains the reference exactly when the reference, as a target, is within it."""
    inner, outer = square(2, 2, 4, 4), square(0, 0, 10, 10)
    assert relates(query("contains", "Polygon", inner["coordinates"]), outer)
    assert relates(query("within", "Polygon", outer["coordinates"]), inner)
    assert not relates(query("contains", "Polygon", outer["coordinates"]), inner)


# ---- near ----------------------------------------------------------------------------------------------


def test_haversine_known_distances() -> None:
    """One degree along a meridian is 2πR/360; Paris to Berlin is about 878 km; a point is 0 from itself."""
    assert haversine_m(0, 0, 0, 1) == pytest.approx(METRES_PER_DEGREE)
    assert haversine_m(10, 0, 11, 0) == pytest.approx(METRES_PER_DEGREE)
    assert haversine_m(2.3522, 48.8566, 13.4050, 52.5200) == pytest.approx(877_500, rel=0.005)
    assert haversine_m(13.4, 52.5, 13.4, 52.5) == 0
    assert haversine_m(0, 0, 180, 0) == pytest.approx(math.pi * EARTH_RADIUS_M)


lons = st.floats(-179, 179, allow_nan=False)
lats = st.floats(-85, 85, allow_nan=False)


@given(lons, lats, lons, lats, st.floats(0.5, 0.99), st.floats(1.01, 2))
def test_near_between_points_uses_great_circle_metres(
    lon1: float, lat1: float, lon2: float, lat2: float, below: float, above: float
) -> None:
    """near;maxDistance holds within that many metres of the reference point, minDistance beyond them."""
    distance = haversine_m(lon1, lat1, lon2, lat2)
    target = point(lon2, lat2)
    if distance > 1:
        assert relates(query(f"near;maxDistance=={distance * above}", "Point", [lon1, lat1]), target)
        assert not relates(query(f"near;maxDistance=={distance * below}", "Point", [lon1, lat1]), target)
        assert relates(query(f"near;minDistance=={distance * below}", "Point", [lon1, lat1]), target)
        assert not relates(query(f"near;minDistance=={distance * above}", "Point", [lon1, lat1]), target)


def test_near_a_polygon_measures_to_its_closest_point() -> None:
    """The distance to a polygon is to its nearest edge, and 0 when the reference lies inside it."""
    target = square(1, -1, 2, 1)  # its closest point to the origin is (1, 0), one degree east
    assert relates(query(f"near;maxDistance=={METRES_PER_DEGREE * 1.01}", "Point", [0, 0]), target)
    assert not relates(query(f"near;maxDistance=={METRES_PER_DEGREE * 0.99}", "Point", [0, 0]), target)
    assert relates(query("near;maxDistance==1", "Point", [1.5, 0]), target)
    assert not relates(query("near;minDistance==1", "Point", [1.5, 0]), target)


def test_ts_019_10_near() -> None:
    """Around [13.38893, 52.534473] with 15 km: two entities are near and one is beyond (TS 019_10)."""
    centre = (13.38893, 52.534473)
    offsets_m = [1_000, 10_000, 50_000]  # due north
    docs = [
        stored(
            {
                "location": {
                    "type": "GeoProperty",
                    "value": point(centre[0], centre[1] + d / METRES_PER_DEGREE),
                }
            },
            entity_id=f"urn:ngsi-ld:Place:{d}",
        )
        for d in offsets_m
    ]
    within = query("near;maxDistance==15000", "Point", list(centre))
    beyond = query("near;minDistance==15000", "Point", list(centre))
    assert sum(matches(EntityQuery(geo=within), d) for d in docs) == 2
    assert sum(matches(EntityQuery(geo=beyond), d) for d in docs) == 1


# ---- via match.geo_matches ------------------------------------------------------------------------------


def test_an_entity_without_the_geoproperty_never_matches() -> None:
    """No target GeoProperty: no match for any georel, not even disjoint."""
    doc = stored({"name": {"type": "Property", "value": "nowhere"}})
    for georel in [
        "within",
        "contains",
        "intersects",
        "equals",
        "disjoint",
        "overlaps",
        "near;minDistance==1",
    ]:
        assert not geo_matches(query(georel, "Polygon", REF_POLYGON), doc)


def test_the_geoproperty_parameter_selects_the_target() -> None:
    """geoproperty names the GeoProperty to test; location is the default."""
    doc = stored(
        {
            "location": {"type": "GeoProperty", "value": point(50, 50)},
            "area": {"type": "GeoProperty", "value": square(1, 1, 3, 3)},
        }
    )
    assert not geo_matches(query("within", "Polygon", REF_POLYGON), doc)
    assert geo_matches(query("within", "Polygon", REF_POLYGON, "area"), doc)
    assert geo_matches(query("disjoint", "Polygon", REF_POLYGON), doc)
    assert not geo_matches(query("disjoint", "Polygon", REF_POLYGON, "area"), doc)


def test_a_multi_instance_geoproperty_matches_when_any_instance_does() -> None:
    """With several GeoProperty instances, one relating instance is enough."""
    doc = stored(
        {
            "location": [
                {"type": "GeoProperty", "value": point(50, 50)},
                {"type": "GeoProperty", "value": point(5, 5), "datasetId": "urn:ngsi-ld:Dataset:gps"},
            ]
        }
    )
    assert geo_matches(query("within", "Polygon", REF_POLYGON), doc)
    assert geo_matches(query("disjoint", "Polygon", REF_POLYGON), doc)
    assert not geo_matches(query("equals", "Polygon", REF_POLYGON), doc)


def test_a_non_geo_attribute_is_not_a_target() -> None:
    """Only GeoProperty instances are targets: a Property of the same name never matches."""
    doc = stored({"area": {"type": "Property", "value": 5}})
    assert not geo_matches(query("disjoint", "Polygon", REF_POLYGON, "area"), doc)


@given(st.floats(-1.0, 2.0), st.floats(-1.0, 2.0), st.sampled_from([GeoRel.WITHIN, GeoRel.INTERSECTS, GeoRel.DISJOINT]))
def test_point_shortcuts_agree_with_shapely(x: float, y: float, relation: GeoRel) -> None:
    """Points against a rectangle (plain comparisons) and against any polygon (vectorised, prepared)
    give exactly shapely's answer, boundary included: within excludes it, intersects includes it."""
    point = {"type": "Point", "coordinates": [x, y]}
    for ring in (((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)),
                 ((0.0, 0.0), (1.0, 0.0), (0.5, 1.0), (0.0, 0.0))):  # fmt: skip
        query = GeoQuery(relation, "Polygon", (ring,), "loc")
        polygon, target = shape(query.geometry()), shape(point)
        expected = {
            GeoRel.WITHIN: polygon.contains(target),
            GeoRel.INTERSECTS: polygon.intersects(target),
            GeoRel.DISJOINT: polygon.disjoint(target),
        }[relation]
        assert geo.relates(query, point) == expected
    for edge in ([0.0, 0.5], [1.0, 1.0], [0.5, 0.0]):
        on_edge = GeoQuery(
            GeoRel.WITHIN, "Polygon", (((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)),), "l"
        )
        assert not geo.relates(on_edge, {"type": "Point", "coordinates": edge})
