"""The Broker: a frozen record of collaborators every use case receives. No module-level state."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from ngsild.clock import Clock, format_datetime
from ngsild.contexts import ContextResolver
from ngsild.errors import InternalError, StoreUnavailable
from ngsild.model import Change
from ngsild.services.admission import Admission
from ngsild.services.delivery import Notifier
from ngsild.settings import Settings
from ngsild.store.port import Outgoing, Store

ChangeListener = Callable[[Change], Awaitable[None]]
T = TypeVar("T")
log = logging.getLogger("ngsild")


@dataclass(frozen=True)
class Broker:
    settings: Settings
    store: Store
    contexts: ContextResolver
    clock: Clock
    http: httpx.AsyncClient
    listeners: list[ChangeListener] = field(default_factory=list)
    admission: Admission = field(default_factory=Admission)  # Smart Data Models validation at ingest
    notifier: Notifier | None = None  # subscriptions and notification delivery

    @property
    def delivery(self) -> Notifier:
        if self.notifier is None:
            raise InternalError("this broker was started without subscriptions")
        return self.notifier

    def now(self) -> str:
        return format_datetime(self.clock.now())

    async def write(self, change: Change, perform: Callable[[Sequence[Outgoing]], Awaitable[T]]) -> T:
        """Perform the store write of ``change`` together with the notifications it causes (the
        store keeps both or neither), then publish it."""
        if self.notifier is not None and not self.notifier.loaded:
            # Matching needs every subscription: a write before they are loaded could lose notifications.
            await self.notifier.ensure_loaded()
        outbox = self.notifier.stage(change) if self.notifier is not None else []
        try:
            result = await perform(outbox)
        except BaseException as exc:
            if self.notifier is not None:
                # A lost connection (503) or a cancelled request leaves the write's fate unknown.
                uncertain = isinstance(exc, StoreUnavailable | asyncio.CancelledError)
                self.notifier.unstage(outbox, uncertain=uncertain)
            raise
        if self.notifier is not None:
            self.notifier.submit(outbox)
        await self.publish(change)
        return result

    async def publish(self, change: Change) -> None:
        """Hand a Change to every consumer (temporal, metrics). The write is already durable, so a
        failing consumer is logged and never turns the write into an error."""
        for listener in self.listeners:
            try:
                await listener(change)
            except Exception:
                log.exception("change listener %r failed for %s", listener, change.entity_id)
