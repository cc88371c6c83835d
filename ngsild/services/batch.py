"""Batch entity operations (§5.6.7-§5.6.10, §5.6.20): every item goes through the same use case as
its single-entity twin in ``services.entities``, so validation and update semantics exist once.

Items run concurrently, which lets the store commit many of them in one transaction, except that
items naming the same id run one after another in array order (§5.5.11). Each item is atomic on
its own; one failing item never blocks or undoes another. All writes of a batch share one
``modifiedAt``. Results keep the array order.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ngsild.clock import FakeClock
from ngsild.errors import AlreadyExists, BadRequestData, NgsiLdError, ResourceNotFound
from ngsild.jsonld import CORE_TERM_MAP, TermMap
from ngsild.model import is_uri
from ngsild.services import entities
from ngsild.services.broker import Broker
from ngsild.updates import UpdateResult

Item = tuple[Any, TermMap | NgsiLdError]
"""One array element with the term map its @context gives, or the error resolving that context."""


@dataclass(slots=True)
class BatchResult:
    """The outcome of a batch, in array order. ``created`` lists the ids an upsert created."""

    success: list[str] = field(default_factory=list)
    errors: list[tuple[str | None, NgsiLdError]] = field(default_factory=list)
    created: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """A BatchOperationResult (§5.2.16)."""
        return {
            "success": self.success,
            "errors": [{"entityId": entity_id, "error": error.problem()} for entity_id, error in self.errors],
        }


@dataclass(frozen=True, slots=True)
class _Outcome:
    entity_id: str | None
    error: NgsiLdError | None = None
    created: bool = False


def _at_one_moment(broker: Broker) -> Broker:
    """The broker with its clock stopped at the batch's moment: every item's modifiedAt is the same."""
    return dataclasses.replace(broker, clock=FakeClock(broker.clock.now()))


def _id_of(payload: Any) -> str | None:
    """The id an item names, if it names one (used to order same-id items and to report errors)."""
    if isinstance(payload, dict):
        entity_id = payload.get("id", payload.get("@id"))
        return entity_id if isinstance(entity_id, str) else None
    return payload if isinstance(payload, str) else None


Apply = Callable[[Broker, Any, TermMap], Awaitable[bool]]
"""Run one item; True when it created an entity. Raises an NgsiLdError when the item fails."""


async def _run(broker: Broker, items: Sequence[Item], apply: Apply) -> BatchResult:
    broker = _at_one_moment(broker)
    outcomes: list[_Outcome | None] = [None] * len(items)
    chains: dict[str | None, list[int]] = {}
    for index, (payload, _) in enumerate(items):
        entity_id = _id_of(payload)
        # Items without a usable id fail validation on their own; they need no ordering.
        chains.setdefault(entity_id if entity_id is not None else f"\0{index}", []).append(index)

    async def chain(indexes: list[int]) -> None:
        for index in indexes:
            payload, tm = items[index]
            entity_id = _id_of(payload)
            try:
                if isinstance(tm, NgsiLdError):
                    raise tm
                created = await apply(broker, payload, tm)
            except NgsiLdError as error:
                outcomes[index] = _Outcome(entity_id, error)
            else:
                outcomes[index] = _Outcome(entity_id, created=created)

    await asyncio.gather(*(chain(indexes) for indexes in chains.values()))
    result = BatchResult()
    for outcome in outcomes:
        assert outcome is not None
        if outcome.error is not None:
            result.errors.append((outcome.entity_id, outcome.error))
        else:
            assert outcome.entity_id is not None
            result.success.append(outcome.entity_id)
            if outcome.created:
                result.created.append(outcome.entity_id)
    return result


def _require_id(payload: Any) -> str:
    entity_id = _id_of(payload)
    if not isinstance(payload, dict):
        raise BadRequestData("each item of the batch must be an entity (a JSON object)")
    if entity_id is None or not is_uri(entity_id):
        raise BadRequestData(f"the entity id {entity_id!r} is not a URI")
    return entity_id


def _all_updated(entity_id: str, result: UpdateResult) -> None:
    """An item whose attributes were not all written is reported, with each attribute and reason."""
    if result.not_updated:
        reasons = "; ".join(f"{n['attributeName']}: {n['reason']}" for n in result.not_updated)
        raise BadRequestData(f"the entity {entity_id} was not fully updated: {reasons}", instance=entity_id)


async def create(broker: Broker, tenant: str, items: Sequence[Item]) -> BatchResult:
    """Batch Entity Creation (§5.6.7): Create Entity per item."""

    async def apply(b: Broker, payload: Any, tm: TermMap) -> bool:
        await entities.create_entity(b, tenant, payload, tm)
        return True

    return await _run(broker, items, apply)


async def upsert(broker: Broker, tenant: str, items: Sequence[Item], *, replace: bool) -> BatchResult:
    """Batch Entity Create or Update (§5.6.8): create what is new; replace what exists (or, with
    options=update, update its attributes)."""

    async def apply(b: Broker, payload: Any, tm: TermMap) -> bool:
        for _ in range(entities.RETRIES):
            try:
                await entities.create_entity(b, tenant, payload, tm)
                return True
            except AlreadyExists:
                pass
            entity_id = _require_id(payload)
            try:
                if replace:
                    await entities.replace_entity(b, tenant, entity_id, payload, tm, None)
                else:
                    _all_updated(entity_id, await entities.update_attrs(b, tenant, entity_id, payload, tm, None))
                return False
            except ResourceNotFound:
                continue  # deleted between the two steps: create it after all
        raise entities.too_busy(_require_id(payload))

    return await _run(broker, items, apply)


async def update(broker: Broker, tenant: str, items: Sequence[Item], *, no_overwrite: bool) -> BatchResult:
    """Batch Entity Update (§5.6.9): Append Attributes per item (noOverwrite keeps what exists)."""
    await entities.require_tenant(broker, tenant)

    async def apply(b: Broker, payload: Any, tm: TermMap) -> bool:
        entity_id = _require_id(payload)
        result = await entities.append_attrs(b, tenant, entity_id, payload, tm, None, no_overwrite=no_overwrite)
        _all_updated(entity_id, result)
        return False

    return await _run(broker, items, apply)


async def merge(broker: Broker, tenant: str, items: Sequence[Item]) -> BatchResult:
    """Batch Entity Merge (§5.6.20): Merge Entity per item."""
    await entities.require_tenant(broker, tenant)

    async def apply(b: Broker, payload: Any, tm: TermMap) -> bool:
        await entities.merge_entity(b, tenant, _require_id(payload), payload, tm, None)
        return False

    return await _run(broker, items, apply)


async def delete(broker: Broker, tenant: str, ids: Sequence[Any]) -> BatchResult:
    """Batch Entity Deletion (§5.6.10): Delete Entity per id."""
    await entities.require_tenant(broker, tenant)

    async def apply(b: Broker, entity_id: Any, _: TermMap) -> bool:
        if not isinstance(entity_id, str) or not is_uri(entity_id):
            raise BadRequestData(f"{entity_id!r} is not an entity id (a URI string)")
        await entities.delete_entity(b, tenant, entity_id, None)
        return False

    return await _run(broker, [(entity_id, CORE_TERM_MAP) for entity_id in ids], apply)  # ids need no context
