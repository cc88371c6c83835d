"""Digest §5.8: ordering of query results (orderBy, collation, orderFrom, orderGeometry) on GET /entities and
POST /entityOperations/query, plus the expandValues and jsonKeys query parameters of digest §3.3."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from conformance.helpers import ContextServer, assert_problem, body_list, create, geo, link_header, point, prop, send

VOCAB = "http://example.org/vocab#"


def uniq(prefix: str) -> str:
    """A type name no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def eid(type_name: str, key: str) -> str:
    return f"urn:ngsi-ld:{type_name}:{key}"


def query(client: httpx.Client, headers: dict[str, str] | None = None, /, **params: str) -> httpx.Response:
    return client.get("/entities", params=params, headers=headers)


def order(client: httpx.Client, t: str, headers: dict[str, str] | None = None, /, **params: str) -> list[str]:
    """The keys (last id segment) of the entities of type ``t``, in the order the broker returns them."""
    return [e["id"].rsplit(":", 1)[1] for e in body_list(query(client, headers, type=t, **params))]


def sorted_values(client: httpx.Client, values: list[Any], **params: str) -> list[Any]:
    """Create one entity per value (Property ``v``, in the given order) and return the values as ordered by
    ``orderBy=v`` (unless ``params`` gives another orderBy)."""
    t = uniq("Sorted")
    for i, value in enumerate(values):
        create(client, {"id": eid(t, f"e{i}"), "type": t, "v": prop(value)})
    params.setdefault("orderBy", "v")
    return [values[int(k[1:])] for k in order(client, t, **params)]


# --------------------------------------------------------------------------------------------- keys and directions


@pytest.fixture
def temps(client: httpx.Client) -> str:
    """Five entities, created in the order m, x, c, a, z: x and a tie on temp; z has no temp."""
    t = uniq("Room")
    for key, temp, category in (("m", 20, "b"), ("x", 5, "a"), ("c", 30, "b"), ("a", 5, "a"), ("z", None, "c")):
        ent: dict[str, Any] = {"id": eid(t, key), "type": t, "category": prop(category)}
        if temp is not None:
            ent["temp"] = prop(temp)
        create(client, ent)
    return t


def test_default_direction_is_ascending(client: httpx.Client, temps: str) -> None:
    """orderBy=attr sorts ascending, like ;asc; ties keep creation order; entities lacking the attribute come last."""
    assert order(client, temps, orderBy="temp") == ["x", "a", "m", "c", "z"]
    assert order(client, temps, orderBy="temp;asc") == ["x", "a", "m", "c", "z"]


def test_descending_keeps_absent_last(client: httpx.Client, temps: str) -> None:
    """;desc sorts descending; ties still keep creation order and entities lacking the attribute still come last."""
    assert order(client, temps, orderBy="temp;desc") == ["c", "m", "x", "a", "z"]


def test_keys_apply_in_sequence(client: httpx.Client, temps: str) -> None:
    """With several comma-separated keys, each later key orders the entities the earlier keys leave tied."""
    assert order(client, temps, orderBy="category,temp;desc") == ["x", "a", "c", "m", "z"]
    assert order(client, temps, orderBy="category;desc,temp") == ["z", "m", "c", "x", "a"]


def test_order_by_id(client: httpx.Client, temps: str) -> None:
    """orderBy=id orders by entity id; ;desc reverses it."""
    assert order(client, temps, orderBy="id") == ["a", "c", "m", "x", "z"]
    assert order(client, temps, orderBy="id;desc") == ["z", "x", "m", "c", "a"]


def test_order_by_type(client: httpx.Client) -> None:
    """orderBy=type orders by entity type."""
    prefix = uniq("Kind")
    create(client, {"id": eid(prefix, "b"), "type": prefix + "B", "v": prop(1)})
    create(client, {"id": eid(prefix, "a"), "type": prefix + "A", "v": prop(2)})
    create(client, {"id": eid(prefix, "c"), "type": prefix + "C", "v": prop(3)})
    types = f"{prefix}A,{prefix}B,{prefix}C"
    assert order(client, types, orderBy="type") == ["a", "b", "c"]
    assert order(client, types, orderBy="type;desc") == ["c", "b", "a"]


def test_order_by_scope(client: httpx.Client) -> None:
    """orderBy=scope orders by scope; entities without a scope come last in both directions."""
    t = uniq("Scoped")
    create(client, {"id": eid(t, "n"), "type": t, "v": prop(1)})
    create(client, {"id": eid(t, "b"), "type": t, "scope": "/Madrid/North", "v": prop(1)})
    create(client, {"id": eid(t, "a"), "type": t, "scope": "/Barcelona", "v": prop(1)})
    assert order(client, t, orderBy="scope") == ["a", "b", "n"]
    assert order(client, t, orderBy="scope;desc") == ["b", "a", "n"]


def test_order_by_sub_attribute_and_member(client: httpx.Client) -> None:
    """A dotted path orders by a sub-attribute (temp.accuracy) or an attribute member (temp.observedAt)."""
    t = uniq("Probe")
    for key, accuracy, day in (("p", 0.5, "02"), ("q", 0.1, "03"), ("r", 0.9, "01")):
        observed = f"2024-01-{day}T00:00:00Z"
        create(client, {"id": eid(t, key), "type": t, "temp": prop(20, observedAt=observed, accuracy=prop(accuracy))})
    assert order(client, t, orderBy="temp.accuracy") == ["q", "p", "r"]
    assert order(client, t, orderBy="temp.observedAt;desc") == ["q", "p", "r"]
    assert order(client, t, orderBy="temp.observedAt") == ["r", "p", "q"]


def test_order_by_compound_key(client: httpx.Client) -> None:
    """A bracketed path orders by a member of a structured value (address[city])."""
    t = uniq("Shop")
    for key, city in (("1", "Paris"), ("2", "Berlin"), ("3", "Madrid")):
        create(client, {"id": eid(t, key), "type": t, "address": prop({"city": city, "zip": key})})
    create(client, {"id": eid(t, "4"), "type": t, "address": prop({"zip": "4"})})
    assert order(client, t, orderBy="address[city]") == ["2", "3", "1", "4"]
    assert order(client, t, orderBy="address[city];desc") == ["1", "3", "2", "4"]


# --------------------------------------------------------------------------------------------- mixed data types

MIXED = [
    ("date", {"@type": "Date", "@value": "2024-03-01"}),
    ("array", [1, 2]),
    ("number", 42),
    ("datetime", {"@type": "DateTime", "@value": "2024-03-01T10:00:00Z"}),
    ("boolean", True),
    ("string", "hello"),
    ("time", {"@type": "Time", "@value": "10:00:00Z"}),
    ("object", {"a": 1}),
]
MIXED_RANK = ["number", "string", "object", "array", "boolean", "time", "date", "datetime"]


@pytest.fixture
def mixed(client: httpx.Client) -> str:
    """One entity per data type (key = the type name), created out of order, plus one without the attribute."""
    t = uniq("Mixed")
    create(client, {"id": eid(t, "absent"), "type": t, "other": prop(1)})
    for key, value in MIXED:
        create(client, {"id": eid(t, key), "type": t, "v": prop(value)})
    return t


def test_mixed_types_ascending(client: httpx.Client, mixed: str) -> None:
    """Values of different types order numbers < strings < objects < arrays < booleans < Time < Date < DateTime;
    an absent attribute comes after all of them. (null cannot be created, so it is not tested.)"""
    assert order(client, mixed, orderBy="v") == [*MIXED_RANK, "absent"]


def test_mixed_types_descending(client: httpx.Client, mixed: str) -> None:
    """;desc reverses the type order, but an absent attribute still comes last."""
    assert order(client, mixed, orderBy="v;desc") == [*reversed(MIXED_RANK), "absent"]


def test_numbers_and_datetimes_compare_by_value(client: httpx.Client) -> None:
    """Numbers compare numerically (not as text) and DateTimes chronologically."""
    assert sorted_values(client, [10, 9.5, -3, 100]) == [-3, 9.5, 10, 100]
    stamps = [{"@type": "DateTime", "@value": v} for v in ("2024-01-02T00:00:00Z", "2023-12-31T23:59:59Z")]
    assert sorted_values(client, stamps) == [stamps[1], stamps[0]]


# --------------------------------------------------------------------------------------------- collation


def test_root_collation_ignores_case_at_first_level(client: httpx.Client) -> None:
    """The default (root) collation compares letters before case: apple < Banana < cherry (not code point order)."""
    assert sorted_values(client, ["cherry", "Banana", "apple"]) == ["apple", "Banana", "cherry"]


def test_root_collation_accents_are_secondary(client: httpx.Client) -> None:
    """Accents only break ties between otherwise equal strings: a < á < b, and áa < ab."""
    assert sorted_values(client, ["b", "á", "a"]) == ["a", "á", "b"]
    assert sorted_values(client, ["ab", "áa"]) == ["áa", "ab"]


def test_root_collation_lowercase_first_on_ties(client: httpx.Client) -> None:
    """When strings differ only in case, lowercase comes first: a < A."""
    assert sorted_values(client, ["A", "a", "B", "b"]) == ["a", "A", "b", "B"]


def test_german_phonebook_collation(client: httpx.Client) -> None:
    """collation=de-u-co-phonebk sorts ü as ue: Mueller < Müller < Muffler (the root order puts Müller last)."""
    names = ["Muffler", "Müller", "Mueller"]
    assert sorted_values(client, names, collation="de-u-co-phonebk") == ["Mueller", "Müller", "Muffler"]
    assert sorted_values(client, names) == ["Mueller", "Muffler", "Müller"]


def test_swedish_collation(client: httpx.Client) -> None:
    """collation=sv puts å, ä and ö after z (the root order sorts them as a and o)."""
    words = ["öl", "zebra", "äpple", "åsna", "apa"]
    assert sorted_values(client, words, collation="sv") == ["apa", "zebra", "åsna", "äpple", "öl"]
    assert sorted_values(client, words) == ["apa", "äpple", "åsna", "öl", "zebra"]


def test_collation_applies_to_descending_order(client: httpx.Client) -> None:
    """The collation also orders ;desc: cherry > Banana > apple."""
    assert sorted_values(client, ["apple", "cherry", "Banana"], orderBy="v;desc") == ["cherry", "Banana", "apple"]


# --------------------------------------------------------------------------------------------- distance

ORIGIN = "[13.4,52.5]"


@pytest.fixture
def places(client: httpx.Client) -> str:
    """far (~70 km east of ORIGIN), none (no location), near (~7 km), here (at ORIGIN), created in that order."""
    t = uniq("Place")
    create(client, {"id": eid(t, "far"), "type": t, "location": geo(point(14.4, 52.5))})
    create(client, {"id": eid(t, "none"), "type": t, "name": prop("nowhere")})
    create(client, {"id": eid(t, "near"), "type": t, "location": geo(point(13.5, 52.5))})
    create(client, {"id": eid(t, "here"), "type": t, "location": geo(point(13.4, 52.5))})
    return t


def test_distance_ascending(client: httpx.Client, places: str) -> None:
    """;dist-asc orders by distance from orderFrom (a Point by default), nearest first; no GeoProperty comes last."""
    assert order(client, places, orderBy="location;dist-asc", orderFrom=ORIGIN) == ["here", "near", "far", "none"]
    explicit = order(client, places, orderBy="location;dist-asc", orderFrom=ORIGIN, orderGeometry="Point")
    assert explicit == ["here", "near", "far", "none"]


def test_distance_descending(client: httpx.Client, places: str) -> None:
    """;dist-desc orders farthest first; entities without the GeoProperty still come last."""
    assert order(client, places, orderBy="location;dist-desc", orderFrom=ORIGIN) == ["far", "near", "here", "none"]


def test_distance_from_other_origin(client: httpx.Client, places: str) -> None:
    """The distance is measured from orderFrom: seen from the far point, the order is reversed."""
    assert order(client, places, orderBy="location;dist-asc", orderFrom="[14.4,52.5]") == [
        "far",
        "near",
        "here",
        "none",
    ]


# --------------------------------------------------------------------------------------------- paging and POST


def test_paging_follows_the_ordering(client: httpx.Client, temps: str) -> None:
    """Pages of limit=2 taken with offset give the same sequence as one page; count is the number of matches."""
    whole = order(client, temps, orderBy="temp;desc")
    paged: list[str] = []
    for offset in range(0, 6, 2):
        resp = query(client, type=temps, orderBy="temp;desc", limit="2", offset=str(offset), count="true")
        assert resp.headers.get("NGSILD-Results-Count") == "5"
        paged += [e["id"].rsplit(":", 1)[1] for e in body_list(resp)]
    assert paged == whole


def test_post_query_is_ordered(client: httpx.Client, temps: str) -> None:
    """POST /entityOperations/query takes orderBy (and collation) as URL parameters."""
    body = {"type": "Query", "entities": [{"type": temps}]}
    resp = send(client, "POST", "/entityOperations/query", body, params={"orderBy": "temp;desc", "collation": "en"})
    assert [e["id"].rsplit(":", 1)[1] for e in body_list(resp)] == ["c", "m", "x", "a", "z"]


# --------------------------------------------------------------------------------------------- errors

ORDER_ERRORS = [
    {"orderBy": "temp;up"},
    {"orderBy": "temp;ASCENDING"},
    {"orderBy": ""},
    {"orderBy": "bad name"},
    {"orderBy": "a(b)"},
    {"orderBy": "temp,"},
    {"orderBy": "temp", "collation": "not a tag!"},
    {"orderBy": "temp", "collation": "_"},
    {"orderBy": "location;dist-asc"},
    {"orderBy": "location;dist-desc"},
    {"orderBy": "location;dist-asc", "orderFrom": "[200,100]"},
    {"orderBy": "location;dist-asc", "orderFrom": "notjson"},
    {"orderBy": "location;dist-asc", "orderFrom": "[13.4,52.5]", "orderGeometry": "Polygon"},
    {"orderBy": "id;dist-asc", "orderFrom": "[13.4,52.5]"},
]


@pytest.mark.parametrize("params", ORDER_ERRORS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
def test_ordering_errors(client: httpx.Client, params: dict[str, str]) -> None:
    """An unknown direction, an empty or invalid key, an invalid collation, dist-* without a valid orderFrom (or on
    a key that is not an attribute) gives 400 BadRequestData."""
    assert_problem(query(client, type=uniq("Room"), **params), 400, "BadRequestData")


# --------------------------------------------------------------------------------------------- expandValues / jsonKeys


@pytest.fixture
def shops(client: httpx.Client) -> str:
    """Entity s has Property category with the IRI value VOCAB+shop; entity o has VOCAB+office."""
    t = uniq("Venue")
    create(client, {"id": eid(t, "s"), "type": t, "category": prop(VOCAB + "shop")})
    create(client, {"id": eid(t, "o"), "type": t, "category": prop(VOCAB + "office")})
    return t


def test_expand_values_expands_compact_iri(client: httpx.Client, context_server: ContextServer, shops: str) -> None:
    """With expandValues=category, a string compared with category also matches in its form expanded with the
    request @context (ex:shop -> VOCAB+shop); without it the literal is compared as written."""
    ctx = link_header(context_server.valid({"@context": {"ex": VOCAB}}))
    q = 'category=="ex:shop"'
    assert order(client, shops, ctx, q=q) == []
    assert order(client, shops, ctx, q=q, expandValues="category") == ["s"]
    assert order(client, shops, ctx, q=f'category=="{VOCAB}shop"', expandValues="category") == ["s"]


def test_expand_values_expands_terms(client: httpx.Client, context_server: ContextServer, shops: str) -> None:
    """A term of the request @context used as a value expands to its IRI when the attribute is in expandValues."""
    ctx = link_header(context_server.valid({"@context": {"shop": VOCAB + "shop", "office": VOCAB + "office"}}))
    assert order(client, shops, ctx, q='category=="shop"') == []
    assert order(client, shops, ctx, q='category=="shop"', expandValues="category") == ["s"]
    got = order(client, shops, ctx, q='category=="shop","office"', expandValues="other,category")
    assert got == ["s", "o"]


def test_json_keys_uses_keys_as_written(client: httpx.Client) -> None:
    """With jsonKeys=config, config[mode] looks up the key "mode" of the JSON value as written."""
    t = uniq("Device")
    create(client, {"id": eid(t, "eco"), "type": t, "config": prop({"mode": "eco", "level": 2})})
    create(client, {"id": eid(t, "max"), "type": t, "config": prop({"mode": "max", "level": 9})})
    assert order(client, t, q='config[mode]=="eco"', jsonKeys="config") == ["eco"]
    assert order(client, t, q="config[level]>5", jsonKeys="config") == ["max"]


@pytest.mark.parametrize(
    "params",
    [
        {"q": 'category=="x"', "expandValues": ""},
        {"q": 'category=="x"', "expandValues": "a b"},
        {"q": 'category=="x"', "expandValues": "a,"},
        {"q": 'category=="x"', "jsonKeys": ""},
        {"q": 'category=="x"', "jsonKeys": "a b"},
        {"expandValues": "a b"},
        {"jsonKeys": ""},
    ],
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()),
)
def test_invalid_name_lists_are_bad_request(client: httpx.Client, params: dict[str, str]) -> None:
    """expandValues and jsonKeys must be comma-separated attribute names, with or without q; otherwise
    400 BadRequestData."""
    assert_problem(query(client, type=uniq("Venue"), **params), 400, "BadRequestData")
