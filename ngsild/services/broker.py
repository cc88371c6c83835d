"""The Broker: a frozen record of collaborators every use case receives. No module-level state."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx

from ngsild.clock import Clock, format_datetime
from ngsild.contexts import ContextResolver
from ngsild.model import Change
from ngsild.services.admission import Admission
from ngsild.settings import Settings
from ngsild.store.port import Store

ChangeListener = Callable[[Change], Awaitable[None]]
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

    def now(self) -> str:
        return format_datetime(self.clock.now())

    async def publish(self, change: Change) -> None:
        """Hand a Change to every consumer (subscriptions, temporal, metrics). The write is already
        durable, so a failing consumer is logged and never turns the write into an error."""
        for listener in self.listeners:
            try:
                await listener(change)
            except Exception:
                log.exception("change listener %r failed for %s", listener, change.entity_id)
