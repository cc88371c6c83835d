"""Stored documents -> response bodies: normalized, concise or simplified (keyValues), with sysAttrs,
pick/omit projection, the lang filter, the datasetId filter, and GeoJSON Features. Every name is
compacted with the *request's* TermMap."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from ngsild.errors import BadRequestData
from ngsild.geojson import is_geometry_shaped
from ngsild.jsonld import TermMap
from ngsild.model import (
    KIND_BY_NAME,
    LD_CONTEXT_REL,
    VALUE_MEMBER,
    VALUE_MEMBERS,
    AttrKind,
    Doc,
    is_language_tag,
    is_uri,
)


class Form(StrEnum):
    NORMALIZED = "normalized"
    CONCISE = "concise"
    SIMPLIFIED = "simplified"


FORMS: Final = {
    "normalized": Form.NORMALIZED,
    "concise": Form.CONCISE,
    "simplified": Form.SIMPLIFIED,
    "keyValues": Form.SIMPLIFIED,
}
PROJECTED_MEMBERS: Final = frozenset({"id", "type", "scope"})  # entity members pick/omit name besides attributes


def context_link(context: Any) -> str | None:
    """The Link header naming ``context``: it can carry one URL; an inline or multi-element context has none."""
    if isinstance(context, list) and len(context) == 1:
        context = context[0]
    return f'<{context}>; rel="{LD_CONTEXT_REL}"; type="application/ld+json"' if isinstance(context, str) else None


@dataclass(frozen=True, slots=True)
class LangPreference:
    """An Accept-Language-style list, best first: ``fr-CH,fr;q=0.9,*;q=0.5``."""

    tags: tuple[str, ...]

    def choose(self, language_map: dict[str, Any]) -> str | None:
        """The key of ``language_map`` to show, or None when the map is empty."""
        if not language_map:
            return None
        lowered = {key.lower(): key for key in language_map}
        for tag in self.tags:
            if tag == "*":
                return "@none" if "@none" in language_map else next(iter(language_map))
            tag = tag.lower()
            while tag:
                if tag in lowered:
                    return lowered[tag]
                for key_lower, key in lowered.items():
                    if key_lower.startswith(tag + "-"):
                        return key
                tag = tag.rpartition("-")[0]
        return "@none" if "@none" in language_map else next(iter(language_map))


def parse_lang(raw: str) -> LangPreference:
    """The ``lang`` parameter (§4.15): language tags, ``*``, optional ``;q=`` qualities."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(raw.split(",")):
        tag, *params = (p.strip() for p in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            try:
                quality = float(value) if key == "q" else quality
            except ValueError:
                raise BadRequestData(f"lang={raw!r}: {param!r} is not a quality value") from None
        if tag != "*" and not is_language_tag(tag):
            raise BadRequestData(f"lang={raw!r}: {tag!r} is not a language tag")
        ranked.append((-quality, index, tag))
    return LangPreference(tuple(tag for _, _, tag in sorted(ranked)))


def parse_datasets(items: list[str]) -> frozenset[str | None]:
    """A datasetId selection: URIs, and ``@none`` for the default instance."""
    out: set[str | None] = set()
    for item in items:
        if item == "@none":
            out.add(None)
        elif is_uri(item):
            out.add(item)
        else:
            raise BadRequestData(f"datasetId: {item!r} is not a URI or @none")
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class RenderOptions:
    form: Form = Form.NORMALIZED
    sys_attrs: bool = False
    pick: frozenset[str] | None = None  # "id", "type", "scope" or attribute IRIs
    omit: frozenset[str] = frozenset()
    lang: LangPreference | None = None
    dataset_ids: frozenset[str | None] | None = None  # None stands for the default instance


_META_ORDER = ("datasetId", "observedAt", "unitCode", "valueType", "objectType", "expiresAt")


def entity(doc: Doc, tm: TermMap, opts: RenderOptions) -> dict[str, Any]:
    """The entity as the client asked for it (may be empty after projection)."""
    pick, omit = opts.pick, opts.omit
    out: dict[str, Any] = {}
    if keep("id", pick, omit):
        out["id"] = doc["id"]
    if keep("type", pick, omit):
        types = [tm.compact(t) for t in doc["type"]]
        out["type"] = types[0] if len(types) == 1 else types
    if "scope" in doc and keep("scope", pick, omit):
        scope = doc["scope"]
        out["scope"] = scope[0] if len(scope) == 1 else scope
    if "expiresAt" in doc and pick is None:
        out["expiresAt"] = doc["expiresAt"]
    if opts.sys_attrs:
        out["createdAt"] = doc["createdAt"]
        out["modifiedAt"] = doc["modifiedAt"]
    for iri, insts in doc["attrs"].items():
        if not keep(iri, pick, omit):
            continue
        if opts.dataset_ids is not None:
            insts = [i for i in insts if i.get("datasetId") in opts.dataset_ids]
            if not insts:
                continue
        out[tm.compact(iri)] = attribute(insts, tm, opts)
    return out


def keep(member: str, pick: frozenset[str] | None, omit: frozenset[str]) -> bool:
    return (pick is None or member in pick) and member not in omit


def attribute(insts: list[Doc], tm: TermMap, opts: RenderOptions) -> Any:
    """One attribute (all its instances) in the requested form."""
    if opts.form is Form.SIMPLIFIED:
        if len(insts) == 1:
            return _simplified(insts[0], tm, opts)
        return {"dataset": {i.get("datasetId", "@none"): _simplified(i, tm, opts) for i in insts}}
    if len(insts) == 1:
        return _instance(insts[0], tm, opts)
    # Several instances: each stays an object, or a concise array would read back as one value.
    return [_instance(i, tm, opts, collapse=False) for i in insts]


def _simplified(inst: Doc, tm: TermMap, opts: RenderOptions) -> Any:
    kind = KIND_BY_NAME[inst["type"]]
    value = inst[VALUE_MEMBER[kind]]
    match kind:
        case AttrKind.PROPERTY | AttrKind.LIST_PROPERTY:
            return tm.compact_value(value)
        case AttrKind.GEO_PROPERTY | AttrKind.RELATIONSHIP | AttrKind.LIST_RELATIONSHIP:
            return value
        case AttrKind.LANGUAGE_PROPERTY:
            if opts.lang is not None:
                chosen = opts.lang.choose(value)
                return None if chosen is None else value[chosen]
            return {"languageMap": value}
        case AttrKind.VOCAB_PROPERTY:
            return {"vocab": _compact_vocab(value, tm)}
        case AttrKind.JSON_PROPERTY:
            return {"json": value}
    raise AssertionError(kind)  # pragma: no cover


def _compact_vocab(value: Any, tm: TermMap) -> Any:
    return [tm.compact(v) for v in value] if isinstance(value, list) else tm.compact(value)


_PLAIN_VALUE = frozenset({"Property", "ListProperty"})
_STRUCTURED = (dict, list)


def _instance(inst: Doc, tm: TermMap, opts: RenderOptions, *, collapse: bool = True) -> Any:
    # The hot path of every read: plain string dispatch on the stored kind name, no enum lookups.
    kind_name: str = inst["type"]
    member = _MEMBER_BY_KIND[kind_name]
    value = inst[member]
    out: dict[str, Any] = {"type": kind_name}
    if kind_name in _PLAIN_VALUE:
        out[member] = tm.compact_value(value) if isinstance(value, _STRUCTURED) else value
    elif kind_name == "VocabProperty":
        out[member] = _compact_vocab(value, tm)
    elif kind_name == "ListRelationship":
        out[member] = [{"object": target} for target in value]
    elif kind_name == "LanguageProperty" and opts.lang is not None:
        chosen = opts.lang.choose(value)
        out = {"type": "Property", "value": None if chosen is None else value[chosen], "lang": chosen}
        kind_name, member = "Property", "value"
    else:
        out[member] = value
    for key in _META_ORDER:
        if key in inst:
            item = inst[key]
            if key == "objectType":
                item = _compact_vocab(item, tm)
            elif key == "valueType":
                item = tm.compact(item)
            out[key] = item
    if opts.sys_attrs:
        out["createdAt"] = inst["createdAt"]
        out["modifiedAt"] = inst["modifiedAt"]
    subs = inst.get("attrs")
    if subs:
        sub_opts = RenderOptions(opts.form, opts.sys_attrs, lang=opts.lang)
        for iri, sub_insts in subs.items():
            out[tm.compact(iri)] = attribute(sub_insts, tm, sub_opts)
    if opts.form is Form.CONCISE:
        return _concise(out, KIND_BY_NAME[kind_name], member, collapse)
    return out


_MEMBER_BY_KIND = {kind.value: member for kind, member in VALUE_MEMBER.items()}


def _concise(out: dict[str, Any], kind: AttrKind, member: str, collapse: bool) -> Any:
    """Drop ``type`` unless concise input would infer another kind; collapse to the bare value
    where it reads back the same (concise is lossless, §4.5.3.3)."""
    if kind is AttrKind.PROPERTY and is_geometry_shaped(out.get("value")):
        return out  # without its type, a Property holding a geometry would read back as a GeoProperty
    del out["type"]
    if collapse and len(out) == 1 and member in out:
        value = out[member]
        if kind is AttrKind.GEO_PROPERTY:
            return value
        if kind is AttrKind.PROPERTY and not _ambiguous_bare_value(value):
            return value
    return out


def _ambiguous_bare_value(value: Any) -> bool:
    """Would a bare value be read back as something other than this Property's value?"""
    if isinstance(value, dict):
        return "type" in value or any(m in value for m in VALUE_MEMBERS) or is_geometry_shaped(value)
    if isinstance(value, list):
        return bool(value) and all(
            isinstance(i, dict) and ("type" in i or any(m in i for m in VALUE_MEMBERS)) for i in value
        )
    return isinstance(value, str) and value == "urn:ngsi-ld:null"


def feature(
    doc: Doc, rendered: dict[str, Any], geometry_iri: str, dataset_ids: frozenset[str | None] | None
) -> dict[str, Any]:
    """A GeoJSON Feature (§4.5.16): ``properties`` holds the type and every rendered attribute."""
    geometry = None
    insts = doc["attrs"].get(geometry_iri, [])
    candidates = [i for i in insts if i["type"] == AttrKind.GEO_PROPERTY.value]
    if dataset_ids is not None:
        candidates = [i for i in candidates if i.get("datasetId") in dataset_ids]
    if candidates:
        default = [i for i in candidates if "datasetId" not in i]
        geometry = (default or candidates)[0]["value"]
    properties = {k: v for k, v in rendered.items() if k != "id"}
    out: dict[str, Any] = {"id": doc["id"], "type": "Feature", "geometry": geometry, "properties": properties}
    if "id" not in rendered:
        del out["id"]
    return out
