"""Types and attributes discovery (§5.7.5-§5.7.10) over the local store."""

from __future__ import annotations

import uuid
from typing import Any

from ngsild.errors import ResourceNotFound
from ngsild.jsonld import TermMap
from ngsild.services.broker import Broker
from ngsild.services.entities import require_tenant
from ngsild.store.port import AttributeUse


def _list_id(kind: str) -> str:
    return f"urn:ngsi-ld:{kind}:{uuid.uuid4()}"


async def entity_types(broker: Broker, tenant: str, tm: TermMap, *, details: bool) -> Any:
    """EntityTypeList, or with details an EntityType per type with its attribute names."""
    await require_tenant(broker, tenant)
    types = await broker.store.types(tenant)
    if not details:
        return {"id": _list_id("EntityTypeList"), "type": "EntityTypeList", "typeList": [tm.compact(t) for t in types]}
    uses = await broker.store.attributes(tenant)
    return [
        {
            "id": type_iri,
            "type": "EntityType",
            "typeName": tm.compact(type_iri),
            "attributeNames": [tm.compact(u.attr) for u in uses if type_iri in u.types],
        }
        for type_iri in types
    ]


async def entity_type(broker: Broker, tenant: str, tm: TermMap, type_iri: str) -> dict[str, Any]:
    """EntityTypeInfo: how many entities have the type, and the attributes they use."""
    await require_tenant(broker, tenant)
    types = await broker.store.types(tenant)
    if type_iri not in types:
        raise ResourceNotFound(f"no entity has the type {type_iri}", instance=type_iri)
    uses = await broker.store.attributes(tenant, type_iri)
    return {
        "id": type_iri,
        "type": "EntityTypeInfo",
        "typeName": tm.compact(type_iri),
        "entityCount": types[type_iri],
        "attributeDetails": [
            {"id": u.attr, "type": "Attribute", "attributeName": tm.compact(u.attr), "attributeTypes": sorted(u.kinds)}
            for u in uses
        ],
    }


def _attribute(use: AttributeUse, tm: TermMap, *, full: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"id": use.attr, "type": "Attribute", "attributeName": tm.compact(use.attr)}
    if full:
        body["attributeCount"] = use.instances
        body["attributeTypes"] = sorted(use.kinds)
    body["typeNames"] = sorted(tm.compact(t) for t in use.types)
    return body


async def attributes(broker: Broker, tenant: str, tm: TermMap, *, details: bool) -> Any:
    """AttributeList, or with details an Attribute per attribute name."""
    await require_tenant(broker, tenant)
    uses = await broker.store.attributes(tenant)
    if not details:
        return {
            "id": _list_id("AttributeList"),
            "type": "AttributeList",
            "attributeList": [tm.compact(u.attr) for u in uses],
        }
    return [_attribute(u, tm, full=False) for u in uses]


async def attribute(broker: Broker, tenant: str, tm: TermMap, attr_iri: str) -> dict[str, Any]:
    await require_tenant(broker, tenant)
    for use in await broker.store.attributes(tenant):
        if use.attr == attr_iri:
            return _attribute(use, tm, full=True)
    raise ResourceNotFound(f"no entity has the attribute {attr_iri}", instance=attr_iri)
