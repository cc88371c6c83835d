"""Ordering of query results (§5.8): orderBy terms, directions, the order of mixed data types,
distance ordering, and stability."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ngsild.errors import BadRequestData
from ngsild.model import Doc
from ngsild.query.ast import Direction, Ordering, OrderKey
from ngsild.query.geo import haversine_m
from ngsild.query.order import sort
from ngsild.query.params import ordering
from ngsild.query.qlang import parse_order_by
from tests.query.strategies import expand

LOCATION = expand("location")


NOW = "2025-01-01T00:00:00Z"


def entity(number: int, **attrs: Any) -> Doc:
    """An entity document holding Properties, in the vocabulary ``expand`` gives orderBy names."""
    return {
        "id": f"urn:ngsi-ld:T:{number:02d}",
        "type": [expand("T")],
        "createdAt": NOW,
        "modifiedAt": NOW,
        "attrs": {
            expand(name): [{"type": "Property", "value": value, "createdAt": NOW, "modifiedAt": NOW}]
            for name, value in attrs.items()
        },
    }


def ids(docs: list[Doc]) -> list[int]:
    return [int(d["id"].rsplit(":", 1)[1]) for d in docs]


def order(text: str, **params: str) -> Ordering:
    result = ordering({"orderBy": text, **params}, expand)
    assert result is not None
    return result


def test_numbers_ascending_by_default_and_descending_on_request() -> None:
    docs = [entity(0, t=20), entity(1, t=5.5), entity(2, t=12)]
    assert ids(sort(docs, order("t"))) == [1, 2, 0]
    assert ids(sort(docs, order("t;desc"))) == [0, 2, 1]


def test_entities_without_the_attribute_come_last_in_both_directions() -> None:
    docs = [entity(0), entity(1, t=3), entity(2), entity(3, t=1)]
    assert ids(sort(docs, order("t;asc"))) == [3, 1, 0, 2]
    assert ids(sort(docs, order("t;desc"))) == [1, 3, 0, 2]


def test_mixed_data_types_follow_the_spec_sequence() -> None:
    """numbers < strings < objects < arrays < booleans < Time < Date < DateTime (§5.8)."""
    values = [
        "2024-01-01T00:00:00Z",
        "2024-01-01",
        "10:00:00Z",
        True,
        [1, 2],
        {"a": 1},
        "text",
        7,
    ]
    docs = [entity(n, v=value) for n, value in enumerate(values)]
    assert ids(sort(docs, order("v"))) == [7, 6, 5, 4, 3, 2, 1, 0]


def test_temporal_values_order_as_time_not_text() -> None:
    docs = [entity(0, at="2024-01-01T10:00:00.5Z"), entity(1, at="2024-01-01T10:00:00Z")]
    assert ids(sort(docs, order("at"))) == [1, 0]


def test_keys_apply_in_sequence() -> None:
    docs = [entity(0, c="b", t=1), entity(1, c="a", t=1), entity(2, c="b", t=9), entity(3, c="a", t=5)]
    assert ids(sort(docs, order("c,t;desc"))) == [3, 1, 2, 0]


def test_strings_use_the_collation() -> None:
    docs = [entity(0, n="Müller"), entity(1, n="Muffler"), entity(2, n="Mueller")]
    assert ids(sort(docs, order("n"))) == [2, 1, 0]
    assert ids(sort(docs, order("n", collation="de-u-co-phonebk"))) == [2, 0, 1]


def test_id_type_and_sub_attribute_paths() -> None:
    docs = [entity(2, t=1), entity(0, t=1), entity(1, t=1)]
    assert ids(sort(docs, order("id;desc"))) == [2, 1, 0]
    assert ids(sort(docs, order("type"))) == [2, 0, 1]  # the same type: ties keep creation order
    docs[0]["type"] = [expand("A")]
    assert ids(sort(docs, order("type"))) == [2, 0, 1]
    assert ids(sort(docs, order("type;desc"))) == [0, 1, 2]
    docs[1]["attrs"][expand("t")][0]["observedAt"] = "2020-01-01T00:00:00Z"
    assert ids(sort(docs, order("t.observedAt"))) == [0, 2, 1]


def test_compound_paths_reach_into_values() -> None:
    docs = [entity(0, address={"city": "Zagreb"}), entity(1, address={"city": "Aachen"})]
    assert ids(sort(docs, order("address[city]"))) == [1, 0]


def with_location(n: int, lon: float, lat: float) -> Doc:
    doc = entity(n)
    point = {"type": "Point", "coordinates": [lon, lat]}
    doc["attrs"][LOCATION] = [{"type": "GeoProperty", "value": point, "createdAt": NOW, "modifiedAt": NOW}]
    return doc


def test_distance_ordering_measures_from_order_from() -> None:
    docs = [with_location(0, 13.5, 52.5), entity(1), with_location(2, 13.41, 52.5), with_location(3, 14.0, 52.0)]
    near = order("location;dist-asc", orderFrom="[13.4,52.5]")
    assert ids(sort(docs, near)) == [2, 0, 3, 1]
    far = order("location;dist-desc", orderFrom="[13.4,52.5]")
    assert ids(sort(docs, far)) == [3, 0, 2, 1]


@given(st.lists(st.tuples(st.floats(-10, 10), st.floats(-10, 10)), max_size=8))
def test_distance_ascending_is_non_decreasing(points: list[tuple[float, float]]) -> None:
    docs = [with_location(n, lon, lat) for n, (lon, lat) in enumerate(points)]
    result = sort(docs, order("location;dist-asc", orderFrom="[0,0]"))
    distances = [haversine_m(0, 0, *d["attrs"][LOCATION][0]["value"]["coordinates"]) for d in result]
    assert distances == sorted(distances)


values = st.one_of(st.integers(-3, 3), st.sampled_from(["a", "B", "c"]), st.booleans(), st.none())


@given(st.lists(values, max_size=10), st.sampled_from(["asc", "desc"]))
def test_sorting_is_a_stable_permutation(raw: list[Any], direction: str) -> None:
    """Every entity once; absent last; equal keys keep creation order."""
    docs = [entity(n) if value is None else entity(n, v=value) for n, value in enumerate(raw)]
    result = sort(docs, order(f"v;{direction}"))
    assert sorted(ids(result)) == list(range(len(docs)))
    absent = [n for n, value in enumerate(raw) if value is None]
    assert ids(result)[len(docs) - len(absent) :] == absent
    for a, b in itertools.pairwise(result):
        va, vb = (d["attrs"].get(expand("v"), [{}])[0].get("value") for d in (a, b))
        if va == vb and type(va) is type(vb):
            assert ids([a])[0] < ids([b])[0]


@given(st.lists(st.integers(0, 4), max_size=10))
def test_descending_reverses_ascending_for_distinct_values(raw: list[int]) -> None:
    docs = [entity(n, v=value) for n, value in enumerate(dict.fromkeys(raw))]
    assert sort(docs, order("v;desc")) == list(reversed(sort(docs, order("v"))))


def test_parse_order_by_terms() -> None:
    assert parse_order_by("id,t;desc,loc;dist-asc", expand) == (
        OrderKey(Direction.ASC, member="id"),
        OrderKey(Direction.DESC, path=parse_order_by("t", expand)[0].path),
        OrderKey(Direction.DIST_ASC, path=parse_order_by("loc", expand)[0].path),
    )
    (key,) = parse_order_by("address[city.name]", expand)
    assert key.path is not None and str(key.path) == "address[city.name]"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"orderBy": ""}, "orderBy is empty"),
        ({"orderBy": "t;up"}, "unknown direction 'up'"),
        ({"orderBy": "t x"}, "not an attribute path"),
        ({"orderBy": "id;dist-asc", "orderFrom": "[0,0]"}, "orders by a GeoProperty"),
        ({"orderBy": "location;dist-asc"}, "needs orderFrom"),
        ({"orderBy": "location;dist-asc", "orderFrom": "[200,0]"}, "orderFrom"),
        ({"orderBy": "location;dist-asc", "orderFrom": "nope"}, "orderFrom"),
        ({"orderBy": "location;dist-asc", "orderFrom": "[0,0]", "orderGeometry": "Circle"}, "orderFrom"),
        ({"orderBy": "t", "collation": "no tag"}, "BCP 47"),
        ({"collation": "no tag"}, "BCP 47"),
    ],
)
def test_bad_ordering_parameters_are_bad_request_data(params: dict[str, str], message: str) -> None:
    with pytest.raises(BadRequestData, match=message):
        ordering(params, expand)


def test_no_order_by_keeps_creation_order() -> None:
    assert ordering({"collation": "de"}, expand) is None
