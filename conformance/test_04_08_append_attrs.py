"""Digest §4.8: Append Attributes — POST /entities/{entityId}/attrs."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.helpers import (
    DEFAULT_NS,
    EX,
    NULL,
    assert_problem,
    create,
    get_json,
    instances,
    link_header,
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

DS1 = "urn:ngsi-ld:Dataset:one"


@pytest.fixture
def stored(client: httpx.Client) -> dict[str, Any]:
    ent = make_entity(scope="/Old", speed=prop(10, unitCode="KMH", source=prop("gps")), name=prop("n"))
    create(client, ent)
    return ent


def append(client: httpx.Client, entity_id: str, body: Any, **kw: Any) -> httpx.Response:
    return send(client, "POST", f"/entities/{entity_id}/attrs", body, **kw)


def test_append_new_attribute(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Appending a new attribute gives 204 and keeps the others."""
    resp = append(client, stored["id"], {"brand": prop("b"), "owner": rel("urn:ngsi-ld:P:1")})
    assert resp.status_code == 204, resp.text
    got = get_json(client, stored["id"])
    assert got["brand"] == prop("b")
    assert got["owner"] == rel("urn:ngsi-ld:P:1")
    assert got["speed"] == stored["speed"]


def test_append_overwrites_whole_instance(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Appending an existing attribute replaces the whole instance (unsent unitCode/sub-attributes go)."""
    assert append(client, stored["id"], {"speed": prop(99)}).status_code == 204
    assert get_json(client, stored["id"])["speed"] == prop(99)


def test_append_overwrite_keeps_created_at(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Overwriting an attribute by append keeps its createdAt."""
    before = get_json(client, stored["id"], options="sysAttrs")
    assert append(client, stored["id"], {"speed": prop(99)}).status_code == 204
    after = get_json(client, stored["id"], options="sysAttrs")
    assert after["speed"]["createdAt"] == before["speed"]["createdAt"]
    assert after["createdAt"] == before["createdAt"]


def test_append_no_overwrite_gives_update_result(client: httpx.Client, stored: dict[str, Any]) -> None:
    """noOverwrite with one new and one existing attribute gives 207 UpdateResult with FQNs (TS 010_04_01)."""
    body = {"attribute_to_be_added": prop(1), "speed": prop(99)}
    resp = append(client, stored["id"], body, params={"options": "noOverwrite"})
    assert resp.status_code == 207, resp.text
    assert media_type(resp) == "application/json"
    assert "link" not in resp.headers
    result = resp.json()
    assert result["updated"] == [DEFAULT_NS + "attribute_to_be_added"]
    assert len(result["notUpdated"]) == 1
    assert result["notUpdated"][0]["attributeName"] == DEFAULT_NS + "speed"
    assert isinstance(result["notUpdated"][0]["reason"], str)
    got = get_json(client, stored["id"])
    assert got["speed"] == stored["speed"]
    assert got["attribute_to_be_added"] == prop(1)


def test_append_no_overwrite_fqns_use_request_context(
    client: httpx.Client, stored: dict[str, Any], user_context_url: str
) -> None:
    """UpdateResult attribute names are FQNs expanded with the request's context."""
    body = {"brand": prop("b"), "speed": prop(1)}
    hdrs = link_header(user_context_url)
    assert append(client, stored["id"], body, headers=hdrs).status_code == 204
    resp = append(
        client,
        stored["id"],
        {"brand": prop("c"), "almostFull": prop(True)},
        headers=hdrs,
        params={"options": "noOverwrite"},
    )
    assert resp.status_code == 207, resp.text
    result = resp.json()
    assert result["updated"] == [EX + "almostFull"]
    assert [n["attributeName"] for n in result["notUpdated"]] == [EX + "brand"]


def test_append_no_overwrite_all_new_is_204(client: httpx.Client, stored: dict[str, Any]) -> None:
    """noOverwrite when every attribute is new gives 204."""
    assert append(client, stored["id"], {"fresh": prop(1)}, params={"options": "noOverwrite"}).status_code == 204


def test_append_new_dataset_instance(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Appending an instance with a new datasetId adds it next to the default instance."""
    assert append(client, stored["id"], {"speed": prop(5, datasetId=DS1)}).status_code == 204
    got = {i.get("datasetId"): i["value"] for i in instances(get_json(client, stored["id"])["speed"])}
    assert got == {None: 10, DS1: 5}


def test_append_adds_types(client: httpx.Client, stored: dict[str, Any]) -> None:
    """type in the fragment adds types."""
    assert append(client, stored["id"], {"type": "Device", "x": prop(1)}).status_code == 204
    assert types_of(get_json(client, stored["id"])) == {"Thing", "Device"}


def test_append_replaces_scope(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Append replaces the scope."""
    assert append(client, stored["id"], {"scope": "/New"}).status_code == 204
    assert scopes_of(get_json(client, stored["id"])) == {"/New"}


def test_append_no_overwrite_adds_scopes(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Append with noOverwrite adds the new scopes to the existing ones (TS 010_07)."""
    resp = append(client, stored["id"], {"scope": ["/New"]}, params={"options": "noOverwrite"})
    assert resp.status_code in (204, 207), resp.text
    assert scopes_of(get_json(client, stored["id"])) == {"/Old", "/New"}


def test_append_concise(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Append accepts concise input."""
    assert append(client, stored["id"], {"brand": "concise", "owner": {"object": "urn:x:1"}}).status_code == 204
    got = get_json(client, stored["id"])
    assert got["brand"] == prop("concise")
    assert got["owner"] == rel("urn:x:1")


def test_append_unknown_entity_is_not_found(client: httpx.Client) -> None:
    """Append to an unknown entity gives 404 ResourceNotFound and creates nothing (TS 010_03)."""
    eid = new_id()
    assert_problem(append(client, eid, {"x": prop(1)}), 404, "ResourceNotFound")
    assert snapshot(client, eid) is None


def test_append_type_mismatch_is_not_found(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Append with a type parameter the entity does not match gives 404 and changes nothing."""
    before = snapshot(client, stored["id"])
    assert_problem(append(client, stored["id"], {"x": prop(1)}, params={"type": "Other"}), 404, "ResourceNotFound")
    assert snapshot(client, stored["id"]) == before


def test_append_invalid_id_is_bad_request(client: httpx.Client) -> None:
    """Append with an id that is not a URI gives 400 BadRequestData (TS 010_02)."""
    assert_problem(append(client, "thisisaninvaliduri", {"x": prop(1)}), 400, "BadRequestData")


def test_append_malformed_json_changes_nothing(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Append with a body that is not JSON gives 400 InvalidRequest and nothing changes (TS 010_05)."""
    before = snapshot(client, stored["id"])
    assert_problem(append(client, stored["id"], None, raw="{bad json"), 400, "InvalidRequest")
    assert snapshot(client, stored["id"]) == before


@pytest.mark.parametrize(
    "body",
    [
        {"x": prop(NULL)},
        {"x": rel(NULL)},
        {"x": prop({"k": NULL})},
        {"x": {"type": "Relationship"}},
        {"bad name": prop(1)},
        {"x": prop(1, datasetId="not a uri")},
    ],
    ids=[
        "null value",
        "null object",
        "null inside JSON value",
        "relationship without object",
        "bad name",
        "bad datasetId",
    ],
)
def test_append_invalid_content_changes_nothing(client: httpx.Client, stored: dict[str, Any], body: Any) -> None:
    """Append with invalid content (incl. an NGSI-LD Null) gives 400 BadRequestData and changes nothing."""
    before = snapshot(client, stored["id"])
    assert_problem(append(client, stored["id"], body), 400, "BadRequestData")
    assert snapshot(client, stored["id"]) == before


def test_append_unknown_option_is_invalid_request(client: httpx.Client, stored: dict[str, Any]) -> None:
    """An unknown options value on append gives 400 InvalidRequest and nothing changes."""
    before = snapshot(client, stored["id"])
    resp = append(client, stored["id"], {"x": prop(1)}, params={"options": "bogus"})
    assert_problem(resp, 400, "InvalidRequest")
    assert snapshot(client, stored["id"]) == before
