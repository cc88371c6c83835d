"""Digest §4.1: Create Entity — POST /entities."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from conformance.helpers import (
    DATETIME_RE,
    assert_problem,
    create,
    geo,
    get_json,
    make_entity,
    new_id,
    point,
    prop,
    rel,
    retrieve,
    send,
    snapshot,
)


def test_create_returns_201_with_location(client: httpx.Client) -> None:
    """Create gives 201, no body, and a Location header containing the entity id."""
    ent = make_entity(name=prop("x"))
    resp = create(client, ent)
    assert ent["id"] in resp.headers.get("location", "")
    assert resp.content == b""


def test_create_then_retrieve_normalized(client: httpx.Client) -> None:
    """The created entity is retrievable exactly as sent (normalized)."""
    ent = make_entity(
        name=prop("x", observedAt="2025-01-02T10:00:00Z"),
        temperature=prop(21.5, unitCode="CEL"),
        owner=rel("urn:ngsi-ld:Person:1"),
        location=geo(point(1.0, 2.0)),
    )
    create(client, ent)
    assert get_json(client, ent["id"]) == ent


def test_create_with_only_id_and_type(client: httpx.Client) -> None:
    """An entity with only id and type is valid."""
    ent = {"id": new_id(), "type": "Thing"}
    create(client, ent)
    assert get_json(client, ent["id"]) == ent


def test_create_concise(client: httpx.Client) -> None:
    """Concise input is accepted on create and stored with inferred attribute kinds."""
    eid = new_id()
    create(
        client,
        {
            "id": eid,
            "type": "Thing",
            "name": "Bob",
            "temperature": {"value": 20, "unitCode": "CEL"},
            "owner": {"object": "urn:ngsi-ld:Person:1"},
            "location": {"type": "Point", "coordinates": [1.0, 2.0]},
        },
    )
    got = get_json(client, eid)
    assert got["name"] == prop("Bob")
    assert got["temperature"] == prop(20, unitCode="CEL")
    assert got["owner"] == rel("urn:ngsi-ld:Person:1")
    assert got["location"] == geo(point(1.0, 2.0))


def test_create_sets_system_timestamps(client: httpx.Client) -> None:
    """Create sets createdAt and modifiedAt on the entity and on every attribute (options=sysAttrs)."""
    ent = make_entity(name=prop("x", sub=prop(1)), owner=rel("urn:ngsi-ld:P:1"))
    create(client, ent)
    got = get_json(client, ent["id"], options="sysAttrs")
    for holder in (got, got["name"], got["name"]["sub"], got["owner"]):
        assert DATETIME_RE.match(holder["createdAt"]), holder
        assert DATETIME_RE.match(holder["modifiedAt"]), holder
        assert holder["createdAt"] <= holder["modifiedAt"]


def test_create_existing_id_is_already_exists(client: httpx.Client) -> None:
    """Create of an existing id gives 409 AlreadyExists and leaves the stored entity unchanged (TS 001_03)."""
    ent = make_entity(name=prop("first"))
    create(client, ent)
    before = snapshot(client, ent["id"])
    resp = send(client, "POST", "/entities", {**ent, "name": prop("second"), "extra": prop(1)})
    assert_problem(resp, 409, "AlreadyExists")
    assert snapshot(client, ent["id"]) == before


def test_create_with_multiple_types_and_scope(client: httpx.Client) -> None:
    """Create accepts several types and a scope."""
    ent = make_entity(scope=["/A/B", "/C"], name=prop("x"))
    ent["type"] = ["Thing", "Other"]
    create(client, ent)
    got = get_json(client, ent["id"])
    assert set(got["type"]) == {"Thing", "Other"}
    assert set(got["scope"]) == {"/A/B", "/C"}


@pytest.mark.parametrize(
    "raw",
    ['{"id": "urn:ngsi-ld:Thing:1", "type": ', "not json at all", "{'id': 'single quotes'}", "{}}", ""],
    ids=["truncated", "text", "single quotes", "extra brace", "empty body"],
)
def test_malformed_json_is_invalid_request(client: httpx.Client, raw: str) -> None:
    """A body that is not valid JSON gives 400 InvalidRequest (TS 001_02_01)."""
    assert_problem(send(client, "POST", "/entities", raw=raw), 400, "InvalidRequest")


@pytest.mark.parametrize("body", [[], [{"id": "urn:ngsi-ld:Thing:x", "type": "Thing"}], "text", 42, None, True])
def test_body_not_an_object_is_invalid_request(client: httpx.Client, body: Any) -> None:
    """A JSON body that is not an object (e.g. []) gives 400 InvalidRequest (TS 001_02_02, Appendix A #7)."""
    assert_problem(send(client, "POST", "/entities", raw=json.dumps(body)), 400, "InvalidRequest")


@pytest.mark.parametrize("ctype", ["text/plain", "application/xml", "application/x-www-form-urlencoded"])
def test_wrong_content_type_is_415(client: httpx.Client, ctype: str) -> None:
    """POST /entities with a Content-Type other than json/ld+json gives 415 and stores nothing (TS 048_01)."""
    ent = make_entity(name=prop("x"))
    resp = send(client, "POST", "/entities", ent, ctype=ctype)
    assert resp.status_code == 415, resp.text
    assert retrieve(client, ent["id"]).status_code == 404


def test_merge_patch_content_type_is_not_for_post(client: httpx.Client) -> None:
    """application/merge-patch+json is only allowed on PATCH: POST /entities with it gives 415."""
    ent = make_entity(name=prop("x"))
    resp = send(client, "POST", "/entities", ent, ctype="application/merge-patch+json")
    assert resp.status_code == 415, resp.text
    assert retrieve(client, ent["id"]).status_code == 404


def test_oversized_body_is_413(client: httpx.Client) -> None:
    """A 9 MiB body (above the default 8 MiB cap) gives 413 and stores nothing."""
    ent = make_entity(blob=prop("x" * (9 * 1024 * 1024)))
    resp = send(client, "POST", "/entities", ent)
    assert resp.status_code == 413, resp.status_code
    assert retrieve(client, ent["id"]).status_code == 404


def test_unknown_query_parameter_is_invalid_request(client: httpx.Client) -> None:
    """POST /entities?invalidParams=invalidValue gives 400 InvalidRequest and stores nothing (TS 059_01)."""
    ent = make_entity(name=prop("x"))
    resp = send(client, "POST", "/entities", ent, params={"invalidParams": "invalidValue"})
    assert_problem(resp, 400, "InvalidRequest")
    assert retrieve(client, ent["id"]).status_code == 404


def test_rejected_entity_leaves_no_trace(client: httpx.Client) -> None:
    """A create rejected for one bad attribute stores none of the valid ones; a later valid create works."""
    ent = make_entity(good=prop(1), bad={"type": "Relationship"})
    assert_problem(send(client, "POST", "/entities", ent), 400, "BadRequestData")
    assert retrieve(client, ent["id"]).status_code == 404
    del ent["bad"]
    create(client, ent)
    assert get_json(client, ent["id"]) == ent
