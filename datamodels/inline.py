"""Inline every ``$ref`` of a model schema once, at load time, so validation never resolves a reference.

jsonschema resolves a ``$ref`` through the registry on every validation; for a Smart Data Models
schema (``allOf`` of the common schema's definitions and the model's own properties) that lookup is
about 40 % of the time a validation takes. A ``$ref`` next to other keywords is replaced by an
``allOf`` member holding the referenced schema, which in 2020-12 means the same thing. A schema
whose references are cyclic, or that uses ``$dynamicRef``, is left as it is (None here).
"""

from __future__ import annotations

from typing import Any

from referencing import Registry
from referencing.jsonschema import DRAFT202012

from datamodels.refs import iter_refs

_ROOT = "urn:datamodels:root"  # the model schema's own base: model $ids are not unique upstream
_ONE_SCHEMA = frozenset(
    {
        "items", "not", "if", "then", "else", "contains", "additionalProperties", "propertyNames",
        "unevaluatedProperties", "unevaluatedItems",
    }
)  # fmt: skip
_SCHEMA_MAPS = frozenset({"properties", "patternProperties", "dependentSchemas"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_IDENTITY = frozenset({"$id", "$schema", "$anchor", "$dynamicAnchor", "$defs", "definitions", "$comment"})


class _NotInlinable(Exception):
    pass


def inline_refs(schema: dict[str, Any], registry: Registry[Any]) -> dict[str, Any] | None:
    """``schema`` with every ``$ref`` replaced by what it refers to, or None when that is not possible."""
    resource = DRAFT202012.create_resource({k: v for k, v in schema.items() if k != "$id"})
    resolver = registry.with_resource(_ROOT, resource).resolver(base_uri=_ROOT)
    try:
        flat = _inline(schema, resolver, ())
    except _NotInlinable:
        return None
    assert isinstance(flat, dict)
    if any(True for _ in iter_refs(flat)):
        return None  # a $ref under a keyword not walked here would now resolve against the wrong base
    if "$schema" in schema:
        flat["$schema"] = schema["$schema"]
    return flat


def _inline(schema: Any, resolver: Any, seen: tuple[int, ...]) -> Any:
    """``resolver`` is a ``referencing`` resolver based at the document ``schema`` comes from."""
    if isinstance(schema, list):
        return [_inline(item, resolver, seen) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if "$dynamicRef" in schema:
        raise _NotInlinable
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "$ref" or key in _IDENTITY:
            continue
        if key in _ONE_SCHEMA:
            out[key] = _inline(value, resolver, seen)
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _inline(sub, resolver, seen) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [_inline(sub, resolver, seen) for sub in value]
        else:
            out[key] = value
    ref = schema.get("$ref")
    if isinstance(ref, str):
        resolved = resolver.lookup(ref)
        marker = id(resolved.contents)
        if marker in seen:
            raise _NotInlinable
        target = _inline(resolved.contents, resolved.resolver, (*seen, marker))
        out["allOf"] = [*out.get("allOf", []), target]
    return out
