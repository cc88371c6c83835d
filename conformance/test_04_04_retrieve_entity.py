"""Digest §4.4: Retrieve Entity — GET /entities/{entityId} (representations are in test_02)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.helpers import (
    assert_problem,
    create,
    get_json,
    make_entity,
    media_type,
    new_id,
    prop,
    retrieve,
)


@pytest.fixture
def thing(client: httpx.Client) -> dict[str, Any]:
    ent = make_entity(name=prop("x"))
    ent["type"] = ["Thing", "Device"]
    create(client, ent)
    return ent


def test_retrieve_existing(client: httpx.Client, thing: dict[str, Any]) -> None:
    """Retrieve of an existing entity gives 200 application/json with the entity."""
    resp = retrieve(client, thing["id"])
    assert resp.status_code == 200
    assert media_type(resp) == "application/json"
    body = resp.json()
    assert body["id"] == thing["id"]
    assert set(body["type"]) == {"Thing", "Device"}


def test_retrieve_unknown_is_not_found(client: httpx.Client) -> None:
    """Retrieve of an unknown id gives 404 ResourceNotFound (TS 018_03_01)."""
    assert_problem(retrieve(client, new_id()), 404, "ResourceNotFound")


@pytest.mark.parametrize("bad_id", ["thisisaninvaliduri", "not%20a%20uri"])
def test_retrieve_invalid_id_is_bad_request(client: httpx.Client, bad_id: str) -> None:
    """Retrieve with an id that is not a URI gives 400 BadRequestData (TS 018_02)."""
    assert_problem(client.get(f"/entities/{bad_id}"), 400, "BadRequestData")


@pytest.mark.parametrize("type_param", ["Thing", "Device", "Thing,Other", "Device|Nope"])
def test_type_parameter_matching(client: httpx.Client, thing: dict[str, Any], type_param: str) -> None:
    """The type parameter is a type selector; an entity matching it is returned."""
    assert get_json(client, thing["id"], type=type_param)["id"] == thing["id"]


@pytest.mark.parametrize("type_param", ["Other", "Nope,Other"])
def test_type_parameter_mismatch_is_not_found(client: httpx.Client, thing: dict[str, Any], type_param: str) -> None:
    """A type parameter the entity does not match behaves as an unknown entity: 404 ResourceNotFound."""
    assert_problem(retrieve(client, thing["id"], type=type_param), 404, "ResourceNotFound")


def test_accept_ld_json_puts_context_in_body(client: httpx.Client, thing: dict[str, Any]) -> None:
    """Accept: application/ld+json gives Content-Type application/ld+json with @context in the body."""
    resp = retrieve(client, thing["id"], headers={"Accept": "application/ld+json"})
    assert resp.status_code == 200
    assert media_type(resp) == "application/ld+json"
    assert "@context" in resp.json()


def test_accept_json_puts_context_in_link_header(client: httpx.Client, thing: dict[str, Any]) -> None:
    """Accept: application/json gives a Link context header and no @context in the body."""
    resp = retrieve(client, thing["id"], headers={"Accept": "application/json"})
    assert resp.status_code == 200
    assert media_type(resp) == "application/json"
    assert "@context" not in resp.json()
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in resp.headers.get("link", "")


def test_unknown_query_parameter_is_invalid_request(client: httpx.Client, thing: dict[str, Any]) -> None:
    """An unknown URL parameter on Retrieve gives 400 InvalidRequest (§6.3.20)."""
    assert_problem(retrieve(client, thing["id"], invalidParams="invalidValue"), 400, "InvalidRequest")


def test_retrieve_entity_with_url_encoded_id(client: httpx.Client) -> None:
    """An id with reserved characters can be retrieved URL-encoded."""
    eid = f"http://example.org/things/{new_id().rsplit(':', 1)[1]}"
    create(client, {"id": eid, "type": "Thing"})
    resp = client.get("/entities/http%3A%2F%2Fexample.org%2Fthings%2F" + eid.rsplit("/", 1)[1])
    assert resp.status_code == 200, resp.text
    assert resp.json()["id"] == eid
