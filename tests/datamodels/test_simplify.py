"""simplify: any NGSI-LD entity representation -> the keyValues instance the schemas describe."""

from __future__ import annotations

import string
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datamodels import simplify
from datamodels.simplify import ATTRIBUTE_VALUE_MEMBERS

modest = settings(max_examples=max(10, settings().max_examples // 2))  # follows the profile (deep: more)

# keyValues data: dict keys are plain names other than "type", so no generated value is shaped like an
# attribute object or a JSON-LD value object (those are the shapes simplify rewrites); GeoJSON values,
# whose "type" is a geometry type, are added explicitly.
keys = st.text(string.ascii_letters, min_size=1, max_size=6).filter(lambda k: k != "type")
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
points = st.builds(lambda x, y: {"type": "Point", "coordinates": [x, y]}, st.floats(-180, 180), st.floats(-90, 90))
json_values = st.recursive(
    scalars | points, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3), max_leaves=5
)
names = keys.filter(lambda k: k not in ("id", "scope"))
key_values_entities = st.builds(
    lambda attrs, type_name: {"id": "urn:ngsi-ld:T:1", "type": type_name, **attrs},
    st.dictionaries(names, json_values, max_size=4),
    st.sampled_from(["ParkingSpot", "https://smartdatamodels.org/dataModel.Parking/ParkingSpot"]),
)
metadata = st.fixed_dictionaries(
    {},
    optional={
        "observedAt": st.just("2020-01-01T00:00:00Z"),
        "unitCode": st.just("CEL"),
        "createdAt": st.just("2020-01-01T00:00:00Z"),
        "datasetId": st.just("urn:ngsi-ld:Dataset:other"),
        "subProperty": st.just({"type": "Property", "value": 1}),
    },
)


@st.composite
def with_literals(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with some of its leaves wrapped in JSON-LD typed literals."""
    if isinstance(value, dict):
        return {k: draw(with_literals(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [draw(with_literals(v)) for v in value]
    if draw(st.booleans()):
        return {"@type": draw(st.sampled_from(["DateTime", "Date", "xsd:string"])), "@value": value}
    return value


@st.composite
def attribute_for(draw: st.DrawFn, value: Any) -> Any:
    """One normalized attribute (or multi-attribute) whose simplified value is ``value``."""
    kind = draw(st.sampled_from(sorted(ATTRIBUTE_VALUE_MEMBERS)))
    attribute = {"type": kind, ATTRIBUTE_VALUE_MEMBERS[kind]: draw(with_literals(value)), **draw(metadata)}
    attribute.pop("datasetId", None)
    if not draw(st.booleans()):
        return attribute
    others = [{"type": "Property", "value": "other", "datasetId": f"urn:ngsi-ld:Dataset:{i}"} for i in range(2)]
    return draw(st.permutations([attribute, *others]))


@st.composite
def normalized_pairs(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """(a keyValues entity, a normalized form of it with metadata, sub-attributes, literals, @context)."""
    key_values = draw(key_values_entities)
    normalized = {name: draw(attribute_for(value)) for name, value in key_values.items() if name not in ("id", "type")}
    normalized |= {"id": key_values["id"], "type": key_values["type"], "@context": ["https://example.org/ctx"]}
    return key_values, normalized


@modest
@given(normalized_pairs())
def test_normalized_simplifies_to_its_key_values_and_stays_there(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """Each attribute becomes its value member (metadata, sub-attributes and @context go; id and type stay),
    and simplifying again changes nothing."""
    key_values, normalized = pair
    assert simplify(normalized) == key_values
    assert simplify(simplify(normalized)) == simplify(normalized)


@modest
@given(key_values_entities)
def test_key_values_are_left_as_they_are(entity: dict[str, Any]) -> None:
    """keyValues input is already simplified (GeoJSON values included), so simplify is idempotent on it."""
    assert simplify(entity) == entity


@modest
@given(key_values_entities, st.data())
def test_typed_literals_are_unwrapped_at_any_depth(entity: dict[str, Any], data: st.DataObject) -> None:
    """``{"@type": ..., "@value": v}`` is ``v`` wherever it sits, in keyValues values too."""
    wrapped = {k: v if k in ("id", "type") else data.draw(with_literals(v)) for k, v in entity.items()}
    assert simplify(wrapped) == entity


@pytest.mark.parametrize(("kind", "member"), sorted(ATTRIBUTE_VALUE_MEMBERS.items()))
def test_each_attribute_type_gives_its_value_member(kind: str, member: str) -> None:
    """Property/GeoProperty value, Relationship object, ListProperty valueList, ListRelationship objectList,
    LanguageProperty languageMap, VocabProperty vocab, JsonProperty json."""
    entity = {"id": "urn:x:1", "type": "T", "a": {"type": kind, member: ["v"], "observedAt": "2020-01-01T00:00:00Z"}}
    assert simplify(entity) == {"id": "urn:x:1", "type": "T", "a": ["v"]}


def test_the_typed_date_time_of_the_normalized_examples_becomes_a_string() -> None:
    """The typed form the upstream normalized examples use for dates."""
    entity = {"dateObserved": {"type": "Property", "value": {"@type": "DateTime", "@value": "2016-03-15T11:00:00Z"}}}
    assert simplify(entity) == {"dateObserved": "2016-03-15T11:00:00Z"}


def test_a_multi_attribute_gives_its_default_instance() -> None:
    """The instance without datasetId wins, wherever it is in the list."""
    speed = [
        {"type": "Property", "value": 1, "datasetId": "urn:ngsi-ld:Dataset:gps"},
        {"type": "Property", "value": 2},
        {"type": "Property", "value": 3, "datasetId": "urn:ngsi-ld:Dataset:radar"},
    ]
    assert simplify({"speed": speed}) == {"speed": 2}


def test_a_multi_attribute_without_default_instance_gives_its_first() -> None:
    """With every instance in a dataset, the first one stands for the attribute."""
    speed = [
        {"type": "Property", "value": 1, "datasetId": "urn:ngsi-ld:Dataset:gps"},
        {"type": "Property", "value": 3, "datasetId": "urn:ngsi-ld:Dataset:radar"},
    ]
    assert simplify({"speed": speed}) == {"speed": 1}


def test_values_that_are_not_attribute_objects_stay() -> None:
    """A GeoJSON value, a structured value, an object with an unknown "type" and a list of plain objects
    are keyValues values, not attributes."""
    entity = {
        "location": {"type": "Point", "coordinates": [1, 2]},
        "address": {"streetAddress": "Calle 1", "value": 3},
        "oddity": {"type": "Property"},  # no value member: not an attribute object
        "openingHours": [{"opens": "08:00:00Z"}],
    }
    assert simplify(entity) == entity


def test_the_input_is_not_modified() -> None:
    """simplify builds a new document."""
    entity = {"a": {"type": "Property", "value": {"@type": "DateTime", "@value": "x"}}, "@context": "c"}
    simplify(entity)
    assert entity == {"a": {"type": "Property", "value": {"@type": "DateTime", "@value": "x"}}, "@context": "c"}
