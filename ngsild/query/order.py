"""Ordering of query results (``orderBy``, §5.8): one definition every store applies to the matches
of a query (in creation order) before it cuts the page.

Values of different data types order as the spec lists them: numbers < strings < objects < arrays
< booleans < Time < Date < DateTime < null < attribute absent. An entity whose key is absent comes
last in both directions: a user ordering by ``temperature;desc`` wants the hottest first, not the
entities without a temperature. Ties keep creation order, so paging through an ordering is stable.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any

import orjson

from ngsild.model import Doc
from ngsild.query.ast import Direction, Ordering, OrderKey
from ngsild.query.collation import collation
from ngsild.query.match import targets
from ngsild.query.qlang import temporal

_NUMBER, _STRING, _OBJECT, _ARRAY, _BOOLEAN, _TIME, _DATE, _DATETIME, _NULL = range(9)
_TEMPORAL_RANK = {time: _TIME, date: _DATE, datetime: _DATETIME}
_ABSENT = object()

SortKey = tuple[int, Any]


def sort(docs: list[Doc], ordering: Ordering) -> list[Doc]:
    """``docs`` (in creation order) in the order ``ordering`` asks for."""
    ordered = list(docs)
    text_key = collation(ordering.collation)
    # Stable sorts from the last key to the first give the lexicographic order of all keys.
    for key in reversed(ordering.keys):
        extract = _extractor(key, ordering, text_key)
        descending = key.direction in (Direction.DESC, Direction.DIST_DESC)
        keyed = [(extract(doc), doc) for doc in ordered]
        present = [(k, d) for k, d in keyed if k is not _ABSENT]
        present.sort(key=lambda pair: pair[0], reverse=descending)
        ordered = [d for _, d in present] + [d for k, d in keyed if k is _ABSENT]
    return ordered


def _extractor(key: OrderKey, ordering: Ordering, text_key: Callable[[str], Any]) -> Callable[[Doc], Any]:
    if key.direction in (Direction.DIST_ASC, Direction.DIST_DESC):
        assert key.path is not None and ordering.origin is not None
        from shapely.geometry import shape  # loaded on the first distance ordering, not at start-up

        from ngsild.query import geo

        path, origin = key.path, shape(ordering.origin_geometry())

        def distance(doc: Doc) -> Any:
            distances = [
                geo.distance_m(origin, _geometry(value))
                for value, kind in targets(path, doc)
                if kind == "GeoProperty" and isinstance(value, dict)
            ]
            return min(distances) if distances else _ABSENT

        return distance
    if key.member == "id":
        return lambda doc: (_STRING, text_key(doc["id"]))
    if key.member in ("type", "scope"):
        member = key.member  # a list: ordered by its sorted strings (several types, several scopes)
        return lambda doc: (_STRING, tuple(sorted(map(text_key, doc[member])))) if doc.get(member) else _ABSENT
    assert key.path is not None
    path = key.path
    return lambda doc: next((_value_key(value, text_key) for value, _ in targets(path, doc)), _ABSENT)


def _geometry(value: dict[str, Any]) -> Any:
    from shapely.geometry import Point, shape

    return Point(value["coordinates"][:2]) if value.get("type") == "Point" else shape(value)


def _value_key(value: Any, text_key: Callable[[str], Any]) -> Any:
    """(rank of the data type, a key comparable within that rank)."""
    if value is _ABSENT:
        return _ABSENT
    if value is None:
        return _NULL, 0
    if isinstance(value, bool):
        return _BOOLEAN, value
    if isinstance(value, int | float):
        return _NUMBER, value
    if isinstance(value, str):
        moment = temporal(value)
        if moment is not None:
            return _TEMPORAL_RANK[type(moment.value)], moment.value
        return _STRING, text_key(value)
    if isinstance(value, list):
        return _ARRAY, orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    return _OBJECT, orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
