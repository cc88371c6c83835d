"""Digest §4.13: batch operations — POST /entityOperations/{create,upsert,update,delete,merge}, with the
BatchOperationResult of §7.4, the validation order of §7.5 and the tenant rules of §8.1."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.helpers import (
    CORE_CONTEXT,
    ERRORS,
    EX,
    NULL,
    assert_problem,
    create,
    get_json,
    link_header,
    make_entity,
    media_type,
    new_id,
    prop,
    retrieve,
    scopes_of,
    send,
    snapshot,
    types_of,
)

OPS = ("create", "upsert", "update", "delete", "merge")
LD = "application/ld+json"
STATUS_OF = {"BadRequestData": 400, "AlreadyExists": 409, "ResourceNotFound": 404, "InvalidRequest": 400}


def batch(client: httpx.Client, op: str, body: Any, **kw: Any) -> httpx.Response:
    return send(client, "POST", f"/entityOperations/{op}", body, **kw)


def tenant_h(tenant: str) -> dict[str, str]:
    return {"NGSILD-Tenant": tenant}


def partial(resp: httpx.Response) -> dict[str, Any]:
    """Assert a 207 BatchOperationResult (application/json, no Link, both arrays, full ProblemDetails)."""
    assert resp.status_code == 207, f"expected 207, got {resp.status_code}: {resp.text[:500]}"
    assert media_type(resp) == "application/json", resp.headers.get("content-type")
    assert "link" not in resp.headers, resp.headers.get("link")
    body = resp.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("success"), list), body
    assert isinstance(body.get("errors"), list), body
    for entry in body["errors"]:
        problem = entry["error"]
        assert isinstance(problem.get("type"), str) and problem["type"].startswith(ERRORS), entry
        assert isinstance(problem.get("title"), str) and problem["title"].strip(), entry
        assert isinstance(problem.get("detail"), str), entry
        name = problem["type"].removeprefix(ERRORS)
        if name in STATUS_OF:
            assert problem.get("status") == STATUS_OF[name], entry
    return body


def errors_of(body: dict[str, Any]) -> list[tuple[Any, str]]:
    """The errors of a BatchOperationResult as (entityId, short error type) pairs, in order."""
    return [(e.get("entityId"), e["error"]["type"].removeprefix(ERRORS)) for e in body["errors"]]


def created(resp: httpx.Response) -> list[str]:
    """Assert 201 with a JSON array of ids and return it."""
    assert resp.status_code == 201, f"expected 201, got {resp.status_code}: {resp.text[:500]}"
    assert media_type(resp) == "application/json", resp.headers.get("content-type")
    body = resp.json()
    assert isinstance(body, list), body
    return body


def no_content(resp: httpx.Response) -> None:
    assert resp.status_code == 204, f"expected 204, got {resp.status_code}: {resp.text[:500]}"
    assert resp.content == b""


def valid_body(client: httpx.Client, op: str) -> tuple[list[Any], str]:
    """A valid one-item body for ``op`` and the id it would touch (the entity exists unless ``op`` creates)."""
    ent = make_entity(v=prop(1))
    if op in ("create", "upsert"):
        return [ent], ent["id"]
    create(client, ent)
    if op == "delete":
        return [ent["id"]], ent["id"]
    return [{"id": ent["id"], "type": "Thing", "v": prop(2), "w": prop(3)}], ent["id"]


# ------------------------------------------------------------------------------------------- whole-request errors


@pytest.mark.parametrize("op", OPS)
def test_body_not_array_is_bad_request_data(client: httpx.Client, op: str) -> None:
    """A JSON body that is an object instead of an array gives 400 BadRequestData and changes nothing."""
    body, eid = valid_body(client, op)
    before = snapshot(client, eid)
    item = body[0] if isinstance(body[0], dict) else {"id": body[0]}
    assert_problem(batch(client, op, item), 400, "BadRequestData")
    assert snapshot(client, eid) == before


@pytest.mark.parametrize("op", OPS)
def test_empty_array_is_bad_request_data(client: httpx.Client, op: str) -> None:
    """An empty array gives 400 BadRequestData (TS 003_03_02, 006_03_02)."""
    assert_problem(batch(client, op, []), 400, "BadRequestData")


@pytest.mark.parametrize("op", OPS)
def test_null_item_is_bad_request_data(client: httpx.Client, op: str) -> None:
    """An item that is null fails the whole request with 400 BadRequestData; the valid item is not applied."""
    body, eid = valid_body(client, op)
    before = snapshot(client, eid)
    assert_problem(batch(client, op, [*body, None]), 400, "BadRequestData")
    assert snapshot(client, eid) == before


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("raw", ['[{"id": "urn:ngsi-ld:Thing:1", "type": ', "not json"], ids=["truncated", "text"])
def test_malformed_json_is_invalid_request(client: httpx.Client, op: str, raw: str) -> None:
    """A body that is not valid JSON gives 400 InvalidRequest (TS 003_03_01, 004_06_01, 005_04_01, 006_03_01)."""
    assert_problem(batch(client, op, None, raw=raw), 400, "InvalidRequest")


@pytest.mark.parametrize("op", OPS)
def test_text_plain_is_415(client: httpx.Client, op: str) -> None:
    """Content-Type text/plain gives 415 and changes nothing (TS 048_01)."""
    body, eid = valid_body(client, op)
    before = snapshot(client, eid)
    assert batch(client, op, body, ctype="text/plain").status_code == 415
    assert snapshot(client, eid) == before


@pytest.mark.parametrize("op", OPS)
def test_unknown_parameter_is_invalid_request(client: httpx.Client, op: str) -> None:
    """An unknown URL parameter gives 400 InvalidRequest and changes nothing (digest §7.5 step 2)."""
    body, eid = valid_body(client, op)
    before = snapshot(client, eid)
    resp = batch(client, op, body, params={"invalidParams": "invalidValue"})
    assert_problem(resp, 400, "InvalidRequest")
    assert snapshot(client, eid) == before


@pytest.mark.parametrize("op", ["create", "upsert"])
def test_too_many_items_is_413(client: httpx.Client, op: str) -> None:
    """More items than the broker maximum (1001 > default 1000) gives 413 and creates nothing."""
    items = [{"id": new_id("Tiny"), "type": "Tiny"} for _ in range(1001)]
    assert batch(client, op, items).status_code == 413
    for i in (0, 500, 1000):
        assert retrieve(client, items[i]["id"]).status_code == 404


@pytest.mark.parametrize(
    ("op", "options"), [("upsert", "foo"), ("update", "replace"), ("update", "foo")], ids=lambda v: str(v)
)
def test_invalid_options_value(client: httpx.Client, op: str, options: str) -> None:
    """An options value the operation does not define is 400 InvalidRequest (§7.2, TS 018_16); nothing changes."""
    body, eid = valid_body(client, op)
    before = snapshot(client, eid)
    assert_problem(batch(client, op, body, params={"options": options}), 400, "InvalidRequest")
    assert snapshot(client, eid) == before


# -------------------------------------------------------------------------------------------------------- create


def test_create_all_ok_gives_201_with_ids_in_order(client: httpx.Client) -> None:
    """All items created gives 201 with the JSON array of the created ids; each entity is stored as sent."""
    ents = [make_entity(name=prop(f"n{i}")) for i in range(3)]
    assert created(batch(client, "create", ents)) == [e["id"] for e in ents]
    for ent in ents:
        assert get_json(client, ent["id"]) == ent


def test_create_existing_id_is_already_exists(client: httpx.Client) -> None:
    """An item whose id already exists gives a 409 AlreadyExists item error; the others are created."""
    old = make_entity(name=prop("old"))
    create(client, old)
    before = snapshot(client, old["id"])
    new = make_entity()
    body = partial(batch(client, "create", [{**old, "name": prop("new")}, new]))
    assert body["success"] == [new["id"]]
    assert errors_of(body) == [(old["id"], "AlreadyExists")]
    assert snapshot(client, old["id"]) == before
    assert get_json(client, new["id"]) == new


def test_create_same_id_twice(client: httpx.Client) -> None:
    """The same id twice: the first is created, the second fails with AlreadyExists (TS 003_10)."""
    eid = new_id()
    first = {"id": eid, "type": "Thing", "v": prop(1)}
    body = partial(batch(client, "create", [first, {"id": eid, "type": "Thing", "v": prop(2)}]))
    assert body["success"] == [eid]
    assert errors_of(body) == [(eid, "AlreadyExists")]
    assert get_json(client, eid) == first


@pytest.mark.parametrize(
    "bad",
    [
        {"id": "not a uri", "type": "Thing"},
        {"id": new_id(), "type": "Thing", "a": {"type": "Property"}},
        {"id": new_id(), "type": "Thing", "a": {"type": "Relationship", "value": 1}},
    ],
    ids=["bad id", "property without value", "relationship without object"],
)
def test_create_invalid_item_does_not_fail_the_batch(client: httpx.Client, bad: dict[str, Any]) -> None:
    """An invalid item is a BadRequestData item error (207); the valid items around it are created, in order."""
    good1, good2 = make_entity(v=prop(1)), make_entity(v=prop(2))
    body = partial(batch(client, "create", [good1, bad, good2]))
    assert body["success"] == [good1["id"], good2["id"]]
    assert errors_of(body) == [(bad["id"], "BadRequestData")]
    assert get_json(client, good1["id"]) == good1
    assert get_json(client, good2["id"]) == good2
    if bad["id"].startswith("urn:"):
        assert retrieve(client, bad["id"]).status_code == 404


def test_create_all_invalid_gives_207_with_empty_success(client: httpx.Client) -> None:
    """When every item is invalid the answer is still 207, success is empty and errors follow array order."""
    bad = [{"id": new_id(), "type": "Thing", "a": {"type": "Property"}} for _ in range(3)]
    body = partial(batch(client, "create", bad))
    assert body["success"] == []
    assert errors_of(body) == [(b["id"], "BadRequestData") for b in bad]


def test_create_success_follows_array_order(client: httpx.Client) -> None:
    """success lists the valid items in array order, whatever the position of the failed ones."""
    existing = make_entity()
    create(client, existing)
    ents = [make_entity() for _ in range(5)]
    items = [ents[0], existing, ents[1], ents[2], {"id": "bad id", "type": "T"}, ents[3], ents[4]]
    body = partial(batch(client, "create", items))
    assert body["success"] == [e["id"] for e in ents]
    assert errors_of(body) == [(existing["id"], "AlreadyExists"), ("bad id", "BadRequestData")]


def test_create_shares_timestamps(client: httpx.Client) -> None:
    """All writes of one batch share createdAt and modifiedAt (entities and their attributes)."""
    ents = [make_entity(v=prop(i)) for i in range(3)]
    created(batch(client, "create", ents))
    got = [get_json(client, e["id"], options="sysAttrs") for e in ents]
    stamps = {(g["createdAt"], g["modifiedAt"]) for g in got} | {
        (g["v"]["createdAt"], g["v"]["modifiedAt"]) for g in got
    }
    assert len(stamps) == 1, stamps


# ---------------------------------------------------------------------------------------------- JSON-LD context


def test_ld_json_items_carry_their_own_context(client: httpx.Client) -> None:
    """With application/ld+json each item brings its own @context (URL or inline object)."""
    a: dict[str, Any] = {"id": new_id(), "type": "Thing", "name": prop("a"), "@context": CORE_CONTEXT}
    b: dict[str, Any] = {
        "id": new_id(),
        "type": "Car",
        "speed": prop(1),
        "@context": {"Car": EX + "Car", "speed": EX + "speed"},
    }
    assert created(batch(client, "create", [a, b], ctype=LD)) == [a["id"], b["id"]]
    assert get_json(client, a["id"]) == {"id": a["id"], "type": "Thing", "name": prop("a")}
    got = get_json(client, b["id"])
    assert got["type"] == EX + "Car"
    assert got[EX + "speed"] == prop(1)


def test_ld_json_item_without_context_is_item_error(client: httpx.Client) -> None:
    """In ld+json mode an item without @context is a BadRequestData item error; the others are created."""
    ok = {"id": new_id(), "type": "Thing", "@context": CORE_CONTEXT}
    missing = {"id": new_id(), "type": "Thing"}
    body = partial(batch(client, "create", [ok, missing], ctype=LD))
    assert body["success"] == [ok["id"]]
    assert errors_of(body) == [(missing["id"], "BadRequestData")]
    assert retrieve(client, missing["id"]).status_code == 404


def test_json_item_with_context_is_item_error(client: httpx.Client) -> None:
    """In application/json mode an item carrying @context is a BadRequestData item error."""
    ok = make_entity()
    with_ctx = {**make_entity(), "@context": CORE_CONTEXT}
    body = partial(batch(client, "create", [ok, with_ctx]))
    assert body["success"] == [ok["id"]]
    assert errors_of(body) == [(with_ctx["id"], "BadRequestData")]
    assert retrieve(client, with_ctx["id"]).status_code == 404


@pytest.mark.parametrize("op", ["create", "upsert"])
def test_link_header_with_ld_json_is_bad_request_data(client: httpx.Client, op: str, user_context_url: str) -> None:
    """A Link header together with application/ld+json fails the whole request (400 BadRequestData)."""
    ent = {**make_entity(), "@context": CORE_CONTEXT}
    resp = batch(client, op, [ent], ctype=LD, headers=link_header(user_context_url))
    assert_problem(resp, 400, "BadRequestData")
    assert retrieve(client, ent["id"]).status_code == 404


def test_link_header_context_applies_to_all_items(client: httpx.Client, user_context_url: str) -> None:
    """A user @context in the Link header expands the terms of every item."""
    ents: list[dict[str, Any]] = [{"id": new_id("Vehicle"), "type": "Vehicle", "speed": prop(i)} for i in (10, 20)]
    created(batch(client, "create", ents, headers=link_header(user_context_url)))
    for ent in ents:
        assert get_json(client, ent["id"], headers=link_header(user_context_url)) == ent
        expanded = get_json(client, ent["id"])
        assert expanded["type"] == EX + "Vehicle"
        assert expanded[EX + "speed"] == ent["speed"]


# -------------------------------------------------------------------------------------------------------- upsert


def test_upsert_all_new_gives_201_with_ids(client: httpx.Client) -> None:
    """Upsert of new entities creates them: 201 with the created ids."""
    ents = [make_entity(v=prop(i)) for i in range(2)]
    assert created(batch(client, "upsert", ents)) == [e["id"] for e in ents]
    for ent in ents:
        assert get_json(client, ent["id"]) == ent


def test_upsert_all_existing_gives_204(client: httpx.Client) -> None:
    """Upsert where every entity already existed gives 204 (TS 004_01)."""
    ents = [make_entity(v=prop(i)) for i in range(2)]
    for ent in ents:
        create(client, ent)
    no_content(batch(client, "upsert", [{**e, "v": prop("new")} for e in ents]))
    for ent in ents:
        assert get_json(client, ent["id"])["v"] == prop("new")


def test_upsert_mixed_lists_only_created_ids(client: httpx.Client) -> None:
    """When some entities existed, the 201 body lists only the ids that were created."""
    old, new = make_entity(), make_entity()
    create(client, old)
    assert created(batch(client, "upsert", [old, new])) == [new["id"]]
    assert get_json(client, new["id"]) == new


@pytest.mark.parametrize("scope", [None, "/New"], ids=["no scope", "new scope"])
@pytest.mark.parametrize("params", [None, {"options": "replace"}], ids=["default", "options=replace"])
def test_upsert_replace_replaces_whole_entity(client: httpx.Client, params: Any, scope: str | None) -> None:
    """Replace mode: attributes absent from the item disappear, types (TS 004_08) and scope are replaced."""
    old = make_entity(scope="/Old", a=prop(1), b=prop(1))
    old["type"] = ["Thing", "Other"]
    create(client, old)
    item: dict[str, Any] = {"id": old["id"], "type": "NewType", "a": prop(2), "c": prop(3)}
    if scope:
        item["scope"] = scope
    no_content(batch(client, "upsert", [item], params=params))
    got = get_json(client, old["id"])
    assert got == item
    assert types_of(got) == {"NewType"}
    assert scopes_of(got) == ({scope} if scope else set())


def test_upsert_update_mode_keeps_other_attributes(client: httpx.Client) -> None:
    """options=update: attributes of the item overwrite existing ones, other attributes are kept."""
    old = make_entity(a=prop(1), b=prop(1))
    create(client, old)
    no_content(
        batch(client, "upsert", [{"id": old["id"], "type": "Thing", "a": prop(2)}], params={"options": "update"})
    )
    got = get_json(client, old["id"])
    assert got["a"] == prop(2)
    assert got["b"] == prop(1)


def test_upsert_update_mode_creates_missing_entity(client: httpx.Client) -> None:
    """options=update still creates an entity that does not exist (201 with its id)."""
    ent = make_entity(a=prop(1))
    assert created(batch(client, "upsert", [ent], params={"options": "update"})) == [ent["id"]]
    assert get_json(client, ent["id"]) == ent


def test_upsert_same_id_twice_second_replaces(client: httpx.Client) -> None:
    """The same id twice: the first occurrence creates, the second replaces it (array order)."""
    eid = new_id()
    second = {"id": eid, "type": "Thing", "y": prop(2)}
    ids = created(batch(client, "upsert", [{"id": eid, "type": "Thing", "x": prop(1)}, second]))
    assert set(ids) == {eid}
    assert get_json(client, eid) == second


def test_upsert_invalid_item_gives_207(client: httpx.Client) -> None:
    """An invalid item is a BadRequestData error; the existing and new entities are written, in array order."""
    old, new = make_entity(v=prop(1)), make_entity()
    create(client, old)
    bad = {"id": new_id(), "type": "Thing", "a": {"type": "Property"}}
    body = partial(batch(client, "upsert", [{**old, "v": prop(2)}, bad, new]))
    assert body["success"] == [old["id"], new["id"]]
    assert errors_of(body) == [(bad["id"], "BadRequestData")]
    assert get_json(client, old["id"])["v"] == prop(2)
    assert get_json(client, new["id"]) == new


# -------------------------------------------------------------------------------------------------------- update


def test_update_appends_and_overwrites(client: httpx.Client) -> None:
    """Batch update has Append Attributes semantics: new attributes added, existing overwritten, others kept."""
    ents = [make_entity(a=prop(1), keep=prop("k")) for _ in range(2)]
    for ent in ents:
        create(client, ent)
    no_content(batch(client, "update", [{"id": e["id"], "type": "Thing", "a": prop(2), "b": prop(3)} for e in ents]))
    for ent in ents:
        assert get_json(client, ent["id"]) == {**ent, "a": prop(2), "b": prop(3)}


def test_update_unknown_entity_is_resource_not_found(client: httpx.Client) -> None:
    """An unknown entity is a ResourceNotFound item error (TS 005_03); the known one is updated."""
    ent = make_entity(a=prop(1))
    create(client, ent)
    ghost = new_id()
    body = partial(batch(client, "update", [{"id": ghost, "type": "Thing", "a": prop(2)}, {**ent, "a": prop(2)}]))
    assert body["success"] == [ent["id"]]
    assert errors_of(body) == [(ghost, "ResourceNotFound")]
    assert get_json(client, ent["id"])["a"] == prop(2)
    assert retrieve(client, ghost).status_code == 404


def test_update_no_overwrite_keeps_existing(client: httpx.Client) -> None:
    """noOverwrite: existing attributes stay unchanged and the item is reported (207); new ones are added."""
    ent = make_entity(a=prop(1))
    create(client, ent)
    item = {"id": ent["id"], "type": "Thing", "a": prop(2), "b": prop(3)}
    body = partial(batch(client, "update", [item], params={"options": "noOverwrite"}))
    assert ent["id"] in [eid for eid, _ in errors_of(body)]
    got = get_json(client, ent["id"])
    assert got["a"] == prop(1)
    assert got["b"] == prop(3)


def test_update_no_overwrite_only_new_gives_204(client: httpx.Client) -> None:
    """noOverwrite with only new attributes gives 204 (TS 005_02_02)."""
    ent = make_entity(a=prop(1))
    create(client, ent)
    no_content(batch(client, "update", [{"id": ent["id"], "b": prop(3)}], params={"options": "noOverwrite"}))
    assert get_json(client, ent["id"]) == {**ent, "b": prop(3)}


def test_update_adds_types(client: httpx.Client) -> None:
    """A type in an update item is added to the entity's types (TS 005_05)."""
    ent = make_entity()
    create(client, ent)
    no_content(batch(client, "update", [{"id": ent["id"], "type": "Other"}]))
    assert types_of(get_json(client, ent["id"])) == {"Thing", "Other"}


# -------------------------------------------------------------------------------------------------------- delete


def test_delete_all_gives_204(client: httpx.Client) -> None:
    """Deleting existing entities gives 204; they are 404 afterwards."""
    ents = [make_entity() for _ in range(3)]
    for ent in ents:
        create(client, ent)
    no_content(batch(client, "delete", [e["id"] for e in ents]))
    for ent in ents:
        assert_problem(retrieve(client, ent["id"]), 404, "ResourceNotFound")


def test_delete_unknown_is_resource_not_found(client: httpx.Client) -> None:
    """An unknown id is a ResourceNotFound item error; the known one is deleted."""
    ent = make_entity()
    create(client, ent)
    ghost = new_id()
    body = partial(batch(client, "delete", [ghost, ent["id"]]))
    assert body["success"] == [ent["id"]]
    assert errors_of(body) == [(ghost, "ResourceNotFound")]
    assert retrieve(client, ent["id"]).status_code == 404


def test_delete_same_id_twice(client: httpx.Client) -> None:
    """The same id twice: the first deletes, the second is ResourceNotFound (TS 006_04)."""
    ent = make_entity()
    create(client, ent)
    body = partial(batch(client, "delete", [ent["id"], ent["id"]]))
    assert body["success"] == [ent["id"]]
    assert errors_of(body) == [(ent["id"], "ResourceNotFound")]


@pytest.mark.parametrize("bad", [5, {"id": "urn:ngsi-ld:Thing:x"}, "not a uri"], ids=["number", "object", "not uri"])
def test_delete_invalid_item_is_bad_request_data(client: httpx.Client, bad: Any) -> None:
    """An item that is not an id string (or not a URI) is a BadRequestData item error; valid ids are deleted."""
    ent = make_entity()
    create(client, ent)
    body = partial(batch(client, "delete", [ent["id"], bad]))
    assert body["success"] == [ent["id"]]
    assert [t for _, t in errors_of(body)] == ["BadRequestData"]
    assert retrieve(client, ent["id"]).status_code == 404


# --------------------------------------------------------------------------------------------------------- merge


def test_merge_all_ok_gives_204(client: httpx.Client) -> None:
    """Batch merge deep-merges each item: new attributes added, existing replaced, NGSI-LD Null deletes."""
    ents = [make_entity(a=prop(1), b=prop("keep"), c=prop("gone")) for _ in range(2)]
    for ent in ents:
        create(client, ent)
    items = [{"id": e["id"], "type": "Thing", "a": prop(2), "c": prop(NULL), "d": prop(4)} for e in ents]
    no_content(batch(client, "merge", items))
    for ent in ents:
        assert get_json(client, ent["id"]) == {
            "id": ent["id"],
            "type": "Thing",
            "a": prop(2),
            "b": prop("keep"),
            "d": prop(4),
        }


def test_merge_unknown_entity_is_resource_not_found(client: httpx.Client) -> None:
    """An unknown entity is a ResourceNotFound item error (TS 057_02); the known one is merged."""
    ent = make_entity(a=prop(1))
    create(client, ent)
    ghost = new_id()
    body = partial(batch(client, "merge", [{"id": ent["id"], "a": prop(2)}, {"id": ghost, "a": prop(2)}]))
    assert body["success"] == [ent["id"]]
    assert errors_of(body) == [(ghost, "ResourceNotFound")]
    assert get_json(client, ent["id"])["a"] == prop(2)
    assert retrieve(client, ghost).status_code == 404


def test_merge_invalid_item_gives_207(client: httpx.Client) -> None:
    """An invalid merge item (InvalidJsonLd-like bad attribute) is a BadRequestData item error (TS 057_03_02)."""
    ent = make_entity(a=prop(1))
    create(client, ent)
    before = snapshot(client, ent["id"])
    body = partial(batch(client, "merge", [{"id": ent["id"], "a": {"type": "Property"}}]))
    assert body["success"] == []
    assert errors_of(body) == [(ent["id"], "BadRequestData")]
    assert snapshot(client, ent["id"]) == before


# ------------------------------------------------------------------------------------------------------- tenants


def test_create_in_new_tenant_creates_it(client: httpx.Client, tenant: str) -> None:
    """Batch create with an unknown NGSILD-Tenant creates the tenant; the entities are only visible there."""
    ents = [make_entity() for _ in range(2)]
    created(batch(client, "create", ents, headers=tenant_h(tenant)))
    for ent in ents:
        assert get_json(client, ent["id"], headers=tenant_h(tenant)) == ent
        assert_problem(retrieve(client, ent["id"]), 404, "ResourceNotFound")


@pytest.mark.parametrize("op", ["update", "merge", "delete"])
def test_nonexistent_tenant(client: httpx.Client, tenant: str, op: str) -> None:
    """Batch update, merge and delete in an unknown tenant give 404 NonexistentTenant and do not create it."""
    eid = new_id()
    body: list[Any] = [eid] if op == "delete" else [{"id": eid, "type": "Thing", "a": prop(1)}]
    assert_problem(batch(client, op, body, headers=tenant_h(tenant)), 404, "NonexistentTenant")
    assert_problem(retrieve(client, eid, headers=tenant_h(tenant)), 404, "NonexistentTenant")


def test_batches_stay_in_their_tenant(client: httpx.Client, tenant: str) -> None:
    """The same id in two tenants: a batch update and delete in one tenant leave the other untouched."""
    ent = make_entity(v=prop("default"))
    created(batch(client, "create", [ent]))
    created(batch(client, "create", [{**ent, "v": prop("t")}], headers=tenant_h(tenant)))
    no_content(batch(client, "update", [{"id": ent["id"], "v": prop("t2")}], headers=tenant_h(tenant)))
    assert get_json(client, ent["id"]) == ent
    no_content(batch(client, "delete", [ent["id"]], headers=tenant_h(tenant)))
    assert get_json(client, ent["id"]) == ent
    assert_problem(retrieve(client, ent["id"], headers=tenant_h(tenant)), 404, "ResourceNotFound")
