"""Hosted @contexts come back after a restart, also when the database answers only later."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from ngsild.errors import StoreUnavailable
from ngsild.services import context_store
from ngsild.services.broker import Broker
from ngsild.store.port import StoredContext

RECORD = StoredContext("a1", "Hosted", {"speed": "https://example.org/speed"}, "2026-01-01T00:00:00Z")


@dataclass
class FlakyStore:
    """Unreachable for the first ``failures`` calls, then serving one stored context."""

    failures: int
    calls: int = 0

    async def contexts(self) -> list[StoredContext]:
        self.calls += 1
        if self.calls <= self.failures:
            raise StoreUnavailable("the database is down")
        return [RECORD]


@dataclass
class Hosting:
    hosted: dict[str, Any] = field(default_factory=dict)

    def host(self, local_id: str, kind: str, document: Any, created_at: datetime) -> None:
        self.hosted[local_id] = (kind, document)


@dataclass
class FakeBroker:
    store: FlakyStore
    contexts: Hosting = field(default_factory=Hosting)


async def test_contexts_load_at_once_when_the_store_answers() -> None:
    """With the store up, restore hosts every stored context before returning, and leaves no task."""
    broker = FakeBroker(FlakyStore(failures=0))
    assert await context_store.restore(cast(Broker, broker)) is None
    assert broker.contexts.hosted == {"a1": ("Hosted", RECORD.context)}


async def test_contexts_load_in_the_background_once_the_store_returns(monkeypatch: Any) -> None:
    """With the store down, restore returns a task that retries with backoff until the contexts load."""
    delays: list[float] = []
    real_sleep = asyncio.sleep

    async def no_wait(delay: float) -> None:
        delays.append(delay)
        await real_sleep(0)

    monkeypatch.setattr(context_store.asyncio, "sleep", no_wait)
    broker = FakeBroker(FlakyStore(failures=3))
    task = await context_store.restore(cast(Broker, broker))
    assert task is not None and broker.contexts.hosted == {}
    await task
    assert broker.contexts.hosted == {"a1": ("Hosted", RECORD.context)}
    assert delays == [0.5, 1.0, 2.0]
