"""Side tables of the SQLite store, kept in the same transaction as the documents they index.

The entity documents stay the source of truth; these rows only let queries find candidates
without reading every document: entity types (type selection, /types), attribute names with
their kinds and instance counts (attrs=, existence in q, /attributes), scalar attribute values
(comparisons in q) and GeoProperty bounding boxes in an R*Tree (geo-queries).
"""

from __future__ import annotations

import sqlite3

import orjson

from ngsild.errors import BadRequestData
from ngsild.model import Doc
from ngsild.store import derived

SCHEMA_VERSION = 6

# Side rows are keyed by the entity row's integer rowid (``eid``): small keys, and new entities
# append at the right edge of every by-entity b-tree instead of dirtying random pages. Each row
# also names its tenant, and every lookup index starts with it, so a query lists the candidates of
# its tenant from an index alone, without reading the (large) entity rows.
SCHEMA = """
CREATE TABLE IF NOT EXISTS entity_types (
    eid    INTEGER NOT NULL,
    type   TEXT    NOT NULL,
    tenant TEXT    NOT NULL,
    PRIMARY KEY (eid, type)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entity_types_by_type ON entity_types (tenant, type);
CREATE TABLE IF NOT EXISTS entity_attrs (
    eid       INTEGER NOT NULL,
    attr      TEXT    NOT NULL,
    kind      TEXT    NOT NULL,
    instances INTEGER NOT NULL,
    tenant    TEXT    NOT NULL,
    PRIMARY KEY (eid, attr, kind)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entity_attrs_by_attr ON entity_attrs (tenant, attr);
-- Scalar values of top-level attributes (numbers in num, strings in txt; no declared type, so
-- integers stay exact). A query condition on them is a necessary condition, never the final word.
-- Clustered by entity, so a per-candidate check is one seek; the value indexes carry the key
-- (eid) with them, so a value condition lists its entities from the index alone.
CREATE TABLE IF NOT EXISTS attr_values (
    eid    INTEGER NOT NULL,
    attr   TEXT    NOT NULL,
    seq    INTEGER NOT NULL,
    num,
    txt    TEXT,
    tenant TEXT    NOT NULL,
    PRIMARY KEY (eid, attr, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS attr_values_by_num ON attr_values (tenant, attr, num) WHERE num IS NOT NULL;
CREATE INDEX IF NOT EXISTS attr_values_by_txt ON attr_values (tenant, attr, txt) WHERE txt IS NOT NULL;
-- Bounding boxes of GeoProperty values, for geo-queries. A box id is its entity's eid shifted
-- left by BOX_BITS plus the box's number within the entity, so a search yields entities without
-- reading the R*Tree's auxiliary columns (a lookup per result).
CREATE VIRTUAL TABLE IF NOT EXISTS geo_boxes USING rtree(box, min_x, max_x, min_y, max_y, +attr);
CREATE TABLE IF NOT EXISTS geo_box_owners (
    eid INTEGER NOT NULL,
    box INTEGER NOT NULL,
    PRIMARY KEY (eid, box)
) WITHOUT ROWID;
"""
_OLD_TABLES = ("entity_types", "entity_attrs", "attr_values", "geo_boxes", "geo_box_owners")
BOX_BITS = 20  # boxes per entity: a million, far beyond what a request body can carry


def index(conn: sqlite3.Connection, tenant: str, eid: int, doc: Doc) -> None:
    """Add the side rows of a newly stored document (entity row ``eid``)."""
    conn.executemany(
        "INSERT INTO entity_types (eid, type, tenant) VALUES (?, ?, ?)", [(eid, t, tenant) for t in doc["type"]]
    )
    kinds = derived.attribute_kinds(doc)
    conn.executemany(
        "INSERT INTO entity_attrs (eid, attr, kind, instances, tenant) VALUES (?, ?, ?, ?, ?)",
        [(eid, attr, kind, n, tenant) for (attr, kind), n in kinds.items()],
    )
    values = [(eid, attr, seq, num, txt, tenant) for seq, (attr, num, txt) in enumerate(_scalars(doc))]
    if values:
        conn.executemany("INSERT INTO attr_values (eid, attr, seq, num, txt, tenant) VALUES (?, ?, ?, ?, ?, ?)", values)
    boxes = [((eid << BOX_BITS) + n, attr, box) for n, (attr, box) in enumerate(_boxes(doc))]
    if len(boxes) >> BOX_BITS:
        raise BadRequestData(f"an entity can hold at most {(1 << BOX_BITS) - 1} GeoProperty values")
    if boxes:
        conn.executemany(
            "INSERT INTO geo_boxes (box, min_x, max_x, min_y, max_y, attr) VALUES (?, ?, ?, ?, ?, ?)",
            [(box_id, *box, attr) for box_id, attr, box in boxes],
        )
        conn.executemany("INSERT INTO geo_box_owners (eid, box) VALUES (?, ?)", [(eid, b) for b, _, _ in boxes])


def unindex(conn: sqlite3.Connection, eid: int) -> None:
    """Remove the side rows of a document about to be replaced or deleted."""
    conn.execute("DELETE FROM entity_types WHERE eid = ?", (eid,))
    conn.execute("DELETE FROM entity_attrs WHERE eid = ?", (eid,))
    conn.execute("DELETE FROM attr_values WHERE eid = ?", (eid,))
    boxes = conn.execute("SELECT box FROM geo_box_owners WHERE eid = ?", (eid,)).fetchall()
    if boxes:
        conn.executemany("DELETE FROM geo_boxes WHERE box = ?", boxes)
        conn.execute("DELETE FROM geo_box_owners WHERE eid = ?", (eid,))


def _scalars(doc: Doc) -> list[tuple[str, object, str | None]]:
    """(attr, number, text) for every scalar a q comparison on the attribute itself could reach."""
    return [
        (attr, None, v) if isinstance(v, str) else (attr, _sqlite_number(v), None) for attr, v in derived.scalars(doc)
    ]


def _sqlite_number(value: int | float) -> int | float:
    """JSON integers past int64 (up to 2**64, all that is parsed as an integer) as the nearest REAL:
    every literal the translation pushes down fits int64, so the order against them is unchanged."""
    return float(value) if isinstance(value, int) and value not in derived.INT64 else value


def _boxes(doc: Doc) -> list[tuple[str, derived.Box]]:
    """(attr, (min_x, max_x, min_y, max_y)) for every GeoProperty instance."""
    return [(attr, box) for attr, geometry in derived.geometries(doc) if (box := derived.bounding_box(geometry))]


def migrate(conn: sqlite3.Connection) -> None:
    """Create the side tables, and rebuild them for documents stored by an older schema."""
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = int(row[0]) if row is not None else 0
    if version >= SCHEMA_VERSION:
        conn.executescript(SCHEMA)
        return
    conn.execute("BEGIN IMMEDIATE")
    for table in _OLD_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    conn.execute("COMMIT")
    conn.executescript(SCHEMA)
    conn.execute("BEGIN IMMEDIATE")
    for eid, tenant, text in conn.execute("SELECT rowid, tenant, doc FROM entities").fetchall():
        index(conn, tenant, eid, orjson.loads(text))
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    conn.execute("COMMIT")
