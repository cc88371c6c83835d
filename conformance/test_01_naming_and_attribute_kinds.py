"""Digest §1: data model, naming rules, the eight attribute kinds, sub-attributes, datasetId, null."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from conformance.helpers import (
    DATETIME_RE,
    NULL,
    assert_problem,
    create,
    geo,
    get_json,
    instances,
    make_entity,
    new_id,
    object_list_uris,
    point,
    prop,
    rel,
    retrieve,
    scopes_of,
    send,
    types_of,
)


def all_kinds_entity() -> dict[str, Any]:
    """The digest's §1.3 example entity, one attribute of every kind."""
    return make_entity(
        "Shop",
        name={"type": "Property", "value": "Corner shop", "observedAt": "2025-01-02T10:00:00Z"},
        footfall={
            "type": "Property",
            "value": 311,
            "unitCode": "C62",
            "measuredBy": {"type": "Relationship", "object": "urn:ngsi-ld:Sensor:7"},
        },
        location={"type": "GeoProperty", "value": {"type": "Point", "coordinates": [2.35, 48.85]}},
        motto={"type": "LanguageProperty", "languageMap": {"en": "Fresh", "fr": "Frais"}},
        category={"type": "VocabProperty", "vocab": "grocery"},
        rawConfig={"type": "JsonProperty", "json": {"id": "not-an-iri", "value": 3}},
        openDays={"type": "ListProperty", "valueList": ["Mon", "Tue", "Sat"]},
        owner={"type": "Relationship", "object": "urn:ngsi-ld:Person:9"},
        suppliers={
            "type": "ListRelationship",
            "objectList": [{"object": "urn:ngsi-ld:Org:1"}, {"object": "urn:ngsi-ld:Org:2"}],
        },
    )


def assert_rejected(client: httpx.Client, entity: dict[str, Any], name: str = "BadRequestData") -> None:
    resp = send(client, "POST", "/entities", entity)
    assert_problem(resp, 400, name)
    if isinstance(entity.get("id"), str) and entity["id"].startswith("urn:"):
        assert retrieve(client, entity["id"]).status_code in (400, 404), "rejected entity was stored"


# --- attribute kinds ---------------------------------------------------------------------------


def test_all_eight_attribute_kinds_round_trip(client: httpx.Client) -> None:
    """An Entity with one attribute of each of the 8 kinds is retrieved with each kind's value member."""
    ent = all_kinds_entity()
    create(client, ent)
    got = get_json(client, ent["id"])
    assert got["id"] == ent["id"]
    assert got["type"] == "Shop"
    assert got["name"] == ent["name"]
    assert got["footfall"]["type"] == "Property"
    assert got["footfall"]["value"] == 311
    assert got["footfall"]["unitCode"] == "C62"
    assert got["footfall"]["measuredBy"] == ent["footfall"]["measuredBy"]
    assert got["location"] == ent["location"]
    assert got["motto"] == ent["motto"]
    assert got["category"] == {"type": "VocabProperty", "vocab": "grocery"}
    assert got["rawConfig"] == ent["rawConfig"]
    assert got["openDays"] == ent["openDays"]
    assert got["owner"] == ent["owner"]
    assert got["suppliers"]["type"] == "ListRelationship"
    assert object_list_uris(got["suppliers"]["objectList"]) == ["urn:ngsi-ld:Org:1", "urn:ngsi-ld:Org:2"]


def test_json_property_is_never_expanded(client: httpx.Client) -> None:
    """A JsonProperty's json value is raw JSON: keys like id/type/value come back byte-for-byte."""
    raw = {"id": "x", "type": "NotAType", "value": [1, {"@id": "y"}], "nested": {"object": None}}
    ent = make_entity(cfg={"type": "JsonProperty", "json": raw})
    create(client, ent)
    assert get_json(client, ent["id"])["cfg"] == {"type": "JsonProperty", "json": raw}


def test_list_property_keeps_order(client: httpx.Client) -> None:
    """A ListProperty's valueList keeps its order, including mixed JSON values."""
    values = [3, "b", 1.5, {"k": "v"}, [1, 2], True, "a"]
    ent = make_entity(seq={"type": "ListProperty", "valueList": values})
    create(client, ent)
    assert get_json(client, ent["id"])["seq"]["valueList"] == values


def test_relationship_with_array_of_objects(client: httpx.Client) -> None:
    """A Relationship object may be an array of URIs."""
    objs = ["urn:ngsi-ld:Person:1", "urn:ngsi-ld:Person:2"]
    ent = make_entity(knows=rel(objs))
    create(client, ent)
    got = get_json(client, ent["id"])["knows"]
    assert got["type"] == "Relationship"
    assert sorted(got["object"] if isinstance(got["object"], list) else [got["object"]]) == objs


def test_property_value_types_are_preserved(client: httpx.Client) -> None:
    """Property values keep their JSON types: int, float, bool, string, array, object."""
    ent = make_entity(
        i=prop(42),
        f=prop(21.5),
        b=prop(False),
        s=prop("text"),
        a=prop([1, "two", 3.0]),
        o=prop({"street": "Main", "nr": 5, "flags": [True]}),
    )
    create(client, ent)
    got = get_json(client, ent["id"])
    for key in ("i", "f", "b", "s", "a", "o"):
        assert got[key]["value"] == ent[key]["value"], key
        assert type(got[key]["value"]) is type(ent[key]["value"]), key


@pytest.mark.parametrize("text", ["a<b>c", "x=y;z", "quote\"d 'single'", "(paren)", "ümlaut 漢字 🚀"])
def test_text_with_special_characters_is_returned_unchanged_or_rejected(client: httpx.Client, text: str) -> None:
    """Values with < > " ' = ; ( ) may be rejected (BadRequestData); if stored they come back unchanged."""
    ent = make_entity(note=prop(text))
    resp = send(client, "POST", "/entities", ent)
    if resp.status_code == 400:
        assert_problem(resp, 400, "BadRequestData")
        return
    assert resp.status_code == 201, resp.text
    assert get_json(client, ent["id"])["note"]["value"] == text


# --- sub-attributes, observedAt, unitCode, datasetId, types, scope -------------------------------


def test_sub_attributes_nest_recursively(client: httpx.Client) -> None:
    """Properties of properties (and of relationships) are stored and returned, recursively."""
    ent = make_entity(
        temperature=prop(
            21.5,
            unitCode="CEL",
            observedAt="2025-01-02T10:00:00Z",
            accuracy=prop(0.5, source=prop("calibration")),
            providedBy=rel("urn:ngsi-ld:Sensor:1", since=prop("2024")),
        )
    )
    create(client, ent)
    got = get_json(client, ent["id"])["temperature"]
    assert got["unitCode"] == "CEL"
    assert got["observedAt"] == "2025-01-02T10:00:00Z"
    assert got["accuracy"] == {
        "type": "Property",
        "value": 0.5,
        "source": {"type": "Property", "value": "calibration"},
    }
    assert got["providedBy"] == {
        "type": "Relationship",
        "object": "urn:ngsi-ld:Sensor:1",
        "since": {"type": "Property", "value": "2024"},
    }


def test_multi_attribute_instances_by_dataset_id(client: httpx.Client) -> None:
    """Several instances of one attribute are told apart by datasetId; the default instance has none."""
    ent = make_entity(
        name=[
            prop("Default"),
            prop("German", datasetId="urn:ngsi-ld:Dataset:german"),
            prop("French", datasetId="urn:ngsi-ld:Dataset:french"),
        ]
    )
    create(client, ent)
    got = instances(get_json(client, ent["id"])["name"])
    assert len(got) == 3
    by_ds = {i.get("datasetId"): i["value"] for i in got}
    assert by_ds == {
        None: "Default",
        "urn:ngsi-ld:Dataset:german": "German",
        "urn:ngsi-ld:Dataset:french": "French",
    }


def test_dataset_id_none_is_the_default_instance(client: httpx.Client) -> None:
    """datasetId "@none" denotes the default instance, and responses never show a datasetId for it."""
    ent = make_entity(name=[prop("A", datasetId="@none"), prop("B", datasetId="urn:ngsi-ld:Dataset:b")])
    create(client, ent)
    got = instances(get_json(client, ent["id"])["name"])
    default = [i for i in got if i["value"] == "A"]
    assert len(default) == 1
    assert "datasetId" not in default[0]


def test_several_types(client: httpx.Client) -> None:
    """An Entity may have several types; they come back as an (unordered) array."""
    ent = make_entity()
    ent["type"] = ["Thing", "Device", "Asset"]
    create(client, ent)
    got = get_json(client, ent["id"])
    assert types_of(got) == {"Thing", "Device", "Asset"}
    assert isinstance(got["type"], list)


@pytest.mark.parametrize("scope", ["/Madrid/Gardens/ParqueNorte", ["/Madrid", "/Company1/Building7"], "Spain"])
def test_scope_is_stored(client: httpx.Client, scope: Any) -> None:
    """scope (a string or an array of Scope strings) is a non-reified top-level member."""
    ent = make_entity(scope=scope, name=prop("x"))
    create(client, ent)
    got = get_json(client, ent["id"])
    assert scopes_of(got) == ({scope} if isinstance(scope, str) else set(scope))


def test_id_and_type_accept_at_id_and_at_type(client: httpx.Client) -> None:
    """Requests may use @id/@type; responses use id/type."""
    eid = new_id()
    create(client, {"@id": eid, "@type": "Thing", "name": prop("x")})
    got = get_json(client, eid)
    assert got["id"] == eid
    assert got["type"] == "Thing"
    assert "@id" not in got
    assert "@type" not in got


@pytest.mark.parametrize("prefix", ["http://a.b.c/entity/E", "urn:example:weird:", "https://ex.org/things/"])
def test_any_uri_scheme_is_a_valid_id(client: httpx.Client, prefix: str) -> None:
    """Entity ids are URIs of any scheme, not only urn:ngsi-ld."""
    eid = prefix + uuid.uuid4().hex
    create(client, {"id": eid, "type": "Thing"})
    got = client.get("/entities/" + quote(eid, safe=""))
    assert got.status_code == 200, got.text
    assert got.json()["id"] == eid


@pytest.mark.parametrize(
    "name", ["température", "Größe", "name_with_underscore", "x1", "ex:size", "状態"], ids=lambda n: n
)
def test_names_in_the_grammar_are_accepted(client: httpx.Client, name: str) -> None:
    """Names in the NGSI-LD grammar (Unicode letters/digits/_, prefix:name) are accepted."""
    ent = make_entity(**{name: prop(1)})
    create(client, ent)
    assert get_json(client, ent["id"])[name]["value"] == 1


def test_client_supplied_system_attributes_are_ignored(client: httpx.Client) -> None:
    """createdAt/modifiedAt sent by the client on create are ignored; the broker sets its own."""
    ent = make_entity(
        createdAt="2000-01-01T00:00:00Z",
        modifiedAt="2000-01-01T00:00:00Z",
        name=prop("x", createdAt="2000-01-01T00:00:00Z", modifiedAt="2000-01-01T00:00:00Z"),
    )
    create(client, ent)
    got = get_json(client, ent["id"], options="sysAttrs")
    for holder in (got, got["name"]):
        assert DATETIME_RE.match(holder["createdAt"]), holder
        assert not holder["createdAt"].startswith("2000-"), holder
        assert not holder["modifiedAt"].startswith("2000-"), holder


# --- naming and shape violations -> BadRequestData ----------------------------------------------


@pytest.mark.parametrize(
    "name", ["bad name", "1abc", "a-b", "a.b", "a/b", "x#y", "@invalid", "_lead"], ids=lambda n: repr(n)
)
def test_attribute_names_outside_the_grammar_are_rejected(client: httpx.Client, name: str) -> None:
    """An attribute name outside the NGSI-LD name grammar gives 400 BadRequestData and nothing is stored."""
    assert_rejected(client, make_entity(**{name: prop(1)}))


@pytest.mark.parametrize("type_name", ["Bad Type", "1Thing", "Thing-X", "Thing#1", ""], ids=lambda n: repr(n))
def test_entity_type_names_outside_the_grammar_are_rejected(client: httpx.Client, type_name: str) -> None:
    """An entity type name outside the name grammar gives 400 BadRequestData."""
    assert_rejected(client, {"id": new_id(), "type": type_name})


@pytest.mark.parametrize("reserved", ["observedAt", "datasetId", "unitCode", "instanceId"])
def test_reserved_non_reified_terms_are_not_attribute_names(client: httpx.Client, reserved: str) -> None:
    """Non-reified core terms (observedAt, datasetId, ...) as attribute names give BadRequestData."""
    assert_rejected(client, make_entity(**{reserved: prop("2025-01-01T00:00:00Z")}))


@pytest.mark.parametrize("bad_id", ["thisisaninvaliduri", "not a uri", "urn:ngsi-ld:Thing: space", 42, ""])
def test_id_not_a_uri_is_rejected(client: httpx.Client, bad_id: Any) -> None:
    """An entity id that is not a URI gives 400 BadRequestData."""
    assert_rejected(client, {"id": bad_id, "type": "Thing"})


def test_missing_type_is_rejected(client: httpx.Client) -> None:
    """An entity without type gives 400 BadRequestData and nothing is stored."""
    assert_rejected(client, {"id": new_id(), "name": prop("x")})


def test_missing_id_is_rejected(client: httpx.Client) -> None:
    """An entity without id gives 400 BadRequestData."""
    assert_rejected(client, {"type": "Thing", "name": prop("x")})


BAD_ATTRIBUTES: dict[str, Any] = {
    "unknown attribute type": {"type": "Foo", "value": 1},
    "Property without value": {"type": "Property"},
    "Property with object": {"type": "Property", "value": 1, "object": "urn:ngsi-ld:X:1"},
    "Relationship without object": {"type": "Relationship"},
    "Relationship with value only": {"type": "Relationship", "value": "urn:ngsi-ld:X:1"},
    "Relationship with unitCode": {"type": "Relationship", "object": "urn:ngsi-ld:X:1", "unitCode": "CEL"},
    "Relationship object not a URI": {"type": "Relationship", "object": "not a uri"},
    "LanguageProperty non-string value": {"type": "LanguageProperty", "languageMap": {"en": 5}},
    "LanguageProperty with value": {"type": "LanguageProperty", "value": "x"},
    "LanguageProperty map not an object": {"type": "LanguageProperty", "languageMap": "hello"},
    "ListProperty valueList not a list": {"type": "ListProperty", "valueList": 3},
    "ListRelationship with non-URI": {"type": "ListRelationship", "objectList": ["not a uri"]},
    "VocabProperty with number": {"type": "VocabProperty", "vocab": 3},
    "JsonProperty without json": {"type": "JsonProperty", "value": {"a": 1}},
    "datasetId not a URI": {"type": "Property", "value": 1, "datasetId": "not a uri"},
    "observedAt not a DateTime": {"type": "Property", "value": 1, "observedAt": "yesterday"},
    "observedAt with an offset": {"type": "Property", "value": 1, "observedAt": "2025-01-02T10:00:00+01:00"},
    "observedAt with 7 fractional digits": {
        "type": "Property",
        "value": 1,
        "observedAt": "2025-01-02T10:00:00.1234567Z",
    },
    "null value on create": {"type": "Property", "value": NULL},
    "null inside a JSON value on create": {"type": "Property", "value": {"k": NULL, "other": 1}},
    "JSON null value": {"type": "Property", "value": None},
    "languageMap key not a language tag": {"type": "LanguageProperty", "languageMap": {"not a tag!": "x"}},
    "null object on create": {"type": "Relationship", "object": NULL},
    "JSON null attribute": None,
    "two default instances": [{"type": "Property", "value": 1}, {"type": "Property", "value": 2}],
    "embedded @context": {"type": "Property", "value": 1, "@context": {"x": "http://ex.org/x"}},
}


@pytest.mark.parametrize("attr", list(BAD_ATTRIBUTES.values()), ids=list(BAD_ATTRIBUTES))
def test_invalid_attribute_shapes_are_rejected(client: httpx.Client, attr: Any) -> None:
    """Attributes breaking the kind rules (§1.3-1.6, §1.10) give 400 BadRequestData and nothing is stored."""
    assert_rejected(client, make_entity(attr1=attr))


BAD_GEOMETRIES: dict[str, Any] = {
    "unclosed polygon ring": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
    "longitude out of range": point(200.0, 10.0),
    "latitude out of range": point(10.0, 95.0),
    "point with nested coordinates": {"type": "Point", "coordinates": [[1.0, 2.0]]},
    "polygon without ring nesting": {"type": "Polygon", "coordinates": [[0, 0], [1, 0], [1, 1], [0, 0]]},
    "linestring with one position": {"type": "LineString", "coordinates": [[1.0, 2.0]]},
    "unknown geometry type": {"type": "Circle", "coordinates": [1.0, 2.0]},
    "geometry collection": {"type": "GeometryCollection", "geometries": [point(1.0, 2.0)]},
    "coordinates as strings": {"type": "Point", "coordinates": ["1", "2"]},
    "not a geometry": {"lat": 1, "lon": 2},
    "string that is not GeoJSON": "POINT(1 2)",
}


@pytest.mark.parametrize("value", list(BAD_GEOMETRIES.values()), ids=list(BAD_GEOMETRIES))
def test_geo_property_with_invalid_geojson_is_rejected(client: httpx.Client, value: Any) -> None:
    """A GeoProperty whose value is not a valid GeoJSON geometry gives 400 BadRequestData."""
    assert_rejected(client, make_entity(location=geo(value)))


@pytest.mark.parametrize(
    "value",
    [
        {"type": "MultiPoint", "coordinates": [[1.0, 2.0], [3.0, 4.0]]},
        {"type": "LineString", "coordinates": [[1.0, 2.0], [3.0, 4.0]]},
        {"type": "MultiLineString", "coordinates": [[[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]]]},
        {"type": "Polygon", "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]},
        {
            "type": "MultiPolygon",
            "coordinates": [[[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]]]],
        },
        {"type": "Point", "coordinates": [-180.0, -90.0]},
    ],
    ids=["MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "PointAtLimits"],
)
def test_every_geojson_geometry_type_is_accepted(client: httpx.Client, value: dict[str, Any]) -> None:
    """GeoProperty values may be any GeoJSON geometry except GeometryCollection."""
    ent = make_entity(area=geo(value))
    create(client, ent)
    got = get_json(client, ent["id"])["area"]
    assert got["type"] == "GeoProperty"
    assert got["value"] == value


def test_geo_property_value_as_geojson_string_is_accepted(client: httpx.Client) -> None:
    """A GeoProperty value may be a JSON string holding a valid geometry of the declared type."""
    ent = make_entity(location=geo('{"type": "Point", "coordinates": [2.35, 48.85]}'))
    create(client, ent)
    got = get_json(client, ent["id"])["location"]
    assert got["type"] == "GeoProperty"
    value = got["value"]
    if isinstance(value, str):
        value = json.loads(value)
    assert value == point(2.35, 48.85)


def test_null_as_first_level_member_on_create_is_rejected(client: httpx.Client) -> None:
    """The NGSI-LD Null as a concise attribute value on create gives 400 BadRequestData."""
    assert_rejected(client, make_entity(name=NULL))


@pytest.mark.parametrize("scope", ["bad scope!", "//x", "/a//b", "/1a", "/a/", "a b", NULL, 5], ids=repr)
def test_scope_outside_the_grammar_is_rejected(client: httpx.Client, scope: Any) -> None:
    """A scope outside the Scope grammar (or the Null on create) gives 400 BadRequestData."""
    assert_rejected(client, make_entity(scope=scope))


def test_comma_as_decimal_separator_in_requests(client: httpx.Client) -> None:
    """A DateTime in a request may use a comma for the decimal point; responses use the DateTime shape."""
    ent = make_entity(a=prop(1, observedAt="2025-01-02T10:00:00,5Z"))
    create(client, ent)
    observed = get_json(client, ent["id"])["a"]["observedAt"]
    assert DATETIME_RE.match(observed), observed
    assert observed.rstrip("Z").rstrip("0") == "2025-01-02T10:00:00.5", observed


@pytest.mark.parametrize("member", ["instanceId", "deletedAt"])
def test_client_supplied_output_only_members_are_ignored(client: httpx.Client, member: str) -> None:
    """instanceId/deletedAt sent by a client on create are ignored (§5.2.5)."""
    value = "urn:ngsi-ld:Instance:1" if member == "instanceId" else "2020-01-01T00:00:00Z"
    ent = make_entity(a={"type": "Property", "value": 1, member: value})
    create(client, ent)
    assert member not in get_json(client, ent["id"], options="sysAttrs")["a"]
