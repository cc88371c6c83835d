"""NGSI-LD entity -> the keyValues instance a Smart Data Models schema describes.

The schemas describe the simplified shape (attribute = bare value), while a broker receives normalized
entities (attribute = ``{"type": "Property", "value": ...}`` with metadata and sub-attributes). So an
entity is simplified before validation: each attribute becomes its value, metadata is dropped, and
JSON-LD typed literals (``{"@type": "DateTime", "@value": "..."}``) become their plain value.

An attribute object is recognised by its ``type`` (one of ``ATTRIBUTE_VALUE_MEMBERS``) together with
the member that holds its value. Concise attributes that omit ``type`` are not recognised: ``{"value":
3, "unitCode": "CEL"}`` is just as likely a structured keyValues value, and guessing would make
``simplify`` change keyValues input, which it must not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ATTRIBUTE_VALUE_MEMBERS: dict[str, str] = {
    "Property": "value",
    "GeoProperty": "value",
    "Relationship": "object",
    "ListProperty": "valueList",
    "ListRelationship": "objectList",
    "LanguageProperty": "languageMap",
    "VocabProperty": "vocab",
    "JsonProperty": "json",
}
"""Which member holds the value, for each NGSI-LD attribute type."""

_ENTITY_MEMBERS_KEPT_AS_IS = frozenset({"id", "type"})
_VALUE_OBJECT_KEYS = frozenset({"@value", "@type", "@language", "@direction", "@index"})


def simplify(entity: Mapping[str, Any]) -> dict[str, Any]:
    """The keyValues form of ``entity`` (normalized, concise or already keyValues), without ``@context``.

    Idempotent: simplifying a simplified entity changes nothing (unless a value is itself shaped like a
    typed NGSI-LD attribute object, which is then taken for one).
    """
    simplified: dict[str, Any] = {}
    for name, member in entity.items():
        if name == "@context":
            continue
        simplified[name] = member if name in _ENTITY_MEMBERS_KEPT_AS_IS else attribute_value(member)
    return simplified


def attribute_value(member: Any) -> Any:
    """The bare value of one attribute: its value member for an attribute object, the default instance
    (no ``datasetId``, else the first) for a multi-attribute, the member itself otherwise."""
    if is_attribute(member):
        return unwrap_literals(member[ATTRIBUTE_VALUE_MEMBERS[member["type"]]])
    if isinstance(member, list) and member and all(is_attribute(instance) for instance in member):
        default = next((instance for instance in member if "datasetId" not in instance), member[0])
        return attribute_value(default)
    return unwrap_literals(member)


def is_attribute(member: Any) -> bool:
    """A typed NGSI-LD attribute object carrying the member its type requires."""
    if not isinstance(member, Mapping):
        return False
    kind = member.get("type")
    return isinstance(kind, str) and kind in ATTRIBUTE_VALUE_MEMBERS and ATTRIBUTE_VALUE_MEMBERS[kind] in member


def unwrap_literals(value: Any) -> Any:
    """``value`` with every JSON-LD value object (``{"@type": ..., "@value": v}``) replaced by ``v``,
    at any depth."""
    if isinstance(value, Mapping):
        if "@value" in value and value.keys() <= _VALUE_OBJECT_KEYS:
            return unwrap_literals(value["@value"])
        return {key: unwrap_literals(item) for key, item in value.items()}
    if isinstance(value, list):
        return [unwrap_literals(item) for item in value]
    return value
