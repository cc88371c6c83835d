"""Shared constants and assertion helpers for the conformance suite (no fixtures here)."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

ERRORS = "https://uri.etsi.org/ngsi-ld/errors/"
DEFAULT_NS = "https://uri.etsi.org/ngsi-ld/default-context/"
CORE_CONTEXT = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
CORE_CONTEXT_RE = re.compile(r"^https://uri\.etsi\.org/ngsi-ld/v1/ngsi-ld-core-context(-v\d\.\d+)?\.jsonld$")
LD_CONTEXT_REL = "http://www.w3.org/ns/json-ld#context"
NULL = "urn:ngsi-ld:null"
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")

# The namespace of the user @context served by the loopback context server.
EX = "https://example.org/conformance#"
USER_CONTEXT = {
    "@context": {
        "Vehicle": EX + "Vehicle",
        "speed": EX + "speed",
        "brand": EX + "brand",
        "almostFull": EX + "almostFull",
        "isParked": {"@id": EX + "isParked", "@type": "@id"},
        "grocery": EX + "grocery",
    }
}

SYS_ATTRS = ("createdAt", "modifiedAt")

# limit/offset values every paged listing refuses with 400 (negative, not integers, limit=0 without count)
BAD_PAGING = [
    {"limit": "-1"},
    {"limit": "abc"},
    {"limit": "2.5"},
    {"limit": "0"},
    {"offset": "-1"},
    {"offset": "x"},
    {"offset": "1.5"},
]


def new_id(type_name: str = "Thing") -> str:
    """A fresh entity id, so tests never collide."""
    return f"urn:ngsi-ld:{type_name}:{uuid.uuid4()}"


def link_header(url: str) -> dict[str, str]:
    """A JSON-LD context Link header for ``url``."""
    return {"Link": f'<{url}>; rel="{LD_CONTEXT_REL}"; type="application/ld+json"'}


def media_type(resp: httpx.Response) -> str:
    """The response media type without parameters, lower-cased."""
    return resp.headers.get("content-type", "").split(";")[0].strip().lower()


def send(
    client: httpx.Client,
    method: str,
    url: str,
    body: Any = None,
    *,
    raw: bytes | str | None = None,
    ctype: str | None = "application/json",
    headers: dict[str, str] | None = None,
    params: dict[str, str] | list[tuple[str, str]] | None = None,
) -> httpx.Response:
    """Send a request whose body is ``body`` serialised as JSON (or ``raw`` verbatim)."""
    hdrs = dict(headers or {})
    content: bytes | None = None
    if raw is not None:
        content = raw.encode() if isinstance(raw, str) else raw
    elif body is not None:
        content = json.dumps(body).encode()
    if content is not None and ctype is not None:
        hdrs["Content-Type"] = ctype
    return client.request(method, url, content=content, headers=hdrs, params=params)


def assert_problem(resp: httpx.Response, status: int | tuple[int, ...], name: str) -> dict[str, Any]:
    """Assert an NGSI-LD error: status, application/json ProblemDetails with the given type and a title."""
    statuses = status if isinstance(status, tuple) else (status,)
    assert resp.status_code in statuses, f"expected {statuses} {name}, got {resp.status_code}: {resp.text[:500]}"
    assert media_type(resp) == "application/json", f"error Content-Type: {resp.headers.get('content-type')}"
    body = resp.json()
    assert isinstance(body, dict), body
    assert body.get("type") == ERRORS + name, f"expected {ERRORS + name}, got {body.get('type')!r}"
    assert isinstance(body.get("title"), str), body
    assert body["title"].strip(), body
    return body


def create(
    client: httpx.Client,
    entity: dict[str, Any],
    *,
    ctype: str = "application/json",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Create an entity and assert 201."""
    resp = send(client, "POST", "/entities", entity, ctype=ctype, headers=headers)
    assert resp.status_code == 201, f"create failed: {resp.status_code} {resp.text[:500]}"
    return resp


def retrieve(
    client: httpx.Client,
    entity_id: str,
    *,
    headers: dict[str, str] | None = None,
    **params: str,
) -> httpx.Response:
    """GET /entities/{id} with query parameters."""
    return client.get(f"/entities/{entity_id}", params=params or None, headers=headers)


def get_json(
    client: httpx.Client,
    entity_id: str,
    *,
    headers: dict[str, str] | None = None,
    **params: str,
) -> dict[str, Any]:
    """Retrieve an entity, assert 200 and return the body."""
    resp = retrieve(client, entity_id, headers=headers, **params)
    assert resp.status_code == 200, f"retrieve failed: {resp.status_code} {resp.text[:500]}"
    body = resp.json()
    assert isinstance(body, dict)
    return body


def snapshot(client: httpx.Client, entity_id: str, headers: dict[str, str] | None = None) -> Any:
    """The full stored state (with system attributes), or None when the entity does not exist."""
    resp = retrieve(client, entity_id, headers=headers, options="sysAttrs")
    if resp.status_code == 404:
        return None
    assert resp.status_code == 200, resp.text
    return resp.json()


def instances(attr: Any) -> list[dict[str, Any]]:
    """An attribute member value as a list of instances (single instance or multi-attribute array)."""
    return list(attr) if isinstance(attr, list) else [attr]


def types_of(entity: dict[str, Any]) -> set[str]:
    """The entity type(s) as a set."""
    t = entity["type"]
    return set(t) if isinstance(t, list) else {t}


def scopes_of(entity: dict[str, Any]) -> set[str]:
    """The entity scope(s) as a set (empty when absent)."""
    s = entity.get("scope")
    if s is None:
        return set()
    return set(s) if isinstance(s, list) else {s}


def object_list_uris(object_list: list[Any]) -> list[str]:
    """A ListRelationship objectList as URIs, whichever of the two allowed shapes is used."""
    return [o["object"] if isinstance(o, dict) else o for o in object_list]


def strip_sys(value: Any) -> Any:
    """A copy of ``value`` without createdAt/modifiedAt anywhere."""
    if isinstance(value, dict):
        return {k: strip_sys(v) for k, v in value.items() if k not in SYS_ATTRS}
    if isinstance(value, list):
        return [strip_sys(v) for v in value]
    return value


def make_entity(type_name: str = "Thing", **attrs: Any) -> dict[str, Any]:
    """A normalized entity with a fresh id."""
    return {"id": new_id(type_name), "type": type_name, **attrs}


def prop(value: Any, **extra: Any) -> dict[str, Any]:
    """A normalized Property."""
    return {"type": "Property", "value": value, **extra}


def rel(obj: Any, **extra: Any) -> dict[str, Any]:
    """A normalized Relationship."""
    return {"type": "Relationship", "object": obj, **extra}


def geo(value: Any, **extra: Any) -> dict[str, Any]:
    """A normalized GeoProperty."""
    return {"type": "GeoProperty", "value": value, **extra}


def point(lon: float, lat: float) -> dict[str, Any]:
    """A GeoJSON Point."""
    return {"type": "Point", "coordinates": [lon, lat]}


@dataclass
class ContextServer:
    """A loopback HTTP server that serves registered @context documents."""

    base: str
    routes: dict[str, tuple[int, bytes, str]] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)

    def register(self, body: Any, *, status: int = 200, ctype: str = "application/ld+json") -> str:
        """Serve ``body`` (JSON-serialised unless bytes/str) at a fresh URL and return that URL."""
        path = f"/ctx/{uuid.uuid4().hex}.jsonld"
        if isinstance(body, bytes):
            data = body
        elif isinstance(body, str):
            data = body.encode()
        else:
            data = json.dumps(body).encode()
        self.routes[path] = (status, data, ctype)
        return self.base + path

    def valid(self, context: Any = None) -> str:
        """A fresh URL serving a valid user @context (USER_CONTEXT unless given)."""
        return self.register(context if context is not None else USER_CONTEXT)

    def invalid_json(self) -> str:
        """A fresh URL serving a document that is not JSON."""
        return self.register(b"{this is not json", ctype="application/ld+json")

    def not_found(self) -> str:
        """A fresh URL answering 404."""
        return self.register({"error": "not here"}, status=404, ctype="application/json")


def body_list(resp: httpx.Response) -> list[dict[str, Any]]:
    """The JSON array of a successful query response."""
    assert resp.status_code == 200, f"{resp.status_code}: {resp.text[:500]}"
    body = resp.json()
    assert isinstance(body, list), body
    return body


def result_ids(resp: httpx.Response) -> set[str]:
    """The ids of a query response, asserting that none is repeated."""
    found = [e["id"] for e in body_list(resp)]
    assert len(found) == len(set(found)), f"duplicates in {found}"
    return set(found)


def by_id(resp: httpx.Response) -> dict[str, dict[str, Any]]:
    """The entities of a query response keyed by id."""
    return {e["id"]: e for e in body_list(resp)}


T = TypeVar("T")


def eventually(fetch: Callable[[], T], done: Callable[[T], bool], what: str, timeout: float = 10.0) -> T:
    """``fetch()`` again every 50 ms until ``done`` holds for its result; fail after ``timeout`` s
    saying ``what`` never happened and what was seen last."""
    deadline = time.monotonic() + timeout
    while True:
        got = fetch()
        if done(got):
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {what} within {timeout}s; last: {got}")
        time.sleep(0.05)
