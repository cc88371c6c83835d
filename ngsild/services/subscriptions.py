"""Subscription use cases (§5.8.1-§5.8.5): create, retrieve, query, update, delete, and loading
every stored subscription when the broker starts.

The store is the record; the notifier's registry (compiled subscriptions and their delivery
statistics) is this process's working copy, changed only after the store accepted the change.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from functools import partial

from ngsild import subscription
from ngsild.egress import EgressRefused
from ngsild.errors import BadRequestData, NgsiLdError, ResourceNotFound, StoreUnavailable
from ngsild.jsonld import TermMap
from ngsild.model import Doc
from ngsild.query.params import PageRequest
from ngsild.services.broker import Broker
from ngsild.services.matching import Compiled, compile_subscription

log = logging.getLogger("ngsild.subscriptions")


def _not_found(sub_id: str) -> ResourceNotFound:
    return ResourceNotFound(f"the subscription {sub_id} was not found", instance=sub_id)


async def _compiled(broker: Broker, tenant: str, doc: Doc) -> Compiled:
    """Compile the filters and resolve the @context notifications are compacted with (a
    ``jsonldContext`` that cannot be fetched is LdContextNotAvailable, §5.8.1)."""
    compiled = compile_subscription(tenant, doc, await broker.contexts.term_map([]))
    try:
        broker.settings.egress.check(doc["notification"]["endpoint"]["uri"])
    except EgressRefused as exc:
        raise BadRequestData(f"notification.endpoint.uri: {exc}") from None
    return compiled.with_term_map(await broker.contexts.term_map(subscription.notification_context(doc)))


async def create_subscription(broker: Broker, tenant: str, body: object, tm: TermMap, context: object) -> str:
    now = broker.clock.now()
    doc = subscription.create(body, tm, context, now, broker.now(), f"urn:ngsi-ld:Subscription:{uuid.uuid4()}")
    compiled = await _compiled(broker, tenant, doc)
    async with broker.delivery.editing:
        await broker.store.put_subscription(tenant, doc, create=True)
        broker.delivery.put(compiled, {})
    return str(doc["id"])


def _current(broker: Broker, tenant: str, sub_id: str) -> Compiled:
    compiled = broker.delivery.index.get(tenant, sub_id)
    if compiled is None:
        raise _not_found(sub_id)
    return compiled


def retrieve_subscription(broker: Broker, tenant: str, sub_id: str, tm: TermMap, *, sys_attrs: bool) -> Doc:
    compiled = _current(broker, tenant, sub_id)
    stats = broker.delivery.stats.get((tenant, sub_id), {})
    return subscription.served(compiled.doc, stats, tm, broker.clock.now(), sys_attrs=sys_attrs)


def query_subscriptions(
    broker: Broker, tenant: str, page: PageRequest, tm: TermMap, *, sys_attrs: bool
) -> tuple[list[Doc], int]:
    """One page of the tenant's subscriptions in creation order, and how many there are."""
    every = sorted(broker.delivery.index.of_tenant(tenant), key=lambda c: (c.doc["createdAt"], c.id))
    now = broker.clock.now()
    chosen = every[page.offset : page.offset + page.limit]
    return [
        subscription.served(c.doc, broker.delivery.stats.get((tenant, c.id), {}), tm, now, sys_attrs=sys_attrs)
        for c in chosen
    ], len(every)


async def update_subscription(broker: Broker, tenant: str, sub_id: str, fragment: object, tm: TermMap) -> None:
    """Update Subscription (§5.8.2). Two updates at once must not both start from one version, so the
    store write happens under a lock, after checking that the version this update started from is
    still current; the @context fetch happens outside it (a slow context server delays only this)."""
    while True:
        current = _current(broker, tenant, sub_id)
        doc = subscription.update(current.doc, fragment, tm, broker.clock.now(), broker.now())
        compiled = await _compiled(broker, tenant, doc)
        async with broker.delivery.editing:
            if broker.delivery.index.get(tenant, sub_id) is not current:
                continue  # changed (or deleted) meanwhile: start again from what is there now
            await broker.store.put_subscription(tenant, doc, create=False)
            broker.delivery.put(compiled)
            return


async def delete_subscription(broker: Broker, tenant: str, sub_id: str) -> None:
    async with broker.delivery.editing:
        _current(broker, tenant, sub_id)
        if not await broker.store.delete_subscription(tenant, sub_id):
            raise _not_found(sub_id)
        broker.delivery.remove(tenant, sub_id)


async def load(broker: Broker) -> int:
    """Compile every stored subscription (on start). A subscription whose @context cannot be had
    now is still matched, its notifications compacted with the core context, and logged."""
    core = await broker.contexts.term_map([])
    count = 0
    for stored in await broker.store.subscriptions():
        compiled = compile_subscription(stored.tenant, stored.doc, core)
        try:
            context = subscription.notification_context(stored.doc)
            compiled = compiled.with_term_map(await broker.contexts.term_map(context))
        except NgsiLdError as exc:
            log.warning("subscription %s: its @context is unavailable (%s); using the core context", compiled.id, exc)
        broker.delivery.put(compiled, stored.stats)
        count += 1
    return count


async def start(broker: Broker) -> asyncio.Task[None]:
    """Load the subscriptions and replay the outbox before the first request when the store
    answers; else the first write, or the background retries, load them. Then deliver until the
    task is cancelled."""
    broker.delivery.loader = partial(_load_and_recover, broker)
    try:
        await broker.delivery.ensure_loaded()
    except StoreUnavailable as exc:
        log.warning("subscriptions not loaded yet, retrying: %s", exc)
    return asyncio.create_task(_deliver(broker))


async def _load_and_recover(broker: Broker) -> None:
    await load(broker)
    await broker.delivery.recover()


async def _deliver(broker: Broker, first_delay_s: float = 0.5, max_delay_s: float = 30.0) -> None:
    delay = first_delay_s
    while not broker.delivery.loaded:
        await asyncio.sleep(delay)
        try:
            await broker.delivery.ensure_loaded()
        except Exception as exc:  # the store, or a stored subscription that cannot be compiled
            log.warning("subscriptions not loaded yet, retrying in %.1f s: %s", delay, exc)
            delay = min(delay * 2, max_delay_s)
    while True:  # supervised: a defect in the loop is logged and delivery goes on
        try:
            await broker.delivery.run()
        except Exception:
            log.exception("notification delivery stopped unexpectedly; restarting it")
            await asyncio.sleep(first_delay_s)
