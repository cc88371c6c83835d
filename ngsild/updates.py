"""Pure write semantics: how each NGSI-LD operation turns a stored document plus a validated fragment
(see ``validate``) into the next document. No I/O; the caller stores the result revision-checked.

Every function returns a new document and never mutates its inputs, so a failed write leaves the
caller's copy intact and ``Change.before`` stays the true previous state.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from ngsild.errors import BadRequestData, ResourceNotFound
from ngsild.model import KIND_BY_NAME, NGSI_LD, NULL, VALUE_MEMBER, VALUE_MEMBERS, Doc
from ngsild.validate import is_null_instance

SCOPE_IRI = NGSI_LD + "scope"


@dataclass
class UpdateResult:
    """The body of a 207 for attribute-level operations (§5.2.18): attribute FQNs."""

    updated: list[str] = field(default_factory=list)
    not_updated: list[dict[str, str]] = field(default_factory=list)

    def skip(self, attribute: str, reason: str) -> None:
        self.not_updated.append({"attributeName": attribute, "reason": reason})

    def as_json(self) -> dict[str, Any]:
        return {"updated": self.updated, "notUpdated": self.not_updated}


# ---- helpers ---------------------------------------------------------------------------------------


def _stamp(inst: Doc, now: str, created: str | None = None) -> Doc:
    """A copy of a fragment instance with system times set (recursively for sub-attributes)."""
    out = dict(inst)
    out["createdAt"] = created or now
    out["modifiedAt"] = now
    subs = inst.get("attrs")
    if subs:
        out["attrs"] = {iri: [_stamp(s, now) for s in insts] for iri, insts in subs.items()}
    return out


def _find(insts: list[Doc], dataset: str | None) -> int | None:
    for index, inst in enumerate(insts):
        if inst.get("datasetId") == dataset:
            return index
    return None


def _add_types(doc: Doc, types: list[str] | None) -> None:
    if types:
        doc["type"] = doc["type"] + [t for t in types if t not in doc["type"]]


def _touch(doc: Doc, now: str) -> Doc:
    doc["modifiedAt"] = now
    return doc


def _shallow(old: Doc) -> Doc:
    """A copy whose top level and attribute lists can be changed without touching ``old``."""
    doc = dict(old)
    doc["attrs"] = {iri: list(insts) for iri, insts in old["attrs"].items()}
    return doc


# ---- entity level ----------------------------------------------------------------------------------


def create(fragment: Doc, now: str) -> Doc:
    doc: Doc = {"id": fragment["id"], "type": list(fragment["type"])}
    if fragment.get("scope"):
        doc["scope"] = fragment["scope"]
    if "expiresAt" in fragment:
        doc["expiresAt"] = fragment["expiresAt"]
    doc["createdAt"] = now
    doc["modifiedAt"] = now
    doc["attrs"] = {iri: [_stamp(i, now) for i in insts] for iri, insts in fragment["attrs"].items()}
    return doc


def replace(old: Doc, fragment: Doc, now: str) -> Doc:
    """Replace Entity: attributes, scope and types come from the fragment; createdAt survives."""
    _check_same_id(old, fragment)
    doc = create({**fragment, "id": old["id"], "type": fragment.get("type") or old["type"]}, now)
    doc["createdAt"] = old["createdAt"]
    for iri, insts in doc["attrs"].items():
        previous = old["attrs"].get(iri, [])
        for inst in insts:
            index = _find(previous, inst.get("datasetId"))
            if index is not None:
                inst["createdAt"] = previous[index]["createdAt"]
    return doc


def _check_same_id(old: Doc, fragment: Doc) -> None:
    if "id" in fragment and fragment["id"] != old["id"]:
        raise BadRequestData(f"the payload id {fragment['id']} differs from the entity id {old['id']} in the path")


def append(old: Doc, fragment: Doc, now: str, *, no_overwrite: bool) -> tuple[Doc, UpdateResult]:
    """Append Attributes (§5.6.3): add new instances; replace existing ones unless noOverwrite."""
    _check_same_id(old, fragment)
    doc, result = _shallow(old), UpdateResult()
    _add_types(doc, fragment.get("type"))
    if "expiresAt" in fragment:
        doc["expiresAt"] = fragment["expiresAt"]
    if "scope" in fragment:
        current = doc.get("scope", [])
        doc["scope"] = list(dict.fromkeys(current + fragment["scope"])) if no_overwrite else fragment["scope"]
        result.updated.append(SCOPE_IRI)
    for iri, insts in fragment["attrs"].items():
        targets = doc["attrs"].setdefault(iri, [])
        changed = False
        for inst in insts:
            index = _find(targets, inst.get("datasetId"))
            if index is None:
                targets.append(_stamp(inst, now))
                changed = True
            elif no_overwrite:
                result.skip(iri, "the attribute exists and options=noOverwrite was given")
            else:
                targets[index] = _stamp(inst, now, targets[index]["createdAt"])
                changed = True
        if changed:
            result.updated.append(iri)
        if not targets:
            del doc["attrs"][iri]
    return _touch(doc, now), result


def update(old: Doc, fragment: Doc, now: str) -> tuple[Doc, UpdateResult]:
    """Update Attributes (§5.6.2, partial update patch §5.5.8): replace whole instances, delete on
    NGSI-LD Null, append what is missing; scope only where the entity already has one."""
    _check_same_id(old, fragment)
    doc, result = _shallow(old), UpdateResult()
    _add_types(doc, fragment.get("type"))
    if "expiresAt" in fragment:
        doc["expiresAt"] = fragment["expiresAt"]
    if "scope" in fragment:
        if "scope" not in doc:
            result.skip(SCOPE_IRI, "the entity has no scope to update")
        elif fragment["scope"] == NULL:
            del doc["scope"]
            result.updated.append(SCOPE_IRI)
        else:
            doc["scope"] = fragment["scope"]
            result.updated.append(SCOPE_IRI)
    for iri, insts in fragment["attrs"].items():
        targets = doc["attrs"].setdefault(iri, [])
        changed = False
        for inst in insts:
            index = _find(targets, inst.get("datasetId"))
            if is_null_instance(inst):
                if index is None:
                    result.skip(iri, "there is no such attribute instance to delete")
                    continue
                del targets[index]
            elif index is None:
                targets.append(_stamp(_without_nulls(inst), now))
            else:
                targets[index] = _stamp(_without_nulls(inst), now, targets[index]["createdAt"])
            changed = True
        if changed:
            result.updated.append(iri)
        if not targets:
            del doc["attrs"][iri]
    return _touch(doc, now), result


def merge(old: Doc, fragment: Doc, now: str, *, observed_at: str | None = None) -> Doc:
    """Merge Entity (§5.6.17): RFC 7396-style deep merge after expansion; NGSI-LD Null deletes."""
    _check_same_id(old, fragment)
    doc = _shallow(old)
    _add_types(doc, fragment.get("type"))
    if "scope" in fragment:
        if fragment["scope"] == NULL:
            doc.pop("scope", None)
        else:
            doc["scope"] = fragment["scope"]
    if "expiresAt" in fragment:
        doc["expiresAt"] = fragment["expiresAt"]
    _merge_attrs(doc["attrs"], fragment["attrs"], now, observed_at)
    return _touch(doc, now)


def _merge_attrs(
    attrs: dict[str, list[Doc]], incoming: dict[str, list[Doc]], now: str, observed_at: str | None
) -> None:
    for iri, insts in incoming.items():
        targets = list(attrs.get(iri, []))
        for inst in insts:
            index = _find(targets, inst.get("datasetId"))
            if is_null_instance(inst):
                if index is not None:
                    del targets[index]
            elif index is None:
                targets.append(_stamp(_without_nulls(inst), now))
            else:
                targets[index] = _merge_instance(targets[index], inst, now, observed_at)
        if targets:
            attrs[iri] = targets
        else:
            attrs.pop(iri, None)


def _merge_instance(old: Doc, patch: Doc, now: str, observed_at: str | None) -> Doc:
    out = copy.copy(old)
    new_kind = patch.get("type", old["type"])
    if new_kind != old["type"]:
        for member in VALUE_MEMBERS | {"unitCode", "valueType", "objectType"}:
            out.pop(member, None)
    for key, value in patch.items():
        if key == "attrs":
            subs = {iri: list(insts) for iri, insts in old.get("attrs", {}).items()}
            _merge_attrs(subs, value, now, None)
            if subs:
                out["attrs"] = subs
            else:
                out.pop("attrs", None)
        elif key in ("value", "languageMap") and new_kind == old["type"]:
            out[key] = _merge_json(old.get(key), value)
        else:
            out[key] = value
    if observed_at is not None and "observedAt" in old and "observedAt" not in patch:
        out["observedAt"] = observed_at
    out["modifiedAt"] = now
    return out


def _merge_json(old: Any, patch: Any) -> Any:
    """RFC 7396 on JSON values, with the NGSI-LD Null (or JSON null) removing a key."""
    if not isinstance(patch, dict) or not isinstance(old, dict):
        return _drop_nested_nulls(patch)
    out = dict(old)
    for key, value in patch.items():
        if value is None or value == NULL:
            out.pop(key, None)
        else:
            out[key] = _merge_json(old.get(key), value)
    return out


def _without_nulls(inst: Doc) -> Doc:
    """A new instance built from a fragment: NGSI-LD Nulls (delete markers) inside it mean "absent",
    for keys of its JSON value and for whole sub-attributes alike."""
    out = dict(inst)
    if isinstance(out.get("value"), dict | list):
        out["value"] = _drop_nested_nulls(out["value"])
    subs = inst.get("attrs")
    if subs:
        kept = {
            iri: [_without_nulls(s) for s in sub_insts if not is_null_instance(s)] for iri, sub_insts in subs.items()
        }
        kept = {iri: sub_insts for iri, sub_insts in kept.items() if sub_insts}
        if kept:
            out["attrs"] = kept
        else:
            del out["attrs"]
    return out


def _drop_nested_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nested_nulls(v) for k, v in value.items() if v is not None and v != NULL}
    if isinstance(value, list):
        return [_drop_nested_nulls(v) for v in value]
    return value


# ---- attribute level -------------------------------------------------------------------------------


def _instance_index(doc: Doc, iri: str, dataset: str | None) -> int:
    insts = doc["attrs"].get(iri)
    if not insts:
        raise ResourceNotFound(f"the entity {doc['id']} has no attribute {iri}", instance=doc["id"])
    index = _find(insts, dataset)
    if index is None:
        which = "no default instance" if dataset is None else f"no instance with datasetId {dataset}"
        raise ResourceNotFound(f"the attribute {iri} of {doc['id']} has {which}", instance=doc["id"])
    return index


def partial_update(old: Doc, iri: str, patch: Doc, now: str) -> Doc:
    """Partial Attribute Update (§5.6.4): overwrite the members the fragment gives; a Null deletes
    the instance (as the test suite expects, see the spec digest Appendix A #6)."""
    dataset = patch.get("datasetId")
    index = _instance_index(old, iri, dataset)
    doc = _shallow(old)
    targets = doc["attrs"][iri]
    current = targets[index]
    if is_null_instance(patch):
        del targets[index]
        if not targets:
            del doc["attrs"][iri]
        return _touch(doc, now)
    if "type" in patch and patch["type"] != current["type"]:
        raise BadRequestData(
            f"the attribute {iri} is a {current['type']}; a partial update cannot change it to {patch['type']}"
        )
    kind = KIND_BY_NAME[current["type"]]
    for member in VALUE_MEMBERS - {VALUE_MEMBER[kind]}:
        if member in patch:
            raise BadRequestData(f"the attribute {iri} is a {kind.value}; it has no {member!r} member")
    merged = dict(current)
    for key, value in patch.items():
        if key == "attrs":
            subs = {s: list(insts) for s, insts in current.get("attrs", {}).items()}
            for sub_iri, sub_insts in value.items():
                for sub in sub_insts:
                    existing = subs.setdefault(sub_iri, [])
                    at = _find(existing, sub.get("datasetId"))
                    if is_null_instance(sub):
                        if at is not None:
                            del existing[at]
                    elif at is None:
                        existing.append(_stamp(_without_nulls(sub), now))
                    else:
                        existing[at] = _stamp(_without_nulls(sub), now, existing[at]["createdAt"])
                if not subs[sub_iri]:
                    del subs[sub_iri]
            if subs:
                merged["attrs"] = subs
            else:
                merged.pop("attrs", None)
        else:
            merged[key] = value
    merged["modifiedAt"] = now
    targets[index] = merged
    return _touch(doc, now)


def replace_attribute(old: Doc, iri: str, inst: Doc, now: str) -> Doc:
    """Replace Attribute (§5.6.19): the targeted instance is replaced whole; its type may change."""
    index = _instance_index(old, iri, inst.get("datasetId"))
    doc = _shallow(old)
    targets = doc["attrs"][iri]
    targets[index] = _stamp(inst, now, targets[index]["createdAt"])
    return _touch(doc, now)


def delete_attribute(old: Doc, iri: str, *, dataset: str | None, delete_all: bool, now: str) -> Doc:
    """Delete Attribute (§5.6.5): the default instance, one datasetId, or every instance."""
    doc = _shallow(old)
    if iri == SCOPE_IRI:
        if "scope" not in doc:
            raise ResourceNotFound(f"the entity {old['id']} has no scope", instance=old["id"])
        del doc["scope"]
        return _touch(doc, now)
    if delete_all:
        if iri not in doc["attrs"]:
            raise ResourceNotFound(f"the entity {old['id']} has no attribute {iri}", instance=old["id"])
        del doc["attrs"][iri]
        return _touch(doc, now)
    index = _instance_index(old, iri, dataset)
    del doc["attrs"][iri][index]
    if not doc["attrs"][iri]:
        del doc["attrs"][iri]
    return _touch(doc, now)
