"""What a notification says (§5.3.1, §5.8.6): the notified entity in the subscription's format and
projection, with previous values (showChanges), the NGSI-LD Null for what was deleted, and the
Notification around it. Rendered when the change happens, so the outbox holds exactly what the
subscriber is told, whenever it is delivered.
"""

from __future__ import annotations

import uuid
from typing import Any, Final

from ngsild import render, subscription
from ngsild.jsonld import TermMap
from ngsild.model import KIND_BY_NAME, NULL, VALUE_MEMBER, AttrKind, Change, Doc
from ngsild.render import Form, RenderOptions
from ngsild.services import channels
from ngsild.services.matching import Compiled, Diff
from ngsild.store.port import Outgoing

_PREVIOUS: Final = {
    AttrKind.PROPERTY: "previousValue",
    AttrKind.GEO_PROPERTY: "previousValue",
    AttrKind.RELATIONSHIP: "previousObject",
    AttrKind.LANGUAGE_PROPERTY: "previousLanguageMap",
    AttrKind.JSON_PROPERTY: "previousJson",
    AttrKind.VOCAB_PROPERTY: "previousVocab",
    AttrKind.LIST_PROPERTY: "previousValueList",
    AttrKind.LIST_RELATIONSHIP: "previousObjectList",
}
LD_JSON: Final = "application/ld+json"
GEO_JSON: Final = "application/geo+json"


def render_options(sub: Compiled) -> RenderOptions:
    """How this subscription's notifications render entities (worked out once, when it is compiled)."""
    return sub.render


def _null_instance(inst: Doc, form: Form) -> Any:
    if form is Form.SIMPLIFIED:
        return NULL
    kind = KIND_BY_NAME[inst["type"]]
    value: Any = {"@none": NULL} if kind is AttrKind.LANGUAGE_PROPERTY else NULL
    out = {"type": inst["type"], VALUE_MEMBER[kind]: value}
    if "datasetId" in inst:
        out["datasetId"] = inst["datasetId"]
    return out


def _with_previous(rendered: Any, old: Doc, tm: TermMap) -> Any:
    """The rendered instance with the previous value of the same kind (never for keyValues)."""
    kind = KIND_BY_NAME[old["type"]]
    if not isinstance(rendered, dict):  # a concise bare value
        rendered = {"value": rendered}
    previous = old[VALUE_MEMBER[kind]]
    rendered[_PREVIOUS[kind]] = tm.compact_value(previous) if kind is AttrKind.PROPERTY else previous
    return rendered


def _attach_previous(out: Doc, name: str, old: list[Doc], listed: bool, tm: TermMap) -> None:
    """Previous values on the rendered attribute; ``listed``: it is rendered as a list of instances
    (a concise value that happens to be an array is one instance)."""
    current = out.get(name)
    if current is None or not old:
        return
    if listed and isinstance(current, list):
        by_dataset = {i.get("datasetId"): i for i in old}
        out[name] = [
            _with_previous(i, by_dataset[i.get("datasetId")], tm)
            if isinstance(i, dict) and i.get("datasetId") in by_dataset
            else i
            for i in current
        ]
    elif len(old) == 1:
        out[name] = _with_previous(current, old[0], tm)


def _deleted(sub: Compiled, before: Doc, tm: TermMap, opts: RenderOptions, show_changes: bool, now: str) -> Doc:
    """A deleted entity: id, type, deletedAt (+ system times), and with showChanges every attribute
    as NGSI-LD Null with its previous value."""
    out: Doc = {"id": before["id"]}
    types = [tm.compact(t) for t in before["type"]]
    out["type"] = types[0] if len(types) == 1 else types
    out["deletedAt"] = now
    if opts.sys_attrs:
        out["createdAt"], out["modifiedAt"] = before["createdAt"], before["modifiedAt"]
    if "entityDeleted" not in sub.triggers and sub.watched is not None:
        # Fired as attributeDeleted: the watched attributes went with the entity (ETSI 046_22_12).
        for iri in sorted(sub.watched & before["attrs"].keys()):
            if render.keep(iri, opts.pick, opts.omit):
                out[tm.compact(iri)] = _null_instance(before["attrs"][iri][0], opts.form)
    if show_changes:
        for iri, insts in before["attrs"].items():
            if render.keep(iri, opts.pick, opts.omit):
                name = tm.compact(iri)
                out[name] = _null_instance(insts[0], opts.form)
                _attach_previous(out, name, insts[:1], False, tm)
    return out


def notified_entity(sub: Compiled, change: Change, changed: Diff, tm: TermMap, now: str) -> Doc:
    """The entity as this subscription is told about it (§5.8.6; deletion shapes of the ETSI tests):
    what was deleted shows as the NGSI-LD Null, a removed datasetId instance beside the others."""
    opts = render_options(sub)
    show_changes = sub.doc["notification"].get("showChanges", False)
    if change.after is None:
        assert change.before is not None
        return _deleted(sub, change.before, tm, opts, show_changes, now)
    after_attrs = change.after["attrs"]
    out = render.entity(change.after, tm, opts)
    listed = {iri for iri, insts in after_attrs.items() if len(insts) > 1}
    for iri, gone in sorted(changed.removed.items()):
        if not render.keep(iri, opts.pick, opts.omit):
            continue
        name = tm.compact(iri)
        nulls = [_null_instance(inst, opts.form) for inst in gone]
        if opts.sys_attrs:
            for null in nulls:
                if isinstance(null, dict):
                    null["deletedAt"] = now
        if iri not in after_attrs:
            out[name] = nulls[0] if len(nulls) == 1 else nulls
            listed.update([iri] if len(nulls) > 1 else [])
        elif opts.form is not Form.SIMPLIFIED and name in out:
            current = out[name]
            out[name] = (current if iri in listed else [current]) + nulls
            listed.add(iri)
    if show_changes and change.before is not None:
        before_attrs = change.before["attrs"]
        for iri in sorted(changed.updated | changed.deleted):
            if render.keep(iri, opts.pick, opts.omit):
                _attach_previous(out, tm.compact(iri), before_attrs[iri], iri in listed, tm)
    return out


def notification(sub: Compiled, docs: list[Doc], entities: list[Doc], now: str) -> Outgoing:
    """The Notification for these entities (``docs`` are the stored documents, for GeoJSON)."""
    accept = sub.doc["notification"]["endpoint"].get("accept", "application/json")
    data: Any
    if accept == GEO_JSON:
        geometry = sub.doc.get("geoQ", {}).get("geoproperty", "https://uri.etsi.org/ngsi-ld/location")
        datasets = render_options(sub).dataset_ids
        data = {
            "type": "FeatureCollection",
            "features": [
                render.feature(doc, entity, geometry, datasets) for doc, entity in zip(docs, entities, strict=True)
            ],
        }
        if not channels.body_json(sub.doc):  # else the @context goes in a Link header (§6.3.6)
            data["@context"] = subscription.notification_context(sub.doc)
    elif accept == LD_JSON:
        data = [{**entity, "@context": subscription.notification_context(sub.doc)} for entity in entities]
    else:
        data = entities
    key = f"urn:ngsi-ld:Notification:{uuid.uuid4()}"
    body = {"id": key, "type": "Notification", "subscriptionId": sub.id, "notifiedAt": now, "data": data}
    return Outgoing(key, sub.tenant, sub.id, body, accept)
