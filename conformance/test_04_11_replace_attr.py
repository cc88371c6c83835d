"""Digest §4.11: Replace Attribute — PUT /entities/{entityId}/attrs/{attrId}."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.helpers import (
    NULL,
    assert_problem,
    create,
    get_json,
    instances,
    make_entity,
    new_id,
    prop,
    rel,
    send,
    snapshot,
)

DS1 = "urn:ngsi-ld:Dataset:01"


@pytest.fixture
def stored(client: httpx.Client) -> dict[str, Any]:
    ent = make_entity(
        temperature=prop(20, unitCode="CEL", accuracy=prop(0.5)),
        name=[prop("default"), prop("one", datasetId=DS1)],
        keep=prop("same"),
    )
    create(client, ent)
    return ent


def put_attr(client: httpx.Client, entity_id: str, attr: str, body: Any, **kw: Any) -> httpx.Response:
    return send(client, "PUT", f"/entities/{entity_id}/attrs/{attr}", body, **kw)


def test_replace_attribute_completely(client: httpx.Client, stored: dict[str, Any]) -> None:
    """PUT replaces the instance completely: members not sent (unitCode, sub-attributes) are gone."""
    assert put_attr(client, stored["id"], "temperature", prop(25)).status_code == 204
    got = get_json(client, stored["id"])
    assert got["temperature"] == prop(25)
    assert got["keep"] == prop("same")


def test_replace_attribute_may_change_type(client: httpx.Client, stored: dict[str, Any]) -> None:
    """PUT may change the attribute type (TS 055_01_02)."""
    assert put_attr(client, stored["id"], "temperature", rel("urn:ngsi-ld:Sensor:1")).status_code == 204
    assert get_json(client, stored["id"])["temperature"] == rel("urn:ngsi-ld:Sensor:1")


def test_replace_attribute_keeps_created_at(client: httpx.Client, stored: dict[str, Any]) -> None:
    """PUT keeps the attribute's createdAt."""
    before = get_json(client, stored["id"], options="sysAttrs")
    assert put_attr(client, stored["id"], "temperature", prop(1)).status_code == 204
    after = get_json(client, stored["id"], options="sysAttrs")
    assert after["temperature"]["createdAt"] == before["temperature"]["createdAt"]


def test_replace_dataset_instance(client: httpx.Client, stored: dict[str, Any]) -> None:
    """PUT with a datasetId replaces only that instance."""
    assert put_attr(client, stored["id"], "name", prop("ONE", datasetId=DS1)).status_code == 204
    got = {i.get("datasetId"): i["value"] for i in instances(get_json(client, stored["id"])["name"])}
    assert got == {None: "default", DS1: "ONE"}


def test_replace_attribute_concise(client: httpx.Client, stored: dict[str, Any]) -> None:
    """PUT accepts a concise attribute."""
    assert put_attr(client, stored["id"], "keep", {"value": "new", "unitCode": "C62"}).status_code == 204
    assert get_json(client, stored["id"])["keep"] == prop("new", unitCode="C62")


def test_unknown_entity_is_not_found(client: httpx.Client) -> None:
    """PUT on an attribute of an unknown entity gives 404 ResourceNotFound."""
    assert_problem(put_attr(client, new_id(), "temperature", prop(1)), 404, "ResourceNotFound")


@pytest.mark.parametrize(
    ("attr", "body"),
    [("nonexistent", prop(1)), ("name", prop(1, datasetId="urn:ngsi-ld:Dataset:unknown"))],
    ids=["unknown attribute", "unknown datasetId"],
)
def test_missing_target_is_not_found(client: httpx.Client, stored: dict[str, Any], attr: str, body: Any) -> None:
    """PUT on an unknown attribute or datasetId gives 404 ResourceNotFound and changes nothing."""
    before = snapshot(client, stored["id"])
    assert_problem(put_attr(client, stored["id"], attr, body), 404, "ResourceNotFound")
    assert snapshot(client, stored["id"]) == before


def test_invalid_entity_id_is_bad_request(client: httpx.Client) -> None:
    """PUT with an id that is not a URI gives 400 BadRequestData."""
    assert_problem(put_attr(client, "thisisaninvaliduri", "temperature", prop(1)), 400, "BadRequestData")


@pytest.mark.parametrize(
    ("attr", "body"),
    [
        ("@invalid", prop(1)),
        ("scope", {"type": "Property", "value": "/New"}),
        ("temperature", {"type": "Relationship"}),
        ("temperature", prop(NULL)),
        ("temperature", {"type": "Foo", "value": 1}),
    ],
    ids=["attr @invalid", "scope", "relationship without object", "null value", "unknown type"],
)
def test_invalid_replace_changes_nothing(client: httpx.Client, stored: dict[str, Any], attr: str, body: Any) -> None:
    """Invalid attribute name (@invalid), scope, or invalid attribute gives 400 BadRequestData (TS 055_03)."""
    before = snapshot(client, stored["id"])
    assert_problem(put_attr(client, stored["id"], attr, body), 400, "BadRequestData")
    assert snapshot(client, stored["id"]) == before


def test_malformed_json_changes_nothing(client: httpx.Client, stored: dict[str, Any]) -> None:
    """A body that is not JSON gives 400 InvalidRequest and nothing changes."""
    before = snapshot(client, stored["id"])
    assert_problem(put_attr(client, stored["id"], "temperature", None, raw="nope"), 400, "InvalidRequest")
    assert snapshot(client, stored["id"]) == before
