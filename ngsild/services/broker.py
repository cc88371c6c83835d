"""The Broker: a frozen record of collaborators every use case receives. No module-level state."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

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
    _background: set[asyncio.Future[None]] = field(default_factory=set)

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
        notifier = self.notifier
        if notifier is not None and not notifier.loaded:
            # Matching needs every subscription: a write before they are loaded could lose notifications.
            await notifier.ensure_loaded()
        outbox = notifier.stage(change) if notifier is not None else []
        if notifier is None or not outbox:
            result = await perform(outbox)
            await self.publish(change)
            return result
        # The write runs as a task of its own: a cancelled request does not cancel a write the store
        # may commit all the same, and the notifications follow what the write really did.
        writing = asyncio.ensure_future(perform(outbox))
        try:
            result = await asyncio.shield(writing)
        except asyncio.CancelledError:
            writing.add_done_callback(lambda done: self._settle(done, change, outbox))
            raise
        except BaseException as exc:
            # A lost connection (503) leaves the write's fate unknown: the outbox is searched for it.
            notifier.unstage(outbox, uncertain=isinstance(exc, StoreUnavailable))
            raise
        notifier.submit(outbox)
        await self.publish(change)
        return result

    def _settle(self, writing: asyncio.Future[Any], change: Change, outbox: Sequence[Outgoing]) -> None:
        """A write whose request was cancelled has ended: deliver or forget its notifications."""
        assert self.notifier is not None
        if writing.cancelled() or writing.exception() is not None:
            self.notifier.unstage(outbox, uncertain=isinstance(writing.exception(), StoreUnavailable))
            return
        self.notifier.submit(outbox)
        self._background.add(task := asyncio.ensure_future(self.publish(change)))
        task.add_done_callback(self._background.discard)

    async def publish(self, change: Change) -> None:
        """Hand a Change to every consumer (temporal, metrics). The write is already durable, so a
        failing consumer is logged and never turns the write into an error."""
        for listener in self.listeners:
            try:
                await listener(change)
            except Exception:
                log.exception("change listener %r failed for %s", listener, change.entity_id)
