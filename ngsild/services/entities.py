"""Entity use cases: create, retrieve, replace, merge, delete, and the attribute operations.

Every write validates first (so bad input changes nothing), then runs a revision-checked
read-modify-write through ``updates``, then publishes one Change.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from ngsild import updates, validate
from ngsild.errors import BadRequestData, Conflict, NonexistentTenant, ResourceNotFound, RevisionConflict
from ngsild.jsonld import TermMap
from ngsild.model import Change, Doc
from ngsild.query.ast import EntityQuery, Ordering, TypeSelector
from ngsild.query.match import types_match
from ngsild.query.params import PageRequest
from ngsild.services.broker import Broker
from ngsild.store.port import Outgoing, Page
from ngsild.updates import UpdateResult

R = TypeVar("R")
RETRIES = 16  # read-modify-write attempts before a write gives up with Conflict


async def lost_race(attempt: int) -> None:
    """Wait a little after losing a revision race, more after each loss, at random: writers that
    collided then retry apart instead of colliding again (on a remote database a round trip is long
    enough for many to read the same revision). At most ~50 ms."""
    await asyncio.sleep(random.uniform(0, min(0.05, 0.0005 * 2**attempt)))


async def require_tenant(broker: Broker, tenant: str) -> None:
    if not await broker.store.tenant_exists(tenant):
        raise NonexistentTenant(f"the tenant {tenant!r} does not exist", instance=tenant)


def too_busy(entity_id: str) -> Conflict:
    return Conflict(f"the entity {entity_id} is being updated too often concurrently; retry later")


def _not_found(entity_id: str) -> ResourceNotFound:
    return ResourceNotFound(f"the entity {entity_id} was not found", instance=entity_id)


async def create_entity(broker: Broker, tenant: str, payload: Any, tm: TermMap) -> str:
    """Create Entity (§5.6.1); the tenant is created by its first write. Returns the id."""
    fragment = validate.entity(payload, tm, validate.CREATE)
    doc = updates.create(fragment, broker.now())
    broker.admission.check(doc)
    change = Change(tenant, doc["id"], None, doc, "create")
    await broker.write(change, lambda outbox: broker.store.create(tenant, doc, outbox))
    return str(doc["id"])


async def query_entities(
    broker: Broker, tenant: str, query: EntityQuery, page: PageRequest, order: Ordering | None = None
) -> Page:
    """Query Entities (§5.7.2): one page of local matches, in creation order unless ``order`` is
    given (§5.8), with the total when asked."""
    await require_tenant(broker, tenant)
    return await broker.store.find(tenant, query, offset=page.offset, limit=page.limit, count=page.count, order=order)


async def retrieve_entity(broker: Broker, tenant: str, entity_id: str, types: TypeSelector | None) -> Doc:
    await require_tenant(broker, tenant)
    stored = await broker.store.get(tenant, entity_id)
    if stored is None or (types is not None and not types_match(types, stored.doc["type"])):
        raise _not_found(entity_id)
    return stored.doc


async def _modify(
    broker: Broker,
    tenant: str,
    entity_id: str,
    types: TypeSelector | None,
    trigger: str,
    apply: Callable[[Doc], tuple[Doc, R]],
) -> R:
    """Read, apply a pure update, write back at the read revision; retry when another write won."""
    await require_tenant(broker, tenant)
    for attempt in range(RETRIES):
        stored = await broker.store.get(tenant, entity_id)
        if stored is None or (types is not None and not types_match(types, stored.doc["type"])):
            raise _not_found(entity_id)
        doc, result = apply(stored.doc)
        broker.admission.check(doc)
        change = Change(tenant, entity_id, stored.doc, doc, trigger)
        try:
            await broker.write(change, partial(broker.store.replace, tenant, doc, stored.revision))
        except RevisionConflict:
            await lost_race(attempt)
            continue
        return result
    raise too_busy(entity_id)


async def replace_entity(
    broker: Broker, tenant: str, entity_id: str, payload: Any, tm: TermMap, types: TypeSelector | None
) -> None:
    fragment = validate.entity(payload, tm, validate.REPLACE)
    await _modify(
        broker,
        tenant,
        entity_id,
        types,
        "replace",
        lambda old: (updates.replace(old, fragment, broker.now()), None),
    )


async def merge_entity(
    broker: Broker,
    tenant: str,
    entity_id: str,
    payload: Any,
    tm: TermMap,
    types: TypeSelector | None,
    *,
    simplified: bool = False,
    observed_at: str | None = None,
    lang: str | None = None,
) -> None:
    """Merge Entity (§5.6.17). A simplified body (or one with ``lang``) needs the stored kinds, so it is
    validated against each read inside the update; an error there still happens before the write."""
    needs_stored_kinds = simplified or lang is not None
    fragment = None if needs_stored_kinds else validate.entity(payload, tm, validate.MERGE)

    def apply(old: Doc) -> tuple[Doc, None]:
        frag = (
            fragment
            if fragment is not None
            else validate.merge_fragment(payload, tm, old, simplified=simplified, lang=lang)
        )
        return updates.merge(old, frag, broker.now(), observed_at=observed_at), None

    await _modify(broker, tenant, entity_id, types, "merge", apply)


async def delete_entity(broker: Broker, tenant: str, entity_id: str, types: TypeSelector | None) -> None:
    await require_tenant(broker, tenant)
    for attempt in range(RETRIES):
        stored = await broker.store.get(tenant, entity_id)
        if stored is None or (types is not None and not types_match(types, stored.doc["type"])):
            raise _not_found(entity_id)
        change = Change(tenant, entity_id, stored.doc, None, "delete")
        try:
            await broker.write(change, partial(_delete_or_refuse, broker, tenant, entity_id, stored.revision))
        except RevisionConflict:
            await lost_race(attempt)
            continue
        return
    raise too_busy(entity_id)


async def _delete_or_refuse(
    broker: Broker, tenant: str, entity_id: str, revision: int, outbox: Sequence[Outgoing]
) -> bool:
    """A delete that found nothing must not keep the notifications staged for it."""
    if not await broker.store.delete(tenant, entity_id, revision, outbox):
        raise _not_found(entity_id)
    return True


async def append_attrs(
    broker: Broker,
    tenant: str,
    entity_id: str,
    payload: Any,
    tm: TermMap,
    types: TypeSelector | None,
    *,
    no_overwrite: bool,
) -> UpdateResult:
    fragment = validate.entity(payload, tm, validate.APPEND)
    return await _modify(
        broker, tenant, entity_id, types, "append",
        lambda old: updates.append(old, fragment, broker.now(), no_overwrite=no_overwrite),
    )  # fmt: skip


async def update_attrs(
    broker: Broker, tenant: str, entity_id: str, payload: Any, tm: TermMap, types: TypeSelector | None
) -> UpdateResult:
    fragment = validate.entity(payload, tm, validate.UPDATE)
    return await _modify(
        broker, tenant, entity_id, types, "update", lambda old: updates.update(old, fragment, broker.now())
    )


async def partial_update_attr(
    broker: Broker,
    tenant: str,
    entity_id: str,
    attr: str,
    payload: Any,
    tm: TermMap,
    types: TypeSelector | None,
) -> None:
    iri = validate.attribute_name(attr, tm)
    if not isinstance(payload, dict) or not payload.keys() - {"type"}:
        raise BadRequestData(f"the fragment for attribute {attr!r} must be a non-empty JSON object")

    def apply(old: Doc) -> tuple[Doc, None]:
        dataset = payload.get("datasetId")
        dataset = None if dataset == "@none" else dataset
        stored = old["attrs"].get(iri, [])
        target = next((i for i in stored if i.get("datasetId") == dataset), None)
        kind = target["type"] if target else "Property"  # a missing instance is a 404 in partial_update
        patch = validate.partial_instance(attr, payload, tm, kind)
        return updates.partial_update(old, iri, patch, broker.now()), None

    await _modify(
        broker,
        tenant,
        entity_id,
        types,
        "update",
        apply,
    )


async def replace_attr(
    broker: Broker,
    tenant: str,
    entity_id: str,
    attr: str,
    payload: Any,
    tm: TermMap,
    types: TypeSelector | None,
) -> None:
    iri = validate.attribute_name(attr, tm)
    if not isinstance(payload, dict):
        raise BadRequestData("the attribute must be a JSON object")
    inst = validate.instance(attr, payload, tm, validate.REPLACE)
    await _modify(
        broker,
        tenant,
        entity_id,
        types,
        "replace",
        lambda old: (updates.replace_attribute(old, iri, inst, broker.now()), None),
    )


async def delete_attr(
    broker: Broker,
    tenant: str,
    entity_id: str,
    iri: str,
    types: TypeSelector | None,
    *,
    dataset: str | None,
    delete_all: bool,
) -> None:
    def apply(old: Doc) -> tuple[Doc, None]:
        return updates.delete_attribute(old, iri, dataset=dataset, delete_all=delete_all, now=broker.now()), None

    await _modify(broker, tenant, entity_id, types, "delete", apply)
