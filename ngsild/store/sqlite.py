"""The embedded SQLite store: zero setup, durable, one process.

- One writer thread owns the write connection and applies operations (plain ``def op(conn) -> T``)
  with **group commit**: every operation waiting when a transaction starts joins it, each inside its
  own SAVEPOINT so one failing operation never undoes the others. With ``synchronous=FULL`` in WAL
  mode, a commit is one fsync however many writes it carries, so durability costs latency, not
  throughput. A future resolves only after COMMIT returned: a 2xx means on disk.
- Point reads (``get``) run on a read connection in the event-loop thread: a primary-key lookup on a
  warm page cache costs a few microseconds, less than handing it to a thread and back, and WAL
  readers never wait for the writer. (An in-memory database has one connection, so its reads go
  through the writer thread instead.)
- Tenants share one database file, keyed by a ``tenant`` column in every primary key: one WAL, one
  writer, cheap tenant creation, and group commit across tenants. Isolation is enforced because every
  statement names the tenant.
"""

from __future__ import annotations

import asyncio
import os
import queue
import sqlite3
import threading
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

import orjson

from ngsild.errors import AlreadyExists, InternalError, NgsiLdError, ResourceNotFound, RevisionConflict
from ngsild.model import DEFAULT_TENANT, Doc
from ngsild.query.ast import EntityQuery, Ordering
from ngsild.query.match import matches
from ngsild.query.order import sort
from ngsild.store import sqlite_index, sqlite_outbox
from ngsild.store.port import AttributeUse, Outgoing, Page, Paging, Stored, StoredContext, StoredSubscription
from ngsild.store.sqlite_sql import Translation, translate

T = TypeVar("T")
Op = Callable[[sqlite3.Connection], Any]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tenants (name TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entities (
    tenant   TEXT    NOT NULL,
    id       TEXT    NOT NULL,
    revision INTEGER NOT NULL,
    doc      TEXT    NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE TABLE IF NOT EXISTS contexts (
    local_id   TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    context    TEXT NOT NULL,
    created_at TEXT NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
"""
_MAX_GROUP = 512
_UNLIMITED = 2**62  # a LIMIT no result reaches (SQLite integers are 64-bit)
_SCAN_MMAP_BYTES = 256 * 1024 * 1024
_STOP = object()


def _dumps(doc: Doc) -> str:
    return orjson.dumps(doc).decode()


_VARIABLES = 10_000  # bound parameters per statement, well under SQLite's limit (32766)


def _documents(conn: sqlite3.Connection, eids: list[int]) -> list[Doc]:
    """The documents of these entity rows (ascending, as candidates come), in that order."""
    docs: list[Doc] = []
    for start in range(0, len(eids), _VARIABLES):
        chunk = eids[start : start + _VARIABLES]
        marks = ", ".join("?" for _ in chunk)
        rows = conn.execute(f"SELECT doc FROM entities WHERE rowid IN ({marks}) ORDER BY rowid", chunk)
        docs.extend(orjson.loads(text) for (text,) in rows)
    return docs


# Choosing the source of candidates: the best-ranked one unless it is large and another is small.
_SMALL_SOURCE = 1000  # candidates that any plan checks quickly
_MUCH_SMALLER = 500  # worth switching to


def _source(conn: sqlite3.Connection, plan: Translation) -> int | None:
    """The condition to list candidates from. Counts are capped, so choosing costs a few thousand
    index entries at most: the best-ranked source is kept when it is small, else the smallest of
    the others when one is much smaller (an equality source streams in rowid order and stops at
    the page's end, so a large one is only slow when few of its candidates match)."""
    options = plan.estimates()
    if not options:
        return None
    (first, sql, params), *others = options
    (size,) = conn.execute(sql, [*params, _SMALL_SOURCE]).fetchone()
    if size < _SMALL_SOURCE:
        return first
    best, fewest = first, _MUCH_SMALLER
    for index, sql, params in others:
        (size,) = conn.execute(sql, [*params, fewest]).fetchone()
        if size < fewest:
            best, fewest = index, size
    return best


def _translate(exc: sqlite3.Error) -> NgsiLdError:
    return InternalError(f"the embedded store failed: {type(exc).__name__}: {exc}")


class SqliteStore:
    """``Store`` on SQLite. ``path`` is a file path or ``:memory:``."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.in_memory = path == ":memory:"
        self._uri = f"file:ngsild-{uuid.uuid4().hex}?mode=memory&cache=shared" if self.in_memory else path
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._reader: sqlite3.Connection | None = None
        self._tenants: set[str] = {DEFAULT_TENANT}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ngsild-sqlite-reader")
        self._reader_local = threading.local()
        self._reader_connections: list[sqlite3.Connection] = []

    # ---- lifecycle -------------------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self._uri, uri=self.in_memory, isolation_level=None, check_same_thread=False)
        if not self.in_memory:
            conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA busy_timeout=5000")
        conn.execute("PRAGMA cache_size=-65536")
        return conn

    async def open(self) -> None:
        if not self.in_memory:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        self._loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = self._loop.create_future()
        self._thread = threading.Thread(target=self._writer_main, args=(ready,), name="ngsild-sqlite-writer")
        self._thread.daemon = True
        self._thread.start()
        await ready
        if not self.in_memory:
            self._reader = self._connect()
        names = await self._write(lambda c: [r[0] for r in c.execute("SELECT name FROM tenants")])
        self._tenants.update(names)

    async def close(self) -> None:
        if self._thread is not None:
            self._queue.put(_STOP)
            await asyncio.get_running_loop().run_in_executor(None, self._thread.join)
            self._thread = None
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        self._readers.shutdown(wait=True)
        for conn in self._reader_connections:
            conn.close()
        self._reader_connections.clear()

    # ---- the writer thread -----------------------------------------------------------------------

    def _writer_main(self, ready: asyncio.Future[None]) -> None:
        loop = self._loop
        assert loop is not None
        try:
            conn = self._connect()
            conn.executescript(_SCHEMA)
            sqlite_index.migrate(conn)
            sqlite_outbox.migrate(conn)
        except sqlite3.Error as exc:
            loop.call_soon_threadsafe(ready.set_exception, _translate(exc))
            return
        loop.call_soon_threadsafe(ready.set_result, None)
        try:
            while True:
                first = self._queue.get()
                if first is _STOP:
                    break
                group = [first]
                stop = False
                while len(group) < _MAX_GROUP:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stop = True
                        break
                    group.append(item)
                self._run_group(conn, group)
                if stop:
                    break
        finally:
            conn.close()

    def _run_group(self, conn: sqlite3.Connection, group: list[tuple[Op, asyncio.Future[Any]]]) -> None:
        loop = self._loop
        assert loop is not None
        outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for op, future in group:
                conn.execute("SAVEPOINT op")
                try:
                    result = op(conn)
                except BaseException as exc:  # reported to the caller of this op alone
                    conn.execute("ROLLBACK TO op")
                    conn.execute("RELEASE op")
                    outcomes.append((future, None, exc))
                else:
                    conn.execute("RELEASE op")
                    outcomes.append((future, result, None))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            failure = _translate(exc)
            outcomes = [(future, None, failure) for _, future in group]
        for future, result, error in outcomes:
            loop.call_soon_threadsafe(_settle, future, result, error)

    async def _write(self, op: Callable[[sqlite3.Connection], T]) -> T:
        loop = self._loop
        assert loop is not None and self._thread is not None, "the store is not open"
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((op, future))
        return await future

    async def _read(self, op: Callable[[sqlite3.Connection], T]) -> T:
        if self._reader is None:
            return await self._write(op)
        try:
            return op(self._reader)
        except sqlite3.Error as exc:
            raise _translate(exc) from exc

    # ---- the port --------------------------------------------------------------------------------

    async def tenant_exists(self, tenant: str) -> bool:
        return tenant in self._tenants

    async def create(self, tenant: str, doc: Doc, outbox: Sequence[Outgoing] = ()) -> None:
        text = _dumps(doc)
        entity_id = doc["id"]

        def op(conn: sqlite3.Connection) -> None:
            if tenant != DEFAULT_TENANT:
                conn.execute("INSERT OR IGNORE INTO tenants (name) VALUES (?)", (tenant,))
            try:
                cursor = conn.execute(
                    "INSERT INTO entities (tenant, id, revision, doc) VALUES (?, ?, 1, ?)",
                    (tenant, entity_id, text),
                )
            except sqlite3.IntegrityError:
                raise AlreadyExists(f"the entity {entity_id} already exists", instance=entity_id) from None
            assert cursor.lastrowid is not None
            sqlite_index.index(conn, tenant, cursor.lastrowid, doc)
            sqlite_outbox.enqueue(conn, outbox)

        await self._write(op)
        self._tenants.add(tenant)

    async def get(self, tenant: str, entity_id: str) -> Stored | None:
        def op(conn: sqlite3.Connection) -> Stored | None:
            row = conn.execute(
                "SELECT revision, doc FROM entities WHERE tenant = ? AND id = ?", (tenant, entity_id)
            ).fetchone()
            return None if row is None else Stored(orjson.loads(row[1]), row[0])

        return await self._read(op)

    async def replace(self, tenant: str, doc: Doc, revision: int, outbox: Sequence[Outgoing] = ()) -> int:
        text = _dumps(doc)
        entity_id = doc["id"]

        def op(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "UPDATE entities SET doc = ?, revision = revision + 1"
                " WHERE tenant = ? AND id = ? AND revision = ? RETURNING rowid",
                (text, tenant, entity_id, revision),
            ).fetchone()
            if row is not None:
                sqlite_index.unindex(conn, row[0])
                sqlite_index.index(conn, tenant, row[0], doc)
                sqlite_outbox.enqueue(conn, outbox)
                return revision + 1
            _explain_miss(conn, tenant, entity_id)
            raise AssertionError("unreachable")  # pragma: no cover

        return await self._write(op)

    async def delete(
        self, tenant: str, entity_id: str, revision: int | None = None, outbox: Sequence[Outgoing] = ()
    ) -> bool:
        def op(conn: sqlite3.Connection) -> bool:
            if revision is None:
                row = conn.execute(
                    "DELETE FROM entities WHERE tenant = ? AND id = ? RETURNING rowid", (tenant, entity_id)
                ).fetchone()
            else:
                row = conn.execute(
                    "DELETE FROM entities WHERE tenant = ? AND id = ? AND revision = ? RETURNING rowid",
                    (tenant, entity_id, revision),
                ).fetchone()
            if row is not None:
                sqlite_index.unindex(conn, row[0])
                sqlite_outbox.enqueue(conn, outbox)
                return True
            if revision is None:
                return False
            try:
                _explain_miss(conn, tenant, entity_id)
            except ResourceNotFound:
                return False
            raise AssertionError("unreachable")  # pragma: no cover

        return await self._write(op)

    async def find(
        self, tenant: str, query: EntityQuery, *, offset: int, limit: int, count: bool, order: Ordering | None = None
    ) -> Page:
        if order is not None:
            # Ordering needs every match; sort them with the one definition, then cut the page.
            every = await self.find(tenant, query, offset=0, limit=_UNLIMITED, count=False)
            ordered = sort(every.docs, order)
            return Page(ordered[offset : offset + limit], len(ordered) if count else None)
        plan = translate(tenant, query)

        def op(conn: sqlite3.Connection) -> Page:
            source = _source(conn, plan)
            if plan.exact:
                candidates, params = plan.candidates(source)
                # Cut the page from the candidates (side tables only), then read its documents.
                page = [r[0] for r in conn.execute(f"{candidates} LIMIT ? OFFSET ?", (*params, limit, offset))]
                total = None
                if count:
                    total = conn.execute(f"SELECT count(*) FROM ({candidates})", params).fetchone()[0]
                return Page(_documents(conn, page), total)
            # Candidates in creation (rowid) order, checked one by one with the reference semantics.
            paging = Paging(offset, limit, count)
            candidates, params = plan.candidates(source, tenant_checked=False)
            cursor = conn.execute(
                f"SELECT e.doc FROM ({candidates}) AS c CROSS JOIN entities e ON e.rowid = c.eid WHERE e.tenant = ?",
                (*params, tenant),
            )
            # A first batch about the page's size: most candidates usually match, and each row
            # fetched is a document read.
            size = min(256, offset + limit + 8)
            done = False
            while not done and (batch := cursor.fetchmany(size)):
                size = 256
                for (text,) in batch:
                    doc = orjson.loads(text)
                    if matches(query, doc) and paging.add(doc):
                        done = True
                        break
            return paging.page()

        return await self._scan(op)

    async def types(self, tenant: str) -> dict[str, int]:
        return await self._scan(
            lambda c: dict(
                c.execute(
                    "SELECT type, count(*) FROM entity_types WHERE tenant = ? GROUP BY type ORDER BY type",
                    (tenant,),
                ).fetchall()
            )
        )

    async def attributes(self, tenant: str, entity_type: str | None = None) -> list[AttributeUse]:
        sql = (
            "SELECT a.attr, a.kind, t.type, a.instances, a.eid FROM entity_attrs a"
            " JOIN entity_types t ON t.eid = a.eid WHERE a.tenant = ?"
        )
        params: list[str] = [tenant]
        if entity_type is not None:
            sql += " AND a.eid IN (SELECT eid FROM entity_types WHERE tenant = ? AND type = ?)"
            params += [tenant, entity_type]

        def op(conn: sqlite3.Connection) -> list[AttributeUse]:
            kinds: dict[str, set[str]] = {}
            types: dict[str, set[str]] = {}
            instances: dict[tuple[str, str, int], int] = {}
            for attr, kind, type_iri, n, entity_id in conn.execute(sql, params):
                kinds.setdefault(attr, set()).add(kind)
                types.setdefault(attr, set()).add(type_iri)
                instances[(attr, kind, entity_id)] = n
            totals: dict[str, int] = {}
            entities: dict[str, set[int]] = {}
            for (attr, _, entity_id), n in instances.items():
                totals[attr] = totals.get(attr, 0) + n
                entities.setdefault(attr, set()).add(entity_id)
            return [
                AttributeUse(a, frozenset(kinds[a]), frozenset(types[a]), totals[a], len(entities[a]))
                for a in sorted(kinds)
            ]

        return await self._scan(op)

    async def _scan(self, op: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read that may touch many rows on a reader thread, so the event loop keeps serving."""
        if self.in_memory:
            return await self._write(op)
        return await asyncio.get_running_loop().run_in_executor(self._readers, self._in_reader, op)

    def _in_reader(self, op: Callable[[sqlite3.Connection], T]) -> T:
        conn = getattr(self._reader_local, "conn", None)
        if conn is None:
            conn = self._connect()
            # Scans read index and document pages all over the file: memory-mapped, a page read is a
            # memory access instead of a system call (35-50 % off B6 at 100k). Capped, and only
            # here: mapped pages count in the process's RSS (as reclaimable page cache).
            conn.execute(f"PRAGMA mmap_size={_SCAN_MMAP_BYTES}")
            self._reader_local.conn = conn
            self._reader_connections.append(conn)
        try:
            return op(conn)
        except sqlite3.Error as exc:
            raise _translate(exc) from exc

    async def count(self, tenant: str) -> int:
        return await self._read(
            lambda c: int(c.execute("SELECT count(*) FROM entities WHERE tenant = ?", (tenant,)).fetchone()[0])
        )

    async def put_context(self, record: StoredContext) -> None:
        row = (record.local_id, record.kind, orjson.dumps(record.context).decode(), record.created_at)
        await self._write(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO contexts (local_id, kind, context, created_at) VALUES (?, ?, ?, ?)", row
            )
        )

    async def contexts(self) -> list[StoredContext]:
        rows = await self._read(
            lambda c: c.execute("SELECT local_id, kind, context, created_at FROM contexts ORDER BY rowid").fetchall()
        )
        return [StoredContext(local_id, kind, orjson.loads(text), created) for local_id, kind, text, created in rows]

    async def delete_context(self, local_id: str) -> bool:
        return await self._write(
            lambda c: c.execute("DELETE FROM contexts WHERE local_id = ?", (local_id,)).rowcount > 0
        )

    # ---- subscriptions and the outbox (their SQL: sqlite_outbox.py) -----------------------------

    async def add_outgoing(self, outbox: Sequence[Outgoing]) -> None:
        await self._write(partial(sqlite_outbox.enqueue, outbox=outbox))

    async def outgoing(self, limit: int, offset: int = 0) -> list[Outgoing]:
        return await self._read(partial(sqlite_outbox.outgoing, limit=limit, offset=offset))

    async def remove_outgoing(self, keys: Sequence[str]) -> None:
        if keys:
            await self._write(partial(sqlite_outbox.remove, keys=keys))

    async def put_subscription(self, tenant: str, doc: Doc, *, create: bool) -> None:
        await self._write(partial(sqlite_outbox.put_subscription, tenant=tenant, doc=doc, create=create))

    async def subscriptions(self) -> list[StoredSubscription]:
        return await self._read(sqlite_outbox.subscriptions)

    async def delete_subscription(self, tenant: str, subscription_id: str) -> bool:
        return await self._write(partial(sqlite_outbox.delete_subscription, tenant=tenant, sub_id=subscription_id))

    async def put_subscription_stats(self, tenant: str, subscription_id: str, stats: Doc) -> None:
        await self._write(partial(sqlite_outbox.put_stats, tenant=tenant, sub_id=subscription_id, stats=stats))


def _explain_miss(conn: sqlite3.Connection, tenant: str, entity_id: str) -> None:
    row = conn.execute("SELECT revision FROM entities WHERE tenant = ? AND id = ?", (tenant, entity_id)).fetchone()
    if row is None:
        raise ResourceNotFound(f"the entity {entity_id} was not found", instance=entity_id)
    raise RevisionConflict(f"the entity {entity_id} changed concurrently (revision {row[0]})")


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
