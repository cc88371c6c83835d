"""GeoJSON geometry validation for GeoProperty values (RFC 7946, minus GeometryCollection)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ngsild.geojson import GEOMETRY_TYPES, geometry_error, is_geometry_shaped
from tests.strategies import geometries, line_coords, polygon_coords, positions, rings

SQUARE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]

VALID: list[dict[str, Any]] = [
    {"type": "Point", "coordinates": [2.35, 48.85]},
    {"type": "Point", "coordinates": [-180, -90, 12.5]},
    {"type": "MultiPoint", "coordinates": [[0, 0], [1, 1]]},
    {"type": "MultiPoint", "coordinates": []},
    {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
    {"type": "MultiLineString", "coordinates": [[[0, 0], [1, 1]], [[2, 2], [3, 3], [4, 4]]]},
    {"type": "Polygon", "coordinates": [SQUARE]},
    {"type": "Polygon", "coordinates": [SQUARE, [[0.2, 0.2], [0.4, 0.2], [0.4, 0.4], [0.2, 0.2]]]},
    {"type": "MultiPolygon", "coordinates": [[SQUARE], [SQUARE]]},
]


@pytest.mark.parametrize("geometry", VALID, ids=lambda g: g["type"])
def test_valid_geometries_of_every_allowed_type_have_no_error(geometry: dict[str, Any]) -> None:
    """Point, MultiPoint, LineString, MultiLineString, Polygon and MultiPolygon are accepted."""
    assert geometry_error(geometry) is None


@given(geometries)
def test_generated_valid_geometries_have_no_error(geometry: dict[str, Any]) -> None:
    """Any well-nested geometry with WGS84 positions and closed rings is valid."""
    assert geometry_error(geometry) is None
    assert is_geometry_shaped(geometry)


INVALID: list[tuple[str, Any]] = [
    ("not an object", [2.35, 48.85]),
    ("GeometryCollection", {"type": "GeometryCollection", "geometries": []}),
    ("Feature", {"type": "Feature", "geometry": None, "properties": {}}),
    ("unknown type", {"type": "Circle", "coordinates": [0, 0]}),
    ("no coordinates", {"type": "Point"}),
    ("longitude out of range", {"type": "Point", "coordinates": [180.5, 0]}),
    ("latitude out of range", {"type": "Point", "coordinates": [0, -91]}),
    ("one number", {"type": "Point", "coordinates": [1]}),
    ("four numbers", {"type": "Point", "coordinates": [1, 2, 3, 4]}),
    ("string number", {"type": "Point", "coordinates": ["1", 2]}),
    ("boolean number", {"type": "Point", "coordinates": [True, 2]}),
    ("NaN", {"type": "Point", "coordinates": [float("nan"), 2]}),
    ("Point nested too deep", {"type": "Point", "coordinates": [[1, 2]]}),
    ("MultiPoint too flat", {"type": "MultiPoint", "coordinates": [1, 2]}),
    ("LineString of one position", {"type": "LineString", "coordinates": [[0, 0]]}),
    ("LineString too flat", {"type": "LineString", "coordinates": [0, 0, 1, 1]}),
    ("MultiLineString too flat", {"type": "MultiLineString", "coordinates": [[0, 0], [1, 1]]}),
    ("unclosed ring", {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]}),
    ("ring of three positions", {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}),
    ("Polygon without rings", {"type": "Polygon", "coordinates": []}),
    ("Polygon too flat", {"type": "Polygon", "coordinates": SQUARE}),
    ("MultiPolygon too flat", {"type": "MultiPolygon", "coordinates": [SQUARE]}),
    ("MultiPolygon not an array", {"type": "MultiPolygon", "coordinates": {"a": 1}}),
]


@pytest.mark.parametrize(("case", "geometry"), INVALID, ids=[c for c, _ in INVALID])
def test_invalid_geometries_are_explained(case: str, geometry: Any) -> None:
    """Wrong types, wrong nesting, out-of-range or non-numeric positions and unclosed rings give a reason."""
    error = geometry_error(geometry)
    assert isinstance(error, str)
    assert error


@given(st.lists(positions, min_size=4, max_size=5).filter(lambda ps: ps[0] != ps[-1]))
def test_unclosed_rings_are_rejected(ring: list[list[float]]) -> None:
    """A linear ring whose last position differs from its first is invalid."""
    assert "closed" in (geometry_error({"type": "Polygon", "coordinates": [ring]}) or "")


@given(
    st.sampled_from(["Point", "LineString", "Polygon", "MultiPolygon"]),
    st.one_of(st.floats(180.001, 1e6), st.floats(-1e6, -180.001)),
)
def test_longitudes_outside_wgs84_are_rejected(kind: str, lon: float) -> None:
    """A longitude outside [-180, 180] anywhere in the geometry makes it invalid."""
    bad = [lon, 0.0]
    coordinates: Any = {
        "Point": bad,
        "LineString": [[0.0, 0.0], bad],
        "Polygon": [[[0.0, 0.0], bad, [1.0, 1.0], [0.0, 0.0]]],
        "MultiPolygon": [[[[0.0, 0.0], bad, [1.0, 1.0], [0.0, 0.0]]]],
    }[kind]
    assert "longitude" in (geometry_error({"type": kind, "coordinates": coordinates}) or "")


@given(st.one_of(st.floats(90.001, 1e6), st.floats(-1e6, -90.001)), st.sampled_from(["MultiPoint", "LineString"]))
def test_latitudes_outside_wgs84_are_rejected(lat: float, kind: str) -> None:
    """A latitude outside [-90, 90] makes the geometry invalid."""
    assert "latitude" in (geometry_error({"type": kind, "coordinates": [[0.0, 0.0], [0.0, lat]]}) or "")


_DEPTH = {"Point": 0, "MultiPoint": 1, "LineString": 1, "MultiLineString": 2, "Polygon": 2, "MultiPolygon": 3}
_SAMPLES = {
    0: positions,
    1: line_coords,
    2: polygon_coords,
    3: st.lists(polygon_coords, min_size=1, max_size=2),
}


@given(st.sampled_from(sorted(_DEPTH)), st.sampled_from([0, 1, 2, 3]), st.data())
def test_coordinates_nested_at_the_wrong_depth_are_rejected(kind: str, depth: int, data: st.DataObject) -> None:
    """Coordinates nested deeper or shallower than the geometry type demands are invalid."""
    if depth == _DEPTH[kind]:
        return
    coordinates = data.draw(_SAMPLES[depth])
    assert geometry_error({"type": kind, "coordinates": coordinates}) is not None


@given(rings)
def test_generated_rings_are_closed_and_long_enough(ring: list[list[float]]) -> None:
    """The ring strategy itself yields closed rings of at least four positions."""
    assert ring[0] == ring[-1]
    assert len(ring) >= 4


@pytest.mark.parametrize("kind", sorted(GEOMETRY_TYPES))
def test_geometry_shape_needs_a_geometry_type_and_coordinates(kind: str) -> None:
    """is_geometry_shaped (concise GeoProperty inference) needs an allowed type and a coordinates member."""
    assert is_geometry_shaped({"type": kind, "coordinates": []})
    assert not is_geometry_shaped({"type": kind})
    assert not is_geometry_shaped({"type": "GeometryCollection", "coordinates": []})
    assert not is_geometry_shaped("Point")
