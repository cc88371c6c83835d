"""Digest §4.10: Partial Attribute Update — PATCH /entities/{entityId}/attrs/{attrId}."""

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
    link_header,
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
        temperature=prop(20, unitCode="CEL", observedAt="2025-01-01T00:00:00Z", accuracy=prop(0.5)),
        name=[prop("default"), prop("one", datasetId=DS1)],
        onlyDataset=prop("ds", datasetId=DS1),
        owner=rel("urn:ngsi-ld:Person:1"),
    )
    create(client, ent)
    return ent


def patch_attr(client: httpx.Client, entity_id: str, attr: str, body: Any, **kw: Any) -> httpx.Response:
    return send(client, "PATCH", f"/entities/{entity_id}/attrs/{attr}", body, **kw)


def test_partial_update_value_keeps_other_members(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Members in the fragment overwrite; everything else (unitCode, observedAt, sub-attributes) stays."""
    assert patch_attr(client, stored["id"], "temperature", {"value": 21}).status_code == 204
    got = get_json(client, stored["id"])["temperature"]
    assert got == prop(21, unitCode="CEL", observedAt="2025-01-01T00:00:00Z", accuracy=prop(0.5))


def test_partial_update_with_type_and_observed_at(client: httpx.Client, stored: dict[str, Any]) -> None:
    """A fragment with the same type plus value and observedAt updates those members."""
    frag = {"type": "Property", "value": 22, "observedAt": "2025-02-02T00:00:00Z"}
    assert patch_attr(client, stored["id"], "temperature", frag).status_code == 204
    got = get_json(client, stored["id"])["temperature"]
    assert got["value"] == 22
    assert got["observedAt"] == "2025-02-02T00:00:00Z"
    assert got["unitCode"] == "CEL"


def test_partial_update_sub_attribute(client: httpx.Client, stored: dict[str, Any]) -> None:
    """A sub-attribute in the fragment is replaced or added."""
    frag = {"accuracy": prop(0.1), "calibrated": prop(True)}
    assert patch_attr(client, stored["id"], "temperature", frag).status_code == 204
    got = get_json(client, stored["id"])["temperature"]
    assert got["accuracy"] == prop(0.1)
    assert got["calibrated"] == prop(True)
    assert got["value"] == 20


def test_partial_update_null_sub_attribute_deletes_it(client: httpx.Client, stored: dict[str, Any]) -> None:
    """A sub-attribute set to the NGSI-LD Null is deleted; the attribute remains."""
    assert patch_attr(client, stored["id"], "temperature", {"accuracy": prop(NULL)}).status_code == 204
    got = get_json(client, stored["id"])["temperature"]
    assert "accuracy" not in got
    assert got["value"] == 20


def test_partial_update_null_value_deletes_attribute(client: httpx.Client, stored: dict[str, Any]) -> None:
    """A null value deletes the whole attribute, as the TS expects (012_05; Appendix A #6)."""
    assert patch_attr(client, stored["id"], "temperature", {"value": NULL}).status_code == 204
    assert "temperature" not in get_json(client, stored["id"])


def test_partial_update_null_object_deletes_relationship(client: httpx.Client, stored: dict[str, Any]) -> None:
    """A null object deletes the whole Relationship (TS 012_06)."""
    assert patch_attr(client, stored["id"], "owner", {"object": NULL}).status_code == 204
    assert "owner" not in get_json(client, stored["id"])


def test_partial_update_dataset_instance(client: httpx.Client, stored: dict[str, Any]) -> None:
    """The fragment's datasetId targets that instance only."""
    assert patch_attr(client, stored["id"], "name", {"value": "ONE", "datasetId": DS1}).status_code == 204
    got = {i.get("datasetId"): i["value"] for i in instances(get_json(client, stored["id"])["name"])}
    assert got == {None: "default", DS1: "ONE"}


def test_partial_update_relationship_object(client: httpx.Client, stored: dict[str, Any]) -> None:
    """A Relationship's object can be partially updated."""
    assert patch_attr(client, stored["id"], "owner", {"object": "urn:ngsi-ld:Person:2"}).status_code == 204
    assert get_json(client, stored["id"])["owner"] == rel("urn:ngsi-ld:Person:2")


def test_partial_update_merge_patch_content_type(client: httpx.Client, stored: dict[str, Any]) -> None:
    """application/merge-patch+json is accepted on partial attribute update (TS 044_01)."""
    resp = patch_attr(client, stored["id"], "temperature", {"value": 30}, ctype="application/merge-patch+json")
    assert resp.status_code == 204, resp.text
    assert get_json(client, stored["id"])["temperature"]["value"] == 30


def test_partial_update_attr_id_expanded_with_context(
    client: httpx.Client, stored: dict[str, Any], user_context_url: str
) -> None:
    """{attrId} is expanded with the request context: 'speed' under a user context is another attribute."""
    hdrs = link_header(user_context_url)
    assert send(client, "POST", f"/entities/{stored['id']}/attrs", {"speed": prop(1)}, headers=hdrs).status_code == 204
    assert patch_attr(client, stored["id"], "speed", {"value": 2}, headers=hdrs).status_code == 204
    assert get_json(client, stored["id"], headers=hdrs)["speed"]["value"] == 2
    assert_problem(patch_attr(client, stored["id"], "speed", {"value": 3}), 404, "ResourceNotFound")


# --- errors -------------------------------------------------------------------------------------


def test_unknown_entity_is_not_found(client: httpx.Client) -> None:
    """Partial update on an unknown entity gives 404 ResourceNotFound (TS 012_03_01)."""
    assert_problem(patch_attr(client, new_id(), "temperature", {"value": 1}), 404, "ResourceNotFound")


@pytest.mark.parametrize(
    ("attr", "frag"),
    [
        ("nonexistent", {"value": 1}),
        ("name", {"value": 1, "datasetId": "urn:ngsi-ld:Dataset:unknown"}),
        ("onlyDataset", {"value": 1}),
    ],
    ids=["unknown attribute", "unknown datasetId", "no default instance"],
)
def test_missing_target_instance_is_not_found(
    client: httpx.Client, stored: dict[str, Any], attr: str, frag: dict[str, Any]
) -> None:
    """No targeted instance (unknown attribute/datasetId, no default instance) gives 404 (TS 012_03)."""
    before = snapshot(client, stored["id"])
    assert_problem(patch_attr(client, stored["id"], attr, frag), 404, "ResourceNotFound")
    assert snapshot(client, stored["id"]) == before


def test_invalid_entity_id_is_bad_request(client: httpx.Client) -> None:
    """Partial update with an id that is not a URI gives 400 BadRequestData (TS 012_02_01)."""
    assert_problem(patch_attr(client, "thisisaninvaliduri", "temperature", {"value": 1}), 400, "BadRequestData")


@pytest.mark.parametrize(
    ("attr", "frag"),
    [
        ("temperature", {"type": "Relationship", "object": "urn:ngsi-ld:X:1"}),
        ("owner", {"type": "Property", "value": 5}),
        ("temperature", {}),
        ("scope", {"value": "/New"}),
        ("owner", {"object": "not a uri"}),
        ("temperature", {"value": 1, "observedAt": "not a date"}),
    ],
    ids=[
        "Property to Relationship",
        "Relationship to Property",
        "empty fragment",
        "scope",
        "bad object",
        "bad date",
    ],
)
def test_bad_fragment_changes_nothing(client: httpx.Client, stored: dict[str, Any], attr: str, frag: Any) -> None:
    """A type change, an empty fragment, attrId=scope or invalid data gives 400 BadRequestData (TS 012_02)."""
    before = snapshot(client, stored["id"])
    assert_problem(patch_attr(client, stored["id"], attr, frag), 400, "BadRequestData")
    assert snapshot(client, stored["id"]) == before


def test_malformed_json_changes_nothing(client: httpx.Client, stored: dict[str, Any]) -> None:
    """A body that is not JSON gives 400 InvalidRequest and nothing changes."""
    before = snapshot(client, stored["id"])
    assert_problem(patch_attr(client, stored["id"], "temperature", None, raw='{"value": }'), 400, "InvalidRequest")
    assert snapshot(client, stored["id"]) == before


def test_wrong_content_type_is_415(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Content-Type text/plain gives 415 and nothing changes (TS 048_01)."""
    before = snapshot(client, stored["id"])
    assert patch_attr(client, stored["id"], "temperature", {"value": 1}, ctype="text/plain").status_code == 415
    assert snapshot(client, stored["id"]) == before
