"""Digest §5.1-§5.5: the q language, type selection, scopeQ, id selection and geo-queries on GET /entities."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from conformance.helpers import assert_problem, create, geo, point, prop, rel

POSITION_RE = re.compile(r"(position|pos|column|col|offset|index|char\w*)\D{0,3}\d+", re.IGNORECASE)


def uniq(prefix: str) -> str:
    """A type name no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def eid(type_name: str, key: str) -> str:
    return f"urn:ngsi-ld:{type_name}:{key}"


def query(client: httpx.Client, **params: str) -> httpx.Response:
    return client.get("/entities", params=params)


def ids(resp: httpx.Response) -> set[str]:
    """Assert 200 with a JSON array and return the set of entity ids."""
    assert resp.status_code == 200, f"{resp.status_code}: {resp.text[:500]}"
    body = resp.json()
    assert isinstance(body, list), body
    found = [e["id"] for e in body]
    assert len(found) == len(set(found)), f"duplicates in {found}"
    return set(found)


def keys(type_name: str, *names: str) -> set[str]:
    return {eid(type_name, n) for n in names}


def polygon(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    """A closed rectangular GeoJSON Polygon."""
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}


# --------------------------------------------------------------------------------------------- §5.1 TS 019_09


@pytest.fixture
def buildings(client: httpx.Client) -> str:
    """The three Buildings of TS 019_09 under a fresh type name."""
    t = uniq("Building")
    data = [
        ("eiffel", "Eiffel Tower", "tourism", 4, "2020-09-09T16:40:00.000Z", False, None),
        ("pisa1", "Pisa Tower", "tourism", 6, "2020-10-10T16:40:00.000Z", True, None),
        ("pisa2", "Pisa Tower", "sightseeing", 7, "2023-10-10T16:40:00.000Z", False, "urn:ngsi-ld:City:Pisa"),
    ]
    for key, name, sub, aql, obs, full, city in data:
        ent: dict[str, Any] = {
            "id": eid(t, key),
            "type": t,
            "name": prop(name),
            "subCategory": prop(sub),
            "airQualityLevel": prop(aql, unitCode="C62", observedAt=obs),
            "almostFull": prop(full),
        }
        if city:
            ent["locatedIn"] = rel(city)
        create(client, ent)
    return t


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('name=="Eiffel Tower"', {"eiffel"}),
        ('name=="Pisa Tower";almostFull==false', {"pisa2"}),
        ('name=="Pisa Tower"|almostFull==false', {"eiffel", "pisa1", "pisa2"}),
        ('(name=="Pisa Tower"|name=="Eiffel Tower");almostFull==false', {"eiffel", "pisa2"}),
        ("airQualityLevel==4", {"eiffel"}),
        ("airQualityLevel>=4;airQualityLevel<7", {"eiffel", "pisa1"}),
        ("locatedIn==urn:ngsi-ld:City:Pisa", {"pisa2"}),
        ("locatedIn==urn:ngsi-ld:City:Paris", set()),
        ("locatedIn==urn:ngsi-ld:City:Pisa|locatedIn==urn:ngsi-ld:City:Paris", {"pisa2"}),
    ],
)
def test_ts_019_09_table(client: httpx.Client, buildings: str, q: str, expected: set[str]) -> None:
    """The TS 019_09 q table over three Buildings gives the listed matches and NGSILD-Results-Count."""
    resp = query(client, type=buildings, q=q, count="true")
    assert ids(resp) == keys(buildings, *expected)
    assert resp.headers.get("NGSILD-Results-Count") == str(len(expected))


# --------------------------------------------------------------------------------------------- §5.1 operators


@pytest.fixture
def vehicles(client: httpx.Client) -> str:
    """Four entities a-d of a fresh type exercising every q operator and path kind."""
    t = uniq("Vehicle")
    create(
        client,
        {
            "id": eid(t, "a"),
            "type": t,
            "speed": prop(80, unitCode="KMH", observedAt="2024-01-01T10:00:00Z", source=prop("GPS")),
            "brand": prop("Mercedes"),
            "isParked": prop(False),
            "colors": prop(["black", "red"]),
            "address": prop({"city": "Berlin", "zip": "10117", "geo": {"floor": 3}}),
            "owner": rel("urn:ngsi-ld:Person:1"),
            "day": prop("2024-03-01"),
            "opens": prop("08:00:00Z"),
            "motto": {"type": "LanguageProperty", "languageMap": {"en": "Fast", "fr": "Rapide"}},
            "label": prop("a;b|c(d)"),
            "quote": prop('say "hi"'),
        },
    )
    create(
        client,
        {
            "id": eid(t, "b"),
            "type": t,
            "speed": prop(50, observedAt="2024-06-01T00:00:00Z", source=prop("radar")),
            "brand": prop("Audi"),
            "isParked": prop(True),
            "colors": prop("blue"),
            "address": prop({"city": "Paris"}),
            "owner": rel("urn:ngsi-ld:Person:2"),
            "day": prop("2024-05-15"),
            "opens": prop("10:30:00Z"),
            "motto": {"type": "LanguageProperty", "languageMap": {"en": "Calm", "@none": "calme"}},
        },
    )
    create(
        client,
        {
            "id": eid(t, "c"),
            "type": t,
            "speed": prop(120.5, observedAt="2023-12-31T23:59:59Z"),
            "brand": prop("BMW"),
            "colors": prop(["white"]),
            "owner": rel("urn:ngsi-ld:Person:3"),
            "day": prop("2023-12-31"),
            "opens": prop("23:00:00Z"),
        },
    )
    create(client, {"id": eid(t, "d"), "type": t, "brand": prop(42)})
    return t


Q_CASES = [
    # numbers and every comparison operator
    ("speed==80", "a"),
    ("speed!=80", "bc"),
    ("speed>80", "c"),
    ("speed>=80", "ac"),
    ("speed<80", "b"),
    ("speed<=80", "ab"),
    ("speed>100.25", "c"),
    ("speed==120.5", "c"),
    ("speed<-1", ""),
    # ranges and value lists
    ("speed==50..80", "ab"),
    ("speed==60..200", "ac"),
    ("speed!=50..80", "c"),
    ("speed==50,120.5", "bc"),
    ("speed!=50,120.5", "a"),
    # strings
    ('brand=="Audi"', "b"),
    ('brand!="Audi"', "acd"),
    ('brand=="Audi","BMW"', "bc"),
    ('brand>"B"', "ac"),
    ('brand<"Mercedes"', "bc"),
    ('brand=="Audi".."BMW"', "bc"),
    ('label=="a;b|c(d)"', "a"),
    ('quote=="say \\"hi\\""', "a"),
    # booleans
    ("isParked==false", "a"),
    ("isParked==true", "b"),
    ("isParked!=true", "a"),
    # data type mismatch: no match for == and ordering, match for !=
    ("brand==42", "d"),
    ('speed=="80"', ""),
    ('speed!="80"', "abc"),
    ('brand>"A";brand<"Z"', "abc"),
    # regular expressions: only string targets
    ("brand~=^M", "a"),
    ("brand~=W$", "c"),
    ("brand!~=^M", "bc"),
    # URIs, quoted and unquoted; no ordering on Relationships
    ("owner==urn:ngsi-ld:Person:1", "a"),
    ('owner=="urn:ngsi-ld:Person:1"', "a"),
    ("owner!=urn:ngsi-ld:Person:1", "bc"),
    ('owner=="urn:ngsi-ld:Person:1","urn:ngsi-ld:Person:3"', "ac"),
    ('owner>="urn:ngsi-ld:Person:0"', ""),
    # arrays contain the value
    ('colors=="red"', "a"),
    ('colors=="white","blue"', "bc"),
    ('colors!="red"', "bc"),
    # existence
    ("owner", "abc"),
    ("isParked", "ab"),
    ("isParked|address", "ab"),
    ("speed;isParked", "ab"),
    # precedence: ; binds tighter than |
    ('brand=="Mercedes"|brand=="Audi";speed<60', "ab"),
    ('speed<60;brand=="Audi"|brand=="Mercedes"', "ab"),
    ('(brand=="Mercedes"|brand=="Audi");speed<60', "b"),
    # nested parentheses
    ("((speed>100|speed<60);isParked==true)|brand==42", "bd"),
    ('(brand=="BMW"|(isParked==true;(speed==50|speed==80)))', "bc"),
    ("((speed==80))", "a"),
    # dotted paths: sub-attributes and non-reified members
    ('speed.source=="GPS"', "a"),
    ('speed.source!="GPS"', "b"),
    ("speed.source", "ab"),
    ('speed.unitCode=="KMH"', "a"),
    ("speed.observedAt>=2024-01-01T00:00:00Z", "ab"),
    ("speed.observedAt<2024-01-01T00:00:00Z", "c"),
    ("speed.observedAt==2024-01-01T10:00:00Z", "a"),
    ("speed.observedAt==2023-01-01T00:00:00Z..2024-01-31T00:00:00Z", "ac"),
    # Date and Time literals
    ("day==2024-03-01", "a"),
    ("day>2024-01-01", "ab"),
    ("day==2024-01-01..2024-04-01", "a"),
    ("opens<09:00:00Z", "a"),
    ("opens>=10:30:00Z", "bc"),
    # bracket paths into the JSON value
    ('address[city]=="Berlin"', "a"),
    ('address[city]!="Berlin"', "b"),
    ("address[geo.floor]==3", "a"),
    ("address[geo.floor]>2", "a"),
    ("address[zip]", "a"),
    ('address[nothere]!="x"', ""),
    # LanguageProperty: any language, or a chosen one with [lang]
    ('motto=="Rapide"', "a"),
    ('motto[fr]=="Rapide"', "a"),
    ('motto[en]=="Rapide"', ""),
    ('motto[*]=="Calm"', "b"),
    ('motto=="calme"', "b"),
    # a missing target never matches, not even !=
    ('nothere!="x"', ""),
    ("nothere!=1..2", ""),
]


@pytest.mark.parametrize(("q", "expected"), Q_CASES, ids=[c[0] for c in Q_CASES])
def test_q_operator_semantics(client: httpx.Client, vehicles: str, q: str, expected: str) -> None:
    """Each q term matches exactly the entities the §5.1 operator semantics select."""
    assert ids(query(client, type=vehicles, q=q)) == keys(vehicles, *expected)


def test_q_any_instance_of_multi_attribute_matches(client: httpx.Client) -> None:
    """With several instances and no datasetId, a q term matches if any instance matches."""
    t = uniq("Sensor")
    create(
        client,
        {
            "id": eid(t, "m"),
            "type": t,
            "temp": [prop(10), prop(30, datasetId="urn:ngsi-ld:Dataset:b")],
        },
    )
    create(client, {"id": eid(t, "n"), "type": t, "temp": prop(20)})
    assert ids(query(client, type=t, q="temp>25")) == keys(t, "m")
    assert ids(query(client, type=t, q="temp<15")) == keys(t, "m")
    assert ids(query(client, type=t, q="temp==20")) == keys(t, "n")


Q_SYNTAX_ERRORS = [
    "(speed>1",
    "speed>1)",
    "((speed>1)",
    "speed==",
    "speed>",
    "speed=~1",
    "speed>>1",
    "speed=1",
    'brand=="unterminated',
    ";speed==1",
    "speed==1;",
    "speed==1||speed==2",
    "()",
]


@pytest.mark.parametrize("q", Q_SYNTAX_ERRORS)
def test_q_syntax_error_is_bad_request_with_position(client: httpx.Client, q: str) -> None:
    """A q syntax error gives 400 BadRequestData whose detail mentions where the error is."""
    body = assert_problem(query(client, type=uniq("Vehicle"), q=q), 400, "BadRequestData")
    detail = str(body.get("detail", ""))
    assert POSITION_RE.search(detail), f"detail does not mention a position: {detail!r}"


def test_q_invalid_regex_is_bad_request(client: httpx.Client) -> None:
    """An invalid regular expression after ~= gives 400 BadRequestData."""
    assert_problem(query(client, type=uniq("Vehicle"), q="brand~=[a-"), 400, "BadRequestData")


# --------------------------------------------------------------------------------------------- §5.2 type


@pytest.fixture
def typed(client: httpx.Client) -> dict[str, str]:
    """Entities x:[A], y:[A,B], z:[B], w:[C] with fresh type names A, B, C."""
    names = {k: uniq(k) for k in ("A", "B", "C")}
    a, b, c = names["A"], names["B"], names["C"]
    ns = uniq("Mix")
    names["ns"] = ns
    for key, types in (("x", [a]), ("y", [a, b]), ("z", [b]), ("w", [c])):
        create(client, {"id": eid(ns, key), "type": types if len(types) > 1 else types[0], "v": prop(1)})
    return names


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("A", "xy"),
        ("B", "yz"),
        ("(A;B)", "y"),
        ("A,B", "xyz"),
        ("A|B", "xyz"),
        ("A|C", "xyw"),
        ("(A;B),C", "yw"),
        ("(A;B)|C", "yw"),
        ("(A;C)", ""),
        ("(B;A)|(A;B)", "y"),
    ],
)
def test_type_selection_language(client: httpx.Client, typed: dict[str, str], expr: str, expected: str) -> None:
    """The type parameter follows §5.2: , and | are OR, parenthesised ; is AND over the entity's types."""
    value = "".join(typed.get(ch, ch) for ch in expr)
    assert ids(query(client, type=value)) == {eid(typed["ns"], k) for k in expected}


def test_type_accepts_full_iri(client: httpx.Client, typed: dict[str, str]) -> None:
    """A type given as a full IRI (default @vocab expansion of the short name) selects the same entities."""
    iri = "https://uri.etsi.org/ngsi-ld/default-context/" + typed["A"]
    assert ids(query(client, type=iri)) == {eid(typed["ns"], k) for k in "xy"}


# --------------------------------------------------------------------------------------------- §5.3 scopeQ


@pytest.fixture
def scoped(client: httpx.Client) -> str:
    t = uniq("Park")
    create(client, {"id": eid(t, "s1"), "type": t, "scope": "/Madrid/Gardens/ParqueNorte", "v": prop(1)})
    create(
        client,
        {"id": eid(t, "s2"), "type": t, "scope": ["/Madrid/Other/ParqueNorte", "/CompanyA/OrgB"], "v": prop(2)},
    )
    create(client, {"id": eid(t, "s3"), "type": t, "scope": "/CompanyA", "v": prop(3)})
    create(client, {"id": eid(t, "s4"), "type": t, "v": prop(4)})
    return t


@pytest.mark.parametrize(
    ("scope_q", "expected"),
    [
        ("/Madrid/Gardens/ParqueNorte", {"s1"}),
        ("/Madrid/+/ParqueNorte", {"s1", "s2"}),
        ("/CompanyA/#", {"s2", "s3"}),
        ("/#", {"s1", "s2", "s3"}),
        ("/Madrid/Gardens/#", {"s1"}),
        ("/Madrid/#", {"s1", "s2"}),
        ("/Madrid", set()),
        ("/+", {"s3"}),
        ("/CompanyA/+", {"s2"}),
        ("(/Madrid/Other/ParqueNorte;/CompanyA/OrgB)", {"s2"}),
        ("(/Madrid/Gardens/ParqueNorte;/CompanyA)", set()),
        ("/CompanyA,/Madrid/Gardens/ParqueNorte", {"s1", "s3"}),
        ("/CompanyA|/Madrid/Gardens/ParqueNorte", {"s1", "s3"}),
        ("(/Madrid/+/ParqueNorte;/CompanyA/#)|/CompanyA", {"s2", "s3"}),
    ],
)
def test_scope_query(client: httpx.Client, scoped: str, scope_q: str, expected: set[str]) -> None:
    """scopeQ follows §5.3: exact levels, + for one level, /# for the subtree, ; AND and ,/| OR."""
    assert ids(query(client, type=scoped, scopeQ=scope_q)) == keys(scoped, *expected)


@pytest.mark.parametrize("scope_q", ["Madrid", "/Madrid/", "/Mad rid", "(/A;/B", "/A//B"])
def test_scope_query_syntax_error(client: httpx.Client, scope_q: str) -> None:
    """A scopeQ that breaks the §5.3 grammar gives 400 BadRequestData."""
    assert_problem(query(client, type=uniq("Park"), scopeQ=scope_q), 400, "BadRequestData")


# --------------------------------------------------------------------------------------------- §5.4 id selection


@pytest.fixture
def idents(client: httpx.Client) -> str:
    t = uniq("Room")
    for key in ("alpha1", "alpha2", "beta1", "gamma"):
        create(client, {"id": eid(t, key), "type": t, "v": prop(key)})
    return t


def test_id_list(client: httpx.Client, idents: str) -> None:
    """id=a,b returns exactly those entities (exact URI comparison)."""
    wanted = keys(idents, "alpha1", "gamma")
    assert ids(query(client, type=idents, id=",".join(sorted(wanted)))) == wanted
    assert ids(query(client, type=idents, id=eid(idents, "alpha"))) == set()


def test_id_list_combined_with_other_filters(client: httpx.Client, idents: str) -> None:
    """id is ANDed with the type and q filters."""
    both = ",".join(sorted(keys(idents, "alpha1", "beta1")))
    assert ids(query(client, type=idents, id=both, q='v=="beta1"')) == keys(idents, "beta1")
    assert ids(query(client, type=uniq("Other"), id=both)) == set()


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (".*", {"alpha1", "alpha2", "beta1", "gamma"}),
        ("alpha", {"alpha1", "alpha2"}),
        (":alpha[0-9]$", {"alpha1", "alpha2"}),
        ("(beta|gamma)", {"beta1", "gamma"}),
        ("1$", {"alpha1", "beta1"}),
        ("^nomatch", set()),
    ],
)
def test_id_pattern(client: httpx.Client, idents: str, pattern: str, expected: set[str]) -> None:
    """idPattern is a regular expression matched against the entity id."""
    assert ids(query(client, type=idents, idPattern=pattern)) == keys(idents, *expected)


def test_id_takes_precedence_over_id_pattern(client: httpx.Client, idents: str) -> None:
    """When both id and idPattern are given, id takes precedence."""
    assert ids(query(client, type=idents, id=eid(idents, "gamma"), idPattern="alpha")) == keys(idents, "gamma")


def test_invalid_id_pattern_is_bad_request(client: httpx.Client) -> None:
    """An invalid regex in idPattern gives 400 BadRequestData (TS 019_03_02)."""
    assert_problem(query(client, type=uniq("Room"), idPattern="invalid_entity_id_pattern**["), 400, "BadRequestData")


def test_invalid_id_in_list_is_bad_request(client: httpx.Client) -> None:
    """An id that is not a URI gives 400 BadRequestData (TS 019_03_01)."""
    assert_problem(query(client, type=uniq("Room"), id="not a uri"), 400, "BadRequestData")


def test_catastrophic_id_pattern_answers(client: httpx.Client, api_root: str) -> None:
    """idPattern=(a+)+$ against long ids is answered correctly (or refused as TooComplexQuery), not hung."""
    t = uniq("Long")
    good, bad = eid(t, "a" * 3000), eid(t, "a" * 3000 + "b")
    create(client, {"id": good, "type": t, "v": prop(1)})
    create(client, {"id": bad, "type": t, "v": prop(1)})
    for long_ in (40, 2000):
        create(client, {"id": eid(t, "x" + "a" * long_ + "!"), "type": t, "v": prop(1)})
    resp = httpx.get(f"{api_root}/entities", params={"type": t, "idPattern": "(a+)+$"}, timeout=10.0)
    if resp.status_code == 403:
        assert_problem(resp, 403, "TooComplexQuery")
        return
    assert ids(resp) == {good}


# --------------------------------------------------------------------------------------------- §5.5 geo-queries

REF = [10.0, 50.0]


@pytest.fixture
def points(client: httpx.Client) -> str:
    """Points a (at REF), b (~7.2 km east), c (~72 km east) and e without location."""
    t = uniq("Poi")
    create(client, {"id": eid(t, "a"), "type": t, "location": geo(point(10.0, 50.0))})
    create(client, {"id": eid(t, "b"), "type": t, "location": geo(point(10.1, 50.0))})
    create(client, {"id": eid(t, "c"), "type": t, "location": geo(point(11.0, 50.0))})
    create(client, {"id": eid(t, "e"), "type": t, "name": prop("nowhere")})
    return t


def geo_query(client: httpx.Client, t: str, georel: str, geometry: str, coords: Any, **extra: str) -> httpx.Response:
    coordinates = coords if isinstance(coords, str) else str(coords).replace(" ", "")
    return query(client, type=t, georel=georel, geometry=geometry, coordinates=coordinates, **extra)


@pytest.mark.parametrize(
    ("georel", "expected"),
    [
        ("near;maxDistance==10000", "ab"),
        ("near;maxDistance==1000", "a"),
        ("near;maxDistance==100000", "abc"),
        ("near;minDistance==10000", "c"),
        ("near;minDistance==1000", "bc"),
        ("near;minDistance==1000000", ""),
    ],
)
def test_near_point(client: httpx.Client, points: str, georel: str, expected: str) -> None:
    """near;maxDistance keeps targets within the distance (m), minDistance those beyond; no location never matches."""
    assert ids(geo_query(client, points, georel, "Point", REF)) == keys(points, *expected)


@pytest.fixture
def shapes(client: httpx.Client) -> str:
    """Points a, b, c, polygon d around a and b, and e without location."""
    t = uniq("Shape")
    create(client, {"id": eid(t, "a"), "type": t, "location": geo(point(10.0, 50.0))})
    create(client, {"id": eid(t, "b"), "type": t, "location": geo(point(10.1, 50.0))})
    create(client, {"id": eid(t, "c"), "type": t, "location": geo(point(11.0, 50.0))})
    create(client, {"id": eid(t, "d"), "type": t, "location": geo(polygon(9.9, 49.9, 10.2, 50.1))})
    create(client, {"id": eid(t, "e"), "type": t, "name": prop("nowhere")})
    return t


INNER = polygon(9.95, 49.95, 10.15, 50.05)["coordinates"]
D_POLY = polygon(9.9, 49.9, 10.2, 50.1)["coordinates"]
SIDE = polygon(10.1, 49.95, 10.3, 50.05)["coordinates"]
FAR = polygon(20.0, 10.0, 21.0, 11.0)["coordinates"]


@pytest.mark.parametrize(
    ("georel", "geometry", "coords", "expected"),
    [
        ("within", "Polygon", INNER, "ab"),
        ("within", "Polygon", D_POLY, "abd"),
        ("within", "Polygon", FAR, ""),
        ("contains", "Point", [10.05, 50.0], "d"),
        ("contains", "Polygon", INNER, "d"),
        ("intersects", "Polygon", INNER, "abd"),
        ("intersects", "Point", [10.1, 50.0], "bd"),
        ("intersects", "Polygon", FAR, ""),
        ("equals", "Point", [10.1, 50.0], "b"),
        ("equals", "Polygon", D_POLY, "d"),
        ("disjoint", "Polygon", INNER, "c"),
        ("disjoint", "Point", [10.05, 50.0], "abc"),
        ("disjoint", "Polygon", FAR, "abcd"),
        ("overlaps", "Polygon", SIDE, "d"),
        ("overlaps", "Polygon", FAR, ""),
    ],
)
def test_geo_relations(
    client: httpx.Client, shapes: str, georel: str, geometry: str, coords: Any, expected: str
) -> None:
    """within, contains, intersects, equals, disjoint and overlaps follow Simple Features; no location never matches."""
    assert ids(geo_query(client, shapes, georel, geometry, coords)) == keys(shapes, *expected)


def test_geoproperty_selects_target(client: httpx.Client) -> None:
    """geoproperty names the GeoProperty tested; the default is location."""
    t = uniq("Zone")
    create(client, {"id": eid(t, "loc"), "type": t, "location": geo(point(10.0, 50.0)), "area": geo(point(0.0, 0.0))})
    create(client, {"id": eid(t, "area"), "type": t, "location": geo(point(0.0, 0.0)), "area": geo(point(10.0, 50.0))})
    near = "near;maxDistance==1000"
    assert ids(geo_query(client, t, near, "Point", REF)) == keys(t, "loc")
    assert ids(geo_query(client, t, near, "Point", REF, geoproperty="location")) == keys(t, "loc")
    assert ids(geo_query(client, t, near, "Point", REF, geoproperty="area")) == keys(t, "area")
    assert ids(geo_query(client, t, "disjoint", "Point", REF, geoproperty="nothere")) == set()


def test_geo_any_instance_matches(client: httpx.Client) -> None:
    """A GeoProperty with several instances matches if any instance does."""
    t = uniq("Multi")
    create(
        client,
        {
            "id": eid(t, "m"),
            "type": t,
            "location": [geo(point(0.0, 0.0)), geo(point(10.0, 50.0), datasetId="urn:ngsi-ld:Dataset:gps")],
        },
    )
    assert ids(geo_query(client, t, "near;maxDistance==1000", "Point", REF)) == keys(t, "m")


def test_geo_query_alone_is_enough(client: httpx.Client, points: str) -> None:
    """A geo-query satisfies the minimum-filter rule without type (results include this test's points)."""
    got = ids(
        query(client, georel="near;maxDistance==1000", geometry="Point", coordinates="[10.0,50.0]", idPattern=points)
    )
    assert got == keys(points, "a")


GEO_ERRORS = [
    {"geometry": "Point", "coordinates": "[10,50]"},
    {"georel": "near;maxDistance==10", "coordinates": "[10,50]"},
    {"georel": "near;maxDistance==10", "geometry": "Point"},
    {"georel": "invalid", "geometry": "Point", "coordinates": "[10,50]"},
    {"georel": "near", "geometry": "Point", "coordinates": "[10,50]"},
    {"georel": "near;maxDistance", "geometry": "Point", "coordinates": "[10,50]"},
    {"georel": "near;maxDistance==abc", "geometry": "Point", "coordinates": "[10,50]"},
    {"georel": "near;maxDistance==-5", "geometry": "Point", "coordinates": "[10,50]"},
    {"georel": "near;farDistance==10", "geometry": "Point", "coordinates": "[10,50]"},
    {"georel": "within", "geometry": "Circle", "coordinates": "[10,50]"},
    {"georel": "within", "geometry": "Point", "coordinates": "[10,"},
    {"georel": "within", "geometry": "Point", "coordinates": "ten,fifty"},
    {"georel": "within", "geometry": "Point", "coordinates": "[200,50]"},
    {"georel": "within", "geometry": "Point", "coordinates": "[10,95]"},
    {"georel": "within", "geometry": "Point", "coordinates": "[[10,50]]"},
    {"georel": "within", "geometry": "Polygon", "coordinates": "[[[0,0],[1,0],[1,1],[0,1]]]"},
    {"georel": "within", "geometry": "Polygon", "coordinates": "[10,50]"},
]


@pytest.mark.parametrize("params", GEO_ERRORS, ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()))
def test_geo_query_errors(client: httpx.Client, params: dict[str, str]) -> None:
    """A geo-query with a missing member, unknown georel, near without distance or invalid geometry gives 400."""
    assert_problem(query(client, type=uniq("Poi"), **params), 400, "BadRequestData")
