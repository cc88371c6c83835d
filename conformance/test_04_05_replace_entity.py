"""Digest §4.5: Replace Entity — PUT /entities/{entityId}."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.helpers import (
    NULL,
    assert_problem,
    create,
    get_json,
    make_entity,
    new_id,
    prop,
    rel,
    send,
    snapshot,
    types_of,
)


@pytest.fixture
def stored(client: httpx.Client) -> dict[str, Any]:
    ent = make_entity(scope="/Old", name=prop("old"), temperature=prop(1, unitCode="CEL"))
    ent["type"] = ["Thing", "Legacy"]
    create(client, ent)
    return ent


def put(client: httpx.Client, entity_id: str, body: Any, **kw: Any) -> httpx.Response:
    return send(client, "PUT", f"/entities/{entity_id}", body, **kw)


def test_replace_replaces_all_attributes(client: httpx.Client, stored: dict[str, Any]) -> None:
    """PUT gives 204 and the entity then holds exactly the new attributes."""
    resp = put(client, stored["id"], {"type": "Thing", "brand": prop("new"), "owner": rel("urn:ngsi-ld:P:1")})
    assert resp.status_code == 204, resp.text
    got = get_json(client, stored["id"])
    assert got == {"id": stored["id"], "type": "Thing", "brand": prop("new"), "owner": rel("urn:ngsi-ld:P:1")}


def test_replace_keeps_created_at(client: httpx.Client, stored: dict[str, Any]) -> None:
    """PUT keeps the entity's createdAt and advances modifiedAt (TS 054_01)."""
    before = get_json(client, stored["id"], options="sysAttrs")
    assert put(client, stored["id"], {"id": stored["id"], "type": "Thing", "name": prop("n")}).status_code == 204
    after = get_json(client, stored["id"], options="sysAttrs")
    assert after["createdAt"] == before["createdAt"]
    assert after["modifiedAt"] >= before["modifiedAt"]


def test_replace_replaces_scope(client: httpx.Client, stored: dict[str, Any]) -> None:
    """PUT replaces the scope (TS 054_03)."""
    assert put(client, stored["id"], {"type": "Thing", "scope": ["/New/A"], "name": prop("n")}).status_code == 204
    assert get_json(client, stored["id"])["scope"] in ("/New/A", ["/New/A"])


def test_replace_without_scope_removes_it(client: httpx.Client, stored: dict[str, Any]) -> None:
    """PUT without scope leaves the entity with no scope."""
    assert put(client, stored["id"], {"type": "Thing", "name": prop("n")}).status_code == 204
    assert "scope" not in get_json(client, stored["id"])


def test_replace_replaces_types(client: httpx.Client, stored: dict[str, Any]) -> None:
    """PUT replaces the set of types."""
    assert put(client, stored["id"], {"type": ["Device", "Asset"], "name": prop("n")}).status_code == 204
    assert types_of(get_json(client, stored["id"])) == {"Device", "Asset"}


def test_replace_accepts_concise(client: httpx.Client, stored: dict[str, Any]) -> None:
    """PUT accepts concise input."""
    assert (
        put(client, stored["id"], {"type": "Thing", "name": "concise", "owner": {"object": "urn:x:1"}}).status_code
        == 204
    )
    got = get_json(client, stored["id"])
    assert got["name"] == prop("concise")
    assert got["owner"] == rel("urn:x:1")


def test_replace_unknown_entity_is_not_found(client: httpx.Client) -> None:
    """PUT on an unknown id gives 404 ResourceNotFound and creates nothing (TS 054_02)."""
    eid = new_id()
    assert_problem(put(client, eid, {"type": "Thing", "name": prop("x")}), 404, "ResourceNotFound")
    assert snapshot(client, eid) is None


def test_replace_invalid_id_is_bad_request(client: httpx.Client) -> None:
    """PUT on an id that is not a URI gives 400 BadRequestData (TS 054_02)."""
    assert_problem(put(client, "thisisaninvaliduri", {"type": "Thing"}), 400, "BadRequestData")


@pytest.mark.parametrize(
    "body",
    [
        {"type": "Thing", "name": {"type": "Relationship"}},
        {"type": "Thing", "name": prop(NULL)},
        {"type": "Thing", "name": prop({"k": NULL})},
        {"type": "Thing", "bad name": prop(1)},
        {"type": "Bad Type"},
        {
            "type": "Thing",
            "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [500, 0]}},
        },
    ],
    ids=[
        "relationship without object",
        "null value",
        "null inside JSON value",
        "bad attr name",
        "bad type name",
        "bad geometry",
    ],
)
def test_replace_with_invalid_body_changes_nothing(
    client: httpx.Client, stored: dict[str, Any], body: dict[str, Any]
) -> None:
    """PUT with invalid content (incl. an NGSI-LD Null) gives 400 BadRequestData; the entity is unchanged."""
    before = snapshot(client, stored["id"])
    assert_problem(put(client, stored["id"], body), 400, "BadRequestData")
    assert snapshot(client, stored["id"]) == before


def test_replace_with_malformed_json_changes_nothing(client: httpx.Client, stored: dict[str, Any]) -> None:
    """PUT with a body that is not JSON gives 400 InvalidRequest and the entity is unchanged."""
    before = snapshot(client, stored["id"])
    assert_problem(put(client, stored["id"], None, raw="{nope"), 400, "InvalidRequest")
    assert snapshot(client, stored["id"]) == before


def test_replace_with_wrong_content_type_is_415(client: httpx.Client, stored: dict[str, Any]) -> None:
    """PUT with Content-Type text/plain gives 415 and the entity is unchanged."""
    before = snapshot(client, stored["id"])
    resp = put(client, stored["id"], {"type": "Thing"}, ctype="text/plain")
    assert resp.status_code == 415
    assert snapshot(client, stored["id"]) == before
