"""The storage port: a narrow, NGSI-LD-agnostic contract over whole entity documents.

Adapters know nothing of update semantics (``updates.py`` does). Every write is revision-checked so
a read-modify-write never loses a concurrent update; a successful return means the write is durable
(committed to disk, or acknowledged by the database). The contract tests in
``tests/store/test_contract.py`` run unchanged against every adapter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from ngsild.model import Doc
from ngsild.query.ast import EntityQuery, Ordering


@dataclass(frozen=True, slots=True)
class AttributeUse:
    """One attribute name as used by the entities of a tenant (discovery, §5.7.5-§5.7.11)."""

    attr: str
    kinds: frozenset[str]  # Property, Relationship, ...
    types: frozenset[str]  # IRIs of the entity types that have it
    instances: int  # attribute instances across all entities
    entities: int


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a query result, in creation order; ``total`` counts every match when asked."""

    docs: list[Doc]
    total: int | None = None


@dataclass(slots=True)
class Paging:
    """Cuts a page from matches as they stream in creation order, counting them all when asked."""

    offset: int
    limit: int
    count: bool
    docs: list[Doc] = field(default_factory=list)
    seen: int = 0

    def add(self, doc: Doc) -> bool:
        """Take one match; True once nothing more is needed (the page is full and no count is asked)."""
        if self.offset <= self.seen < self.offset + self.limit:
            self.docs.append(doc)
        self.seen += 1
        return not self.count and self.seen >= self.offset + self.limit

    def page(self) -> Page:
        return Page(self.docs, self.seen if self.count else None)


@dataclass(frozen=True, slots=True)
class StoredContext:
    """A JSON-LD context the broker holds for clients (/jsonldContexts, §5.13): the value of its
    ``@context`` member, its kind (Hosted or ImplicitlyCreated) and when it was added."""

    local_id: str
    kind: str
    context: object
    created_at: str


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One notification in the durable outbox: written with the change that caused it, removed
    once delivered (or given up). ``key`` is the notification id, stable across retries."""

    key: str
    tenant: str
    subscription_id: str
    body: Doc  # the Notification, rendered when the change happened
    accept: str = "application/json"  # the media type it was rendered for


@dataclass(frozen=True, slots=True)
class StoredSubscription:
    """A subscription as stored: its document, and its delivery statistics kept apart so that
    recording a delivery never races with an update of the subscription."""

    tenant: str
    doc: Doc
    stats: Doc


@dataclass(frozen=True, slots=True)
class Stored:
    """A document as stored, with the revision a later ``replace`` must name."""

    doc: Doc
    revision: int


class Store(Protocol):
    async def open(self) -> None:
        """Connect, create the schema if missing; called once before any other method."""
        ...

    async def close(self) -> None:
        """Finish pending writes and release every resource."""
        ...

    async def tenant_exists(self, tenant: str) -> bool:
        """Whether ``tenant`` has been created (the default tenant always exists)."""
        ...

    async def create(self, tenant: str, doc: Doc, outbox: Sequence[Outgoing] = ()) -> None:
        """Insert a new document, creating the tenant if needed. Every write takes the
        notifications it causes (``outbox``) and stores them atomically with the document.

        Raises AlreadyExists when a document with ``doc["id"]`` exists in that tenant.
        """
        ...

    async def get(self, tenant: str, entity_id: str) -> Stored | None:
        """The document with this id, or None (also for an unknown tenant)."""
        ...

    async def replace(self, tenant: str, doc: Doc, revision: int, outbox: Sequence[Outgoing] = ()) -> int:
        """Overwrite the document with ``doc["id"]`` if its revision is still ``revision``.

        Returns the new revision. Raises RevisionConflict when the stored revision differs, and
        ResourceNotFound when the document no longer exists.
        """
        ...

    async def delete(
        self, tenant: str, entity_id: str, revision: int | None = None, outbox: Sequence[Outgoing] = ()
    ) -> bool:
        """Delete a document (only at ``revision`` when given). Returns whether one was deleted.

        Raises RevisionConflict when ``revision`` is given and differs.
        """
        ...

    async def find(
        self, tenant: str, query: EntityQuery, *, offset: int, limit: int, count: bool, order: Ordering | None = None
    ) -> Page:
        """The documents that ``query.match.matches(query, doc)`` accepts, in creation order (the
        order the entities were first stored; replacing one keeps its place) or as ``order`` asks,
        ``offset``/``limit`` applied, and the number of all matches when ``count`` is true.

        This is the reference contract the property tests check:
        ``order.sort([d for d in all_in_creation_order if matches(query, d)])[offset:offset + limit]``.
        Creation order is what indexes deliver without a sort, and it is stable across pages.
        """
        ...

    async def types(self, tenant: str) -> dict[str, int]:
        """Every entity type IRI in the tenant with its number of entities."""
        ...

    async def attributes(self, tenant: str, entity_type: str | None = None) -> list[AttributeUse]:
        """How attributes are used (optionally among entities of one type)."""
        ...

    async def count(self, tenant: str) -> int:
        """How many documents the tenant holds."""
        ...

    async def put_context(self, record: StoredContext) -> None:
        """Store a context durably under its local id (replacing one with the same id)."""
        ...

    async def contexts(self) -> list[StoredContext]:
        """Every stored context, oldest first (contexts are not per tenant)."""
        ...

    async def delete_context(self, local_id: str) -> bool:
        """Remove a stored context. Returns whether there was one."""
        ...

    async def add_outgoing(self, outbox: Sequence[Outgoing]) -> None:
        """Store notifications that no entity write caused (periodic ones)."""
        ...

    async def outgoing(self, limit: int, offset: int = 0) -> list[Outgoing]:
        """Notifications still in the outbox, oldest first: ``limit`` of them after skipping ``offset``."""
        ...

    async def remove_outgoing(self, keys: Sequence[str]) -> None:
        """Drop delivered (or abandoned) notifications; unknown keys are ignored."""
        ...

    async def put_subscription(self, tenant: str, doc: Doc, *, create: bool) -> None:
        """Store a subscription under ``doc["id"]``. ``create``: raise AlreadyExists when the id is
        taken in the tenant; otherwise replace it, raising ResourceNotFound when it is gone."""
        ...

    async def subscriptions(self) -> list[StoredSubscription]:
        """Every subscription of every tenant, oldest first."""
        ...

    async def delete_subscription(self, tenant: str, subscription_id: str) -> bool:
        """Remove a subscription (with its statistics). Returns whether there was one."""
        ...

    async def put_subscription_stats(self, tenant: str, subscription_id: str, stats: Doc) -> None:
        """Record delivery statistics; ignored when the subscription no longer exists."""
        ...
