"""Handlers for Query Entities: GET /entities and POST /entityOperations/query (§6.4.3.2, §6.23)."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from ngsild import render
from ngsild.errors import OperationNotSupported
from ngsild.http.entities import broker_of
from ngsild.http.negotiation import (
    Query,
    RequestContext,
    body_with_context,
    check_params,
    context_for_read,
    negotiate,
)
from ngsild.http.representation import Shape, entities_response, shape_of
from ngsild.model import API_ROOT
from ngsild.query.params import PageRequest, entity_query, ordering, page_request, query_from_body
from ngsild.services import entities
from ngsild.store.port import Page

QUERY_PARAMS = frozenset(
    {
        "id", "idPattern", "type", "attrs", "pick", "omit", "q", "scopeQ", "georel", "geometry", "coordinates",
        "geoproperty", "geometryProperty", "csf", "lang", "datasetId", "limit", "offset", "count", "format",
        "options", "local", "join", "joinLevel", "containedBy", "orderBy", "collation", "orderFrom",
        "orderGeometry", "expandValues", "jsonKeys", "splitEntities", "entityMap", "entityMapLifetime",
    }
)  # fmt: skip
ORDER_PARAMS = frozenset({"orderBy", "collation", "orderFrom", "orderGeometry"})
POST_QUERY_PARAMS = frozenset({"limit", "offset", "count", "format", "options", "local", "expandValues", "jsonKeys"})
_UNSUPPORTED = {
    "entityMap": "EntityMaps",
    "splitEntities": "splitEntities",
}


def _refuse_unsupported(query: Query) -> None:
    """Parameters this broker does not implement yet are refused openly, never silently ignored."""
    if query.get("join", "@none") != "@none":
        raise OperationNotSupported("linked entity retrieval (join) is not supported by this broker yet")
    for name, feature in _UNSUPPORTED.items():
        if name in query:
            raise OperationNotSupported(f"{feature} is not supported by this broker yet")


async def query_entities(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, QUERY_PARAMS)
    _refuse_unsupported(query)
    broker = broker_of(request)
    ctx = await context_for_read(request, broker, geo=True)
    shape = shape_of(query, ctx)
    entity_query_ = entity_query(query, ctx.tm.expand)
    order = ordering(query, ctx.tm.expand)
    page = page_request(query, default_limit=broker.settings.default_limit, max_limit=broker.settings.max_limit)
    result = await entities.query_entities(broker, ctx.tenant, entity_query_, page, order)
    return _respond(request, ctx, result, shape, page, query, f"{API_ROOT}/entities")


async def post_query(request: Request, path: dict[str, str], query: Query) -> Response:
    check_params(query, POST_QUERY_PARAMS | ORDER_PARAMS)
    broker = broker_of(request)
    media_type = negotiate(request, geo=True)
    body, body_ctx = await body_with_context(request, broker)
    ctx = RequestContext(body_ctx.tenant, body_ctx.tm, body_ctx.context, media_type)
    entity_query_, body_params = query_from_body(body, ctx.tm.expand, query)
    params = {**body_params, **query}
    _refuse_unsupported(params)
    shape = shape_of(params, ctx)
    order = ordering(query, ctx.tm.expand)
    page = page_request(query, default_limit=broker.settings.default_limit, max_limit=broker.settings.max_limit)
    result = await entities.query_entities(broker, ctx.tenant, entity_query_, page, order)
    return _respond(request, ctx, result, shape, page, query, f"{API_ROOT}/entityOperations/query")


def _respond(
    request: Request, ctx: RequestContext, result: Page, shape: Shape, page: PageRequest, query: Query, base: str
) -> Response:
    bodies = [render.entity(doc, ctx.tm, shape.options) for doc in result.docs]
    response = entities_response(request, ctx, result.docs, bodies, shape)
    if result.total is not None:
        response.headers["NGSILD-Results-Count"] = str(result.total)
    for rel, offset in neighbours(page, len(result.docs), result.total):
        link = urlencode({**query, "offset": str(offset), "limit": str(page.limit)})
        response.headers.append("Link", f'<{base}?{link}>; rel="{rel}"')
    return response


def neighbours(page: PageRequest, returned: int, total: int | None) -> list[tuple[str, int]]:
    """prev unless on the first page; next unless this page is the last (§5.7)."""
    links = []
    if page.offset > 0 and page.limit > 0:
        links.append(("prev", max(0, page.offset - page.limit)))
    more = returned == page.limit if total is None else page.offset + returned < total
    if page.limit > 0 and more:
        links.append(("next", page.offset + page.limit))
    return links
