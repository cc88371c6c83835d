"""Digest §4.14: Query via POST — POST /entityOperations/query with a Query body."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from conformance.helpers import (
    ContextServer,
    assert_problem,
    body_list,
    by_id,
    create,
    geo,
    link_header,
    media_type,
    point,
    prop,
    result_ids,
    send,
)

PATH = "/entityOperations/query"


def uniq(prefix: str) -> str:
    """A type name no other test uses."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def eid(type_name: str, key: str) -> str:
    return f"urn:ngsi-ld:{type_name}:{key}"


def post_query(
    client: httpx.Client,
    body: Any,
    headers: dict[str, str] | None = None,
    **params: str,
) -> httpx.Response:
    return send(client, "POST", PATH, body, headers=headers, params=params or None)


def q_of(*selectors: dict[str, Any], **members: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "Query", **members}
    if selectors:
        body["entities"] = list(selectors)
    return body


@pytest.fixture
def two_types(client: httpx.Client) -> tuple[str, str]:
    """Type T1 with a1, a2, b1 and type T2 with a1, c1; a* are in scope /City/North."""
    t1, t2 = uniq("Shop"), uniq("Kiosk")
    for t, key, n in ((t1, "a1", 1), (t1, "a2", 2), (t1, "b1", 3), (t2, "a1", 4), (t2, "c1", 5)):
        ent: dict[str, Any] = {"id": eid(t, key), "type": t, "n": prop(n), "name": prop(f"{t}-{key}")}
        if key.startswith("a"):
            ent["scope"] = "/City/North"
            ent["location"] = geo(point(10.0 + n / 1000, 50.0))
        create(client, ent)
    return t1, t2


def test_single_type_selector(client: httpx.Client, two_types: tuple[str, str]) -> None:
    """An entities selector with only type returns every entity of that type, as an application/json array."""
    t1, _ = two_types
    resp = post_query(client, q_of({"type": t1}))
    assert media_type(resp) == "application/json"
    assert result_ids(resp) == {eid(t1, k) for k in ("a1", "a2", "b1")}


def test_selectors_are_ored(client: httpx.Client, two_types: tuple[str, str]) -> None:
    """Several entities selectors are ORed."""
    t1, t2 = two_types
    got = result_ids(post_query(client, q_of({"type": t1, "id": eid(t1, "b1")}, {"type": t2, "idPattern": ":c"})))
    assert got == {eid(t1, "b1"), eid(t2, "c1")}


def test_conditions_within_selector_are_anded(client: httpx.Client, two_types: tuple[str, str]) -> None:
    """Within one selector id/idPattern and type are ANDed."""
    t1, t2 = two_types
    assert result_ids(post_query(client, q_of({"type": t2, "id": eid(t1, "a1")}))) == set()
    assert result_ids(post_query(client, q_of({"type": t1, "idPattern": ":a[0-9]$"}))) == {eid(t1, "a1"), eid(t1, "a2")}


def test_selector_type_expression(client: httpx.Client, two_types: tuple[str, str]) -> None:
    """A selector type is a type selection expression (§5.2)."""
    t1, t2 = two_types
    assert len(result_ids(post_query(client, q_of({"type": f"{t1}|{t2}"})))) == 5


def test_q_member(client: httpx.Client, two_types: tuple[str, str]) -> None:
    """The q member filters like the q parameter."""
    t1, t2 = two_types
    got = result_ids(post_query(client, q_of({"type": t1}, {"type": t2}, q="n>=2;n<=4")))
    assert got == {eid(t1, "a2"), eid(t1, "b1"), eid(t2, "a1")}


def test_q_without_entities(client: httpx.Client, two_types: tuple[str, str]) -> None:
    """A Query with q but no entities member is valid."""
    t1, _ = two_types
    assert result_ids(post_query(client, q_of(q=f'name=="{t1}-b1"'))) == {eid(t1, "b1")}


def test_scope_q_member(client: httpx.Client, two_types: tuple[str, str]) -> None:
    """The scopeQ member filters by scope."""
    t1, t2 = two_types
    got = result_ids(post_query(client, q_of({"type": t1}, {"type": t2}, scopeQ="/City/#")))
    assert got == {eid(t1, "a1"), eid(t1, "a2"), eid(t2, "a1")}


@pytest.mark.parametrize("coords", [[10.0, 50.0], "[10.0,50.0]"], ids=["array", "string"])
def test_geo_q_member(client: httpx.Client, two_types: tuple[str, str], coords: Any) -> None:
    """geoQ filters like the geo parameters; coordinates may be an array or a string."""
    t1, t2 = two_types
    geo_q = {"georel": "near;maxDistance==180", "geometry": "Point", "coordinates": coords, "geoproperty": "location"}
    got = result_ids(post_query(client, q_of({"type": t1}, {"type": t2}, geoQ=geo_q)))
    assert got == {eid(t1, "a1"), eid(t1, "a2")}


def test_attrs_pick_omit_members(client: httpx.Client, two_types: tuple[str, str]) -> None:
    """attrs filters and projects; pick and omit project."""
    t1, _ = two_types
    got = by_id(post_query(client, q_of({"type": t1}, attrs=["n"])))
    assert got[eid(t1, "b1")] == {"id": eid(t1, "b1"), "type": t1, "n": prop(3)}
    got = by_id(post_query(client, q_of({"type": t1}, pick=["id", "n"])))
    assert got[eid(t1, "b1")] == {"id": eid(t1, "b1"), "n": prop(3)}
    got = by_id(post_query(client, q_of({"type": t1}, omit=["name"])))
    assert got[eid(t1, "b1")] == {"id": eid(t1, "b1"), "type": t1, "n": prop(3)}


def test_attrs_member_requires_attribute(client: httpx.Client, two_types: tuple[str, str]) -> None:
    """Entities with none of the attrs do not match."""
    t1, _ = two_types
    assert result_ids(post_query(client, q_of({"type": t1}, attrs=["location"]))) == {eid(t1, "a1"), eid(t1, "a2")}


def test_lang_member(client: httpx.Client) -> None:
    """lang in the body picks one language of a LanguageProperty."""
    t = uniq("Sign")
    lp = {"type": "LanguageProperty", "languageMap": {"en": "Exit", "fr": "Sortie"}}
    create(client, {"id": eid(t, "s"), "type": t, "text": lp})
    got = by_id(post_query(client, q_of({"type": t}, lang="fr")))[eid(t, "s")]
    assert got["text"] == {"type": "Property", "value": "Sortie", "lang": "fr"}


def test_dataset_id_member(client: httpx.Client) -> None:
    """datasetId in the body keeps only matching instances."""
    t = uniq("Named")
    ds = "urn:ngsi-ld:Dataset:alt"
    create(client, {"id": eid(t, "x"), "type": t, "name": [prop("main"), prop("alt", datasetId=ds)]})
    assert by_id(post_query(client, q_of({"type": t}, datasetId=[ds])))[eid(t, "x")]["name"] == prop(
        "alt", datasetId=ds
    )
    assert by_id(post_query(client, q_of({"type": t}, datasetId=["@none"])))[eid(t, "x")]["name"] == prop("main")


def test_count_and_limit_zero(client: httpx.Client, two_types: tuple[str, str]) -> None:
    """limit=0&count=true as URL parameters give [] and NGSILD-Results-Count."""
    t1, t2 = two_types
    resp = post_query(client, q_of({"type": t1}, {"type": t2}), limit="0", count="true")
    assert body_list(resp) == []
    assert resp.headers.get("NGSILD-Results-Count") == "5"


def test_pagination_covers_everything_once(client: httpx.Client, two_types: tuple[str, str]) -> None:
    """limit/offset URL parameters page through the result without duplicates or gaps."""
    t1, t2 = two_types
    seen: list[str] = []
    for offset in (0, 2, 4, 6):
        page = body_list(post_query(client, q_of({"type": t1}, {"type": t2}), limit="2", offset=str(offset)))
        assert len(page) == min(2, max(0, 5 - offset))
        seen += [e["id"] for e in page]
    assert len(seen) == len(set(seen)) == 5


def test_link_context_expands_body_terms(client: httpx.Client, context_server: ContextServer) -> None:
    """Types and attribute names in the body are expanded with the Link context."""
    t = uniq("Ctx")
    ctx_url = context_server.valid({"@context": {t: "https://example.org/q#" + t, "n": "https://example.org/q#n"}})
    link = link_header(ctx_url)
    create(client, {"id": eid(t, "x"), "type": t, "n": prop(1)}, headers=link)
    assert result_ids(post_query(client, q_of({"type": t}, q="n==1"), headers=link)) == {eid(t, "x")}
    assert result_ids(post_query(client, q_of({"type": t}))) == set()


def test_ld_json_body_with_context(client: httpx.Client, context_server: ContextServer) -> None:
    """An application/ld+json Query may carry its @context in the body."""
    t = uniq("Ctx")
    ctx_url = context_server.valid({"@context": {t: "https://example.org/q#" + t}})
    create(client, {"id": eid(t, "x"), "type": t, "n": prop(1)}, headers=link_header(ctx_url))
    body = q_of({"type": t}, **{"@context": ctx_url})
    resp = send(client, "POST", PATH, body, ctype="application/ld+json")
    assert result_ids(resp) == {eid(t, "x")}


def test_geojson_accept(client: httpx.Client, two_types: tuple[str, str]) -> None:
    """Accept application/geo+json gives a FeatureCollection."""
    t1, _ = two_types
    resp = post_query(client, q_of({"type": t1}), headers={"Accept": "application/geo+json"})
    assert resp.status_code == 200, resp.text
    assert media_type(resp) == "application/geo+json"
    body = resp.json()
    assert body["type"] == "FeatureCollection"
    features = {f["id"]: f for f in body["features"]}
    assert set(features) == {eid(t1, k) for k in ("a1", "a2", "b1")}
    assert features[eid(t1, "a1")]["geometry"] == point(10.001, 50.0)
    assert features[eid(t1, "b1")]["geometry"] is None


def test_unknown_tenant(client: httpx.Client, tenant: str) -> None:
    """A POST query in a tenant that does not exist gives 404 NonexistentTenant."""
    resp = post_query(client, q_of({"type": "Thing"}), headers={"NGSILD-Tenant": tenant})
    assert_problem(resp, 404, "NonexistentTenant")


def test_invalid_json_is_invalid_request(client: httpx.Client) -> None:
    """A body that is not JSON gives 400 InvalidRequest."""
    resp = send(client, "POST", PATH, raw='{"type": "Query", "entities": [')
    assert_problem(resp, 400, "InvalidRequest")


def test_unsupported_content_type(client: httpx.Client) -> None:
    """A Content-Type other than JSON or JSON-LD gives 415."""
    resp = send(client, "POST", PATH, raw='{"type":"Query","q":"a==1"}', ctype="text/plain")
    assert resp.status_code == 415


BAD_BODIES = [
    {"type": "Query"},
    {"type": "NotAQuery", "entities": [{"type": "Thing"}]},
    {"entities": [{"type": "Thing"}]},
    {"type": "Query", "entities": []},
    {"type": "Query", "entities": [{"id": "urn:ngsi-ld:Thing:1"}]},
    {"type": "Query", "entities": [{"type": "Thing", "id": "not a uri"}]},
    {"type": "Query", "entities": [{"type": "Thing", "idPattern": "(unclosed"}]},
    {"type": "Query", "entities": [{"type": "Thing"}], "attrs": []},
    {"type": "Query", "entities": [{"type": "Thing"}], "pick": []},
    {"type": "Query", "entities": [{"type": "Thing"}], "q": "(n==1"},
    {"type": "Query", "entities": [{"type": "Thing"}], "q": "n>>1"},
    {"type": "Query", "entities": [{"type": "Thing"}], "scopeQ": "noslash"},
    {"type": "Query", "entities": [{"type": "Thing"}], "geoQ": {"geometry": "Point", "coordinates": [1, 2]}},
    {
        "type": "Query",
        "entities": [{"type": "Thing"}],
        "geoQ": {"georel": "near", "geometry": "Point", "coordinates": [1, 2]},
    },
    {
        "type": "Query",
        "entities": [{"type": "Thing"}],
        "geoQ": {"georel": "within", "geometry": "Point", "coordinates": [200, 2]},
    },
    {"type": "Query", "entities": [{"type": "Thing"}], "attrs": ["bad name"]},
]


@pytest.mark.parametrize("body", BAD_BODIES, ids=[str(i) for i in range(len(BAD_BODIES))])
def test_invalid_query_body_is_bad_request(client: httpx.Client, body: Any) -> None:
    """A Query body that is valid JSON but invalid content (incl. no filter at all) gives 400 BadRequestData."""
    assert_problem(post_query(client, body), 400, "BadRequestData")


def test_non_object_body_is_rejected(client: httpx.Client) -> None:
    """A JSON body that is not an object gives 400 InvalidRequest or BadRequestData (Appendix A #7)."""
    resp = post_query(client, ["not", "an", "object"])
    assert resp.status_code == 400, resp.text
    kind = str(resp.json().get("type", "")).rsplit("/", 1)[-1]
    assert kind in ("InvalidRequest", "BadRequestData"), resp.text
    assert_problem(resp, 400, kind)


@pytest.mark.parametrize(
    ("params", "status", "name"),
    [
        ({"limit": "1001"}, 403, "TooManyResults"),
        ({"limit": "-1"}, 400, "BadRequestData"),
        ({"offset": "-1"}, 400, "BadRequestData"),
        ({"limit": "x"}, 400, "BadRequestData"),
    ],
)
def test_bad_paging_url_parameters(client: httpx.Client, params: dict[str, str], status: int, name: str) -> None:
    """limit above the maximum gives 403 TooManyResults; negative or non-integer values give 400."""
    assert_problem(post_query(client, q_of({"type": uniq("Thing")}), **params), status, name)


def test_too_many_ids_is_too_complex(client: httpx.Client) -> None:
    """A Query naming more entity ids than the broker takes in one query is refused, not failed:
    403 TooComplexQuery (this broker's limit is 10,000; brokers without one may answer 200)."""
    ids = ",".join(f"urn:ngsi-ld:Many:{n}" for n in range(10_001))
    body = {"type": "Query", "entities": [{"type": "Many", "id": ids}]}
    response = client.post("/entityOperations/query", json=body)
    if response.status_code != 200:
        assert_problem(response, 403, "TooComplexQuery")
