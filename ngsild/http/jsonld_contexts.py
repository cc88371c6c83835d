"""Handlers for the @context store: /jsonldContexts and /jsonldContexts/{contextId} (§6.29, §6.30)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ngsild.clock import format_datetime
from ngsild.contexts import CACHED, HOSTED_PATH, CachedContext
from ngsild.http.entities import broker_of
from ngsild.http.negotiation import JSON, Query, body_media_type, check_length, check_params, flag, read_json
from ngsild.http.representation import no_content
from ngsild.services import context_store


def _url(request: Request, entry: CachedContext) -> str:
    """Where the entry is fetched from: the original URL of a cached copy, else this broker."""
    if entry.kind == CACHED:
        return entry.url
    return f"{request.url.scheme}://{request.url.netloc}{HOSTED_PATH}{entry.local_id}"


def _details(request: Request, entry: CachedContext) -> dict[str, Any]:
    details: dict[str, Any] = {
        "URL": _url(request, entry),
        "localId": entry.local_id,
        "kind": entry.kind,
        "createdAt": format_datetime(entry.fetched_at),
        "numberOfHits": entry.hits,
    }
    if entry.kind == CACHED:
        details["expiresAt"] = format_datetime(entry.expires_at)
    if entry.last_used is not None:
        details["lastUsage"] = format_datetime(entry.last_used)
    return details


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=JSON)


async def add(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, frozenset())
    broker = broker_of(request)
    check_length(request, broker.settings.max_body_bytes)
    body_media_type(request)
    local_id = await context_store.add(broker, await read_json(request, broker.settings.max_body_bytes))
    return Response(status_code=201, headers={"Location": HOSTED_PATH + local_id})


async def list_contexts(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, frozenset({"details", "kind"}))
    details = flag(query, "details")
    entries = context_store.listing(broker_of(request), query.get("kind"))
    if details:
        return _json([_details(request, e) for e in entries])
    return _json([_url(request, e) for e in entries])


async def get_context(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, frozenset({"details"}))
    broker = broker_of(request)
    if flag(query, "details"):
        return _json(_details(request, context_store.find(broker, path["contextId"])))
    return _json({"@context": context_store.serve(broker, path["contextId"])})


async def delete_context(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, frozenset({"reload"}))
    reload = flag(query, "reload")  # checked before the id is looked up (TS 051_04)
    await context_store.delete(broker_of(request), path["contextId"], reload=reload)
    return no_content()
