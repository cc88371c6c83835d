"""validator: every violation as (JSON path, failing keyword, message), in a deterministic order."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from datamodels import Violation
from datamodels.validator import compile_validator, json_path, violations

SHARED_URL = "https://example.org/shared.json"
SHARED_DOCUMENT = {"$id": SHARED_URL, "definitions": {"level": {"type": "integer", "maximum": 10}}}
SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "type", "status"],
    "properties": {
        "status": {"type": "string", "enum": ["free", "occupied"]},
        "level": {"$ref": SHARED_URL + "#/definitions/level"},
        "observed": {"type": "string", "format": "date-time"},
        "ip": {"oneOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
        "location": {
            "type": "object",
            "properties": {"coordinates": {"type": "array", "items": {"type": "number"}}},
        },
        "odd-name": {"type": "string"},
    },
}


def validate(instance: Any) -> list[Violation]:
    registry = Registry().with_resource(SHARED_URL, DRAFT202012.create_resource(SHARED_DOCUMENT))
    return violations(compile_validator(SCHEMA, registry), instance)


def test_a_valid_instance_has_no_violations() -> None:
    """Nothing to report for a conforming instance."""
    assert validate({"id": "x", "type": "T", "status": "free", "ip": "10.0.0.1", "level": 3}) == []


def test_every_violation_is_reported_with_path_and_keyword() -> None:
    """All violations at once: nested paths with indexes, keywords reached through a remote $ref."""
    instance = {
        "id": "x",
        "type": "T",
        "status": "parked",
        "level": 11,
        "observed": "2016-03-15T11:00:00",
        "location": {"coordinates": [1, "north"]},
        "odd-name": 5,
    }
    assert [(v.path, v.rule) for v in validate(instance)] == [
        ("$.level", "maximum"),
        ("$.location.coordinates[1]", "type"),
        ("$.observed", "format"),
        ("$['odd-name']", "type"),
        ("$.status", "enum"),
    ]


def test_required_is_reported_at_the_object_that_misses_the_member() -> None:
    """A missing top-level property is a ``required`` violation at ``$``, one per missing member."""
    assert validate({"id": "x"}) == [
        Violation("$", "required", "'status' is a required property"),
        Violation("$", "required", "'type' is a required property"),
    ]


def test_one_of_is_reported_as_itself() -> None:
    """A failing oneOf is one violation for the oneOf keyword, not its branches' errors."""
    found = validate({"id": "x", "type": "T", "status": "free", "ip": "not an address"})
    assert [(v.path, v.rule) for v in found] == [("$.ip", "oneOf")]


def test_violation_renders_as_a_cli_line() -> None:
    """``str(violation)`` is the CLI's ``path: rule: message`` line."""
    assert (
        str(Violation("$.tsp", "type", "73.3 is not of type 'integer'")) == "$.tsp: type: 73.3 is not of type 'integer'"
    )


@given(st.lists(st.one_of(st.integers(0, 30), st.text(max_size=6)), max_size=6))
def test_json_path_writes_each_segment_unambiguously(segments: list[int | str]) -> None:
    """Indexes in brackets, identifiers after a dot, anything else quoted in brackets."""
    path = json_path(segments)
    assert path.startswith("$")
    assert path.count("[") >= sum(1 for s in segments if isinstance(s, int))
    assert json_path([]) == "$"
    assert json_path(["a", 0, "b c", "it's"]) == "$.a[0]['b c']['it\\'s']"


@given(st.lists(st.integers(0, 12), min_size=1, max_size=12))
def test_order_is_by_path_with_numeric_indexes(bad: list[int]) -> None:
    """Violations come sorted by path, array indexes compared as numbers ([2] before [10])."""
    coordinates: list[Any] = [0.0] * 13
    for index in bad:
        coordinates[index] = "bad"
    found = validate({"id": "x", "type": "T", "status": "free", "location": {"coordinates": coordinates}})
    assert [v.path for v in found] == [f"$.location.coordinates[{i}]" for i in sorted(set(bad))]


@given(st.permutations(["status", "level", "observed", "odd-name", "ip"]))
def test_order_does_not_depend_on_the_order_of_members(names: list[str]) -> None:
    """The same violations, in the same order, however the instance's members are ordered."""
    wrong = {"status": "gone", "level": "high", "observed": "today", "odd-name": [], "ip": "?"}
    instance = {"id": "x", "type": "T"} | {name: wrong[name] for name in names}
    assert validate(instance) == validate({"id": "x", "type": "T"} | wrong)
