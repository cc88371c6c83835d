"""store.find agrees with the reference semantics: for any entities, query and ordering, the adapter
returns ``sort([d for d in all_in_creation_order if matches(query, d)], order)[offset:offset + limit]``
and counts all of them, whatever it pushes down into SQL."""

from __future__ import annotations

import asyncio
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pymongo import MongoClient

from mongo_standin import with_database
from ngsild.model import Doc
from ngsild.query.ast import (
    And,
    Compare,
    Direction,
    EntityQuery,
    EntitySelector,
    Exists,
    GeoQuery,
    GeoRel,
    Op,
    Or,
    Ordering,
    OrderKey,
    Range,
    ScopePattern,
    ScopeQuery,
    Segment,
    TypeSelector,
)
from ngsild.query.ast import (
    Path as QPath,
)
from ngsild.query.match import matches
from ngsild.query.order import sort
from ngsild.query.regex import compile_regex
from ngsild.store import sqlite as sqlite_store
from ngsild.store.mongo import MongoStore
from ngsild.store.port import Store
from ngsild.store.sqlite import SqliteStore

EX = "https://example.org/"
TYPES = [EX + t for t in ("Building", "Car", "Sensor")]
ATTRS = [EX + a for a in ("level", "name", "owner", "extra")]
NOW = "2026-01-01T00:00:00.000000Z"
# A square around (0.005, 0) holding the points at lon 0.0 and 0.01 on its edges and 0.05 outside.
SQUARE = (((-0.001, -0.01), (0.02, -0.01), (0.02, 0.01), (-0.001, 0.01), (-0.001, -0.01)),)


def shifted(polygon: Any, d_lat: float) -> Any:
    return tuple(tuple((x, y + d_lat) for x, y in ring) for ring in polygon)


def instance(kind: str, value: Any) -> dict[str, Any]:
    member = "object" if kind == "Relationship" else "value"
    return {"type": kind, member: value, "createdAt": NOW, "modifiedAt": NOW}


@st.composite
def entity_docs(draw: st.DrawFn, n: int) -> Doc:
    attrs: dict[str, list[dict[str, Any]]] = {}
    if draw(st.booleans()):
        # Numbers of both kinds, a boolean, and an integer past int64 that JSON allows
        level = draw(st.integers(0, 5) | st.sampled_from([2.5, True, 2**63 + 1]))
        attrs[EX + "level"] = [instance("Property", level)]
    if draw(st.booleans()):
        attrs[EX + "name"] = [instance("Property", draw(st.sampled_from(["a", "b", "c"])))]
    if draw(st.booleans()):
        attrs[EX + "owner"] = [instance("Relationship", draw(st.sampled_from(["urn:p:1", "urn:p:2"])))]
    if draw(st.booleans()):
        kind = draw(st.sampled_from(["ListProperty", "JsonProperty", "LanguageProperty", "VocabProperty"]))
        numbers = draw(st.lists(st.integers(0, 5), min_size=1, max_size=3))
        extra = {
            "ListProperty": {"valueList": numbers},
            "JsonProperty": {"json": numbers},
            "LanguageProperty": {"languageMap": {"en": draw(st.sampled_from(["a", "b"])), "fr": "c"}},
            "VocabProperty": {"vocab": EX + draw(st.sampled_from(["a", "b"]))},
        }[kind]
        attrs[EX + "extra"] = [{"type": kind, **extra, "createdAt": NOW, "modifiedAt": NOW}]
    if draw(st.booleans()):
        x, y = draw(st.sampled_from([0.0, 0.01, 0.05])), draw(st.sampled_from([0.0, 45.0]))
        shapes = [
            {"type": "Point", "coordinates": [x, y]},
            {"type": "LineString", "coordinates": [[x, y], [x + 0.02, y + 0.004]]},
        ]
        instances = [instance("GeoProperty", draw(st.sampled_from(shapes)))]
        if draw(st.booleans()):  # a second instance (datasetId)
            instances.append({**instance("GeoProperty", draw(st.sampled_from(shapes))), "datasetId": "urn:d:2"})
        attrs["https://uri.etsi.org/ngsi-ld/location"] = instances
    doc: Doc = {
        "id": f"urn:ngsi-ld:E:{n:03d}",
        "type": draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=2, unique=True)),
        "createdAt": NOW,
        "modifiedAt": NOW,
        "attrs": attrs,
    }
    if draw(st.booleans()):
        doc["scope"] = [draw(st.sampled_from(["/A", "/A/B", "/C"]))]
    return doc


def path(attr: str) -> QPath:
    return QPath(Segment(attr.rsplit("/", 1)[1], attr))


q_terms = st.one_of(
    st.builds(Exists, st.sampled_from(ATTRS).map(path), st.booleans()),
    st.builds(
        Compare,
        st.just(path(EX + "level")),
        st.sampled_from(list(Op)),
        st.integers(0, 5) | st.sampled_from([2.5, True, 2**63, 10**40]),
    ),
    st.builds(  # expandValues named the attribute: strings widen, types stay apart
        Compare,
        st.just(path(EX + "level")),
        st.sampled_from([Op.EQ, Op.NE]),
        st.sampled_from([1, True]),
        st.just(()),
        st.booleans(),
    ),
    st.builds(Compare, st.just(path(EX + "name")), st.sampled_from([Op.EQ, Op.NE]), st.sampled_from(["a", "b"])),
    st.builds(Compare, st.just(path(EX + "owner")), st.sampled_from([Op.EQ, Op.NE]), st.just("urn:p:1")),
    st.builds(Compare, st.just(path(EX + "level")), st.sampled_from([Op.EQ, Op.NE]), st.just(Range(1, 3))),
    st.builds(Compare, st.just(path(EX + "name")), st.just(Op.EQ), st.just(("a", "c"))),
    st.builds(Compare, st.just(path(EX + "name")), st.sampled_from([Op.GT, Op.LE]), st.just("b")),
    st.builds(Compare, st.just(path(EX + "extra")), st.sampled_from(list(Op)), st.integers(0, 5)),
    st.builds(
        Compare,
        st.just(path(EX + "extra")),
        st.sampled_from([Op.EQ, Op.NE, Op.GT]),
        st.sampled_from(["a", "c", EX + "a"]),
        st.sampled_from([(), (EX + "a",)]),
    ),
)
q_nodes = st.recursive(
    q_terms,
    lambda inner: (
        st.lists(inner, min_size=2, max_size=3).map(lambda t: And(tuple(t)))
        | st.lists(inner, min_size=2, max_size=3).map(lambda t: Or(tuple(t)))
    ),
    max_leaves=4,
)
type_selectors = st.lists(st.frozensets(st.sampled_from(TYPES), min_size=1, max_size=2), min_size=1, max_size=2).map(
    lambda groups: TypeSelector(tuple(groups))
)
ids = st.frozensets(st.integers(0, 12).map(lambda n: f"urn:ngsi-ld:E:{n:03d}"), min_size=1, max_size=4)
selectors = st.builds(
    EntitySelector,
    ids=st.none() | ids,
    id_pattern=st.none() | st.sampled_from(["0[0-4]$", "E:00"]).map(compile_regex),
    types=st.none() | type_selectors,
)
queries = st.builds(
    EntityQuery,
    ids=st.none() | ids,
    id_pattern=st.none() | st.sampled_from(["[13579]$", "^urn:ngsi-ld:E:00"]).map(compile_regex),
    types=st.none() | type_selectors,
    attrs=st.none() | st.frozensets(st.sampled_from(ATTRS), min_size=1, max_size=2),
    q=st.none() | q_nodes,
    scope=st.none()
    | st.sampled_from(
        [ScopeQuery(((ScopePattern(("A",), True),),)), ScopeQuery(((ScopePattern(("+",)),), (ScopePattern(("C",)),)))]
    ),
    geo=st.none()
    | st.sampled_from([0.0, 45.0]).map(
        lambda y: GeoQuery(GeoRel.NEAR, "Point", (0.0, y), "https://uri.etsi.org/ngsi-ld/location", max_distance=2000)
    )
    | st.just(GeoQuery(GeoRel.NEAR, "Point", (0.0, 0.0), "https://uri.etsi.org/ngsi-ld/location", min_distance=2000))
    | st.tuples(st.sampled_from([GeoRel.WITHIN, GeoRel.INTERSECTS, GeoRel.DISJOINT]), st.sampled_from([0.0, 45.0])).map(
        lambda t: GeoQuery(t[0], "Polygon", shifted(SQUARE, t[1]), "https://uri.etsi.org/ngsi-ld/location")
    ),
    selectors=st.lists(selectors, max_size=2).map(tuple),
)
order_keys = st.sampled_from(
    [
        OrderKey(Direction.DESC, member="id"),
        OrderKey(Direction.ASC, path=path(EX + "level")),
        OrderKey(Direction.DESC, path=path(EX + "name")),
        OrderKey(Direction.DIST_ASC, path=path("https://uri.etsi.org/ngsi-ld/location")),
    ]
)
orderings = st.none() | st.builds(
    Ordering, st.lists(order_keys, min_size=1, max_size=2).map(tuple), st.just("und"), st.just(("Point", (0.0, 0.0)))
)
pages = st.tuples(st.integers(0, 6), st.integers(0, 8), st.booleans(), orderings)


def reference(
    docs: list[Doc], query: EntityQuery, offset: int, limit: int, order: Ordering | None
) -> tuple[list[str], int]:
    selected = [d for d in docs if matches(query, d)]  # created in list order
    if order is not None:
        selected = sort(selected, order)
    return [d["id"] for d in selected[offset : offset + limit]], len(selected)


async def run_find(
    store: Store, docs: list[Doc], query: EntityQuery, page: tuple[int, int, bool], tenant: str = "t"
) -> None:
    await store.open()
    try:
        for doc in docs:
            await store.create(tenant, doc)
        offset, limit, count, order = page
        found = await store.find(tenant, query, offset=offset, limit=limit, count=count, order=order)
        expected_ids, expected_total = reference(docs, query, offset, limit, order)
        assert [d["id"] for d in found.docs] == expected_ids
        assert found.total == (expected_total if count else None)
        assert all(d == next(x for x in docs if x["id"] == d["id"]) for d in found.docs)
    finally:
        await store.close()


# Created in a shuffled order, so creation order and id order differ.
documents = (
    st.integers(0, 12)
    .flatmap(lambda n: st.tuples(*(entity_docs(i) for i in range(n))))
    .flatmap(lambda docs: st.permutations(list(docs)))
)


@given(docs=documents, query=queries, page=pages)
def test_in_memory_store_finds_exactly_the_matching_page(docs: list[Doc], query: EntityQuery, page: Any) -> None:
    """The in-memory store pages through exactly what matches() accepts, in creation order."""
    asyncio.run(run_find(SqliteStore(":memory:"), docs, query, page))


@given(docs=documents, query=queries, page=pages)
def test_file_store_finds_exactly_the_matching_page(docs: list[Doc], query: EntityQuery, page: Any) -> None:
    """The file store (reader threads, side-table pushdown) agrees with matches() too."""
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(run_find(SqliteStore(str(Path(directory) / "db.sqlite")), docs, query, page))


@pytest.fixture(scope="module")
def mongo_find_url(mongo_server: str) -> str:
    return with_database(mongo_server, "find_model")


@given(docs=documents, query=queries, page=pages)
def test_mongodb_store_finds_exactly_the_matching_page(
    mongo_find_url: str, docs: list[Doc], query: EntityQuery, page: Any
) -> None:
    """The MongoDB store (filter pushdown, residual check) agrees with matches() too; each example
    gets a tenant of its own."""
    tenant = f"t{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(run_find(MongoStore(mongo_find_url), docs, query, page, tenant=tenant))
    finally:  # keep the collection small: the stand-in's scans grow with it
        with MongoClient(mongo_find_url) as client:
            client.get_default_database()["entities"].delete_many({"tenant": tenant})


@pytest.mark.parametrize("adapter", ["sqlite", "mongodb"])
def test_indexes_follow_replace_and_delete(request: pytest.FixtureRequest, adapter: str) -> None:
    """After a replace changes the types and a delete removes an entity, type queries, /types and
    /attributes see the change (SQLite side tables, MongoDB record fields)."""

    async def run() -> None:
        store: Store = (
            SqliteStore(":memory:") if adapter == "sqlite" else MongoStore(request.getfixturevalue("mongo_url"))
        )
        await store.open()
        try:
            building = TypeSelector((frozenset({TYPES[0]}),))
            car = TypeSelector((frozenset({TYPES[1]}),))
            doc = {"id": "urn:x:1", "type": [TYPES[0]], "createdAt": NOW, "modifiedAt": NOW, "attrs": {}}
            await store.create("t", doc)
            await store.replace("t", {**doc, "type": [TYPES[1]]}, 1)
            assert (await store.find("t", EntityQuery(types=building), offset=0, limit=10, count=True)).total == 0
            assert (await store.find("t", EntityQuery(types=car), offset=0, limit=10, count=True)).total == 1
            assert await store.types("t") == {TYPES[1]: 1}
            await store.delete("t", "urn:x:1")
            assert (await store.find("t", EntityQuery(types=car), offset=0, limit=10, count=True)).total == 0
            assert await store.types("t") == {}
            assert await store.attributes("t") == []
        finally:
            await store.close()

    asyncio.run(run())


def test_pages_larger_than_one_statement_read_every_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """Documents are read in chunks of bound parameters, so no page (an ordering reads all matches) hits
    SQLite's variable limit; the chunks keep the order."""
    monkeypatch.setattr(sqlite_store, "_VARIABLES", 7)

    async def run() -> None:
        store = SqliteStore(":memory:")
        await store.open()
        try:
            docs = [
                {"id": f"urn:x:{n:02d}", "type": [TYPES[0]], "createdAt": NOW, "modifiedAt": NOW, "attrs": {}}
                for n in range(30)
            ]
            for doc in docs:
                await store.create("t", doc)
            query = EntityQuery(types=TypeSelector((frozenset({TYPES[0]}),)))
            page = await store.find("t", query, offset=2, limit=25, count=True)
            assert [d["id"] for d in page.docs] == [d["id"] for d in docs[2:27]] and page.total == 30
            newest_first = Ordering((OrderKey(Direction.DESC, member="id"),))
            page = await store.find("t", query, offset=0, limit=30, count=False, order=newest_first)
            assert [d["id"] for d in page.docs] == [d["id"] for d in reversed(docs)]
        finally:
            await store.close()

    asyncio.run(run())
