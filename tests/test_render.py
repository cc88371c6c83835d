"""Stored documents -> response bodies: normalized, concise and simplified forms, sysAttrs, pick/omit,
the lang and datasetId filters, and GeoJSON Features."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ngsild import render, updates, validate
from ngsild.jsonld import CORE_TERM_MAP, compile_term_map
from ngsild.model import NGSI_LD, Doc
from ngsild.render import Form, LangPreference, RenderOptions
from tests.strategies import entities, every_kind_entity, geometries, heavy, language_maps

TM = CORE_TERM_MAP
DC = NGSI_LD + "default-context/"
EX = "http://example.org/"
T0 = "2025-01-01T00:00:00.000000Z"
ID = "urn:ngsi-ld:Shop:42"
DS = "urn:ngsi-ld:Dataset:b"
POINT = {"type": "Point", "coordinates": [2.35, 48.85]}
NORMALIZED = RenderOptions()
CONCISE = RenderOptions(form=Form.CONCISE)
SIMPLIFIED = RenderOptions(form=Form.SIMPLIFIED)


def stored(payload: dict[str, Any], tm: Any = TM) -> Doc:
    return updates.create(validate.entity({"id": ID, "type": "Shop", **payload}, tm, validate.CREATE), T0)


def rendered(payload: dict[str, Any], opts: RenderOptions = NORMALIZED) -> dict[str, Any]:
    return render.entity(stored(payload), TM, opts)


def walk_instances(body: Any) -> list[dict[str, Any]]:
    """Every normalized attribute instance in a rendered entity (attributes and sub-attributes)."""
    out = []
    for key, value in body.items():
        if key in ("id", "type", "scope", "createdAt", "modifiedAt", "expiresAt"):
            continue
        for inst in value if isinstance(value, list) else [value]:
            if isinstance(inst, dict) and "type" in inst:
                out.append(inst)
                out.extend(walk_instances({k: v for k, v in inst.items() if k not in _NON_SUB}))
    return out


_NON_SUB = {
    "type", "value", "object", "languageMap", "vocab", "json", "valueList", "objectList", "datasetId",
    "observedAt", "unitCode", "valueType", "objectType", "expiresAt", "createdAt", "modifiedAt", "lang",
}  # fmt: skip


# ---- round trips -------------------------------------------------------------------------------------


@heavy
@given(entities(), st.sampled_from([Form.NORMALIZED, Form.CONCISE]))
def test_normalized_and_concise_output_read_back_as_the_same_entity(payload: dict[str, Any], form: Form) -> None:
    """Normalized and concise are lossless: validating the output re-creates the stored attributes."""
    fragment = validate.entity(payload, TM, validate.CREATE)
    body = render.entity(updates.create(fragment, T0), TM, RenderOptions(form=form))
    assert validate.entity(body, TM, validate.CREATE) == fragment


@heavy
@given(entities())
def test_rendering_a_validated_normalized_entity_gives_it_back(payload: dict[str, Any]) -> None:
    """Normalized output of a normalized input is that input (a single scope renders as a string)."""
    body = render.entity(updates.create(validate.entity(payload, TM, validate.CREATE), T0), TM, NORMALIZED)
    assert body == _canonical(payload)


def _canonical(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as the renderer spells it: one scope or one instance is not wrapped in an array."""
    out: dict[str, Any] = {}
    for key, value in payload.items():
        if key == "scope":
            value = value[0] if isinstance(value, list) and len(value) == 1 else value
        elif key not in _NON_SUB and key != "id":
            insts = [_canonical(i) for i in (value if isinstance(value, list) else [value])]
            value = insts[0] if len(insts) == 1 else insts
        out[key] = value
    return out


def test_concise_keeps_the_type_of_a_property_holding_a_geometry() -> None:
    """A Property holding a geometry keeps 'type' in concise output, else it reads back as a GeoProperty."""
    payload = {"p": {"type": "Property", "value": POINT}}
    body = rendered(payload, CONCISE)
    assert body["p"] == {"type": "Property", "value": POINT}
    assert validate.entity(body, TM, validate.CREATE) == validate.entity(
        {"id": ID, "type": "Shop", **payload}, TM, validate.CREATE
    )


def test_concise_multi_attributes_keep_every_instance_an_object() -> None:
    """In a concise multi-attribute no instance collapses to a bare value (that would read back as one)."""
    payload = {"p": [{"type": "Property", "value": 5}, {"type": "Property", "value": 6, "datasetId": DS}]}
    body = rendered(payload, CONCISE)
    assert body["p"] == [{"value": 5}, {"value": 6, "datasetId": DS}]
    assert len(validate.entity(body, TM, validate.CREATE)["attrs"][DC + "p"]) == 2


# ---- concise -----------------------------------------------------------------------------------------


def test_concise_drops_types_and_collapses_plain_attributes() -> None:
    """Concise output: no 'type' members; attributes without metadata become their bare values (§2.2)."""
    body = render.entity(stored(every_kind_entity()), TM, CONCISE)
    assert body["name"] == {"value": "Corner shop", "observedAt": "2025-01-02T10:00:00Z"}
    assert body["footfall"] == {
        "value": 311,
        "unitCode": "C62",
        "measuredBy": {"object": "urn:ngsi-ld:Sensor:7"},
    }
    assert body["location"] == POINT
    assert body["motto"] == {"languageMap": {"en": "Fresh", "fr": "Frais"}}
    assert body["category"] == {"vocab": "grocery"}
    assert body["rawConfig"] == {"json": {"id": "not-an-iri", "value": 3}}
    assert body["openDays"] == {"valueList": ["Mon", "Tue", "Sat"]}
    assert body["owner"] == {"object": "urn:ngsi-ld:Person:9"}
    assert body["suppliers"] == {"objectList": [{"object": "urn:ngsi-ld:Org:1"}, {"object": "urn:ngsi-ld:Org:2"}]}
    assert rendered({"p": 3}, CONCISE)["p"] == 3
    assert rendered({"p": {"a": 1}}, CONCISE)["p"] == {"a": 1}


@pytest.mark.parametrize(
    "value", [{"value": 1}, {"type": "x"}, [{"object": "urn:x:1"}], {"languageMap": {}}, "urn:ngsi-ld:null"]
)
def test_concise_keeps_the_value_member_when_a_bare_value_would_be_misread(value: Any) -> None:
    """A value that looks like an attribute (or the Null) stays wrapped in {'value': ...}."""
    doc = stored({})
    doc["attrs"][DC + "p"] = [{"type": "Property", "value": value, "createdAt": T0, "modifiedAt": T0}]
    assert render.entity(doc, TM, CONCISE)["p"] == {"value": value}


# ---- simplified --------------------------------------------------------------------------------------


def test_simplified_form_of_every_kind() -> None:
    """keyValues: values only; LanguageProperty, VocabProperty, JsonProperty keep a one-key wrapper (§2.3)."""
    body = render.entity(stored(every_kind_entity()), TM, SIMPLIFIED)
    assert body == {
        "id": ID,
        "type": "Shop",
        "name": "Corner shop",
        "footfall": 311,
        "location": POINT,
        "motto": {"languageMap": {"en": "Fresh", "fr": "Frais"}},
        "category": {"vocab": "grocery"},
        "rawConfig": {"json": {"id": "not-an-iri", "value": 3}},
        "openDays": ["Mon", "Tue", "Sat"],
        "owner": "urn:ngsi-ld:Person:9",
        "suppliers": ["urn:ngsi-ld:Org:1", "urn:ngsi-ld:Org:2"],
        "temperature": {"dataset": {"@none": 20, DS: 21}},
    }


@heavy
@given(entities())
def test_simplified_form_drops_metadata_and_sub_attributes(payload: dict[str, Any]) -> None:
    """Each attribute becomes one value, or {'dataset': {datasetId or '@none': value}} for several."""
    doc = updates.create(validate.entity(payload, TM, validate.CREATE), T0)
    body = render.entity(doc, TM, SIMPLIFIED)
    for iri, insts in doc["attrs"].items():
        value = body[TM.compact(iri)]
        if len(insts) > 1:
            assert list(value) == ["dataset"]
            assert list(value["dataset"]) == [i.get("datasetId", "@none") for i in insts]
            values = list(value["dataset"].values())
        else:
            values = [value]
        for inst, shown in zip(insts, values, strict=True):
            assert shown == render.attribute(
                [{k: inst[k] for k in ("type", *_VALUE_KEYS) if k in inst}], TM, SIMPLIFIED
            )


_VALUE_KEYS = ("value", "object", "languageMap", "vocab", "json", "valueList", "objectList")


def test_simplified_vocab_is_compacted_with_the_request_context() -> None:
    """VocabProperty values are compacted in every form."""
    tm = compile_term_map([{"ex": EX, "fast": "ex:fast"}])
    doc = stored({"speed": {"type": "VocabProperty", "vocab": ["fast", "ex:slow"]}}, tm)
    assert render.entity(doc, tm, SIMPLIFIED)["speed"] == {"vocab": ["fast", "ex:slow"]}
    assert render.entity(doc, TM, SIMPLIFIED)["speed"] == {"vocab": [EX + "fast", EX + "slow"]}


# ---- sysAttrs, pick, omit, datasetId --------------------------------------------------------------------


@heavy
@given(entities(), st.sampled_from([Form.NORMALIZED, Form.CONCISE]))
def test_sys_attrs_add_system_times_everywhere(payload: dict[str, Any], form: Form) -> None:
    """options=sysAttrs adds createdAt and modifiedAt to the entity and every attribute and sub-attribute."""
    doc = updates.create(validate.entity(payload, TM, validate.CREATE), T0)
    body = render.entity(doc, TM, RenderOptions(sys_attrs=True))
    assert (body["createdAt"], body["modifiedAt"]) == (T0, T0)
    instances = walk_instances(body)
    assert len(instances) == _count(doc["attrs"])
    assert all(i["createdAt"] == i["modifiedAt"] == T0 for i in instances)
    plain = render.entity(doc, TM, RenderOptions(form=form))
    assert "createdAt" not in str(plain.keys())
    assert all("createdAt" not in i for i in walk_instances(render.entity(doc, TM, NORMALIZED)))


def _count(attrs: dict[str, list[Doc]]) -> int:
    return sum(1 + _count(i.get("attrs", {})) for insts in attrs.values() for i in insts)


def test_pick_keeps_only_the_listed_members() -> None:
    """pick=id -> only id (TS 018_17_03); pick=id,name -> id and name."""
    doc = stored({"name": "A", "other": 1, "scope": "/a"})
    assert render.entity(doc, TM, RenderOptions(pick=frozenset({"id"}))) == {"id": ID}
    picked = render.entity(doc, TM, RenderOptions(pick=frozenset({"id", DC + "name"})))
    assert picked == {"id": ID, "name": {"type": "Property", "value": "A"}}


def test_omit_removes_the_listed_members() -> None:
    """omit=id and omit=type,name remove those members (TS 018_17_04, 018_17_06)."""
    doc = stored({"name": "A", "other": 1, "scope": "/a"})
    assert "id" not in render.entity(doc, TM, RenderOptions(omit=frozenset({"id"})))
    body = render.entity(doc, TM, RenderOptions(omit=frozenset({"type", DC + "name", "scope"})))
    assert body == {"id": ID, "other": {"type": "Property", "value": 1}}


def test_single_type_and_scope_are_strings_and_several_are_arrays() -> None:
    """One type or scope renders as a string, several as an array."""
    one = render.entity(stored({"scope": "/a"}), TM, NORMALIZED)
    assert (one["type"], one["scope"]) == ("Shop", "/a")
    doc = updates.create(
        validate.entity({"id": ID, "type": ["Shop", "Store"], "scope": ["/a", "/b"]}, TM, validate.CREATE), T0
    )
    many = render.entity(doc, TM, NORMALIZED)
    assert (many["type"], many["scope"]) == (["Shop", "Store"], ["/a", "/b"])


def test_entity_expires_at_is_rendered() -> None:
    """The entity's expiresAt is part of the output."""
    assert rendered({"expiresAt": "2030-01-01T00:00:00Z"})["expiresAt"] == "2030-01-01T00:00:00Z"


def _datasets() -> Doc:
    return stored({"name": [{"value": "A"}, {"value": "B", "datasetId": DS}], "other": {"value": 1, "datasetId": DS}})


def test_dataset_id_filter_keeps_matching_instances() -> None:
    """datasetId=@none keeps default instances; an attribute with no match is dropped (TS 019_12)."""
    body = render.entity(_datasets(), TM, RenderOptions(dataset_ids=frozenset({None})))
    assert body == {"id": ID, "type": "Shop", "name": {"type": "Property", "value": "A"}}
    both = render.entity(_datasets(), TM, RenderOptions(dataset_ids=frozenset({DS})))
    assert both["name"] == {"type": "Property", "value": "B", "datasetId": DS}
    assert both["other"] == {"type": "Property", "value": 1, "datasetId": DS}


def test_multi_attributes_render_as_arrays_without_default_dataset_id() -> None:
    """Several instances render as an array; the default instance shows no datasetId (§1.6)."""
    assert render.entity(_datasets(), TM, NORMALIZED)["name"] == [
        {"type": "Property", "value": "A"},
        {"type": "Property", "value": "B", "datasetId": DS},
    ]


def test_names_are_compacted_with_the_request_context() -> None:
    """Attribute names, types, valueType and objectType compact with the request's context."""
    tm = compile_term_map([{"ex": EX, "Car": "ex:Car", "speed": "ex:speed"}])
    doc = updates.create(
        validate.entity(
            {
                "id": ID,
                "type": "Car",
                "speed": {"value": 1, "valueType": "ex:int"},
                "r": {"object": ID, "objectType": "Car"},
            },
            tm,
            validate.CREATE,
        ),
        T0,
    )
    body = render.entity(doc, tm, NORMALIZED)
    assert (body["type"], body["speed"]["valueType"], body["r"]["objectType"]) == ("Car", "ex:int", "Car")
    assert render.entity(doc, TM, NORMALIZED)["type"] == EX + "Car"
    assert EX + "speed" in render.entity(doc, TM, NORMALIZED)


# ---- lang --------------------------------------------------------------------------------------------


def test_lang_turns_language_properties_into_properties() -> None:
    """With lang, a LanguageProperty renders as a Property with the chosen string and 'lang' (TS 018_07)."""
    payload = {"street": {"type": "LanguageProperty", "languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}}}
    opts = LangPreference(("fr",))
    assert rendered(payload, RenderOptions(lang=opts))["street"] == {
        "type": "Property",
        "value": "Grand Place",
        "lang": "fr",
    }
    assert rendered(payload, RenderOptions(form=Form.CONCISE, lang=opts))["street"] == {
        "value": "Grand Place",
        "lang": "fr",
    }
    assert rendered(payload, RenderOptions(form=Form.SIMPLIFIED, lang=opts))["street"] == "Grand Place"


def test_lang_applies_to_sub_attributes() -> None:
    """Language sub-attributes are filtered too."""
    payload = {"p": {"value": 1, "label": {"languageMap": {"en": "one", "fr": "un"}}}}
    body = rendered(payload, RenderOptions(lang=LangPreference(("en",))))
    assert body["p"]["label"] == {"type": "Property", "value": "one", "lang": "en"}


@pytest.mark.parametrize(
    ("tags", "language_map", "chosen"),
    [
        (("fr",), {"en": "a", "fr": "b"}, "fr"),
        (("fr-CH", "fr"), {"fr": "b", "fr-CH": "c"}, "fr-CH"),
        (("fr-CH",), {"en": "a", "fr": "b"}, "fr"),
        (("fr",), {"en": "a", "fr-BE": "b"}, "fr-BE"),
        (("FR",), {"en": "a", "fr": "b"}, "fr"),
        (("de", "en"), {"en": "a", "fr": "b"}, "en"),
        (("*",), {"fr": "b"}, "fr"),
        (("de", "*"), {"en": "a", "@none": "x"}, "@none"),
        (("de",), {"en": "a", "@none": "x"}, "@none"),
        (("de",), {"en": "a", "fr": "b"}, "en"),
    ],
)
def test_lang_preference_picks_the_best_language(
    tags: tuple[str, ...], language_map: dict[str, Any], chosen: str
) -> None:
    """Best-first tags (q-values already ranked); prefix matches; '*' any; else '@none' or any (§2.6)."""
    assert LangPreference(tags).choose(language_map) == chosen


def test_lang_preference_of_an_empty_map_is_none() -> None:
    """An empty languageMap has nothing to choose."""
    assert LangPreference(("en",)).choose({}) is None


@given(st.lists(st.sampled_from(["en", "fr", "de", "fr-CH", "nl", "*", "zh"]), max_size=4), language_maps)
def test_lang_preference_always_chooses_a_key_of_the_map(tags: list[str], language_map: dict[str, Any]) -> None:
    """Whatever the preferences, the choice is a key of the map; an exact match of the first tag wins."""
    choice = LangPreference(tuple(tags)).choose(language_map)
    assert choice in language_map
    if tags and tags[0] in language_map:
        assert choice == tags[0]


# ---- GeoJSON -----------------------------------------------------------------------------------------


def test_feature_uses_the_geometry_property_and_keeps_every_attribute() -> None:
    """A Feature: geometry from the GeoProperty; properties hold the type and every attribute (§2.5)."""
    doc = stored({"name": "A", "location": POINT})
    body = render.entity(doc, TM, NORMALIZED)
    feature = render.feature(doc, body, NGSI_LD + "location", None)
    assert feature == {
        "id": ID,
        "type": "Feature",
        "geometry": POINT,
        "properties": {
            "type": "Shop",
            "name": {"type": "Property", "value": "A"},
            "location": {"type": "GeoProperty", "value": POINT},
        },
    }


@given(geometries)
def test_feature_geometry_is_the_bare_geometry(geometry: dict[str, Any]) -> None:
    """The geometry is the GeoProperty's value, without its sub-attributes."""
    doc = stored({"where": {"value": geometry, "observedAt": T0[:19] + "Z", "s": 1}})
    feature = render.feature(doc, render.entity(doc, TM, SIMPLIFIED), DC + "where", None)
    assert feature["geometry"] == geometry
    assert feature["properties"]["where"] == geometry


def test_feature_prefers_the_default_instance_or_the_requested_dataset() -> None:
    """A multi-instance GeoProperty: the datasetId-selected instance, else the default one."""
    other = {"type": "Point", "coordinates": [0, 0]}
    doc = stored({"location": [{"value": other, "datasetId": DS}, {"value": POINT}]})
    body = render.entity(doc, TM, NORMALIZED)
    assert render.feature(doc, body, NGSI_LD + "location", None)["geometry"] == POINT
    assert render.feature(doc, body, NGSI_LD + "location", frozenset({DS}))["geometry"] == other


@pytest.mark.parametrize("payload", [{}, {"location": 3}, {"location": {"type": "Property", "value": POINT}}])
def test_feature_geometry_is_null_without_a_geo_property(payload: dict[str, Any]) -> None:
    """A missing geometry property, or one that is not a GeoProperty, gives geometry null (TS 018_05_04)."""
    doc = stored(payload)
    assert render.feature(doc, render.entity(doc, TM, NORMALIZED), NGSI_LD + "location", None)["geometry"] is None


def test_feature_without_id_when_id_is_omitted() -> None:
    """With omit=id the Feature has no id either."""
    doc = stored({"location": POINT})
    body = render.entity(doc, TM, RenderOptions(omit=frozenset({"id"})))
    assert "id" not in render.feature(doc, body, NGSI_LD + "location", None)
