"""Digest §2: normalized/concise/keyValues, format vs options, sysAttrs, GeoJSON, lang, pick/omit/attrs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.helpers import (
    DATETIME_RE,
    assert_problem,
    create,
    geo,
    get_json,
    instances,
    link_header,
    make_entity,
    media_type,
    new_id,
    object_list_uris,
    point,
    prop,
    rel,
    retrieve,
    send,
    strip_sys,
)

DS1 = "urn:ngsi-ld:Dataset:one"
DS2 = "urn:ngsi-ld:Dataset:two"


def rich_entity() -> dict[str, Any]:
    return make_entity(
        "Shop",
        name=prop("Corner shop", observedAt="2025-01-02T10:00:00Z"),
        footfall=prop(311, unitCode="C62", measuredBy=rel("urn:ngsi-ld:Sensor:7")),
        location=geo(point(2.35, 48.85)),
        motto={"type": "LanguageProperty", "languageMap": {"en": "Fresh", "fr": "Frais"}},
        category={"type": "VocabProperty", "vocab": "grocery"},
        rawConfig={"type": "JsonProperty", "json": {"id": "not-an-iri", "value": 3}},
        openDays={"type": "ListProperty", "valueList": ["Mon", "Tue", "Sat"]},
        owner=rel("urn:ngsi-ld:Person:9"),
        suppliers={"type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:Org:1"}]},
    )


@pytest.fixture
def shop(client: httpx.Client) -> dict[str, Any]:
    ent = rich_entity()
    create(client, ent)
    return ent


# --- normalized ---------------------------------------------------------------------------------


def test_normalized_is_the_default(client: httpx.Client, shop: dict[str, Any]) -> None:
    """Without format/options, Retrieve returns the normalized form: every attribute has a type."""
    got = get_json(client, shop["id"])
    for key in ("name", "footfall", "location", "motto", "category", "rawConfig", "openDays", "owner"):
        assert isinstance(got[key], dict) and "type" in got[key], key
    assert got["footfall"]["measuredBy"]["type"] == "Relationship"
    assert "createdAt" not in got and "createdAt" not in got["name"]


def test_format_normalized_explicit(client: httpx.Client, shop: dict[str, Any]) -> None:
    """format=normalized gives the same body as the default."""
    assert get_json(client, shop["id"], format="normalized") == get_json(client, shop["id"])


def test_options_normalized_explicit(client: httpx.Client, shop: dict[str, Any]) -> None:
    """The deprecated options=normalized is still accepted and gives the normalized form."""
    assert get_json(client, shop["id"], options="normalized") == get_json(client, shop["id"])


# --- concise ------------------------------------------------------------------------------------


def test_concise_output_drops_types(client: httpx.Client, shop: dict[str, Any]) -> None:
    """format=concise drops attribute types; attributes without sub-attributes collapse to bare values."""
    got = get_json(client, shop["id"], format="concise")
    assert got["id"] == shop["id"]
    assert got["type"] == "Shop"
    assert got["footfall"] == {
        "value": 311,
        "unitCode": "C62",
        "measuredBy": {"object": "urn:ngsi-ld:Sensor:7"},
    }
    assert got["name"] == {"value": "Corner shop", "observedAt": "2025-01-02T10:00:00Z"}
    assert got["location"] in (point(2.35, 48.85), {"value": point(2.35, 48.85)})
    assert got["motto"] == {"languageMap": {"en": "Fresh", "fr": "Frais"}}
    assert got["category"] == {"vocab": "grocery"}
    assert got["rawConfig"] == {"json": {"id": "not-an-iri", "value": 3}}
    assert got["openDays"] in (["Mon", "Tue", "Sat"], {"valueList": ["Mon", "Tue", "Sat"]})
    assert got["owner"] == {"object": "urn:ngsi-ld:Person:9"}
    assert isinstance(got["suppliers"], dict)
    assert object_list_uris(got["suppliers"]["objectList"]) == ["urn:ngsi-ld:Org:1"]


def test_options_concise_is_accepted(client: httpx.Client, shop: dict[str, Any]) -> None:
    """The deprecated options=concise gives the concise form."""
    assert get_json(client, shop["id"], options="concise") == get_json(client, shop["id"], format="concise")


def test_concise_is_lossless(client: httpx.Client, shop: dict[str, Any]) -> None:
    """Concise is lossless: creating an entity from concise output yields the same normalized entity."""
    concise = get_json(client, shop["id"], format="concise")
    clone_id = new_id("Shop")
    concise["id"] = clone_id
    create(client, concise)
    original = get_json(client, shop["id"])
    clone = get_json(client, clone_id)
    original["id"] = clone_id
    original["suppliers"]["objectList"] = object_list_uris(original["suppliers"]["objectList"])
    clone["suppliers"]["objectList"] = object_list_uris(clone["suppliers"]["objectList"])
    assert clone == original


AMBIGUOUS_VALUES: dict[str, Any] = {
    "property holding a geometry": prop(point(1.0, 2.0)),
    "property holding {value}": prop({"value": 1}),
    "property holding {object}": prop({"object": "urn:ngsi-ld:X:1"}),
    "property holding an array": prop([1, {"value": 2}]),
    "multi-instance property": [prop(1), prop(2, datasetId=DS1)],
    "multi-instance relationship": [rel("urn:ngsi-ld:P:1"), rel("urn:ngsi-ld:P:2", datasetId=DS1)],
    "multi-instance geoproperty": [geo(point(1.0, 2.0)), geo(point(3.0, 4.0), datasetId=DS1)],
}


@pytest.mark.parametrize("attr", list(AMBIGUOUS_VALUES.values()), ids=list(AMBIGUOUS_VALUES))
def test_concise_is_lossless_for_ambiguous_values(client: httpx.Client, attr: Any) -> None:
    """Concise output re-ingested gives the same normalized attribute, even where inference is ambiguous."""
    ent = make_entity(a=attr)
    create(client, ent)
    concise = get_json(client, ent["id"], format="concise")
    clone_id = new_id()
    create(client, {**concise, "id": clone_id})
    assert get_json(client, clone_id)["a"] == get_json(client, ent["id"])["a"]


def test_concise_input_is_interpreted(client: httpx.Client) -> None:
    """Concise input: bare values are Properties, {object} Relationships, geometries GeoProperties, etc."""
    eid = new_id()
    body = {
        "id": eid,
        "type": "Thing",
        "plain": "text",
        "number": 7,
        "objectValue": {"a": 1},
        "arrayValue": [1, 2],
        "withValue": {"value": 21, "unitCode": "CEL"},
        "where": {"type": "Point", "coordinates": [1.0, 2.0]},
        "whereValue": {"value": {"type": "Point", "coordinates": [3.0, 4.0]}},
        "owner": {"object": "urn:ngsi-ld:Person:1"},
        "label": {"languageMap": {"en": "hi"}},
        "kind": {"vocab": "grocery"},
        "blob": {"json": {"k": "v"}},
        "list": {"valueList": [1, 2]},
        "chain": {"objectList": [{"object": "urn:ngsi-ld:X:1"}]},
    }
    create(client, body)
    got = get_json(client, eid)
    assert got["plain"] == prop("text")
    assert got["number"] == prop(7)
    assert got["objectValue"] == prop({"a": 1})
    assert got["arrayValue"] == prop([1, 2])
    assert got["withValue"] == prop(21, unitCode="CEL")
    assert got["where"] == geo(point(1.0, 2.0))
    assert got["whereValue"] == geo(point(3.0, 4.0))
    assert got["owner"] == rel("urn:ngsi-ld:Person:1")
    assert got["label"] == {"type": "LanguageProperty", "languageMap": {"en": "hi"}}
    assert got["kind"] == {"type": "VocabProperty", "vocab": "grocery"}
    assert got["blob"] == {"type": "JsonProperty", "json": {"k": "v"}}
    assert got["list"] == {"type": "ListProperty", "valueList": [1, 2]}
    assert got["chain"]["type"] == "ListRelationship"
    assert object_list_uris(got["chain"]["objectList"]) == ["urn:ngsi-ld:X:1"]


# --- keyValues / simplified ---------------------------------------------------------------------


def expected_simplified(ent: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": ent["id"],
        "type": "Shop",
        "name": "Corner shop",
        "footfall": 311,
        "location": point(2.35, 48.85),
        "motto": {"languageMap": {"en": "Fresh", "fr": "Frais"}},
        "category": {"vocab": "grocery"},
        "rawConfig": {"json": {"id": "not-an-iri", "value": 3}},
        "openDays": ["Mon", "Tue", "Sat"],
        "owner": "urn:ngsi-ld:Person:9",
        "suppliers": ["urn:ngsi-ld:Org:1"],
    }


@pytest.mark.parametrize(
    "params",
    [{"format": "keyValues"}, {"format": "simplified"}, {"options": "keyValues"}, {"options": "simplified"}],
    ids=["format=keyValues", "format=simplified", "options=keyValues", "options=simplified"],
)
def test_simplified_representation(client: httpx.Client, shop: dict[str, Any], params: dict[str, str]) -> None:
    """keyValues/simplified: attributes become their values; sub-attributes, unitCode, observedAt dropped."""
    assert get_json(client, shop["id"], **params) == expected_simplified(shop)


def test_simplified_multi_instance_uses_dataset_form(client: httpx.Client) -> None:
    """keyValues of a multi-attribute gives {"dataset": {"@none": v0, "<datasetId>": v1}}."""
    ent = make_entity(
        name=[prop("A"), prop("B", datasetId=DS1)],
        owner=[rel("urn:ngsi-ld:P:1", datasetId=DS1), rel("urn:ngsi-ld:P:2", datasetId=DS2)],
    )
    create(client, ent)
    got = get_json(client, ent["id"], format="keyValues")
    assert got["name"] == {"dataset": {"@none": "A", DS1: "B"}}
    assert got["owner"] == {"dataset": {DS1: "urn:ngsi-ld:P:1", DS2: "urn:ngsi-ld:P:2"}}


def test_format_takes_precedence_over_options(client: httpx.Client, shop: dict[str, Any]) -> None:
    """format beats options: format=keyValues&options=normalized gives the simplified form (TS 018_15_07)."""
    assert get_json(client, shop["id"], format="keyValues", options="normalized") == expected_simplified(shop)
    assert get_json(client, shop["id"], format="normalized", options="keyValues") == get_json(client, shop["id"])


@pytest.mark.parametrize(
    "params",
    [
        {"format": "fancy"},
        {"format": "keyValues,concise"},
        {"options": "fancy"},
        {"options": "sysAttrs,fancy"},
        {"format": "temporalValues"},
    ],
    ids=["format=fancy", "format=list", "options=fancy", "options=sysAttrs,fancy", "temporal"],
)
def test_unknown_format_or_options_value_is_invalid_request(
    client: httpx.Client, shop: dict[str, Any], params: dict[str, str]
) -> None:
    """An unknown format value or an unknown element of options gives 400 InvalidRequest (TS 018_16)."""
    assert_problem(retrieve(client, shop["id"], **params), 400, "InvalidRequest")


# --- sysAttrs -----------------------------------------------------------------------------------


def test_sys_attrs_on_entity_attributes_and_sub_attributes(client: httpx.Client, shop: dict[str, Any]) -> None:
    """options=sysAttrs adds createdAt/modifiedAt (UTC) to the entity, attributes and sub-attributes."""
    got = get_json(client, shop["id"], options="sysAttrs")
    holders = [got, got["name"], got["footfall"], got["footfall"]["measuredBy"], got["owner"], got["motto"]]
    for holder in holders:
        for member in ("createdAt", "modifiedAt"):
            assert DATETIME_RE.match(holder.get(member, "")), (member, holder)
    assert got["createdAt"] <= got["modifiedAt"]
    assert strip_sys(got) == get_json(client, shop["id"])


def test_sys_attrs_with_concise(client: httpx.Client, shop: dict[str, Any]) -> None:
    """options=sysAttrs combines with format=concise; attributes then carry createdAt as objects."""
    got = get_json(client, shop["id"], format="concise", options="sysAttrs")
    assert DATETIME_RE.match(got["createdAt"])
    assert DATETIME_RE.match(got["footfall"]["createdAt"])
    assert "type" not in got["footfall"]


# --- pick / omit / attrs ------------------------------------------------------------------------


def test_pick_id_only(client: httpx.Client, shop: dict[str, Any]) -> None:
    """pick=id returns only the id (TS 018_17_03)."""
    assert get_json(client, shop["id"], pick="id") == {"id": shop["id"]}


def test_pick_id_and_attribute(client: httpx.Client, shop: dict[str, Any]) -> None:
    """pick=id,name returns id plus name."""
    assert get_json(client, shop["id"], pick="id,name") == {"id": shop["id"], "name": shop["name"]}


def test_pick_with_pipe_separator(client: httpx.Client, shop: dict[str, Any]) -> None:
    """'|' is an alternative separator in projection terms."""
    assert get_json(client, shop["id"], pick="type|owner") == {"type": "Shop", "owner": shop["owner"]}


def test_omit_id(client: httpx.Client, shop: dict[str, Any]) -> None:
    """omit=id returns the entity without id."""
    got = get_json(client, shop["id"], omit="id")
    assert "id" not in got
    assert got["type"] == "Shop"
    assert "name" in got


def test_omit_type_and_attribute(client: httpx.Client, shop: dict[str, Any]) -> None:
    """omit=type,name removes both members and keeps the rest."""
    got = get_json(client, shop["id"], omit="type,name")
    assert "type" not in got and "name" not in got
    assert got["id"] == shop["id"]
    assert got["owner"] == shop["owner"]


def test_attrs_projects_attributes(client: httpx.Client, shop: dict[str, Any]) -> None:
    """attrs=name,owner keeps id, type and the listed attributes only."""
    got = get_json(client, shop["id"], attrs="name,owner")
    assert got == {"id": shop["id"], "type": "Shop", "name": shop["name"], "owner": shop["owner"]}


def test_attrs_with_one_unknown_attribute(client: httpx.Client, shop: dict[str, Any]) -> None:
    """attrs listing one existing and one unknown attribute returns the existing one."""
    got = get_json(client, shop["id"], attrs="name,nonexistent")
    assert got == {"id": shop["id"], "type": "Shop", "name": shop["name"]}


def test_attrs_none_present_is_not_found(client: httpx.Client, shop: dict[str, Any]) -> None:
    """attrs naming no attribute of the entity gives 404 ResourceNotFound (TS 018_03_02)."""
    assert_problem(retrieve(client, shop["id"], attrs="nonexistent"), 404, "ResourceNotFound")


def test_pick_nothing_left_is_not_found(client: httpx.Client, shop: dict[str, Any]) -> None:
    """pick of an unknown member leaves nothing: 404 ResourceNotFound (TS 018_19)."""
    assert_problem(retrieve(client, shop["id"], pick="nonexistent"), 404, "ResourceNotFound")


def test_omit_everything_is_not_found(client: httpx.Client) -> None:
    """omit of every member leaves nothing: 404 ResourceNotFound (TS 018_19)."""
    ent = make_entity(name=prop("x"))
    create(client, ent)
    assert_problem(retrieve(client, ent["id"], omit="id,type,name"), 404, "ResourceNotFound")


@pytest.mark.parametrize(
    "params",
    [
        {"pick": "name", "omit": "name"},
        {"pick": "name", "attrs": "name"},
        {"omit": "owner", "attrs": "name"},
        {"pick": "id;name"},
        {"pick": "name{"},
        {"pick": "{{name"},
        {"pick": "id,,name"},
        {"pick": "{,name}"},
        {"pick": "owner{}"},
        {"omit": "id;name"},
        {"pick": "owner{name}"},
    ],
    ids=[
        "pick+omit same",
        "pick+attrs",
        "omit+attrs",
        "pick semicolon",
        "pick unclosed brace",
        "pick double brace",
        "pick empty term",
        "pick {,name}",
        "pick empty braces",
        "omit semicolon",
        "linked term without join",
    ],
)
def test_invalid_projection_is_bad_request_data(
    client: httpx.Client, shop: dict[str, Any], params: dict[str, str]
) -> None:
    """Conflicting or malformed pick/omit/attrs give 400 BadRequestData (TS 018_18)."""
    assert_problem(retrieve(client, shop["id"], **params), 400, "BadRequestData")


# --- lang ---------------------------------------------------------------------------------------


@pytest.fixture
def street(client: httpx.Client) -> dict[str, Any]:
    ent = make_entity(
        street={
            "type": "LanguageProperty",
            "languageMap": {"fr": "Grand Place", "nl": "Grote Markt", "en": "Main Square"},
        },
        name=prop("kept"),
    )
    create(client, ent)
    return ent


def test_lang_turns_language_property_into_property(client: httpx.Client, street: dict[str, Any]) -> None:
    """lang=fr renders a LanguageProperty as a Property with the French value and lang "fr" (TS 018_07_01)."""
    got = get_json(client, street["id"], lang="fr")
    assert got["street"] == {"type": "Property", "value": "Grand Place", "lang": "fr"}
    assert got["name"] == prop("kept")


def test_lang_with_simplified(client: httpx.Client, street: dict[str, Any]) -> None:
    """lang with keyValues gives the plain string (TS 018_07_05)."""
    got = get_json(client, street["id"], lang="nl", format="keyValues")
    assert got["street"] == "Grote Markt"


def test_lang_with_concise(client: httpx.Client, street: dict[str, Any]) -> None:
    """lang with concise gives the value with its lang member, without type."""
    got = get_json(client, street["id"], lang="en", format="concise")
    assert got["street"] == {"value": "Main Square", "lang": "en"}


def test_lang_star_picks_any_language(client: httpx.Client, street: dict[str, Any]) -> None:
    """lang=* accepts any language; the returned value matches the returned lang (TS 018_07_03)."""
    got = get_json(client, street["id"], lang="*")["street"]
    assert got["type"] == "Property"
    assert street["street"]["languageMap"][got["lang"]] == got["value"]


def test_lang_quality_values_rank_preferences(client: httpx.Client, street: dict[str, Any]) -> None:
    """lang=fr-CH,fr;q=0.9,en;q=0.8,*;q=0.5 picks fr (TS 018_07_04)."""
    got = get_json(client, street["id"], lang="fr-CH,fr;q=0.9,en;q=0.8,*;q=0.5")["street"]
    assert got == {"type": "Property", "value": "Grand Place", "lang": "fr"}


def test_lang_quality_values_beat_position(client: httpx.Client, street: dict[str, Any]) -> None:
    """Quality values, not list position, rank the preferences: en;q=0.2,nl;q=0.9 picks nl."""
    got = get_json(client, street["id"], lang="en;q=0.2,nl;q=0.9")["street"]
    assert got == {"type": "Property", "value": "Grote Markt", "lang": "nl"}


def test_lang_without_match_still_gives_a_property(client: httpx.Client, street: dict[str, Any]) -> None:
    """When no tag matches on Retrieve, one language is chosen (implementation-defined), as a Property."""
    got = get_json(client, street["id"], lang="de")["street"]
    assert got["type"] == "Property"
    assert got["value"] in street["street"]["languageMap"].values()


def test_lang_prefers_matching_tag_over_none(client: httpx.Client) -> None:
    """A languageMap with an @none entry still resolves lang=fr to the fr entry."""
    ent = make_entity(label={"type": "LanguageProperty", "languageMap": {"@none": "neutral", "fr": "neutre"}})
    create(client, ent)
    got = get_json(client, ent["id"], lang="fr")["label"]
    assert got["value"] == "neutre"
    assert got["lang"] == "fr"


# --- datasetId filter ---------------------------------------------------------------------------


@pytest.fixture
def multi(client: httpx.Client) -> dict[str, Any]:
    ent = make_entity(
        name=[prop("default"), prop("one", datasetId=DS1), prop("two", datasetId=DS2)],
        other=prop("only default"),
    )
    create(client, ent)
    return ent


def test_dataset_id_none_selects_default_instances(client: httpx.Client, multi: dict[str, Any]) -> None:
    """datasetId=@none returns only default instances (TS 019_12)."""
    got = get_json(client, multi["id"], datasetId="@none")
    assert [i["value"] for i in instances(got["name"])] == ["default"]
    assert got["other"]["value"] == "only default"


def test_dataset_id_selects_that_instance(client: httpx.Client, multi: dict[str, Any]) -> None:
    """datasetId=<uri> returns only that instance; attributes without one are dropped."""
    got = get_json(client, multi["id"], datasetId=DS1)
    assert [i["value"] for i in instances(got["name"])] == ["one"]
    assert instances(got["name"])[0]["datasetId"] == DS1
    assert "other" not in got


def test_dataset_id_list(client: httpx.Client, multi: dict[str, Any]) -> None:
    """datasetId accepts a comma-separated list."""
    got = get_json(client, multi["id"], datasetId=f"{DS1},{DS2}")
    assert sorted(i["value"] for i in instances(got["name"])) == ["one", "two"]


def test_dataset_id_with_attrs(client: httpx.Client, multi: dict[str, Any]) -> None:
    """attrs=name&datasetId=<uri> combines both filters (TS 019_12)."""
    got = get_json(client, multi["id"], attrs="name", datasetId=DS2)
    assert [i["value"] for i in instances(got["name"])] == ["two"]
    assert "other" not in got


def test_dataset_id_without_match_drops_attribute(client: httpx.Client, multi: dict[str, Any]) -> None:
    """When no instance matches, the entity comes back without those attributes."""
    got = get_json(client, multi["id"], datasetId="urn:ngsi-ld:Dataset:none")
    assert got["id"] == multi["id"]
    assert "name" not in got and "other" not in got


# --- GeoJSON ------------------------------------------------------------------------------------

GEO = {"Accept": "application/geo+json"}


@pytest.fixture
def place(client: httpx.Client) -> dict[str, Any]:
    ent = make_entity(
        "Place",
        name=prop("Eiffel Tower"),
        location=geo(point(2.2945, 48.8584), observedAt="2025-01-02T10:00:00Z"),
        area=geo({"type": "Polygon", "coordinates": [[[2.0, 48.0], [3.0, 48.0], [3.0, 49.0], [2.0, 48.0]]]}),
    )
    create(client, ent)
    return ent


def test_geojson_feature(client: httpx.Client, place: dict[str, Any]) -> None:
    """Accept: application/geo+json gives a Feature: id, geometry from location, properties with all attrs."""
    resp = retrieve(client, place["id"], headers=GEO)
    assert resp.status_code == 200, resp.text
    assert media_type(resp) == "application/geo+json"
    body = resp.json()
    assert body["type"] == "Feature"
    assert body["id"] == place["id"]
    assert body["geometry"] == point(2.2945, 48.8584)
    props = body["properties"]
    assert props["type"] == "Place"
    assert props["name"] == place["name"]
    assert props["location"] == place["location"]
    assert props["area"] == place["area"]
    assert "@context" in body


def test_geojson_geometry_property(client: httpx.Client, place: dict[str, Any]) -> None:
    """geometryProperty=<name> selects the GeoProperty used as geometry."""
    body = get_json(client, place["id"], headers=GEO, geometryProperty="area")
    assert body["geometry"] == place["area"]["value"]


def test_geojson_missing_geometry_property_gives_null(client: httpx.Client, place: dict[str, Any]) -> None:
    """geometryProperty naming a missing GeoProperty gives 200 with geometry null (TS 018_05_04)."""
    body = get_json(client, place["id"], headers=GEO, geometryProperty="operationSpace")
    assert body["type"] == "Feature"
    assert body["geometry"] is None


def test_geojson_without_location_gives_null_geometry(client: httpx.Client) -> None:
    """An entity without location rendered as GeoJSON has geometry null."""
    ent = make_entity(name=prop("nowhere"))
    create(client, ent)
    body = get_json(client, ent["id"], headers=GEO)
    assert body["geometry"] is None
    assert body["properties"]["name"] == prop("nowhere")


def test_geojson_simplified(client: httpx.Client, place: dict[str, Any]) -> None:
    """geo+json with format=keyValues gives simplified properties (TS 018_05_01)."""
    body = get_json(client, place["id"], headers=GEO, format="keyValues")
    assert body["geometry"] == point(2.2945, 48.8584)
    assert body["properties"]["name"] == "Eiffel Tower"
    assert body["properties"]["location"] == point(2.2945, 48.8584)


def test_geojson_geometry_from_dataset_instance(client: httpx.Client) -> None:
    """For a multi-instance GeoProperty, datasetId picks the geometry instance, else the default one."""
    ent = make_entity(location=[geo(point(1.0, 2.0)), geo(point(3.0, 4.0), datasetId=DS1)])
    create(client, ent)
    assert get_json(client, ent["id"], headers=GEO)["geometry"] == point(1.0, 2.0)
    assert get_json(client, ent["id"], headers=GEO, datasetId=DS1)["geometry"] == point(3.0, 4.0)


def test_geojson_context_echoes_link(client: httpx.Client, place: dict[str, Any], user_context_url: str) -> None:
    """The GeoJSON body @context is the request's Link context."""
    body = get_json(client, place["id"], headers={**GEO, **link_header(user_context_url)})
    assert body["@context"] in (user_context_url, [user_context_url])


def test_geometry_property_without_geojson_is_bad_request(client: httpx.Client, place: dict[str, Any]) -> None:
    """geometryProperty without Accept: application/geo+json gives 400 BadRequestData."""
    resp = retrieve(client, place["id"], geometryProperty="area")
    assert_problem(resp, 400, "BadRequestData")


def test_geojson_prefer_body_json_moves_context_to_link(client: httpx.Client, place: dict[str, Any]) -> None:
    """With Prefer: body=json the GeoJSON body has no @context and a Link header carries it."""
    resp = retrieve(client, place["id"], headers={**GEO, "Prefer": "body=json"})
    assert resp.status_code == 200
    assert "@context" not in resp.json()
    assert "json-ld#context" in resp.headers.get("link", "")


def test_post_with_geojson_body_content_type_is_unsupported(client: httpx.Client) -> None:
    """application/geo+json is not an accepted request Content-Type: 415."""
    ent = make_entity(name=prop("x"))
    resp = send(client, "POST", "/entities", ent, ctype="application/geo+json")
    assert resp.status_code == 415
    assert retrieve(client, ent["id"]).status_code == 404
