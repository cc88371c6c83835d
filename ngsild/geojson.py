"""GeoJSON geometry validation (RFC 7946) for GeoProperty values: the six geometry types NGSI-LD
allows, correct nesting, WGS84 ranges, LineStrings of two or more positions, closed linear rings."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

GEOMETRY_TYPES = frozenset({"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"})


def is_geometry_shaped(value: Any) -> bool:
    """Looks like a GeoJSON geometry (used to infer GeoProperty from concise input)."""
    return isinstance(value, dict) and value.get("type") in GEOMETRY_TYPES and "coordinates" in value


def geometry_error(geometry: Any) -> str | None:
    """Why ``geometry`` is not a valid GeoJSON geometry, or None when it is."""
    if not isinstance(geometry, dict):
        return "a GeoJSON geometry must be an object"
    kind = geometry.get("type")
    if kind == "GeometryCollection":
        return "GeometryCollection is not allowed as an NGSI-LD GeoProperty value"
    if kind not in GEOMETRY_TYPES:
        return f"unknown GeoJSON geometry type {kind!r}"
    if "coordinates" not in geometry:
        return f"the {kind} has no 'coordinates'"
    coords = geometry["coordinates"]
    error: str | None = _CHECKS[kind](coords)
    return error


def _position(p: Any) -> str | None:
    if not isinstance(p, list) or not 2 <= len(p) <= 3:
        return f"a position must be an array of 2 or 3 numbers, got {p!r}"
    if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in p):
        return f"a position must hold numbers only, got {p!r}"
    lon, lat = p[0], p[1]
    if not -180 <= lon <= 180:
        return f"longitude {lon} is outside [-180, 180]"
    if not -90 <= lat <= 90:
        return f"latitude {lat} is outside [-90, 90]"
    return None


def _positions(ps: Any, minimum: int, what: str) -> str | None:
    if not isinstance(ps, list):
        return f"a {what} must be an array of positions"
    if len(ps) < minimum:
        return f"a {what} needs at least {minimum} positions, got {len(ps)}"
    for p in ps:
        error = _position(p)
        if error:
            return error
    return None


def _ring(ring: Any) -> str | None:
    error = _positions(ring, 4, "linear ring")
    if error:
        return error
    if ring[0] != ring[-1]:
        return "a linear ring must be closed: its first and last positions must be equal"
    return None


def _polygon(rings: Any) -> str | None:
    if not isinstance(rings, list) or not rings:
        return "a Polygon must be a non-empty array of linear rings"
    for ring in rings:
        error = _ring(ring)
        if error:
            return error
    return None


def _many(check: Callable[[Any], str | None], what: str) -> Callable[[Any], str | None]:
    def run(items: Any) -> str | None:
        if not isinstance(items, list):
            return f"a {what} must be an array"
        for item in items:
            error = check(item)
            if error:
                return error
        return None

    return run


_CHECKS: dict[str, Callable[[Any], str | None]] = {
    "Point": _position,
    "MultiPoint": lambda c: _positions(c, 0, "MultiPoint"),
    "LineString": lambda c: _positions(c, 2, "LineString"),
    "MultiLineString": _many(lambda c: _positions(c, 2, "LineString"), "MultiLineString"),
    "Polygon": _polygon,
    "MultiPolygon": _many(_polygon, "MultiPolygon"),
}
