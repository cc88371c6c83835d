"""Side tables of the SQLite store, kept in the same transaction as the documents they index.

The entity documents stay the source of truth; these rows only let queries find candidates
without reading every document: entity types (type selection, /types) and attribute names with
their kinds and instance counts (attrs=, existence in q, /attributes).
"""

from __future__ import annotations

import sqlite3
from collections import Counter

import orjson

from ngsild.model import Doc

SCHEMA_VERSION = 2

SCHEMA = """
CREATE TABLE IF NOT EXISTS entity_types (
    tenant TEXT NOT NULL,
    id     TEXT NOT NULL,
    type   TEXT NOT NULL,
    PRIMARY KEY (tenant, id, type)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entity_types_by_type ON entity_types (tenant, type, id);
CREATE TABLE IF NOT EXISTS entity_attrs (
    tenant    TEXT    NOT NULL,
    id        TEXT    NOT NULL,
    attr      TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    instances INTEGER NOT NULL,
    PRIMARY KEY (tenant, id, attr, kind)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entity_attrs_by_attr ON entity_attrs (tenant, attr, id);
"""


def index(conn: sqlite3.Connection, tenant: str, doc: Doc) -> None:
    """Add the side rows of a newly stored document."""
    entity_id = doc["id"]
    conn.executemany(
        "INSERT INTO entity_types (tenant, id, type) VALUES (?, ?, ?)",
        [(tenant, entity_id, t) for t in doc["type"]],
    )
    kinds: Counter[tuple[str, str]] = Counter()
    for attr, insts in doc["attrs"].items():
        for inst in insts:
            kinds[(attr, inst["type"])] += 1
    conn.executemany(
        "INSERT INTO entity_attrs (tenant, id, attr, kind, instances) VALUES (?, ?, ?, ?, ?)",
        [(tenant, entity_id, attr, kind, n) for (attr, kind), n in kinds.items()],
    )


def unindex(conn: sqlite3.Connection, tenant: str, entity_id: str) -> None:
    """Remove the side rows of a document about to be replaced or deleted."""
    conn.execute("DELETE FROM entity_types WHERE tenant = ? AND id = ?", (tenant, entity_id))
    conn.execute("DELETE FROM entity_attrs WHERE tenant = ? AND id = ?", (tenant, entity_id))


def migrate(conn: sqlite3.Connection) -> None:
    """Create the side tables, and fill them for documents stored by an older schema."""
    conn.executescript(SCHEMA)
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is not None and int(row[0]) >= SCHEMA_VERSION:
        return
    conn.execute("BEGIN IMMEDIATE")
    for tenant, text in conn.execute("SELECT tenant, doc FROM entities").fetchall():
        doc = orjson.loads(text)
        unindex(conn, tenant, doc["id"])
        index(conn, tenant, doc)
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    conn.execute("COMMIT")
