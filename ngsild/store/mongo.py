"""The MongoDB store, on pymongo's native asyncio client (``AsyncMongoClient``).

- **Tenants are a key, not a database.** Every record names its tenant, and every index and filter
  starts with it (``mongo_filter.translate`` puts it there; nothing else builds entity filters). Why:
  one set of indexes however many tenants (a database per tenant costs a WiredTiger file per
  collection and per index, and index builds per tenant), a tenant costs nothing to create, and
  ``(tenant, id)`` is the natural shard key. The price: dropping a tenant is a deleteMany.
- **Records** are shaped for MongoDB's indexes (``mongo_filter`` draws them); the entity document
  rides along as JSON text, served as stored. ``_id`` is an ObjectId made at creation, so sorting on
  it is creation order, the order the port promises, and a replace keeps it.
- **Writes** are acknowledged with write concern ``majority`` by default, so a 2xx survives the
  loss of the primary; a replace or delete names the revision it read (``rev``) in its filter, so a
  concurrent update makes it match nothing instead of losing the other write.
- **Errors** are translated here, at the edge: a duplicate key is AlreadyExists; an unreachable
  server, a timeout or a lost primary is StoreUnavailable (503). The client is created without
  contacting the server and indexes are made on first use, so the broker starts while the
  database is down and serves as soon as it answers. Every round trip is bounded by a socket timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterator, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

import orjson
from bson import ObjectId
from bson.errors import InvalidDocument
from pymongo import ASCENDING, GEOSPHERE, AsyncMongoClient, IndexModel, ReadPreference, WriteConcern
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import ConnectionFailure, DuplicateKeyError, PyMongoError, ServerSelectionTimeoutError
from pymongo.read_preferences import _ServerMode
from pymongo.uri_parser import parse_uri

from ngsild.errors import (
    AlreadyExists,
    InternalError,
    NgsiLdError,
    PayloadTooLarge,
    ResourceNotFound,
    RevisionConflict,
    StoreUnavailable,
)
from ngsild.model import DEFAULT_TENANT, Doc
from ngsild.query.ast import EntityQuery, Ordering
from ngsild.query.match import matches
from ngsild.query.order import sort
from ngsild.store.mongo_filter import CORE_GEO_KEYS, geo_key, record, translate
from ngsild.store.port import AttributeUse, Outgoing, Page, Paging, Stored, StoredContext, StoredSubscription

T = TypeVar("T")
Session = AsyncClientSession | None

log = logging.getLogger("ngsild.store.mongo")

DEFAULT_DATABASE = "ngsild"
_BATCH = 256  # documents per cursor batch when candidates are checked one by one
_INDEXES = [
    IndexModel([("tenant", ASCENDING), ("id", ASCENDING)], name="tenant_id", unique=True),
    IndexModel([("tenant", ASCENDING), ("types", ASCENDING), ("_id", ASCENDING)], name="tenant_types"),
    IndexModel([("tenant", ASCENDING), ("attrs.n", ASCENDING), ("_id", ASCENDING)], name="tenant_attrs"),
    IndexModel([("tenant", ASCENDING), ("vals.n", ASCENDING), ("vals.v", ASCENDING)], name="tenant_vals"),
    IndexModel([("tenant", ASCENDING), ("scopes", ASCENDING)], name="tenant_scopes"),
    IndexModel([("tenant", ASCENDING), ("modifiedAt", ASCENDING)], name="tenant_modified"),
    # The few records whose geometry is not indexed: a geo-query ORs them in, and without an index
    # of their own that branch would scan the tenant.
    IndexModel(
        [("tenant", ASCENDING), ("recheck", ASCENDING)],
        name="tenant_recheck",
        partialFilterExpression={"recheck": True},
    ),
]
MAX_GEO_INDEXES = 24  # 2dsphere indexes for GeoProperties beyond the core ones stop here
_READ_PREFERENCES: dict[str, _ServerMode] = {
    "primary": ReadPreference.PRIMARY,
    "primaryPreferred": ReadPreference.PRIMARY_PREFERRED,
    "secondary": ReadPreference.SECONDARY,
    "secondaryPreferred": ReadPreference.SECONDARY_PREFERRED,
    "nearest": ReadPreference.NEAREST,
}


def parse_write_concern(text: str, timeout_ms: int = 10_000) -> WriteConcern:
    """``majority``, a number of members, or a tag set name; always journaled, and given up (503)
    after ``timeout_ms`` of waiting for replication."""
    if not text or text == "0":
        raise ValueError("the write concern must be majority, a number of members (1 or more) or a tag set name")
    w: int | str = int(text) if text.isdigit() else text
    return WriteConcern(w=w, j=True, wtimeout=timeout_ms)


def parse_read_preference(text: str) -> _ServerMode:
    try:
        return _READ_PREFERENCES[text]
    except KeyError:
        raise ValueError(f"unknown read preference {text!r}; use one of {', '.join(_READ_PREFERENCES)}") from None


@contextlib.contextmanager
def _edge() -> Iterator[None]:
    """pymongo's exceptions -> the broker's (DuplicateKeyError is handled where it means something)."""
    try:
        yield
    except ServerSelectionTimeoutError as exc:  # nothing was sent
        raise StoreUnavailable(f"the MongoDB store cannot be reached: {_first_line(exc)}") from exc
    except (TimeoutError, ConnectionFailure) as exc:
        raise StoreUnavailable(
            f"the connection to the MongoDB store failed during the operation, so a write may or may not"
            f" have been applied: {_first_line(exc)}"
        ) from exc
    except PyMongoError as exc:
        if exc.timeout:
            raise StoreUnavailable(
                f"the MongoDB store did not answer in time (a write may or may not have been applied):"
                f" {_first_line(exc)}"
            ) from exc
        raise InternalError(f"the MongoDB store failed: {type(exc).__name__}: {_first_line(exc)}") from exc
    except InvalidDocument as exc:  # DocumentTooLarge: the record passes BSON's 16 MiB
        raise PayloadTooLarge(f"the entity is too large for the MongoDB store: {_first_line(exc)}") from exc


def database_name(url: str) -> str:
    """The URL's database (``mongodb://h1,h2/city?replicaSet=rs0`` -> ``city``), else ``ngsild``.
    Raises ValueError for a URL pymongo would refuse (checked without contacting any server)."""
    try:
        if url.startswith("mongodb://"):
            parse_uri(url)  # mongodb+srv:// would need a DNS lookup: the client checks it on open
    except (PyMongoError, ValueError) as exc:
        raise ValueError(f"invalid MongoDB URL: {exc}") from None
    return urlsplit(url).path.lstrip("/") or DEFAULT_DATABASE


def _first_line(exc: BaseException) -> str:
    return str(exc).split("\n", 1)[0][:300]


class MongoStore:
    """``Store`` on MongoDB. The database is the URL's path (``mongodb://host/db``), else ``ngsild``."""

    def __init__(
        self,
        url: str,
        *,
        write_concern: str = "majority",
        read_preference: str = "primary",
        timeout_s: float = 5.0,
    ) -> None:
        self.url = url
        self.database_name = database_name(url)
        self.timeout_ms = int(timeout_s * 1000)
        self.write_concern = parse_write_concern(write_concern, self.timeout_ms * 2)
        self.read_preference = parse_read_preference(read_preference)
        self._client: AsyncMongoClient[dict[str, Any]] | None = None
        self._handles: dict[tuple[str, bool], AsyncCollection[dict[str, Any]]] = {}
        self._ready = False
        self._preparing: asyncio.Task[None] | None = None
        self._tenants: set[str] = {DEFAULT_TENANT}
        self._geo_keys: set[str] = set()  # GeoProperty keys with an index (or being given one)
        self._background: set[asyncio.Task[None]] = set()
        self._transactions = False  # a replica set or sharded cluster: notifications join the write

    # ---- lifecycle -------------------------------------------------------------------------------

    async def open(self) -> None:
        # The client connects in the background; nothing here waits for the server (see _ensure).
        self._client = AsyncMongoClient(
            self.url,
            serverSelectionTimeoutMS=self.timeout_ms,
            connectTimeoutMS=self.timeout_ms,
            # Bounds each round trip, so a hung server is a 503, not a hang; unlike timeoutMS it does
            # not bound a whole cursor, so a long scan still completes.
            socketTimeoutMS=self.timeout_ms * 4,
            tz_aware=True,
            uuidRepresentation="standard",
        )
        try:
            await self._ensure()
        except StoreUnavailable as exc:
            log.warning("MongoDB is not reachable yet; requests get 503 until it is: %s", exc)

    async def close(self) -> None:
        for task in list(self._background) + ([self._preparing] if self._preparing else []):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, NgsiLdError):
                await task
        if self._client is not None:
            await self._client.close()
            self._client = None
            self._handles.clear()

    def _collection(self, name: str, *, queries: bool = False) -> AsyncCollection[dict[str, Any]]:
        """A collection handle, made once per store. Reads go to the primary, except queries
        (``queries=True``), which follow the configured read preference: a read-modify-write must
        see the latest revision."""
        handle = self._handles.get((name, queries))
        if handle is None:
            assert self._client is not None, "the store is not open"
            handle = self._client[self.database_name].get_collection(
                name,
                write_concern=self.write_concern,
                read_preference=self.read_preference if queries else ReadPreference.PRIMARY,
            )
            self._handles[(name, queries)] = handle
        return handle

    @property
    def _entities(self) -> AsyncCollection[dict[str, Any]]:
        return self._collection("entities")

    async def _ensure(self) -> None:
        """Create the indexes once, on the first operation that reaches the server. Concurrent
        callers share one attempt, so while the server is down each waits one timeout, not one
        per caller ahead of it."""
        if self._ready:
            return
        if self._preparing is None or self._preparing.done():
            self._preparing = asyncio.create_task(self._prepare())
        await asyncio.shield(self._preparing)

    async def _prepare(self) -> None:
        with _edge():
            await self._entities.create_indexes(_INDEXES)
            await self._collection("contexts").create_index([("seq", ASCENDING)], name="seq")
            await self._collection("outbox").create_index([("seq", ASCENDING)], name="seq")
            await self._collection("subscriptions").create_index(
                [("tenant", ASCENDING), ("id", ASCENDING)], name="tenant_id", unique=True
            )
            assert self._client is not None
            hello = await self._client.admin.command("hello")
            self._transactions = "setName" in hello or hello.get("msg") == "isdbgrid"
            if not self._transactions:
                log.warning(
                    "MongoDB is a standalone server: notifications are stored right after the write that"
                    " causes them, not in one transaction with it; use a replica set for that guarantee"
                )
            async for spec in await self._entities.list_indexes():
                if spec["name"].startswith("geo."):
                    self._geo_keys.add(spec["name"][len("geo.") :])
        self._ready = True

    def _index_geo(self, rec: dict[str, Any]) -> None:
        """Start building a 2dsphere index for each GeoProperty the record brings that has none.

        In the background: a write never waits for (or fails with) an index build, and
        ``$geoIntersects`` answers correctly without one, only slower. Indexes are kept for the
        core GeoProperties and the first few others (MongoDB allows 64 per collection)."""
        for key in rec.get("geo", {}).keys() - self._geo_keys:
            if len(self._geo_keys) >= MAX_GEO_INDEXES and key not in CORE_GEO_KEYS:
                continue
            self._geo_keys.add(key)
            task = asyncio.create_task(self._build_geo_index(key))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _build_geo_index(self, key: str) -> None:
        try:
            with _edge():
                await self._entities.create_index([("tenant", ASCENDING), (f"geo.{key}", GEOSPHERE)], name=f"geo.{key}")
        except NgsiLdError as exc:
            self._geo_keys.discard(key)  # a later write tries again
            log.warning("no 2dsphere index on geo.%s yet (geo-queries on it scan): %s", key, exc)

    # ---- the port --------------------------------------------------------------------------------

    async def tenant_exists(self, tenant: str) -> bool:
        if tenant in self._tenants:
            return True
        await self._ensure()
        with _edge():
            found = await self._collection("tenants").find_one({"_id": tenant}) is not None
        if found:
            self._tenants.add(tenant)
        return found

    async def _with_outbox(self, outbox: Sequence[Outgoing], write: Callable[[Session], Awaitable[T]]) -> T:
        """Run ``write`` and store its notifications in one transaction when the deployment has
        them; a standalone server gets the write, then the notifications (logged at start)."""
        if not outbox:
            return await write(None)
        rows = [
            {
                "_id": o.key,
                "seq": ObjectId(),
                "tenant": o.tenant,
                "sub": o.subscription_id,
                "body": _text(o.body),
                "accept": o.accept,
            }
            for o in outbox
        ]
        if not self._transactions:
            result = await write(None)
            await self._collection("outbox").insert_many(rows)
            return result
        assert self._client is not None

        async def both(session: AsyncClientSession) -> T:
            result = await write(session)
            await self._collection("outbox").insert_many(rows, session=session)
            return result

        # with_transaction retries a transaction that collided with a concurrent one (a write
        # conflict) and an unknown commit result; the retried write then sees the winner and raises
        # RevisionConflict or AlreadyExists, as a write outside a transaction would.
        async with self._client.start_session() as session:
            return await session.with_transaction(both, write_concern=self.write_concern)

    async def create(self, tenant: str, doc: Doc, outbox: Sequence[Outgoing] = ()) -> None:
        await self._ensure()
        rec = record(tenant, doc, orjson.dumps(doc).decode(), 1)
        self._index_geo(rec)

        async def write(session: Session) -> None:
            try:
                await self._entities.insert_one({"_id": ObjectId(), **rec}, session=session)
            except DuplicateKeyError:
                raise AlreadyExists(f"the entity {doc['id']} already exists", instance=doc["id"]) from None

        with _edge():
            if tenant not in self._tenants:
                with contextlib.suppress(DuplicateKeyError):  # another request created it first
                    await self._collection("tenants").insert_one({"_id": tenant})
            await self._with_outbox(outbox, write)
        self._tenants.add(tenant)

    async def get(self, tenant: str, entity_id: str) -> Stored | None:
        await self._ensure()
        with _edge():
            found = await self._entities.find_one({"tenant": tenant, "id": entity_id}, {"doc": 1, "rev": 1})
        return None if found is None else Stored(orjson.loads(found["doc"]), found["rev"])

    async def replace(self, tenant: str, doc: Doc, revision: int, outbox: Sequence[Outgoing] = ()) -> int:
        await self._ensure()
        rec = record(tenant, doc, orjson.dumps(doc).decode(), revision + 1)
        self._index_geo(rec)

        async def write(session: Session) -> int:
            key = {"tenant": tenant, "id": doc["id"], "rev": revision}
            result = await self._entities.replace_one(key, rec, session=session)
            if result.matched_count == 1:
                return revision + 1
            await self._explain_miss(tenant, doc["id"], session)
            raise AssertionError("unreachable")  # pragma: no cover

        with _edge():
            return await self._with_outbox(outbox, write)

    async def delete(
        self, tenant: str, entity_id: str, revision: int | None = None, outbox: Sequence[Outgoing] = ()
    ) -> bool:
        await self._ensure()
        key: dict[str, Any] = {"tenant": tenant, "id": entity_id}

        async def write(session: Session) -> bool:
            result = await self._entities.delete_one(
                key if revision is None else {**key, "rev": revision}, session=session
            )
            if result.deleted_count == 1:
                return True
            if revision is None:
                return False
            try:
                await self._explain_miss(tenant, entity_id, session)
            except ResourceNotFound:
                return False
            raise AssertionError("unreachable")  # pragma: no cover

        with _edge():
            if revision is None or not outbox:
                return await self._with_outbox(outbox, write)

            # Notifications of a delete that found nothing must not be stored: a miss aborts.
            async def or_abort(session: Session) -> bool:
                if not await write(session):
                    raise ResourceNotFound(f"the entity {entity_id} was not found", instance=entity_id)
                return True

            return await self._with_outbox(outbox, or_abort)

    async def _explain_miss(self, tenant: str, entity_id: str, session: Session = None) -> None:
        found = await self._entities.find_one({"tenant": tenant, "id": entity_id}, {"rev": 1}, session=session)
        if found is None:
            raise ResourceNotFound(f"the entity {entity_id} was not found", instance=entity_id)
        raise RevisionConflict(f"the entity {entity_id} changed concurrently (revision {found['rev']})")

    async def find(
        self, tenant: str, query: EntityQuery, *, offset: int, limit: int, count: bool, order: Ordering | None = None
    ) -> Page:
        await self._ensure()
        plan = translate(tenant, query)
        entities = self._collection("entities", queries=True)
        with _edge():
            if order is not None:
                # Ordering needs every match; sort them with the one definition, then cut the page.
                async with contextlib.aclosing(self._matches(entities, plan.filter, plan.residual)) as matched:
                    ordered = sort([doc async for doc in matched], order)
                return Page(ordered[offset : offset + limit], len(ordered) if count else None)
            if plan.residual is None:
                docs: list[Doc] = []
                if limit > 0:
                    cursor = entities.find(plan.filter, {"doc": 1}).sort("_id", ASCENDING).skip(offset).limit(limit)
                    docs = [orjson.loads(rec["doc"]) for rec in await cursor.to_list()]
                total = await entities.count_documents(plan.filter) if count else None
                return Page(docs, total)
            paging = Paging(offset, limit, count)
            if limit == 0 and not count:
                return paging.page()
            async with contextlib.aclosing(self._matches(entities, plan.filter, plan.residual)) as matched:
                async for doc in matched:
                    if paging.add(doc):
                        break
            return paging.page()

    async def _matches(
        self, entities: AsyncCollection[dict[str, Any]], candidates: dict[str, Any], residual: EntityQuery | None
    ) -> AsyncGenerator[Doc, None]:
        """The documents of the candidates that the residual query accepts, in creation order."""
        cursor = entities.find(candidates, {"doc": 1}).sort("_id", ASCENDING).batch_size(_BATCH)
        try:
            async for rec in cursor:
                doc = orjson.loads(rec["doc"])
                if residual is None or matches(residual, doc):
                    yield doc
        finally:
            await cursor.close()

    async def types(self, tenant: str) -> dict[str, int]:
        await self._ensure()
        pipeline: list[dict[str, Any]] = [
            {"$match": {"tenant": tenant}},
            {"$unwind": "$types"},
            {"$group": {"_id": "$types", "n": {"$sum": 1}}},
        ]
        with _edge():
            rows = await (await self._collection("entities", queries=True).aggregate(pipeline)).to_list()
        return {row["_id"]: row["n"] for row in sorted(rows, key=lambda r: r["_id"])}

    async def attributes(self, tenant: str, entity_type: str | None = None) -> list[AttributeUse]:
        await self._ensure()
        match: dict[str, Any] = {"tenant": tenant}
        if entity_type is not None:
            match["types"] = entity_type
        kinds: dict[str, set[str]] = {}
        types: dict[str, set[str]] = {}
        instances: dict[str, int] = {}
        entities: dict[str, int] = {}
        with _edge():
            cursor = self._collection("entities", queries=True).find(match, {"types": 1, "attrs": 1, "_id": 0})
            cursor = cursor.batch_size(1000)
            async for rec in cursor:
                names = set()
                for use in rec["attrs"]:
                    name = use["n"]
                    names.add(name)
                    kinds.setdefault(name, set()).add(use["k"])
                    instances[name] = instances.get(name, 0) + use["c"]
                for name in names:
                    types.setdefault(name, set()).update(rec["types"])
                    entities[name] = entities.get(name, 0) + 1
        return [
            AttributeUse(a, frozenset(kinds[a]), frozenset(types[a]), instances[a], entities[a]) for a in sorted(kinds)
        ]

    async def count(self, tenant: str) -> int:
        await self._ensure()
        with _edge():
            return await self._entities.count_documents({"tenant": tenant})

    async def put_context(self, record: StoredContext) -> None:
        await self._ensure()
        row = {
            "kind": record.kind,
            "context": orjson.dumps(record.context).decode(),  # keys such as "@context" or "$x" stay text
            "created_at": record.created_at,
            "seq": ObjectId(),  # a replaced context moves to the end, as in the SQLite store
        }
        with _edge():
            await self._collection("contexts").replace_one({"_id": record.local_id}, row, upsert=True)

    async def contexts(self) -> list[StoredContext]:
        await self._ensure()
        with _edge():
            rows = await self._collection("contexts").find({}).sort("seq", ASCENDING).to_list()
        return [StoredContext(r["_id"], r["kind"], orjson.loads(r["context"]), r["created_at"]) for r in rows]

    async def delete_context(self, local_id: str) -> bool:
        await self._ensure()
        with _edge():
            result = await self._collection("contexts").delete_one({"_id": local_id})
        return result.deleted_count == 1

    # ---- subscriptions and the outbox -----------------------------------------------------------

    async def add_outgoing(self, outbox: Sequence[Outgoing]) -> None:
        await self._ensure()
        with _edge():
            await self._with_outbox(outbox, _nothing)

    async def outgoing(self, limit: int, offset: int = 0) -> list[Outgoing]:
        await self._ensure()
        with _edge():
            cursor = self._collection("outbox").find({}).sort("seq", ASCENDING).skip(offset).limit(limit)
            rows = await cursor.to_list()
        return [Outgoing(r["_id"], r["tenant"], r["sub"], orjson.loads(r["body"]), r["accept"]) for r in rows]

    async def remove_outgoing(self, keys: Sequence[str]) -> None:
        if not keys:
            return
        await self._ensure()
        with _edge():
            await self._collection("outbox").delete_many({"_id": {"$in": list(keys)}})

    async def put_subscription(self, tenant: str, doc: Doc, *, create: bool) -> None:
        await self._ensure()
        sub_id = doc["id"]
        with _edge():
            subs = self._collection("subscriptions")
            if create:
                try:
                    await subs.insert_one({"_id": ObjectId(), "tenant": tenant, "id": sub_id, "doc": _text(doc)})
                except DuplicateKeyError:
                    raise AlreadyExists(f"the subscription {sub_id} already exists", instance=sub_id) from None
                return
            result = await subs.update_one({"tenant": tenant, "id": sub_id}, {"$set": {"doc": _text(doc)}})
            if result.matched_count == 0:
                raise ResourceNotFound(f"the subscription {sub_id} was not found", instance=sub_id)

    async def subscriptions(self) -> list[StoredSubscription]:
        await self._ensure()
        with _edge():
            rows = await self._collection("subscriptions").find({}).sort("_id", ASCENDING).to_list()
        return [
            StoredSubscription(r["tenant"], orjson.loads(r["doc"]), orjson.loads(r.get("stats", "{}"))) for r in rows
        ]

    async def delete_subscription(self, tenant: str, subscription_id: str) -> bool:
        await self._ensure()
        with _edge():
            result = await self._collection("subscriptions").delete_one({"tenant": tenant, "id": subscription_id})
        return result.deleted_count == 1

    async def put_subscription_stats(self, tenant: str, subscription_id: str, stats: Doc) -> None:
        await self._ensure()
        with _edge():
            await self._collection("subscriptions").update_one(
                {"tenant": tenant, "id": subscription_id}, {"$set": {"stats": _text(stats)}}
            )


def _text(value: Any) -> str:
    return orjson.dumps(value).decode()


async def _nothing(session: Session) -> None:
    return None


__all__ = ["DEFAULT_DATABASE", "MongoStore", "geo_key", "parse_read_preference", "parse_write_concern"]
