"""The @context store (/jsonldContexts, §5.13): contexts clients add (Hosted, kept in the store so
they survive a restart), the broker's cache of downloaded ones (Cached), listing and deletion."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import datetime
from typing import Any

from ngsild.contexts import CACHED, HOSTED, CachedContext
from ngsild.core_context import is_core_context_url
from ngsild.errors import BadRequestData, OperationNotSupported, ResourceNotFound, StoreUnavailable
from ngsild.services.broker import Broker
from ngsild.store.port import StoredContext

KINDS = ("Hosted", "Cached", "ImplicitlyCreated")
log = logging.getLogger("ngsild.contexts")


async def load(broker: Broker) -> None:
    """Serve the stored contexts again after a restart."""
    for record in await broker.store.contexts():
        created = datetime.fromisoformat(record.created_at.replace("Z", "+00:00"))
        broker.contexts.host(record.local_id, record.kind, record.context, created)


async def restore(broker: Broker) -> asyncio.Task[None] | None:
    """``load`` now; while the store is unreachable (a database server may start after the broker,
    and requests get 503 meanwhile), keep retrying with backoff in the task returned."""
    try:
        await load(broker)
        return None
    except StoreUnavailable as exc:
        log.warning("hosted @contexts not loaded yet, retrying: %s", exc)
    return asyncio.create_task(_retry_load(broker))


async def _retry_load(broker: Broker, first_delay_s: float = 0.5, max_delay_s: float = 30.0) -> None:
    delay = first_delay_s
    while True:
        await asyncio.sleep(delay)
        try:
            await load(broker)
            return
        except StoreUnavailable:
            delay = min(delay * 2, max_delay_s)


async def add(broker: Broker, body: Any) -> str:
    """Add Hosted context (§5.13.2): check it is a usable @context, store it, return its local id."""
    if not isinstance(body, dict) or "@context" not in body:
        raise BadRequestData('the body must be a JSON object with an "@context" member')
    document = body["@context"]
    if not isinstance(document, dict | list | str):
        raise BadRequestData("@context must be an object, a URL or an array of them")
    await broker.contexts.check(document)
    local_id = uuid.uuid4().hex
    moment = broker.clock.now()
    await broker.store.put_context(StoredContext(local_id, HOSTED, document, broker.now()))
    broker.contexts.host(local_id, HOSTED, document, moment)
    return local_id


def listing(broker: Broker, kind: str | None) -> list[CachedContext]:
    if kind is not None and kind not in KINDS:
        raise BadRequestData(f"kind={kind!r} must be one of {', '.join(KINDS)}")
    return [e for e in broker.contexts.entries() if kind is None or e.kind == kind]


def find(broker: Broker, key: str) -> CachedContext:
    entry = broker.contexts.entry(key)
    if entry is None:
        if is_core_context_url(key):
            raise OperationNotSupported("the core @context is built into the broker; fetch it from its own URL")
        raise ResourceNotFound(f"there is no @context {key!r} in this broker", instance=key)
    return entry


def serve(broker: Broker, key: str) -> Any:
    """The content of a Hosted or ImplicitlyCreated context (Cached ones are not served, §5.13.4)."""
    entry = find(broker, key)
    if entry.kind == CACHED:
        raise OperationNotSupported(f"{entry.url} is a cached copy of a remote @context; fetch it from there")
    entry.use(broker.clock.now())
    return entry.document


async def delete(broker: Broker, key: str, *, reload: bool) -> None:
    """Delete (or, for a Cached entry, reload) a context (§5.13.5). The core context can only be
    reloaded, which is nothing to do: it is built in."""
    if is_core_context_url(key):
        if not reload:
            raise BadRequestData("the core @context cannot be deleted")
        return
    entry = broker.contexts.entry(key)
    if entry is None:
        raise ResourceNotFound(f"there is no @context {key!r} in this broker", instance=key)
    if reload:
        if entry.kind != CACHED:
            raise BadRequestData(f"only a Cached @context can be reloaded; {key!r} is {entry.kind}")
        await broker.contexts.reload(entry)
        return
    if entry.kind != CACHED:
        await broker.store.delete_context(entry.local_id)
    broker.contexts.forget(entry)
