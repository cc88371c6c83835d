"""Digest §4.2, §5.7, §2.5, §8.1, §8.5: Query Entities — GET /entities (q/geo/scope languages are in test_05)."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urljoin

import httpx
import pytest

from conformance.helpers import (
    BAD_PAGING,
    assert_problem,
    body_list,
    by_id,
    create,
    geo,
    media_type,
    point,
    prop,
    rel,
    result_ids,
)

LINK_RE = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";,]+)"?')


def uniq(prefix: str) -> str:
    """A type name no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def eid(type_name: str, key: str) -> str:
    return f"urn:ngsi-ld:{type_name}:{key}"


def query(client: httpx.Client, headers: dict[str, str] | None = None, **params: str) -> httpx.Response:
    return client.get("/entities", params=params, headers=headers)


def page_links(resp: httpx.Response) -> dict[str, str]:
    """rel -> target of the Link headers (next/prev)."""
    found: dict[str, str] = {}
    for value in resp.headers.get_list("link"):
        for target, rel_ in LINK_RE.findall(value):
            found[rel_] = target
    return found


@pytest.fixture
def cars(client: httpx.Client) -> str:
    """Entities a, b, c of a fresh type; only a and b have brand, only c has speed."""
    t = uniq("Car")
    create(client, {"id": eid(t, "a"), "type": t, "brand": prop("Mercedes"), "color": prop("red")})
    create(client, {"id": eid(t, "b"), "type": t, "brand": prop("Audi"), "color": prop("blue")})
    create(client, {"id": eid(t, "c"), "type": t, "speed": prop(12), "color": prop("red")})
    return t


# --------------------------------------------------------------------------------------------- basics


def test_query_by_type(client: httpx.Client, cars: str) -> None:
    """A query by type gives 200 application/json with an array of exactly the entities of that type."""
    resp = query(client, type=cars)
    assert media_type(resp) == "application/json"
    assert result_ids(resp) == {eid(cars, k) for k in "abc"}
    assert by_id(resp)[eid(cars, "a")] == {
        "id": eid(cars, "a"),
        "type": cars,
        "brand": prop("Mercedes"),
        "color": prop("red"),
    }


def test_query_without_match_is_empty_array(client: httpx.Client) -> None:
    """A query nothing matches gives 200 with []."""
    assert body_list(query(client, type=uniq("Nothing"))) == []


def test_query_accept_ld_json_puts_context_in_each_entity(client: httpx.Client, cars: str) -> None:
    """With Accept application/ld+json, every entity of the array carries @context."""
    resp = query(client, headers={"Accept": "application/ld+json"}, type=cars)
    assert media_type(resp) == "application/ld+json"
    body = body_list(resp)
    assert len(body) == 3
    assert all("@context" in e for e in body)


def test_query_key_values(client: httpx.Client, cars: str) -> None:
    """format=keyValues gives the simplified representation."""
    got = by_id(query(client, type=cars, format="keyValues"))
    assert got[eid(cars, "c")] == {"id": eid(cars, "c"), "type": cars, "speed": 12, "color": "red"}


# --------------------------------------------------------------------------------------------- minimum filter


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"id": "urn:ngsi-ld:Car:1"},
        {"idPattern": ".*"},
        {"scopeQ": "/#"},
        {"limit": "5"},
        {"count": "true"},
        {"options": "keyValues"},
        {"attrs": "createdAt"},
        {"q": "modifiedAt>2000-01-01T00:00:00Z"},
    ],
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()) or "none",
)
def test_too_wide_query_is_bad_request(client: httpx.Client, params: dict[str, str]) -> None:
    """Without type, attrs, q, a geo-query or local=true the query is too wide: 400 BadRequestData (TS 019_03_05)."""
    assert_problem(query(client, **params), 400, "BadRequestData")


def test_attrs_alone_is_enough(client: httpx.Client, cars: str) -> None:
    """attrs naming a non-system attribute satisfies the minimum filter."""
    got = result_ids(query(client, attrs="brand", idPattern=cars))
    assert got == {eid(cars, "a"), eid(cars, "b")}


def test_q_alone_is_enough(client: httpx.Client, cars: str) -> None:
    """q naming a non-system attribute satisfies the minimum filter."""
    assert result_ids(query(client, q="speed==12", idPattern=cars)) == {eid(cars, "c")}


def test_local_true_lifts_minimum_filter(client: httpx.Client, tenant: str) -> None:
    """local=true alone is a valid query and returns every entity of the tenant."""
    h = {"NGSILD-Tenant": tenant}
    create(client, {"id": eid("One", "1"), "type": "One", "v": prop(1)}, headers=h)
    create(client, {"id": eid("Two", "2"), "type": "Two", "w": prop(2)}, headers=h)
    assert result_ids(query(client, headers=h, local="true")) == {eid("One", "1"), eid("Two", "2")}


def test_type_star_returns_all_types(client: httpx.Client, tenant: str) -> None:
    """type=* selects entities of every type."""
    h = {"NGSILD-Tenant": tenant}
    create(client, {"id": eid("One", "1"), "type": "One", "v": prop(1)}, headers=h)
    create(client, {"id": eid("Two", "2"), "type": "Two", "w": prop(2)}, headers=h)
    assert result_ids(query(client, headers=h, type="*")) == {eid("One", "1"), eid("Two", "2")}


def test_all_filters_are_anded(client: httpx.Client, cars: str) -> None:
    """An entity matches only if it passes every given filter (id, type, attrs, q)."""
    every = ",".join(eid(cars, k) for k in "abc")
    assert result_ids(query(client, type=cars, id=every, attrs="color", q='brand=="Audi"')) == {eid(cars, "b")}
    assert result_ids(query(client, type=cars, id=eid(cars, "c"), attrs="brand")) == set()


# --------------------------------------------------------------------------------------------- attrs / pick / omit


def test_attrs_filters_and_projects(client: httpx.Client, cars: str) -> None:
    """attrs keeps only entities with one of the attributes and returns only those attributes."""
    got = by_id(query(client, type=cars, attrs="brand"))
    assert set(got) == {eid(cars, "a"), eid(cars, "b")}
    assert got[eid(cars, "a")] == {"id": eid(cars, "a"), "type": cars, "brand": prop("Mercedes")}


def test_attrs_several_names(client: httpx.Client, cars: str) -> None:
    """attrs=a,b selects entities having at least one of them."""
    got = by_id(query(client, type=cars, attrs="brand,speed"))
    assert set(got) == {eid(cars, k) for k in "abc"}
    assert got[eid(cars, "c")] == {"id": eid(cars, "c"), "type": cars, "speed": prop(12)}


@pytest.mark.parametrize("attrs", ["id,type", "bad name", "@invalid", "a(b)", "brand,"])
def test_attrs_invalid_is_bad_request(client: httpx.Client, attrs: str) -> None:
    """attrs with an invalid attribute name gives 400 BadRequestData (TS 019_03_03)."""
    assert_problem(query(client, type=uniq("Car"), attrs=attrs), 400, "BadRequestData")


def test_pick_and_omit(client: httpx.Client, cars: str) -> None:
    """pick keeps only the listed members; omit removes them."""
    picked = body_list(query(client, type=cars, pick="id"))
    assert sorted(picked, key=lambda e: e["id"]) == [{"id": eid(cars, k)} for k in "abc"]
    omitted = by_id(query(client, type=cars, omit="color,type"))
    assert omitted[eid(cars, "a")] == {"id": eid(cars, "a"), "brand": prop("Mercedes")}


@pytest.mark.parametrize(
    "params",
    [{"pick": "brand", "omit": "brand"}, {"pick": "brand", "attrs": "brand"}, {"omit": "x", "attrs": "brand"}],
)
def test_projection_conflicts_are_bad_request(client: httpx.Client, params: dict[str, str]) -> None:
    """The same member in pick and omit, or pick/omit with attrs, gives 400 BadRequestData."""
    assert_problem(query(client, type=uniq("Car"), **params), 400, "BadRequestData")


# --------------------------------------------------------------------------------------------- lang / datasetId


def test_lang_turns_language_property_into_property(client: httpx.Client) -> None:
    """lang picks one language: the LanguageProperty becomes a Property with value and lang."""
    t = uniq("Street")
    create(
        client,
        {
            "id": eid(t, "s"),
            "type": t,
            "street": {"type": "LanguageProperty", "languageMap": {"fr": "Grand Place", "nl": "Grote Markt"}},
        },
    )
    got = by_id(query(client, type=t, lang="fr"))[eid(t, "s")]
    assert got["street"] == {"type": "Property", "value": "Grand Place", "lang": "fr"}
    got = by_id(query(client, type=t, lang="nl", format="keyValues"))[eid(t, "s")]
    assert got["street"] == "Grote Markt"
    got = by_id(query(client, type=t, lang="de-CH,nl;q=0.9,fr;q=0.8"))[eid(t, "s")]
    assert got["street"]["value"] == "Grote Markt"


def test_lang_fallback(client: httpx.Client) -> None:
    """When no tag matches, a query uses @none if present, otherwise any language."""
    t = uniq("Street")
    create(
        client,
        {"id": eid(t, "n"), "type": t, "s": {"type": "LanguageProperty", "languageMap": {"en": "A", "@none": "Z"}}},
    )
    create(client, {"id": eid(t, "o"), "type": t, "s": {"type": "LanguageProperty", "languageMap": {"en": "B"}}})
    got = by_id(query(client, type=t, lang="de"))
    assert got[eid(t, "n")]["s"]["type"] == "Property"
    assert got[eid(t, "n")]["s"]["value"] == "Z"
    assert got[eid(t, "o")]["s"]["value"] == "B"


def test_dataset_id_filters_instances(client: httpx.Client) -> None:
    """datasetId keeps only the matching instances; attributes left without instances are dropped."""
    t = uniq("Named")
    de = "urn:ngsi-ld:Dataset:german-name"
    create(
        client,
        {"id": eid(t, "x"), "type": t, "name": [prop("Bridge"), prop("Bruecke", datasetId=de)], "len": prop(5)},
    )
    got = by_id(query(client, type=t, datasetId="@none"))[eid(t, "x")]
    assert got["name"] == prop("Bridge")
    assert got["len"] == prop(5)
    got = by_id(query(client, type=t, datasetId=de))[eid(t, "x")]
    assert got["name"] == prop("Bruecke", datasetId=de)
    assert "len" not in got
    got = by_id(query(client, type=t, attrs="name", datasetId="urn:ngsi-ld:Dataset:none"))[eid(t, "x")]
    assert "name" not in got


# --------------------------------------------------------------------------------------------- GeoJSON


def test_geojson_feature_collection(client: httpx.Client) -> None:
    """Accept application/geo+json gives a FeatureCollection of Features with location as geometry."""
    t = uniq("Place")
    loc = point(2.35, 48.85)
    create(client, {"id": eid(t, "p"), "type": t, "name": prop("Paris"), "location": geo(loc)})
    create(client, {"id": eid(t, "q"), "type": t, "name": prop("Nowhere")})
    resp = query(client, headers={"Accept": "application/geo+json"}, type=t)
    assert resp.status_code == 200, resp.text
    assert media_type(resp) == "application/geo+json"
    body = resp.json()
    assert body["type"] == "FeatureCollection"
    assert "@context" in body
    features = {f["id"]: f for f in body["features"]}
    assert set(features) == {eid(t, "p"), eid(t, "q")}
    feat = features[eid(t, "p")]
    assert feat["type"] == "Feature"
    assert feat["geometry"] == loc
    assert "@context" not in feat
    assert feat["properties"]["type"] == t
    assert feat["properties"]["name"] == prop("Paris")
    assert feat["properties"]["location"] == geo(loc)
    assert features[eid(t, "q")]["geometry"] is None


def test_geojson_geometry_property(client: httpx.Client) -> None:
    """geometryProperty selects the GeoProperty used as geometry; keyValues simplifies the properties."""
    t = uniq("Place")
    area = point(1.0, 2.0)
    create(client, {"id": eid(t, "p"), "type": t, "location": geo(point(2.35, 48.85)), "area": geo(area)})
    resp = query(client, headers={"Accept": "application/geo+json"}, type=t, geometryProperty="area")
    assert resp.status_code == 200, resp.text
    assert resp.json()["features"][0]["geometry"] == area
    resp = query(client, headers={"Accept": "application/geo+json"}, type=t, format="keyValues")
    assert resp.json()["features"][0]["properties"]["area"] == area


def test_geometry_property_without_geojson_is_bad_request(client: httpx.Client) -> None:
    """geometryProperty without Accept application/geo+json gives 400 BadRequestData."""
    assert_problem(query(client, type=uniq("Place"), geometryProperty="location"), 400, "BadRequestData")


# --------------------------------------------------------------------------------------------- §5.7 pagination


@pytest.fixture
def fleet(client: httpx.Client) -> str:
    """Seven entities of a fresh type; k0..k3 have even==true."""
    t = uniq("Fleet")
    for i in range(7):
        create(client, {"id": eid(t, f"k{i}"), "type": t, "n": prop(i), "even": prop(i < 4)})
    return t


def test_count_header(client: httpx.Client, fleet: str) -> None:
    """count=true gives NGSILD-Results-Count with the total matches, ignoring limit and offset (TS 019_07)."""
    resp = query(client, type=fleet, count="true", limit="2", offset="1")
    assert len(body_list(resp)) == 2
    assert resp.headers.get("NGSILD-Results-Count") == "7"
    resp = query(client, type=fleet, q="even==true", count="true")
    assert resp.headers.get("NGSILD-Results-Count") == "4"
    assert len(body_list(resp)) == 4


def test_limit_zero_with_count(client: httpx.Client, fleet: str) -> None:
    """limit=0&count=true returns [] with the count header."""
    resp = query(client, type=fleet, count="true", limit="0")
    assert body_list(resp) == []
    assert resp.headers.get("NGSILD-Results-Count") == "7"


def test_offsets_cover_everything_once(client: httpx.Client, fleet: str) -> None:
    """Pages fetched with limit/offset are disjoint and together cover every match."""
    seen: list[str] = []
    for offset in range(0, 9, 3):
        page = body_list(query(client, type=fleet, limit="3", offset=str(offset)))
        assert len(page) == min(3, max(0, 7 - offset))
        seen += [e["id"] for e in page]
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == {eid(fleet, f"k{i}") for i in range(7)}


def test_offset_past_end_is_empty(client: httpx.Client, fleet: str) -> None:
    """An offset beyond the last match gives 200 []."""
    assert body_list(query(client, type=fleet, offset="100")) == []


def test_next_and_prev_links(client: httpx.Client, fleet: str, api_root: str) -> None:
    """Paging by following rel="next" reaches every match once; prev is absent on page one, next on the last."""
    resp = query(client, type=fleet, limit="3")
    links = page_links(resp)
    assert "prev" not in links
    seen = [e["id"] for e in body_list(resp)]
    pages = 1
    while "next" in links:
        resp = client.get(urljoin(api_root + "/", links["next"]))
        seen += [e["id"] for e in body_list(resp)]
        links = page_links(resp)
        assert "prev" in links, "a page after the first must link to prev"
        pages += 1
        assert pages < 10
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == {eid(fleet, f"k{i}") for i in range(7)}
    back = client.get(urljoin(api_root + "/", links["prev"]))
    assert len(body_list(back)) == 3
    assert "type=" + fleet in links["prev"]


def test_context_link_kept_separate_from_paging_links(client: httpx.Client, fleet: str) -> None:
    """The JSON-LD context Link stays a separate link next to next."""
    links = page_links(query(client, type=fleet, limit="3"))
    assert "next" in links
    assert "http://www.w3.org/ns/json-ld#context" in links


def test_limit_at_maximum_is_accepted(client: httpx.Client, fleet: str) -> None:
    """limit equal to the broker's maximum (1000) is accepted."""
    assert len(body_list(query(client, type=fleet, limit="1000"))) == 7


def test_limit_above_maximum_is_too_many_results(client: httpx.Client, fleet: str) -> None:
    """limit above the broker's maximum gives 403 TooManyResults (Appendix A #2)."""
    assert_problem(query(client, type=fleet, limit="1001"), 403, "TooManyResults")


@pytest.mark.parametrize(
    "params",
    BAD_PAGING,
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()),
)
def test_bad_paging_values_are_bad_request(client: httpx.Client, params: dict[str, str]) -> None:
    """Negative or non-integer limit/offset, or limit=0 without count=true, gives 400 BadRequestData."""
    assert_problem(query(client, type=uniq("Fleet"), **params), 400, "BadRequestData")


# --------------------------------------------------------------------------------------------- errors, tenancy, options


def test_unknown_parameter_is_invalid_request(client: httpx.Client, cars: str) -> None:
    """An unknown URL parameter gives 400 InvalidRequest (TS 059_01)."""
    assert_problem(query(client, type=cars, invalidParams="invalidValue"), 400, "InvalidRequest")


def test_unknown_tenant_is_nonexistent_tenant(client: httpx.Client, tenant: str) -> None:
    """A query in a tenant that does not exist gives 404 NonexistentTenant."""
    assert_problem(query(client, headers={"NGSILD-Tenant": tenant}, type="Thing"), 404, "NonexistentTenant")


def test_query_stays_in_tenant(client: httpx.Client, tenant: str) -> None:
    """A query only sees the entities of its own tenant."""
    t = uniq("Iso")
    create(client, {"id": eid(t, "in"), "type": t, "v": prop(1)}, headers={"NGSILD-Tenant": tenant})
    create(client, {"id": eid(t, "out"), "type": t, "v": prop(1)})
    assert result_ids(query(client, headers={"NGSILD-Tenant": tenant}, type=t)) == {eid(t, "in")}
    assert result_ids(query(client, type=t)) == {eid(t, "out")}


@pytest.mark.parametrize(
    "params",
    [
        {"orderBy": "brand"},
        {"join": "inline"},
        {"join": "flat", "joinLevel": "2"},
        {"expandValues": "brand"},
        {"jsonKeys": "brand"},
        {"entityMap": "true"},
    ],
    ids=lambda p: "&".join(f"{k}={v}" for k, v in p.items()),
)
def test_optional_features_ok_or_not_supported(client: httpx.Client, cars: str, params: dict[str, str]) -> None:
    """Optional query features either work (200) or are refused with 422 OperationNotSupported."""
    resp = query(client, type=cars, **params)
    if resp.status_code == 422:
        assert_problem(resp, 422, "OperationNotSupported")
    else:
        assert resp.status_code in (200, 201), resp.text
        assert {eid(cars, k) for k in "abc"} <= {e["id"] for e in resp.json()}


def test_relationship_target_in_query_result(client: httpx.Client) -> None:
    """Relationships are returned unchanged in query results without join."""
    t = uniq("Link")
    create(client, {"id": eid(t, "r"), "type": t, "owner": rel("urn:ngsi-ld:Person:1")})
    assert by_id(query(client, type=t))[eid(t, "r")]["owner"] == rel("urn:ngsi-ld:Person:1")
