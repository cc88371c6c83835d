"""Where a request's @context becomes a TermMap: remote fetch (egress-checked, bounded in time and
size), a TTL cache of fetched documents, and a cache of compiled TermMaps keyed by the context list.

The core context URLs are built in and never fetched. Contexts that clients store with the broker
(kind ``Hosted``, §5.13) are resolved here too, without a request to the broker itself; they and
the cache records are what ``/jsonldContexts`` lists.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

import httpx
import orjson

from ngsild.clock import Clock
from ngsild.core_context import is_core_context_url
from ngsild.egress import EgressPolicy, EgressRefused
from ngsild.errors import BadRequestData, LdContextNotAvailable
from ngsild.jsonld import CORE_TERM_MAP, TermMap, compile_term_map
from ngsild.model import API_ROOT

_MAX_NESTING = 8
_MAX_REDIRECTS = 5


HOSTED, CACHED, IMPLICIT = "Hosted", "Cached", "ImplicitlyCreated"
HOSTED_PATH = API_ROOT + "/jsonldContexts/"  # a URL with this path and a known id names a stored context
_NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass
class CachedContext:
    """A context document the broker holds: downloaded (Cached) or stored by a client (Hosted)."""

    url: str  # the original URL of a Cached entry; the serving path of a Hosted one
    document: Any  # the value of the document's "@context" member
    fetched_at: datetime
    expires_at: datetime
    hits: int = 0
    kind: str = CACHED
    local_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    last_used: datetime | None = None

    def use(self, now: datetime) -> None:
        self.hits += 1
        self.last_used = now


@dataclass(frozen=True, slots=True)
class _Compiled:
    term_map: TermMap
    expires_at: datetime | None
    documents: tuple[CachedContext, ...]  # the remote documents it was compiled from


@dataclass(frozen=True, slots=True)
class ContextLimits:
    timeout_s: float = 5.0
    max_bytes: int = 1 << 20
    ttl_s: float = 3600.0
    unavailable_status: int = 503
    compiled_cache_size: int = 1024
    document_cache_size: int = 1024


@dataclass
class ContextResolver:
    http: httpx.AsyncClient
    egress: EgressPolicy
    clock: Clock
    limits: ContextLimits = field(default_factory=ContextLimits)
    _documents: OrderedDict[str, CachedContext] = field(default_factory=OrderedDict)
    _inflight: dict[str, asyncio.Task[CachedContext]] = field(default_factory=dict)
    _compiled: OrderedDict[bytes, _Compiled] = field(default_factory=OrderedDict)
    _hosted: dict[str, CachedContext] = field(default_factory=dict)  # by local id
    _preloaded: dict[str, CachedContext] = field(default_factory=dict)  # by URL: known without fetching

    async def term_map(self, context: Any) -> TermMap:
        """The TermMap of a request @context (a URL, an inline object, or a list of them)."""
        items = context if isinstance(context, list) else [context]
        if all(isinstance(i, str) and is_core_context_url(i) for i in items):
            return CORE_TERM_MAP
        key = orjson.dumps(items, option=orjson.OPT_SORT_KEYS)
        now = self.clock.now()
        cached = self._compiled.get(key)
        if cached is not None and (cached.expires_at is None or cached.expires_at > now):
            self._compiled.move_to_end(key)
            for document in cached.documents:
                document.use(now)
            return cached.term_map
        used: list[CachedContext] = []
        flat: list[Mapping[str, Any]] = []
        await self._flatten(items, flat, used, depth=0)
        term_map = compile_term_map(flat)
        expiry = min((d.expires_at for d in used), default=None)
        self._compiled[key] = _Compiled(term_map, expiry, tuple(used))
        while len(self._compiled) > self.limits.compiled_cache_size:
            self._compiled.popitem(last=False)
        return term_map

    async def _flatten(
        self, items: list[Any], out: list[Mapping[str, Any]], used: list[CachedContext], depth: int
    ) -> None:
        if depth > _MAX_NESTING:
            raise BadRequestData("the @context nests remote contexts too deeply")
        for item in items:
            if item is None:
                raise BadRequestData("a null @context is not allowed")
            if isinstance(item, str):
                if is_core_context_url(item):
                    continue
                cached = await self.fetch(item)
                used.append(cached)
                nested = cached.document if isinstance(cached.document, list) else [cached.document]
                await self._flatten(nested, out, used, depth + 1)
            elif isinstance(item, dict):
                out.append(item)
            else:
                raise BadRequestData("an @context must be a URL, an object, or an array of them")

    async def fetch(self, url: str) -> CachedContext:
        """The cached document for ``url``, downloaded when missing or expired."""
        if not url.startswith(("http://", "https://")):
            raise BadRequestData(f"the @context {url!r} is not an http(s) URL")
        held = self.hosted_entry(url) or self._preloaded.get(url)
        if held is not None:
            held.use(self.clock.now())
            return held
        cached = self._documents.get(url)
        if cached is not None and cached.expires_at > self.clock.now():
            cached.use(self.clock.now())
            return cached
        # One download per URL however many requests wait for it; shielded, so a client that gives
        # up (and cancels its request) does not cancel the download the others are waiting for.
        task = self._inflight.get(url)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._download(url))
            self._inflight[url] = task
            task.add_done_callback(lambda _: self._inflight.pop(url, None))
        cached = await asyncio.shield(task)
        self._documents[url] = cached
        self._documents.move_to_end(url)
        while len(self._documents) > self.limits.document_cache_size:
            self._documents.popitem(last=False)
        return cached

    # ---- the @context store (/jsonldContexts) ---------------------------------------------------

    def host(self, local_id: str, kind: str, document: Any, created_at: datetime) -> CachedContext:
        """Serve ``document`` as a stored context (at startup, and when a client adds one)."""
        entry = CachedContext(HOSTED_PATH + local_id, document, created_at, _NEVER, kind=kind, local_id=local_id)
        self._hosted[local_id] = entry
        return entry

    def preload(self, url: str, document: Any) -> None:
        """Know the @context at ``url`` without fetching it (e.g. the Smart Data Models contexts
        of a local data-models directory). Listed as Cached; never expires or leaves the cache."""
        self._preloaded[url] = CachedContext(url, document, self.clock.now(), _NEVER)

    def hosted_entry(self, url: str) -> CachedContext | None:
        """The stored context a URL names: its path ends with the serving path and a known id."""
        head, _, local_id = url.rpartition("/")
        return self._hosted.get(local_id) if (head + "/").endswith(HOSTED_PATH) else None

    def entries(self) -> list[CachedContext]:
        """Every context the broker holds: stored ones, then the live cache."""
        now = self.clock.now()
        live = (d for d in self._documents.values() if d.expires_at > now)
        return [*self._hosted.values(), *self._preloaded.values(), *live]

    def entry(self, key: str) -> CachedContext | None:
        """A held context by local id, or a cached one by its original URL."""
        return next((held for held in self.entries() if key in (held.local_id, held.url)), None)

    def forget(self, entry: CachedContext) -> None:
        """Drop a held context, and every compiled context built from it."""
        if entry.kind == CACHED:
            self._documents.pop(entry.url, None)
            self._preloaded.pop(entry.url, None)
        else:
            self._hosted.pop(entry.local_id, None)
        self._compiled.clear()

    async def reload(self, entry: CachedContext) -> CachedContext:
        """Download a cached context again; on failure the old copy stays and the error is raised."""
        fresh = await self._download(entry.url)
        fresh.local_id, fresh.hits, fresh.last_used = entry.local_id, entry.hits, entry.last_used
        self._documents[entry.url] = fresh
        self._compiled.clear()
        return fresh

    async def check(self, document: Any) -> None:
        """BadRequestData unless ``document`` is a usable @context (its remote parts are fetched
        and cached, so a hosted array of URLs also caches each URL)."""
        flat: list[Mapping[str, Any]] = []
        await self._flatten(document if isinstance(document, list) else [document], flat, [], depth=0)
        compile_term_map(flat)

    def _unavailable(self, detail: str, url: str) -> LdContextNotAvailable:
        error = LdContextNotAvailable(detail, instance=url)
        error.status = self.limits.unavailable_status
        return error

    async def _download(self, url: str) -> CachedContext:
        try:
            async with asyncio.timeout(self.limits.timeout_s):
                body, cache_control = await self._get_following_redirects(url)
        except TimeoutError:
            raise self._unavailable(
                f"fetching @context {url} took longer than {self.limits.timeout_s} s", url
            ) from None
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise BadRequestData(f"the @context {url} is not valid JSON: {exc}", instance=url) from exc
        if not isinstance(document, dict) or "@context" not in document:
            raise BadRequestData(f"the document at {url} has no top-level @context member", instance=url)
        now = self.clock.now()
        ttl = _max_age(cache_control)
        ttl = self.limits.ttl_s if ttl is None else min(ttl, self.limits.ttl_s)
        return CachedContext(url, document["@context"], now, now + timedelta(seconds=ttl))

    async def _get_following_redirects(self, url: str) -> tuple[bytes, str]:
        """GET ``url`` with the size cap, following up to 5 redirects, each hop egress-checked."""
        target = url
        for _ in range(_MAX_REDIRECTS + 1):
            try:
                self.egress.check(target)
            except EgressRefused as exc:
                raise self._unavailable(f"cannot fetch @context {url}: {exc}", url) from exc
            try:
                async with self.http.stream(
                    "GET",
                    target,
                    headers={"Accept": "application/ld+json, application/json;q=0.9"},
                    timeout=self.limits.timeout_s,
                    follow_redirects=False,
                ) as response:
                    location = response.headers.get("location")
                    if response.is_redirect and location:
                        target = urljoin(target, location)
                        continue
                    if response.status_code != 200:
                        raise self._unavailable(f"fetching @context {url} gave HTTP {response.status_code}", url)
                    body = bytearray()
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > self.limits.max_bytes:
                            raise self._unavailable(
                                f"the @context {url} is larger than {self.limits.max_bytes} bytes", url
                            )
                    return bytes(body), response.headers.get("cache-control", "")
            except httpx.HTTPError as exc:
                raise self._unavailable(f"cannot fetch @context {url}: {type(exc).__name__} {exc}", url) from exc
        raise self._unavailable(f"fetching @context {url} was redirected more than {_MAX_REDIRECTS} times", url)


def _max_age(cache_control: str) -> float | None:
    """Seconds a response may be cached: no-store/no-cache win wherever they appear, then max-age."""
    max_age = None
    for directive in cache_control.lower().split(","):
        name, _, value = directive.strip().partition("=")
        if name in ("no-store", "no-cache"):
            return 0.0
        if name == "max-age" and value.strip().isdigit():
            max_age = float(value.strip())
    return max_age
