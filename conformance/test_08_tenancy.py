"""Digest §8.1: multi-tenancy via the NGSILD-Tenant header."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from conformance.helpers import (
    assert_problem,
    create,
    get_json,
    make_entity,
    new_id,
    prop,
    retrieve,
    send,
)


def t(tenant: str) -> dict[str, str]:
    return {"NGSILD-Tenant": tenant}


def test_first_create_creates_the_tenant(client: httpx.Client, tenant: str) -> None:
    """The first create in a new tenant creates it; the entity is then readable in that tenant."""
    ent = make_entity(name=prop("in tenant"))
    create(client, ent, headers=t(tenant))
    assert get_json(client, ent["id"], headers=t(tenant)) == ent


def test_entity_is_invisible_in_default_and_other_tenants(
    client: httpx.Client, tenant: str, make_id: Callable[..., str]
) -> None:
    """An entity created in tenant A is invisible in the default tenant and in tenant B."""
    ent = {"id": make_id("Thing"), "type": "Thing", "name": prop("A")}
    create(client, ent, headers=t(tenant))
    other = tenant + "b"
    create(client, make_entity(), headers=t(other))
    assert_problem(retrieve(client, ent["id"]), 404, "ResourceNotFound")
    assert_problem(retrieve(client, ent["id"], headers=t(other)), 404, "ResourceNotFound")


def test_same_id_in_two_tenants(client: httpx.Client, tenant: str) -> None:
    """The same id can exist independently in two tenants; deleting it in one leaves the other."""
    eid = new_id()
    create(client, {"id": eid, "type": "Thing", "v": prop("A")}, headers=t(tenant))
    create(client, {"id": eid, "type": "Thing", "v": prop("default")})
    assert get_json(client, eid, headers=t(tenant))["v"] == prop("A")
    assert get_json(client, eid)["v"] == prop("default")
    assert client.delete(f"/entities/{eid}", headers=t(tenant)).status_code == 204
    assert get_json(client, eid)["v"] == prop("default")


def test_updates_stay_in_their_tenant(client: httpx.Client, tenant: str) -> None:
    """An update in tenant A does not touch the same id in the default tenant."""
    eid = new_id()
    create(client, {"id": eid, "type": "Thing", "v": prop(1)}, headers=t(tenant))
    create(client, {"id": eid, "type": "Thing", "v": prop(1)})
    assert send(client, "PATCH", f"/entities/{eid}/attrs", {"v": prop(2)}, headers=t(tenant)).status_code == 204
    assert get_json(client, eid, headers=t(tenant))["v"] == prop(2)
    assert get_json(client, eid)["v"] == prop(1)


def test_read_in_unknown_tenant(client: httpx.Client, tenant: str) -> None:
    """GET in a tenant that does not exist gives 404 NonexistentTenant."""
    assert_problem(retrieve(client, new_id(), headers=t(tenant)), 404, "NonexistentTenant")


def test_writes_other_than_create_do_not_create_tenants(client: httpx.Client, tenant: str) -> None:
    """PATCH, PUT, POST attrs and DELETE in an unknown tenant give 404 NonexistentTenant."""
    eid = new_id()
    h = t(tenant)
    assert_problem(send(client, "PATCH", f"/entities/{eid}", {"x": prop(1)}, headers=h), 404, "NonexistentTenant")
    assert_problem(send(client, "PUT", f"/entities/{eid}", {"type": "T"}, headers=h), 404, "NonexistentTenant")
    resp = send(client, "POST", f"/entities/{eid}/attrs", {"x": prop(1)}, headers=h)
    assert_problem(resp, 404, "NonexistentTenant")
    resp = send(client, "PATCH", f"/entities/{eid}/attrs", {"x": prop(1)}, headers=h)
    assert_problem(resp, 404, "NonexistentTenant")
    resp = send(client, "PATCH", f"/entities/{eid}/attrs/x", {"value": 1}, headers=h)
    assert_problem(resp, 404, "NonexistentTenant")
    assert_problem(client.delete(f"/entities/{eid}", headers=h), 404, "NonexistentTenant")
    assert_problem(client.delete(f"/entities/{eid}/attrs/x", headers=h), 404, "NonexistentTenant")
    assert_problem(retrieve(client, eid, headers=h), 404, "NonexistentTenant")


def test_failed_create_does_not_create_tenant(client: httpx.Client, tenant: str) -> None:
    """A create rejected as invalid does not create the tenant."""
    resp = send(client, "POST", "/entities", {"id": "nope", "type": "T"}, headers=t(tenant))
    assert_problem(resp, 400, "BadRequestData")
    assert_problem(retrieve(client, new_id(), headers=t(tenant)), 404, "NonexistentTenant")


def test_unknown_entity_in_existing_tenant(client: httpx.Client, tenant: str) -> None:
    """In an existing tenant, an unknown entity is 404 ResourceNotFound (not NonexistentTenant)."""
    create(client, make_entity(), headers=t(tenant))
    assert_problem(retrieve(client, new_id(), headers=t(tenant)), 404, "ResourceNotFound")


def test_response_echoes_tenant(client: httpx.Client, tenant: str) -> None:
    """Responses to tenant-scoped operations echo the NGSILD-Tenant header (§5.5.10, SHOULD)."""
    ent = make_entity()
    resp = create(client, ent, headers=t(tenant))
    assert resp.headers.get("ngsild-tenant") == tenant
    resp = retrieve(client, ent["id"], headers=t(tenant))
    assert resp.status_code == 200
    assert resp.headers.get("ngsild-tenant") == tenant
