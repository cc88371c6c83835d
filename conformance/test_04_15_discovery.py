"""Digest §4.15: types and attributes discovery — /types, /types/{type}, /attributes, /attributes/{attrId}."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from conformance.helpers import (
    DEFAULT_NS,
    ContextServer,
    assert_problem,
    create,
    geo,
    link_header,
    media_type,
    point,
    prop,
    rel,
)

URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
NS = "https://example.org/discovery#"
CORE_NS = "https://uri.etsi.org/ngsi-ld/"


def fqn(name: str) -> str:
    """The expanded IRI of a short name without a user context (location is a core term)."""
    return (CORE_NS if name == "location" else DEFAULT_NS) + name


def uniq(prefix: str) -> str:
    """A type name no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def h(tenant: str, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"NGSILD-Tenant": tenant, **(extra or {})}


def get_ok(client: httpx.Client, path: str, headers: dict[str, str], **params: str) -> Any:
    resp = client.get(path, headers=headers, params=params or None)
    assert resp.status_code == 200, f"{path}: {resp.status_code} {resp.text[:500]}"
    assert media_type(resp) == "application/json"
    return resp.json()


@pytest.fixture
def world(client: httpx.Client, tenant: str) -> str:
    """A fresh tenant with Building b1, b2 and a Building+Shop s1, and one Vehicle with every attribute kind."""
    create(
        client,
        {"id": "urn:ngsi-ld:Building:b1", "type": "Building", "name": prop("A"), "height": prop(10)},
        headers=h(tenant),
    )
    create(
        client,
        {
            "id": "urn:ngsi-ld:Building:b2",
            "type": "Building",
            "name": [prop("B"), prop("B2", datasetId="urn:ngsi-ld:Dataset:alt")],
            "owner": rel("urn:ngsi-ld:Person:1"),
        },
        headers=h(tenant),
    )
    create(
        client,
        {"id": "urn:ngsi-ld:Shop:s1", "type": ["Building", "Shop"], "name": prop("C"), "location": geo(point(1, 2))},
        headers=h(tenant),
    )
    create(
        client,
        {
            "id": "urn:ngsi-ld:Vehicle:v1",
            "type": "Vehicle",
            "motto": {"type": "LanguageProperty", "languageMap": {"en": "Go"}},
            "stops": {"type": "ListProperty", "valueList": [1, 2]},
            "cfg": {"type": "JsonProperty", "json": {"a": 1}},
            "kind": {"type": "VocabProperty", "vocab": "car"},
            "route": {"type": "ListRelationship", "objectList": [{"object": "urn:ngsi-ld:Stop:1"}]},
        },
        headers=h(tenant),
    )
    return tenant


# --------------------------------------------------------------------------------------------- /types


def test_types_list(client: httpx.Client, world: str) -> None:
    """GET /types gives an EntityTypeList with a generated URI id and every type present."""
    body = get_ok(client, "/types", h(world))
    assert body["type"] == "EntityTypeList"
    assert URI_RE.match(body["id"]), body["id"]
    assert sorted(body["typeList"]) == ["Building", "Shop", "Vehicle"]


def test_types_details(client: httpx.Client, world: str) -> None:
    """GET /types?details=true gives EntityType objects: FQN id, short typeName and attributeNames."""
    body = get_ok(client, "/types", h(world), details="true")
    assert isinstance(body, list)
    by_name = {e["typeName"]: e for e in body}
    assert set(by_name) == {"Building", "Shop", "Vehicle"}
    building = by_name["Building"]
    assert building["type"] == "EntityType"
    assert building["id"] == DEFAULT_NS + "Building"
    assert set(building["attributeNames"]) == {"name", "height", "owner", "location"}
    assert set(by_name["Shop"]["attributeNames"]) == {"name", "location"}


def test_type_info(client: httpx.Client, world: str) -> None:
    """GET /types/{type} gives EntityTypeInfo with entityCount and attributeDetails."""
    body = get_ok(client, "/types/Building", h(world))
    assert body["type"] == "EntityTypeInfo"
    assert body["id"] == DEFAULT_NS + "Building"
    assert body["typeName"] == "Building"
    assert body["entityCount"] == 3
    details = {d["attributeName"]: d for d in body["attributeDetails"]}
    assert set(details) == {"name", "height", "owner", "location"}
    for name, d in details.items():
        assert set(d) == {"id", "type", "attributeName", "attributeTypes"}, d
        assert d["type"] == "Attribute"
        assert d["id"] == fqn(name)
    assert details["name"]["attributeTypes"] == ["Property"]
    assert details["owner"]["attributeTypes"] == ["Relationship"]
    assert details["location"]["attributeTypes"] == ["GeoProperty"]


def test_type_info_by_encoded_fqn(client: httpx.Client, world: str) -> None:
    """GET /types/{type} also accepts a URL-encoded FQN."""
    body = get_ok(client, "/types/" + quote(DEFAULT_NS + "Shop", safe=""), h(world))
    assert body["typeName"] == "Shop"
    assert body["entityCount"] == 1


def test_type_info_unknown_is_not_found(client: httpx.Client, world: str) -> None:
    """GET /types/{type} for a type no entity has gives 404 ResourceNotFound."""
    assert_problem(client.get("/types/Nothing", headers=h(world)), 404, "ResourceNotFound")


def test_new_type_appears_in_default_tenant(client: httpx.Client) -> None:
    """A type created in the default tenant is listed by /types and /types/{type}."""
    t = uniq("Discovered")
    create(client, {"id": f"urn:ngsi-ld:{t}:1", "type": t, "level": prop(1)})
    assert t in get_ok(client, "/types", {})["typeList"]
    info = get_ok(client, f"/types/{t}", {})
    assert info["entityCount"] == 1
    assert [d["attributeName"] for d in info["attributeDetails"]] == ["level"]


# --------------------------------------------------------------------------------------------- /attributes


def test_attributes_list(client: httpx.Client, world: str) -> None:
    """GET /attributes gives an AttributeList with every attribute name present."""
    body = get_ok(client, "/attributes", h(world))
    assert body["type"] == "AttributeList"
    assert URI_RE.match(body["id"]), body["id"]
    assert sorted(body["attributeList"]) == sorted(
        ["name", "height", "owner", "location", "motto", "stops", "cfg", "kind", "route"]
    )


def test_attributes_details(client: httpx.Client, world: str) -> None:
    """GET /attributes?details=true gives Attribute objects with FQN id, attributeName and typeNames."""
    body = get_ok(client, "/attributes", h(world), details="true")
    assert isinstance(body, list)
    by_name = {a["attributeName"]: a for a in body}
    assert len(by_name) == 9
    name = by_name["name"]
    assert name["type"] == "Attribute"
    assert name["id"] == DEFAULT_NS + "name"
    assert set(name["typeNames"]) == {"Building", "Shop"}
    assert set(by_name["motto"]["typeNames"]) == {"Vehicle"}


def test_attribute_info(client: httpx.Client, world: str) -> None:
    """GET /attributes/{attrId} gives attributeCount (instances), attributeTypes and typeNames."""
    body = get_ok(client, "/attributes/name", h(world))
    assert body["type"] == "Attribute"
    assert body["id"] == DEFAULT_NS + "name"
    assert body["attributeName"] == "name"
    assert body["attributeCount"] == 4
    assert body["attributeTypes"] == ["Property"]
    assert set(body["typeNames"]) == {"Building", "Shop"}


@pytest.mark.parametrize(
    ("attr", "kind"),
    [
        ("owner", "Relationship"),
        ("location", "GeoProperty"),
        ("motto", "LanguageProperty"),
        ("stops", "ListProperty"),
        ("cfg", "JsonProperty"),
        ("kind", "VocabProperty"),
        ("route", "ListRelationship"),
    ],
)
def test_attribute_types_are_kinds(client: httpx.Client, world: str, attr: str, kind: str) -> None:
    """attributeTypes reports the NGSI-LD attribute kind."""
    assert get_ok(client, f"/attributes/{attr}", h(world))["attributeTypes"] == [kind]


def test_attribute_info_by_encoded_fqn(client: httpx.Client, world: str) -> None:
    """GET /attributes/{attrId} also accepts a URL-encoded FQN."""
    body = get_ok(client, "/attributes/" + quote(DEFAULT_NS + "height", safe=""), h(world))
    assert body["attributeName"] == "height"
    assert body["attributeCount"] == 1


def test_attribute_mixed_kinds(client: httpx.Client, tenant: str) -> None:
    """An attribute used with two kinds lists both in attributeTypes."""
    create(client, {"id": "urn:ngsi-ld:T:1", "type": "T", "x": prop(1)}, headers=h(tenant))
    create(client, {"id": "urn:ngsi-ld:T:2", "type": "T", "x": rel("urn:ngsi-ld:T:1")}, headers=h(tenant))
    assert sorted(get_ok(client, "/attributes/x", h(tenant))["attributeTypes"]) == ["Property", "Relationship"]
    details = get_ok(client, "/types/T", h(tenant))["attributeDetails"]
    assert sorted(details[0]["attributeTypes"]) == ["Property", "Relationship"]


def test_attribute_unknown_is_not_found(client: httpx.Client, world: str) -> None:
    """GET /attributes/{attrId} for an attribute no entity has gives 404 ResourceNotFound."""
    assert_problem(client.get("/attributes/nothing", headers=h(world)), 404, "ResourceNotFound")


# --------------------------------------------------------------------------------------------- contexts


def test_names_compacted_with_request_context(client: httpx.Client, tenant: str, context_server: ContextServer) -> None:
    """Names are compacted with the request's Link context; without a matching term the FQN is shown."""
    ctx = context_server.valid({"@context": {"Tower": NS + "Tower", "floors": NS + "floors"}})
    create(
        client, {"id": "urn:ngsi-ld:Tower:1", "type": "Tower", "floors": prop(3)}, headers=h(tenant, link_header(ctx))
    )
    with_ctx = h(tenant, link_header(ctx))
    assert get_ok(client, "/types", with_ctx)["typeList"] == ["Tower"]
    assert get_ok(client, "/types", h(tenant))["typeList"] == [NS + "Tower"]
    assert get_ok(client, "/attributes", with_ctx)["attributeList"] == ["floors"]
    assert get_ok(client, "/attributes", h(tenant))["attributeList"] == [NS + "floors"]
    detail = get_ok(client, "/types", with_ctx, details="true")[0]
    assert detail == {"id": NS + "Tower", "type": "EntityType", "typeName": "Tower", "attributeNames": ["floors"]}
    info = get_ok(client, "/types/Tower", with_ctx)
    assert info["id"] == NS + "Tower"
    assert info["attributeDetails"][0]["id"] == NS + "floors"
    assert info["attributeDetails"][0]["attributeName"] == "floors"
    assert get_ok(client, "/attributes/floors", with_ctx)["typeNames"] == ["Tower"]
    assert_problem(client.get("/types/Tower", headers=h(tenant)), 404, "ResourceNotFound")
    assert get_ok(client, "/types/" + quote(NS + "Tower", safe=""), h(tenant))["entityCount"] == 1


# --------------------------------------------------------------------------------------------- tenants and errors


def test_tenants_are_isolated(client: httpx.Client, tenant: str) -> None:
    """Discovery only reports the types of the request's tenant."""
    t = uniq("Lonely")
    create(client, {"id": f"urn:ngsi-ld:{t}:1", "type": t, "v": prop(1)}, headers=h(tenant))
    assert get_ok(client, "/types", h(tenant))["typeList"] == [t]
    assert t not in get_ok(client, "/types", {})["typeList"]
    assert_problem(client.get(f"/types/{t}"), 404, "ResourceNotFound")


@pytest.mark.parametrize("path", ["/types", "/types/Building", "/attributes", "/attributes/name"])
def test_unknown_tenant(client: httpx.Client, tenant: str, path: str) -> None:
    """Discovery in a tenant that does not exist gives 404 NonexistentTenant."""
    assert_problem(client.get(path, headers=h(tenant)), 404, "NonexistentTenant")


def test_unknown_parameter_on_types(client: httpx.Client) -> None:
    """An unknown URL parameter on GET /types gives 400 InvalidRequest (TS 059)."""
    assert_problem(client.get("/types", params={"invalidParams": "invalidValue"}), 400, "InvalidRequest")
