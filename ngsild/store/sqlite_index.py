"""Side tables of the SQLite store, kept in the same transaction as the documents they index.

The entity documents stay the source of truth; these rows only let queries find candidates
without reading every document: entity types (type selection, /types), attribute names with
their kinds and instance counts (attrs=, existence in q, /attributes), scalar attribute values
(comparisons in q) and GeoProperty bounding boxes in an R*Tree (geo-queries).
"""

from __future__ import annotations

import sqlite3
from collections import Counter

import orjson

from ngsild.model import Doc

SCHEMA_VERSION = 3

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
-- Scalar values of top-level attributes (numbers in num, strings in txt; no declared type, so
-- integers stay exact). A query condition on them is a necessary condition, never the final word.
CREATE TABLE IF NOT EXISTS attr_values (
    tenant TEXT NOT NULL,
    id     TEXT NOT NULL,
    attr   TEXT NOT NULL,
    num,
    txt    TEXT
);
-- (tenant, id, attr) so that a per-candidate check is an equality lookup, never a value range scan.
DROP INDEX IF EXISTS attr_values_by_entity;
CREATE INDEX IF NOT EXISTS attr_values_by_entity_attr ON attr_values (tenant, id, attr);
CREATE INDEX IF NOT EXISTS attr_values_by_num ON attr_values (tenant, attr, num) WHERE num IS NOT NULL;
CREATE INDEX IF NOT EXISTS attr_values_by_txt ON attr_values (tenant, attr, txt) WHERE txt IS NOT NULL;
-- Bounding boxes of GeoProperty values, for geo-queries.
CREATE VIRTUAL TABLE IF NOT EXISTS geo_boxes USING rtree(box, min_x, max_x, min_y, max_y, +tenant, +attr, +id);
CREATE TABLE IF NOT EXISTS geo_box_owners (
    tenant TEXT NOT NULL,
    id     TEXT NOT NULL,
    box    INTEGER NOT NULL,
    PRIMARY KEY (tenant, id, box)
) WITHOUT ROWID;
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
    values = [(tenant, entity_id, attr, num, txt) for attr, num, txt in _scalars(doc)]
    if values:
        conn.executemany("INSERT INTO attr_values (tenant, id, attr, num, txt) VALUES (?, ?, ?, ?, ?)", values)
    for attr, box in _boxes(doc):
        cursor = conn.execute(
            "INSERT INTO geo_boxes (min_x, max_x, min_y, max_y, tenant, attr, id) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (*box, tenant, attr, entity_id),
        )
        conn.execute(
            "INSERT INTO geo_box_owners (tenant, id, box) VALUES (?, ?, ?)", (tenant, entity_id, cursor.lastrowid)
        )


def unindex(conn: sqlite3.Connection, tenant: str, entity_id: str) -> None:
    """Remove the side rows of a document about to be replaced or deleted."""
    conn.execute("DELETE FROM entity_types WHERE tenant = ? AND id = ?", (tenant, entity_id))
    conn.execute("DELETE FROM entity_attrs WHERE tenant = ? AND id = ?", (tenant, entity_id))
    conn.execute("DELETE FROM attr_values WHERE tenant = ? AND id = ?", (tenant, entity_id))
    boxes = conn.execute("SELECT box FROM geo_box_owners WHERE tenant = ? AND id = ?", (tenant, entity_id)).fetchall()
    if boxes:
        conn.executemany("DELETE FROM geo_boxes WHERE box = ?", boxes)
        conn.execute("DELETE FROM geo_box_owners WHERE tenant = ? AND id = ?", (tenant, entity_id))


_SCALAR_KINDS = {
    "Property": "value",
    "ListProperty": "valueList",
    "Relationship": "object",
    "ListRelationship": "objectList",
    "VocabProperty": "vocab",
    "JsonProperty": "json",  # an array of scalars compares element-wise like a list
}


def _scalars(doc: Doc) -> list[tuple[str, object, str | None]]:
    """(attr, number, text) for every scalar a q comparison on the attribute itself could reach."""
    rows: list[tuple[str, object, str | None]] = []
    for attr, insts in doc["attrs"].items():
        for inst in insts:
            kind = inst["type"]
            if kind == "LanguageProperty":
                for text in inst["languageMap"].values():
                    rows.extend((attr, None, t) for t in (text if isinstance(text, list) else [text]))
                continue
            member = _SCALAR_KINDS.get(kind)
            if member is None:
                continue
            value = inst[member]
            if isinstance(value, dict) and "@value" in value:
                value = value["@value"]
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, bool):
                    continue
                if isinstance(item, int | float):
                    rows.append((attr, item, None))
                elif isinstance(item, str):
                    rows.append((attr, None, item))
    return rows


def _boxes(doc: Doc) -> list[tuple[str, tuple[float, float, float, float]]]:
    """(attr, (min_x, max_x, min_y, max_y)) for every GeoProperty instance."""
    out = []
    for attr, insts in doc["attrs"].items():
        for inst in insts:
            if inst["type"] == "GeoProperty":
                xs: list[float] = []
                ys: list[float] = []
                _positions(inst["value"]["coordinates"], xs, ys)
                if xs:
                    out.append((attr, (min(xs), max(xs), min(ys), max(ys))))
    return out


def _positions(coordinates: object, xs: list[float], ys: list[float]) -> None:
    if isinstance(coordinates, list) and coordinates and isinstance(coordinates[0], int | float):
        xs.append(float(coordinates[0]))
        ys.append(float(coordinates[1]))
    elif isinstance(coordinates, list):
        for item in coordinates:
            _positions(item, xs, ys)


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
