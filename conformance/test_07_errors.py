"""Digest §7: ProblemDetails bodies, error types and their HTTP status codes."""

from __future__ import annotations

import httpx
import pytest

from conformance.helpers import (
    ERRORS,
    assert_problem,
    create,
    link_header,
    make_entity,
    media_type,
    new_id,
    prop,
    retrieve,
    send,
)


def test_problem_details_members(client: httpx.Client) -> None:
    """An error body is an RFC 7807 object with type, non-empty title and detail; status (if any) matches."""
    resp = retrieve(client, new_id())
    body = assert_problem(resp, 404, "ResourceNotFound")
    assert isinstance(body.get("detail"), str) and body["detail"], body
    if "status" in body:
        assert body["status"] == 404


@pytest.mark.parametrize("accept", ["application/ld+json", "application/json", "*/*", "application/geo+json"])
def test_errors_are_application_json_whatever_accept_says(client: httpx.Client, accept: str) -> None:
    """Errors are application/json (not problem+json, not ld+json) whatever the Accept header."""
    resp = retrieve(client, new_id(), headers={"Accept": accept})
    assert_problem(resp, 404, "ResourceNotFound")


def test_errors_carry_no_link_header(client: httpx.Client, user_context_url: str) -> None:
    """Error responses carry no JSON-LD Link header, even when the request had one."""
    resp = retrieve(client, new_id(), headers=link_header(user_context_url))
    assert_problem(resp, 404, "ResourceNotFound")
    assert "json-ld#context" not in resp.headers.get("link", "")


def test_error_body_has_no_context(client: httpx.Client) -> None:
    """Error bodies are plain JSON: no @context member."""
    body = assert_problem(
        retrieve(client, new_id(), headers={"Accept": "application/ld+json"}), 404, "ResourceNotFound"
    )
    assert "@context" not in body


def test_invalid_request_for_malformed_json(client: httpx.Client) -> None:
    """InvalidRequest (400): the body is not valid JSON."""
    assert_problem(send(client, "POST", "/entities", raw="{"), 400, "InvalidRequest")


def test_bad_request_data_for_invalid_content(client: httpx.Client) -> None:
    """BadRequestData (400): valid JSON with invalid content (id not a URI)."""
    assert_problem(send(client, "POST", "/entities", {"id": "nope", "type": "T"}), 400, "BadRequestData")


def test_already_exists(client: httpx.Client) -> None:
    """AlreadyExists (409): create of an existing entity."""
    ent = make_entity()
    create(client, ent)
    assert_problem(send(client, "POST", "/entities", ent), 409, "AlreadyExists")


def test_resource_not_found(client: httpx.Client) -> None:
    """ResourceNotFound (404): unknown entity on every single-entity operation."""
    eid = new_id()
    assert_problem(client.get(f"/entities/{eid}"), 404, "ResourceNotFound")
    assert_problem(client.delete(f"/entities/{eid}"), 404, "ResourceNotFound")
    assert_problem(send(client, "PUT", f"/entities/{eid}", {"type": "T"}), 404, "ResourceNotFound")
    assert_problem(send(client, "PATCH", f"/entities/{eid}", {"x": prop(1)}), 404, "ResourceNotFound")
    assert_problem(send(client, "POST", f"/entities/{eid}/attrs", {"x": prop(1)}), 404, "ResourceNotFound")
    assert_problem(send(client, "PATCH", f"/entities/{eid}/attrs", {"x": prop(1)}), 404, "ResourceNotFound")
    assert_problem(send(client, "PATCH", f"/entities/{eid}/attrs/x", {"value": 1}), 404, "ResourceNotFound")
    assert_problem(send(client, "PUT", f"/entities/{eid}/attrs/x", prop(1)), 404, "ResourceNotFound")
    assert_problem(client.delete(f"/entities/{eid}/attrs/x"), 404, "ResourceNotFound")


def test_error_type_uris_are_etsi(client: httpx.Client) -> None:
    """Error type URIs live under https://uri.etsi.org/ngsi-ld/errors/."""
    body = retrieve(client, new_id()).json()
    assert body["type"].startswith(ERRORS)


def test_error_bodies_use_fqns_only(client: httpx.Client, user_context_url: str) -> None:
    """Error bodies are never compacted: the response is application/json without a Link context."""
    resp = send(client, "POST", "/entities", {"id": "nope", "type": "Vehicle"}, headers=link_header(user_context_url))
    assert_problem(resp, 400, "BadRequestData")
    assert media_type(resp) == "application/json"
    assert "json-ld#context" not in resp.headers.get("link", "")
