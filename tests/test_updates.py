"""Write semantics: create, replace, append, update, merge and the attribute-level operations, as pure
functions of (stored document, validated fragment, now)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ngsild import updates, validate
from ngsild.errors import BadRequestData, ResourceNotFound
from ngsild.jsonld import CORE_TERM_MAP
from ngsild.model import NGSI_LD, NULL, Doc
from ngsild.updates import SCOPE_IRI
from tests.strategies import attributes, entities, heavy

TM = CORE_TERM_MAP
DC = NGSI_LD + "default-context/"
ID = "urn:ngsi-ld:Shop:42"
T0 = "2025-01-01T00:00:00.000000Z"
T1 = "2025-06-01T12:00:00.000000Z"
DS = "urn:ngsi-ld:Dataset:b"


def stored(payload: dict[str, Any]) -> Doc:
    return updates.create(validate.entity({"id": ID, "type": "Shop", **payload}, TM, validate.CREATE), T0)


def fragment(payload: dict[str, Any], rules: validate.Rules = validate.UPDATE) -> Doc:
    return validate.entity(payload, TM, rules)


def strip_times(value: Any) -> Any:
    """The value without system times (createdAt/modifiedAt), recursively."""
    if isinstance(value, dict):
        return {k: strip_times(v) for k, v in value.items() if k not in ("createdAt", "modifiedAt")}
    if isinstance(value, list):
        return [strip_times(v) for v in value]
    return value


def all_instances(insts_by_iri: dict[str, list[Doc]]) -> list[Doc]:
    out = []
    for insts in insts_by_iri.values():
        for inst in insts:
            out.append(inst)
            out.extend(all_instances(inst.get("attrs", {})))
    return out


def by_key(doc: Doc) -> dict[tuple[str, str | None], Doc]:
    return {(iri, i.get("datasetId")): i for iri, insts in doc["attrs"].items() for i in insts}


@st.composite
def doc_and_fragment(draw: st.DrawFn) -> tuple[Doc, Doc]:
    """A stored entity and a null-free fragment for it (some attributes shared by name)."""
    old = updates.create(validate.entity(draw(entities()), TM, validate.CREATE), T0)
    payload = draw(entities())
    payload.pop("id")
    if draw(st.booleans()):
        payload.pop("type")
    shared = draw(st.lists(st.sampled_from(sorted(old["attrs"])), unique=True)) if old["attrs"] else []
    for iri in shared:
        payload[TM.compact(iri)] = draw(attributes())
    return old, validate.entity(payload, TM, validate.UPDATE)


WRITES: dict[str, Callable[[Doc, Doc], Doc]] = {
    "replace": lambda old, frag: updates.replace(old, frag, T1),
    "append": lambda old, frag: updates.append(old, frag, T1, no_overwrite=False)[0],
    "append noOverwrite": lambda old, frag: updates.append(old, frag, T1, no_overwrite=True)[0],
    "update": lambda old, frag: updates.update(old, frag, T1)[0],
    "merge": lambda old, frag: updates.merge(old, frag, T1),
}


# ---- properties over every write ---------------------------------------------------------------------


@heavy
@given(entities())
def test_create_stamps_every_instance_with_now(payload: dict[str, Any]) -> None:
    """Create sets createdAt = modifiedAt = now on the entity and every attribute and sub-attribute."""
    frag = validate.entity(payload, TM, validate.CREATE)
    before = copy.deepcopy(frag)
    doc = updates.create(frag, T0)
    assert frag == before
    assert (doc["createdAt"], doc["modifiedAt"]) == (T0, T0)
    for inst in all_instances(doc["attrs"]):
        assert (inst["createdAt"], inst["modifiedAt"]) == (T0, T0)
    assert strip_times(doc["attrs"]) == frag["attrs"]


@heavy
@given(doc_and_fragment())
def test_writes_leave_their_inputs_alone_keep_created_at_and_stamp_now(case: tuple[Doc, Doc]) -> None:
    """Every write returns a new document (inputs untouched); the entity keeps createdAt and gets
    modifiedAt = now; surviving top-level instances keep their createdAt, new ones get now."""
    old, frag = case
    old_copy, frag_copy = copy.deepcopy(old), copy.deepcopy(frag)
    before = by_key(old)
    for write in WRITES.values():
        new = write(old, frag)
        assert old == old_copy
        assert frag == frag_copy
        assert (new["id"], new["createdAt"], new["modifiedAt"]) == (old["id"], T0, T1)
        for key, inst in by_key(new).items():
            assert inst["createdAt"] == (before[key]["createdAt"] if key in before else T1)


@heavy
@given(doc_and_fragment())
def test_types_are_only_ever_added(case: tuple[Doc, Doc]) -> None:
    """Append, update and merge add a fragment's types to the entity's and never remove one (§1.11)."""
    old, frag = case
    for write in ("append", "append noOverwrite", "update", "merge"):
        new = WRITES[write](old, frag)
        assert new["type"][: len(old["type"])] == old["type"]
        assert set(new["type"]) == set(old["type"]) | set(frag.get("type", []))
        assert len(new["type"]) == len(set(new["type"]))


@heavy
@given(doc_and_fragment())
def test_update_replaces_whole_instances_and_keeps_the_rest(case: tuple[Doc, Doc]) -> None:
    """Update: each fragment instance replaces (or adds) its instance whole; the other instances stay."""
    old, frag = case
    new, result = updates.update(old, frag, T1)
    sent = {(iri, i.get("datasetId")): i for iri, insts in frag["attrs"].items() for i in insts}
    for key, inst in by_key(new).items():
        if key in sent:
            assert strip_times(inst) == sent[key]
        else:
            assert inst == by_key(old)[key]
    assert set(by_key(new)) == set(by_key(old)) | set(sent)
    assert [n for n in result.not_updated if n["attributeName"] != SCOPE_IRI] == []
    assert sorted(set(result.updated) - {SCOPE_IRI}) == sorted(frag["attrs"])


@heavy
@given(doc_and_fragment())
def test_append_no_overwrite_only_adds(case: tuple[Doc, Doc]) -> None:
    """Append with noOverwrite adds missing instances, leaves existing ones and reports them by FQN."""
    old, frag = case
    new, result = updates.append(old, frag, T1, no_overwrite=True)
    before = by_key(old)
    for key, inst in by_key(new).items():
        if key in before:
            assert inst == before[key]
    skipped = {iri for iri, insts in frag["attrs"].items() for i in insts if (iri, i.get("datasetId")) in before}
    assert {n["attributeName"] for n in result.not_updated} == skipped
    assert all(n["attributeName"].startswith(("http", "urn")) and n["reason"] for n in result.not_updated)


@heavy
@given(doc_and_fragment())
def test_merge_keeps_what_the_fragment_does_not_mention(case: tuple[Doc, Doc]) -> None:
    """Merge: sub-attributes and metadata absent from the fragment survive on merged instances (§4.6)."""
    old, frag = case
    new = updates.merge(old, frag, T1)
    before = by_key(old)
    sent = {(iri, i.get("datasetId")): i for iri, insts in frag["attrs"].items() for i in insts}
    for key, inst in by_key(new).items():
        if key not in sent:
            assert inst == before[key]
        elif key in before and sent[key]["type"] == before[key]["type"]:
            assert set(before[key].get("attrs", {})) <= set(inst.get("attrs", {}))
            for meta in ("unitCode", "observedAt", "valueType", "objectType", "expiresAt"):
                if meta in before[key] and meta not in sent[key]:
                    assert inst[meta] == before[key][meta]


@st.composite
def doc_and_targets(draw: st.DrawFn) -> tuple[Doc, list[tuple[str, str | None]]]:
    old = updates.create(validate.entity(draw(entities()), TM, validate.CREATE), T0)
    keys = sorted(by_key(old), key=lambda k: (k[0], k[1] or ""))
    return old, draw(st.lists(st.sampled_from(keys), unique=True)) if keys else []


def _null_fragment(old: Doc, targets: list[tuple[str, str | None]]) -> Doc:
    payload: dict[str, list[dict[str, Any]]] = {}
    for iri, dataset in targets:
        kind = by_key(old)[(iri, dataset)]["type"]
        member, null = {
            "Relationship": ("object", NULL),
            "LanguageProperty": ("languageMap", {"@none": NULL}),
            "VocabProperty": ("vocab", NULL),
            "JsonProperty": ("json", NULL),
            "ListProperty": ("valueList", [NULL]),
            "ListRelationship": ("objectList", [NULL]),
        }.get(kind, ("value", NULL))
        inst: dict[str, Any] = {"type": kind, member: null}
        if dataset is not None:
            inst["datasetId"] = dataset
        payload.setdefault(iri, []).append(inst)
    return fragment(payload)


@heavy
@given(doc_and_targets(), st.sampled_from(["update", "merge"]))
def test_ngsi_ld_null_deletes_exactly_the_targeted_instances(
    case: tuple[Doc, list[tuple[str, str | None]]], write: str
) -> None:
    """A Null for (attribute, datasetId) deletes that instance only; an attribute left empty disappears."""
    old, targets = case
    new = WRITES[write](old, _null_fragment(old, targets))
    expected = {k: v for k, v in by_key(old).items() if k not in targets}
    assert by_key(new) == expected
    assert all(new["attrs"].values())


# ---- create / replace ----------------------------------------------------------------------------------


def test_create_copies_scope_and_expires_at() -> None:
    """Create keeps the scope and the entity expiresAt from the fragment."""
    doc = stored({"scope": ["/a", "/b"], "expiresAt": "2030-01-01T00:00:00Z"})
    assert doc["scope"] == ["/a", "/b"]
    assert doc["expiresAt"] == "2030-01-01T00:00:00Z"


def test_replace_takes_everything_from_the_body_but_created_at() -> None:
    """Replace Entity: attributes, scope and types come from the body; createdAt survives (TS 054_01/03)."""
    old = stored({"scope": "/a", "p": {"value": 1, "unitCode": "CEL"}, "level": 2})
    new = updates.replace(old, fragment({"type": "Store", "p": 5}, validate.REPLACE), T1)
    assert new["type"] == [DC + "Store"]
    assert "scope" not in new
    assert strip_times(new["attrs"]) == {DC + "p": [{"type": "Property", "value": 5}]}
    assert new["attrs"][DC + "p"][0]["createdAt"] == T0
    assert new["attrs"][DC + "p"][0]["modifiedAt"] == T1
    assert (new["createdAt"], new["modifiedAt"]) == (T0, T1)


def test_replace_without_types_keeps_the_stored_types() -> None:
    """A replace body without 'type' keeps the entity's types."""
    old = stored({"p": 1})
    assert updates.replace(old, fragment({"level": 1}, validate.REPLACE), T1)["type"] == [DC + "Shop"]


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_body_id_other_than_the_path_id_is_rejected(write: str) -> None:
    """A fragment naming another entity id is BadRequestData."""
    with pytest.raises(BadRequestData):
        WRITES[write](stored({"p": 1}), fragment({"id": "urn:ngsi-ld:Shop:other", "p": 2}))


# ---- append ------------------------------------------------------------------------------------------


def test_append_replaces_existing_instances_unless_no_overwrite() -> None:
    """Append overwrites an existing instance whole (keeping createdAt); noOverwrite skips it (TS 010_04)."""
    old = stored({"speed": {"value": 1, "unitCode": "KMH"}})
    frag = fragment({"speed": 2, "added": 3}, validate.APPEND)
    new, result = updates.append(old, frag, T1, no_overwrite=False)
    assert strip_times(new["attrs"][DC + "speed"]) == [{"type": "Property", "value": 2}]
    assert new["attrs"][DC + "speed"][0]["createdAt"] == T0
    assert result.as_json() == {"updated": [DC + "speed", DC + "added"], "notUpdated": []}
    kept, result = updates.append(old, frag, T1, no_overwrite=True)
    assert kept["attrs"][DC + "speed"] == old["attrs"][DC + "speed"]
    assert result.updated == [DC + "added"]
    assert [n["attributeName"] for n in result.not_updated] == [DC + "speed"]


def test_append_adds_a_new_dataset_instance_beside_the_default() -> None:
    """Instances are matched by datasetId: a new datasetId is appended next to the default instance."""
    old = stored({"p": 1})
    new, _ = updates.append(old, fragment({"p": {"value": 2, "datasetId": DS}}, validate.APPEND), T1, no_overwrite=True)
    assert [(i["value"], i.get("datasetId")) for i in new["attrs"][DC + "p"]] == [(1, None), (2, DS)]


def test_append_scope_replaces_or_with_no_overwrite_adds() -> None:
    """Append replaces the scope, or with noOverwrite adds the new scopes (TS 010_07)."""
    old = stored({"scope": ["/a", "/b"]})
    frag = fragment({"scope": ["/b", "/c"]}, validate.APPEND)
    assert updates.append(old, frag, T1, no_overwrite=False)[0]["scope"] == ["/b", "/c"]
    assert updates.append(old, frag, T1, no_overwrite=True)[0]["scope"] == ["/a", "/b", "/c"]


# ---- update ------------------------------------------------------------------------------------------


def test_update_drops_sub_attributes_missing_from_the_fragment() -> None:
    """Update replaces the whole instance: unitCode and sub-attributes not sent disappear (spec example 2)."""
    old = stored({"airQualityLevel": {"value": 4, "unitCode": "C62", "source": "urn:x:1"}})
    new, _ = updates.update(old, fragment({"airQualityLevel": {"type": "Property", "value": 1}}), T1)
    assert strip_times(new["attrs"][DC + "airQualityLevel"]) == [{"type": "Property", "value": 1}]


def test_update_may_change_the_attribute_type() -> None:
    """Update may turn a Property into a Relationship (TS 011_01_04)."""
    new, _ = updates.update(stored({"p": 1}), fragment({"p": {"type": "Relationship", "object": "urn:x:1"}}), T1)
    assert strip_times(new["attrs"][DC + "p"]) == [{"type": "Relationship", "object": "urn:x:1"}]


def test_update_of_scope_on_an_entity_without_scope_is_not_updated() -> None:
    """PATCH attrs with scope on an entity without one leaves it and reports notUpdated (TS 011_05_02)."""
    new, result = updates.update(stored({"p": 1}), fragment({"scope": "/a"}), T1)
    assert "scope" not in new
    assert result.updated == []
    assert [n["attributeName"] for n in result.not_updated] == [SCOPE_IRI]


def test_update_replaces_or_deletes_an_existing_scope() -> None:
    """An entity with a scope gets the new one; the Null removes it."""
    old = stored({"scope": "/a"})
    new, result = updates.update(old, fragment({"scope": ["/b"]}), T1)
    assert new["scope"] == ["/b"]
    assert result.updated == [SCOPE_IRI]
    gone, _ = updates.update(old, fragment({"scope": NULL}), T1)
    assert "scope" not in gone


def test_update_reports_a_null_for_a_missing_instance_as_not_updated() -> None:
    """Deleting an instance that does not exist changes nothing and is reported in notUpdated."""
    old = stored({"p": 1})
    new, result = updates.update(old, fragment({"p": {"value": NULL, "datasetId": DS}, "level": NULL}), T1)
    assert by_key(new) == by_key(old)
    assert {n["attributeName"] for n in result.not_updated} == {DC + "p", DC + "level"}
    assert DC + "level" not in new["attrs"]


def test_update_does_not_store_null_sub_attributes() -> None:
    """A Null sub-attribute in an update fragment means 'absent': the NGSI-LD Null is never stored as data."""
    old = stored({"p": {"value": 1, "s": 2}})
    new, _ = updates.update(old, fragment({"p": {"value": 1, "s": NULL}}), T1)
    assert strip_times(new["attrs"][DC + "p"]) == [{"type": "Property", "value": 1}]


def test_update_null_with_dataset_id_deletes_only_that_instance() -> None:
    """TS 011_07-011_09: the datasetId-specific Null deletes that instance; the default one stays."""
    old = stored({"name": [{"value": "A"}, {"value": "B", "datasetId": DS}]})
    new, _ = updates.update(old, fragment({"name": {"type": "Property", "value": NULL, "datasetId": DS}}), T1)
    assert strip_times(new["attrs"][DC + "name"]) == [{"type": "Property", "value": "A"}]


# ---- merge -------------------------------------------------------------------------------------------


def test_merge_keeps_unit_code_and_sub_attributes() -> None:
    """TS 056_01_04: merging value and observedAt keeps unitCode (unlike update)."""
    old = stored({"airQualityLevel": {"value": 4, "unitCode": "C62", "source": "urn:x:1"}})
    patch = {"airQualityLevel": {"type": "Property", "value": 1, "observedAt": "2024-01-01T00:00:00.000Z"}}
    new = updates.merge(old, fragment(patch, validate.MERGE), T1)
    [inst] = new["attrs"][DC + "airQualityLevel"]
    assert strip_times(inst) == {
        "type": "Property",
        "value": 1,
        "unitCode": "C62",
        "observedAt": "2024-01-01T00:00:00.000Z",
        "attrs": {DC + "source": [{"type": "Property", "value": "urn:x:1"}]},
    }
    assert (inst["createdAt"], inst["modifiedAt"]) == (T0, T1)


def test_merge_deep_merges_object_values_and_removes_null_keys() -> None:
    """Object values merge key by key; a key set to the Null (or JSON null) is removed (§4.6)."""
    old = stored({"address": {"street": "Main", "city": "Ghent", "country": "BE", "zip": "9000"}})
    patch = {"address": {"value": {"city": "Brugge", "country": NULL, "zip": None}}}
    new = updates.merge(old, fragment(patch, validate.MERGE), T1)
    assert new["attrs"][DC + "address"][0]["value"] == {DC + "street": "Main", DC + "city": "Brugge"}


def test_merge_of_a_new_attribute_drops_nested_nulls() -> None:
    """A new attribute is added without the null keys of its value."""
    new = updates.merge(stored({}), fragment({"a": {"value": {"x": 1, "y": NULL}}}, validate.MERGE), T1)
    assert new["attrs"][DC + "a"][0]["value"] == {DC + "x": 1}


def test_merge_of_a_new_attribute_does_not_add_null_sub_attributes() -> None:
    """A sub-attribute set to the Null inside a new attribute is not added (a null value is never added)."""
    patch = {"p": {"type": "Property", "value": 1, "s": {"type": "Property", "value": NULL}}}
    new = updates.merge(stored({}), fragment(patch, validate.MERGE), T1)
    assert strip_times(new["attrs"][DC + "p"]) == [{"type": "Property", "value": 1}]


def test_merge_deletes_a_sub_attribute_set_to_null() -> None:
    """In an existing attribute, a Null sub-attribute is removed and the others stay."""
    old = stored({"p": {"value": 1, "s": 2, "t": 3}})
    new = updates.merge(old, fragment({"p": {"value": 1, "s": NULL}}, validate.MERGE), T1)
    assert set(new["attrs"][DC + "p"][0]["attrs"]) == {DC + "t"}


def test_merge_merges_language_maps() -> None:
    """A languageMap merges by language."""
    old = stored({"motto": {"languageMap": {"en": "Fresh", "fr": "Frais"}}})
    new = updates.merge(old, fragment({"motto": {"languageMap": {"de": "Frisch", "en": NULL}}}, validate.MERGE), T1)
    assert new["attrs"][DC + "motto"][0]["languageMap"] == {"fr": "Frais", "de": "Frisch"}


def test_merge_with_a_new_kind_replaces_the_value_members() -> None:
    """A merge that changes the kind drops the old kind's value and unitCode."""
    old = stored({"p": {"value": 1, "unitCode": "CEL"}})
    new = updates.merge(old, fragment({"p": {"object": "urn:x:1"}}, validate.MERGE), T1)
    assert strip_times(new["attrs"][DC + "p"]) == [{"type": "Relationship", "object": "urn:x:1"}]


def test_merge_observed_at_parameter_stamps_merged_attributes_that_had_one() -> None:
    """observedAt=... is set on merged attributes that had observedAt, unless the fragment gives its own."""
    old = stored({"a": {"value": 1, "observedAt": "2020-01-01T00:00:00Z"}, "b": 1, "c": {"value": 1, "observedAt": T0}})
    frag = fragment({"a": 2, "b": 2, "c": {"value": 2, "observedAt": "2021-01-01T00:00:00Z"}}, validate.MERGE)
    new = updates.merge(old, frag, T1, observed_at="2024-05-05T00:00:00Z")
    assert new["attrs"][DC + "a"][0]["observedAt"] == "2024-05-05T00:00:00Z"
    assert "observedAt" not in new["attrs"][DC + "b"][0]
    assert new["attrs"][DC + "c"][0]["observedAt"] == "2021-01-01T00:00:00Z"


def test_merge_scope_and_expires_at() -> None:
    """Merge replaces the scope (the Null removes it) and sets expiresAt."""
    old = stored({"scope": "/a"})
    assert updates.merge(old, fragment({"scope": "/b"}, validate.MERGE), T1)["scope"] == ["/b"]
    assert "scope" not in updates.merge(old, fragment({"scope": NULL}, validate.MERGE), T1)
    expires = updates.merge(old, fragment({"expiresAt": "2030-01-01T00:00:00Z"}, validate.MERGE), T1)
    assert expires["expiresAt"] == "2030-01-01T00:00:00Z"


# ---- partial attribute update ----------------------------------------------------------------------------


def patch(raw: dict[str, Any]) -> Doc:
    return validate.instance("p", raw, TM, validate.PARTIAL)


def test_partial_update_overwrites_only_the_given_members() -> None:
    """PATCH attrs/{attrId}: members present overwrite, everything else (unitCode, sub-attributes) stays."""
    old = stored({"p": {"value": 1, "unitCode": "CEL", "s": 2}})
    new = updates.partial_update(old, DC + "p", patch({"value": 20, "observedAt": "2025-01-02T10:00:00Z"}), T1)
    [inst] = new["attrs"][DC + "p"]
    assert strip_times(inst) == {
        "type": "Property",
        "value": 20,
        "unitCode": "CEL",
        "observedAt": "2025-01-02T10:00:00Z",
        "attrs": {DC + "s": [{"type": "Property", "value": 2}]},
    }
    assert (inst["createdAt"], inst["modifiedAt"], new["modifiedAt"]) == (T0, T1, T1)


def test_partial_update_targets_the_fragment_dataset() -> None:
    """The fragment's datasetId picks the instance to update; the others stay."""
    old = stored({"p": [{"value": 1}, {"value": 2, "datasetId": DS}]})
    new = updates.partial_update(old, DC + "p", patch({"value": 3, "datasetId": DS}), T1)
    assert [i["value"] for i in new["attrs"][DC + "p"]] == [1, 3]


def test_partial_update_with_null_deletes_the_instance() -> None:
    """A Null value deletes the targeted instance (the TS behaviour, Appendix A #6)."""
    old = stored({"p": [{"value": 1}, {"value": 2, "datasetId": DS}]})
    new = updates.partial_update(old, DC + "p", patch({"value": NULL}), T1)
    assert [i.get("datasetId") for i in new["attrs"][DC + "p"]] == [DS]
    gone = updates.partial_update(stored({"p": 1}), DC + "p", patch({"value": NULL}), T1)
    assert DC + "p" not in gone["attrs"]


def test_partial_update_adds_replaces_and_deletes_sub_attributes() -> None:
    """Sub-attributes in the fragment are added or replaced; a Null sub-attribute is deleted."""
    old = stored({"p": {"value": 1, "s": 2, "t": 3}})
    new = updates.partial_update(old, DC + "p", patch({"s": NULL, "t": 4, "u": 5}), T1)
    subs = new["attrs"][DC + "p"][0]["attrs"]
    assert strip_times(subs) == {
        DC + "t": [{"type": "Property", "value": 4}],
        DC + "u": [{"type": "Property", "value": 5}],
    }
    assert subs[DC + "t"][0]["createdAt"] == T0


@pytest.mark.parametrize(
    ("payload", "iri", "raw"),
    [
        ({"p": 1}, DC + "level", {"value": 2}),
        ({"p": {"value": 1, "datasetId": DS}}, DC + "p", {"value": 2}),
        ({"p": 1}, DC + "p", {"value": 2, "datasetId": "urn:ngsi-ld:Dataset:other"}),
    ],
    ids=["unknown attribute", "no default instance", "unknown datasetId"],
)
def test_partial_update_of_a_missing_instance_is_not_found(payload: dict[str, Any], iri: str, raw: Any) -> None:
    """Unknown attribute, no default instance, or unknown datasetId: 404 ResourceNotFound (TS 012_03)."""
    with pytest.raises(ResourceNotFound):
        updates.partial_update(stored(payload), iri, patch(raw), T1)


@pytest.mark.parametrize(
    "raw",
    [{"type": "Relationship", "object": "urn:x:1"}, {"object": "urn:x:1"}, {"languageMap": {"en": "a"}}],
)
def test_partial_update_cannot_change_the_attribute_type(raw: dict[str, Any]) -> None:
    """A fragment of another kind is BadRequestData (TS 012_02_03)."""
    with pytest.raises(BadRequestData):
        updates.partial_update(stored({"p": 1}), DC + "p", patch(raw), T1)


@pytest.mark.parametrize(
    ("payload", "raw"),
    [({"p": {"object": "urn:x:1"}}, {"unitCode": "CEL"}), ({"p": 1}, {"objectType": "Shop"})],
)
def test_partial_update_cannot_add_members_the_kind_prohibits(payload: dict[str, Any], raw: dict[str, Any]) -> None:
    """unitCode on a Relationship or objectType on a Property is invalid here as on create (§1.3): the
    fragment is read as the stored attribute's kind."""
    old = stored(payload)
    kind = old["attrs"][DC + "p"][0]["type"]
    with pytest.raises(BadRequestData):
        updates.partial_update(old, DC + "p", validate.partial_instance("p", raw, TM, kind), T1)


# ---- replace attribute -------------------------------------------------------------------------------


def test_replace_attribute_replaces_the_instance_whole() -> None:
    """PUT attrs/{attrId}: the targeted instance is replaced, its type may change, createdAt is kept."""
    old = stored({"p": [{"value": 1, "unitCode": "CEL"}, {"value": 2, "datasetId": DS}]})
    inst = validate.instance("p", {"type": "Relationship", "object": "urn:x:1"}, TM, validate.REPLACE)
    new = updates.replace_attribute(old, DC + "p", inst, T1)
    first, second = new["attrs"][DC + "p"]
    assert strip_times(first) == {"type": "Relationship", "object": "urn:x:1"}
    assert (first["createdAt"], first["modifiedAt"]) == (T0, T1)
    assert second == old["attrs"][DC + "p"][1]


@pytest.mark.parametrize(
    ("payload", "iri", "raw"),
    [
        ({"p": 1}, DC + "level", {"value": 2}),
        ({"p": {"value": 1, "datasetId": DS}}, DC + "p", {"value": 2}),
        ({"p": 1}, DC + "p", {"value": 2, "datasetId": DS}),
    ],
    ids=["unknown attribute", "no default instance", "unknown datasetId"],
)
def test_replace_attribute_of_a_missing_instance_is_not_found(payload: dict[str, Any], iri: str, raw: Any) -> None:
    """Unknown attribute or instance: 404 ResourceNotFound (§4.11)."""
    inst = validate.instance("p", raw, TM, validate.REPLACE)
    with pytest.raises(ResourceNotFound):
        updates.replace_attribute(stored(payload), iri, inst, T1)


# ---- delete attribute --------------------------------------------------------------------------------


def _multi() -> Doc:
    return stored({"p": [{"value": 1}, {"value": 2, "datasetId": DS}], "level": 1, "scope": "/a"})


def test_delete_attribute_removes_the_default_instance_by_default() -> None:
    """Without datasetId only the default instance goes."""
    new = updates.delete_attribute(_multi(), DC + "p", dataset=None, delete_all=False, now=T1)
    assert [i.get("datasetId") for i in new["attrs"][DC + "p"]] == [DS]
    assert new["modifiedAt"] == T1


def test_delete_attribute_with_dataset_id_removes_that_instance() -> None:
    """With datasetId only that instance goes."""
    new = updates.delete_attribute(_multi(), DC + "p", dataset=DS, delete_all=False, now=T1)
    assert [i.get("datasetId") for i in new["attrs"][DC + "p"]] == [None]


def test_delete_attribute_with_delete_all_removes_every_instance() -> None:
    """deleteAll=true removes the attribute with all its instances."""
    old = _multi()
    new = updates.delete_attribute(old, DC + "p", dataset=None, delete_all=True, now=T1)
    assert set(new["attrs"]) == {DC + "level"}
    assert DC + "p" in old["attrs"]


def test_deleting_the_last_instance_removes_the_attribute() -> None:
    """An attribute left with no instance disappears."""
    new = updates.delete_attribute(_multi(), DC + "level", dataset=None, delete_all=False, now=T1)
    assert DC + "level" not in new["attrs"]


def test_delete_attribute_scope_removes_the_scope() -> None:
    """DELETE attrs/scope removes the scope (TS 013_04); without a scope it is 404."""
    new = updates.delete_attribute(_multi(), SCOPE_IRI, dataset=None, delete_all=False, now=T1)
    assert "scope" not in new
    with pytest.raises(ResourceNotFound):
        updates.delete_attribute(new, SCOPE_IRI, dataset=None, delete_all=False, now=T1)


@pytest.mark.parametrize(
    ("iri", "dataset", "delete_all"),
    [
        (DC + "missing", None, False),
        (DC + "missing", None, True),
        (DC + "p", "urn:ngsi-ld:Dataset:other", False),
        (DC + "level", DS, False),
    ],
)
def test_delete_attribute_of_a_missing_instance_is_not_found(iri: str, dataset: str | None, delete_all: bool) -> None:
    """Unknown attribute or datasetId: 404 ResourceNotFound (TS 013_03)."""
    with pytest.raises(ResourceNotFound):
        updates.delete_attribute(_multi(), iri, dataset=dataset, delete_all=delete_all, now=T1)


def test_no_default_instance_is_not_found() -> None:
    """Deleting the default instance of an attribute that only has dataset instances is 404."""
    old = stored({"p": {"value": 1, "datasetId": DS}})
    with pytest.raises(ResourceNotFound):
        updates.delete_attribute(old, DC + "p", dataset=None, delete_all=False, now=T1)
