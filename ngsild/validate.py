"""NGSI-LD payload rules: a client's (compacted, maybe concise) JSON becomes an expanded fragment in
the stored-document shape (see ``model``), or BadRequestData saying exactly what to fix.

Nothing here touches storage. System members a client sends (createdAt, modifiedAt, ...) are
ignored, as §5.2.5 requires. NGSI-LD Null (``urn:ngsi-ld:null``) is kept as a marker in the fragment
where the operation allows it (update, merge) and rejected everywhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from ngsild.errors import BadRequestData
from ngsild.geojson import geometry_error, is_geometry_shaped
from ngsild.jsonld import TermMap
from ngsild.model import (
    KIND_BY_NAME,
    NGSI_LD,
    NON_REIFIED_TERMS,
    NULL,
    OUTPUT_ONLY_MEMBERS,
    SYSTEM_TIMES,
    VALUE_MEMBER,
    VALUE_MEMBERS,
    AttrKind,
    Doc,
    is_datetime,
    is_language_tag,
    is_name,
    is_scope,
    is_uri,
)

_ENTITY_LEVEL = frozenset({"id", "@id", "type", "@type", "scope", "@context", "expiresAt"}) | SYSTEM_TIMES
_IGNORED_INSTANCE_MEMBERS = SYSTEM_TIMES | {"instanceId"} | OUTPUT_ONLY_MEMBERS
_META_MEMBERS = frozenset({"unitCode", "datasetId", "observedAt", "expiresAt", "valueType", "objectType"})
_KIND_NAME = {kind: kind.value for kind in AttrKind}
_NOT_SUB_ATTRIBUTES = (
    VALUE_MEMBERS
    | _IGNORED_INSTANCE_MEMBERS
    | {"type", "unitCode", "datasetId", "observedAt", "expiresAt", "valueType", "objectType"}
)
_RESERVED_IRIS = frozenset(NGSI_LD + t for t in NON_REIFIED_TERMS) | frozenset(
    {NGSI_LD + "hasValue", NGSI_LD + "hasObject", NGSI_LD + "hasLanguageMap", NGSI_LD + "hasVocab",
     NGSI_LD + "hasJSON", NGSI_LD + "hasValueList", NGSI_LD + "hasObjectList", NGSI_LD + "hasObjectType",
     NGSI_LD + "hasValueType"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Rules:
    """What an operation accepts."""

    require_id_type: bool = False
    allow_null: bool = False  # NGSI-LD Null as "delete this" (update attrs, merge)
    allow_nested_null: bool = False  # JSON null inside a JSON value (merge only)
    partial: bool = False  # an attribute fragment: no value member needed (partial attribute update)


CREATE = Rules(require_id_type=True)
REPLACE = Rules()
APPEND = Rules()
UPDATE = Rules(allow_null=True)
MERGE = Rules(allow_null=True, allow_nested_null=True)
PARTIAL = Rules(allow_null=True, partial=True)


def _bad(detail: str) -> BadRequestData:
    return BadRequestData(detail)


# ---- entities --------------------------------------------------------------------------------------


def entity(payload: Any, tm: TermMap, rules: Rules) -> Doc:
    """Validate an entity or entity fragment; return {"id"?, "type"?, "scope"?, "expiresAt"?, "attrs"}."""
    if not isinstance(payload, dict):
        raise _bad("the payload must be a JSON object")
    out: Doc = {"attrs": {}}
    if "id" in payload and "@id" in payload:
        raise _bad("give the entity id as either 'id' or '@id', not both")
    entity_id = payload.get("id", payload.get("@id"))
    if entity_id is not None or "id" in payload or "@id" in payload:
        if not is_uri(entity_id):
            raise _bad(f"the entity id {entity_id!r} is not a URI")
        out["id"] = entity_id
    elif rules.require_id_type:
        raise _bad("the entity has no 'id'")
    raw_type = payload.get("type", payload.get("@type"))
    if raw_type is not None or "type" in payload or "@type" in payload:
        out["type"] = entity_types(raw_type, tm)
    elif rules.require_id_type:
        raise _bad("the entity has no 'type'")
    if "scope" in payload:
        out["scope"] = scope(payload["scope"], rules)
    if "expiresAt" in payload:
        out["expiresAt"] = _datetime("(entity)", "expiresAt", payload["expiresAt"])
    attrs: dict[str, list[Doc]] = out["attrs"]
    for name, raw in payload.items():
        if name in _ENTITY_LEVEL:
            continue
        iri = attribute_name(name, tm)
        if raw is None:
            raise _bad(f"attribute {name!r} is null; use the NGSI-LD Null 'urn:ngsi-ld:null' to delete")
        found = instances(name, raw, tm, rules)
        if iri in attrs:  # the same attribute spelled twice (a term and its IRI)
            found = attrs[iri] + found
        if len(found) > 1:
            _check_datasets(name, found)
        attrs[iri] = found
    return out


def entity_types(raw: Any, tm: TermMap) -> list[str]:
    names = raw if isinstance(raw, list) else [raw]
    if not names:
        raise _bad("the entity type list is empty")
    out: list[str] = []
    for name in names:
        if not is_name(name):
            raise _bad(f"the entity type {name!r} is not a valid NGSI-LD name or IRI")
        iri = tm.expand(name)
        if iri not in out:
            out.append(iri)
    return out


def scope(raw: Any, rules: Rules) -> list[str] | str:
    if raw == NULL:
        if not rules.allow_null:
            raise _bad("the NGSI-LD Null is not allowed as scope here")
        return NULL
    items = raw if isinstance(raw, list) else [raw]
    for item in items:
        if not is_scope(item):
            raise _bad(f"scope {item!r} does not follow the scope grammar ([/]level(/level)*)")
    return list(dict.fromkeys(items))


def attribute_name(name: str, tm: TermMap) -> str:
    """Check an attribute name and expand it. A name outside the NGSI-LD grammar (which the spec says
    SHOULD be rejected) is accepted when the active @context defines it as a term: that is a
    deliberate mapping to an IRI, and published models use such names (Smart Data Models'
    WaterQualityObserved has ``N-TOT``)."""
    if not is_name(name) and name not in tm.terms:
        raise _bad(f"{name!r} is not a valid NGSI-LD attribute name")
    if name in NON_REIFIED_TERMS:
        raise _bad(f"{name!r} is a reserved NGSI-LD member and cannot be an attribute name")
    iri = tm.expand(name)
    if iri.startswith("@") or iri in _RESERVED_IRIS:
        raise _bad(f"{name!r} expands to the reserved term {iri} and cannot be an attribute name")
    return iri


def _check_datasets(name: str, insts: list[Doc]) -> None:
    seen: set[str | None] = set()
    for inst in insts:
        dataset = inst.get("datasetId")
        if dataset in seen:
            which = "the default instance" if dataset is None else f"datasetId {dataset}"
            raise _bad(f"attribute {name!r} has {which} more than once")
        seen.add(dataset)


# ---- attributes ------------------------------------------------------------------------------------


def instances(name: str, raw: Any, tm: TermMap, rules: Rules) -> list[Doc]:
    """One attribute member value: a single instance, or an array of instances (multi-attribute)."""
    if isinstance(raw, list) and raw and all(_looks_like_instance(i) for i in raw):
        return [instance(name, item, tm, rules) for item in raw]
    return [instance(name, raw, tm, rules)]


def _looks_like_instance(item: Any) -> bool:
    return isinstance(item, dict) and ("type" in item or any(m in item for m in VALUE_MEMBERS))


def partial_instance(name: str, raw: Any, tm: TermMap, stored_kind: str) -> Doc:
    """A Partial Attribute Update fragment (§5.6.4), read as the stored attribute's kind unless it
    names its own type, so the kind's member rules apply (no unitCode on a Relationship, ...)."""
    if not isinstance(raw, dict):
        raise _bad(f"the fragment for attribute {name!r} must be a JSON object")
    if not raw.keys() - {"type"}:
        raise _bad(f"the fragment for attribute {name!r} is empty: give the members to change")
    if raw.get("value") == NULL or any(raw.get(m) == NULL for m in VALUE_MEMBERS):
        return instance(name, raw, tm, PARTIAL)
    return instance(name, {"type": stored_kind, **raw}, tm, PARTIAL)


def instance(name: str, raw: Any, tm: TermMap, rules: Rules) -> Doc:
    """One attribute instance, normalized or concise."""
    if raw is None:
        raise _bad(f"attribute {name!r} is null")
    if raw == NULL:
        if not rules.allow_null:
            raise _bad(f"attribute {name!r}: the NGSI-LD Null is only allowed in update and merge")
        return {"type": AttrKind.PROPERTY.value, "value": NULL}
    if not isinstance(raw, dict):
        return _finish(name, AttrKind.PROPERTY, {"value": raw}, tm, rules)
    kind = _kind(name, raw, tm)
    if kind is None:
        if rules.partial:
            return _finish(name, None, raw, tm, rules)
        # A bare object: a GeoJSON geometry, or the JSON value of a Property (concise form).
        if is_geometry_shaped(raw):
            return _finish(name, AttrKind.GEO_PROPERTY, {"value": raw}, tm, rules)
        return _finish(name, AttrKind.PROPERTY, {"value": raw}, tm, rules)
    return _finish(name, kind, raw, tm, rules)


def _kind(name: str, raw: dict[str, Any], tm: TermMap) -> AttrKind | None:
    declared = raw.get("type")
    if declared is not None:
        if isinstance(declared, str):
            kind = KIND_BY_NAME.get(declared)
            if kind is None and tm.expand(declared).startswith(NGSI_LD):
                kind = KIND_BY_NAME.get(tm.expand(declared)[len(NGSI_LD) :])
            if kind is not None:
                return kind
            if is_geometry_shaped(raw):
                return None
        raise _bad(f"attribute {name!r} has the unknown attribute type {declared!r}")
    for kind, member in VALUE_MEMBER.items():
        if member in raw:
            if kind is AttrKind.PROPERTY and is_geometry_shaped(raw["value"]):
                return AttrKind.GEO_PROPERTY
            return kind
    return None


def _finish(name: str, kind: AttrKind | None, raw: dict[str, Any], tm: TermMap, rules: Rules) -> Doc:
    """Validate the members of one instance of ``kind`` (None: a partial fragment of unknown kind)."""
    out: Doc = {} if kind is None else {"type": _KIND_NAME[kind]}
    member = None if kind is None else VALUE_MEMBER[kind]
    keys = raw.keys()
    if kind is not None:
        present = keys & VALUE_MEMBERS
        if len(present) > 1 or (present and member not in present):
            foreign = sorted(present - {member})[0]
            raise _bad(f"attribute {name!r}: a {kind.value} cannot have a {foreign!r} member")
    if kind is not None and member is not None:
        if member not in raw:
            if not rules.partial:
                raise _bad(f"attribute {name!r}: a {kind.value} needs a {member!r} member")
        else:
            out[member] = _value(name, kind, raw[member], tm, rules)
    if keys & _META_MEMBERS:
        _finish_meta(name, kind, raw, tm, out)
    # Keys not copied into ``out`` are sub-attributes or ignored members (``type`` may be inferred).
    if len(keys) > len(out) - (kind is not None and "type" not in raw):
        _finish_sub_attributes(name, raw, keys, tm, rules, out)
    return out


def _finish_meta(name: str, kind: AttrKind | None, raw: dict[str, Any], tm: TermMap, out: Doc) -> None:
    if "unitCode" in raw:
        if kind not in (None, AttrKind.PROPERTY, AttrKind.LIST_PROPERTY):
            raise _bad(f"attribute {name!r}: a {kind.value if kind else 'this attribute'} cannot have unitCode")
        if not isinstance(raw["unitCode"], str):
            raise _bad(f"attribute {name!r}: unitCode must be a string")
        out["unitCode"] = raw["unitCode"]
    if "datasetId" in raw:
        dataset = raw["datasetId"]
        if dataset != "@none":
            if not is_uri(dataset) or dataset == NULL:
                raise _bad(f"attribute {name!r}: datasetId {dataset!r} is not a URI")
            out["datasetId"] = dataset
    if "observedAt" in raw:
        out["observedAt"] = _datetime(name, "observedAt", raw["observedAt"])
    if "expiresAt" in raw:
        out["expiresAt"] = _datetime(name, "expiresAt", raw["expiresAt"])
    if "valueType" in raw:
        if not isinstance(raw["valueType"], str):
            raise _bad(f"attribute {name!r}: valueType must be a string")
        out["valueType"] = tm.expand(raw["valueType"])
    if "objectType" in raw:
        if kind not in (None, AttrKind.RELATIONSHIP, AttrKind.LIST_RELATIONSHIP):
            raise _bad(f"attribute {name!r}: only relationships can have objectType")
        object_types = raw["objectType"] if isinstance(raw["objectType"], list) else [raw["objectType"]]
        if not object_types or not all(is_name(t) for t in object_types):
            raise _bad(f"attribute {name!r}: objectType must name entity types")
        expanded = [tm.expand(t) for t in object_types]
        out["objectType"] = expanded if isinstance(raw["objectType"], list) else expanded[0]


def _finish_sub_attributes(name: str, raw: dict[str, Any], keys: Any, tm: TermMap, rules: Rules, out: Doc) -> None:
    subs: dict[str, list[Doc]] = {}
    for key in keys - _NOT_SUB_ATTRIBUTES:
        sub = raw[key]
        if key.startswith("@"):
            raise _bad(f"attribute {name!r}: the member {key!r} is not allowed inside an attribute")
        sub_iri = attribute_name(key, tm)
        if sub is None:
            raise _bad(f"sub-attribute {name}.{key} is null")
        sub_rules = Rules(allow_null=rules.allow_null, allow_nested_null=rules.allow_nested_null)
        found = subs.get(sub_iri, []) + instances(f"{name}.{key}", sub, tm, sub_rules)
        if len(found) > 1:
            _check_datasets(f"{name}.{key}", found)
        subs[sub_iri] = found
    if subs:
        out["attrs"] = subs


def _datetime(name: str, member: str, value: Any) -> str:
    if not is_datetime(value):
        raise _bad(f"attribute {name!r}: {member} {value!r} is not a DateTime (YYYY-MM-DDThh:mm:ssZ)")
    return str(value).replace(",", ".")  # a decimal comma is accepted on input only (§4.6.3)


_SCALARS = (int, float, bool)


def _value(name: str, kind: AttrKind, value: Any, tm: TermMap, rules: Rules) -> Any:
    """Validate and expand the value member of one instance."""
    if kind is AttrKind.PROPERTY and (value.__class__ in _SCALARS or (value.__class__ is str and value != NULL)):
        return value  # the common case, settled without the general checks below
    if _is_null_form(kind, value):
        if not rules.allow_null:
            raise _bad(f"attribute {name!r}: the NGSI-LD Null is only allowed in update and merge")
        return value
    if value is None:
        raise _bad(f"attribute {name!r}: the value is null")
    match kind:
        case AttrKind.PROPERTY:
            _check_no_json_null(name, value, rules)
            return tm.expand_value(value)
        case AttrKind.GEO_PROPERTY:
            geometry = value
            if isinstance(value, str):
                try:
                    geometry = orjson.loads(value)
                except orjson.JSONDecodeError:
                    raise _bad(f"attribute {name!r}: the GeoProperty value is a string but not GeoJSON") from None
            error = geometry_error(geometry)
            if error:
                raise _bad(f"attribute {name!r}: invalid GeoJSON: {error}")
            return geometry
        case AttrKind.RELATIONSHIP:
            targets = value if isinstance(value, list) else [value]
            if not targets or not all(is_uri(t) for t in targets):
                raise _bad(f"attribute {name!r}: a Relationship object must be a URI or an array of URIs")
            return value
        case AttrKind.LANGUAGE_PROPERTY:
            if not isinstance(value, dict) or not value:
                raise _bad(f"attribute {name!r}: languageMap must be a non-empty object of language tags")
            for tag, text in value.items():
                if not is_language_tag(tag):
                    raise _bad(f"attribute {name!r}: {tag!r} is not a language tag")
                texts = text if isinstance(text, list) else [text]
                if not all(isinstance(t, str) for t in texts):
                    raise _bad(f"attribute {name!r}: languageMap values must be strings, got {text!r} for {tag!r}")
            return value
        case AttrKind.VOCAB_PROPERTY:
            words = value if isinstance(value, list) else [value]
            if not words or not all(isinstance(w, str) and w for w in words):
                raise _bad(f"attribute {name!r}: vocab must be a string or an array of strings")
            expanded = [tm.expand(w) for w in words]
            return expanded if isinstance(value, list) else expanded[0]
        case AttrKind.JSON_PROPERTY:
            if not isinstance(value, dict | list):
                raise _bad(f"attribute {name!r}: json must be a JSON object or array")
            return value
        case AttrKind.LIST_PROPERTY:
            if not isinstance(value, list):
                raise _bad(f"attribute {name!r}: valueList must be an array")
            _check_no_json_null(name, value, rules)
            return tm.expand_value(value)
        case AttrKind.LIST_RELATIONSHIP:
            if not isinstance(value, list):
                raise _bad(f"attribute {name!r}: objectList must be an array")
            targets = [t.get("object") if isinstance(t, dict) else t for t in value]
            if not all(is_uri(t) for t in targets):
                raise _bad(f"attribute {name!r}: objectList must hold URIs or {{'object': URI}} items")
            if NULL in targets and (targets != [NULL] or not rules.allow_null):
                raise _bad(f"attribute {name!r}: the NGSI-LD Null is only allowed as the whole objectList")
            return targets
    raise AssertionError(kind)  # pragma: no cover


def _is_null_form(kind: AttrKind, value: Any) -> bool:
    if kind in (AttrKind.LIST_PROPERTY, AttrKind.LIST_RELATIONSHIP):
        return isinstance(value, list) and value == [NULL]
    if kind is AttrKind.LANGUAGE_PROPERTY:
        return isinstance(value, dict) and value == {"@none": NULL}
    return isinstance(value, str) and value == NULL


def _check_no_json_null(name: str, value: Any, rules: Rules) -> None:
    if rules.allow_nested_null:
        return
    stack = [value]
    while stack:
        item = stack.pop()
        if item is None:
            raise _bad(f"attribute {name!r}: JSON null is not allowed inside a value")
        if item is not value and isinstance(item, str) and item == NULL:
            raise _bad(f"attribute {name!r}: the NGSI-LD Null inside a value is only allowed in merge")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def is_null_instance(inst: Doc) -> bool:
    """An instance whose value member is the NGSI-LD Null: 'delete this instance'."""
    kind = KIND_BY_NAME.get(inst.get("type", ""))
    if kind is None:
        return any(inst.get(m) == NULL for m in VALUE_MEMBERS)
    member = VALUE_MEMBER[kind]
    return member in inst and _is_null_form(kind, inst[member])


# ---- simplified (keyValues) input: merge only -----------------------------------------------------


def merge_fragment(payload: Any, tm: TermMap, existing: Doc, *, simplified: bool, lang: str | None) -> Doc:
    """A merge body read against the stored entity, for the two cases that need its kinds:

    - ``simplified`` (format=keyValues): each bare value becomes an instance of the existing
      attribute's kind; a new attribute is inferred as in concise input;
    - ``lang``: a plain string for an existing LanguageProperty replaces only that language
      (the deep merge keeps the other entries).
    """
    if not isinstance(payload, dict):
        raise _bad("the payload must be a JSON object")
    normalized: dict[str, Any] = {}
    for name, raw in payload.items():
        normalized[name] = raw
        if name in _ENTITY_LEVEL or raw == NULL:
            continue
        current = existing["attrs"].get(attribute_name(name, tm))
        if not current:
            continue
        kind = KIND_BY_NAME[current[0]["type"]]
        if simplified and _looks_like_instance(raw):
            written = _kind(name, raw, tm)
            if written is not None and written is not kind:
                raise _bad(f"attribute {name!r} is a {kind.value}; a keyValues merge cannot make it a {written.value}")
        if kind is AttrKind.LANGUAGE_PROPERTY and isinstance(raw, str) and (simplified or lang is not None):
            normalized[name] = {"type": kind.value, "languageMap": {lang or "@none": raw}}
        elif not simplified or _looks_like_instance(raw):
            continue
        elif kind is AttrKind.LANGUAGE_PROPERTY and isinstance(raw, dict) and "languageMap" in raw:
            normalized[name] = {"type": kind.value, **raw}
        else:
            normalized[name] = {"type": kind.value, VALUE_MEMBER[kind]: raw}
    return entity(normalized, tm, MERGE)
