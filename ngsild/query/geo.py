"""Geo-query relations between an entity's GeoProperty (the target) and the query geometry (the
reference), exact with shapely on WGS84 coordinates; ``near`` in metres on the sphere."""

from __future__ import annotations

import itertools
import math
from functools import lru_cache
from typing import Any

import shapely
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points
from shapely.prepared import prep

from ngsild.query.ast import GeoQuery, GeoRel

EARTH_RADIUS_M = 6_371_008.8  # mean Earth radius (IUGG)


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS84 positions."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


@lru_cache(maxsize=1024)
def _reference(query: GeoQuery) -> BaseGeometry:
    return shape(query.geometry())


@lru_cache(maxsize=1024)
def _prepared(query: GeoQuery) -> Any:
    """The reference geometry prepared for repeated predicates (one query, many candidates)."""
    return prep(_reference(query))


# Relations whose test of the target against the reference can use the prepared reference.
_PREPARED_RELATIONS = frozenset({GeoRel.WITHIN, GeoRel.INTERSECTS, GeoRel.DISJOINT})


@lru_cache(maxsize=1024)
def _prepared_in_place(query: GeoQuery) -> BaseGeometry:
    """The reference geometry, prepared, for the vectorised point predicates (no Point objects:
    building one costs more than the test itself)."""
    geometry = shape(query.geometry())
    shapely.prepare(geometry)
    return geometry


@lru_cache(maxsize=1024)
def _rectangle(query: GeoQuery) -> tuple[float, float, float, float] | None:
    """(min_x, max_x, min_y, max_y) when the reference is one axis-aligned rectangle (the common
    bounding-box query), whose point tests are plain comparisons; else None."""
    rings: Any = query.coordinates  # a Polygon's: a tuple of rings of (x, y) tuples
    if query.geometry_type != "Polygon" or len(rings) != 1:
        return None
    ring = rings[0]
    if len(ring) != 5 or ring[0] != ring[4]:
        return None
    xs: set[float] = {p[0] for p in ring}
    ys: set[float] = {p[1] for p in ring}
    edges_straight = all(a[0] == b[0] or a[1] == b[1] for a, b in itertools.pairwise(ring))
    if len(xs) != 2 or len(ys) != 2 or not edges_straight:
        return None
    return min(xs), max(xs), min(ys), max(ys)


def _point_relates(query: GeoQuery, x: float, y: float) -> bool:
    box = _rectangle(query)
    if box is not None:
        min_x, max_x, min_y, max_y = box
        if query.georel is GeoRel.WITHIN:  # strictly inside: the boundary is not within
            return min_x < x < max_x and min_y < y < max_y
        touching = min_x <= x <= max_x and min_y <= y <= max_y
        return touching if query.georel is GeoRel.INTERSECTS else not touching
    reference = _prepared_in_place(query)
    if query.georel is GeoRel.WITHIN:  # the point within the reference: the reference contains it
        return bool(shapely.contains_xy(reference, x, y))
    inside = bool(shapely.intersects_xy(reference, x, y))
    return inside if query.georel is GeoRel.INTERSECTS else not inside


def distance_m(reference: BaseGeometry, target: BaseGeometry) -> float:
    """Distance in metres between the closest points of two geometries (0 when they touch)."""
    if reference.intersects(target):
        return 0.0
    a, b = nearest_points(reference, target)
    return haversine_m(a.x, a.y, b.x, b.y)


def relates(query: GeoQuery, geometry: dict[str, Any]) -> bool:
    """Whether the target geometry stands in the query's relation to the reference geometry."""
    if query.georel is GeoRel.NEAR and geometry["type"] == "Point" and query.geometry_type == "Point":
        # The common case, answered without building geometries: point to point on the sphere.
        lon, lat = geometry["coordinates"][:2]
        ref_lon, ref_lat = query.coordinates[:2]  # type: ignore[index]
        distance = haversine_m(lon, lat, float(ref_lon), float(ref_lat))  # type: ignore[arg-type]
        if query.max_distance is not None:
            return distance <= query.max_distance
        return query.min_distance is not None and distance >= query.min_distance
    if geometry["type"] == "Point" and query.georel in _PREPARED_RELATIONS:
        x, y = geometry["coordinates"][:2]
        return _point_relates(query, float(x), float(y))
    target = Point(geometry["coordinates"][:2]) if geometry["type"] == "Point" else shape(geometry)
    reference = _prepared(query) if query.georel in _PREPARED_RELATIONS else _reference(query)
    match query.georel:
        case GeoRel.NEAR:
            distance = distance_m(reference, target)
            if query.max_distance is not None:
                return distance <= query.max_distance
            return query.min_distance is not None and distance >= query.min_distance
        case GeoRel.WITHIN:  # target within reference == reference contains target
            return bool(reference.contains(target))
        case GeoRel.CONTAINS:
            return bool(target.contains(reference))
        case GeoRel.INTERSECTS:
            return bool(reference.intersects(target))
        case GeoRel.EQUALS:
            return bool(target.equals(reference))
        case GeoRel.DISJOINT:
            return bool(reference.disjoint(target))
        case GeoRel.OVERLAPS:
            return bool(target.overlaps(reference))
