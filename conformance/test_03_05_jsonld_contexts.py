"""Digest §3.5: the @context store, /jsonldContexts and /jsonldContexts/{contextId} (spec §5.13, §6.29, §6.30):
adding Hosted contexts, listing (details, kind), serving, using a hosted context, Cached entries, deletion and
reload (including the core context), and Appendix A row 10 (reload is validated before the id is looked up).

Other tests add contexts too, so the listing is never assumed empty: membership is checked instead."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from conformance.helpers import (
    ContextServer,
    assert_problem,
    create,
    get_json,
    link_header,
    make_entity,
    media_type,
    prop,
    send,
)

VOCAB = "http://example.org/vocab#"
CTX = "/jsonldContexts"
HOSTED_PATH = "/ngsi-ld/v1/jsonldContexts/"
CORE_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld"
REQUIRED_KEYS = {"URL", "localId", "kind", "createdAt"}
OPTIONAL_KEYS = {"expiresAt", "lastUsage", "numberOfHits", "extraInfo"}
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")


def item(key: str) -> str:
    """The path of one entry; ``key`` (a localId or a URL) is percent-encoded as a single segment."""
    return f"{CTX}/{quote(key, safe='')}"


def add_context(client: httpx.Client, context: Any) -> str:
    """POST {"@context": context}, assert 201 with no body and a Location, and return the localId."""
    resp = send(client, "POST", CTX, {"@context": context})
    assert resp.status_code == 201, f"{resp.status_code}: {resp.text[:500]}"
    assert resp.content == b""
    location = resp.headers.get("location", "")
    assert location.startswith(HOSTED_PATH), location
    local_id = location[len(HOSTED_PATH) :]
    assert local_id and "/" not in local_id, location
    return local_id


def listing(client: httpx.Client, **params: str) -> list[Any]:
    resp = client.get(CTX, params=params)
    assert resp.status_code == 200, f"{resp.status_code}: {resp.text[:500]}"
    assert media_type(resp) == "application/json"
    body = resp.json()
    assert isinstance(body, list), body
    return body


def details(client: httpx.Client, key: str) -> dict[str, Any]:
    resp = client.get(item(key), params={"details": "true"})
    assert resp.status_code == 200, f"{resp.status_code}: {resp.text[:500]}"
    body = resp.json()
    assert isinstance(body, dict), body
    return body


def check_members(meta: Any) -> None:
    """A details object: all required members, no member outside the allowed ones, createdAt a DateTime."""
    assert isinstance(meta, dict), meta
    keys = set(meta)
    assert keys >= REQUIRED_KEYS and keys <= REQUIRED_KEYS | OPTIONAL_KEYS, meta
    assert DATETIME_RE.match(meta["createdAt"]), meta


def hosted_url(client: httpx.Client, local_id: str) -> str:
    """The absolute URL the broker lists for a hosted entry."""
    urls = [u for u in listing(client) if u.endswith(HOSTED_PATH + local_id)]
    assert len(urls) == 1, f"{local_id} not listed once"
    assert urls[0].startswith(("http://", "https://")), urls[0]
    return str(urls[0])


def cache(client: httpx.Client, url: str) -> None:
    """Make the broker download ``url`` by creating an entity with it as the Link context."""
    create(client, make_entity(name=prop(1)), headers=link_header(url))


@pytest.fixture
def hosted(client: httpx.Client) -> str:
    """The localId of a fresh Hosted context mapping ``speed``."""
    return add_context(client, {"speed": VOCAB + "speed"})


@pytest.fixture
def cached_url(client: httpx.Client, context_server: ContextServer) -> str:
    """A fresh remote context URL the broker has downloaded (a Cached entry)."""
    url = context_server.valid({"@context": {"speed": VOCAB + "speed"}})
    cache(client, url)
    return url


# --------------------------------------------------------------------------------------------- POST /jsonldContexts


@pytest.mark.parametrize("kind", ["object", "url", "array"])
def test_add_hosted_context(client: httpx.Client, context_server: ContextServer, kind: str) -> None:
    """POST {"@context": …} (object, URL or array) gives 201, no body, Location /ngsi-ld/v1/jsonldContexts/<id>;
    the entry is Hosted and serves back exactly the posted @context."""
    url = context_server.valid({"@context": {"brand": VOCAB + "brand"}})
    context = {"object": {"speed": VOCAB + "speed"}, "url": url, "array": [url, {"speed": VOCAB + "speed"}]}[kind]
    local_id = add_context(client, context)
    assert client.get(item(local_id)).json() == {"@context": context}
    assert details(client, local_id)["kind"] == "Hosted"


def test_members_other_than_context_are_ignored(client: httpx.Client) -> None:
    """Anything in the body besides @context is discarded."""
    resp = send(client, "POST", CTX, {"@context": {"speed": VOCAB + "speed"}, "extra": 1, "id": "x"})
    assert resp.status_code == 201, resp.text
    local_id = resp.headers["location"].rsplit("/", 1)[1]
    assert client.get(item(local_id)).json() == {"@context": {"speed": VOCAB + "speed"}}


def test_add_body_not_json_is_invalid_request(client: httpx.Client) -> None:
    """A body that is not JSON gives 400 InvalidRequest (§5.5.4)."""
    assert_problem(send(client, "POST", CTX, raw='{"@context": {'), 400, "InvalidRequest")


@pytest.mark.parametrize(
    "body",
    [{}, {"context": {"a": VOCAB + "a"}}, [{"@context": {"a": VOCAB + "a"}}], "text", {"@context": 5}],
    ids=["empty object", "no @context", "array body", "string body", "context number"],
)
def test_add_without_context_object_is_bad_request(client: httpx.Client, body: Any) -> None:
    """A body that is not an object with an @context member gives 400 BadRequestData."""
    assert_problem(send(client, "POST", CTX, body), 400, "BadRequestData")


@pytest.mark.parametrize(
    "context",
    [{"a": 5}, {"a": {"@id": 5}}, [{"a": VOCAB + "a"}, 7]],
    ids=["term number", "term id number", "array member number"],
)
def test_add_invalid_json_ld_context_is_bad_request(client: httpx.Client, context: Any) -> None:
    """A @context that is JSON but not valid JSON-LD gives 400 BadRequestData (TS 050_02)."""
    assert_problem(send(client, "POST", CTX, {"@context": context}), 400, "BadRequestData")


def test_array_context_urls_are_cached(client: httpx.Client, context_server: ContextServer) -> None:
    """When the hosted context is an array with URLs, each URL is also cached (TS 050_04)."""
    url = context_server.valid({"@context": {"brand": VOCAB + "brand"}})
    local_id = add_context(client, [url, {"speed": VOCAB + "speed"}])
    assert url in listing(client, kind="Cached")
    assert url not in listing(client, kind="Hosted")
    assert details(client, url)["kind"] == "Cached"
    assert details(client, local_id)["kind"] == "Hosted"


def test_add_with_unfetchable_url_is_not_available(client: httpx.Client, context_server: ContextServer) -> None:
    """A referenced URL that cannot be retrieved gives LdContextNotAvailable (TS: 503; spec table: 504)."""
    resp = send(client, "POST", CTX, {"@context": [context_server.not_found(), {"a": VOCAB + "a"}]})
    assert_problem(resp, (503, 504), "LdContextNotAvailable")


# ---------------------------------------------------------------------------------------------- GET /jsonldContexts


def test_list_gives_absolute_hosted_url(client: httpx.Client, hosted: str) -> None:
    """Without details the list is URL strings; a hosted entry appears as the broker's absolute serving URL."""
    body = listing(client)
    assert all(isinstance(u, str) for u in body), body
    hosted_url(client, hosted)


def test_list_gives_original_url_of_cached_entry(client: httpx.Client, cached_url: str) -> None:
    """A Cached entry is listed under its original URL."""
    assert cached_url in listing(client)


def test_list_details_members(client: httpx.Client, hosted: str, cached_url: str) -> None:
    """details=true gives objects with URL, localId, kind, createdAt and only the optional expiresAt, lastUsage,
    numberOfHits, extraInfo besides."""
    entries = listing(client, details="true")
    for entry in entries:
        check_members(entry)
    mine = [e for e in entries if e["localId"] == hosted]
    assert len(mine) == 1 and mine[0]["kind"] == "Hosted", mine
    assert mine[0]["URL"].endswith(HOSTED_PATH + hosted)
    theirs = [e for e in entries if e["URL"] == cached_url]
    assert len(theirs) == 1 and theirs[0]["kind"] == "Cached", theirs


def test_kind_filters_the_list(client: httpx.Client, hosted: str, cached_url: str) -> None:
    """kind=Hosted lists only Hosted entries, kind=Cached only Cached ones."""
    url = hosted_url(client, hosted)
    assert url in listing(client, kind="Hosted") and cached_url not in listing(client, kind="Hosted")
    assert cached_url in listing(client, kind="Cached") and url not in listing(client, kind="Cached")
    assert {e["kind"] for e in listing(client, kind="Cached", details="true")} == {"Cached"}
    assert {e["kind"] for e in listing(client, kind="Hosted", details="true")} == {"Hosted"}


@pytest.mark.parametrize("params", [{"kind": "Bogus"}, {"details": "maybe"}], ids=["kind", "details"])
def test_list_bad_parameter_value_is_bad_request(client: httpx.Client, params: dict[str, str]) -> None:
    """A kind that is not a known kind, or a details value that is not a boolean, gives 400 BadRequestData."""
    assert_problem(client.get(CTX, params=params), 400, "BadRequestData")


@pytest.mark.parametrize("method", ["POST", "GET list", "GET", "DELETE"])
def test_unknown_parameter_is_invalid_request(client: httpx.Client, hosted: str, method: str) -> None:
    """An unknown URL parameter gives 400 InvalidRequest, and a DELETE carrying one deletes nothing."""
    params = {"invalidParam": "x"}
    if method == "POST":
        resp = send(client, "POST", CTX, {"@context": {"a": VOCAB + "a"}}, params=params)
    else:
        resp = client.request(method.split()[0], CTX if method == "GET list" else item(hosted), params=params)
    assert_problem(resp, 400, "InvalidRequest")
    assert client.get(item(hosted)).status_code == 200


# ---------------------------------------------------------------------------------- GET /jsonldContexts/{contextId}


def test_get_serves_hosted_context(client: httpx.Client, hosted: str) -> None:
    """GET by localId gives 200 application/json {"@context": <what was posted>}."""
    resp = client.get(item(hosted))
    assert resp.status_code == 200, resp.text
    assert media_type(resp) == "application/json"
    assert resp.json() == {"@context": {"speed": VOCAB + "speed"}}


def test_get_details_of_hosted_context(client: httpx.Client, hosted: str) -> None:
    """details=true gives the metadata object of the entry."""
    meta = details(client, hosted)
    check_members(meta)
    assert meta["localId"] == hosted and meta["kind"] == "Hosted"
    assert meta["URL"].endswith(HOSTED_PATH + hosted)


@pytest.mark.parametrize("params", [{}, {"details": "true"}], ids=["content", "details"])
def test_get_unknown_context_is_not_found(client: httpx.Client, params: dict[str, str]) -> None:
    """An unknown contextId gives 404 ResourceNotFound (TS 053_03)."""
    assert_problem(client.get(item("no-such-context-0000"), params=params), 404, "ResourceNotFound")


def test_cached_context_is_not_served(client: httpx.Client, cached_url: str) -> None:
    """A Cached entry, named by its URL, gives 422 OperationNotSupported for its content, its metadata with
    details=true."""
    assert_problem(client.get(item(cached_url)), 422, "OperationNotSupported")
    meta = details(client, cached_url)
    assert meta["kind"] == "Cached" and meta["URL"] == cached_url
    check_members(meta)


# ------------------------------------------------------------------------------------- using a hosted context


def test_hosted_context_is_usable_in_link_header(client: httpx.Client, hosted: str) -> None:
    """A client may use the hosted URL as its Link context: terms expand and compact with it."""
    link = link_header(hosted_url(client, hosted))
    ent = make_entity(speed=prop(80))
    create(client, ent, headers=link)
    without = get_json(client, ent["id"])
    assert without[VOCAB + "speed"] == prop(80) and "speed" not in without
    assert get_json(client, ent["id"], headers=link)["speed"] == prop(80)


def test_number_of_hits_increases_with_use(client: httpx.Client, hosted: str) -> None:
    """numberOfHits SHOULD increase each time the context is used (TS 053_04)."""
    before = details(client, hosted).get("numberOfHits", 0)
    create(client, make_entity(speed=prop(1)), headers=link_header(hosted_url(client, hosted)))
    assert details(client, hosted)["numberOfHits"] > before


# ------------------------------------------------------------------------------ DELETE /jsonldContexts/{contextId}


def test_delete_hosted_context(client: httpx.Client, hosted: str) -> None:
    """DELETE gives 204; the entry is then gone (404) and no longer listed."""
    url = hosted_url(client, hosted)
    resp = client.delete(item(hosted))
    assert resp.status_code == 204, resp.text
    assert_problem(client.get(item(hosted)), 404, "ResourceNotFound")
    assert url not in listing(client)
    assert hosted not in {e["localId"] for e in listing(client, details="true")}


def test_delete_unknown_context_is_not_found(client: httpx.Client) -> None:
    """DELETE of an unknown contextId gives 404 ResourceNotFound."""
    assert_problem(client.delete(item("no-such-context-0000")), 404, "ResourceNotFound")


@pytest.mark.parametrize("known", [True, False], ids=["known id", "unknown id"])
def test_delete_bad_reload_value_is_bad_request(client: httpx.Client, hosted: str, known: bool) -> None:
    """reload must be a boolean: 400 BadRequestData, checked before the id (Appendix A row 10, TS 051_04)."""
    resp = client.delete(item(hosted if known else "no-such-context-0000"), params={"reload": "maybe"})
    assert_problem(resp, 400, "BadRequestData")
    assert client.get(item(hosted)).status_code == 200


def test_reload_of_hosted_context_is_bad_request(client: httpx.Client, hosted: str) -> None:
    """reload=true on a Hosted entry gives 400 BadRequestData and keeps the entry (TS 051_07)."""
    assert_problem(client.delete(item(hosted), params={"reload": "true"}), 400, "BadRequestData")
    assert client.get(item(hosted)).status_code == 200


def test_reload_of_cached_context(client: httpx.Client, context_server: ContextServer, cached_url: str) -> None:
    """reload=true on a Cached entry re-downloads it: 204, one more fetch, and it is still listed."""
    path = cached_url[len(context_server.base) :]
    fetched = context_server.hits.get(path, 0)
    resp = client.delete(item(cached_url), params={"reload": "true"})
    assert resp.status_code == 204, resp.text
    assert context_server.hits.get(path, 0) > fetched
    assert cached_url in listing(client, kind="Cached")


def test_delete_cached_context_until_used_again(client: httpx.Client, cached_url: str) -> None:
    """DELETE of a Cached entry gives 204 and removes it from the list; using the URL again re-caches it."""
    resp = client.delete(item(cached_url))
    assert resp.status_code == 204, resp.text
    assert cached_url not in listing(client)
    cache(client, cached_url)
    assert cached_url in listing(client, kind="Cached")


@pytest.mark.parametrize("params", [{}, {"reload": "false"}], ids=["no reload", "reload=false"])
def test_core_context_cannot_be_deleted(client: httpx.Client, params: dict[str, str]) -> None:
    """DELETE of the core context without reload=true gives 400 BadRequestData (TS 051_08)."""
    assert_problem(client.delete(item(CORE_URL), params=params), 400, "BadRequestData")


def test_core_context_can_be_reloaded(client: httpx.Client) -> None:
    """DELETE of the core context with reload=true gives 204 (TS 051_09); entities still use it afterwards."""
    resp = client.delete(item(CORE_URL), params={"reload": "true"})
    assert resp.status_code == 204, resp.text
    ent = make_entity(name=prop("x"))
    create(client, ent)
    assert get_json(client, ent["id"])["name"] == prop("x")


# ------------------------------------------------------------------------------------------------------- methods


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("PUT", CTX, {"GET", "POST"}), ("PATCH", CTX, {"GET", "POST"}), ("PUT", "item", {"GET", "DELETE"})],
    ids=["PUT collection", "PATCH collection", "PUT item"],
)
def test_wrong_method_is_405_with_allow(
    client: httpx.Client, hosted: str, method: str, path: str, allowed: set[str]
) -> None:
    """A verb the resource does not support gives 405 with an Allow header listing the supported ones (§8.4)."""
    url = item(hosted) if path == "item" else path
    resp = client.request(method, url, content=b"{}", headers={"Content-Type": "application/json"})
    assert resp.status_code == 405, resp.text
    listed = {m.strip().upper() for m in resp.headers.get("allow", "").split(",")}
    assert allowed <= listed, resp.headers.get("allow")
