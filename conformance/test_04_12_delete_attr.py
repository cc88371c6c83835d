"""Digest §4.12: Delete Attribute — DELETE /entities/{entityId}/attrs/{attrId}."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.helpers import (
    assert_problem,
    create,
    get_json,
    instances,
    make_entity,
    new_id,
    prop,
    snapshot,
)

DS1 = "urn:ngsi-ld:Dataset:01"
DS2 = "urn:ngsi-ld:Dataset:02"


@pytest.fixture
def stored(client: httpx.Client) -> dict[str, Any]:
    ent = make_entity(
        scope=["/A", "/B"],
        name=[prop("default"), prop("one", datasetId=DS1), prop("two", datasetId=DS2)],
        onlyDataset=prop("ds", datasetId=DS1),
        keep=prop("same"),
    )
    create(client, ent)
    return ent


def delete_attr(client: httpx.Client, entity_id: str, attr: str, **params: str) -> httpx.Response:
    return client.delete(f"/entities/{entity_id}/attrs/{attr}", params=params or None)


def values(client: httpx.Client, entity_id: str, attr: str) -> dict[Any, Any]:
    got = get_json(client, entity_id)
    if attr not in got:
        return {}
    return {i.get("datasetId"): i["value"] for i in instances(got[attr])}


def test_delete_single_attribute(client: httpx.Client, stored: dict[str, Any]) -> None:
    """DELETE of an attribute gives 204 and removes it; others stay."""
    resp = delete_attr(client, stored["id"], "keep")
    assert resp.status_code == 204
    got = get_json(client, stored["id"])
    assert "keep" not in got
    assert "name" in got


def test_delete_default_instance_only(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Without datasetId or deleteAll only the default instance is deleted."""
    assert delete_attr(client, stored["id"], "name").status_code == 204
    assert values(client, stored["id"], "name") == {DS1: "one", DS2: "two"}


def test_delete_dataset_instance(client: httpx.Client, stored: dict[str, Any]) -> None:
    """datasetId=<uri> deletes only that instance."""
    assert delete_attr(client, stored["id"], "name", datasetId=DS1).status_code == 204
    assert values(client, stored["id"], "name") == {None: "default", DS2: "two"}


def test_delete_all_instances(client: httpx.Client, stored: dict[str, Any]) -> None:
    """deleteAll=true deletes every instance."""
    assert delete_attr(client, stored["id"], "name", deleteAll="true").status_code == 204
    assert values(client, stored["id"], "name") == {}


def test_delete_scope(client: httpx.Client, stored: dict[str, Any]) -> None:
    """attrId=scope removes the scope (TS 013_04)."""
    assert delete_attr(client, stored["id"], "scope").status_code == 204
    assert "scope" not in get_json(client, stored["id"])


def test_delete_attr_keeps_entity_created_at(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Deleting an attribute keeps the entity's createdAt."""
    before = get_json(client, stored["id"], options="sysAttrs")
    assert delete_attr(client, stored["id"], "keep").status_code == 204
    assert get_json(client, stored["id"], options="sysAttrs")["createdAt"] == before["createdAt"]


def test_unknown_entity_is_not_found(client: httpx.Client) -> None:
    """DELETE on an attribute of an unknown entity gives 404 ResourceNotFound (TS 013_03_01)."""
    assert_problem(delete_attr(client, new_id(), "name"), 404, "ResourceNotFound")


@pytest.mark.parametrize(
    ("attr", "params"),
    [
        ("nonexistent", {}),
        ("name", {"datasetId": "urn:ngsi-ld:Dataset:unknown"}),
        ("onlyDataset", {}),
    ],
    ids=["unknown attribute", "unknown datasetId", "no default instance"],
)
def test_missing_target_is_not_found(
    client: httpx.Client, stored: dict[str, Any], attr: str, params: dict[str, str]
) -> None:
    """Unknown attribute/datasetId or no default instance gives 404 and nothing changes (TS 013_03)."""
    before = snapshot(client, stored["id"])
    assert_problem(delete_attr(client, stored["id"], attr, **params), 404, "ResourceNotFound")
    assert snapshot(client, stored["id"]) == before


def test_delete_scope_when_absent_is_not_found(client: httpx.Client) -> None:
    """DELETE attrs/scope on an entity without scope gives 404 ResourceNotFound."""
    ent = make_entity(x=prop(1))
    create(client, ent)
    assert_problem(delete_attr(client, ent["id"], "scope"), 404, "ResourceNotFound")


def test_invalid_entity_id_is_bad_request(client: httpx.Client) -> None:
    """DELETE with an id that is not a URI gives 400 BadRequestData."""
    assert_problem(delete_attr(client, "thisisaninvaliduri", "name"), 400, "BadRequestData")


def test_invalid_dataset_id_is_bad_request(client: httpx.Client, stored: dict[str, Any]) -> None:
    """A datasetId parameter that is not a URI gives 400 BadRequestData and nothing changes."""
    before = snapshot(client, stored["id"])
    assert_problem(delete_attr(client, stored["id"], "name", datasetId="not a uri"), 400, "BadRequestData")
    assert snapshot(client, stored["id"]) == before


def test_missing_attr_id_is_method_not_allowed(client: httpx.Client, stored: dict[str, Any]) -> None:
    """DELETE /entities/{id}/attrs/ (no attrId) reaches the /attrs route: 405 with Allow (TS 013_02_03)."""
    resp = client.delete(f"/entities/{stored['id']}/attrs/", follow_redirects=True)
    assert resp.status_code == 405
    allow = {m.strip().upper() for m in resp.headers.get("allow", "").split(",")}
    assert {"POST", "PATCH"} <= allow
    assert snapshot(client, stored["id"])["keep"]["value"] == "same"
