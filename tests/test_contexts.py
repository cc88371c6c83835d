"""ContextResolver: remote @context fetch (egress, time, size), TTL cache and compiled TermMap cache.

Every HTTP exchange goes through ``httpx.MockTransport``; time moves only on a FakeClock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ngsild.clock import FakeClock
from ngsild.contexts import ContextLimits, ContextResolver, _max_age
from ngsild.core_context import CORE_VOCAB
from ngsild.egress import EgressPolicy
from ngsild.errors import BadRequestData, LdContextNotAvailable
from ngsild.jsonld import CORE_TERM_MAP

CORE_URL = "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.9.jsonld"
CTX_URL = "http://ctx.example.org/ctx.jsonld"
SPEED = "http://example.org/speed"

Handler = Callable[[httpx.Request], httpx.Response | Awaitable[httpx.Response]]


class Server:
    """A MockTransport handler that serves JSON documents by URL and records the requests."""

    def __init__(self, documents: dict[str, Any] | None = None) -> None:
        self.documents: dict[str, Any] = dict(documents or {})
        self.headers: dict[str, dict[str, str]] = {}
        self.requests: list[httpx.Request] = []
        self.gate: asyncio.Event | None = None
        self.failure: Exception | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.gate is not None:
            await self.gate.wait()
        if self.failure is not None:
            raise self.failure
        url = str(request.url)
        if url not in self.documents:
            return httpx.Response(404)
        body = self.documents[url]
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        return httpx.Response(200, content=content, headers=self.headers.get(url, {}))

    def count(self, url: str) -> int:
        return sum(1 for r in self.requests if str(r.url) == url)


def resolver_for(
    handler: Handler,
    *,
    clock: FakeClock | None = None,
    egress: str | None = None,
    **limits: Any,
) -> ContextResolver:
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return ContextResolver(client, EgressPolicy.parse(egress), clock or FakeClock(), ContextLimits(**limits))


def context_doc(speed: str = SPEED, **extra: Any) -> dict[str, Any]:
    return {"@context": {"speed": speed, **extra}}


@pytest.fixture
def server() -> Server:
    return Server({CTX_URL: context_doc()})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# ---- the core context ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "context",
    [
        CORE_URL,
        [CORE_URL],
        "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context.jsonld",
        ["https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.6.jsonld", CORE_URL],
    ],
)
async def test_core_context_urls_are_never_fetched(server: Server, context: Any) -> None:
    """The core context, by any of its URLs, is the built-in TermMap and is never downloaded."""
    resolver = resolver_for(server)
    assert await resolver.term_map(context) is CORE_TERM_MAP
    assert server.requests == []


async def test_core_url_beside_a_user_context_is_not_fetched(server: Server) -> None:
    """In a list, only the user contexts are fetched; the core URL is skipped."""
    resolver = resolver_for(server)
    term_map = await resolver.term_map([CTX_URL, CORE_URL])
    assert term_map.expand("speed") == SPEED
    assert [str(r.url) for r in server.requests] == [CTX_URL]


# ---- expansion through remote and inline contexts --------------------------------------------------------


async def test_remote_context_defines_terms(server: Server) -> None:
    """A remote context's terms expand, and the core context still applies after it."""
    term_map = await resolver_for(server).term_map(CTX_URL)
    assert term_map.expand("speed") == SPEED
    assert term_map.expand("location") == "https://uri.etsi.org/ngsi-ld/location"
    assert term_map.expand("other") == CORE_VOCAB + "other"


async def test_inline_context_needs_no_fetch(server: Server) -> None:
    """An inline context object is compiled without any request."""
    term_map = await resolver_for(server).term_map({"speed": SPEED})
    assert term_map.expand("speed") == SPEED
    assert server.requests == []


async def test_contexts_apply_in_order(server: Server) -> None:
    """Of a remote and an inline context, the later definition wins."""
    resolver = resolver_for(server)
    assert (await resolver.term_map([CTX_URL, {"speed": "http://b.example/speed"}])).expand(
        "speed"
    ) == "http://b.example/speed"
    assert (await resolver.term_map([{"speed": "http://b.example/speed"}, CTX_URL])).expand("speed") == SPEED


async def test_remote_context_listing_other_urls_is_followed(server: Server) -> None:
    """A remote document whose @context lists other URLs (including the core) pulls them in."""
    outer = "http://ctx.example.org/outer.jsonld"
    server.documents[outer] = {"@context": [CTX_URL, {"height": "http://example.org/height"}, CORE_URL]}
    term_map = await resolver_for(server).term_map(outer)
    assert term_map.expand("speed") == SPEED
    assert term_map.expand("height") == "http://example.org/height"
    assert server.count(CORE_URL) == 0


async def test_cyclic_remote_contexts_are_bad_request_data(server: Server) -> None:
    """Remote contexts that include each other end in BadRequestData, after one fetch each."""
    a, b = "http://ctx.example.org/a.jsonld", "http://ctx.example.org/b.jsonld"
    server.documents[a] = {"@context": [b]}
    server.documents[b] = {"@context": [a]}
    with pytest.raises(BadRequestData):
        await resolver_for(server).term_map(a)
    assert (server.count(a), server.count(b)) == (1, 1)


@pytest.mark.parametrize("context", [None, 1, [None], [CTX_URL, 2], True])
async def test_malformed_context_values_are_bad_request_data(server: Server, context: Any) -> None:
    """A @context that is not URLs and objects is BadRequestData."""
    with pytest.raises(BadRequestData):
        await resolver_for(server).term_map(context)


@pytest.mark.parametrize("url", ["ftp://ctx.example.org/c.jsonld", "file:///etc/passwd", "ctx.jsonld", "urn:x"])
async def test_non_http_urls_are_bad_request_data(server: Server, url: str) -> None:
    """A context URL that is not http(s) is BadRequestData and is not requested."""
    with pytest.raises(BadRequestData):
        await resolver_for(server).term_map(url)
    assert server.requests == []


async def test_scoped_context_in_a_remote_document_is_bad_request_data(server: Server) -> None:
    """A remote context with a scoped context is BadRequestData, like an inline one."""
    server.documents[CTX_URL] = {"@context": {"speed": {"@id": SPEED, "@context": {}}}}
    with pytest.raises(BadRequestData):
        await resolver_for(server).term_map(CTX_URL)


# ---- failures --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"", b"[]", b'"@context"', b'{"speed": "http://example.org/speed"}', b"null"],
)
async def test_invalid_json_or_missing_context_member_is_bad_request_data(server: Server, body: bytes) -> None:
    """A fetched body that is not JSON, or is JSON without a top-level @context, is BadRequestData."""
    server.documents[CTX_URL] = body
    with pytest.raises(BadRequestData):
        await resolver_for(server).term_map(CTX_URL)


@pytest.mark.parametrize("status", [503, 504])
@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("slow"),
        httpx.ConnectTimeout("slow"),
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("eof"),
    ],
)
async def test_transport_failures_are_ld_context_not_available(server: Server, status: int, failure: Exception) -> None:
    """A timeout or connection failure is LdContextNotAvailable with the configured status."""
    server.failure = failure
    with pytest.raises(LdContextNotAvailable) as caught:
        await resolver_for(server, unavailable_status=status).term_map(CTX_URL)
    assert caught.value.status == status
    assert caught.value.problem()["status"] == status


@pytest.mark.parametrize("code", [404, 500, 204])
async def test_non_200_answers_are_ld_context_not_available(code: int) -> None:
    """Any final answer but 200 is LdContextNotAvailable, after exactly one request."""
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(code, json=context_doc())

    with pytest.raises(LdContextNotAvailable):
        await resolver_for(handler).term_map(CTX_URL)
    assert len(requests) == 1


MOVED_URL = "http://moved.example.org/ctx.jsonld"


@pytest.mark.parametrize("code", [301, 302, 307, 308])
async def test_redirects_are_followed_within_the_egress_policy(code: int) -> None:
    """A redirect to an allowed host is followed (contexts often live behind w3id-style redirects)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if str(request.url) == CTX_URL:
            return httpx.Response(code, headers={"Location": MOVED_URL})
        return httpx.Response(200, json=context_doc())

    tm = await resolver_for(handler, egress="*.example.org").term_map(CTX_URL)
    assert tm.expand("speed") == SPEED


async def test_a_redirect_outside_the_egress_policy_is_refused_unfetched() -> None:
    """Each hop is checked: a redirect to a host outside the policy is LdContextNotAvailable, and
    nothing is sent to that host."""
    requests: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(str(request.url))
        return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/meta-data"})

    with pytest.raises(LdContextNotAvailable) as caught:
        await resolver_for(handler, egress="ctx.example.org").term_map(CTX_URL)
    assert requests == [CTX_URL]
    assert "egress" in caught.value.detail


async def test_a_redirect_loop_ends_as_ld_context_not_available() -> None:
    """Redirects are followed a bounded number of times."""
    requests: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(str(request.url))
        return httpx.Response(301, headers={"Location": CTX_URL})

    with pytest.raises(LdContextNotAvailable):
        await resolver_for(handler).term_map(CTX_URL)
    assert 1 < len(requests) <= 6


async def test_timeout_is_passed_to_the_client(server: Server) -> None:
    """The configured timeout is the request's timeout."""
    await resolver_for(server, timeout_s=1.5).term_map(CTX_URL)
    assert server.requests[0].extensions["timeout"] == httpx.Timeout(1.5).as_dict()


async def test_request_asks_for_json_ld(server: Server) -> None:
    """The request's Accept header prefers application/ld+json."""
    await resolver_for(server).term_map(CTX_URL)
    assert server.requests[0].headers["accept"].startswith("application/ld+json")


async def test_a_trickled_body_is_cut_off_after_the_timeout() -> None:
    """A body that takes longer than timeout_s in total is LdContextNotAvailable."""
    body = orjson.dumps(context_doc())

    async def trickle() -> Any:
        for i in range(0, len(body), 8):
            await asyncio.sleep(0.02)
            yield body[i : i + 8]

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=trickle())

    with pytest.raises(LdContextNotAvailable):
        await resolver_for(handler, timeout_s=0.05).term_map(CTX_URL)


async def test_body_over_the_size_cap_is_ld_context_not_available(server: Server) -> None:
    """A body larger than max_bytes is refused as LdContextNotAvailable and not cached."""
    server.documents[CTX_URL] = context_doc(padding="x" * 2000)
    resolver = resolver_for(server, max_bytes=1000)
    with pytest.raises(LdContextNotAvailable):
        await resolver.term_map(CTX_URL)
    server.documents[CTX_URL] = context_doc()
    assert (await resolver.term_map(CTX_URL)).expand("speed") == SPEED


async def test_streamed_body_is_cut_off_at_the_size_cap() -> None:
    """An endless body is abandoned once it passes max_bytes."""
    sent = 0

    async def endless() -> Any:
        nonlocal sent
        while True:
            sent += 1024
            yield b" " * 1024

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())

    with pytest.raises(LdContextNotAvailable):
        await resolver_for(handler, max_bytes=10_000).term_map(CTX_URL)
    assert sent <= 11 * 1024


async def test_body_at_the_size_cap_is_accepted(server: Server) -> None:
    """A body of exactly max_bytes is accepted."""
    size = len(orjson.dumps(context_doc()))
    assert (await resolver_for(server, max_bytes=size).term_map(CTX_URL)).expand("speed") == SPEED


async def test_egress_refusal_is_ld_context_not_available_without_a_request(server: Server) -> None:
    """A host outside the egress policy is LdContextNotAvailable and is never contacted."""
    with pytest.raises(LdContextNotAvailable) as caught:
        await resolver_for(server, egress="127.0.0.0/8,localhost", unavailable_status=504).term_map(CTX_URL)
    assert caught.value.status == 504
    assert server.requests == []


async def test_egress_allowed_host_is_fetched(server: Server) -> None:
    """A host allowed by the egress policy is fetched."""
    resolver = resolver_for(server, egress="*.example.org")
    assert (await resolver.term_map(CTX_URL)).expand("speed") == SPEED


async def test_failures_are_not_cached(server: Server) -> None:
    """After a failed fetch the next request tries again."""
    server.failure = httpx.ConnectError("down")
    resolver = resolver_for(server)
    with pytest.raises(LdContextNotAvailable):
        await resolver.term_map(CTX_URL)
    server.failure = None
    assert (await resolver.term_map(CTX_URL)).expand("speed") == SPEED
    assert server.count(CTX_URL) == 2


# ---- caching ---------------------------------------------------------------------------------------------


async def test_document_is_cached_until_the_ttl(server: Server, clock: FakeClock) -> None:
    """A fetched context is reused until ttl_s has passed, then fetched again."""
    resolver = resolver_for(server, clock=clock, ttl_s=60)
    await resolver.fetch(CTX_URL)
    clock.advance(59)
    cached = await resolver.fetch(CTX_URL)
    assert server.count(CTX_URL) == 1
    assert cached.hits == 1
    clock.advance(1)
    await resolver.fetch(CTX_URL)
    assert server.count(CTX_URL) == 2


async def test_cache_records_fetch_and_expiry_times(server: Server, clock: FakeClock) -> None:
    """The cache record keeps the URL, the @context value and when it was fetched and expires."""
    cached = await resolver_for(server, clock=clock, ttl_s=60).fetch(CTX_URL)
    assert cached.url == CTX_URL
    assert cached.document == context_doc()["@context"]
    assert (cached.expires_at - cached.fetched_at).total_seconds() == 60
    assert cached.fetched_at == clock.now()


@pytest.mark.parametrize(
    ("header", "ttl"),
    [
        ("max-age=30", 30),
        ("public, max-age=30", 30),
        ("Max-Age=30", 30),
        ("max-age=7200", 600),
        ("no-store", 0),
        ("no-cache", 0),
        ("max-age=0", 0),
        ("", 600),
        ("max-age=abc", 600),
    ],
)
async def test_cache_control_max_age_is_honoured_up_to_the_ttl(
    server: Server, clock: FakeClock, header: str, ttl: float
) -> None:
    """Cache-Control max-age (or no-store/no-cache) sets the expiry, capped by ttl_s."""
    server.headers[CTX_URL] = {"Cache-Control": header}
    cached = await resolver_for(server, clock=clock, ttl_s=600).fetch(CTX_URL)
    assert (cached.expires_at - cached.fetched_at).total_seconds() == ttl


@pytest.mark.parametrize("header", ["max-age=60, no-store", "max-age=60, no-cache"])
def test_no_store_wins_over_max_age_in_any_order(header: str) -> None:
    """no-store and no-cache forbid reuse wherever they appear in the header."""
    assert _max_age(header) == 0


@given(
    st.integers(0, 10**6),
    st.sampled_from(["", "public, ", "private,"]),
    st.sampled_from(["", ", must-revalidate"]),
)
def test_max_age_is_read_from_any_position(age: int, before: str, after: str) -> None:
    """max-age=N is found among other directives."""
    assert _max_age(f"{before}max-age={age}{after}") == age


async def test_term_map_is_compiled_once_per_context_list(server: Server) -> None:
    """The same context list gives the same compiled TermMap, without fetching again."""
    resolver = resolver_for(server)
    first = await resolver.term_map([CTX_URL, {"height": "http://example.org/height"}])
    second = await resolver.term_map([CTX_URL, {"height": "http://example.org/height"}])
    assert first is second
    assert server.count(CTX_URL) == 1
    assert await resolver.term_map(CTX_URL) is await resolver.term_map([CTX_URL])


async def test_inline_context_key_order_does_not_matter(server: Server) -> None:
    """Inline contexts equal up to key order share one TermMap."""
    resolver = resolver_for(server)
    a = await resolver.term_map({"a": "http://example.org/a", "b": "http://example.org/b"})
    b = await resolver.term_map({"b": "http://example.org/b", "a": "http://example.org/a"})
    assert a is b


async def test_compiled_map_expires_with_its_remote_context(server: Server, clock: FakeClock) -> None:
    """Once a remote context's TTL passes, the TermMap is rebuilt from the fresh document."""
    resolver = resolver_for(server, clock=clock, ttl_s=60)
    first = await resolver.term_map(CTX_URL)
    server.documents[CTX_URL] = context_doc("http://example.org/new-speed")
    clock.advance(30)
    assert await resolver.term_map(CTX_URL) is first
    clock.advance(30)
    fresh = await resolver.term_map(CTX_URL)
    assert fresh.expand("speed") == "http://example.org/new-speed"
    assert server.count(CTX_URL) == 2


async def test_compiled_cache_is_bounded(server: Server) -> None:
    """Beyond compiled_cache_size the least recently used TermMap is dropped."""
    resolver = resolver_for(server, compiled_cache_size=2)
    a = await resolver.term_map({"a": "http://example.org/a"})
    b = await resolver.term_map({"b": "http://example.org/b"})
    assert await resolver.term_map({"a": "http://example.org/a"}) is a  # a is now the most recent
    await resolver.term_map({"c": "http://example.org/c"})  # evicts b
    assert await resolver.term_map({"a": "http://example.org/a"}) is a
    assert await resolver.term_map({"b": "http://example.org/b"}) is not b


# ---- concurrency -----------------------------------------------------------------------------------------


async def test_concurrent_requests_for_one_url_fetch_once(server: Server) -> None:
    """Many requests waiting for the same URL share one download."""
    server.gate = asyncio.Event()
    resolver = resolver_for(server)
    tasks = [asyncio.create_task(resolver.term_map([CTX_URL, {f"t{i}": "http://example.org/t"}])) for i in range(5)]
    await asyncio.sleep(0.01)
    server.gate.set()
    maps = await asyncio.gather(*tasks)
    assert all(m.expand("speed") == SPEED for m in maps)
    assert server.count(CTX_URL) == 1


async def test_concurrent_waiters_share_a_failure(server: Server) -> None:
    """When the shared download fails, every waiter gets the error, after one request."""
    server.gate = asyncio.Event()
    server.failure = httpx.ConnectError("down")
    resolver = resolver_for(server)
    tasks = [asyncio.create_task(resolver.fetch(CTX_URL)) for _ in range(3)]
    await asyncio.sleep(0.01)
    server.gate.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(r, LdContextNotAvailable) for r in results)
    assert server.count(CTX_URL) == 1


async def test_cancelling_the_first_requester_does_not_cancel_the_others(server: Server) -> None:
    """If the request that started a download is cancelled, the others still get the context."""
    server.gate = asyncio.Event()
    resolver = resolver_for(server)
    first = asyncio.create_task(resolver.fetch(CTX_URL))
    await asyncio.sleep(0.01)
    second = asyncio.create_task(resolver.fetch(CTX_URL))
    await asyncio.sleep(0.01)
    first.cancel()
    await asyncio.sleep(0.01)
    server.gate.set()
    cached = await asyncio.wait_for(second, 1)
    assert cached.document == context_doc()["@context"]


# ---- the @context store: hosted and cached entries -------------------------------------------------------

HOSTED_URL = "http://broker.example.org/ngsi-ld/v1/jsonldContexts/abc"


async def test_a_hosted_context_resolves_without_a_request(clock: FakeClock) -> None:
    """A URL naming a hosted context (any host, the store's path, a known id) is served locally."""
    server = Server()
    resolver = resolver_for(server, clock=clock)
    resolver.host("abc", "Hosted", {"speed": SPEED}, clock.now())
    term_map = await resolver.term_map(HOSTED_URL)
    assert term_map.expand("speed") == SPEED
    assert server.requests == []
    entry = resolver.entry("abc")
    assert entry is not None and entry.hits >= 1 and entry.last_used == clock.now()


async def test_an_unknown_id_under_the_store_path_is_fetched_like_any_url() -> None:
    server = Server({HOSTED_URL: context_doc()})
    resolver = resolver_for(server)
    assert (await resolver.term_map(HOSTED_URL)).expand("speed") == SPEED
    assert server.count(HOSTED_URL) == 1


async def test_entries_list_hosted_then_live_cached_documents(server: Server, clock: FakeClock) -> None:
    resolver = resolver_for(server, clock=clock, ttl_s=60)
    resolver.host("abc", "Hosted", {"speed": SPEED}, clock.now())
    await resolver.term_map(CTX_URL)
    assert [(e.kind, e.url) for e in resolver.entries()] == [
        ("Hosted", "/ngsi-ld/v1/jsonldContexts/abc"),
        ("Cached", CTX_URL),
    ]
    assert resolver.entry(CTX_URL) is resolver.entries()[1]
    clock.advance(61)
    assert [e.kind for e in resolver.entries()] == ["Hosted"]  # an expired copy is no longer held


async def test_forgetting_a_hosted_context_stops_resolving_it(clock: FakeClock) -> None:
    """After deletion the URL is fetched from the network like any other (here: 404)."""
    resolver = resolver_for(Server(), clock=clock)
    entry = resolver.host("abc", "Hosted", {"speed": SPEED}, clock.now())
    await resolver.term_map(HOSTED_URL)
    resolver.forget(entry)
    with pytest.raises(LdContextNotAvailable):
        await resolver.term_map(HOSTED_URL)


async def test_reload_downloads_again_and_keeps_the_old_copy_on_failure(server: Server) -> None:
    resolver = resolver_for(server)
    await resolver.term_map(CTX_URL)
    entry = resolver.entry(CTX_URL)
    assert entry is not None
    server.documents[CTX_URL] = context_doc("http://example.org/v2/speed")
    fresh = await resolver.reload(entry)
    assert fresh.local_id == entry.local_id
    assert (await resolver.term_map(CTX_URL)).expand("speed") == "http://example.org/v2/speed"
    del server.documents[CTX_URL]
    with pytest.raises(LdContextNotAvailable):
        await resolver.reload(fresh)
    assert (await resolver.term_map(CTX_URL)).expand("speed") == "http://example.org/v2/speed"


@pytest.mark.parametrize("document", [{"speed": 5}, 5, [None], {"@vocab": 3}])
async def test_check_refuses_what_is_not_a_context(server: Server, document: Any) -> None:
    with pytest.raises(BadRequestData):
        await resolver_for(server).check(document)


async def test_check_caches_the_urls_a_context_names(server: Server) -> None:
    resolver = resolver_for(server)
    await resolver.check([CTX_URL, {"other": "urn:o"}])
    assert [e.url for e in resolver.entries()] == [CTX_URL]


async def test_a_preloaded_context_is_served_without_a_request_and_listed_as_cached(clock: FakeClock) -> None:
    server = Server()
    resolver = resolver_for(server, clock=clock, document_cache_size=1)
    resolver.preload(CTX_URL, {"speed": SPEED})
    assert (await resolver.term_map(CTX_URL)).expand("speed") == SPEED
    assert server.requests == []
    (entry,) = resolver.entries()
    assert entry.kind == "Cached" and entry.url == CTX_URL and entry.hits == 1
    clock.advance(10 * 365 * 86400)
    assert resolver.entry(CTX_URL) is entry  # never expires
