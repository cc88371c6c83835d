"""HTTP negotiation in one place: Accept and Content-Type, the request @context (Link header or
body), the tenant header, the body (size-capped JSON), and the per-route parameter allow-list."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from ngsild.errors import (
    BadRequestData,
    InvalidRequest,
    LengthRequired,
    NgsiLdError,
    NotAcceptable,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from ngsild.jsonld import TermMap
from ngsild.model import CORE_CONTEXT_URL, DEFAULT_TENANT, LD_CONTEXT_REL
from ngsild.services.batch import Item
from ngsild.services.broker import Broker

JSON = "application/json"
LD_JSON = "application/ld+json"
GEO_JSON = "application/geo+json"
MERGE_PATCH = "application/merge-patch+json"

Query = Mapping[str, str]
"""The URL parameters of one request, parsed once (a repeated parameter keeps its last value)."""

_TENANT_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


@dataclass(frozen=True, slots=True)
class RequestContext:
    """What every handler needs to know about the request besides its parameters."""

    tenant: str
    tm: TermMap
    context: Any  # the @context to echo in responses: the client's own, or the core context URL
    media_type: str  # negotiated response type


def tenant_of(request: Request) -> str:
    raw = request.headers.get("ngsild-tenant")
    if raw is None or raw == "":
        return DEFAULT_TENANT
    if len(raw) > 64 or not set(raw) <= _TENANT_CHARS:
        raise BadRequestData(f"NGSILD-Tenant {raw!r} must be 1-64 characters of letters, digits, '_', '-' or '.'")
    return raw


def link_context(request: Request) -> str | None:
    """The URL of the JSON-LD context Link header, if any."""
    header = request.headers.get("link")
    if not header:
        return None
    for link in _split_links(header):
        target, _, params = link.partition(";")
        target = target.strip()
        if not (target.startswith("<") and target.endswith(">")):
            raise BadRequestData(f"malformed Link header {header!r}: the URL must be in angle brackets")
        rel = None
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "rel":
                rel = value.strip().strip('"')
        if rel == LD_CONTEXT_REL:
            return target[1:-1].strip()
    return None


def _split_links(header: str) -> list[str]:
    """Split a Link header on the commas between links (not those inside <...> or quotes)."""
    parts: list[str] = []
    current: list[str] = []
    depth, quoted = 0, False
    for ch in header:
        if ch == '"':
            quoted = not quoted
        elif ch == "<" and not quoted:
            depth += 1
        elif ch == ">" and not quoted:
            depth -= 1
        if ch == "," and depth == 0 and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _media_ranges(accept: str) -> list[tuple[str, float]]:
    ranges = []
    for index, item in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in item.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if media:
            ranges.append((media.lower(), quality - index * 1e-6))
    return ranges


def negotiate(request: Request, *, geo: bool = False) -> str:
    """The response media type (§6.3.4): json, ld+json, or geo+json where allowed; else 406."""
    accept = request.headers.get("accept")
    if not accept:
        return JSON
    offers = [JSON, LD_JSON] + ([GEO_JSON] if geo else [])
    best: tuple[float, int, str] | None = None
    for media, quality in _media_ranges(accept):
        if quality <= 0:
            continue
        for rank, offer in enumerate(offers):
            if media == offer or media == "*/*" or (media == "application/*"):
                exact = 1 if media == offer else 0
                candidate = (quality + exact * 1e-3, -rank, offer)
                if best is None or candidate > best:
                    best = candidate
    if best is None:
        allowed = ", ".join(offers)
        raise NotAcceptable(f"cannot produce {accept!r}; this resource is available as {allowed}")
    return best[2]


def body_media_type(request: Request, *, merge_patch: bool = False) -> str:
    """JSON or LD_JSON from Content-Type (merge-patch+json counts as JSON on PATCH); else 415."""
    raw = request.headers.get("content-type")
    if raw is None:
        raise UnsupportedMediaType(
            "the request has a body but no Content-Type; use application/json or application/ld+json"
        )
    media = raw.split(";", 1)[0].strip().lower()
    if media == JSON or (merge_patch and media == MERGE_PATCH):
        return JSON
    if media == LD_JSON:
        return LD_JSON
    accepted = "application/json, application/ld+json" + (", application/merge-patch+json" if merge_patch else "")
    raise UnsupportedMediaType(f"Content-Type {media!r} is not supported here; use {accepted}")


def check_length(request: Request, max_bytes: int) -> None:
    """411 without a length, 413 over the cap: both before a byte of the body is read."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.isdigit():
            raise InvalidRequest(f"Content-Length {declared!r} is not a number")
        if int(declared) > max_bytes:
            raise PayloadTooLarge(f"the body is {declared} bytes; the limit is {max_bytes} bytes")
    elif request.headers.get("transfer-encoding", "").lower() != "chunked":
        raise LengthRequired("the request has no Content-Length")


async def read_json(request: Request, max_bytes: int) -> Any:
    """The request body parsed as JSON; a chunked body is cut off at ``max_bytes``."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise PayloadTooLarge(f"the body exceeds the limit of {max_bytes} bytes")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"the body is not valid JSON: {exc}") from None


async def read_body(request: Request, broker: Broker, *, merge_patch: bool = False) -> tuple[str, str, Any]:
    """(media type, tenant, parsed JSON) of a request with a body, checked in the §7.5 order:
    length (411/413), Content-Type (415), tenant, then JSON (InvalidRequest)."""
    check_length(request, broker.settings.max_body_bytes)
    media = body_media_type(request, merge_patch=merge_patch)
    tenant = tenant_of(request)
    return media, tenant, await read_json(request, broker.settings.max_body_bytes)


async def context_for_read(request: Request, broker: Broker, *, geo: bool = False, body: bool = True) -> RequestContext:
    """GET and DELETE: the @context comes from the Link header, else the core context.
    ``body=False`` (a DELETE answers 204): the Accept header does not matter."""
    media_type = negotiate(request, geo=geo) if body else JSON
    tenant = tenant_of(request)
    url = link_context(request)
    tm = await broker.contexts.term_map(url) if url else await broker.contexts.term_map([])
    return RequestContext(tenant, tm, url or CORE_CONTEXT_URL, media_type)


async def body_with_context(
    request: Request, broker: Broker, *, merge_patch: bool = False, object_body: bool = True
) -> tuple[Any, RequestContext]:
    """POST/PATCH/PUT: validate Content-Type, read the body, apply the @context placement rules
    (§6.3.5) and resolve the context. ``object_body``: the body must be a JSON object."""
    media, tenant, body = await read_body(request, broker, merge_patch=merge_patch)
    if object_body and not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object")
    url = link_context(request)
    if media == LD_JSON:
        if url is not None:
            raise BadRequestData("a JSON-LD Link header must not be sent with an application/ld+json body")
        if not isinstance(body, dict) or "@context" not in body:
            raise BadRequestData("an application/ld+json body must carry its @context")
        context = body.pop("@context")
    else:
        if isinstance(body, dict) and "@context" in body:
            raise BadRequestData("an application/json body must not carry @context; send it in a Link header")
        context = url
    tm = await broker.contexts.term_map(context if context is not None else [])
    return body, RequestContext(tenant, tm, context if context is not None else CORE_CONTEXT_URL, JSON)


async def batch_items(request: Request, broker: Broker) -> tuple[str, list[Item]]:
    """A batch body (§6.14-§6.17, §6.31): the tenant and each array element with its term map.

    The whole request fails for what concerns the whole request: Content-Type, a body that is not
    JSON, not a non-empty array, too long, a null item, a Link header with an ld+json body, or a
    Link context that cannot be had. An item's own problem (a missing or bad @context in ld+json
    mode, an @context in json mode) is that item's error, reported in the 207 body.
    """
    media, tenant, body = await read_body(request, broker)
    if not isinstance(body, list):
        raise BadRequestData("the body of a batch operation must be a JSON array")
    if not body:
        raise BadRequestData("the batch is empty; send at least one item")
    if len(body) > broker.settings.max_batch_entities:
        raise PayloadTooLarge(
            f"the batch has {len(body)} items; this broker takes at most {broker.settings.max_batch_entities}"
        )
    if any(item is None for item in body):
        raise BadRequestData(f"item {body.index(None)} of the batch is null")
    url = link_context(request)
    if media == LD_JSON and url is not None:
        raise BadRequestData("a JSON-LD Link header must not be sent with an application/ld+json body")
    shared = None if media == LD_JSON else await broker.contexts.term_map(url if url is not None else [])
    items: list[Item] = []
    for item in body:
        has_context = isinstance(item, dict) and "@context" in item
        if shared is not None:
            error = BadRequestData("an application/json item must not carry @context; send it in a Link header")
            items.append((item, error if has_context else shared))
        elif not has_context:
            items.append((item, BadRequestData("each item of an application/ld+json batch must carry its @context")))
        else:
            try:
                items.append((item, await broker.contexts.term_map(item.pop("@context"))))
            except NgsiLdError as exc:
                items.append((item, exc))
    return tenant, items


def check_params(query: Query, allowed: frozenset[str]) -> None:
    """Unknown URL parameters are an error (§6.3.20), so typos never pass silently."""
    for name in query:
        if name not in allowed:
            raise InvalidRequest(f"unknown query parameter {name!r}; allowed here: {', '.join(sorted(allowed))}")


def flag(query: Query, name: str) -> bool:
    raw = query.get(name)
    if raw is None:
        return False
    if raw in ("true", "false"):
        return raw == "true"
    raise BadRequestData(f"the parameter {name} must be true or false, got {raw!r}")
