"""Digest §4.7: Delete Entity — DELETE /entities/{entityId}."""

from __future__ import annotations

import httpx

from conformance.helpers import assert_problem, create, make_entity, new_id, prop, retrieve, snapshot


def test_delete_existing(client: httpx.Client) -> None:
    """DELETE of an existing entity gives 204 with no body; the entity is then 404."""
    ent = make_entity(name=prop("x"))
    create(client, ent)
    resp = client.delete(f"/entities/{ent['id']}")
    assert resp.status_code == 204
    assert resp.content == b""
    assert_problem(retrieve(client, ent["id"]), 404, "ResourceNotFound")


def test_delete_twice_is_not_found(client: httpx.Client) -> None:
    """A second DELETE of the same entity gives 404 ResourceNotFound."""
    ent = make_entity()
    create(client, ent)
    assert client.delete(f"/entities/{ent['id']}").status_code == 204
    assert_problem(client.delete(f"/entities/{ent['id']}"), 404, "ResourceNotFound")


def test_delete_unknown_is_not_found(client: httpx.Client) -> None:
    """DELETE of an unknown id gives 404 ResourceNotFound (TS 002_03)."""
    assert_problem(client.delete(f"/entities/{new_id()}"), 404, "ResourceNotFound")


def test_delete_invalid_id_is_bad_request(client: httpx.Client) -> None:
    """DELETE with an id that is not a URI gives 400 BadRequestData (TS 002_02)."""
    assert_problem(client.delete("/entities/thisisaninvaliduri"), 400, "BadRequestData")


def test_delete_type_mismatch_is_not_found(client: httpx.Client) -> None:
    """DELETE with a type parameter the entity does not match gives 404 and the entity survives."""
    ent = make_entity(name=prop("x"))
    create(client, ent)
    before = snapshot(client, ent["id"])
    assert_problem(client.delete(f"/entities/{ent['id']}", params={"type": "Other"}), 404, "ResourceNotFound")
    assert snapshot(client, ent["id"]) == before


def test_delete_type_match(client: httpx.Client) -> None:
    """DELETE with a matching type parameter deletes the entity."""
    ent = make_entity(name=prop("x"))
    create(client, ent)
    assert client.delete(f"/entities/{ent['id']}", params={"type": "Thing"}).status_code == 204
    assert retrieve(client, ent["id"]).status_code == 404


def test_id_can_be_reused_after_delete(client: httpx.Client) -> None:
    """After deletion the id can be created again, with no trace of the old attributes."""
    ent = make_entity(old=prop(1))
    create(client, ent)
    assert client.delete(f"/entities/{ent['id']}").status_code == 204
    fresh = {"id": ent["id"], "type": "Other", "new": prop(2)}
    create(client, fresh)
    assert retrieve(client, ent["id"]).json() == fresh
