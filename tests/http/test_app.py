"""The HTTP edge wired to a real store, with the outside world injected: remote @context documents
come from an httpx.MockTransport, time from a FakeClock."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from ngsild.clock import FakeClock
from ngsild.http.app import create_app
from ngsild.model import Change
from ngsild.settings import Settings

API = "/ngsi-ld/v1"
CTX_URL = "http://127.0.0.1:9/ctx.jsonld"
OUTSIDE_URL = "http://contexts.example.org/ctx.jsonld"
LINK = '<{}>; rel="http://www.w3.org/ns/json-ld#context"; type="application/ld+json"'
BASE = Settings(store="sqlite://:memory:", egress_allow="127.0.0.0/8,::1,localhost")


class Remote:
    """A fake web of @context documents that records every request it answers."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        return httpx.Response(200, json={"@context": {"speed": "https://example.org/vocab#speed"}})


@pytest.fixture
def remote() -> Remote:
    return Remote()


def client_for(settings: Settings, remote: Remote) -> TestClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(remote.handler))
    return TestClient(create_app(settings, clock=FakeClock(), http=http))


@pytest.fixture
def client(remote: Remote) -> Iterator[TestClient]:
    with client_for(BASE, remote) as test_client:
        yield test_client


def entity(entity_id: str = "urn:ngsi-ld:Car:1", **attrs: Any) -> dict[str, Any]:
    return {"id": entity_id, "type": "Car", **attrs}


def test_remote_context_is_fetched_once_and_used_for_expansion(client: TestClient, remote: Remote) -> None:
    """A Link context is downloaded through the injected client once, then served from the cache."""
    headers = {"Link": LINK.format(CTX_URL)}
    assert client.post(f"{API}/entities", json=entity(speed=3), headers=headers).status_code == 201
    plain = client.get(f"{API}/entities/urn:ngsi-ld:Car:1").json()
    assert plain["https://example.org/vocab#speed"]["value"] == 3
    compacted = client.get(f"{API}/entities/urn:ngsi-ld:Car:1", headers=headers).json()
    assert compacted["speed"]["value"] == 3
    assert remote.requests == [CTX_URL]


def test_context_outside_the_egress_policy_is_refused_unfetched(client: TestClient, remote: Remote) -> None:
    """A context on a host the egress policy does not list gives LdContextNotAvailable; no request leaves."""
    response = client.post(f"{API}/entities", json=entity(), headers={"Link": LINK.format(OUTSIDE_URL)})
    assert response.status_code == 503
    assert response.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/LdContextNotAvailable"
    assert "egress" in response.json()["detail"]
    assert remote.requests == []
    assert client.get(f"{API}/entities/urn:ngsi-ld:Car:1").status_code == 404


def test_context_unavailable_status_is_configurable(remote: Remote) -> None:
    """Deployments that follow the 1.9.1 table get 504 for an unavailable context."""
    with client_for(replace(BASE, ld_context_unavailable_status=504), remote) as client:
        response = client.post(f"{API}/entities", json=entity(), headers={"Link": LINK.format(OUTSIDE_URL)})
    assert response.status_code == 504


def test_body_over_the_configured_cap_is_413_and_not_stored(remote: Remote) -> None:
    """A body larger than max_body_bytes is refused with 413 before it is parsed."""
    with client_for(replace(BASE, max_body_bytes=200), remote) as client:
        big = entity(note="x" * 500)
        response = client.post(f"{API}/entities", json=big)
        assert response.status_code == 413
        assert client.get(f"{API}/entities/urn:ngsi-ld:Car:1").status_code == 404


def test_chunked_body_over_the_cap_is_413(remote: Remote) -> None:
    """A chunked body (no Content-Length) is cut off at the cap too."""
    with client_for(replace(BASE, max_body_bytes=200), remote) as client:
        chunks = iter([b'{"id": "urn:ngsi-ld:Car:1", "type": "Car", "note": "', b"x" * 500, b'"}'])
        response = client.post(f"{API}/entities", content=chunks, headers={"Content-Type": "application/json"})
        assert response.status_code == 413


def test_every_write_publishes_one_change(remote: Remote) -> None:
    """Create, update and delete each hand exactly one Change, with before and after, to the listeners."""
    changes: list[Change] = []

    async def listen(change: Change) -> None:
        changes.append(change)

    http = httpx.AsyncClient(transport=httpx.MockTransport(remote.handler))
    with TestClient(create_app(BASE, clock=FakeClock(), http=http, listeners=[listen])) as client:
        client.post(f"{API}/entities", json=entity(speed=1))
        client.patch(f"{API}/entities/urn:ngsi-ld:Car:1/attrs", json={"speed": 2})
        client.delete(f"{API}/entities/urn:ngsi-ld:Car:1")
    assert [c.trigger for c in changes] == ["create", "update", "delete"]
    create, update, delete = changes
    assert create.before is None and create.after is not None
    speed = "https://uri.etsi.org/ngsi-ld/default-context/speed"
    assert update.before == create.after and update.after is not None
    assert update.after["attrs"][speed][0]["value"] == 2
    assert delete.before == update.after and delete.after is None


def test_bad_input_publishes_nothing(remote: Remote) -> None:
    """A rejected write changes nothing, so no Change is published."""
    changes: list[Change] = []

    async def listen(change: Change) -> None:
        changes.append(change)

    http = httpx.AsyncClient(transport=httpx.MockTransport(remote.handler))
    with TestClient(create_app(BASE, clock=FakeClock(), http=http, listeners=[listen])) as client:
        assert client.post(f"{API}/entities", json={"id": "not a uri", "type": "Car"}).status_code == 400
    assert changes == []


def test_unknown_path_is_404_problem(client: TestClient) -> None:
    """A path outside the route table gives a ResourceNotFound ProblemDetails."""
    response = client.get(f"{API}/nothing/here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
