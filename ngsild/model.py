"""The NGSI-LD vocabulary shared by every layer: attribute kinds, reserved names, the stored
document shape, Change, and the lexical rules for names, URIs and DateTimes.

Stored entity document (everything expanded: names and types are IRIs)::

    {"id": "urn:...", "type": [iri, ...], "scope": ["/a/b", ...]?, "expiresAt": dt?,
     "createdAt": dt, "modifiedAt": dt,
     "attrs": {attr_iri: [instance, ...]}}

    instance = {"type": "Property" | ..., <value member>: ..., "datasetId": uri?, "observedAt": dt?,
                "unitCode": str?, "valueType": iri?, "objectType": iri | [iri]?, "expiresAt": dt?,
                "createdAt": dt, "modifiedAt": dt, "attrs": {sub_attr_iri: [instance, ...]}?}

An attribute's instances are a list so multi-attributes (several datasetIds) need no special case;
the default instance has no ``datasetId`` key. The same shape nests for sub-attributes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final

Doc = dict[str, Any]
"""A stored entity document (see the module docstring)."""

NGSI_LD: Final = "https://uri.etsi.org/ngsi-ld/"
DEFAULT_VOCAB: Final = NGSI_LD + "default-context/"
NULL: Final = "urn:ngsi-ld:null"
CORE_CONTEXT_URL: Final = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
DEFAULT_TENANT: Final = ""
API_ROOT: Final = "/ngsi-ld/v1"
LD_CONTEXT_REL: Final = "http://www.w3.org/ns/json-ld#context"  # the Link relation naming a JSON-LD @context


class AttrKind(StrEnum):
    PROPERTY = "Property"
    RELATIONSHIP = "Relationship"
    GEO_PROPERTY = "GeoProperty"
    LANGUAGE_PROPERTY = "LanguageProperty"
    VOCAB_PROPERTY = "VocabProperty"
    JSON_PROPERTY = "JsonProperty"
    LIST_PROPERTY = "ListProperty"
    LIST_RELATIONSHIP = "ListRelationship"


VALUE_MEMBER: Final[dict[AttrKind, str]] = {
    AttrKind.PROPERTY: "value",
    AttrKind.RELATIONSHIP: "object",
    AttrKind.GEO_PROPERTY: "value",
    AttrKind.LANGUAGE_PROPERTY: "languageMap",
    AttrKind.VOCAB_PROPERTY: "vocab",
    AttrKind.JSON_PROPERTY: "json",
    AttrKind.LIST_PROPERTY: "valueList",
    AttrKind.LIST_RELATIONSHIP: "objectList",
}
VALUE_MEMBERS: Final = frozenset(VALUE_MEMBER.values())
KIND_BY_NAME: Final[dict[str, AttrKind]] = {k.value: k for k in AttrKind}

# Members of an attribute instance that are not sub-attributes.
SYSTEM_TIMES: Final = frozenset({"createdAt", "modifiedAt", "deletedAt"})
INSTANCE_MEMBERS: Final = frozenset(
    {"type", "datasetId", "observedAt", "unitCode", "valueType", "objectType", "expiresAt", "instanceId"}
    | VALUE_MEMBERS
    | SYSTEM_TIMES
)
# Output-only members a client may not send inside an attribute (linked-entity retrieval, lang).
OUTPUT_ONLY_MEMBERS: Final = frozenset({"entity", "entityList", "lang"})
# Top-level entity members that are not attributes.
ENTITY_MEMBERS: Final = frozenset({"id", "@id", "type", "@type", "scope", "@context", "expiresAt"} | SYSTEM_TIMES)
# Core terms for non-reified members: never usable as attribute names (§4.5.1).
NON_REIFIED_TERMS: Final = frozenset(
    {
        "id", "type", "scope", "datasetId", "instanceId", "observedAt", "unitCode", "valueType",
        "objectType", "expiresAt", "createdAt", "modifiedAt", "deletedAt", "lang", "@context",
        "value", "object", "languageMap", "vocab", "json", "valueList", "objectList", "entity", "entityList",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Change:
    """What one write did to one entity: the input of subscriptions, temporal history and metrics.

    ``before`` is None for a create and ``after`` is None for a delete.
    """

    tenant: str
    entity_id: str
    before: Doc | None
    after: Doc | None
    trigger: str


# ---- lexical rules -------------------------------------------------------------------------------

# A scheme, a colon, then at least one character and none of the characters IRIs forbid.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[.,]\d{1,6})?Z$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LANG_TAG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")


def is_uri(text: object) -> bool:
    """An absolute URI or IRI (RFC 3986/3987): a scheme, a colon, then no spaces or forbidden chars."""
    return isinstance(text, str) and _URI.fullmatch(text) is not None


def _is_simple_name(text: str) -> bool:
    if not text or not text[0].isalpha():
        return False
    return all(ch.isalnum() or ch == "_" for ch in text)


@lru_cache(maxsize=8192)
def _is_name(text: str) -> bool:
    prefix, colon, local = text.partition(":")
    if not colon:
        return _is_simple_name(text)
    return (_is_simple_name(prefix) and _is_simple_name(local)) or is_uri(text)


def is_name(text: object) -> bool:
    """The NGSI-LD name grammar (Annex A): ``letter (letter|digit|_)*``, optionally ``prefix:name``;
    a full IRI is accepted wherever a name is."""
    return isinstance(text, str) and _is_name(text)


def is_datetime(text: object) -> bool:
    """``YYYY-MM-DDThh:mm:ss[.f]Z`` naming a real instant."""
    if not isinstance(text, str) or _DATETIME.match(text) is None:
        return False
    try:
        datetime.fromisoformat(text[:19])
    except ValueError:
        return False
    return True


def is_date(text: object) -> bool:
    return isinstance(text, str) and _DATE.match(text) is not None


def is_language_tag(text: object) -> bool:
    return isinstance(text, str) and (text == "@none" or _LANG_TAG.match(text) is not None)


def is_scope(text: object) -> bool:
    """A scope path ``[/]level(/level)*`` whose levels follow the name grammar without prefixes."""
    if not isinstance(text, str) or not text:
        return False
    body = text[1:] if text.startswith("/") else text
    return bool(body) and all(_is_simple_name(level) for level in body.split("/"))
