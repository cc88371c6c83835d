"""The SQLite store's subscriptions and notification outbox, as plain ``def op(conn)`` functions the
store runs on its writer thread or a read connection. ``enqueue`` runs inside an entity write's
own operation, so notifications commit in the same transaction as the change that caused them."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

import orjson

from ngsild.errors import AlreadyExists, ResourceNotFound
from ngsild.model import Doc
from ngsild.store.port import Outgoing, StoredSubscription

_SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    tenant TEXT NOT NULL,
    id     TEXT NOT NULL,
    doc    TEXT NOT NULL,
    stats  TEXT NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant, id)
);
CREATE TABLE IF NOT EXISTS outbox (
    seq          INTEGER PRIMARY KEY,
    key          TEXT NOT NULL UNIQUE,
    tenant       TEXT NOT NULL,
    subscription TEXT NOT NULL,
    body         TEXT NOT NULL,
    accept       TEXT NOT NULL
);
"""


def _text(value: Doc) -> str:
    return orjson.dumps(value).decode()


def migrate(conn: sqlite3.Connection) -> None:
    conn.executescript(_SCHEMA)


def enqueue(conn: sqlite3.Connection, outbox: Sequence[Outgoing]) -> None:
    """Notifications join the transaction of the write that caused them: both or neither."""
    if outbox:
        conn.executemany(
            "INSERT INTO outbox (key, tenant, subscription, body, accept) VALUES (?, ?, ?, ?, ?)",
            [(o.key, o.tenant, o.subscription_id, _text(o.body), o.accept) for o in outbox],
        )


def outgoing(conn: sqlite3.Connection, limit: int, offset: int) -> list[Outgoing]:
    rows = conn.execute(
        "SELECT key, tenant, subscription, body, accept FROM outbox ORDER BY seq LIMIT ? OFFSET ?", (limit, offset)
    ).fetchall()
    return [Outgoing(key, tenant, sub, orjson.loads(body), accept) for key, tenant, sub, body, accept in rows]


def remove(conn: sqlite3.Connection, keys: Sequence[str]) -> None:
    conn.executemany("DELETE FROM outbox WHERE key = ?", [(k,) for k in keys])


def put_subscription(conn: sqlite3.Connection, tenant: str, doc: Doc, create: bool) -> None:
    text, sub_id = _text(doc), doc["id"]
    if create:
        try:
            conn.execute("INSERT INTO subscriptions (tenant, id, doc) VALUES (?, ?, ?)", (tenant, sub_id, text))
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"the subscription {sub_id} already exists", instance=sub_id) from None
        return
    cursor = conn.execute("UPDATE subscriptions SET doc = ? WHERE tenant = ? AND id = ?", (text, tenant, sub_id))
    if cursor.rowcount == 0:
        raise ResourceNotFound(f"the subscription {sub_id} was not found", instance=sub_id)


def subscriptions(conn: sqlite3.Connection) -> list[StoredSubscription]:
    rows = conn.execute("SELECT tenant, doc, stats FROM subscriptions ORDER BY rowid").fetchall()
    return [StoredSubscription(tenant, orjson.loads(doc), orjson.loads(stats)) for tenant, doc, stats in rows]


def delete_subscription(conn: sqlite3.Connection, tenant: str, sub_id: str) -> bool:
    return conn.execute("DELETE FROM subscriptions WHERE tenant = ? AND id = ?", (tenant, sub_id)).rowcount > 0


def put_stats(conn: sqlite3.Connection, tenant: str, sub_id: str, stats: Doc) -> None:
    """Statistics of a subscription that no longer exists are dropped (the UPDATE finds no row)."""
    conn.execute("UPDATE subscriptions SET stats = ? WHERE tenant = ? AND id = ?", (_text(stats), tenant, sub_id))
