"""The upstream examples as test vectors: trustworthy ones pass, known-bad ones fail precisely, and
mutating a trustworthy keyValues example in a way its schema forbids gives the expected violation.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from datamodels import Violation, simplify
from tests.datamodels.sdm import NEEDS_SHARED, SHARED, TRUSTWORTHY, example, example_path, shared_library

if not SHARED.is_dir():
    pytest.skip(NEEDS_SHARED, allow_module_level=True)

modest = settings(max_examples=max(10, settings().max_examples // 2))  # follows the profile (deep: more)


def violations_of(type_name: str, instance: dict[str, Any]) -> list[Violation]:
    return shared_library().models[type_name].validate(instance)


def trustworthy_files() -> list[tuple[str, str]]:
    files = []
    for type_name in TRUSTWORTHY:
        for name in ("example.json", "example.jsonld", "example-normalized.jsonld"):
            if example_path(type_name, name).exists():
                files.append((type_name, name))
    return files


# ---- the examples as they are ----------------------------------------------------------------------------


def test_there_are_27_trustworthy_types_with_three_examples_each() -> None:
    """The README's 27 clean types (PointOfInterest, with its unparseable example.jsonld, is not one)."""
    assert len(TRUSTWORTHY) == 27
    assert len(trustworthy_files()) == 81


@pytest.mark.parametrize(("type_name", "file"), trustworthy_files())
def test_trustworthy_examples_have_no_violations(type_name: str, file: str) -> None:
    """keyValues (v2 and LD, minus @context) and simplified normalized examples pass, formats asserted."""
    assert violations_of(type_name, simplify(example(type_name, file))) == []


@pytest.mark.parametrize("file", ["example-1.json", "example-2.json", "example-agriAlert.json"])
def test_the_extra_alert_examples_pass(file: str) -> None:
    """Alert's three extra keyValues variants are valid too."""
    assert violations_of("Alert", example("Alert", file)) == []


@pytest.mark.parametrize("file", ["example.json", "example.jsonld", "example-normalized.jsonld"])
def test_device_ip_addresses_pass_because_formats_are_asserted(file: str) -> None:
    """ipAddress is oneOf [ipv4, ipv6]: only exclusive, asserted formats let an address match once."""
    assert violations_of("Device", simplify(example("Device", file))) == []


@pytest.mark.parametrize(
    ("type_name", "file", "path", "rule"),
    [
        ("ParkingGroup", "example-normalized.jsonld", "$.requiredPermit", "type"),
        ("AirQualityObserved", "example.json", "$.tsp", "type"),
        ("AirQualityObserved", "example.jsonld", "$.dateObserved", "format"),
        ("AirQualityObserved", "example-normalized.jsonld", "$.windDirection", "maximum"),
        ("Vehicle", "example-normalized.jsonld", "$.vehicleAltitude", "type"),
        ("KeyPerformanceIndicator", "example-normalized.jsonld", "$.dateNextCalculation", "format"),
        ("PublicTransportStop", "example.json", "$.openingHoursSpecification[4].opens", "format"),
        ("PublicTransportStop", "example.jsonld", "$.openingHoursSpecification[4].opens", "format"),
        ("PublicTransportStop", "example-normalized.jsonld", "$.openingHoursSpecification[4].opens", "format"),
    ],
)
def test_known_bad_examples_fail_where_the_readme_says(type_name: str, file: str, path: str, rule: str) -> None:
    """The README's negative vectors (quirks 1 and 6-8) are reported at the right path with the right rule."""
    found = violations_of(type_name, simplify(example(type_name, file)))
    assert (path, rule) in [(v.path, v.rule) for v in found]


def test_the_keyvalues_twins_of_known_bad_normalized_examples_pass() -> None:
    """ParkingGroup, Vehicle and KeyPerformanceIndicator fail only in their normalized examples."""
    for type_name in ("ParkingGroup", "Vehicle", "KeyPerformanceIndicator"):
        for file in ("example.json", "example.jsonld"):
            assert violations_of(type_name, example(type_name, file)) == [], (type_name, file)


def test_a_known_bad_example_reports_every_violation_in_order() -> None:
    """All violations, not just the first, sorted by path and rule."""
    found = violations_of("AirQualityObserved", simplify(example("AirQualityObserved", "example-normalized.jsonld")))
    assert [(v.path, v.rule) for v in found] == [
        ("$.dateObserved", "format"),
        ("$.tsp", "type"),
        ("$.windDirection", "maximum"),
    ]
    assert found[1].message == "73.3 is not of type 'integer'"


# ---- mutations of trustworthy keyValues examples ---------------------------------------------------------

JSON_SAMPLES: dict[str, Any] = {
    "string": "mutated",
    "integer": 7,
    "number": 1.5,
    "boolean": True,
    "array": [],
    "object": {},
    "null": None,
}


def is_of_type(value: Any, type_name: str) -> bool:
    """JSON Schema's notion of each type (booleans are not numbers; 7 is an integer and a number)."""
    if type_name in ("integer", "number"):
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        return is_number and (type_name == "number" or float(value).is_integer())
    python_types = {"string": str, "boolean": bool, "array": list, "object": dict, "null": type(None)}
    return isinstance(value, python_types[type_name])


def declared_properties(type_name: str) -> dict[str, dict[str, Any]]:
    """Top-level properties declared in the model's own schema or its inline allOf blocks (the first
    declaration wins; declarations behind $ref are not followed)."""
    schema = shared_library().models[type_name].schema
    blocks = [schema, *(b for b in schema.get("allOf", []) if isinstance(b, dict) and "$ref" not in b)]
    found: dict[str, dict[str, Any]] = {}
    for block in blocks:
        for name, subschema in block.get("properties", {}).items():
            if name not in ("id", "type") and name.isidentifier() and isinstance(subschema, dict):
                found.setdefault(name, subschema)
    return found


def typed(subschema: dict[str, Any]) -> list[str]:
    declared = subschema.get("type")
    return [declared] if isinstance(declared, str) else declared if isinstance(declared, list) else []


def candidates(accept: Any) -> list[tuple[str, str]]:
    return [(t, name) for t in TRUSTWORTHY for name, sub in declared_properties(t).items() if accept(sub)]


TYPED = candidates(lambda sub: bool(typed(sub)))
ENUMS = candidates(lambda sub: bool(sub.get("enum")) and all(isinstance(v, str) for v in sub["enum"]))
DATE_TIMES = candidates(lambda sub: sub.get("format") == "date-time")
REQUIRED = [(t, name) for t in TRUSTWORTHY for name in shared_library().models[t].schema.get("required", [])]

key_value_examples = st.sampled_from(["example.json", "example.jsonld"])
malformed_date_times = st.one_of(
    st.dates().map(lambda d: f"{d.isoformat()}T12:00:00"),  # no UTC offset
    st.dates().map(lambda d: f"{d.isoformat()} 12:00:00Z"),  # no 'T'
    st.integers(13, 99).map(lambda month: f"2020-{month}-01T00:00:00Z"),
    st.integers(24, 99).map(lambda hour: f"2020-01-01T{hour}:00:00Z"),
    st.text("abcdefghijklmnopqrstuvwxyz /", max_size=12),
)


def only_at(found: list[Violation], path: str) -> bool:
    """Every violation is at ``path`` or at the root (where combinators over the whole entity report)."""
    return all(v.path in (path, "$") or v.path.startswith((path + ".", path + "[")) for v in found)


@modest
@given(st.sampled_from(REQUIRED), key_value_examples)
def test_deleting_a_required_property_is_a_required_violation_at_the_root(required: tuple[str, str], file: str) -> None:
    """Without a required property, the entity fails ``required`` at ``$``, naming it."""
    type_name, name = required
    instance = example(type_name, file)
    del instance[name]
    assert violations_of(type_name, instance) == [Violation("$", "required", f"{name!r} is a required property")]


@modest
@given(st.sampled_from(TYPED), key_value_examples, st.data())
def test_a_value_of_another_json_type_is_a_type_violation_at_its_path(
    candidate: tuple[str, str], file: str, data: st.DataObject
) -> None:
    """Any JSON value outside a property's declared ``type`` fails ``type`` at ``$.<property>``."""
    type_name, name = candidate
    declared = typed(declared_properties(type_name)[name])
    wrong = [v for v in JSON_SAMPLES.values() if not any(is_of_type(v, t) for t in declared)]
    instance = example(type_name, file) | {name: data.draw(st.sampled_from(wrong))}
    found = violations_of(type_name, instance)
    assert (f"$.{name}", "type") in [(v.path, v.rule) for v in found]
    assert only_at(found, f"$.{name}")


@modest
@given(st.sampled_from(ENUMS), key_value_examples, st.text(max_size=12))
def test_a_string_outside_an_enum_is_an_enum_violation_at_its_path(
    candidate: tuple[str, str], file: str, text: str
) -> None:
    """A string the enum does not list fails ``enum`` at ``$.<property>``."""
    type_name, name = candidate
    allowed = declared_properties(type_name)[name]["enum"]
    value = text if text not in allowed else text + "-not-listed"
    found = violations_of(type_name, example(type_name, file) | {name: value})
    assert (f"$.{name}", "enum") in [(v.path, v.rule) for v in found]
    assert only_at(found, f"$.{name}")


@modest
@given(st.sampled_from(DATE_TIMES), key_value_examples, malformed_date_times)
def test_a_malformed_date_time_is_a_format_violation_at_its_path(
    candidate: tuple[str, str], file: str, value: str
) -> None:
    """A string that is not an RFC 3339 date-time fails ``format`` where ``format: date-time`` is declared."""
    type_name, name = candidate
    found = violations_of(type_name, example(type_name, file) | {name: value})
    assert (f"$.{name}", "format") in [(v.path, v.rule) for v in found]
    assert only_at(found, f"$.{name}")
