"""The storage port's contract. Every adapter runs this same suite: SQLite on a file and in memory, and
MongoDB (a SecantusDB stand-in, or the server ``MONGO_URI`` names)."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mongo_standin import with_database
from ngsild.errors import AlreadyExists, ResourceNotFound, RevisionConflict
from ngsild.store.mongo import MongoStore
from ngsild.store.port import Outgoing, Store, StoredContext
from ngsild.store.sqlite import SqliteStore


def make_doc(entity_id: str, value: Any = 1) -> dict[str, Any]:
    return {
        "id": entity_id,
        "type": ["https://example.org/T"],
        "createdAt": "2026-01-01T00:00:00.000000Z",
        "modifiedAt": "2026-01-01T00:00:00.000000Z",
        "attrs": {"https://example.org/p": [{"type": "Property", "value": value}]},
    }


@pytest.fixture(params=["sqlite-file", "sqlite-memory", "mongodb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    adapter: Store
    if request.param == "mongodb":
        adapter = MongoStore(request.getfixturevalue("mongo_url"))
    else:
        adapter = SqliteStore(str(tmp_path / "db.sqlite") if request.param == "sqlite-file" else ":memory:")
    await adapter.open()
    yield adapter
    await adapter.close()


async def test_created_document_reads_back_equal_at_revision_1(store: Store) -> None:
    """A created document reads back unchanged, at revision 1."""
    doc = make_doc("urn:ngsi-ld:T:1")
    await store.create("", doc)
    stored = await store.get("", "urn:ngsi-ld:T:1")
    assert stored is not None and stored.doc == doc and stored.revision == 1


async def test_create_of_existing_id_raises_already_exists_and_keeps_original(store: Store) -> None:
    """Creating an existing id raises AlreadyExists and leaves the stored document as it was."""
    await store.create("", make_doc("urn:ngsi-ld:T:1", 1))
    with pytest.raises(AlreadyExists):
        await store.create("", make_doc("urn:ngsi-ld:T:1", 2))
    stored = await store.get("", "urn:ngsi-ld:T:1")
    assert stored is not None and stored.doc["attrs"]["https://example.org/p"][0]["value"] == 1


async def test_get_of_unknown_id_is_none(store: Store) -> None:
    """Reading an unknown id gives None, in a known or an unknown tenant."""
    assert await store.get("", "urn:ngsi-ld:T:missing") is None
    assert await store.get("nobody", "urn:ngsi-ld:T:missing") is None


async def test_replace_at_current_revision_bumps_revision(store: Store) -> None:
    """A replace naming the current revision succeeds and returns the next revision."""
    await store.create("", make_doc("urn:ngsi-ld:T:1", 1))
    assert await store.replace("", make_doc("urn:ngsi-ld:T:1", 2), 1) == 2
    stored = await store.get("", "urn:ngsi-ld:T:1")
    assert stored is not None and stored.revision == 2
    assert stored.doc == make_doc("urn:ngsi-ld:T:1", 2)


async def test_replace_at_stale_revision_raises_conflict_and_changes_nothing(store: Store) -> None:
    """A replace naming an old revision raises RevisionConflict; the newer write survives."""
    await store.create("", make_doc("urn:ngsi-ld:T:1", 1))
    await store.replace("", make_doc("urn:ngsi-ld:T:1", 2), 1)
    with pytest.raises(RevisionConflict):
        await store.replace("", make_doc("urn:ngsi-ld:T:1", 3), 1)
    stored = await store.get("", "urn:ngsi-ld:T:1")
    assert stored is not None and stored.doc == make_doc("urn:ngsi-ld:T:1", 2)


async def test_replace_of_missing_document_raises_not_found(store: Store) -> None:
    """Replacing a document that does not exist raises ResourceNotFound."""
    with pytest.raises(ResourceNotFound):
        await store.replace("", make_doc("urn:ngsi-ld:T:none"), 1)


async def test_delete_removes_and_reports(store: Store) -> None:
    """Delete removes the document and says whether there was one."""
    await store.create("", make_doc("urn:ngsi-ld:T:1"))
    assert await store.delete("", "urn:ngsi-ld:T:1") is True
    assert await store.get("", "urn:ngsi-ld:T:1") is None
    assert await store.delete("", "urn:ngsi-ld:T:1") is False


async def test_delete_at_stale_revision_raises_conflict(store: Store) -> None:
    """A revision-checked delete of a document that changed meanwhile raises RevisionConflict."""
    await store.create("", make_doc("urn:ngsi-ld:T:1"))
    await store.replace("", make_doc("urn:ngsi-ld:T:1", 5), 1)
    with pytest.raises(RevisionConflict):
        await store.delete("", "urn:ngsi-ld:T:1", revision=1)
    assert await store.delete("", "urn:ngsi-ld:T:1", revision=2) is True


async def test_tenants_are_created_by_first_write_and_isolated(store: Store) -> None:
    """A tenant exists once something is created in it, and sees only its own documents."""
    assert await store.tenant_exists("")
    assert not await store.tenant_exists("city")
    await store.create("city", make_doc("urn:ngsi-ld:T:1", "city"))
    await store.create("", make_doc("urn:ngsi-ld:T:1", "default"))
    assert await store.tenant_exists("city")
    city, default = await store.get("city", "urn:ngsi-ld:T:1"), await store.get("", "urn:ngsi-ld:T:1")
    assert city is not None and city.doc["attrs"]["https://example.org/p"][0]["value"] == "city"
    assert default is not None and default.doc["attrs"]["https://example.org/p"][0]["value"] == "default"
    assert await store.get("other", "urn:ngsi-ld:T:1") is None
    assert await store.count("city") == 1


async def test_concurrent_writes_all_land_and_one_failure_spoils_none(store: Store) -> None:
    """Writes grouped into one transaction succeed or fail one by one: a duplicate among them
    fails alone and every other write is stored."""
    await store.create("", make_doc("urn:ngsi-ld:T:dup"))
    ids = [f"urn:ngsi-ld:T:{i}" for i in range(200)]
    results = await asyncio.gather(
        *(store.create("", make_doc(i)) for i in ids), store.create("", make_doc("urn:ngsi-ld:T:dup")),
        return_exceptions=True,
    )  # fmt: skip
    assert all(r is None for r in results[:-1])
    assert isinstance(results[-1], AlreadyExists)
    assert await store.count("") == 201


@pytest.fixture(params=["sqlite-file", "mongodb"])
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], Store]:
    """A new, unopened adapter over the same durable data each time it is called."""
    if request.param == "mongodb":
        url = request.getfixturevalue("mongo_url")
        return lambda: MongoStore(url)
    path = str(tmp_path / "durable.sqlite")
    return lambda: SqliteStore(path)


async def test_stored_documents_survive_a_restart(reopen: Callable[[], Store]) -> None:
    """What a write acknowledged is durable: a new store over the same data reads it back."""
    first = reopen()
    await first.open()
    await first.create("tenant-a", make_doc("urn:ngsi-ld:T:1", "kept"))
    await first.close()
    second = reopen()
    await second.open()
    try:
        assert await second.tenant_exists("tenant-a")
        stored = await second.get("tenant-a", "urn:ngsi-ld:T:1")
        assert stored is not None and stored.doc == make_doc("urn:ngsi-ld:T:1", "kept")
    finally:
        await second.close()


async def test_stored_contexts_round_trip_and_survive_a_restart(reopen: Callable[[], Store]) -> None:
    """Hosted @contexts are durable: put, list (oldest first), delete, and still there after a restart."""
    first = reopen()
    await first.open()
    one = StoredContext("a1", "Hosted", {"speed": "http://example.org/speed"}, "2026-01-01T00:00:00.000000Z")
    two = StoredContext("b2", "Hosted", ["http://example.org/ctx.jsonld", {"x": "urn:x"}], "2026-01-02T00:00:00Z")
    await first.put_context(one)
    await first.put_context(two)
    assert await first.contexts() == [one, two]
    assert await first.delete_context("a1")
    assert not await first.delete_context("a1")
    await first.close()
    second = reopen()
    await second.open()
    try:
        assert await second.contexts() == [two]
    finally:
        await second.close()


def note(key: str, sub: str = "urn:ngsi-ld:Subscription:s", tenant: str = "") -> Outgoing:
    return Outgoing(key, tenant, sub, {"id": key, "type": "Notification", "data": [{"n": key}]})


async def test_notifications_are_stored_with_the_write_that_caused_them(store: Store) -> None:
    """create, replace and delete store their outbox with the document, oldest first."""
    await store.create("t", make_doc("urn:ngsi-ld:T:1"), [note("k1", tenant="t")])
    await store.replace("t", make_doc("urn:ngsi-ld:T:1", 2), 1, [note("k2", tenant="t"), note("k3", tenant="t")])
    await store.delete("t", "urn:ngsi-ld:T:1", 2, [note("k4", tenant="t")])
    await store.add_outgoing([note("k5")])
    assert await store.outgoing(10) == [note("k1", tenant="t"), note("k2", tenant="t"), note("k3", tenant="t"),
                                        note("k4", tenant="t"), note("k5")]  # fmt: skip
    assert [o.key for o in await store.outgoing(2)] == ["k1", "k2"]
    await store.remove_outgoing(["k1", "k3", "unknown"])
    assert [o.key for o in await store.outgoing(10)] == ["k2", "k4", "k5"]


@pytest.mark.parametrize("failure", ["duplicate create", "stale replace", "stale delete"])
async def test_a_failed_write_stores_none_of_its_notifications(store: Store, failure: str) -> None:
    """Both or neither: a write that fails leaves no notification behind."""
    await store.create("", make_doc("urn:ngsi-ld:T:1"))
    await store.replace("", make_doc("urn:ngsi-ld:T:1", 2), 1)
    with pytest.raises((AlreadyExists, RevisionConflict)):
        if failure == "duplicate create":
            await store.create("", make_doc("urn:ngsi-ld:T:1"), [note("lost")])
        elif failure == "stale replace":
            await store.replace("", make_doc("urn:ngsi-ld:T:1", 3), 1, [note("lost")])
        else:
            await store.delete("", "urn:ngsi-ld:T:1", 1, [note("lost")])
    assert await store.outgoing(10) == []


async def test_racing_writes_with_notifications_conflict_as_without(store: Store) -> None:
    """Concurrent writes that carry notifications fail as plain writes do: one replace wins, the others
    get RevisionConflict; one create wins, the others AlreadyExists; only the winners' notifications stay."""
    await store.create("", make_doc("urn:ngsi-ld:T:1"))

    async def attempt(write: Any) -> str:
        try:
            await write
        except (RevisionConflict, AlreadyExists) as exc:
            return type(exc).__name__
        return "ok"

    replaces = [store.replace("", make_doc("urn:ngsi-ld:T:1", i), 1, [note(f"r{i}")]) for i in range(6)]
    creates = [store.create("", make_doc("urn:ngsi-ld:T:2", i), [note(f"c{i}")]) for i in range(6)]
    outcomes = await asyncio.gather(*(attempt(w) for w in replaces + creates))
    assert sorted(outcomes[:6]) == ["RevisionConflict"] * 5 + ["ok"]
    assert sorted(outcomes[6:]) == ["AlreadyExists"] * 5 + ["ok"]
    kept = {o.key for o in await store.outgoing(100)}
    assert kept == {f"r{outcomes[:6].index('ok')}", f"c{outcomes[6:].index('ok')}"}


async def test_subscriptions_are_stored_per_tenant_with_their_statistics(store: Store) -> None:
    """Subscriptions: create (AlreadyExists on a taken id), replace, statistics apart, delete."""
    one = {"id": "urn:ngsi-ld:Subscription:1", "type": "Subscription", "q": "a>1"}
    await store.put_subscription("t", one, create=True)
    await store.put_subscription("u", one, create=True)  # the same id in another tenant
    with pytest.raises(AlreadyExists):
        await store.put_subscription("t", one, create=True)
    with pytest.raises(ResourceNotFound):
        await store.put_subscription("t", {**one, "id": "urn:ngsi-ld:Subscription:none"}, create=False)
    await store.put_subscription_stats("t", one["id"], {"timesSent": 3})
    await store.put_subscription("t", {**one, "q": "a>2"}, create=False)  # the statistics stay
    listed = await store.subscriptions()
    assert [(s.tenant, s.doc["q"], s.stats) for s in listed] == [("t", "a>2", {"timesSent": 3}), ("u", "a>1", {})]
    assert await store.delete_subscription("t", one["id"])
    assert not await store.delete_subscription("t", one["id"])
    await store.put_subscription_stats("t", one["id"], {"timesSent": 4})  # gone: ignored
    assert [s.tenant for s in await store.subscriptions()] == ["u"]


async def test_subscriptions_and_outbox_survive_a_restart(reopen: Callable[[], Store]) -> None:
    """A notification in the outbox and a subscription are durable."""
    first = reopen()
    await first.open()
    await first.put_subscription("", {"id": "urn:ngsi-ld:Subscription:1", "type": "Subscription"}, create=True)
    await first.create("", make_doc("urn:ngsi-ld:T:1"), [note("k1")])
    await first.close()
    second = reopen()
    await second.open()
    try:
        assert [s.doc["id"] for s in await second.subscriptions()] == ["urn:ngsi-ld:Subscription:1"]
        assert await second.outgoing(10) == [note("k1")]
    finally:
        await second.close()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
operations = st.lists(
    st.tuples(st.sampled_from(["create", "replace", "delete"]), st.integers(0, 4), json_values), max_size=25
)


@pytest.fixture(scope="module", params=["sqlite-memory", "mongodb"])
def fresh_store(request: pytest.FixtureRequest) -> Callable[[], tuple[Store, str]]:
    """A new adapter and an empty tenant in it, per call (so per hypothesis example)."""
    if request.param == "mongodb":
        url = with_database(request.getfixturevalue("mongo_server"), "contract_model")
        return lambda: (MongoStore(url), f"t{uuid.uuid4().hex[:12]}")
    return lambda: (SqliteStore(":memory:"), "")


@given(ops=operations)
def test_store_behaves_like_a_dict_of_revisioned_documents(
    fresh_store: Callable[[], tuple[Store, str]], ops: list[tuple[str, int, Any]]
) -> None:
    """For any sequence of creates, replaces and deletes, the store agrees with a plain dict model."""

    async def run() -> None:
        store, tenant = fresh_store()
        await store.open()
        model: dict[str, tuple[dict[str, Any], int]] = {}
        try:
            for op, n, value in ops:
                entity_id = f"urn:ngsi-ld:T:{n}"
                doc = make_doc(entity_id, value)
                if op == "create":
                    if entity_id in model:
                        with pytest.raises(AlreadyExists):
                            await store.create(tenant, doc)
                    else:
                        await store.create(tenant, doc)
                        model[entity_id] = (copy.deepcopy(doc), 1)
                elif op == "replace" and entity_id in model:
                    revision = model[entity_id][1]
                    assert await store.replace(tenant, doc, revision) == revision + 1
                    model[entity_id] = (copy.deepcopy(doc), revision + 1)
                elif op == "delete":
                    assert await store.delete(tenant, entity_id) == (entity_id in model)
                    model.pop(entity_id, None)
            for n in range(5):
                entity_id = f"urn:ngsi-ld:T:{n}"
                stored = await store.get(tenant, entity_id)
                expected = model.get(entity_id)
                assert (stored.doc, stored.revision) == expected if stored else expected is None
        finally:
            await store.close()

    asyncio.run(run())
