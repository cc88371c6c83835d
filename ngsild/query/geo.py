"""Geo-query relations between an entity's GeoProperty (the target) and the query geometry (the
reference), exact with shapely on WGS84 coordinates; ``near`` in metres on the sphere."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

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
