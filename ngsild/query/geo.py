"""Geo-query relations between an entity's GeoProperty (the target) and the query geometry (the
reference), exact with shapely on WGS84 coordinates; ``near`` in metres on the sphere."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points

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


def distance_m(reference: BaseGeometry, target: BaseGeometry) -> float:
    """Distance in metres between the closest points of two geometries (0 when they touch)."""
    if reference.intersects(target):
        return 0.0
    a, b = nearest_points(reference, target)
    return haversine_m(a.x, a.y, b.x, b.y)


def relates(query: GeoQuery, geometry: dict[str, Any]) -> bool:
    """Whether the target geometry stands in the query's relation to the reference geometry."""
    target = shape(geometry)
    reference = _reference(query)
    match query.georel:
        case GeoRel.NEAR:
            distance = distance_m(reference, target)
            if query.max_distance is not None:
                return distance <= query.max_distance
            return query.min_distance is not None and distance >= query.min_distance
        case GeoRel.WITHIN:
            return bool(target.within(reference))
        case GeoRel.CONTAINS:
            return bool(target.contains(reference))
        case GeoRel.INTERSECTS:
            return bool(target.intersects(reference))
        case GeoRel.EQUALS:
            return bool(target.equals(reference))
        case GeoRel.DISJOINT:
            return bool(target.disjoint(reference))
        case GeoRel.OVERLAPS:
            return bool(target.overlaps(reference))
