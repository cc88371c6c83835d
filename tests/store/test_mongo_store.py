"""What only the MongoDB adapter has to get right (the shared contract is in test_contract.py):
its configuration, failing fast and together while the server is down, and geo indexes that never
stand in a write's way."""

from __future__ import annotations

import asyncio
import time

import pytest

from mongo_standin import free_port
from ngsild.errors import StoreUnavailable
from ngsild.query.ast import EntityQuery, GeoQuery, GeoRel
from ngsild.store import mongo
from ngsild.store.mongo import MongoStore, parse_write_concern

NOW = "2026-01-01T00:00:00.000000Z"


@pytest.mark.parametrize("text", ["", "0"])
def test_unacknowledged_write_concerns_are_refused(text: str) -> None:
    """A 2xx must mean durable: w=0 (and an empty value) is a configuration error, not a setting."""
    with pytest.raises(ValueError, match="write concern"):
        parse_write_concern(text)


def test_write_concern_waits_for_replication_only_so_long() -> None:
    """Writes are journaled and give up waiting for the majority after twice the store timeout."""
    store = MongoStore("mongodb://127.0.0.1:1/", timeout_s=1.5)
    assert store.write_concern.document == {"w": "majority", "j": True, "wtimeout": 3000}


async def test_callers_share_one_attempt_while_the_server_is_down() -> None:
    """With nothing listening, concurrent requests all get StoreUnavailable after about one
    timeout, not one timeout per request queued ahead of them."""
    store = MongoStore(f"mongodb://127.0.0.1:{free_port()}/", timeout_s=0.5)
    await store.open()  # does not fail: the broker starts without its database
    try:
        started = time.monotonic()
        results = await asyncio.gather(*(store.get("", f"urn:x:{n}") for n in range(8)), return_exceptions=True)
        elapsed = time.monotonic() - started
        assert all(isinstance(r, StoreUnavailable) for r in results)
        assert elapsed < 3 * 0.5, elapsed
    finally:
        await store.close()


def located(entity_id: str, attr: str, lon: float) -> dict[str, object]:
    point = {"type": "Point", "coordinates": [lon, 0.0]}
    return {
        "id": entity_id, "type": ["https://example.org/T"], "createdAt": NOW, "modifiedAt": NOW,
        "attrs": {attr: [{"type": "GeoProperty", "value": point, "createdAt": NOW, "modifiedAt": NOW}]},
    }  # fmt: skip


async def test_geoproperties_past_the_index_budget_are_stored_and_queried_without_an_index(
    mongo_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MongoDB allows 64 indexes per collection: GeoProperties beyond the budget get none, their
    writes succeed all the same, and geo-queries on them still answer exactly."""
    monkeypatch.setattr(mongo, "MAX_GEO_INDEXES", 1)
    store = MongoStore(mongo_url)
    await store.open()
    try:
        attrs = [f"https://example.org/place{n}" for n in range(3)]
        for n, attr in enumerate(attrs):
            await store.create("", located(f"urn:x:{n}", attr, 0.0))
            await store.create("", located(f"urn:x:far{n}", attr, 10.0))
        await asyncio.gather(*store._background)
        assert len(store._geo_keys) == 1
        for n, attr in enumerate(attrs):
            near = GeoQuery(GeoRel.NEAR, "Point", (0.0, 0.0), attr, max_distance=1000)
            page = await store.find("", EntityQuery(geo=near), offset=0, limit=10, count=True)
            assert [d["id"] for d in page.docs] == [f"urn:x:{n}"] and page.total == 1
    finally:
        await store.close()
