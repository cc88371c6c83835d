"""Geo-query parameters (georel, geometry, coordinates, geoproperty; §4.10, §5.2.13) -> GeoQuery, with
the geometry checked like any GeoJSON the broker accepts."""

from __future__ import annotations

import json
import math

from ngsild.errors import BadRequestData
from ngsild.geojson import geometry_error
from ngsild.model import is_name
from ngsild.query.ast import Coordinates, GeoQuery, GeoRel
from ngsild.query.qlang import NUMBER, Expand

_GEOMETRIES = ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon")


def parse_georel(text: str) -> tuple[GeoRel, float | None, float | None]:
    """``near;maxDistance==2000``, ``near;minDistance==10``, ``within``, ``contains``, ..."""
    name, _, rest = text.partition(";")
    try:
        relation = GeoRel(name)
    except ValueError:
        allowed = ", ".join(r.value for r in GeoRel)
        raise BadRequestData(f"georel={text!r}: unknown relation {name!r}; use one of {allowed}") from None
    if relation is not GeoRel.NEAR:
        if rest:
            raise BadRequestData(f"georel={text!r}: only near takes a distance")
        return relation, None, None
    key, _, number = rest.partition("==")
    if key not in ("maxDistance", "minDistance"):
        raise BadRequestData(f"georel={text!r}: near needs ;maxDistance==<metres> or ;minDistance==<metres>")
    distance = float(number) if NUMBER.fullmatch(number) else math.nan
    if not math.isfinite(distance) or distance <= 0:
        raise BadRequestData(f"georel={text!r}: the distance must be a JSON number of metres greater than 0")
    return (
        relation,
        (distance if key == "maxDistance" else None),
        (distance if key == "minDistance" else None),
    )


def _tuples(value: object) -> Coordinates:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    raise BadRequestData(f"coordinates must be numbers in nested arrays, got {value!r}")


def parse_geo_query(
    georel: str | None, geometry: str | None, coordinates: object, geoproperty: str | None, expand: Expand
) -> GeoQuery:
    """A geo-query from its parts; all of georel, geometry and coordinates are required together."""
    missing = [n for n, v in (("georel", georel), ("geometry", geometry), ("coordinates", coordinates)) if v is None]
    if missing:
        raise BadRequestData(f"a geo-query needs georel, geometry and coordinates; missing: {', '.join(missing)}")
    assert georel is not None and geometry is not None
    relation, max_distance, min_distance = parse_georel(georel)
    if geometry not in _GEOMETRIES:
        raise BadRequestData(f"geometry={geometry!r} must be one of {', '.join(_GEOMETRIES)}")
    if isinstance(coordinates, str):
        try:
            coordinates = json.loads(coordinates)
        except json.JSONDecodeError:
            raise BadRequestData(f"coordinates={coordinates!r} is not a JSON array") from None
    error = geometry_error({"type": geometry, "coordinates": coordinates})
    if error:
        raise BadRequestData(f"the geo-query geometry is invalid: {error}")
    if geoproperty is not None and not is_name(geoproperty):
        raise BadRequestData(f"geoproperty={geoproperty!r} is not a valid attribute name")
    return GeoQuery(
        relation,
        geometry,
        _tuples(coordinates),
        expand(geoproperty or "location"),
        max_distance,
        min_distance,
    )
