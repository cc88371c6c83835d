"""Digest §4.6: Merge Entity — PATCH /entities/{entityId}."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from conformance.helpers import (
    NULL,
    assert_problem,
    create,
    get_json,
    instances,
    make_entity,
    new_id,
    prop,
    rel,
    scopes_of,
    send,
    snapshot,
    types_of,
)

DS1 = "urn:ngsi-ld:Dataset:one"


@pytest.fixture
def stored(client: httpx.Client) -> dict[str, Any]:
    ent = make_entity(
        scope="/Old",
        airQualityLevel=prop(4, unitCode="C62", observedAt="2023-01-01T00:00:00Z", source=prop("sensor")),
        address=prop({"street": "Main", "city": "Berlin", "country": "DE"}),
        owner=rel("urn:ngsi-ld:Person:1"),
        name=[prop("default"), prop("one", datasetId=DS1)],
        untouched=prop("same"),
    )
    create(client, ent)
    return ent


def merge(client: httpx.Client, entity_id: str, body: Any, **kw: Any) -> httpx.Response:
    return send(client, "PATCH", f"/entities/{entity_id}", body, **kw)


def test_merge_deep_merges_existing_attribute(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Merge replaces value/observedAt, keeps unitCode and sub-attributes not in the fragment (056_01_04)."""
    frag = {"airQualityLevel": prop(1, observedAt="2024-01-01T00:00:00.000Z")}
    assert merge(client, stored["id"], frag).status_code == 204
    got = get_json(client, stored["id"])["airQualityLevel"]
    assert got["value"] == 1
    assert got["observedAt"] in ("2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00Z")
    assert got["unitCode"] == "C62"
    assert got["source"] == prop("sensor")


def test_merge_adds_new_attribute_and_keeps_others(client: httpx.Client, stored: dict[str, Any]) -> None:
    """An attribute new to the entity is added; attributes absent from the fragment are kept."""
    assert merge(client, stored["id"], {"brand": prop("new")}).status_code == 204
    got = get_json(client, stored["id"])
    assert got["brand"] == prop("new")
    assert got["untouched"] == prop("same")
    assert got["owner"] == rel("urn:ngsi-ld:Person:1")


def test_merge_json_value_key_by_key(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Object values merge key by key; a key set to urn:ngsi-ld:null is removed."""
    frag = {"address": prop({"street": "Second", "country": NULL, "zip": "10115"})}
    assert merge(client, stored["id"], frag).status_code == 204
    got = get_json(client, stored["id"])["address"]["value"]
    assert got == {"street": "Second", "city": "Berlin", "zip": "10115"}


def test_merge_null_value_deletes_attribute(client: httpx.Client, stored: dict[str, Any]) -> None:
    """An attribute whose value is the NGSI-LD Null is deleted (TS 056_03)."""
    assert merge(client, stored["id"], {"untouched": prop(NULL)}).status_code == 204
    assert "untouched" not in get_json(client, stored["id"])


def test_merge_null_object_deletes_relationship(client: httpx.Client, stored: dict[str, Any]) -> None:
    """A Relationship whose object is the NGSI-LD Null is deleted."""
    assert merge(client, stored["id"], {"owner": rel(NULL)}).status_code == 204
    assert "owner" not in get_json(client, stored["id"])


def test_merge_concise_null_deletes_attribute(client: httpx.Client, stored: dict[str, Any]) -> None:
    """The concise whole-attribute null "attr": "urn:ngsi-ld:null" deletes the default instance."""
    assert merge(client, stored["id"], {"untouched": NULL}).status_code == 204
    assert "untouched" not in get_json(client, stored["id"])


def test_merge_null_sub_attribute_deletes_it(client: httpx.Client, stored: dict[str, Any]) -> None:
    """A sub-attribute set to null inside a merged attribute is removed; the rest is kept."""
    assert merge(client, stored["id"], {"airQualityLevel": prop(5, source=prop(NULL))}).status_code == 204
    got = get_json(client, stored["id"])["airQualityLevel"]
    assert "source" not in got
    assert got["value"] == 5
    assert got["unitCode"] == "C62"


def test_merge_null_for_new_attribute_is_not_added(client: httpx.Client, stored: dict[str, Any]) -> None:
    """A null value for an attribute the entity does not have is not added."""
    assert merge(client, stored["id"], {"ghost": prop(NULL)}).status_code == 204
    assert "ghost" not in get_json(client, stored["id"])


def test_merge_dataset_instance_only(client: httpx.Client, stored: dict[str, Any]) -> None:
    """A fragment with a datasetId merges only that instance."""
    assert merge(client, stored["id"], {"name": prop("ONE", datasetId=DS1)}).status_code == 204
    got = {i.get("datasetId"): i["value"] for i in instances(get_json(client, stored["id"])["name"])}
    assert got == {None: "default", DS1: "ONE"}


def test_merge_null_with_dataset_id_deletes_only_that_instance(client: httpx.Client, stored: dict[str, Any]) -> None:
    """A null value with a datasetId deletes only that instance."""
    assert merge(client, stored["id"], {"name": prop(NULL, datasetId=DS1)}).status_code == 204
    got = [(i.get("datasetId"), i["value"]) for i in instances(get_json(client, stored["id"])["name"])]
    assert got == [(None, "default")]


def test_merge_adds_types(client: httpx.Client, stored: dict[str, Any]) -> None:
    """type in the fragment adds types; none is removed."""
    assert merge(client, stored["id"], {"type": "Device"}).status_code == 204
    assert types_of(get_json(client, stored["id"])) == {"Thing", "Device"}


def test_merge_scope_replaces(client: httpx.Client, stored: dict[str, Any]) -> None:
    """scope in the fragment replaces the scope (merge behaves like append without noOverwrite)."""
    assert merge(client, stored["id"], {"scope": "/New"}).status_code == 204
    assert scopes_of(get_json(client, stored["id"])) == {"/New"}


def test_merge_key_values(client: httpx.Client, stored: dict[str, Any]) -> None:
    """format=keyValues merges simplified input; existing attributes keep their type and metadata."""
    body = {"airQualityLevel": 2, "owner": "urn:ngsi-ld:Person:2", "newOne": "fresh"}
    assert merge(client, stored["id"], body, params={"format": "keyValues"}).status_code == 204
    got = get_json(client, stored["id"])
    assert got["airQualityLevel"]["type"] == "Property"
    assert got["airQualityLevel"]["value"] == 2
    assert got["airQualityLevel"]["unitCode"] == "C62"
    assert got["owner"] == rel("urn:ngsi-ld:Person:2")
    assert got["newOne"] == prop("fresh")


def test_merge_options_key_values(client: httpx.Client, stored: dict[str, Any]) -> None:
    """The deprecated options=keyValues also signals simplified input on merge."""
    assert (
        merge(client, stored["id"], {"owner": "urn:ngsi-ld:Person:3"}, params={"options": "keyValues"}).status_code
        == 204
    )
    assert get_json(client, stored["id"])["owner"] == rel("urn:ngsi-ld:Person:3")


def test_merge_key_values_type_change_is_bad_request(client: httpx.Client, stored: dict[str, Any]) -> None:
    """keyValues merge cannot change an attribute's type: a non-URI for a Relationship is BadRequestData."""
    before = snapshot(client, stored["id"])
    resp = merge(client, stored["id"], {"owner": 42}, params={"format": "keyValues"})
    assert_problem(resp, 400, "BadRequestData")
    assert snapshot(client, stored["id"]) == before


def test_merge_observed_at_parameter(client: httpx.Client, stored: dict[str, Any]) -> None:
    """observedAt=<DateTime> sets observedAt of merged attributes that had one (fragment gives none)."""
    ts = "2025-06-01T12:00:00Z"
    assert merge(client, stored["id"], {"airQualityLevel": prop(9)}, params={"observedAt": ts}).status_code == 204
    got = get_json(client, stored["id"])["airQualityLevel"]
    assert got["value"] == 9
    assert got["observedAt"] in (ts, "2025-06-01T12:00:00.000Z")


def test_merge_observed_at_parameter_only_where_present(client: httpx.Client, stored: dict[str, Any]) -> None:
    """The observedAt parameter does not add observedAt to merged attributes that had none."""
    resp = merge(client, stored["id"], {"untouched": prop("v2")}, params={"observedAt": "2025-06-01T12:00:00Z"})
    assert resp.status_code == 204
    assert get_json(client, stored["id"])["untouched"] == prop("v2")


@pytest.mark.parametrize("params", [{"lang": "fr"}, {"lang": "fr", "format": "keyValues"}], ids=["concise", "kv"])
def test_merge_lang_replaces_one_language(client: httpx.Client, params: dict[str, str]) -> None:
    """With lang=fr, a plain string for an existing LanguageProperty replaces only the fr entry (§6.5.3.4)."""
    ent = make_entity(street={"type": "LanguageProperty", "languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}})
    create(client, ent)
    assert merge(client, ent["id"], {"street": "Place Royale"}, params=params).status_code == 204
    got = get_json(client, ent["id"])["street"]
    assert got == {"type": "LanguageProperty", "languageMap": {"fr": "Place Royale", "nl": "Grote Markt"}}


def test_merge_keeps_created_at(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Merge keeps createdAt of the entity and of merged attributes."""
    before = get_json(client, stored["id"], options="sysAttrs")
    assert merge(client, stored["id"], {"airQualityLevel": prop(2)}).status_code == 204
    after = get_json(client, stored["id"], options="sysAttrs")
    assert after["createdAt"] == before["createdAt"]
    assert after["airQualityLevel"]["createdAt"] == before["airQualityLevel"]["createdAt"]
    assert after["airQualityLevel"]["modifiedAt"] >= before["airQualityLevel"]["modifiedAt"]


def test_merge_patch_content_type_is_accepted(client: httpx.Client, stored: dict[str, Any]) -> None:
    """PATCH /entities/{id} accepts Content-Type application/merge-patch+json."""
    resp = merge(client, stored["id"], {"brand": prop("mp")}, ctype="application/merge-patch+json")
    assert resp.status_code == 204, resp.text
    assert get_json(client, stored["id"])["brand"] == prop("mp")


def test_merge_unknown_entity_is_not_found(client: httpx.Client) -> None:
    """Merge into an unknown entity gives 404 ResourceNotFound and creates nothing (TS 056_02)."""
    eid = new_id()
    assert_problem(merge(client, eid, {"brand": prop("x")}), 404, "ResourceNotFound")
    assert snapshot(client, eid) is None


def test_merge_invalid_id_is_bad_request(client: httpx.Client) -> None:
    """Merge on an id that is not a URI gives 400 BadRequestData."""
    assert_problem(merge(client, "thisisaninvaliduri", {"brand": prop("x")}), 400, "BadRequestData")


def test_merge_type_parameter_mismatch_is_not_found(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Merge with a type parameter the entity does not match gives 404 and changes nothing."""
    before = snapshot(client, stored["id"])
    resp = merge(client, stored["id"], {"brand": prop("x")}, params={"type": "Other"})
    assert_problem(resp, 404, "ResourceNotFound")
    assert snapshot(client, stored["id"]) == before


@pytest.mark.parametrize(
    "body",
    [
        {"owner": {"type": "Relationship", "object": "not a uri"}},
        {"bad name": prop(1)},
        {"loc": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [0, 100]}}},
        {"x": {"type": "Unknown", "value": 1}},
    ],
    ids=["relationship non-URI", "bad attr name", "bad geometry", "unknown attr type"],
)
def test_merge_invalid_fragment_changes_nothing(client: httpx.Client, stored: dict[str, Any], body: Any) -> None:
    """Merge with invalid content gives 400 BadRequestData and the entity is unchanged."""
    before = snapshot(client, stored["id"])
    assert_problem(merge(client, stored["id"], body), 400, "BadRequestData")
    assert snapshot(client, stored["id"]) == before


def test_merge_malformed_json_changes_nothing(client: httpx.Client, stored: dict[str, Any]) -> None:
    """Merge with a body that is not JSON gives 400 InvalidRequest and the entity is unchanged."""
    before = snapshot(client, stored["id"])
    assert_problem(merge(client, stored["id"], None, raw='{"a": '), 400, "InvalidRequest")
    assert snapshot(client, stored["id"]) == before
