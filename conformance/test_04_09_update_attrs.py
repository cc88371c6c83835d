"""Digest §4.9: Update Attributes — PATCH /entities/{entityId}/attrs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.helpers import (
    DEFAULT_NS,
    NULL,
    assert_problem,
    create,
    get_json,
    instances,
    make_entity,
    media_type,
    new_id,
    prop,
    rel,
    scopes_of,
    send,
    snapshot,
    types_of,
)

DS1 = "urn:ngsi-ld:Dataset:01"


@pytest.fixture
def stored(client: httpx.Client) -> dict[str, Any]:
    ent = make_entity(
        temperature=prop(20, unitCode="CEL", accuracy=prop(0.5)),
        name=[prop("default"), prop("one", datasetId=DS1)],
        locatedAt=rel("urn:ngsi-ld:Place:1"),
        street={"type": "LanguageProperty", "languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}},
        keep=prop("same"),
    )
    create(client, ent)
    return ent


def update(client: httpx.Client, entity_id: str, body: Any, **kw: Any) -> httpx.Response:
    return send(client, "PATCH", f"/entities/{entity_id}/attrs", body, **kw)


def test_update_replaces_whole_instance(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Update replaces the whole instance: sub-attributes and unitCode not in the fragment are dropped."""
    assert update(client, stored["id"], {"temperature": prop(25)}).status_code == 204
    got = get_json(client, stored["id"])
    assert got["temperature"] == prop(25)
    assert got["keep"] == prop("same")


def test_update_keeps_created_at(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Update keeps the attribute's createdAt and advances modifiedAt."""
    before = get_json(client, stored["id"], options="sysAttrs")
    assert update(client, stored["id"], {"temperature": prop(25)}).status_code == 204
    after = get_json(client, stored["id"], options="sysAttrs")
    assert after["temperature"]["createdAt"] == before["temperature"]["createdAt"]
    assert after["temperature"]["modifiedAt"] >= before["temperature"]["modifiedAt"]
    assert after["createdAt"] == before["createdAt"]
    assert after["modifiedAt"] >= before["modifiedAt"]
    assert after["keep"] == before["keep"]


def test_update_appends_missing_attribute(client: httpx.Client, stored: dict[str, Any]) -> None:
    """An attribute the entity lacks is appended (§5.6.2.4, TS 011_01_03)."""
    assert update(client, stored["id"], {"fresh": prop(1)}).status_code == 204
    assert get_json(client, stored["id"])["fresh"] == prop(1)


def test_update_may_change_attribute_type(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Update may change an attribute's type (TS 011_01_04)."""
    assert update(client, stored["id"], {"keep": rel("urn:ngsi-ld:X:1")}).status_code == 204
    assert get_json(client, stored["id"])["keep"] == rel("urn:ngsi-ld:X:1")


@pytest.mark.parametrize(
    ("body", "gone"),
    [
        ({"keep": prop(NULL)}, "keep"),
        ({"locatedAt": rel(NULL)}, "locatedAt"),
        ({"street": {"type": "LanguageProperty", "languageMap": {"@none": NULL}}}, "street"),
        ({"keep": NULL}, "keep"),
    ],
    ids=["property value", "relationship object", "languageMap", "concise whole attribute"],
)
def test_update_null_deletes(client: httpx.Client, stored: dict[str, Any], body: Any, gone: str) -> None:
    """An NGSI-LD Null in an update fragment deletes the attribute (TS 011_07-011_09)."""
    assert update(client, stored["id"], body).status_code == 204
    got = get_json(client, stored["id"])
    assert gone not in got
    assert got["temperature"] == stored["temperature"]


def test_update_null_with_dataset_id_deletes_only_that_instance(client: httpx.Client, stored: dict[str, Any]) -> None:
    """A null with a datasetId deletes only that instance."""
    assert update(client, stored["id"], {"name": prop(NULL, datasetId=DS1)}).status_code == 204
    got = instances(get_json(client, stored["id"])["name"])
    assert [(i.get("datasetId"), i["value"]) for i in got] == [(None, "default")]


def test_update_null_default_keeps_dataset_instances(client: httpx.Client, stored: dict[str, Any]) -> None:
    """A null without datasetId deletes only the default instance."""
    assert update(client, stored["id"], {"name": prop(NULL)}).status_code == 204
    got = instances(get_json(client, stored["id"])["name"])
    assert [(i.get("datasetId"), i["value"]) for i in got] == [(DS1, "one")]


def test_update_dataset_instance(client: httpx.Client, stored: dict[str, Any]) -> None:
    """A fragment with datasetId updates only that instance."""
    assert update(client, stored["id"], {"name": prop("ONE", datasetId=DS1)}).status_code == 204
    got = {i.get("datasetId"): i["value"] for i in instances(get_json(client, stored["id"])["name"])}
    assert got == {None: "default", DS1: "ONE"}


def test_update_adds_types(client: httpx.Client, stored: dict[str, Any]) -> None:
    """type in the fragment adds types (TS 011_06)."""
    assert update(client, stored["id"], {"type": "Device", "keep": prop("same")}).status_code == 204
    assert types_of(get_json(client, stored["id"])) == {"Thing", "Device"}


def test_update_scope_when_entity_has_scope(client: httpx.Client) -> None:
    """scope is replaced when the entity already has one."""
    ent = make_entity(scope="/Old", x=prop(1))
    create(client, ent)
    assert update(client, ent["id"], {"scope": "/New"}).status_code == 204
    assert scopes_of(get_json(client, ent["id"])) == {"/New"}


def test_update_scope_when_entity_has_none_is_207(client: httpx.Client, stored: dict[str, Any]) -> None:
    """scope is ignored when the entity has none, and reported in notUpdated: 207 (TS 011_05_02)."""
    resp = update(client, stored["id"], {"scope": "/New"})
    assert resp.status_code == 207, resp.text
    assert media_type(resp) == "application/json"
    result = resp.json()
    assert result["updated"] == []
    assert len(result["notUpdated"]) == 1
    assert result["notUpdated"][0]["attributeName"] in ("scope", "https://uri.etsi.org/ngsi-ld/scope")
    assert "scope" not in get_json(client, stored["id"])


def test_update_concise(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Update accepts concise input."""
    assert update(client, stored["id"], {"keep": "changed", "locatedAt": {"object": "urn:x:2"}}).status_code == 204
    got = get_json(client, stored["id"])
    assert got["keep"] == prop("changed")
    assert got["locatedAt"] == rel("urn:x:2")


def test_update_unknown_entity_is_not_found(client: httpx.Client) -> None:
    """Update of an unknown entity gives 404 ResourceNotFound and creates nothing (TS 011_03)."""
    eid = new_id()
    assert_problem(update(client, eid, {"x": prop(1)}), 404, "ResourceNotFound")
    assert snapshot(client, eid) is None


def test_update_invalid_id_is_bad_request(client: httpx.Client) -> None:
    """Update with an id that is not a URI gives 400 BadRequestData."""
    assert_problem(update(client, "thisisaninvaliduri", {"x": prop(1)}), 400, "BadRequestData")


def test_update_type_mismatch_is_not_found(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Update with a type parameter the entity does not match gives 404 and changes nothing."""
    before = snapshot(client, stored["id"])
    assert_problem(update(client, stored["id"], {"keep": prop(2)}, params={"type": "Other"}), 404, "ResourceNotFound")
    assert snapshot(client, stored["id"]) == before


def test_update_malformed_json_changes_nothing(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Update with a body that is not JSON gives 400 InvalidRequest and nothing changes."""
    before = snapshot(client, stored["id"])
    assert_problem(update(client, stored["id"], None, raw="[{"), 400, "InvalidRequest")
    assert snapshot(client, stored["id"]) == before


@pytest.mark.parametrize(
    "body",
    [
        {"keep": {"type": "Relationship", "object": "no uri"}},
        {"bad name": prop(1)},
        {"keep": {"type": "Nope", "value": 1}},
        {"street": {"type": "LanguageProperty", "languageMap": {"fr": 3}}},
    ],
    ids=["relationship non-URI", "bad name", "unknown type", "languageMap non-string"],
)
def test_update_invalid_content_changes_nothing(client: httpx.Client, stored: dict[str, Any], body: Any) -> None:
    """Update with invalid content gives 400 BadRequestData and nothing changes."""
    before = snapshot(client, stored["id"])
    assert_problem(update(client, stored["id"], body), 400, "BadRequestData")
    assert snapshot(client, stored["id"]) == before


def test_update_result_names_are_fqns(client: httpx.Client) -> None:
    """A 207 UpdateResult uses FQNs for attribute names."""
    ent = make_entity(x=prop(1))
    create(client, ent)
    resp = update(client, ent["id"], {"scope": "/S", "x": prop(2)})
    assert resp.status_code == 207, resp.text
    assert resp.json()["updated"] == [DEFAULT_NS + "x"]
