"""Digest §3.1-3.4: @context sources, Link header rules, expansion/compaction, response @context."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from conformance.helpers import (
    CORE_CONTEXT,
    CORE_CONTEXT_RE,
    DEFAULT_NS,
    EX,
    LD_CONTEXT_REL,
    ContextServer,
    assert_problem,
    create,
    get_json,
    link_header,
    make_entity,
    media_type,
    new_id,
    prop,
    retrieve,
    send,
)

LD = "application/ld+json"
CORE_URLS = [
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.7.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld",
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
]


def vehicle() -> dict[str, Any]:
    return {
        "id": new_id("Vehicle"),
        "type": "Vehicle",
        "speed": prop(80, unitCode="KMH"),
        "brand": prop("Mercedes"),
        "category": {"type": "VocabProperty", "vocab": "grocery"},
    }


def assert_not_created(client: httpx.Client, entity_id: str) -> None:
    assert retrieve(client, entity_id).status_code == 404, "a rejected entity was stored"


def context_values(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# --- expansion and compaction -------------------------------------------------------------------


def test_user_context_in_link_header_round_trip(client: httpx.Client, user_context_url: str) -> None:
    """Created and retrieved with the same Link context, terms come back as short names (TS 001_04_01)."""
    ent = vehicle()
    create(client, ent, headers=link_header(user_context_url))
    got = get_json(client, ent["id"], headers=link_header(user_context_url))
    assert got["type"] == "Vehicle"
    assert got["speed"] == prop(80, unitCode="KMH")
    assert got["brand"] == prop("Mercedes")
    assert got["category"] == {"type": "VocabProperty", "vocab": "grocery"}


def test_retrieval_without_context_gives_fqns(client: httpx.Client, user_context_url: str) -> None:
    """Retrieved without the creating context, user terms come back as FQNs (TS 001_04_02, 018_06_01)."""
    ent = vehicle()
    create(client, ent, headers=link_header(user_context_url))
    got = get_json(client, ent["id"])
    assert got["type"] == EX + "Vehicle"
    assert got[EX + "speed"] == prop(80, unitCode="KMH")
    assert got[EX + "brand"] == prop("Mercedes")
    assert "speed" not in got
    assert got["category"] == {"type": "VocabProperty", "vocab": EX + "grocery"}


def test_ld_json_body_context_string(client: httpx.Client, user_context_url: str) -> None:
    """application/ld+json takes the @context from the body (here a URL string)."""
    ent = vehicle()
    create(client, {**ent, "@context": user_context_url}, ctype=LD)
    got = get_json(client, ent["id"])
    assert got["type"] == EX + "Vehicle"
    assert EX + "speed" in got


def test_ld_json_body_context_list_with_core(client: httpx.Client, user_context_url: str) -> None:
    """A body @context may be an array of URLs that includes the core context."""
    ent = vehicle()
    create(client, {**ent, "@context": [user_context_url, CORE_CONTEXT]}, ctype=LD)
    got = get_json(client, ent["id"], headers=link_header(user_context_url))
    assert got["type"] == "Vehicle"
    assert "speed" in got


def test_ld_json_inline_context_object(client: httpx.Client) -> None:
    """A body @context may be an inline object."""
    ent = {
        "id": new_id("Car"),
        "type": "Car",
        "speed": prop(1),
        "@context": {"Car": EX + "Car", "speed": EX + "speed"},
    }
    create(client, ent, ctype=LD)
    got = get_json(client, ent["id"])
    assert got["type"] == EX + "Car"
    assert got[EX + "speed"] == prop(1)


def test_default_context_terms_compact_to_compact_iri(client: httpx.Client, user_context_url: str) -> None:
    """Created without context, read with one redefining the term: ngsi-ld:default-context/x (001_05_02)."""
    ent = make_entity(almostFull=prop(False), other=prop(1))
    create(client, ent)
    assert get_json(client, ent["id"])["almostFull"] == prop(False)
    got = get_json(client, ent["id"], headers=link_header(user_context_url))
    assert got["ngsi-ld:default-context/almostFull"] == prop(False)
    assert "almostFull" not in got
    assert got["other"] == prop(1)


def test_type_parameter_is_expanded_with_request_context(client: httpx.Client, user_context_url: str) -> None:
    """The type parameter matches on expanded IRIs, using the request's context."""
    ent = vehicle()
    create(client, ent, headers=link_header(user_context_url))
    assert_problem(retrieve(client, ent["id"], type="Vehicle"), 404, "ResourceNotFound")
    assert retrieve(client, ent["id"], type="Vehicle", headers=link_header(user_context_url)).status_code == 200
    assert retrieve(client, ent["id"], type=EX + "Vehicle").status_code == 200


def test_attrs_parameter_is_expanded_with_request_context(client: httpx.Client, user_context_url: str) -> None:
    """attrs names are expanded with the request's context (short name without context misses)."""
    ent = vehicle()
    create(client, ent, headers=link_header(user_context_url))
    got = get_json(client, ent["id"], attrs="speed", headers=link_header(user_context_url))
    assert set(got) == {"id", "type", "speed"}
    assert_problem(retrieve(client, ent["id"], attrs="speed"), 404, "ResourceNotFound")
    assert set(get_json(client, ent["id"], attrs=EX + "speed")) == {"id", "type", EX + "speed"}


def test_attr_id_path_segment_is_expanded(client: httpx.Client, user_context_url: str) -> None:
    """{attrId} in the path is expanded with the request's context; a URL-encoded FQN also works."""
    ent = vehicle()
    create(client, ent, headers=link_header(user_context_url))
    resp = client.delete(f"/entities/{ent['id']}/attrs/speed")
    assert_problem(resp, 404, "ResourceNotFound")
    resp = client.delete(f"/entities/{ent['id']}/attrs/speed", headers=link_header(user_context_url))
    assert resp.status_code == 204, resp.text
    resp = client.delete(f"/entities/{ent['id']}/attrs/{quote(EX + 'brand', safe='')}")
    assert resp.status_code == 204, resp.text
    got = get_json(client, ent["id"])
    assert EX + "speed" not in got and EX + "brand" not in got


def test_sub_attribute_names_are_expanded_and_compacted(client: httpx.Client, user_context_url: str) -> None:
    """Sub-attribute names are expanded on input and compacted on output like attribute names."""
    ent = {"id": new_id("Vehicle"), "type": "Vehicle", "brand": prop("M", speed=prop(3))}
    create(client, ent, headers=link_header(user_context_url))
    assert get_json(client, ent["id"])[EX + "brand"][EX + "speed"] == prop(3)
    assert get_json(client, ent["id"], headers=link_header(user_context_url))["brand"]["speed"] == prop(3)


def test_prefix_compaction_gives_compact_iris(client: httpx.Client, context_server: ContextServer) -> None:
    """A context with only a prefix compacts matching IRIs to prefix:suffix compact IRIs."""
    full = context_server.valid({"@context": {"ex": EX, "Car": "ex:Car", "speed": "ex:speed"}})
    prefix_only = context_server.valid({"@context": {"ex": EX}})
    ent = {"id": new_id("Car"), "type": "Car", "speed": prop(1), "ex:other": prop(2)}
    create(client, ent, headers=link_header(full))
    got = get_json(client, ent["id"], headers=link_header(prefix_only))
    assert got == {"id": ent["id"], "type": "ex:Car", "ex:speed": prop(1), "ex:other": prop(2)}
    got = get_json(client, ent["id"], headers=link_header(full))
    assert got == {"id": ent["id"], "type": "Car", "speed": prop(1), "ex:other": prop(2)}


def test_fqn_names_in_payload(client: httpx.Client, user_context_url: str) -> None:
    """Full IRIs are accepted as type and attribute names and compact with a matching context."""
    ent = {"id": new_id("Vehicle"), "type": EX + "Vehicle", EX + "speed": prop(5)}
    create(client, ent)
    assert get_json(client, ent["id"]) == ent
    got = get_json(client, ent["id"], headers=link_header(user_context_url))
    assert got == {"id": ent["id"], "type": "Vehicle", "speed": prop(5)}


def test_core_context_cannot_be_overridden(client: httpx.Client, context_server: ContextServer) -> None:
    """The core context is protected and applied last: a user context cannot redefine 'location'."""
    url = context_server.valid({"@context": {"location": EX + "location", "Spot": EX + "Spot"}})
    ent = {
        "id": new_id("Spot"),
        "type": "Spot",
        "location": {"type": "GeoProperty", "value": {"type": "Point", "coordinates": [1.0, 2.0]}},
    }
    resp = send(client, "POST", "/entities", ent, headers=link_header(url))
    if resp.status_code == 400:
        assert_problem(resp, 400, "BadRequestData")
        return
    assert resp.status_code == 201, resp.text
    got = get_json(client, ent["id"])
    assert "location" in got
    assert EX + "location" not in got


def test_link_with_other_rel_is_ignored(client: httpx.Client, unreachable_context_url: str) -> None:
    """Only a Link with rel="http://www.w3.org/ns/json-ld#context" supplies a context; others are ignored."""
    ent = make_entity(name=prop("x"))
    headers = {"Link": f'<{unreachable_context_url}>; rel="alternate"; type="text/html"'}
    create(client, ent, headers=headers)
    assert get_json(client, ent["id"])["name"] == prop("x")


def test_core_context_first_in_body_still_protected(client: httpx.Client, user_context_url: str) -> None:
    """A body @context listing the core context first still expands user terms (core acts as if last)."""
    ent = vehicle()
    create(client, {**ent, "@context": [CORE_CONTEXT, user_context_url]}, ctype=LD)
    got = get_json(client, ent["id"])
    assert got["type"] == EX + "Vehicle"
    assert EX + "speed" in got


# --- where the @context comes from: error cases -------------------------------------------------


def test_link_header_with_ld_json_is_rejected(client: httpx.Client, user_context_url: str) -> None:
    """A JSON-LD Link header with Content-Type application/ld+json gives 400 BadRequestData (TS 001_09)."""
    ent = vehicle()
    body = {**ent, "@context": user_context_url}
    resp = send(client, "POST", "/entities", body, ctype=LD, headers=link_header(user_context_url))
    assert_problem(resp, 400, "BadRequestData")
    assert_not_created(client, ent["id"])


def test_context_in_json_body_is_rejected(client: httpx.Client, user_context_url: str) -> None:
    """@context in an application/json body gives 400 BadRequestData (TS 001_06)."""
    ent = vehicle()
    resp = send(client, "POST", "/entities", {**ent, "@context": user_context_url})
    assert_problem(resp, 400, "BadRequestData")
    assert_not_created(client, ent["id"])


def test_ld_json_without_context_is_rejected(client: httpx.Client) -> None:
    """application/ld+json without @context in the body gives 400 BadRequestData (TS 001_02_03, 001_08)."""
    ent = vehicle()
    resp = send(client, "POST", "/entities", ent, ctype=LD)
    assert_problem(resp, 400, "BadRequestData")
    assert_not_created(client, ent["id"])


def test_unreachable_context_in_link(client: httpx.Client, unreachable_context_url: str) -> None:
    """A Link context that cannot be fetched gives LdContextNotAvailable (503 per TS, 504 per spec)."""
    ent = vehicle()
    resp = send(client, "POST", "/entities", ent, headers=link_header(unreachable_context_url))
    assert_problem(resp, (503, 504), "LdContextNotAvailable")
    assert_not_created(client, ent["id"])


def test_unreachable_context_in_body(client: httpx.Client, unreachable_context_url: str) -> None:
    """A body @context URL that cannot be fetched gives LdContextNotAvailable (503/504)."""
    ent = vehicle()
    resp = send(client, "POST", "/entities", {**ent, "@context": [unreachable_context_url]}, ctype=LD)
    assert_problem(resp, (503, 504), "LdContextNotAvailable")
    assert_not_created(client, ent["id"])


def test_context_answering_404_is_not_available(client: httpx.Client, context_server: ContextServer) -> None:
    """A remote context URL answering 404 cannot be retrieved: LdContextNotAvailable (503/504)."""
    ent = vehicle()
    resp = send(client, "POST", "/entities", ent, headers=link_header(context_server.not_found()))
    assert_problem(resp, (503, 504), "LdContextNotAvailable")
    assert_not_created(client, ent["id"])


def test_unreachable_context_on_retrieve(client: httpx.Client, unreachable_context_url: str) -> None:
    """GET with a Link context that cannot be fetched gives LdContextNotAvailable (503/504)."""
    ent = make_entity(name=prop("x"))
    create(client, ent)
    resp = retrieve(client, ent["id"], headers=link_header(unreachable_context_url))
    assert_problem(resp, (503, 504), "LdContextNotAvailable")


def test_remote_context_not_json_is_bad_request(client: httpx.Client, context_server: ContextServer) -> None:
    """A remote context that is not valid JSON(-LD) gives 400 BadRequestData."""
    ent = vehicle()
    resp = send(client, "POST", "/entities", ent, headers=link_header(context_server.invalid_json()))
    assert_problem(resp, 400, "BadRequestData")
    assert_not_created(client, ent["id"])


def test_invalid_remote_context_on_retrieve(client: httpx.Client, context_server: ContextServer) -> None:
    """GET with a Link context that is not valid JSON gives 400 BadRequestData."""
    ent = make_entity(name=prop("x"))
    create(client, ent)
    assert_problem(
        retrieve(client, ent["id"], headers=link_header(context_server.invalid_json())), 400, "BadRequestData"
    )


@pytest.mark.parametrize(
    "document",
    [{"@context": 5}, {"@context": {"speed": 5}}, {"@context": {"speed": {"@id": 5}}}, [1, 2]],
    ids=["context number", "term number", "term id number", "array document"],
)
def test_remote_context_invalid_json_ld_is_bad_request(
    client: httpx.Client, context_server: ContextServer, document: Any
) -> None:
    """A remote context that is JSON but not a valid JSON-LD context gives 400 BadRequestData."""
    ent = vehicle()
    resp = send(client, "POST", "/entities", ent, headers=link_header(context_server.register(document)))
    assert_problem(resp, 400, "BadRequestData")
    assert_not_created(client, ent["id"])


def test_scoped_user_context_is_rejected(client: httpx.Client) -> None:
    """A user @context with a scoped context is BadRequestData (§4.4 restriction)."""
    ctx = {"Car": EX + "Car", "speed": {"@id": EX + "speed", "@context": {"unit": EX + "unit"}}}
    ent = {"id": new_id("Car"), "type": "Car", "speed": prop(3), "@context": ctx}
    resp = send(client, "POST", "/entities", ent, ctype=LD)
    assert_problem(resp, 400, "BadRequestData")
    assert_not_created(client, ent["id"])


@pytest.mark.parametrize("core_url", CORE_URLS, ids=lambda u: u.rsplit("/", 1)[1])
def test_core_context_urls_are_accepted_in_body(client: httpx.Client, core_url: str) -> None:
    """Every core context version (v1.6-v1.9) and the unversioned URL is accepted as body @context."""
    ent = make_entity(name=prop("x"))
    create(client, {**ent, "@context": core_url}, ctype=LD)
    got = get_json(client, ent["id"])
    assert got["type"] == "Thing"
    assert got["name"] == prop("x")


@pytest.mark.parametrize("core_url", CORE_URLS, ids=lambda u: u.rsplit("/", 1)[1])
def test_core_context_urls_are_accepted_in_link(client: httpx.Client, core_url: str) -> None:
    """Every core context version and the unversioned URL is accepted in a Link header, on write and read."""
    ent = make_entity(name=prop("x"))
    create(client, ent, headers=link_header(core_url))
    got = get_json(client, ent["id"], headers=link_header(core_url))
    assert got["type"] == "Thing"
    assert got["name"] == prop("x")


# --- response @context --------------------------------------------------------------------------


def test_ld_json_response_echoes_link_context(client: httpx.Client, user_context_url: str) -> None:
    """Accept: application/ld+json echoes the request's Link context as body @context, no Link header."""
    ent = vehicle()
    create(client, ent, headers=link_header(user_context_url))
    resp = retrieve(client, ent["id"], headers={"Accept": LD, **link_header(user_context_url)})
    assert resp.status_code == 200
    assert media_type(resp) == LD
    body = resp.json()
    assert body["@context"] in (user_context_url, [user_context_url])
    assert body["type"] == "Vehicle"
    assert "link" not in resp.headers


def test_ld_json_response_without_link_uses_core_context(client: httpx.Client) -> None:
    """Accept: application/ld+json without a Link header gives a core context URL as body @context."""
    ent = make_entity(name=prop("x"))
    create(client, ent)
    resp = retrieve(client, ent["id"], headers={"Accept": LD})
    assert resp.status_code == 200
    assert media_type(resp) == LD
    ctx = context_values(resp.json()["@context"])
    assert len(ctx) == 1 and CORE_CONTEXT_RE.match(ctx[0]), ctx


def test_json_response_has_link_header_with_request_context(client: httpx.Client, user_context_url: str) -> None:
    """application/json responses carry the request context in a Link header and no body @context."""
    ent = vehicle()
    create(client, ent, headers=link_header(user_context_url))
    resp = retrieve(client, ent["id"], headers={"Accept": "application/json", **link_header(user_context_url)})
    assert resp.status_code == 200
    assert media_type(resp) == "application/json"
    assert "@context" not in resp.json()
    link = resp.headers.get("link", "")
    assert f"<{user_context_url}>" in link
    assert LD_CONTEXT_REL in link


def test_json_response_without_link_points_at_core_context(client: httpx.Client) -> None:
    """Without a user context, the application/json Link header points at a core context URL."""
    ent = make_entity(name=prop("x"))
    create(client, ent)
    resp = retrieve(client, ent["id"])
    assert resp.status_code == 200
    link = resp.headers.get("link", "")
    assert LD_CONTEXT_REL in link
    url = link.split("<", 1)[1].split(">", 1)[0]
    assert CORE_CONTEXT_RE.match(url), link


def test_remote_context_is_used_not_the_creation_context(
    client: httpx.Client, user_context_url: str, context_server: ContextServer
) -> None:
    """Output is compacted with this request's context, never the one the data was created with."""
    other = context_server.valid({"@context": {"Auto": EX + "Vehicle", "velocity": EX + "speed"}})
    ent = vehicle()
    create(client, ent, headers=link_header(user_context_url))
    got = get_json(client, ent["id"], headers=link_header(other))
    assert got["type"] == "Auto"
    assert got["velocity"] == prop(80, unitCode="KMH")
    assert EX + "brand" in got


def test_unknown_terms_expand_under_default_context(client: httpx.Client) -> None:
    """Without a user context, unknown terms expand under the @vocab default-context namespace."""
    ent = make_entity(someAttr=prop(1))
    create(client, ent)
    got = get_json(client, ent["id"], attrs=DEFAULT_NS + "someAttr", type=DEFAULT_NS + "Thing")
    assert got["someAttr"] == prop(1)
    assert got["type"] == "Thing"
