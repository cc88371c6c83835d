"""NGSI-LD payload rules: client JSON (normalized or concise) -> an expanded fragment, or BadRequestData."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ngsild import validate
from ngsild.errors import BadRequestData
from ngsild.jsonld import CORE_TERM_MAP, compile_term_map
from ngsild.model import NGSI_LD, NON_REIFIED_TERMS, NULL, VALUE_MEMBER, AttrKind
from ngsild.validate import APPEND, CREATE, MERGE, PARTIAL, REPLACE, UPDATE, Rules
from tests.strategies import entities, every_kind_entity, geometries, heavy, json_values, names

TM = CORE_TERM_MAP
DC = NGSI_LD + "default-context/"
EX = "http://example.org/"
USER_TM = compile_term_map([{"ex": EX, "speed": "ex:speed", "Car": "ex:Car", "fast": "ex:fast"}])
POINT = {"type": "Point", "coordinates": [2.35, 48.85]}
ID = "urn:ngsi-ld:Shop:42"
NULL_RULES = [UPDATE, MERGE, PARTIAL]
NO_NULL_RULES = [CREATE, REPLACE, APPEND]


def attrs_of(payload: dict[str, Any], tm: Any = TM, rules: Rules = CREATE) -> dict[str, list[dict[str, Any]]]:
    return validate.entity({"id": ID, "type": "Shop", **payload}, tm, rules)["attrs"]


def one(raw: Any, rules: Rules = CREATE, tm: Any = TM) -> dict[str, Any]:
    """The single instance of attribute ``p`` validated from ``raw``."""
    insts = attrs_of({"p": raw}, tm, rules)[DC + "p"]
    assert len(insts) == 1
    return insts[0]


def rejects(raw: Any, rules: Rules = CREATE) -> None:
    with pytest.raises(BadRequestData):
        attrs_of({"p": raw}, TM, rules)


# ---- entities ----------------------------------------------------------------------------------------


def test_every_kind_in_normalized_form_is_stored_expanded() -> None:
    """The §1.3 example: names and types become IRIs; every kind keeps its value member and metadata."""
    out = validate.entity(every_kind_entity(), TM, CREATE)
    assert out["id"] == ID
    assert out["type"] == [DC + "Shop"]
    attrs = out["attrs"]
    assert attrs[DC + "name"] == [{"type": "Property", "value": "Corner shop", "observedAt": "2025-01-02T10:00:00Z"}]
    assert attrs[DC + "footfall"] == [
        {
            "type": "Property",
            "value": 311,
            "unitCode": "C62",
            "attrs": {DC + "measuredBy": [{"type": "Relationship", "object": "urn:ngsi-ld:Sensor:7"}]},
        }
    ]
    assert attrs[NGSI_LD + "location"] == [{"type": "GeoProperty", "value": POINT}]
    assert attrs[DC + "motto"] == [{"type": "LanguageProperty", "languageMap": {"en": "Fresh", "fr": "Frais"}}]
    assert attrs[DC + "category"] == [{"type": "VocabProperty", "vocab": DC + "grocery"}]
    assert attrs[DC + "rawConfig"] == [{"type": "JsonProperty", "json": {"id": "not-an-iri", "value": 3}}]
    assert attrs[DC + "openDays"] == [{"type": "ListProperty", "valueList": ["Mon", "Tue", "Sat"]}]
    assert attrs[DC + "owner"] == [{"type": "Relationship", "object": "urn:ngsi-ld:Person:9"}]
    assert attrs[DC + "suppliers"] == [
        {"type": "ListRelationship", "objectList": ["urn:ngsi-ld:Org:1", "urn:ngsi-ld:Org:2"]}
    ]
    assert attrs[DC + "temperature"] == [
        {"type": "Property", "value": 20, "unitCode": "CEL"},
        {"type": "Property", "value": 21, "datasetId": "urn:ngsi-ld:Dataset:b"},
    ]


@heavy
@given(entities())
def test_generated_entities_are_valid_and_left_untouched(payload: dict[str, Any]) -> None:
    """Every generated normalized entity validates; the payload is not mutated; every key is an IRI."""
    before = copy.deepcopy(payload)
    out = validate.entity(payload, TM, CREATE)
    assert payload == before
    assert out["id"] == payload["id"]
    assert all(":" in iri for iri in out["attrs"])
    assert all(inst["type"] in {k.value for k in AttrKind} for insts in out["attrs"].values() for inst in insts)


@heavy
@given(entities())
def test_validation_is_the_same_for_every_write_rule_without_nulls(payload: dict[str, Any]) -> None:
    """A null-free body means the same thing to create, replace, append, update and merge."""
    created = validate.entity(payload, TM, CREATE)
    for rules in (REPLACE, APPEND, UPDATE, MERGE):
        assert validate.entity(payload, TM, rules) == created


def test_user_context_expands_names_types_and_vocab() -> None:
    """Names, entity types and vocab values expand with the request's context."""
    out = validate.entity(
        {"id": ID, "type": "Car", "speed": {"type": "VocabProperty", "vocab": "fast"}}, USER_TM, CREATE
    )
    assert out["type"] == [EX + "Car"]
    assert out["attrs"] == {EX + "speed": [{"type": "VocabProperty", "vocab": EX + "fast"}]}


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "Shop"},
        {"id": ID},
        {"id": "not a uri", "type": "Shop"},
        {"id": "thisisaninvaliduri", "type": "Shop"},
        {"id": None, "type": "Shop"},
        {"id": ID, "@id": ID, "type": "Shop"},
        {"id": ID, "type": []},
        {"id": ID, "type": "Sh op"},
        {"id": ID, "type": ["Shop", 3]},
        {"id": ID, "type": None},
    ],
)
def test_create_needs_a_uri_id_and_valid_types(payload: dict[str, Any]) -> None:
    """Create needs 'id' (a URI, given once) and a type name or non-empty list of them."""
    with pytest.raises(BadRequestData):
        validate.entity(payload, TM, CREATE)


@pytest.mark.parametrize("payload", [[], "x", None, 3])
def test_a_payload_that_is_not_an_object_is_rejected(payload: Any) -> None:
    """The body must be a JSON object."""
    with pytest.raises(BadRequestData):
        validate.entity(payload, TM, CREATE)


def test_json_ld_id_and_type_keywords_are_accepted() -> None:
    """'@id' and '@type' may replace 'id' and 'type'; duplicate types collapse."""
    out = validate.entity({"@id": ID, "@type": ["Shop", "Shop", DC + "Shop", "Store"]}, TM, CREATE)
    assert out == {"id": ID, "type": [DC + "Shop", DC + "Store"], "attrs": {}}


@pytest.mark.parametrize("rules", [REPLACE, APPEND, UPDATE, MERGE])
def test_fragments_need_neither_id_nor_type(rules: Rules) -> None:
    """Replace, append, update and merge bodies may omit id and type."""
    assert validate.entity({"p": 1}, TM, rules) == {"attrs": {DC + "p": [{"type": "Property", "value": 1}]}}


def test_client_sent_system_times_are_ignored() -> None:
    """createdAt/modifiedAt/deletedAt (and instanceId) from the client are ignored everywhere (§5.2.5)."""
    stamps = {"createdAt": "2000-01-01T00:00:00Z", "modifiedAt": "2000-01-01T00:00:00Z"}
    out = validate.entity(
        {
            "id": ID,
            "type": "Shop",
            **stamps,
            "deletedAt": "2000-01-01T00:00:00Z",
            "p": {
                "type": "Property",
                "value": 1,
                **stamps,
                "instanceId": "urn:x",
                "s": {"value": 2, **stamps},
            },
        },
        TM,
        CREATE,
    )
    assert out == {
        "id": ID,
        "type": [DC + "Shop"],
        "attrs": {
            DC + "p": [{"type": "Property", "value": 1, "attrs": {DC + "s": [{"type": "Property", "value": 2}]}}]
        },
    }


def test_entity_expires_at_must_be_a_datetime() -> None:
    """Entity expiresAt is kept when it is a DateTime and rejected otherwise."""
    ok = validate.entity({"id": ID, "type": "Shop", "expiresAt": "2030-01-01T00:00:00Z"}, TM, CREATE)
    assert ok["expiresAt"] == "2030-01-01T00:00:00Z"
    with pytest.raises(BadRequestData):
        validate.entity({"id": ID, "type": "Shop", "expiresAt": "2030-01-01"}, TM, CREATE)


# ---- scope -------------------------------------------------------------------------------------------


def test_scope_becomes_a_deduplicated_list() -> None:
    """A scope string or array becomes a list without duplicates, order kept."""
    assert validate.entity({"scope": "/a/b"}, TM, UPDATE)["scope"] == ["/a/b"]
    assert validate.entity({"scope": ["/b", "a", "/b"]}, TM, UPDATE)["scope"] == ["/b", "a"]


@pytest.mark.parametrize("bad", ["", "/", "a//b", "/a/", "/1a", "/a b", 3, ["/a", None], "ex:a"])
def test_scope_outside_the_grammar_is_rejected(bad: Any) -> None:
    """Scopes follow [/]level(/level)* (§1.8)."""
    with pytest.raises(BadRequestData):
        validate.entity({"scope": bad}, TM, UPDATE)


def test_null_scope_is_allowed_only_where_nulls_are() -> None:
    """scope = NGSI-LD Null (delete the scope) is accepted by update and merge only."""
    for rules in (UPDATE, MERGE):
        assert validate.entity({"scope": NULL}, TM, rules)["scope"] == NULL
    for rules in NO_NULL_RULES:
        with pytest.raises(BadRequestData):
            validate.entity({"id": ID, "type": "Shop", "scope": NULL}, TM, rules)


# ---- names -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["@invalid", "1abc", "a-b", "a b", "a.b", "_x", ""])
def test_attribute_names_outside_the_grammar_are_rejected(name: str) -> None:
    """Attribute names follow Annex A (TS 055_03_03 uses '@invalid')."""
    with pytest.raises(BadRequestData):
        attrs_of({name: 1})


@pytest.mark.parametrize("name", sorted(NON_REIFIED_TERMS - {"id", "type", "scope", "@context", "expiresAt"}))
def test_reserved_core_terms_cannot_be_attribute_names(name: str) -> None:
    """Non-reified core terms (datasetId, observedAt, value, object, lang, ...) are not attribute names."""
    with pytest.raises(BadRequestData):
        validate.attribute_name(name, TM)


@pytest.mark.parametrize(
    "name",
    ["ngsi-ld:observedAt", NGSI_LD + "datasetId", NGSI_LD + "hasValue", "ngsi-ld:hasObject", "scope", "id"],
)
def test_names_expanding_to_reserved_iris_are_rejected(name: str) -> None:
    """A prefixed or full IRI spelling of a reserved term is reserved too (PUT attrs/scope -> 400)."""
    with pytest.raises(BadRequestData):
        validate.attribute_name(name, TM)


@pytest.mark.parametrize(
    ("name", "iri"),
    [("temperature", DC + "temperature"), ("location", NGSI_LD + "location"), (EX + "x", EX + "x")],
)
def test_names_expand_to_iris(name: str, iri: str) -> None:
    """Short names expand through the context (default vocab, core terms); full IRIs stay as they are."""
    assert validate.attribute_name(name, TM) == iri


def test_a_name_outside_the_grammar_is_accepted_when_the_context_defines_it() -> None:
    """``N-TOT`` (a Smart Data Models attribute) is a term of the model's context, so it is a
    deliberate mapping to an IRI; without the definition it is refused."""
    tm = compile_term_map([{"N-TOT": EX + "nitrogenTotal"}])
    assert validate.attribute_name("N-TOT", tm) == EX + "nitrogenTotal"
    with pytest.raises(BadRequestData, match="not a valid NGSI-LD attribute name"):
        validate.attribute_name("N-TOT", TM)
    with pytest.raises(BadRequestData, match="reserved"):  # a defined term still may not alias a keyword
        validate.attribute_name("ident", compile_term_map([{"ident": "@id"}]))


def test_unicode_names_are_accepted() -> None:
    """Names may use any Unicode letters and numbers."""
    assert attrs_of({"température": 1, "温度2": 2}).keys() == {DC + "température", DC + "温度2"}


def test_invalid_sub_attribute_names_are_rejected() -> None:
    """Sub-attribute names follow the same grammar and may not be JSON-LD keywords."""
    rejects({"value": 1, "@foo": 2})
    rejects({"value": 1, "a-b": {"value": 2}})


# ---- concise inference (§2.2) ------------------------------------------------------------------------

INFERENCE: list[tuple[Any, AttrKind]] = [
    (3, AttrKind.PROPERTY),
    ("text", AttrKind.PROPERTY),
    (True, AttrKind.PROPERTY),
    ([1, 2], AttrKind.PROPERTY),
    ({"a": 1}, AttrKind.PROPERTY),
    ({"value": 3}, AttrKind.PROPERTY),
    ({"value": POINT}, AttrKind.GEO_PROPERTY),
    (POINT, AttrKind.GEO_PROPERTY),
    ({"object": "urn:x:1"}, AttrKind.RELATIONSHIP),
    ({"languageMap": {"en": "a"}}, AttrKind.LANGUAGE_PROPERTY),
    ({"vocab": "word"}, AttrKind.VOCAB_PROPERTY),
    ({"json": {"k": None}}, AttrKind.JSON_PROPERTY),
    ({"valueList": [1, 2]}, AttrKind.LIST_PROPERTY),
    ({"objectList": ["urn:x:1"]}, AttrKind.LIST_RELATIONSHIP),
    ({"type": "Relationship", "object": "urn:x:1"}, AttrKind.RELATIONSHIP),
    ({"type": NGSI_LD + "Property", "value": 1}, AttrKind.PROPERTY),
]


@pytest.mark.parametrize(("raw", "kind"), INFERENCE, ids=[repr(r)[:40] for r, _ in INFERENCE])
def test_concise_input_infers_the_kind(raw: Any, kind: AttrKind) -> None:
    """The §2.2 table: the value member (or a bare geometry, or any other bare value) decides the kind."""
    assert one(raw)["type"] == kind.value


def test_a_bare_value_becomes_the_property_value() -> None:
    """A bare JSON value is the whole value of a Property (object keys expanded)."""
    assert one({"a": [1, {"b": 2}]}) == {"type": "Property", "value": {DC + "a": [1, {DC + "b": 2}]}}


def test_concise_sub_attributes_are_inferred_too() -> None:
    """Concise inference applies to sub-attributes."""
    assert one({"value": 1, "s": "urn:not-a-relationship", "g": POINT, "r": {"object": "urn:x:1"}}) == {
        "type": "Property",
        "value": 1,
        "attrs": {
            DC + "s": [{"type": "Property", "value": "urn:not-a-relationship"}],
            DC + "g": [{"type": "GeoProperty", "value": POINT}],
            DC + "r": [{"type": "Relationship", "object": "urn:x:1"}],
        },
    }


def test_an_array_of_instances_is_a_multi_attribute() -> None:
    """An array whose items are all instance objects is a multi-attribute; any other array is a value."""
    multi = attrs_of({"p": [{"value": 1}, {"value": 2, "datasetId": "urn:ds:2"}]})[DC + "p"]
    assert [i.get("datasetId") for i in multi] == [None, "urn:ds:2"]
    assert one([1, {"value": 2}])["value"] == [1, {NGSI_LD + "hasValue": 2}]


@pytest.mark.parametrize(
    "raw", [{"type": "Foo", "x": 1}, {"type": "GeometryCollection", "geometries": []}, {"type": 3}]
)
def test_an_unknown_attribute_type_is_rejected(raw: Any) -> None:
    """An object with a 'type' is normalized: its type must be an attribute kind (or a geometry type)."""
    rejects(raw)


@given(geometries)
def test_bare_valid_geometries_are_geo_properties(geometry: dict[str, Any]) -> None:
    """Any valid bare geometry is read as a GeoProperty holding it."""
    assert one(geometry) == {"type": "GeoProperty", "value": geometry}


@given(json_values)
def test_bare_json_values_are_properties(value: Any) -> None:
    """Any other bare value (keys are plain names) is a Property."""
    assert one(value)["type"] == "Property"


# ---- prohibited members ------------------------------------------------------------------------------

_SAMPLE_VALUE = {
    "value": 1,
    "object": "urn:x:1",
    "languageMap": {"en": "a"},
    "vocab": "w",
    "json": {"a": 1},
    "valueList": [1],
    "objectList": ["urn:x:1"],
}
_NORMALIZED = {kind: {"type": kind.value, member: _SAMPLE_VALUE[member]} for kind, member in VALUE_MEMBER.items()}
_NORMALIZED[AttrKind.GEO_PROPERTY] = {"type": "GeoProperty", "value": POINT}


@pytest.mark.parametrize("kind", list(AttrKind))
def test_each_kind_needs_its_own_value_member_and_no_other(kind: AttrKind) -> None:
    """A kind without its value member, or with another kind's value member, is invalid (§1.3)."""
    good = _NORMALIZED[kind]
    assert one(good)["type"] == kind.value
    member = VALUE_MEMBER[kind]
    rejects({k: v for k, v in good.items() if k != member})
    for other, sample in _SAMPLE_VALUE.items():
        if other != member:
            rejects({**good, other: sample})


@pytest.mark.parametrize(
    "kind",
    [
        AttrKind.RELATIONSHIP,
        AttrKind.LANGUAGE_PROPERTY,
        AttrKind.VOCAB_PROPERTY,
        AttrKind.JSON_PROPERTY,
        AttrKind.LIST_RELATIONSHIP,
    ],
)
def test_only_properties_carry_unit_code(kind: AttrKind) -> None:
    """Relationships, LanguageProperty, VocabProperty and JsonProperty MUST NOT have unitCode."""
    rejects({**_NORMALIZED[kind], "unitCode": "CEL"})


@pytest.mark.parametrize("kind", [AttrKind.PROPERTY, AttrKind.LIST_PROPERTY])
def test_properties_and_list_properties_carry_unit_code(kind: AttrKind) -> None:
    """unitCode is kept on a Property or ListProperty, and must be a string."""
    assert one({**_NORMALIZED[kind], "unitCode": "CEL"})["unitCode"] == "CEL"
    rejects({**_NORMALIZED[kind], "unitCode": 3})


@pytest.mark.parametrize("kind", [k for k in AttrKind if k not in (AttrKind.RELATIONSHIP, AttrKind.LIST_RELATIONSHIP)])
def test_only_relationships_carry_object_type(kind: AttrKind) -> None:
    """objectType belongs to the Relationship family."""
    rejects({**_NORMALIZED[kind], "objectType": "Shop"})


def test_object_type_and_value_type_are_expanded() -> None:
    """objectType (string or list) and valueType are type-coerced to IRIs."""
    assert one({"object": "urn:x:1", "objectType": "Shop"})["objectType"] == DC + "Shop"
    assert one({"object": "urn:x:1", "objectType": ["Shop"]})["objectType"] == [DC + "Shop"]
    assert one({"value": "1", "valueType": "ex:int"}, tm=USER_TM)["valueType"] == EX + "int"
    rejects({"object": "urn:x:1", "objectType": []})
    rejects({"object": "urn:x:1", "objectType": "not a name"})
    rejects({"value": 1, "valueType": 3})


@pytest.mark.parametrize("member", ["entity", "entityList", "lang"])
def test_output_only_members_are_not_sub_attributes(member: str) -> None:
    """entity, entityList and lang are output-only: ignored on input, never read as sub-attributes."""
    assert one({"object": "urn:x:1", member: {"id": "urn:x:1"}}) == {
        "type": "Relationship",
        "object": "urn:x:1",
    }


# ---- NGSI-LD Null ------------------------------------------------------------------------------------

NULL_FORMS: list[Any] = [
    NULL,
    {"type": "Property", "value": NULL},
    {"value": NULL},
    {"type": "Relationship", "object": NULL},
    {"type": "GeoProperty", "value": NULL},
    {"type": "LanguageProperty", "languageMap": {"@none": NULL}},
    {"type": "VocabProperty", "vocab": NULL},
    {"type": "JsonProperty", "json": NULL},
    {"type": "ListProperty", "valueList": [NULL]},
    {"type": "ListRelationship", "objectList": [NULL]},
    {"value": NULL, "datasetId": "urn:ds:1"},
]


@pytest.mark.parametrize("raw", NULL_FORMS, ids=[repr(r)[:50] for r in NULL_FORMS])
def test_ngsi_ld_null_is_accepted_in_update_and_merge_as_a_deletion(raw: Any) -> None:
    """Every kind's null encoding (§1.10) is kept as a 'delete this instance' marker in update and merge."""
    for rules in (UPDATE, MERGE):
        inst = one(raw, rules)
        assert validate.is_null_instance(inst)


@pytest.mark.parametrize("rules", NO_NULL_RULES)
@pytest.mark.parametrize("raw", NULL_FORMS, ids=[repr(r)[:50] for r in NULL_FORMS])
def test_ngsi_ld_null_is_rejected_in_create_replace_and_append(raw: Any, rules: Rules) -> None:
    """Create, replace and append do not take nulls (§1.10)."""
    rejects(raw, rules)


@pytest.mark.parametrize("rules", [CREATE, REPLACE, APPEND, UPDATE, MERGE])
def test_json_null_as_an_attribute_or_value_is_rejected(rules: Rules) -> None:
    """JSON null as an attribute, a sub-attribute or a value member is never accepted."""
    rejects(None, rules)
    rejects({"type": "Property", "value": None}, rules)
    rejects({"value": 1, "s": None}, rules)


@pytest.mark.parametrize("rules", [CREATE, REPLACE, APPEND, UPDATE])
def test_json_null_inside_a_value_is_rejected_except_in_merge(rules: Rules) -> None:
    """A null key or item inside a Property value or valueList is invalid outside merge (§5.5.4)."""
    rejects({"value": {"a": None}}, rules)
    rejects({"valueList": [1, None]}, rules)
    assert one({"value": {"a": None}}, MERGE)["value"] == {DC + "a": None}


def test_ngsi_ld_null_inside_a_value_is_kept_only_in_merge() -> None:
    """A nested NGSI-LD Null removes a key in merge; elsewhere it is invalid (§4.6)."""
    assert one({"value": {"country": NULL}}, MERGE)["value"] == {DC + "country": NULL}
    rejects({"value": {"country": NULL}}, CREATE)


def test_null_sub_attributes_are_deletion_markers_in_update() -> None:
    """A sub-attribute set to the NGSI-LD Null is a deletion marker where nulls are allowed."""
    inst = one({"value": 1, "s": NULL}, UPDATE)
    assert validate.is_null_instance(inst["attrs"][DC + "s"][0])
    rejects({"value": 1, "s": NULL}, CREATE)


def test_a_json_null_inside_a_json_property_is_data() -> None:
    """A JsonProperty holds raw JSON: its nulls are content, not deletions."""
    assert one({"json": {"a": None, "b": [None]}})["json"] == {"a": None, "b": [None]}


def test_ordinary_instances_are_not_null_instances() -> None:
    """Only the value member's null encoding marks a deletion."""
    assert not validate.is_null_instance({"type": "Property", "value": "urn:ngsi-ld:nullish"})
    assert not validate.is_null_instance({"type": "ListProperty", "valueList": [NULL, NULL]})
    assert not validate.is_null_instance({"type": "LanguageProperty", "languageMap": {"en": NULL}})


def test_a_null_object_list_item_is_rejected_on_create() -> None:
    """objectList [{'object': 'urn:ngsi-ld:null'}] is the NGSI-LD Null in disguise: not allowed on create."""
    rejects({"type": "ListRelationship", "objectList": [{"object": NULL}]})


# ---- datasetId ---------------------------------------------------------------------------------------


def test_dataset_id_none_is_the_default_instance() -> None:
    """datasetId '@none' denotes the default instance, stored without datasetId."""
    assert one({"value": 1, "datasetId": "@none"}) == {"type": "Property", "value": 1}


@pytest.mark.parametrize(
    "raw",
    [
        [{"value": 1}, {"value": 2}],
        [{"value": 1}, {"value": 2, "datasetId": "@none"}],
        [{"value": 1, "datasetId": "urn:ds:1"}, {"object": "urn:x:1", "datasetId": "urn:ds:1"}],
        {"value": 1, "s": [{"value": 1}, {"value": 2}]},
    ],
)
def test_an_instance_appears_at_most_once_per_attribute(raw: Any) -> None:
    """At most one default instance and one per datasetId, in attributes and sub-attributes (§1.6)."""
    rejects(raw)


def test_two_spellings_of_one_attribute_share_the_default_instance() -> None:
    """'name' and its full IRI are the same attribute: two default instances are rejected."""
    with pytest.raises(BadRequestData):
        attrs_of({"name": 1, DC + "name": 2})
    merged = attrs_of({"name": 1, DC + "name": {"value": 2, "datasetId": "urn:ds:2"}})
    assert len(merged[DC + "name"]) == 2


@pytest.mark.parametrize("dataset", ["not a uri", 3, NULL, "", None])
def test_dataset_ids_must_be_uris(dataset: Any) -> None:
    """A datasetId is a URI; it cannot be deleted with the NGSI-LD Null (§1.10)."""
    rejects({"value": 1, "datasetId": dataset}, UPDATE)


# ---- DateTimes -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("member", ["observedAt", "expiresAt"])
@pytest.mark.parametrize("bad", ["2025-01-02", "2025-01-02T10:00:00+01:00", "yesterday", 1735812000, None])
def test_attribute_datetimes_must_be_utc_datetimes(member: str, bad: Any) -> None:
    """observedAt and expiresAt are YYYY-MM-DDThh:mm:ss[.f]Z."""
    rejects({"value": 1, member: bad})


def test_a_decimal_comma_is_accepted_and_stored_as_a_point() -> None:
    """A decimal comma is accepted in requests (§1.7) and stored with a point."""
    assert one({"value": 1, "observedAt": "2025-01-02T10:00:00,5Z"})["observedAt"] == "2025-01-02T10:00:00.5Z"


# ---- kinds: value rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"type": "GeometryCollection", "geometries": []},
        {"type": "Point", "coordinates": [200, 0]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
        {"type": "Point"},
        "not json",
        '{"type": "Point", "coordinates": [0, 95]}',
        [1, 2],
    ],
)
def test_geo_properties_need_a_valid_geometry(value: Any) -> None:
    """A GeoProperty value is a valid geometry (or a JSON string holding one), never a GeometryCollection."""
    rejects({"type": "GeoProperty", "value": value})


def test_geojson_in_a_string_is_parsed() -> None:
    """A GeoProperty value may be a string holding GeoJSON; it is stored parsed (§1.9)."""
    assert one({"type": "GeoProperty", "value": '{"type": "Point", "coordinates": [2.35, 48.85]}'})["value"] == POINT


@pytest.mark.parametrize("obj", ["not a uri", [], ["urn:x:1", "no"], 3, {"id": "urn:x:1"}])
def test_relationship_objects_are_uris(obj: Any) -> None:
    """A Relationship object is a URI or a non-empty array of URIs."""
    rejects({"type": "Relationship", "object": obj})


def test_relationship_objects_may_be_arrays() -> None:
    """An array of URIs is a valid Relationship object."""
    assert one({"object": ["urn:x:1", "urn:x:2"]})["object"] == ["urn:x:1", "urn:x:2"]


@pytest.mark.parametrize(
    "language_map", [{}, {"en_US": "a"}, {"en": 3}, {"en": ["a", 1]}, {"en": None}, "text", ["en"]]
)
def test_language_maps_are_tags_to_strings(language_map: Any) -> None:
    """A languageMap is a non-empty object from language tags to strings or arrays of strings."""
    rejects({"type": "LanguageProperty", "languageMap": language_map})


def test_language_maps_accept_none_and_string_arrays() -> None:
    """'@none' is a valid key and arrays of strings are valid values."""
    language_map = {"@none": "x", "fr-CH": ["a", "b"]}
    assert one({"languageMap": language_map})["languageMap"] == language_map


def test_language_properties_reject_value() -> None:
    """A LanguageProperty has no 'value' (§1.3)."""
    rejects({"type": "LanguageProperty", "languageMap": {"en": "a"}, "value": "a"})


@pytest.mark.parametrize("vocab", ["", [], ["a", ""], 3, ["a", 3], {"a": 1}])
def test_vocab_is_a_string_or_array_of_strings(vocab: Any) -> None:
    """vocab is a non-empty string or a non-empty array of them."""
    rejects({"type": "VocabProperty", "vocab": vocab})


def test_vocab_values_are_expanded_like_names() -> None:
    """vocab values are type-coerced to IRIs (§1.3)."""
    assert one({"vocab": ["fast", "ex:slow", "urn:x:1"]}, tm=USER_TM)["vocab"] == [
        EX + "fast",
        EX + "slow",
        "urn:x:1",
    ]


@pytest.mark.parametrize("json", [3, "text", True])
def test_json_properties_hold_objects_or_arrays(json: Any) -> None:
    """A JsonProperty json member is an object or an array."""
    rejects({"type": "JsonProperty", "json": json})


@given(st.dictionaries(st.text(max_size=5), st.one_of(st.none(), st.integers(), st.text(max_size=3)), max_size=4))
def test_json_properties_are_kept_verbatim(json: dict[str, Any]) -> None:
    """A JsonProperty is never expanded: keys such as 'id' or 'type' stay as sent."""
    assert one({"type": "JsonProperty", "json": json})["json"] == json


@pytest.mark.parametrize("value_list", [1, "a", {"a": 1}])
def test_value_lists_are_arrays(value_list: Any) -> None:
    """valueList must be an array."""
    rejects({"type": "ListProperty", "valueList": value_list})


@pytest.mark.parametrize("object_list", ["urn:x:1", ["no uri"], [{"object": "no"}], [{"id": "urn:x:1"}], [3]])
def test_object_lists_are_arrays_of_uris(object_list: Any) -> None:
    """objectList holds URIs or {'object': URI} items."""
    rejects({"type": "ListRelationship", "objectList": object_list})


def test_object_list_items_are_stored_as_uris() -> None:
    """Both objectList spellings store the plain URIs, in order."""
    mixed = [{"object": "urn:x:2"}, "urn:x:1"]
    assert one({"objectList": mixed})["objectList"] == ["urn:x:2", "urn:x:1"]


def test_property_values_keep_json_ld_keywords() -> None:
    """Keys of a Property value expand, except JSON-LD keywords (typed values, Annex C.6)."""
    value = {"@type": "DateTime", "@value": "2025-01-02T10:00:00Z"}
    assert one({"value": value})["value"] == value


# ---- partial fragments ---------------------------------------------------------------------------------


def test_partial_fragments_need_no_value_member() -> None:
    """An attribute fragment for PATCH attrs/{attrId} may hold only metadata."""
    assert validate.instance("p", {"observedAt": "2025-01-02T10:00:00Z"}, TM, PARTIAL) == {
        "observedAt": "2025-01-02T10:00:00Z"
    }
    assert validate.instance("p", {"value": 20}, TM, PARTIAL) == {"type": "Property", "value": 20}


def test_an_empty_partial_fragment_is_rejected() -> None:
    """PATCH attrs/{attrId} with {} (or a type alone) is BadRequestData (TS 012_02_04)."""
    for fragment in ({}, {"type": "Property"}):
        with pytest.raises(BadRequestData):
            validate.partial_instance("p", fragment, TM, "Property")


# ---- merge bodies read against the stored entity ---------------------------------------------------------


def _stored() -> dict[str, Any]:
    return _STORED


def _make_stored() -> dict[str, Any]:
    from ngsild.updates import create

    payload = {
        "id": ID,
        "type": "Shop",
        "temp": {"type": "Property", "value": 1, "unitCode": "CEL"},
        "owner": {"type": "Relationship", "object": "urn:x:1"},
        "motto": {"type": "LanguageProperty", "languageMap": {"en": "Fresh", "fr": "Frais"}},
        "category": {"type": "VocabProperty", "vocab": "grocery"},
        "config": {"type": "JsonProperty", "json": {"a": 1}},
        "days": {"type": "ListProperty", "valueList": ["Mon"]},
        "suppliers": {"type": "ListRelationship", "objectList": ["urn:x:1"]},
        "location": {"type": "GeoProperty", "value": POINT},
    }
    return create(validate.entity(payload, TM, CREATE), "2025-01-01T00:00:00.000000Z")


_STORED = _make_stored()


def _key_values(payload: dict[str, Any], lang: str | None = None) -> dict[str, list[dict[str, Any]]]:
    return validate.merge_fragment(payload, TM, _stored(), simplified=True, lang=lang)["attrs"]


def test_key_values_merge_keeps_the_stored_kinds() -> None:
    """In a keyValues merge body each bare value takes the kind of the attribute it lands on (§2.3)."""
    line = {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}
    attrs = _key_values(
        {
            "temp": 2,
            "owner": "urn:x:2",
            "category": "bakery",
            "config": {"b": 2},
            "days": ["Tue"],
            "suppliers": ["urn:x:3"],
            "location": line,
            "fresh": "urn:x:9",
        }
    )
    assert attrs == {
        DC + "temp": [{"type": "Property", "value": 2}],
        DC + "owner": [{"type": "Relationship", "object": "urn:x:2"}],
        DC + "category": [{"type": "VocabProperty", "vocab": DC + "bakery"}],
        DC + "config": [{"type": "JsonProperty", "json": {"b": 2}}],
        DC + "days": [{"type": "ListProperty", "valueList": ["Tue"]}],
        DC + "suppliers": [{"type": "ListRelationship", "objectList": ["urn:x:3"]}],
        NGSI_LD + "location": [{"type": "GeoProperty", "value": line}],
        DC + "fresh": [{"type": "Property", "value": "urn:x:9"}],
    }


def test_key_values_merge_of_a_language_property_sets_one_language() -> None:
    """A plain string for a LanguageProperty replaces the 'lang' entry, or '@none' without lang."""
    assert _key_values({"motto": "Frisch"}, lang="de") == {
        DC + "motto": [{"type": "LanguageProperty", "languageMap": {"de": "Frisch"}}]
    }
    assert _key_values({"motto": "Fresh!"}) == {
        DC + "motto": [{"type": "LanguageProperty", "languageMap": {"@none": "Fresh!"}}]
    }
    assert _key_values({"motto": {"languageMap": {"nl": "Vers"}}}) == {
        DC + "motto": [{"type": "LanguageProperty", "languageMap": {"nl": "Vers"}}]
    }


def test_key_values_merge_passes_nulls_through() -> None:
    """An NGSI-LD Null in a keyValues merge still deletes the attribute."""
    assert validate.is_null_instance(_key_values({"owner": NULL})[DC + "owner"][0])


def test_key_values_merge_cannot_change_a_stored_type() -> None:
    """Trying to change an existing attribute's type in a keyValues merge is BadRequestData (§2.3)."""
    with pytest.raises(BadRequestData):
        _key_values({"temp": {"type": "Relationship", "object": "urn:x:2"}})


def test_lang_merge_of_a_normalized_body_sets_one_language() -> None:
    """With lang=xx (not keyValues), a plain string for a stored LanguageProperty sets only that language."""
    attrs = validate.merge_fragment({"motto": "Frais!"}, TM, _stored(), simplified=False, lang="fr")["attrs"]
    assert attrs == {DC + "motto": [{"type": "LanguageProperty", "languageMap": {"fr": "Frais!"}}]}


@given(names, json_values)
def test_key_values_merge_of_a_new_attribute_is_read_as_concise(name: str, value: Any) -> None:
    """A keyValues value for an attribute the entity lacks is inferred exactly as concise input."""
    if validate.attribute_name(name, TM) in _stored()["attrs"]:
        return
    assert validate.merge_fragment({name: value}, TM, _stored(), simplified=True, lang=None) == validate.entity(
        {name: value}, TM, MERGE
    )
