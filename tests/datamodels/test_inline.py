"""Inlined references: a model schema with every ``$ref`` replaced once at load time validates exactly
like the schema resolving its references through the registry, and schemas that cannot be inlined
(cycles, ``$dynamicRef``) are left alone."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from datamodels.formats import format_checker
from datamodels.inline import inline_refs
from datamodels.registry import offline_registry
from datamodels.validator import violations
from tests.datamodels.sdm import NEEDS_SHARED, SHARED, shared_library

COMMON = "https://example.org/common.json"
REGISTRY: Registry[Any] = Registry().with_resource(
    COMMON,
    DRAFT202012.create_resource(
        {
            "$id": COMMON,
            "definitions": {
                "Name": {"type": "string", "maxLength": 5},
                "Named": {"properties": {"name": {"$ref": "#/definitions/Name"}}, "required": ["name"]},
            },
        }
    ),
)
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://example.org/model.json",
    "allOf": [
        {"$ref": f"{COMMON}#/definitions/Named"},
        {"properties": {"size": {"$ref": "#/$defs/Size", "minimum": 1}, "tags": {"items": {"$ref": "#/$defs/Tag"}}}},
    ],
    "$defs": {"Size": {"type": "integer", "maximum": 10}, "Tag": {"enum": ["a", "b"]}},
}


def resolving(schema: dict[str, Any], registry: Registry[Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, registry=registry, format_checker=format_checker())


def test_every_reference_is_replaced_and_siblings_are_kept() -> None:
    flat = inline_refs(SCHEMA, REGISTRY)
    assert flat is not None
    assert "$ref" not in json.dumps(flat)
    size = flat["allOf"][1]["properties"]["size"]
    assert size["minimum"] == 1 and size["allOf"] == [{"type": "integer", "maximum": 10}]


instances = st.fixed_dictionaries(
    {},
    optional={
        "name": st.one_of(st.text(max_size=7), st.integers()),
        "size": st.one_of(st.integers(-2, 12), st.text(max_size=2)),
        "tags": st.lists(st.sampled_from(["a", "b", "c", 1]), max_size=3),
    },
)


@given(instances)
def test_inlined_and_resolving_validators_agree(instance: dict[str, Any]) -> None:
    flat = inline_refs(SCHEMA, REGISTRY)
    assert flat is not None
    assert violations(resolving(flat, REGISTRY), instance) == violations(resolving(SCHEMA, REGISTRY), instance)


@pytest.mark.parametrize(
    "schema",
    [
        {"$defs": {"Tree": {"properties": {"child": {"$ref": "#/$defs/Tree"}}}}, "$ref": "#/$defs/Tree"},
        {"$dynamicRef": "#meta"},
    ],
    ids=["cycle", "dynamicRef"],
)
def test_what_cannot_be_inlined_is_left_alone(schema: dict[str, Any]) -> None:
    assert inline_refs(schema, REGISTRY) is None


@pytest.mark.skipif(not SHARED.is_dir(), reason=NEEDS_SHARED)
def test_every_shared_model_inlines_and_validates_its_examples_the_same() -> None:
    """All 34 models inline; on every example (keyValues) and on a copy with each top-level property
    replaced by a wrong-typed value, both validators report the same violations."""
    registry = offline_registry(SHARED, [])
    for name, model in shared_library().models.items():
        flat = inline_refs(model.schema, registry)
        assert flat is not None, name
        fast, slow = resolving(flat, registry), resolving(model.schema, registry)
        examples = SHARED / model.ref.domain / name / "examples"
        for path in sorted(examples.glob("example*.json*")):
            try:
                document = json.loads(path.read_text())
            except json.JSONDecodeError:
                continue  # PointOfInterest's example.jsonld is not JSON (README quirk 9)
            if not isinstance(document, dict) or "normalized" in path.name or "geojson" in path.name:
                continue
            document.pop("@context", None)
            broken = {key: ([1] if isinstance(value, str) else "x") for key, value in document.items()}
            for instance in (document, broken):
                assert violations(fast, instance) == violations(slow, instance), (name, path.name)
