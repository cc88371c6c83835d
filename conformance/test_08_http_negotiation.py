"""Digest §8.2, §8.4, §8.5, §7.3: content negotiation, 405/406/413/415, unknown parameters."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.helpers import (
    assert_problem,
    create,
    make_entity,
    media_type,
    new_id,
    prop,
    retrieve,
    send,
    snapshot,
)


@pytest.fixture
def thing(client: httpx.Client) -> dict[str, Any]:
    ent = make_entity(name=prop("x"))
    create(client, ent)
    return ent


def allow_set(resp: httpx.Response) -> set[str]:
    return {m.strip().upper() for m in resp.headers.get("allow", "").split(",") if m.strip()}


# --- 405 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("PUT", "/entities", {"GET", "POST"}),
        ("PATCH", "/entities", {"GET", "POST"}),
        ("POST", "/entities/{id}", {"GET", "PUT", "PATCH", "DELETE"}),
        ("PUT", "/entities/{id}/attrs", {"POST", "PATCH"}),
        ("GET", "/entities/{id}/attrs", {"POST", "PATCH"}),
        ("POST", "/entities/{id}/attrs/name", {"PATCH", "PUT", "DELETE"}),
        ("GET", "/entities/{id}/attrs/name", {"PATCH", "PUT", "DELETE"}),
    ],
)
def test_wrong_method_is_405_with_allow(
    client: httpx.Client, thing: dict[str, Any], method: str, path: str, expected: set[str]
) -> None:
    """A wrong verb on a known path gives 405 with an Allow header listing the path's methods (§8.4)."""
    before = snapshot(client, thing["id"])
    resp = send(client, method, path.format(id=thing["id"]), {"type": "Thing"})
    assert resp.status_code == 405, resp.text
    assert expected <= allow_set(resp), resp.headers.get("allow")
    assert method not in allow_set(resp)
    assert snapshot(client, thing["id"]) == before


# --- Accept -------------------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["application/xml", "text/html", "text/plain, image/png"])
def test_unacceptable_accept_is_406(client: httpx.Client, thing: dict[str, Any], accept: str) -> None:
    """An Accept with neither json nor ld+json (e.g. application/xml) gives 406 (TS 049_01)."""
    assert retrieve(client, thing["id"], headers={"Accept": accept}).status_code == 406


def test_missing_accept_means_json(client: httpx.Client, thing: dict[str, Any]) -> None:
    """A request without Accept gets application/json."""
    req = client.build_request("GET", f"/entities/{thing['id']}")
    del req.headers["accept"]
    resp = client.send(req)
    assert resp.status_code == 200
    assert media_type(resp) == "application/json"


def test_accept_any_gives_json_with_link(client: httpx.Client, thing: dict[str, Any]) -> None:
    """Accept: */* gives application/json plus a Link context header (TS 045_01)."""
    resp = retrieve(client, thing["id"], headers={"Accept": "*/*"})
    assert resp.status_code == 200
    assert media_type(resp) == "application/json"
    assert "json-ld#context" in resp.headers.get("link", "")


def test_accept_application_wildcard_gives_json(client: httpx.Client, thing: dict[str, Any]) -> None:
    """Accept: application/* prefers application/json."""
    resp = retrieve(client, thing["id"], headers={"Accept": "application/*"})
    assert resp.status_code == 200
    assert media_type(resp) == "application/json"


def test_accept_quality_values(client: httpx.Client, thing: dict[str, Any]) -> None:
    """q-weights decide between acceptable types: ld+json;q=0.9 beats json;q=0.5."""
    resp = retrieve(client, thing["id"], headers={"Accept": "application/json;q=0.5, application/ld+json;q=0.9"})
    assert resp.status_code == 200
    assert media_type(resp) == "application/ld+json"
    assert "@context" in resp.json()


def test_accept_with_unacceptable_and_json(client: httpx.Client, thing: dict[str, Any]) -> None:
    """An Accept listing xml and json is served as json."""
    resp = retrieve(client, thing["id"], headers={"Accept": "application/xml, application/json"})
    assert resp.status_code == 200
    assert media_type(resp) == "application/json"


# --- Content-Type -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/entities", None),
        ("PUT", "/entities/{id}", {"type": "Thing"}),
        ("PATCH", "/entities/{id}", {"name": prop("y")}),
        ("POST", "/entities/{id}/attrs", {"name": prop("y")}),
        ("PATCH", "/entities/{id}/attrs", {"name": prop("y")}),
        ("PATCH", "/entities/{id}/attrs/name", {"value": "y"}),
        ("PUT", "/entities/{id}/attrs/name", prop("y")),
    ],
)
@pytest.mark.parametrize("ctype", ["text/plain", "application/xml"])
def test_unsupported_content_type_is_415(
    client: httpx.Client, thing: dict[str, Any], method: str, path: str, body: Any, ctype: str
) -> None:
    """POST/PUT/PATCH with a Content-Type other than json/ld+json gives 415 and changes nothing."""
    payload = body if body is not None else make_entity()
    before = snapshot(client, thing["id"])
    resp = send(client, method, path.format(id=thing["id"]), payload, ctype=ctype)
    assert resp.status_code == 415, resp.text
    assert snapshot(client, thing["id"]) == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/entities/{id}/attrs", {"name": prop("y")}),
        ("PUT", "/entities/{id}/attrs/name", prop("y")),
        ("PUT", "/entities/{id}", {"type": "Thing"}),
    ],
)
def test_merge_patch_only_on_patch(
    client: httpx.Client, thing: dict[str, Any], method: str, path: str, body: Any
) -> None:
    """application/merge-patch+json is only accepted on PATCH; elsewhere it gives 415."""
    before = snapshot(client, thing["id"])
    resp = send(client, method, path.format(id=thing["id"]), body, ctype="application/merge-patch+json")
    assert resp.status_code == 415, resp.text
    assert snapshot(client, thing["id"]) == before


def test_charset_parameter_is_tolerated(client: httpx.Client) -> None:
    """Content-Type application/json; charset=utf-8 is accepted."""
    ent = make_entity(name=prop("ü"))
    resp = send(client, "POST", "/entities", ent, ctype="application/json; charset=utf-8")
    assert resp.status_code == 201, resp.text


def test_no_content_length_on_204(client: httpx.Client, thing: dict[str, Any]) -> None:
    """204 responses carry no body and no Content-Length (§6.3.6)."""
    resp = send(client, "PATCH", f"/entities/{thing['id']}/attrs", {"name": prop("z")})
    assert resp.status_code == 204
    assert resp.content == b""
    assert "content-length" not in resp.headers


def test_no_link_header_on_201_and_204(client: httpx.Client) -> None:
    """Responses without a body (201, 204) carry no JSON-LD Link header."""
    ent = make_entity(name=prop("x"))
    resp = create(client, ent)
    assert "json-ld#context" not in resp.headers.get("link", "")
    resp = client.delete(f"/entities/{ent['id']}")
    assert resp.status_code == 204
    assert "json-ld#context" not in resp.headers.get("link", "")


# --- 413 ----------------------------------------------------------------------------------------


def test_oversized_patch_is_413(client: httpx.Client, thing: dict[str, Any]) -> None:
    """A 9 MiB PATCH body (default cap 8 MiB) gives 413 and changes nothing."""
    before = snapshot(client, thing["id"])
    resp = send(client, "PATCH", f"/entities/{thing['id']}/attrs", {"big": prop("y" * (9 * 1024 * 1024))})
    assert resp.status_code == 413
    assert snapshot(client, thing["id"]) == before


# --- unknown query parameters -------------------------------------------------------------------


def test_unknown_parameter_on_create(client: httpx.Client) -> None:
    """POST /entities?invalidParams=invalidValue gives 400 InvalidRequest (TS 059_01)."""
    ent = make_entity()
    resp = send(client, "POST", "/entities", ent, params={"invalidParams": "invalidValue"})
    assert_problem(resp, 400, "InvalidRequest")
    assert retrieve(client, ent["id"]).status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/entities/{id}", None),
        ("DELETE", "/entities/{id}", None),
        ("PATCH", "/entities/{id}/attrs", {"name": prop("q")}),
        ("POST", "/entities/{id}/attrs", {"name": prop("q")}),
        ("PATCH", "/entities/{id}/attrs/name", {"value": "q"}),
        ("DELETE", "/entities/{id}/attrs/name", None),
    ],
)
def test_unknown_parameter_on_entity_operations(
    client: httpx.Client, thing: dict[str, Any], method: str, path: str, body: Any
) -> None:
    """An unrecognised URL parameter gives 400 InvalidRequest and changes nothing (§6.3.20)."""
    before = snapshot(client, thing["id"])
    resp = send(client, method, path.format(id=thing["id"]), body, params={"invalidParams": "invalidValue"})
    assert_problem(resp, 400, "InvalidRequest")
    assert snapshot(client, thing["id"]) == before


def test_validation_order_415_before_json_parse(client: httpx.Client) -> None:
    """Content-Type is checked before the body is parsed: bad type and bad JSON gives 415."""
    resp = send(client, "POST", "/entities", raw="{not json", ctype="text/plain")
    assert resp.status_code == 415


def test_validation_order_unknown_param_before_body(client: httpx.Client) -> None:
    """Unknown URL parameters are checked before the body: 400 InvalidRequest even for a bad body."""
    resp = send(client, "POST", "/entities", {"id": "nope"}, params={"bogus": "1"})
    assert_problem(resp, 400, "InvalidRequest")


def test_unknown_entity_vs_invalid_id(client: httpx.Client) -> None:
    """Data validation comes before existence checks: an invalid id gives 400, not 404."""
    assert_problem(send(client, "PATCH", "/entities/nope/attrs", {"x": prop(1)}), 400, "BadRequestData")
    assert_problem(send(client, "PATCH", f"/entities/{new_id()}/attrs", {"x": prop(1)}), 404, "ResourceNotFound")
